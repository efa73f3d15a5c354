/*
 * cm_console.c - what the OPS & Monitoring console needs beyond the seed's
 * API: its static files (web/, served from cm.web.dir or the installed
 * share/oxbow/web), the token login that sets an HttpOnly, SameSite=Strict
 * session cookie, the alert list, each store's history for the charts, and
 * the tail of a store's log.
 *
 * The files are read on each request (they are small and this keeps an
 * edited console live without a restart); only the fixed names of the route
 * table are served, so no request path ever reaches the file system.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <inttypes.h>
#include <microhttpd.h>
#include <netinet/in.h>

#include "cm_api.h"
#include "cm_ops.h"
#include "ox_alloc.h"
#include "ox_props.h"
#include "ox_tail.h"
#include "ox_curl.h"

static const struct console_file {
    const char *path, *file, *type;
} console_files[] = {
    {"/", "index.html", "text/html; charset=utf-8"},
    {"/index.html", "index.html", "text/html; charset=utf-8"},
    {"/app.js", "app.js", "text/javascript; charset=utf-8"},
    {"/app.css", "app.css", "text/css; charset=utf-8"},
};

int cm_ops_route_public(const struct cm_route *rt)
{
    return rt->fn == cm_h_console_file || rt->fn == cm_h_console_login ||
           rt->fn == cm_h_console_logout;
}

int cm_h_console_file(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    const char *path = cm_req_path(req);
    for (size_t i = 0; i < sizeof console_files / sizeof console_files[0]; i++) {
        if (strcmp(console_files[i].path, path) != 0)
            continue;
        char fp[PATH_MAX + 64];
        snprintf(fp, sizeof fp, "%s/%s", cm->ops->web_dir, console_files[i].file);
        size_t len = 0;
        char *text = ox_file_tail(fp, 4u << 20, &len);
        if (text == NULL)
            return cm_resp_error(resp, 500, "console file %s: %s (set cm.web.dir)", fp,
                                 strerror(errno));
        json_decref(resp->body);
        resp->body = NULL;
        resp->http_status = 200;
        resp->content_type = console_files[i].type;
        resp->raw = text;
        resp->raw_len = len;
        return 0;
    }
    return cm_resp_error(resp, 404, "no such console file");
}

int cm_h_console_login(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    const char *tok = cm_req_param(req, "token");
    const char *want = cm->cfg.auth_token;
    if (want != NULL) {
        if (tok == NULL)
            return cm_resp_error(resp, 400, "missing parameter 'token'");
        size_t wl = strlen(want), tl = strlen(tok);
        unsigned d = wl != tl;
        for (size_t i = 0; i < wl; i++)
            d |= (unsigned char)want[i] ^ (unsigned char)(i < tl ? tok[i] : 0);
        if (d != 0) {
            usleep(200000); /* slows guessing; the token has at least 16 characters */
            return cm_resp_error(resp, 401, "wrong token");
        }
    }
    char cookie[160];
    snprintf(cookie, sizeof cookie, "oxbow_session=%s; Path=/; HttpOnly; SameSite=Strict",
             cm->ops->session);
    resp->set_cookie = ox_xstrdup(cookie);
    return cm_resp_ok(resp, json_pack("{s:b}", "authRequired", want != NULL));
}

int cm_h_console_logout(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    (void)cm;
    (void)req;
    resp->set_cookie = ox_xstrdup("oxbow_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
    return cm_resp_ok(resp, NULL);
}

int cm_h_alert_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    (void)req;
    struct cm_ops *o = cm->ops;
    json_t *arr = json_array();
    pthread_mutex_lock(&o->mu);
    for (int i = 0; i < o->alerts.n; i++) {
        struct cm_alert *a = o->alerts.v[i];
        json_array_append_new(arr, json_pack("{s:s,s:s,s:s,s:s,s:I}", "alert", a->alert, "subject",
                                             a->subject, "severity", a->severity, "message",
                                             a->message, "since", (json_int_t)a->since_ms));
    }
    pthread_mutex_unlock(&o->mu);
    json_t *out = json_object();
    json_object_set_new(out, "alerts", arr);
    return cm_resp_ok(resp, out);
}

static int crawler_name(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp,
                        const char **name)
{
    ox_errbuf eb;
    *name = cm_req_param(req, "crawler");
    if (*name == NULL || **name == '\0')
        return cm_resp_error(resp, 400, "missing parameter 'crawler'"), -1;
    if (ox_cm_name_parse(*name, NULL, &eb) != 0)
        return cm_resp_error(resp, 400, "%s", eb.msg), -1;
    pthread_rwlock_rdlock(&cm->lock);
    int known = cm_crawler_get(cm, *name) != NULL;
    pthread_rwlock_unlock(&cm->lock);
    if (!known)
        return cm_resp_error(resp, 404, "unknown crawler '%s'", *name), -1;
    return 0;
}

