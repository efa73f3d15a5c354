/*
 * cm_api.c - the route table and the topic/host/health handlers. Crawler
 * handlers are in cm_api_crawler.c, the supervisor protocol in cm_api_sv.c.
 * docs/api.md documents every endpoint.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_api.h"
#include "ox_alloc.h"
#include "ox_checkpoint.h"

static const char *const p_none[] = {NULL};
static const char *const p_topic_create[] = {"topic",    "dbType",   "host",      "port",
                                             "username", "password", "whiteList", "blackList",
                                             "database", NULL};
static const char *const p_topic[] = {"topic", NULL};
static const char *const p_start[] = {"topic",    "checkpoint", "role", "type",
                                      "userData", "host",       NULL};
static const char *const p_crawler[] = {"crawler", NULL};
static const char *const p_reposition[] = {"crawler", "checkpoint", NULL};
static const char *const p_detail[] = {"filters", "crawler", NULL};
static const char *const p_list[] = {"topic", NULL};
static const char *const p_host[] = {"host", NULL};
static const char *const p_log[] = {"crawler", "lines", "file", NULL};
static const char *const p_login[] = {"token", NULL};
static const char *const p_audit[] = {"limit", NULL};
static const char *const p_topic_update[] = {"topic",     "password",  "whiteList",
                                             "blackList", "retention", NULL};

const struct cm_route cm_routes[] = {
    {"POST", "/topic/create", cm_h_topic_create, 0, 0, p_topic_create},
    {"GET", "/topic/list", cm_h_topic_list, 0, 0, p_none},
    {"POST", "/topic/delete", cm_h_topic_delete, 0, 0, p_topic},
    {"POST", "/topic/update", cm_h_topic_update, 0, 0, p_topic_update},
    {"POST", "/crawler/start", cm_h_crawler_start, 0, 0, p_start},
    {"POST", "/crawler/clear", cm_h_crawler_clear, 0, 0, p_crawler},
    {"POST", "/crawler/stop", cm_h_crawler_clear, 0, 0, p_crawler},
    {"POST", "/crawler/restore", cm_h_crawler_restore, 0, 0, p_crawler},
    {"POST", "/crawler/destroy", cm_h_crawler_destroy, 0, 0, p_crawler},
    {"POST", "/crawler/reposition", cm_h_crawler_reposition, 0, 0, p_reposition},
    {"GET", "/crawler/detail", cm_h_crawler_detail, 0, 0, p_detail},
    {"GET", "/crawler/list", cm_h_crawler_list, 0, 0, p_list},
    {"GET", "/host/list", cm_h_host_list, 0, 0, p_none},
    {"GET", "/cm/health", cm_h_health, 0, 0, p_none},
    {"POST", "/supervisor/heartbeat", cm_h_sv_heartbeat, 8u << 20, 1, NULL},
    {"POST", "/host/revoke", cm_h_sv_revoke, 0, 0, p_host},
    /* Operations (cm_metrics.c, cm_console.c; docs/operations.md). */
    {"GET", "/metrics", cm_h_metrics, 0, 0, p_none},
    {"GET", "/alert/list", cm_h_alert_list, 0, 0, p_none},
    {"GET", "/console/stores", cm_h_console_stores, 0, 0, p_none},
    {"GET", "/audit/list", cm_h_audit_list, 0, 0, p_audit},
    {"GET", "/crawler/history", cm_h_crawler_history, 0, 0, p_crawler},
    {"GET", "/crawler/log", cm_h_crawler_log, 0, 0, p_log},
    {"GET", "/", cm_h_console_file, 0, 0, p_none},
    {"GET", "/index.html", cm_h_console_file, 0, 0, p_none},
    {"GET", "/app.js", cm_h_console_file, 0, 0, p_none},
    {"GET", "/app.css", cm_h_console_file, 0, 0, p_none},
    {"POST", "/console/login", cm_h_console_login, 0, 0, p_login},
    {"POST", "/console/logout", cm_h_console_logout, 0, 0, p_none},
};
const int cm_nroutes = (int)(sizeof cm_routes / sizeof cm_routes[0]);

/* Printable text without control bytes (values go into properties files). */
int cm_text_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n > max)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    json_t *j = json_string(s); /* rejects invalid UTF-8 */
    if (j == NULL)
        return 0;
    json_decref(j);
    return 1;
}

static int host_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 253)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-'))
            return 0;
    }
    return 1;
}

int cm_filter_list_ok(const char *s)
{
    if (strlen(s) > 4096)
        return 0;
    for (; *s; s++) {
        char c = *s;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '*' || c == ',' || c == '$' || c == '-' || c == ' '))
            return 0;
    }
    return 1;
}

int cm_parse_port(const char *s, int *out)
{
    if (s == NULL || *s == '\0' || strlen(s) > 5)
        return -1;
    int v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > 65535)
        return -1;
    *out = v;
    return 0;
}

