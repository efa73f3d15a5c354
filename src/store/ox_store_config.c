/* ox_store_config.c - loads and validates the store's properties file. */
#include "ox_store_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stddef.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ox_alloc.h"
#include "ox_filter.h"
#include "ox_log.h"
#include "ox_secret.h"

/*
 * The keys, one table (nginx's ngx_command_t): name, type, where it goes in
 * ox_store_config, default (and the PostgreSQL default where it differs),
 * range, its own check, and the text of its row in docs/store.md, which
 * unit.test_store_config compares with the document (`oxbow store --keys`
 * prints the rows). Loaded in this order: a key's check may use the keys
 * above it (source.type before the keys whose defaults depend on it).
 */
enum key_type { K_STR, K_INT, K_BOOL, K_ENUM, K_CUSTOM };
enum int_width { U16, U32, INT, I64, U64 };
enum key_flags {
    REQ = 1u << 0,        /* must be set (and, for strings, not empty) */
    PG_ONLY = 1u << 1,    /* source.type=postgresql only */
    MYSQL_ONLY = 1u << 2, /* source.type=mysql only */
};

struct store_key;
typedef int (*key_check_fn)(ox_store_config *c, const ox_props *p, const struct store_key *k,
                            ox_errbuf *eb);

struct store_key {
    const char *key;
    enum key_type type;
    size_t off; /* of the field in ox_store_config (not K_CUSTOM) */
    enum int_width width;
    unsigned flags;
    int64_t def, def_pg, min, max; /* K_INT (def_pg 0 = def), K_BOOL/K_ENUM: def */
    const char *sdef, *sdef_pg;    /* K_STR: NULL = unset or empty stays NULL */
    const char *const *names;      /* K_ENUM: the accepted values */
    const int *values;             /* K_ENUM: what each stores (NULL = its index) */
    key_check_fn check;            /* after the generic load; K_CUSTOM: the parser */
    const char *doc_default, *doc; /* the row in docs/store.md */
};

#define F(field)            offsetof(ox_store_config, field)
#define STR(field, fl, chk) .type = K_STR, .off = F(field), .flags = (fl), .check = (chk)
#define STRD(field, d, dpg, chk)                                                                   \
    .type = K_STR, .off = F(field), .sdef = (d), .sdef_pg = (dpg), .check = (chk)
#define INT(field, w, fl, d, dpg, lo, hi)                                                          \
    .type = K_INT, .off = F(field), .width = (w), .flags = (fl), .def = (d), .def_pg = (dpg),      \
    .min = (lo), .max = (hi)
#define BOOL(field, fl, d) .type = K_BOOL, .off = F(field), .flags = (fl), .def = (d)
#define ENUM(field, choices, d)                                                                    \
    .type = K_ENUM, .off = F(field), .names = choices, .values = choices##_values, .def = (d)
#define CUSTOM(fn) .type = K_CUSTOM, .check = (fn)

