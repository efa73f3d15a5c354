/*
 * cm_http.c - the CM's HTTP server on libmicrohttpd: per-request state, body
 * size limits, authentication, routing through the table in cm_api.c and JSON
 * responses.
 *
 * Threading, by cm.http.threads: 0 (the default) gives every connection its
 * own thread (MHD_USE_THREAD_PER_CONNECTION) and handlers run inline; this had
 * the best throughput and tail latency on crawler/detail in bench_cm.sh. N > 0
 * uses a pool of N epoll threads; then POST handlers, which may block (they
 * write the metaDB, wait for a supervisor to apply a change, or hold a
 * supervisor's long poll), run on their own short-lived thread while their
 * connection is suspended (MHD_suspend_connection). GET handlers never block:
 * they read the in-memory registry.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_api.h"
#include "cm_internal.h"
#include "cm_params.h"
#include "ox_alloc.h"
#include "ox_buf.h"

struct cm_req {
    char *uri; /* raw request target including the query string */
    struct ox_cm *cm;
    struct MHD_Connection *con;
    atomic_int async; /* 0 none, 1 running on a worker, 2 response ready */
    struct cm_resp resp;
    const struct cm_route *route;
    int started;
    int too_large;
    int no_route; /* 404/405 decided on the first call */
    ox_buf body;
    ox_cm_params params;
};

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

static void completed(void *cls, struct MHD_Connection *con, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct cm_req *r = *con_cls;
    if (r == NULL)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(con, MHD_CONNECTION_INFO_HTTP_STATUS);
    cm_ops_count_request(r->cm, r->route, ci ? ci->http_status : 0);
    if (r->route != NULL && strcmp(r->route->method, "POST") == 0 && r->started)
        cm_ops_audit(r->cm, con, r->route, cm_req_param(r, "crawler"), cm_req_param(r, "topic"),
                     ci ? ci->http_status : 0);
    free(r->uri);
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

static int authorised(struct ox_cm *cm, struct MHD_Connection *con, const struct cm_route *rt)
{
    const char *need = rt && rt->supervisor_auth
                           ? (cm->cfg.auth_token ? cm->cfg.auth_token : cm->sv_token)
                           : cm->cfg.auth_token;
    if (need == NULL || (rt && cm_ops_route_public(rt)))
        return 1;
    if (rt && !rt->supervisor_auth &&
        cm_ops_cookie_ok(cm, MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Cookie")))
        return 1;
    const char *h = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
        return 0;
    return token_eq(h + 7, need);
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
    r->route->fn(cm, r, &r->resp);
    if (r->resp.body == NULL && r->resp.raw == NULL)
        cm_resp_error(&r->resp, 500, "internal error: handler gave no response");
    atomic_store(&r->async, 2);
    MHD_resume_connection(con);
    atomic_fetch_sub(&cm->workers, 1);
    return NULL;
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
    if (r->no_route == 404) {
        cm_resp_error(&resp, 404, "no such endpoint: %s %.200s", method, url);
        return send_json(con, &resp, NULL);
    }
    if (r->no_route == 405) {
        cm_route_allow(url, allow, sizeof allow);
        cm_resp_error(&resp, 405, "method %s not allowed for %.200s (use %s)", method, url, allow);
        return send_json(con, &resp, allow);
    }
    if (!authorised(cm, con, r->route)) {
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
    if (cm->cfg.http_threads > 0 && strcmp(r->route->method, "POST") == 0) {
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

int cm_http_start(struct ox_cm *cm, ox_errbuf *eb)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cm->cfg.port);
    if (inet_pton(AF_INET, cm->cfg.listen, &sa.sin_addr) != 1)
        return ox_errf(eb, OX_ECONFIG, "cm.listen: \"%s\" is not an IPv4 address", cm->cfg.listen);
    /* cm.http.threads=0: one thread per connection, handlers run inline. */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG;
    if (cm->cfg.http_threads > 0)
        flags |= MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME;
    else
        flags |= MHD_USE_THREAD_PER_CONNECTION;
    /* The pool size option only when there is a pool (MHD warns about 0). */
    struct MHD_OptionItem pool[] = {
        {MHD_OPTION_THREAD_POOL_SIZE, cm->cfg.http_threads, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    if (cm->cfg.http_threads < 2)
        pool[0].option = MHD_OPTION_END;
    cm->mhd = MHD_start_daemon(
        flags, (uint16_t)cm->cfg.port, NULL, NULL, handle, cm, MHD_OPTION_SOCK_ADDR, &sa,
        MHD_OPTION_ARRAY, pool, MHD_OPTION_URI_LOG_CALLBACK, uri_logger, cm,
        MHD_OPTION_NOTIFY_COMPLETED, completed, cm, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)2000, MHD_OPTION_LISTENING_ADDRESS_REUSE,
        (unsigned)1, MHD_OPTION_END);
    if (cm->mhd == NULL)
        return ox_errf(eb, OX_EIO, "cannot listen on %s:%d (address in use?)", cm->cfg.listen,
                       cm->cfg.port);
    return 0;
}

void cm_http_stop(struct ox_cm *cm)
{
    /* Blocking handlers see `stopping` and return; wait for them so that
     * none resumes a connection of a stopped daemon. */
    while (atomic_load(&cm->workers) > 0)
        usleep(10000);
    if (cm->mhd != NULL)
        MHD_stop_daemon(cm->mhd);
    cm->mhd = NULL;
}
