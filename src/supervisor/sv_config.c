/* sv_config.c - supervisor configuration (see ox_supervisor.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_checkpoint.h"
#include "ox_secret.h"
#include "ox_supervisor.h"

const char *const ox_sv_config_keys[] = {"supervisor.cm.url",
                                         "supervisor.cm.token.file",
                                         "supervisor.host.ip",
                                         "supervisor.listen",
                                         "supervisor.status.token.file",
                                         "supervisor.port",
                                         "supervisor.dir",
                                         "supervisor.drc.properties",
                                         "supervisor.store.port.base",
                                         "supervisor.store.listen",
                                         "supervisor.store.token.file",
                                         "supervisor.store.bin",
                                         "supervisor.heartbeat.ms",
                                         "supervisor.restart.backoff.max_ms",
                                         "supervisor.stop.grace_ms",
                                         "supervisor.store.unresponsive_ms",
                                         "supervisor.store.unresponsive.kill_ms",
                                         "supervisor.stop.stores",
                                         NULL};

static const char *str(const ox_props *p, const char *k, const char *def)
{
    return p ? ox_props_get_str(p, k, def) : def;
}

static int num(const ox_props *p, const char *k, int64_t def, int64_t lo, int64_t hi, int *out,
               ox_errbuf *eb)
{
    int64_t v = def;
    if (p) {
        int rc = ox_props_get_int(p, k, def, lo, hi, &v, eb);
        if (rc != 0)
            return rc;
    }
    *out = (int)v;
    return 0;
}

int ox_sv_config_load(const ox_props *p, const char *default_dir, struct ox_sv_config *cfg,
                      ox_errbuf *eb)
{
    memset(cfg, 0, sizeof *cfg);
    int rc;
    snprintf(cfg->cm_url, sizeof cfg->cm_url, "%s",
             str(p, "supervisor.cm.url", "http://127.0.0.1:8088"));
    const char *ip = str(p, "supervisor.host.ip", "127.0.0.1");
    uint32_t a;
    if (ox_ipv4_parse(ip, strlen(ip), &a) != 0)
        return ox_errf(eb, OX_ECONFIG, "supervisor.host.ip: \"%s\" is not an IPv4 address", ip);
    ox_ipv4_format(a, cfg->host_ip);
    snprintf(cfg->listen, sizeof cfg->listen, "%s", str(p, "supervisor.listen", "127.0.0.1"));
    if ((rc = num(p, "supervisor.port", 7100, 1, 65535, &cfg->port, eb)) != 0)
        return rc;
    snprintf(cfg->dir, sizeof cfg->dir, "%s", str(p, "supervisor.dir", default_dir));
    const char *drc = str(p, "supervisor.drc.properties", NULL);
    if (drc)
        snprintf(cfg->drc_path, sizeof cfg->drc_path, "%s", drc);
    else
        snprintf(cfg->drc_path, sizeof cfg->drc_path, "%s/package/config/drc.properties", cfg->dir);
    if ((rc = num(p, "supervisor.store.port.base", 17000, 1024, 65000, &cfg->store_port_base,
                  eb)) != 0)
        return rc;
    snprintf(cfg->store_listen, sizeof cfg->store_listen, "%s",
             str(p, "supervisor.store.listen", "127.0.0.1"));
    if (ox_ipv4_parse(cfg->store_listen, strlen(cfg->store_listen), &a) != 0)
        return ox_errf(eb, OX_ECONFIG, "supervisor.store.listen: \"%s\" is not an IPv4 address",
                       cfg->store_listen);
    const char *stf = str(p, "supervisor.store.token.file", NULL);
    if (stf) {
        snprintf(cfg->store_token_file, sizeof cfg->store_token_file, "%s", stf);
        int rc = ox_secret_read_file("supervisor.store.token.file", stf, &cfg->store_token, eb);
        if (rc != 0)
            return rc;
    } else if (strncmp(cfg->store_listen, "127.", 4) != 0) {
        return ox_errf(
            eb, OX_ECONFIG,
            "supervisor.store.listen=%s is not loopback: set supervisor.store.token.file",
            cfg->store_listen);
    }
    const char *bin = str(p, "supervisor.store.bin", NULL);
    if (bin) {
        snprintf(cfg->store_bin, sizeof cfg->store_bin, "%s", bin);
    } else {
        ssize_t n = readlink("/proc/self/exe", cfg->store_bin, sizeof cfg->store_bin - 1);
        if (n <= 0)
            return ox_errf(eb, OX_ECONFIG, "cannot resolve /proc/self/exe: %s", strerror(errno));
        cfg->store_bin[n] = '\0';
    }
    if ((rc = num(p, "supervisor.heartbeat.ms", 1000, 50, 60000, &cfg->heartbeat_ms, eb)) != 0)
        return rc;
    if ((rc = num(p, "supervisor.restart.backoff.max_ms", 30000, 100, 3600000, &cfg->backoff_max_ms,
                  eb)) != 0)
        return rc;
    if ((rc = num(p, "supervisor.stop.grace_ms", 10000, 100, 600000, &cfg->stop_grace_ms, eb)) != 0)
        return rc;
    const char *stt = str(p, "supervisor.status.token.file", NULL);
    if (stt && (rc = ox_secret_read_file("supervisor.status.token.file", stt, &cfg->status_token,
                                         eb)) != 0)
        return rc;
    if (cfg->status_token != NULL && strlen(cfg->status_token) < 16) {
        ox_sv_config_free(cfg);
        return ox_errf(eb, OX_ECONFIG,
                       "supervisor.status.token.file: the token must be at least 16 characters");
    }
    if ((rc = num(p, "supervisor.store.unresponsive_ms", 5000, 200, 3600000,
                  &cfg->store_unresponsive_ms, eb)) != 0)
        return rc;
    if ((rc = num(p, "supervisor.store.unresponsive.kill_ms", 30000, 0, 86400000,
                  &cfg->store_unresponsive_kill_ms, eb)) != 0)
        return rc;
    if (p && (rc = ox_props_get_bool(p, "supervisor.stop.stores", 0, &cfg->stop_stores, eb)) != 0)
        return rc;
    const char *tf = str(p, "supervisor.cm.token.file", NULL);
    if (tf && (rc = ox_secret_read_file("supervisor.cm.token.file", tf, &cfg->token, eb)) != 0)
        return rc;
    return 0;
}

void ox_sv_config_free(struct ox_sv_config *cfg)
{
    if (cfg->store_token) {
        memset(cfg->store_token, 0, strlen(cfg->store_token));
        free(cfg->store_token);
    }
    cfg->store_token = NULL;
    if (cfg->token) {
        memset(cfg->token, 0, strlen(cfg->token));
        free(cfg->token);
    }
    cfg->token = NULL;
    if (cfg->status_token) {
        memset(cfg->status_token, 0, strlen(cfg->status_token));
        free(cfg->status_token);
    }
    cfg->status_token = NULL;
}