static void set_int(void *field, enum int_width w, int64_t v)
{
    switch (w) {
    case U16:
        *(uint16_t *)field = (uint16_t)v;
        break;
    case U32:
        *(uint32_t *)field = (uint32_t)v;
        break;
    case INT:
        *(int *)field = (int)v;
        break;
    case I64:
        *(int64_t *)field = v;
        break;
    case U64:
        *(uint64_t *)field = (uint64_t)v;
        break;
    }
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

/* store.name: also the name OMS messages show. */
static int check_name(ox_store_config *c, const ox_props *p, const struct store_key *k,
                      ox_errbuf *eb)
{
    (void)p;
    if (!valid_name(c->name))
        return ox_errf(eb, OX_ECONFIG, "key \"%s\": expected 1-200 characters [A-Za-z0-9._:-]",
                       k->key);
    c->short_name = short_name(c->name);
    return 0;
}

static int check_type(ox_store_config *c, const ox_props *p, const struct store_key *k,
                      ox_errbuf *eb)
{
    (void)p;
    if (strcmp(c->source_type, "mysql") != 0 && strcmp(c->source_type, "postgresql") != 0)
        return ox_errf(eb, OX_ECONFIG, "key \"%s\": unsupported \"%.100s\" (mysql, postgresql)",
                       k->key, c->source_type);
    return 0;
}

static int check_host(ox_store_config *c, const ox_props *p, const struct store_key *k,
                      ox_errbuf *eb)
{
    (void)p;
    if (resolve_ipv4(c->source_host, &c->source_ip) != 0)
        return ox_errf(eb, OX_ECONFIG, "key \"%s\": cannot resolve \"%.100s\" to IPv4", k->key,
                       c->source_host);
    return 0;
}

/* store.whitelist, store.blacklist: parsed again by capture, which then
 * needs no error path. */
static int check_filter(ox_store_config *c, const ox_props *p, const struct store_key *k,
                        ox_errbuf *eb)
{
    (void)p;
    const char *text = *(char **)((char *)c + k->off);
    ox_errbuf fb;
    ox_filter *f = NULL;
    if (ox_filter_parse(text, &f, &fb) != 0)
        return ox_errf(eb, OX_ECONFIG, "key \"%s\": %s", k->key, fb.msg);
    ox_filter_free(f);
    return 0;
}

static int parse_token(ox_store_config *c, const ox_props *p, const struct store_key *k,
                       ox_errbuf *eb)
{
    const char *s = ox_props_get(p, k->key);
    if (s == NULL || *s == '\0')
        return 0;
    int rc = read_secret(k->key, s, &c->auth_token, eb);
    if (rc == 0 && c->auth_token[0] == '\0')
        rc = ox_errf(eb, OX_ECONFIG, "key \"%s\": the token is empty", k->key);
    return rc;
}

/* source.password.file or source.password.env (this entry reads both). */
static int parse_password(ox_store_config *c, const ox_props *p, const struct store_key *k,
                          ox_errbuf *eb)
{
    const char *pf = ox_props_get(p, k->key);
    const char *pe = ox_props_get(p, "source.password.env");
    if (pf != NULL && pe != NULL)
        return ox_errf(eb, OX_ECONFIG,
                       "key \"source.password.env\": set only one of source.password.file and "
                       "source.password.env");
    if (pf != NULL)
        return read_secret(k->key, pf, &c->source_password, eb);
    if (pe != NULL) {
        const char *ev = getenv(pe);
        if (ev == NULL)
            return ox_errf(eb, OX_ECONFIG,
                           "key \"source.password.env\": environment variable \"%.100s\" is not "
                           "set",
                           pe);
        c->source_password = ox_xstrdup(ev);
        return 0;
    }
    c->source_password = ox_xstrdup("");
    return 0;
}

/* Default 1000000 + store.port: unique per store on a host. */
static int parse_server_id(ox_store_config *c, const ox_props *p, const struct store_key *k,
                           ox_errbuf *eb)
{
    int64_t v;
    int rc = ox_props_get_int(p, k->key, 1000000 + (int64_t)c->port, 1, UINT32_MAX, &v, eb);
    if (rc == 0)
        c->server_id = (uint32_t)v;
    return rc;
}

static int parse_start(ox_store_config *c, const ox_props *p, const struct store_key *k,
                       ox_errbuf *eb)
{
    const char *s = ox_props_get_str(p, k->key, "");
    if (*s == '\0')
        return 0;
    ox_errbuf cb;
    if (ox_checkpoint_parse(s, &c->start, &cb) != 0)
        return ox_errf(eb, OX_ECONFIG, "key \"%s\": %s", k->key, cb.msg);
    unsigned need = OX_CP_FILEIDX | OX_CP_OFFSET;
    if ((c->start.present & need) != need && !(c->start.present & OX_CP_TIMESTAMP))
        return ox_errf(eb, OX_ECONFIG,
                       "key \"%s\": needs fileIdx and offset, or a timestamp (\"::::TS:\")",
                       k->key);
    c->has_start = 1;
    return 0;
}

static const char *const resumes[] = {"auto", "gtid", "filepos", NULL};
static const int resumes_values[] = {OX_RESUME_AUTO, OX_RESUME_GTID, OX_RESUME_FILEPOS};
static const char *const fsyncs[] = {"commit", "interval", "none", NULL};
static const int fsyncs_values[] = {OX_LOG_FSYNC_COMMIT, OX_LOG_FSYNC_INTERVAL, OX_LOG_FSYNC_NONE};
static const char *const levels[] = {"debug", "info", "warn", "error", NULL};
static const int levels_values[] = {OX_LL_DEBUG, OX_LL_INFO, OX_LL_WARN, OX_LL_ERROR};

static const struct store_key keys[] = {
    {"store.name", STR(name, REQ, check_name), .doc_default = "required",
     .doc = "the CM crawler name, `[A-Za-z0-9._:-]`, at most 200 characters"},
    {"store.dir", STR(dir, REQ, NULL), .doc_default = "required",
     .doc = "data directory: `store.lock`, `store.log`, `log/`, `schema/` (the source's "
            "schema history, docs/mysql_capture.md), `pgstream/` (PostgreSQL: spill files "
            "of streamed transactions until their commit, docs/pg_capture.md) (created mode "
            "0700 if missing; `log/` "
            "is always created 0700 and its files 0600, also in an existing `store.dir`)"},
    {"store.listen", STRD(listen, "127.0.0.1", NULL, NULL), .doc_default = "`127.0.0.1`",
     .doc = "IPv4 address to listen on; a non-loopback address requires "
            "`store.auth.token.file`"},
    {"store.port", INT(port, U16, REQ, 0, 0, 1, 65535), .doc_default = "required",
     .doc = "HTTP port for status and subscribers"},
    {"store.auth.token.file", CUSTOM(parse_token), .doc_default = "none",
     .doc = "file holding a bearer token; when set every request needs `Authorization: "
            "Bearer TOKEN` (401 otherwise)"},
    {"source.type", STRD(source_type, "mysql", NULL, check_type), .doc_default = "`mysql`",
     .doc = "capture back end: `mysql` (MySQL and MariaDB) or `postgresql` "
            "(docs/pg_capture.md)"},
    {"source.host", STRD(source_host, "127.0.0.1", NULL, check_host), .doc_default = "`127.0.0.1`",
     .doc = "source address (resolved to IPv4 for checkpoints)"},
    {"source.port", INT(source_port, U16, 0, 3306, 5432, 1, 65535),
     .doc_default = "`3306` (`5432`)", .doc = "source port"},
    {"source.user", STRD(source_user, "root", "postgres", NULL),
     .doc_default = "`root` (`postgres`)",
     .doc = "replication user (MySQL: REPLICATION SLAVE, REPLICATION CLIENT / BINLOG "
            "MONITOR, SELECT; PostgreSQL: the REPLICATION attribute, and the right to "
            "create the publication)"},
    {"source.database", STR(source_database, REQ | PG_ONLY, NULL), .doc_default = "none",
     .doc = "`postgresql`: the database to capture (required)"},
    {"source.slot", STR(source_slot, PG_ONLY, NULL), .doc_default = "`oxbow_<store.name>`",
     .doc = "`postgresql`: an existing logical slot (pgoutput) to use instead of the "
            "store's own; never dropped by the store"},
    {"source.publication", STR(source_publication, PG_ONLY, NULL),
     .doc_default = "`oxbow_<store.name>`",
     .doc = "`postgresql`: an existing publication to use instead of the store's own "
            "(scoped by `store.whitelist` where it can be, else `FOR ALL TABLES`; "
            "docs/pg_capture.md); never dropped by the store"},
    {"source.password.file", CUSTOM(parse_password), .doc_default = "none",
     .doc = "file whose first line is the password"},
    {"source.password.env", CUSTOM(NULL), .doc_default = "none",
     .doc = "or: environment variable holding the password (not both)"},
    {"source.server_id", CUSTOM(parse_server_id), .doc_default = "1000000 + `store.port`",
     .doc = "replica server id used to register with the source"},
    {"source.heartbeat.ms", INT(heartbeat_ms, INT, 0, 1000, 1000, 10, 3600000),
     .doc_default = "`1000`",
     .doc = "source heartbeat period (keeps `delay` fresh when idle; detects dead links)"},
    {"source.connect_timeout.s", INT(connect_timeout_s, INT, 0, 5, 5, 1, 3600),
     .doc_default = "`5`", .doc = "connect timeout"},
    {"source.tls.ca", STR(source_tls_ca, MYSQL_ONLY, NULL), .doc_default = "none",
     .doc = "MySQL/MariaDB: file with the CA certificate(s) that signed the server's: the "
            "connection uses TLS and verifies the server certificate (as `oxbow capture "
            "--tls-ca`)"},
    {"source.tls.required", BOOL(source_tls_required, MYSQL_ONLY, 0), .doc_default = "`false`",
     .doc = "MySQL/MariaDB: `true` refuses to connect without TLS (as `oxbow capture "
            "--tls-required`); without `source.tls.ca` the server certificate is not "
            "verified"},
    {"store.start.checkpoint", CUSTOM(parse_start), .doc_default = "empty = now",
     .doc = "where an **empty** store starts (and where a store with records resumes once "
            "after this value changes: `crawler/reposition`, docs/operations.md): a seed "
            "checkpoint with fileIdx and offset (`:3306:3:4567::` or full), or only a "
            "timestamp (`::::1663049354:`). A timestamp before the first event of the "
            "oldest binlog the source still has is refused with status 2 (DRC_502), naming "
            "the oldest available time: the store never starts later than asked in silence. "
            "A timestamp in the future starts at the source's current end at once (capture "
            "does not wait for that time; everything from now on is stored)"},
    {"store.start.gtid", STR(start_gtid, 0, NULL), .doc_default = "none",
     .doc = "or: a MariaDB GTID position (`0-1-42`) for an empty store"},
    {"store.resume", ENUM(resume_mode, resumes, OX_RESUME_AUTO), .doc_default = "`auto`",
     .doc = "how a non-empty store resumes: `auto`/`gtid` = by the MariaDB GTID of the last "
            "stored transaction when it has one, else by file:pos; `filepos` = always "
            "file:pos"},
    {"store.whitelist", STRD(whitelist, "", NULL, check_filter), .doc_default = "empty = all",
     .doc = "`db.table` patterns (`*` wildcard, comma-separated) of changes to keep; "
            "PostgreSQL: `database.schema.table`, `database.schema.*`, `database.schema` "
            "(docs/pg_capture.md)"},
    {"store.blacklist", STRD(blacklist, "", NULL, check_filter), .doc_default = "empty",
     .doc = "patterns of changes to drop (a name on it is never kept, even if whitelisted)"},
    {"store.clearer.outdated", INT(retention_s, I64, 0, 86400, 86400, 1, INT64_MAX / 2),
     .doc_default = "`86400`",
     .doc = "retention: segments whose newest record is older than this many seconds are "
            "removed"},
    {"store.clearer.max_bytes", INT(retention_bytes, U64, 0, 0, 0, 0, INT64_MAX),
     .doc_default = "`0`",
     .doc = "retention size cap in bytes (oldest segments removed first); 0 = none"},
    {"store.segment.bytes",
     INT(segment_bytes, U64, 0, 64 << 20, 64 << 20, 1 << 16, (int64_t)1 << 40),
     .doc_default = "`67108864`",
     .doc = "log segment size (>= 64 KiB); retention removes whole segments"},
    {"store.fsync", ENUM(fsync_policy, fsyncs, 1), .doc_default = "`interval`",
     .doc = "`commit` (fsync each transaction), `interval` (group commit every "
            "`store.fsync.interval_ms`), `none`"},
    {"store.fsync.interval_ms", INT(fsync_interval_ms, U32, 0, 10, 10, 1, 10000),
     .doc_default = "`10`", .doc = "group-commit period"},
    {"store.log.level", ENUM(log_level, levels, OX_LL_INFO), .doc_default = "`info`",
     .doc = "`debug`, `info`, `warn`, `error`"},
    {"store.max_subscribers", INT(max_subscribers, INT, 0, 256, 256, 1, 4096),
     .doc_default = "`256`", .doc = "more concurrent subscribers get HTTP 503"},
    {"store.max_connections_per_ip", INT(max_per_ip, INT, 0, 64, 64, 1, 8192),
     .doc_default = "`64`",
     .doc = "connections at once from one address of another host; more are refused "
            "(127.0.0.1 and the listen address have no per-address limit)"},
    {"store.http.request_timeout_ms", INT(request_timeout_ms, INT, 0, 5000, 5000, 100, 600000),
     .doc_default = "`5000`",
     .doc = "a connection must send a complete request within this time of connecting (or "
            "of its previous response); otherwise it is closed"},
};

#define NKEYS (sizeof keys / sizeof keys[0])
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
    sc->tls_ca = c->source_tls_ca;
    sc->tls_required = c->source_tls_required;
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
    free(c->source_tls_ca);
    free(c);
}

