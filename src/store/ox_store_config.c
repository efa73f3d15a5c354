/* ox_store_config.c - loads and validates the store's properties file. */
#include "ox_store_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ox_alloc.h"
#include "ox_filter.h"
#include "ox_log.h"
#include "ox_secret.h"

static const char *const known_keys[] = {
    "store.name",
    "store.dir",
    "store.listen",
    "store.port",
    "store.auth.token.file",
    "source.type",
    "source.host",
    "source.port",
    "source.user",
    "source.password.file",
    "source.password.env",
    "source.server_id",
    "source.heartbeat.ms",
    "source.connect_timeout.s",
    "store.start.checkpoint",
    "store.start.gtid",
    "store.whitelist",
    "store.blacklist",
    "store.clearer.outdated",
    "store.clearer.max_bytes",
    "store.segment.bytes",
    "store.fsync",
    "store.fsync.interval_ms",
    "store.log.level",
    "store.max_subscribers",
    "store.max_connections_per_ip",
    "store.http.request_timeout_ms",
    "store.resume",
    "source.database",
    "source.slot",
    "source.publication",
    NULL,
};

const char *ox_store_loglevel_name(int level)
{
    static const char *const names[] = {"debug", "info", "warn", "error"};
    return level >= 0 && level <= 3 ? names[level] : "?";
}

void ox_store_config_source(const ox_store_config *c, ox_source_config *sc)
{
    memset(sc, 0, sizeof *sc);
    sc->host = c->source_host;
    sc->port = c->source_port;
    sc->user = c->source_user;
    sc->password = c->source_password;
    sc->server_id = c->server_id;
    sc->heartbeat_ms = c->heartbeat_ms;
    sc->connect_timeout_s = c->connect_timeout_s;
    sc->database = c->source_database;
    sc->slot = c->source_slot;
    sc->publication = c->source_publication;
    sc->name = c->name;
    sc->whitelist = c->whitelist;
}

void ox_store_config_free(ox_store_config *c)
{
    if (c == NULL)
        return;
    if (c->source_password != NULL) {
        volatile char *p = c->source_password;
        while (*p)
            *p++ = 0;
    }
    free(c->name);
    free(c->short_name);
    free(c->dir);
    free(c->listen);
    free(c->auth_token);
    free(c->source_type);
    free(c->source_host);
    free(c->source_user);
    free(c->source_password);
    free(c->start_gtid);
    free(c->whitelist);
    free(c->blacklist);
    free(c->source_database);
    free(c->source_slot);
    free(c->source_publication);
    free(c);
}

/* Reads a secret file named by config key `key`. */
static int read_secret(const char *key, const char *path, char **out, ox_errbuf *eb)
{
    char what[96];
    snprintf(what, sizeof what, "key \"%s\"", key);
    return ox_secret_read_file(what, path, out, eb);
}

/*
 * OMS messages name a store by its topic part and its sub id joined by a dot
 * ("DRC_500:Store p_4223_source-000-0.0000000007 started successfully") while
 * the CM names it "<hostIp>-<port>:<topic>-000-0:<subId>". Names of another
 * shape are shown whole.
 */
static char *short_name(const char *name)
{
    const char *first = strchr(name, ':');
    const char *last = strrchr(name, ':');
    if (first == NULL || last == first || last[1] == '\0')
        return ox_xstrdup(name);
    char *s = ox_xstrdup(first + 1);
    s[last - first - 1] = '.';
    return s;
}

static int valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 200)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

static int resolve_ipv4(const char *host, uint32_t *ip)
{
    struct in_addr a;
    if (inet_pton(AF_INET, host, &a) == 1) {
        *ip = ntohl(a.s_addr);
        return 0;
    }
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL)
        return OX_EINVAL;
    *ip = ntohl(((struct sockaddr_in *)res->ai_addr)->sin_addr.s_addr);
    freeaddrinfo(res);
    return 0;
}

static int is_loopback(const char *addr)
{
    struct in_addr a;
    if (inet_pton(AF_INET, addr, &a) == 1)
        return (ntohl(a.s_addr) >> 24) == 127;
    return strcmp(addr, "::1") == 0 || strcmp(addr, "localhost") == 0;
}