int cm_h_crawler_history(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    const char *name;
    if (crawler_name(cm, req, resp, &name) != 0)
        return 0;
    struct cm_ops *o = cm->ops;
    json_t *t = json_array(), *rps = json_array(), *delay = json_array(), *rs = json_array();
    pthread_mutex_lock(&o->mu);
    int pos;
    if (cm_vec_find(&o->hist, name, &pos)) {
        struct cm_hist *h = o->hist.v[pos];
        for (int k = h->n - 1; k >= 0; k--) {
            int idx = ((h->head - 1 - k) % h->cap + h->cap) % h->cap;
            json_array_append_new(t, json_integer(h->t[idx]));
            json_array_append_new(rps, json_real(h->rps[idx]));
            json_array_append_new(delay, json_real(h->delay[idx]));
            json_array_append_new(rs, json_integer(h->restarts[idx]));
        }
    }
    json_int_t interval = (json_int_t)o->hist_interval_ms;
    pthread_mutex_unlock(&o->mu);
    /* The extra detail fields the console shows (crawler/detail keeps the
     * seed's shape; these live here). */
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_crawler *c = cm_crawler_get(cm, name);
    json_t *extra = json_object();
    if (c != NULL) {
        json_object_set_new(extra, "topic", json_string(c->topic));
        json_object_set_new(extra, "host", json_string(c->host_id));
        json_object_set_new(extra, "type", json_string(c->type));
        json_object_set_new(extra, "state", json_string(c->state));
        json_object_set_new(extra, "desired",
                            json_string(c->desired == CM_RUN    ? "running"
                                        : c->desired == CM_STOP ? "stopped"
                                                                : "destroy"));
        json_object_set_new(extra, "restarts", json_integer(c->restarts));
        json_object_set_new(extra, "lastCrash",
                            c->last_crash ? json_string(c->last_crash) : json_null());
        json_object_set_new(extra, "lastCrashMs", json_integer(c->last_crash_ms));
        json_object_set_new(extra, "createdMs", json_integer(c->created_ms));
        json_t *st = c->status_json && *c->status_json ? json_loads(c->status_json, 0, NULL) : NULL;
        json_object_set_new(extra, "storeStatus", st ? st : json_null());
    }
    pthread_rwlock_unlock(&cm->lock);
    json_t *out =
        json_pack("{s:s,s:I,s:o,s:o,s:o,s:o,s:o}", "crawler", name, "intervalMs", interval, "t", t,
                  "rps", rps, "delay", delay, "restarts", rs, "info", extra);
    return cm_resp_ok(resp, out);
}

/* JSON needs UTF-8: bytes that do not decode become '?'. */
static json_t *text_json(char *s, size_t n)
{
    json_t *j = json_stringn(s, n);
    if (j != NULL)
        return j;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80 || s[i] == '\0')
            s[i] = '?';
    return json_stringn(s, n);
}

/* Short: the console waits on it, and a host that is down must not hold a
 * request thread long. */
#define CM_REMOTE_LOG_TIMEOUT_MS 3000

/* The tail of a store's log from the supervisor of its host (GET /v1/log
 * on its status port, with the token it sent in its heartbeat), with a
 * short timeout. Returns a malloc'd buffer or NULL with the reason in why. */
static char *remote_tail(struct ox_cm *cm, const char *name, const char *which, long lines,
                         size_t *len, char *why, size_t whylen)
{
    /* The name passed ox_cm_name_parse: URL-safe characters only. */
    char url[OX_CM_NAME_MAX + 128], token[65] = "";
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_crawler *c = cm_crawler_get(cm, name);
    struct cm_host *h = c ? cm_host_get(cm, c->host_id) : NULL;
    char host[32];
    snprintf(host, sizeof host, "%s", c ? c->host_id : "?");
    if (h != NULL && h->log_token[0] != '\0') {
        snprintf(url, sizeof url, "http://%s:%d/v1/log?store=%s&file=%s&lines=%ld", h->status_ip,
                 h->port, name, which, lines);
        memcpy(token, h->log_token, sizeof token);
    }
    if (token[0] == '\0')
        snprintf(why, whylen, "its host %s has not reported where to read logs", host);
    pthread_rwlock_unlock(&cm->lock);
    if (token[0] == '\0')
        return NULL;
    ox_errbuf eb;
    char *body = NULL;
    void *curl = NULL;
    if (ox_curl_load(&eb) != 0) {
        memset(token, 0, sizeof token);
        snprintf(why, whylen, "%s", eb.msg);
        return NULL;
    }
    int code = OX_ENOMEM;
    if ((curl = curl_easy_init()) != NULL) {
        code = ox_http_request(curl, url, token, NULL, CM_REMOTE_LOG_TIMEOUT_MS, &body);
        curl_easy_cleanup(curl);
    }
    memset(token, 0, sizeof token);
    if (code == 200 && body != NULL) {
        *len = strlen(body);
        return body;
    }
    free(body);
    if (code == 404)
        snprintf(why, whylen, "its supervisor (host %s) has no such log", host);
    else if (code == 401)
        snprintf(why, whylen,
                 "its supervisor (host %s) refused the CM's log token (restarted? its next "
                 "heartbeat brings the new one)",
                 host);
    else if (code < 0)
        snprintf(why, whylen, "its supervisor (host %s) did not answer on its status port", host);
    else
        snprintf(why, whylen, "its supervisor (host %s) answered HTTP %d", host, code);
    return NULL;
}