/* Loads one key of the table into c (defaults, ranges, then the key's own
 * check). */
static int load_key(const struct store_key *k, const ox_props *p, ox_store_config *c, int is_pg,
                    ox_errbuf *eb)
{
    /* PostgreSQL keys in a MySQL store's file are ignored (the supervisor
     * writes source.database whenever the CM has one); TLS, which only the
     * MySQL back end implements, is refused rather than silently dropped. */
    if ((k->flags & PG_ONLY) && !is_pg)
        return 0;
    if ((k->flags & MYSQL_ONLY) && is_pg) {
        const char *v = ox_props_get(p, k->key);
        if (v != NULL && *v != '\0')
            return ox_errf(eb, OX_ECONFIG, "key \"%s\": not supported with source.type=%s", k->key,
                           c->source_type);
        return 0;
    }
    const char *s = ox_props_get(p, k->key);
    if ((k->flags & REQ) && (s == NULL || (k->type == K_STR && *s == '\0')))
        return ox_errf(eb, OX_ECONFIG,
                       is_pg && (k->flags & PG_ONLY) ? "key \"%s\" is required with "
                                                       "source.type=postgresql"
                                                     : "key \"%s\" is required",
                       k->key);
    void *field = (char *)c + k->off;
    int rc = 0;
    switch (k->type) {
    case K_STR: {
        const char *def = is_pg && k->sdef_pg ? k->sdef_pg : k->sdef;
        const char *v = s != NULL && (*s != '\0' || def == NULL || *def == '\0') ? s : def;
        *(char **)field = v != NULL && (*v != '\0' || def != NULL) ? ox_xstrdup(v) : NULL;
        break;
    }
    case K_INT: {
        int64_t v;
        rc = ox_props_get_int(p, k->key, is_pg && k->def_pg ? k->def_pg : k->def, k->min, k->max,
                              &v, eb);
        if (rc == 0)
            set_int(field, k->width, v);
        break;
    }
    case K_BOOL:
        rc = ox_props_get_bool(p, k->key, (int)k->def, (int *)field, eb);
        break;
    case K_ENUM: {
        int idx;
        rc = ox_props_get_enum(p, k->key, k->names, (int)k->def, &idx, eb);
        if (rc == 0)
            *(int *)field = k->values ? k->values[idx] : idx;
        break;
    }
    case K_CUSTOM:
        break;
    }
    if (rc == 0 && k->check != NULL)
        rc = k->check(c, p, k, eb);
    return rc;
}