int ox_store_config_from_props(const ox_props *p, ox_store_config **out, ox_errbuf *eb)
{
    *out = NULL;
    int rc = ox_props_check_keys(p, known_keys, eb);
    if (rc != 0)
        return rc;
    ox_store_config *c = ox_xcalloc(1, sizeof *c);
    int64_t v;
    const char *s;

    s = ox_props_get(p, "store.name");
    if (s == NULL || !valid_name(s)) {
        rc = ox_errf(eb, OX_ECONFIG,
                     s == NULL ? "key \"store.name\" is required"
                               : "key \"store.name\": expected 1-200 characters [A-Za-z0-9._:-]");
        goto fail;
    }
    c->name = ox_xstrdup(s);
    c->short_name = short_name(s);
    s = ox_props_get(p, "store.dir");
    if (s == NULL || *s == '\0') {
        rc = ox_errf(eb, OX_ECONFIG, "key \"store.dir\" is required");
        goto fail;
    }
    c->dir = ox_xstrdup(s);
    c->listen = ox_xstrdup(ox_props_get_str(p, "store.listen", "127.0.0.1"));
    if (ox_props_get(p, "store.port") == NULL) {
        rc = ox_errf(eb, OX_ECONFIG, "key \"store.port\" is required");
        goto fail;
    }
    if ((rc = ox_props_get_int(p, "store.port", 0, 1, 65535, &v, eb)) != 0)
        goto fail;
    c->port = (uint16_t)v;
    s = ox_props_get(p, "store.auth.token.file");
    if (s != NULL && *s != '\0') {
        if ((rc = read_secret("store.auth.token.file", s, &c->auth_token, eb)) != 0)
            goto fail;
        if (c->auth_token[0] == '\0') {
            rc = ox_errf(eb, OX_ECONFIG, "key \"store.auth.token.file\": the token is empty");
            goto fail;
        }
    }
    if (!is_loopback(c->listen) && c->auth_token == NULL) {
        rc = ox_errf(eb, OX_ECONFIG,
                     "key \"store.listen\": %.100s is not a loopback address; set "
                     "store.auth.token.file",
                     c->listen);
        goto fail;
    }

    c->source_type = ox_xstrdup(ox_props_get_str(p, "source.type", "mysql"));
    int is_pg = strcmp(c->source_type, "postgresql") == 0;
    if (strcmp(c->source_type, "mysql") != 0 && !is_pg) {
        rc = ox_errf(eb, OX_ECONFIG,
                     "key \"source.type\": unsupported \"%.100s\" (mysql, postgresql)",
                     c->source_type);
        goto fail;
    }
    if (is_pg) {
        s = ox_props_get_str(p, "source.database", "");
        if (*s == '\0') {
            rc = ox_errf(eb, OX_ECONFIG,
                         "key \"source.database\" is required with source.type=postgresql");
            goto fail;
        }
        c->source_database = ox_xstrdup(s);
        s = ox_props_get_str(p, "source.slot", "");
        if (*s != '\0')
            c->source_slot = ox_xstrdup(s);
        s = ox_props_get_str(p, "source.publication", "");
        if (*s != '\0')
            c->source_publication = ox_xstrdup(s);
    }
    c->source_host = ox_xstrdup(ox_props_get_str(p, "source.host", "127.0.0.1"));
    if (resolve_ipv4(c->source_host, &c->source_ip) != 0) {
        rc = ox_errf(eb, OX_ECONFIG, "key \"source.host\": cannot resolve \"%.100s\" to IPv4",
                     c->source_host);
        goto fail;
    }
    if ((rc = ox_props_get_int(p, "source.port", is_pg ? 5432 : 3306, 1, 65535, &v, eb)) != 0)
        goto fail;
    c->source_port = (uint16_t)v;
    c->source_user = ox_xstrdup(ox_props_get_str(p, "source.user", is_pg ? "postgres" : "root"));
    const char *pf = ox_props_get(p, "source.password.file");
    const char *pe = ox_props_get(p, "source.password.env");
    if (pf != NULL && pe != NULL) {
        rc = ox_errf(eb, OX_ECONFIG,
                     "key \"source.password.env\": set only one of source.password.file and "
                     "source.password.env");
        goto fail;
    }
    if (pf != NULL) {
        if ((rc = read_secret("source.password.file", pf, &c->source_password, eb)) != 0)
            goto fail;
    } else if (pe != NULL) {
        const char *ev = getenv(pe);
        if (ev == NULL) {
            rc = ox_errf(eb, OX_ECONFIG,
                         "key \"source.password.env\": environment variable \"%.100s\" is not set",
                         pe);
            goto fail;
        }
        c->source_password = ox_xstrdup(ev);
    } else {
        c->source_password = ox_xstrdup("");
    }
    if ((rc = ox_props_get_int(p, "source.server_id", 1000000 + (int64_t)c->port, 1, UINT32_MAX, &v,
                               eb)) != 0)
        goto fail;
    c->server_id = (uint32_t)v;
    if ((rc = ox_props_get_int(p, "source.heartbeat.ms", 1000, 10, 3600000, &v, eb)) != 0)
        goto fail;
    c->heartbeat_ms = (int)v;
    if ((rc = ox_props_get_int(p, "source.connect_timeout.s", 5, 1, 3600, &v, eb)) != 0)
        goto fail;
    c->connect_timeout_s = (int)v;

    s = ox_props_get_str(p, "store.start.checkpoint", "");
    if (*s != '\0') {
        ox_errbuf cb;
        if (ox_checkpoint_parse(s, &c->start, &cb) != 0) {
            rc = ox_errf(eb, OX_ECONFIG, "key \"store.start.checkpoint\": %s", cb.msg);
            goto fail;
        }
        unsigned need = OX_CP_FILEIDX | OX_CP_OFFSET;
        if ((c->start.present & need) != need && !(c->start.present & OX_CP_TIMESTAMP)) {
            rc = ox_errf(eb, OX_ECONFIG,
                         "key \"store.start.checkpoint\": needs fileIdx and offset, or a "
                         "timestamp (\"::::TS:\")");
            goto fail;
        }
        c->has_start = 1;
    }
    s = ox_props_get_str(p, "store.start.gtid", "");
    if (*s != '\0')
        c->start_gtid = ox_xstrdup(s);
    c->whitelist = ox_xstrdup(ox_props_get_str(p, "store.whitelist", ""));
    c->blacklist = ox_xstrdup(ox_props_get_str(p, "store.blacklist", ""));
    ox_errbuf fb;
    ox_filter *f = NULL;
    if (ox_filter_parse(c->whitelist, &f, &fb) != 0) {
        rc = ox_errf(eb, OX_ECONFIG, "key \"store.whitelist\": %s", fb.msg);
        goto fail;
    }
    ox_filter_free(f);
    if (ox_filter_parse(c->blacklist, &f, &fb) != 0) {
        rc = ox_errf(eb, OX_ECONFIG, "key \"store.blacklist\": %s", fb.msg);
        goto fail;
    }
    ox_filter_free(f);

    if ((rc = ox_props_get_int(p, "store.clearer.outdated", 86400, 1, INT64_MAX / 2, &v, eb)) != 0)
        goto fail;
    c->retention_s = v;
    if ((rc = ox_props_get_int(p, "store.clearer.max_bytes", 0, 0, INT64_MAX, &v, eb)) != 0)
        goto fail;
    c->retention_bytes = (uint64_t)v;
    if ((rc = ox_props_get_int(p, "store.segment.bytes", 64 << 20, 1 << 16, (int64_t)1 << 40, &v,
                               eb)) != 0)
        goto fail;
    c->segment_bytes = (uint64_t)v;
    static const char *const fsyncs[] = {"commit", "interval", "none", NULL};
    int idx;
    if ((rc = ox_props_get_enum(p, "store.fsync", fsyncs, 1, &idx, eb)) != 0)
        goto fail;
    c->fsync_policy = idx == 0   ? OX_LOG_FSYNC_COMMIT
                      : idx == 1 ? OX_LOG_FSYNC_INTERVAL
                                 : OX_LOG_FSYNC_NONE;
    if ((rc = ox_props_get_int(p, "store.fsync.interval_ms", 10, 1, 10000, &v, eb)) != 0)
        goto fail;
    c->fsync_interval_ms = (uint32_t)v;
    static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
    if ((rc = ox_props_get_enum(p, "store.log.level", levels, OX_LL_INFO, &c->log_level, eb)) != 0)
        goto fail;
    if ((rc = ox_props_get_int(p, "store.max_subscribers", 256, 1, 4096, &v, eb)) != 0)
        goto fail;
    c->max_subscribers = (int)v;
    if ((rc = ox_props_get_int(p, "store.max_connections_per_ip", 64, 1, 8192, &v, eb)) != 0)
        goto fail;
    c->max_per_ip = (int)v;
    if ((rc = ox_props_get_int(p, "store.http.request_timeout_ms", 5000, 100, 600000, &v, eb)) != 0)
        goto fail;
    c->request_timeout_ms = (int)v;
    static const char *const resumes[] = {"auto", "gtid", "filepos", NULL};
    if ((rc = ox_props_get_enum(p, "store.resume", resumes, OX_RESUME_AUTO, &c->resume_mode, eb)) !=
        0)
        goto fail;
    *out = c;
    return 0;
fail:
    ox_store_config_free(c);
    return rc;
}

int ox_store_config_load(const char *path, ox_store_config **out, ox_errbuf *eb)
{
    ox_props *p = NULL;
    int rc = ox_props_load_file(path, &p, eb);
    if (rc != 0)
        return rc;
    rc = ox_store_config_from_props(p, out, eb);
    ox_props_free(p);
    return rc;
}
