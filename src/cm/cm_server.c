/* cm_server.c - CM configuration, start and stop (see ox_cm.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cm_internal.h"
#include "ox_alloc.h"
#include "ox_durable.h"
#include "ox_secret.h"

static const char *const cm_keys[] = {"cm.listen",
                                      "cm.port",
                                      "cm.auth.token",
                                      "cm.auth.token.file",
                                      "cm.location",
                                      "cm.data.dir",
                                      "cm.url",
                                      "metadb.url",
                                      "cm.health.interval_ms",
                                      "cm.health.slow_ms",
                                      "cm.health.max_skew_ms",
                                      "cm.apply.wait_ms",
                                      "cm.host.lost_ms",
                                      "cm.http.max_body",
                                      "cm.http.threads",
                                      "cm.http.max_connections",
                                      "cm.http.max_connections_per_ip",
                                      "cm.http.timeout_s",
                                      "cm.supervisor",
                                      "cm.metadb.empty.ok",
                                      "cm.metadb.adopt",
                                      "cm.test.clock_offset_ms",
                                      "cm.test.metadb_delay_ms",
                                      "cm.history.interval_ms",
                                      "cm.alert.*",
                                      "cm.web.dir",
                                      "supervisor.*",
                                      NULL};

static int geti(const ox_props *p, const char *key, int64_t def, int64_t min, int64_t max,
                int64_t *out, ox_errbuf *eb)
{
    if (p == NULL) {
        *out = def;
        return 0;
    }
    return ox_props_get_int(p, key, def, min, max, out, eb);
}

static const char *gets(const ox_props *p, const char *key, const char *def)
{
    return p ? ox_props_get_str(p, key, def) : def;
}

int ox_cm_config_load(const ox_props *p, struct ox_cm_config *cfg, ox_errbuf *eb)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->props = p;
    int rc = 0;
    if (p && (rc = ox_props_check_keys(p, cm_keys, eb)) != 0)
        return rc;
    int64_t v;
    snprintf(cfg->listen, sizeof cfg->listen, "%s", gets(p, "cm.listen", "127.0.0.1"));
    if ((rc = geti(p, "cm.port", 8088, 1, 65535, &v, eb)) != 0)
        return rc;
    cfg->port = (int)v;
    if ((rc = geti(p, "cm.location", 0, 0, 127, &v, eb)) != 0)
        return rc;
    cfg->location = (int)v;
    snprintf(cfg->data_dir, sizeof cfg->data_dir, "%s", gets(p, "cm.data.dir", "oxbow-data"));
    const char *url = gets(p, "cm.url", NULL);
    if (url)
        snprintf(cfg->url, sizeof cfg->url, "%s", url);
    else
        snprintf(cfg->url, sizeof cfg->url, "http://%s:%d",
                 strcmp(cfg->listen, "0.0.0.0") == 0 ? "127.0.0.1" : cfg->listen, cfg->port);
    const char *mdb = gets(p, "metadb.url", NULL);
    if (mdb)
        snprintf(cfg->metadb_url, sizeof cfg->metadb_url, "%s", mdb);
    else
        snprintf(cfg->metadb_url, sizeof cfg->metadb_url, "%s/metadb.sqlite", cfg->data_dir);
    struct {
        const char *key;
        int64_t def, min, max;
        int *dst;
    } ints[] = {
        {"cm.health.interval_ms", 1000, 50, 600000, &cfg->health_interval_ms},
        {"cm.health.slow_ms", 500, 1, 600000, &cfg->health_slow_ms},
        {"cm.health.max_skew_ms", 2000, 1, 86400000, &cfg->health_max_skew_ms},
        {"cm.apply.wait_ms", 15000, 0, 600000, &cfg->apply_wait_ms},
        {"cm.host.lost_ms", 10000, 100, 86400000, &cfg->host_lost_ms},
        {"cm.http.max_body", 65536, 256, 16 << 20, &cfg->max_body},
        {"cm.http.threads", 0, 0, 256, &cfg->http_threads},
        {"cm.http.max_connections", 10000, 16, 1000000, &cfg->http_max_connections},
        {"cm.http.max_connections_per_ip", 1000, 1, 1000000, &cfg->http_max_per_ip},
        {"cm.http.timeout_s", 30, 1, 3600, &cfg->http_timeout_s},
        {"cm.test.metadb_delay_ms", 0, 0, 600000, &cfg->test_metadb_delay_ms},
    };
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
        if ((rc = geti(p, ints[i].key, ints[i].def, ints[i].min, ints[i].max, &v, eb)) != 0)
            return rc;
        *ints[i].dst = (int)v;
    }
    if ((rc = geti(p, "cm.test.clock_offset_ms", 0, -86400000LL * 365, 86400000LL * 365, &v, eb)) !=
        0)
        return rc;
    cfg->test_clock_offset_ms = v;
    int b = 1;
    if (p && (rc = ox_props_get_bool(p, "cm.supervisor", 1, &b, eb)) != 0)
        return rc;
    cfg->run_supervisor = b;
    const char *tok = gets(p, "cm.auth.token", NULL);
    const char *tokf = gets(p, "cm.auth.token.file", NULL);
    if (tok && tokf)
        return ox_errf(eb, OX_ECONFIG, "set only one of cm.auth.token and cm.auth.token.file");
    if (tokf) {
        int rc = ox_secret_read_file("cm.auth.token.file", tokf, &cfg->auth_token, eb);
        if (rc != 0)
            return rc;
    } else if (tok) {
        cfg->auth_token = ox_xstrdup(tok);
    }
    if (cfg->auth_token && strlen(cfg->auth_token) < 16) {
        ox_cm_config_free(cfg);
        return ox_errf(eb, OX_ECONFIG, "cm.auth.token must be at least 16 characters");
    }
    if (strncmp(cfg->listen, "127.", 4) != 0 && cfg->auth_token == NULL)
        return ox_errf(eb, OX_ECONFIG,
                       "cm.listen=%s is not loopback: set cm.auth.token (or cm.auth.token.file)",
                       cfg->listen);
    return 0;
}

void ox_cm_config_free(struct ox_cm_config *cfg)
{
    if (cfg->auth_token) {
        memset(cfg->auth_token, 0, strlen(cfg->auth_token));
        free(cfg->auth_token);
    }
    cfg->auth_token = NULL;
}

/* Creates (or reads) <data_dir>/supervisor.token, mode 0600: the credential
 * of this host's supervisor (see cm_cred.c). */