int cm_h_crawler_log(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    const char *name;
    if (crawler_name(cm, req, resp, &name) != 0)
        return 0;
    const char *ls = cm_req_param(req, "lines");
    const char *which = cm_req_param(req, "file");
    long lines = 200;
    if (ls != NULL) {
        char *end;
        lines = strtol(ls, &end, 10);
        if (*ls == '\0' || *end != '\0' || lines < 1 || lines > 10000)
            return cm_resp_error(resp, 400, "lines must be 1-10000");
    }
    if (which == NULL || *which == '\0')
        which = "store";
    if (strcmp(which, "store") != 0 && strcmp(which, "console") != 0)
        return cm_resp_error(resp, 400, "file must be store or console");
    /* The store's directory under the in-process supervisor's data
     * directory; the name was validated above (no '/' and no "..") before it
     * becomes a path. */
    char def[1200], path[PATH_MAX + 1500];
    snprintf(def, sizeof def, "%s/supervisor", cm->cfg.data_dir);
    const char *dir = cm->cfg.props ? ox_props_get_str(cm->cfg.props, "supervisor.dir", def) : def;
    /* store.log is in the store's data directory, console.log (its stdout
     * and stderr, kept by the supervisor) beside it (src/supervisor/sv_store.c). */
    snprintf(path, sizeof path, "%s/stores/%s/%s%s.log", dir, name,
             strcmp(which, "store") == 0 ? "data/" : "", which);
    size_t len = 0;
    char *text = cm->sv ? ox_file_tail(path, (size_t)lines * 400 + 4096, &len) : NULL;
    if (text == NULL) {
        /* Any other host: its supervisor serves the tail on its status port. */
        char why[640] = "";
        text = remote_tail(cm, name, which, lines, &len, why, sizeof why);
        if (text == NULL)
            return cm_resp_error(resp, 404, "no %s.log for '%s': %s", which, name, why);
    }
    /* Keep the last `lines` lines (and never half a line at the start). */
    size_t start = 0;
    long seen = 0;
    for (size_t i = len; i > 0; i--) {
        if (text[i - 1] == '\n' && i != len && ++seen == lines) {
            start = i;
            break;
        }
    }
    json_t *out = json_object();
    json_object_set_new(out, "crawler", json_string(name));
    json_object_set_new(out, "file", json_string(which));
    json_object_set_new(out, "log", text_json(text + start, len - start));
    free(text);
    return cm_resp_ok(resp, out);
}

/* The word the console shows for a status: Running, Stopped or Exception
 * (the OMS console's three), from the CM's view of the store. */
static const char *status_word(const struct cm_crawler *c, int status)
{
    if (status == 0 && strcmp(c->state, "running") == 0)
        return "Running";
    if (c->desired == CM_STOP && status == CM_ST_STOPPED)
        return "Stopped";
    if (status == CM_ST_STARTING)
        return "Starting";
    return "Exception";
}

static json_int_t checkpoint_ts(const struct cm_crawler *c, size_t which)
{
    json_t *cp = c->checkpoints ? json_array_get(c->checkpoints, which) : NULL;
    json_t *ts = cp ? json_object_get(cp, "timestamp") : NULL;
    return json_is_integer(ts) ? json_integer_value(ts) : 0;
}

/* GET /console/stores: one row per store with the Stores page's columns, so
 * that the page needs one request per refresh. */