int ox_store_config_from_props(const ox_props *p, ox_store_config **out, ox_errbuf *eb)
{
    *out = NULL;
    const char *known[NKEYS + 1];
    for (size_t i = 0; i < NKEYS; i++)
        known[i] = keys[i].key;
    known[NKEYS] = NULL;
    int rc = ox_props_check_keys(p, known, eb);
    if (rc != 0)
        return rc;
    ox_store_config *c = ox_xcalloc(1, sizeof *c);
    int is_pg = 0;
    for (size_t i = 0; i < NKEYS; i++) {
        if ((rc = load_key(&keys[i], p, c, is_pg, eb)) != 0)
            goto fail;
        if (c->source_type != NULL)
            is_pg = strcmp(c->source_type, "postgresql") == 0;
    }
    if (!is_loopback(c->listen) && c->auth_token == NULL) {
        rc = ox_errf(eb, OX_ECONFIG,
                     "key \"store.listen\": %.100s is not a loopback address; set "
                     "store.auth.token.file",
                     c->listen);
        goto fail;
    }
    *out = c;
    return 0;
fail:
    ox_store_config_free(c);
    return rc;
}

const ox_store_key_doc *ox_store_config_keys(size_t *n)
{
    static ox_store_key_doc docs[NKEYS];
    for (size_t i = 0; i < NKEYS; i++)
        docs[i] = (ox_store_key_doc){keys[i].key, keys[i].doc_default, keys[i].doc};
    *n = NKEYS;
    return docs;
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