static char *supervisor_token(const char *dir, ox_errbuf *eb)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/supervisor.token", dir);
    char *have = NULL;
    if (ox_secret_read_file("supervisor token", path, &have, NULL) == 0 && strlen(have) >= 32)
        return have;
    free(have);
    unsigned char raw[24];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, raw, sizeof raw) != (ssize_t)sizeof raw) {
        if (fd >= 0)
            close(fd);
        ox_errf(eb, OX_EIO, "cannot read /dev/urandom");
        return NULL;
    }
    close(fd);
    char hex[sizeof raw * 2 + 2];
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(hex + 2 * i, 3, "%02x", raw[i]);
    /* Never written in place: a crash leaves no token or the whole one. */
    size_t n = strlen(hex);
    hex[n] = '\n';
    int rc = ox_durable_create(dir, "supervisor.token", hex, n + 1, 0, NULL, eb);
    hex[n] = '\0';
    if (rc != 0)
        return NULL;
    return ox_xstrdup(hex);
}

const char *ox_cm_url(const ox_cm *cm)
{
    return cm->cfg.url;
}

int ox_cm_start(const struct ox_cm_config *cfg, ox_cm **out, ox_errbuf *eb)
{
    struct ox_cm *cm = ox_xcalloc(1, sizeof *cm);
    cm->cfg = *cfg;
    cm->cfg.auth_token = cfg->auth_token ? ox_xstrdup(cfg->auth_token) : NULL;
    pthread_mutex_init(&cm->db_lock, NULL);
    pthread_mutex_init(&cm->mut_lock, NULL);
    pthread_rwlock_init(&cm->lock, NULL);
    pthread_mutex_init(&cm->cond_mu, NULL);
    pthread_cond_init(&cm->cond, NULL);
    atomic_store(&cm->write_ok, 1);
    cm_ops_init(cm);
    int rc;
    if (mkdir(cm->cfg.data_dir, 0700) != 0 && errno != EEXIST) {
        rc = ox_errf(eb, OX_EIO, "cannot create cm.data.dir %s: %s", cm->cfg.data_dir,
                     strerror(errno));
        goto fail;
    }
    /* Absolute from here on: stores get paths under it in their configs. */
    char abs_dir[PATH_MAX];
    if (realpath(cm->cfg.data_dir, abs_dir) != NULL) {
        size_t n = strlen(abs_dir);
        if (n < sizeof cm->cfg.data_dir)
            memcpy(cm->cfg.data_dir, abs_dir, n + 1);
    }
    if ((cm->sv_token = supervisor_token(cm->cfg.data_dir, eb)) == NULL) {
        rc = OX_EIO;
        goto fail;
    }
    if ((rc = ox_metadb_open(cm->cfg.metadb_url, &cm->db, eb)) != 0)
        goto fail;
    ox_metadb_set_test_delay(cm->db, cm->cfg.test_metadb_delay_ms);
    if ((rc = cm_state_load(cm, eb)) != 0 || (rc = cm_cred_load(cm, eb)) != 0)
        goto fail;
    {
        /* supervisor.token is this host's credential: the host id the
         * supervisor.* keys give, whether or not the supervisor runs here
         * (if they do not load and none runs here, there is none). */
        char def_dir[1100];
        snprintf(def_dir, sizeof def_dir, "%s/supervisor", cm->cfg.data_dir);
        if (cm->cfg.local_sv == NULL)
            rc = ox_errf(eb, OX_ECONFIG,
                         "cm.supervisor=true but this program runs no supervisor "
                         "(set cm.supervisor=false)");
        else
            rc = cm->cfg.local_sv->describe(cm->cfg.props, def_dir, cm->local_sv_host,
                                            sizeof cm->local_sv_host, cm->local_sv_stores,
                                            sizeof cm->local_sv_stores, eb);
        if (rc != 0 && cm->cfg.run_supervisor)
            goto fail;
        if (rc != 0)
            cm->local_sv_host[0] = cm->local_sv_stores[0] = '\0';
        rc = 0;
    }
    if ((rc = cm_orphans_check(cm, eb)) != 0)
        goto fail;
    if ((rc = cm_health_start(cm, eb)) != 0)
        goto fail;
    if ((rc = cm_http_start(cm, eb)) != 0)
        goto fail;
    if (cm->cfg.run_supervisor) {
        char def_dir[1100];
        snprintf(def_dir, sizeof def_dir, "%s/supervisor", cm->cfg.data_dir);
        if ((rc = cm->cfg.local_sv->start(cm->cfg.props, def_dir, cm->cfg.url, cm->sv_token,
                                          &cm->sv, eb)) != 0)
            goto fail;
    }
    *out = cm;
    return 0;
fail:
    ox_cm_stop(cm);
    return rc;
}

void ox_cm_stop(ox_cm *cm)
{
    if (cm == NULL)
        return;
    /* Wake every waiting handler and long poll first, then stop the
     * in-process supervisor (it leaves its stores running unless
     * supervisor.stop.stores=true), then the server. */
    atomic_store(&cm->stopping, 1);
    pthread_mutex_lock(&cm->cond_mu);
    pthread_cond_broadcast(&cm->cond);
    pthread_mutex_unlock(&cm->cond_mu);
    if (cm->sv)
        cm->cfg.local_sv->stop(cm->sv);
    cm_http_stop(cm);
    cm_health_stop(cm);
    ox_metadb_close(cm->db);
    cm_state_free(cm);
    cm_cred_free(cm);
    cm_ops_free(cm);
    ox_cm_config_free(&cm->cfg);
    free(cm->sv_token);
    pthread_mutex_destroy(&cm->db_lock);
    pthread_mutex_destroy(&cm->mut_lock);
    pthread_rwlock_destroy(&cm->lock);
    pthread_mutex_destroy(&cm->cond_mu);
    pthread_cond_destroy(&cm->cond);
    free(cm);
}