/* A PostgreSQL database name as the topic may give it: it reaches the store's
 * properties file and libpq, so no separators or control characters. */
static int pg_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '$' || c == '-'))
            return 0;
    }
    return 1;
}

static json_t *topic_json(struct ox_cm *cm, const struct cm_topic *t)
{
    int n = 0;
    for (int i = 0; i < cm->crawlers.n; i++)
        n += strcmp(((struct cm_crawler *)cm->crawlers.v[i])->topic, t->name) == 0;
    json_t *o = json_pack("{s:s,s:s,s:s,s:i,s:s,s:s,s:s,s:i}", "topic", t->name, "dbType",
                          t->db_type, "host", t->host, "port", t->port, "username", t->user,
                          "whiteList", t->whitelist, "blackList", t->blacklist, "crawlers", n);
    if (t->database[0])
        json_object_set_new(o, "database", json_string(t->database));
    return o;
}

int cm_h_topic_create(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    ox_errbuf eb;
    const char *name = cm_req_param(req, "topic");
    const char *db_type = cm_req_param(req, "dbType");
    const char *host = cm_req_param(req, "host");
    const char *port_s = cm_req_param(req, "port");
    const char *user = cm_req_param(req, "username");
    const char *pw = cm_req_param(req, "password");
    const char *wl = cm_req_param(req, "whiteList");
    const char *bl = cm_req_param(req, "blackList");
    const char *database = cm_req_param(req, "database");
    int port = 3306;
    if (name == NULL)
        return cm_resp_error(resp, 400, "missing parameter 'topic'");
    if (ox_cm_topic_validate(name, &eb) != 0)
        return cm_resp_error(resp, 400, "%s", eb.msg);
    if (db_type == NULL || *db_type == '\0')
        db_type = "mysql";
    int is_pg = strcmp(db_type, "postgresql") == 0;
    if (strcmp(db_type, "mysql") != 0 && !is_pg)
        return cm_resp_error(resp, 400, "dbType must be mysql or postgresql (got '%.32s')",
                             db_type);
    if (is_pg) {
        port = 5432;
        if (database == NULL || !pg_name_ok(database))
            return cm_resp_error(resp, 400,
                                 "dbType=postgresql needs parameter 'database': the database to "
                                 "capture, 1-63 characters [A-Za-z0-9_$-]");
    } else if (database != NULL && *database != '\0') {
        return cm_resp_error(resp, 400, "parameter 'database' is for dbType=postgresql only");
    }
    if (host == NULL || !host_ok(host))
        return cm_resp_error(resp, 400, "parameter 'host' must be an IPv4 address or host name");
    if (port_s != NULL && cm_parse_port(port_s, &port) != 0)
        return cm_resp_error(resp, 400, "parameter 'port' must be 1-65535");
    if (user == NULL || *user == '\0' || !cm_text_ok(user, 128))
        return cm_resp_error(resp, 400, "parameter 'username' is missing or invalid");
    if (pw == NULL)
        pw = "";
    if (!cm_text_ok(pw, 1024))
        return cm_resp_error(resp, 400, "parameter 'password' has control characters");
    if (wl == NULL)
        wl = "";
    if (bl == NULL)
        bl = "";
    if (!cm_filter_list_ok(wl) || !cm_filter_list_ok(bl))
        return cm_resp_error(resp, 400,
                             "whiteList/blackList must be comma-separated db.table patterns");

    pthread_mutex_lock(&cm->mut_lock);
    pthread_rwlock_rdlock(&cm->lock);
    int exists = cm_topic_get(cm, name) != NULL;
    pthread_rwlock_unlock(&cm->lock);
    if (exists) {
        pthread_mutex_unlock(&cm->mut_lock);
        return cm_resp_error(resp, 409, "topic '%s' already exists", name);
    }
    char ports[16], ms[24];
    int64_t now = cm_wall_ms();
    snprintf(ports, sizeof ports, "%d", port);
    snprintf(ms, sizeof ms, "%" PRId64, now);
    const char *p[11] = {
        name, db_type, host, ports, user, pw, wl, bl, "1", ms, is_pg ? database : ""};
    if (cm_db_exec(cm, OX_MDB_TOPIC_INSERT, 11, p, NULL, NULL, &eb) != 0) {
        pthread_mutex_unlock(&cm->mut_lock);
        return cm_resp_error(resp, 503, "metaDB write failed: %s", eb.msg);
    }
    struct cm_topic *t = ox_xcalloc(1, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    snprintf(t->db_type, sizeof t->db_type, "%s", db_type);
    snprintf(t->host, sizeof t->host, "%s", host);
    t->port = port;
    snprintf(t->user, sizeof t->user, "%s", user);
    t->password = ox_xstrdup(pw);
    t->whitelist = ox_xstrdup(wl);
    t->blacklist = ox_xstrdup(bl);
    t->next_sub = 1;
    t->created_ms = now;
    if (is_pg)
        snprintf(t->database, sizeof t->database, "%s", database);
    pthread_rwlock_wrlock(&cm->lock);
    int pos;
    cm_vec_find(&cm->topics, name, &pos);
    cm_vec_insert(&cm->topics, pos, t);
    json_t *j = topic_json(cm, t);
    pthread_rwlock_unlock(&cm->lock);
    pthread_mutex_unlock(&cm->mut_lock);
    json_t *o = json_object();
    json_object_set_new(o, "topic", j);
    return cm_resp_ok(resp, o);
}

int cm_h_topic_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&cm->lock);
    for (int i = 0; i < cm->topics.n; i++)
        json_array_append_new(arr, topic_json(cm, cm->topics.v[i]));
    pthread_rwlock_unlock(&cm->lock);
    json_t *o = json_object();
    json_object_set_new(o, "topics", arr);
    return cm_resp_ok(resp, o);
}

