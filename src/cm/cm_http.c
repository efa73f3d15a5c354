/*
 * cm_http.c - the CM's HTTP server on libmicrohttpd: per-request state, body
 * size limits, authentication, routing through the table in cm_api.c and JSON
 * responses.
 *
 * Threading: a pool of cm.http.threads (default 4) threads, each with its own
 * epoll set (MHD_USE_EPOLL), so idle connections cost a descriptor and a few
 * pages, never a thread or a select() slot (FD_SETSIZE). POST handlers, which
 * may block (they write the metaDB, wait for a supervisor to apply a change,
 * or hold a supervisor's long poll), run on their own short-lived thread while
 * their connection is suspended (MHD_suspend_connection). GET handlers never
 * block: they read the in-memory registry.
 *
 * Limits, so that idle or slow clients cannot lock the API out: at most
 * cm.http.max_connections connections (bounded by the descriptor limit), at
 * most cm.http.max_connections_per_ip from one address, and a connection
 * silent for cm.http.timeout_s is closed (suspended ones, which wait for the
 * CM, are not timed out).
 *
 * Every answer is JSON in the error shape of docs/api.md. Connections are
 * accepted by the head guard (cm_guard.c), which answers a request head
 * larger than CM_GUARD_MAX_HEAD itself (414/431 in JSON) and hands the others
 * to libmicrohttpd, whose own answer to a head larger than its
 * per-connection memory is an HTML page. Every answer closes its connection
 * ("Connection: close"), so that each request passes the guard: a kept-alive
 * connection's next request would reach libmicrohttpd unchecked.
 */
#include <arpa/inet.h>
#include <sys/resource.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_api.h"
#include "cm_guard.h"
#include "cm_internal.h"
#include "cm_params.h"
#include "ox_alloc.h"
#include "ox_buf.h"
#include "ox_ratelimit.h"

/* Per-connection memory: a head the guard let through (at most
 * CM_GUARD_MAX_HEAD bytes and CM_GUARD_MAX_LINES lines), libmicrohttpd's
 * records of its headers, and the response's headers. A request body is
 * read piecewise and kept in the request's own buffer. */
#define CM_HTTP_POOL (48u << 10)
/* Descriptors kept free of connections for the metaDB, stores and logs. */
#define CM_HTTP_FD_RESERVE 256

struct cm_req {
    char *uri; /* raw request target including the query string */
    struct ox_cm *cm;
    struct MHD_Connection *con;
    atomic_int async; /* 0 none, 1 running on a worker, 2 response ready */
    struct cm_resp resp;
    const struct cm_route *route;
    int started;
    int audited; /* the audit row is written (before the answer goes out) */
    int too_large;
    int no_route; /* 400/404/405 decided on the first call */
    ox_buf body;
    ox_cm_params params;
    char sv_host[32]; /* host id of the supervisor credential, or "" */
    char *bearer;     /* supervisor routes: the presented token, checked on the worker */
};

const char *cm_req_sv_host(struct cm_req *req)
{
    return req->sv_host;
}

const char *cm_req_param(struct cm_req *req, const char *key)
{
    return ox_cm_params_get(&req->params, key);
}

const char *cm_req_path(struct cm_req *req)
{
    return req->route ? req->route->path : "";
}

const char *cm_req_body(struct cm_req *req, size_t *len)
{
    *len = req->body.len;
    if (req->body.len == 0)
        return "";
    ox_buf_putc(&req->body, 0);
    req->body.len--;
    return (const char *)req->body.data;
}

int cm_resp_error(struct cm_resp *resp, int http_status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    json_decref(resp->body);
    resp->http_status = http_status;
    resp->body = json_object();
    json_object_set_new(resp->body, "isSuccess", json_false());
    json_t *m = json_string(msg);
    json_object_set_new(resp->body, "errMsg", m ? m : json_string("(message not UTF-8)"));
    return 0;
}

int cm_resp_ok(struct cm_resp *resp, json_t *extra)
{
    json_decref(resp->body);
    resp->http_status = 200;
    resp->body = extra ? extra : json_object();
    json_object_set_new(resp->body, "isSuccess", json_true());
    return 0;
}

const struct cm_route *cm_route_find(const char *method, const char *path, int *path_known)
{
    *path_known = 0;
    for (int i = 0; i < cm_nroutes; i++) {
        if (strcmp(cm_routes[i].path, path) != 0)
            continue;
        *path_known = 1;
        if (strcmp(cm_routes[i].method, method) == 0)
            return &cm_routes[i];
    }
    return NULL;
}

void cm_route_allow(const char *path, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < cm_nroutes && n < cap; i++) {
        if (strcmp(cm_routes[i].path, path) != 0)
            continue;
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", cm_routes[i].method);
    }
}

