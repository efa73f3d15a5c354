/*
 * ox_store_http.c - the store's HTTP/1.1 server (libmicrohttpd).
 *
 * Routes (a table, not a switch): GET /v1/status and GET /v1/subscribe
 * (docs/protocol.md), GET /metrics (docs/operations.md). MHD runs one thread per connection, so a
 * subscriber whose socket is full blocks only its own thread: capture and the other subscribers
 * never wait for it. When the store listens on a non-loopback address, every request must carry
 * "Authorization: Bearer <token>".
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <microhttpd.h>

#include "ox_buf.h"
#include "ox_json_out.h"
#include "ox_metrics.h"
#include "ox_store_priv.h"

int ox_store_http_reply(struct MHD_Connection *conn, unsigned code, const char *body, size_t len)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", "application/json");
    MHD_add_response_header(r, "Cache-Control", "no-store");
    int ret = MHD_queue_response(conn, code, r);
    MHD_destroy_response(r);
    return ret;
}

int ox_store_http_error(struct MHD_Connection *conn, unsigned code, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ox_buf b = OX_BUF_INIT;
    OX_JSON_LIT(&b, "{\"isSuccess\":false,\"errMsg\":");
    ox_json_str(&b, text, strlen(text));
    OX_JSON_LIT(&b, "}\n");
    int ret = ox_store_http_reply(conn, code, (const char *)b.data, b.len);
    ox_buf_free(&b);
    return ret;
}

static int handle_status(struct ox_store *st, struct MHD_Connection *conn)
{
    ox_buf b = OX_BUF_INIT;
    ox_store_status_json(st, &b);
    int ret = ox_store_http_reply(conn, MHD_HTTP_OK, (const char *)b.data, b.len);
    ox_buf_free(&b);
    return ret;
}

static const struct route {
    const char *path;
    int (*handle)(struct ox_store *st, struct MHD_Connection *conn);
} routes[] = {
    {"/v1/status", handle_status},
    {"/v1/subscribe", ox_store_sub_handle},
    {"/metrics", ox_store_metrics_handle},
};

/* Route names for oxbow_http_requests_total, in the table's order. */
const char *const ox_store_http_routes[] = {"/v1/status", "/v1/subscribe", "/metrics"};
const int ox_store_http_nroutes = 3;
_Static_assert(sizeof routes / sizeof routes[0] == 3, "keep ox_store_http_routes in step");

/* Counts each answered request by route and status code. req_cls points into
 * ox_store_http_routes (or at its end for any other path). */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct ox_store *st = cls;
    (void)toe;
    if (*req_cls == NULL || st->http_counts == NULL)
        return;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_HTTP_STATUS);
    int route = (int)((const char *const *)*req_cls - ox_store_http_routes);
    ox_metrics_http_count(st->http_counts, route, ci ? ci->http_status : 0);
    *req_cls = NULL;
}

/* Constant-time comparison of the presented bearer token. */
static int token_ok(const char *want, const char *header)
{
    static const char prefix[] = "Bearer ";
    if (header == NULL || strncmp(header, prefix, sizeof prefix - 1) != 0)
        return 0;
    const char *got = header + sizeof prefix - 1;
    size_t wl = strlen(want), gl = strlen(got);
    unsigned diff = wl != gl;
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)want[i] ^ (unsigned char)(i < gl ? got[i] : 0);
    return diff == 0;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload,
                                  size_t *upload_size, void **req_cls)
{
    struct ox_store *st = cls;
    /* MHD calls twice per request: first with headers only. Answer on the
     * first call for GETs (no body expected). */
    if (*req_cls == NULL) {
        *req_cls = (void *)&ox_store_http_routes[ox_metrics_http_route(st->http_counts, url)];
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
            return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0; /* discard bodies */
        return MHD_YES;
    }
    if (st->cfg->auth_token != NULL &&
        !token_ok(st->cfg->auth_token,
                  MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization")))
        return (enum MHD_Result)ox_store_http_error(conn, MHD_HTTP_UNAUTHORIZED,
                                                    "missing or wrong bearer token");
    for (size_t i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (strcmp(url, routes[i].path) != 0)
            continue;
        if (strcmp(method, "GET") != 0)
            return (enum MHD_Result)ox_store_http_error(conn, MHD_HTTP_METHOD_NOT_ALLOWED,
                                                        "%s only answers GET", routes[i].path);
        return (enum MHD_Result)routes[i].handle(st, conn);
    }
    return (enum MHD_Result)ox_store_http_error(conn, MHD_HTTP_NOT_FOUND, "no such resource %.200s",
                                                url);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct ox_store *st = cls;
    char text[512];
    vsnprintf(text, sizeof text, fmt, ap);
    size_t n = strlen(text);
    while (n > 0 && text[n - 1] == '\n')
        text[--n] = '\0';
    ox_slog_printf(st->slog, 0, "http: %s", text);
}

int ox_store_http_start(struct ox_store *st, ox_errbuf *eb)
{
    const ox_store_config *c = st->cfg;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(c->port);
    const char *addr = strcmp(c->listen, "localhost") == 0 ? "127.0.0.1" : c->listen;
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        return ox_errf(eb, OX_ECONFIG, "store.listen: \"%s\" is not an IPv4 address", c->listen);
    if (st->http_counts == NULL)
        st->http_counts = ox_metrics_http_create(ox_store_http_routes, ox_store_http_nroutes);
    st->start_ms = ox_store_now_ms();
    st->http = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        c->port, NULL, NULL, on_request, st, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_subscribers + 16,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)256,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, st, MHD_OPTION_THREAD_STACK_SIZE,
        (size_t)(256 * 1024), MHD_OPTION_NOTIFY_COMPLETED, on_completed, st, MHD_OPTION_END);
    if (st->http == NULL)
        return ox_errf(eb, OX_EIO, "cannot listen on %s:%u (address in use?)", c->listen,
                       (unsigned)c->port);
    return 0;
}

void ox_store_http_stop(struct ox_store *st)
{
    if (st->http != NULL)
        MHD_stop_daemon(st->http);
    st->http = NULL;
    ox_metrics_http_free(st->http_counts);
    st->http_counts = NULL;
}