int cm_h_topic_delete(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    ox_errbuf eb;
    const char *name = cm_req_param(req, "topic");
    if (name == NULL)
        return cm_resp_error(resp, 400, "missing parameter 'topic'");
    if (ox_cm_topic_validate(name, &eb) != 0)
        return cm_resp_error(resp, 400, "%s", eb.msg);
    pthread_mutex_lock(&cm->mut_lock);
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_topic *t = cm_topic_get(cm, name);
    int users = 0;
    for (int i = 0; t && i < cm->crawlers.n; i++)
        users += strcmp(((struct cm_crawler *)cm->crawlers.v[i])->topic, name) == 0;
    pthread_rwlock_unlock(&cm->lock);
    if (t == NULL) {
        pthread_mutex_unlock(&cm->mut_lock);
        return cm_resp_error(resp, 404, "unknown topic '%s'", name);
    }
    if (users > 0) {
        pthread_mutex_unlock(&cm->mut_lock);
        return cm_resp_error(resp, 409, "topic '%s' still has %d crawler(s); destroy them first",
                             name, users);
    }
    const char *p[1] = {name};
    if (cm_db_exec(cm, OX_MDB_TOPIC_DELETE, 1, p, NULL, NULL, &eb) != 0) {
        pthread_mutex_unlock(&cm->mut_lock);
        return cm_resp_error(resp, 503, "metaDB write failed: %s", eb.msg);
    }
    pthread_rwlock_wrlock(&cm->lock);
    int pos;
    if (cm_vec_find(&cm->topics, name, &pos))
        cm_topic_free(cm_vec_remove(&cm->topics, pos));
    pthread_rwlock_unlock(&cm->lock);
    pthread_mutex_unlock(&cm->mut_lock);
    return cm_resp_ok(resp, json_pack("{s:s}", "topic", name));
}

int cm_h_host_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    json_t *arr = json_array();
    pthread_rwlock_rdlock(&cm->lock);
    for (int i = 0; i < cm->hosts.n; i++) {
        struct cm_host *h = cm->hosts.v[i];
        json_t *names = json_array();
        for (int k = 0; k < cm->crawlers.n; k++) {
            struct cm_crawler *c = cm->crawlers.v[k];
            if (strcmp(c->host_id, h->id) == 0)
                json_array_append_new(names, json_string(c->name));
        }
        json_array_append_new(arr,
                              json_pack("{s:s,s:s,s:i,s:I,s:b,s:o,s:s}", "host", h->id, "ip", h->ip,
                                        "port", h->port, "lastHeartbeat", (json_int_t)h->last_hb_ms,
                                        "live", cm_host_live(cm, h), "crawlers", names,
                                        "credential", cm_cred_kind(cm, h->id)));
        json_t *sys = cm_ops_host_system_get(cm, h->id);
        json_object_set_new(json_array_get(arr, json_array_size(arr) - 1), "system",
                            sys ? sys : json_null());
    }
    pthread_rwlock_unlock(&cm->lock);
    json_t *o = json_object();
    json_object_set_new(o, "hosts", arr);
    return cm_resp_ok(resp, o);
}

int cm_h_health(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    json_t *o = json_object();
    json_object_set_new(o, "active", json_boolean(cm_active(cm)));
    json_object_set_new(o, "metadb", json_string(ox_metadb_kind(cm->db)));
    json_object_set_new(o, "writeOk", json_boolean(atomic_load(&cm->write_ok)));
    json_object_set_new(o, "writeMs", json_integer(atomic_load(&cm->write_ms)));
    json_object_set_new(o, "skewMs", json_integer(atomic_load(&cm->skew_ms)));
    json_object_set_new(o, "lastCheck", json_integer(atomic_load(&cm->last_check_ms)));
    json_object_set_new(o, "location", json_integer(cm->cfg.location));
    return cm_resp_ok(resp, o);
}