static void *uri_logger(void *cls, const char *uri, struct MHD_Connection *con)
{
    struct cm_req *r = ox_xcalloc(1, sizeof *r);
    r->cm = cls;
    r->con = con;
    r->uri = ox_xstrdup(uri ? uri : "");
    ox_cm_params_init(&r->params);
    return r;
}

/* A state-changing call's audit row, once per request. The worker writes
 * it before the answer goes out, so that a client that reads /audit/list
 * right after its answer finds it. */
static void audit_once(struct cm_req *r, unsigned code)
{
    if (r->audited || r->route == NULL || strcmp(r->route->method, "POST") != 0 || !r->started)
        return;
    r->audited = 1;
    cm_ops_audit(r->cm, r->con, r->route, cm_req_param(r, "crawler"), cm_req_param(r, "topic"),
                 code);
}

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct cm_req *r = *con_cls;
    if (r == NULL)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_HTTP_STATUS);
    cm_ops_count_request(r->cm, r->route, ci ? ci->http_status : 0);
    /* Requests refused before a worker ran (or aborted) are audited here. */
    audit_once(r, ci ? ci->http_status : 0);
    free(r->uri);
    if (r->bearer != NULL) {
        memset(r->bearer, 0, strlen(r->bearer));
        free(r->bearer);
    }
    json_decref(r->resp.body);
    free(r->resp.raw);
    free(r->resp.set_cookie);
    ox_buf_free(&r->body);
    ox_cm_params_free(&r->params);
    free(r);
    *con_cls = NULL;
}

/* Compares without an early exit so that timing does not leak the token. */
static int token_eq(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char d = (unsigned char)(la != lb);
    for (size_t i = 0; i < la; i++)
        d |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
    return d == 0;
}

/* API routes need cm.auth.token (when set). Supervisor routes need a
 * supervisor credential, and only that: the API token is not one. Checking a
 * credential may read the metaDB, so here it is only taken; the request's
 * worker thread checks it (worker()), never a server thread. */
static int authorised(struct ox_cm *cm, struct cm_req *r, const struct cm_route *rt)
{
    const char *h = MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "Authorization");
    const char *tok = h != NULL && strncmp(h, "Bearer ", 7) == 0 ? h + 7 : NULL;
    if (rt != NULL && rt->supervisor_auth) {
        /* The host's own credential, checked by the handler (cm_cred.c). */
        if (tok == NULL || *tok == '\0')
            return 0;
        r->bearer = ox_xstrdup(tok);
        return 1;
    }
    if (cm->cfg.auth_token == NULL || (rt != NULL && cm_ops_route_public(rt)))
        return 1;
    if (cm_ops_cookie_ok(cm, MHD_lookup_connection_value(r->con, MHD_HEADER_KIND, "Cookie")))
        return 1;
    return tok != NULL && token_eq(tok, cm->cfg.auth_token);
}