int cm_h_console_stores(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    (void)req;
    json_t *arr = json_array();
    char loc[16];
    snprintf(loc, sizeof loc, "%d", cm->cfg.location);
    pthread_rwlock_rdlock(&cm->lock);
    for (int i = 0; i < cm->crawlers.n; i++) {
        struct cm_crawler *c = cm->crawlers.v[i];
        const char *err = "";
        int status = cm_crawler_status(cm, c, &err);
        int live = status == 0 && strcmp(c->state, "running") == 0;
        json_t *o = json_object();
        json_object_set_new(o, "name", json_string(c->name));
        json_object_set_new(o, "topic", json_string(c->topic));
        json_object_set_new(o, "location", json_string(loc));
        json_object_set_new(o, "type", json_string(c->type));
        json_object_set_new(o, "host", json_string(c->host_id));
        json_object_set_new(o, "port", json_integer(c->port));
        json_object_set_new(o, "status", json_integer(status));
        json_object_set_new(o, "statusText", json_string(status_word(c, status)));
        json_object_set_new(o, "errMsg", json_string(err ? err : ""));
        json_object_set_new(
            o, "rps", json_real(live ? cm_ops_status_num(c->status_json, "recordsPerSec") : 0));
        json_object_set_new(o, "delay",
                            json_real(live ? cm_ops_status_num(c->status_json, "delay") : 0));
        json_object_set_new(
            o, "subscribers",
            json_integer(live ? (json_int_t)cm_ops_status_num(c->status_json, "subscribers") : 0));
        json_object_set_new(o, "startTimestamp", json_integer(checkpoint_ts(c, 0)));
        json_object_set_new(o, "currentTimestamp", json_integer(checkpoint_ts(c, 1)));
        json_object_set_new(o, "restarts", json_integer(c->restarts));
        json_object_set_new(o, "desired",
                            json_string(c->desired == CM_RUN    ? "running"
                                        : c->desired == CM_STOP ? "stopped"
                                                                : "destroy"));
        json_array_append_new(arr, o);
    }
    json_t *out = json_object();
    json_object_set_new(out, "stores", arr);
    json_object_set_new(out, "active", json_boolean(cm_active(cm)));
    pthread_rwlock_unlock(&cm->lock);
    json_object_set_new(out, "authRequired", json_boolean(cm->cfg.auth_token != NULL));
    return cm_resp_ok(resp, out);
}

void cm_ops_audit(struct ox_cm *cm, struct MHD_Connection *con, const struct cm_route *route,
                  const char *crawler, const char *topic, unsigned code)
{
    if (route->supervisor_auth)
        return;
    char remote[64] = "?";
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ci->client_addr;
        char ip[INET_ADDRSTRLEN] = "?";
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
        snprintf(remote, sizeof remote, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
    }
    char at[24], res[16], target[300];
    snprintf(at, sizeof at, "%" PRId64, cm_wall_ms());
    snprintf(res, sizeof res, "%u", code);
    /* Names only; never a password or token from the request. */
    snprintf(target, sizeof target, "%s", crawler ? crawler : topic ? topic : "");
    if (!cm_text_ok(target, sizeof target - 1))
        snprintf(target, sizeof target, "(invalid)");
    const char *p[5] = {at, remote, route->path, target, res};
    ox_errbuf eb;
    cm_db_exec(cm, OX_MDB_AUDIT_INSERT, 5, p, NULL, NULL, &eb);
}

static int audit_row(void *arg, int n, const char *const *v)
{
    if (n < 5)
        return 0;
    json_array_append_new(arg, json_pack("{s:I,s:s,s:s,s:s,s:i}", "at",
                                         (json_int_t)strtoll(v[0] ? v[0] : "0", NULL, 10), "remote",
                                         v[1] ? v[1] : "", "action", v[2] ? v[2] : "", "target",
                                         v[3] ? v[3] : "", "result", v[4] ? atoi(v[4]) : 0));
    return 0;
}

/* GET /audit/list[?limit=N]: the newest state-changing calls first. */
int cm_h_audit_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    const char *ls = cm_req_param(req, "limit");
    long limit = 200;
    if (ls != NULL) {
        char *end;
        limit = strtol(ls, &end, 10);
        if (*ls == '\0' || *end != '\0' || limit < 1 || limit > 10000)
            return cm_resp_error(resp, 400, "limit must be 1-10000");
    }
    char lim[16];
    snprintf(lim, sizeof lim, "%ld", limit);
    const char *p[1] = {lim};
    json_t *arr = json_array();
    ox_errbuf eb;
    if (cm_db_exec(cm, OX_MDB_AUDIT_RECENT, 1, p, audit_row, arr, &eb) != 0) {
        json_decref(arr);
        return cm_resp_error(resp, 503, "metaDB read failed: %s", eb.msg);
    }
    json_t *out = json_object();
    json_object_set_new(out, "audit", arr);
    return cm_resp_ok(resp, out);
}