static enum MHD_Result send_json(struct MHD_Connection *con, struct cm_resp *resp,
                                 const char *allow)
{
    if (resp->content_type != NULL) {
        /* Not JSON: the console's files and /metrics (cm_console.c, cm_metrics.c). */
        struct MHD_Response *r =
            resp->raw
                ? MHD_create_response_from_buffer(resp->raw_len, resp->raw, MHD_RESPMEM_MUST_FREE)
                : MHD_create_response_from_buffer(0, (char *)"", MHD_RESPMEM_PERSISTENT);
        resp->raw = NULL;
        MHD_add_response_header(r, "Content-Type", resp->content_type);
        MHD_add_response_header(r, "Cache-Control", "no-store");
        MHD_add_response_header(r, "Connection", "close"); /* see the file comment */
        MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
        MHD_add_response_header(r, "Content-Security-Policy",
                                "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'");
        enum MHD_Result ret = MHD_queue_response(con, (unsigned)resp->http_status, r);
        MHD_destroy_response(r);
        json_decref(resp->body);
        resp->body = NULL;
        return ret;
    }
    char *text = resp->raw ? resp->raw : json_dumps(resp->body, JSON_COMPACT | JSON_SORT_KEYS);
    resp->raw = NULL;
    if (text == NULL)
        text = ox_xstrdup("{\"errMsg\":\"response encoding failed\",\"isSuccess\":false}");
    size_t n = strlen(text);
    char *withnl = ox_xrealloc(text, n + 2);
    withnl[n] = '\n';
    withnl[n + 1] = '\0';
    struct MHD_Response *r = MHD_create_response_from_buffer(n + 1, withnl, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    MHD_add_response_header(r, "Connection", "close"); /* see the file comment */
    if (allow)
        MHD_add_response_header(r, "Allow", allow);
    if (resp->http_status == 401)
        MHD_add_response_header(r, "WWW-Authenticate", "Bearer");
    if (resp->set_cookie) {
        MHD_add_response_header(r, "Set-Cookie", resp->set_cookie);
        free(resp->set_cookie);
        resp->set_cookie = NULL;
    }
    enum MHD_Result ret = MHD_queue_response(con, (unsigned)resp->http_status, r);
    MHD_destroy_response(r);
    json_decref(resp->body);
    resp->body = NULL;
    return ret;
}

/* Runs a blocking handler, then hands the response back to the pool. After
 * MHD_resume_connection the request may be freed at any moment: nothing
 * touches `r` afterwards. */
static void *worker(void *arg)
{
    struct cm_req *r = arg;
    struct ox_cm *cm = r->cm;
    struct MHD_Connection *con = r->con;
    if (r->route->supervisor_auth &&
        (r->bearer == NULL || !cm_cred_auth(cm, r->bearer, r->sv_host)))
        cm_resp_error(&r->resp, 401, "missing or wrong supervisor credential");
    else
        r->route->fn(cm, r, &r->resp);
    if (r->resp.body == NULL && r->resp.raw == NULL)
        cm_resp_error(&r->resp, 500, "internal error: handler gave no response");
    audit_once(r, (unsigned)r->resp.http_status);
    atomic_store(&r->async, 2);
    MHD_resume_connection(con);
    atomic_fetch_sub(&cm->workers, 1);
    return NULL;
}

/* libmicrohttpd finds the request line's end and its last space by length,
 * so a raw NUL byte in the target survives into `url` and cuts it there
 * ("GET /a\0b" is served as /a). `url` and `version` point into the request
 * line, which sits unchanged in the connection's buffer (uri_logger copied
 * the target before libmicrohttpd split and decoded it in place): the target
 * is `version - url - 1` bytes long, and a NUL in it makes the copy shorter. */
static int target_has_nul(const char *url, const char *version, const char *raw)
{
    uintptr_t u = (uintptr_t)url, v = (uintptr_t)version;
    size_t n = strlen(raw);
    return v > u && v - u <= CM_HTTP_POOL && v - u != n + 1;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *con, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_size, void **con_cls)
{
    struct ox_cm *cm = cls;
    struct cm_req *r = *con_cls;
    struct cm_resp resp = {.http_status = 200};
    if (r == NULL)
        return MHD_NO;
    if (!r->started) {
        r->started = 1;
        int known = 0;
        r->route = cm_route_find(method, url, &known);
        r->no_route = r->route == NULL ? (known ? 405 : 404) : 0;
        size_t plen = strcspn(r->uri, "?");
        if (memmem(r->uri, plen, "%00", 3) != NULL || target_has_nul(url, version, r->uri))
            r->no_route = 400; /* libmicrohttpd would cut the path there */
        return MHD_YES;
    }
    if (*upload_size > 0) {
        size_t limit =
            r->route && r->route->max_body ? r->route->max_body : (size_t)cm->cfg.max_body;
        if (r->body.len + *upload_size > limit || r->no_route)
            r->too_large = !r->no_route;
        else
            ox_buf_put(&r->body, upload_data, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (atomic_load(&r->async) == 2)
        return send_json(con, &r->resp, NULL);
    char allow[64] = "";
    if (r->no_route == 400) {
        cm_resp_error(&resp, 400, "the path contains a NUL byte (raw or encoded as %%00)");
        return send_json(con, &resp, NULL);
    }
    if (r->no_route == 404) {
        cm_resp_error(&resp, 404, "no such endpoint: %s %.200s", method, url);
        return send_json(con, &resp, NULL);
    }
    if (r->no_route == 405) {
        cm_route_allow(url, allow, sizeof allow);
        cm_resp_error(&resp, 405, "method %s not allowed for %.200s (use %s)", method, url, allow);
        return send_json(con, &resp, allow);
    }
    if (!authorised(cm, r, r->route)) {
        cm_resp_error(&resp, 401, "missing or wrong bearer token");
        return send_json(con, &resp, NULL);
    }
    if (r->too_large) {
        cm_resp_error(&resp, 413, "request body larger than %zu bytes",
                      r->route->max_body ? r->route->max_body : (size_t)cm->cfg.max_body);
        return send_json(con, &resp, NULL);
    }
    ox_errbuf eb;
    const char *q = strchr(r->uri, '?');
    if (q != NULL && ox_cm_params_parse(&r->params, q + 1, strlen(q + 1), &eb) != 0) {
        cm_resp_error(&resp, 400, "query string: %s", eb.msg);
        return send_json(con, &resp, NULL);
    }
    if (r->route->params != NULL) {
        const char *ct = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Content-Type");
        if (ct != NULL && r->body.len > 0 &&
            strncmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
            cm_resp_error(&resp, 415, "request body must be application/x-www-form-urlencoded");
            return send_json(con, &resp, NULL);
        }
        if (ox_cm_params_parse(&r->params, (const char *)r->body.data, r->body.len, &eb) != 0) {
            cm_resp_error(&resp, 400, "request body: %s", eb.msg);
            return send_json(con, &resp, NULL);
        }
        if (ox_cm_params_check(&r->params, r->route->params, &eb) != 0) {
            cm_resp_error(&resp, 400, "%s", eb.msg);
            return send_json(con, &resp, NULL);
        }
    }
    if (strcmp(r->route->method, "POST") == 0 || r->route->supervisor_auth) {
        r->resp.http_status = 200;
        atomic_store(&r->async, 1);
        atomic_fetch_add(&cm->workers, 1);
        MHD_suspend_connection(con);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        int rc = pthread_create(&t, &attr, worker, r);
        pthread_attr_destroy(&attr);
        if (rc != 0) {
            atomic_fetch_sub(&cm->workers, 1);
            cm_resp_error(&r->resp, 503, "cannot start a request thread");
            atomic_store(&r->async, 2);
            MHD_resume_connection(con);
        }
        return MHD_YES;
    }
    r->route->fn(cm, r, &resp);
    if (resp.body == NULL && resp.raw == NULL)
        cm_resp_error(&resp, 500, "internal error: handler gave no response");
    return send_json(con, &resp, NULL);
}

/* libmicrohttpd's own messages (a malformed request, a refused connection):
 * a client triggers them at will, so at most a few a second reach stderr. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct ox_cm *cm = cls;
    uint64_t suppressed = 0;
    if (!ox_ratelimit_allow(&cm->http_log_rl, &suppressed))
        return;
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
        text[--n] = '\0';
    if (suppressed > 0)
        fprintf(stderr, "oxbow cm: http: %s (and %llu similar messages suppressed)\n", text,
                (unsigned long long)suppressed);
    else
        fprintf(stderr, "oxbow cm: http: %s\n", text);
}

int cm_http_start(struct ox_cm *cm, ox_errbuf *eb)
{
    ox_ratelimit_init(&cm->http_log_rl, 5);
    cm->http_log_rl_init = 1;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cm->cfg.port);
    if (inet_pton(AF_INET, cm->cfg.listen, &sa.sin_addr) != 1)
        return ox_errf(eb, OX_ECONFIG, "cm.listen: \"%s\" is not an IPv4 address", cm->cfg.listen);
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_NO_LISTEN_SOCKET;
    unsigned threads = cm->cfg.http_threads > 0 ? (unsigned)cm->cfg.http_threads : 4;
    /* The pool size option only when there is a pool (MHD warns about 1). */
    struct MHD_OptionItem pool[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (threads < 2)
        pool[0].option = MHD_OPTION_END;
    /* No more connections than descriptors to hold them (ox_cm_start's
     * caller raises the soft limit; see cmd_cm.c). */
    unsigned limit = (unsigned)cm->cfg.http_max_connections;
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t room = rl.rlim_cur > CM_HTTP_FD_RESERVE + 64 ? rl.rlim_cur - CM_HTTP_FD_RESERVE : 64;
        if (room < limit)
            limit = (unsigned)room;
    }
    /* The guard (cm_guard.c) listens and hands complete heads over. */
    cm->mhd =
        MHD_start_daemon(flags, 0, NULL, NULL, handle, cm, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, cm,
                         MHD_OPTION_ARRAY, pool, MHD_OPTION_URI_LOG_CALLBACK, uri_logger, cm,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, cm, MHD_OPTION_CONNECTION_TIMEOUT,
                         (unsigned)cm->cfg.http_timeout_s, MHD_OPTION_CONNECTION_LIMIT, limit,
                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)cm->cfg.http_max_per_ip,
                         MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CM_HTTP_POOL, MHD_OPTION_END);
    if (cm->mhd == NULL)
        return ox_errf(eb, OX_EIO, "cannot start the HTTP server");
    return cm_guard_start(cm->mhd, &sa, limit, (unsigned)cm->cfg.http_max_per_ip,
                          (unsigned)cm->cfg.http_timeout_s, &cm->guard, eb);
}

uint16_t cm_http_port(const struct ox_cm *cm)
{
    return cm->guard ? cm_guard_port(cm->guard) : 0;
}

void cm_http_stop(struct ox_cm *cm)
{
    /* Blocking handlers see `stopping` and return; wait for them so that
     * none resumes a connection of a stopped daemon. */
    while (atomic_load(&cm->workers) > 0)
        usleep(10000);
    cm_guard_stop(cm->guard);
    cm->guard = NULL;
    if (cm->mhd != NULL)
        MHD_stop_daemon(cm->mhd);
    cm->mhd = NULL;
    if (cm->http_log_rl_init)
        ox_ratelimit_destroy(&cm->http_log_rl);
    cm->http_log_rl_init = 0;
}
