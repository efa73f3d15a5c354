/*
 * ox_store_http.c - the store's HTTP/1.1 server (libmicrohttpd).
 *
 * Routes (a table, not a switch): GET /v1/status and GET /v1/subscribe
 * (docs/protocol.md), GET /metrics (docs/operations.md). MHD runs one thread per connection, so a
 * subscriber whose socket is full blocks only its own thread: capture and the other subscribers
 * never wait for it. When the store listens on a non-loopback address, every request must carry
 * "Authorization: Bearer <token>".
 *
 * Connection guard (silent or slow clients must not lock subscribers and
 * the status endpoint out; authentication only happens after the headers):
 * - a connection must complete each request within
 *   store.http.request_timeout_ms of connecting (or of its previous
 *   response): the main thread's ox_store_http_reap shuts down the socket of
 *   one that did not. A streaming subscriber has no deadline;
 * - at most store.max_connections_per_ip connections from one other host's
 *   address, and max_subscribers + 16 in all (the accept policy refuses
 *   more);
 * - RESERVED_SLOTS more, only for this host (127.0.0.1 or the listen
 *   address, which has no per-address limit): the supervisor's status polls
 *   get in while other hosts hold every normal slot;
 * - when a connection within those limits finds every slot taken, the oldest
 *   connection that has not completed its request is shut down to make room
 *   (evict_oldest): a flood of silent sockets from this host (which the
 *   per-address limit does not cover) or from many hosts then cannot keep
 *   /v1/status or a subscriber out until the reaper's deadline. Streaming
 *   subscribers and requests being answered are never evicted. Shut-down
 *   sockets take up to EVICT_SLACK more of libmicrohttpd's slots until their
 *   threads close them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "ox_alloc.h"
#include "ox_buf.h"
#include "ox_json_out.h"
#include "ox_metrics.h"
#include "ox_store_priv.h"

#define RESERVED_SLOTS 4
#define EVICT_SLACK    64
#define REAP_LOG_MS    10000

/* One open TCP connection. */
struct conn {
    struct conn *prev, *next;
    int fd;
    uint32_t peer; /* IPv4, host order */
    uint16_t peer_port;
    int64_t deadline_ms; /* monotonic; 0 = none (request complete, streaming) */
    int64_t opened_ms;   /* monotonic; the order of eviction */
    int shut;            /* the reaper shut it down */
    int nul;             /* the current request has a NUL, raw or encoded (%00) */
    const char *target;  /* the current request's raw target (MHD's buffer) */
    size_t target_len;   /* its length up to a NUL */
};

struct ox_store_conns {
    pthread_mutex_t mu;
    struct conn *head;
    int total;
    uint32_t listen_ip; /* host order; 0 for 0.0.0.0 */
    int64_t reaped;     /* since the last log line */
    int64_t refused;
    int64_t evicted;
    int64_t last_log_ms;
};

static int is_local(const struct ox_store_conns *cs, uint32_t ip)
{
    return ip == INADDR_LOOPBACK || (cs->listen_ip != 0 && ip == cs->listen_ip);
}

/* Shuts down c's socket if it is still the connection the entry was made
 * for (MHD reports a close before closing, so the descriptor is open while
 * the entry exists; the peer check guards against a reused number all the
 * same). Called with cs->mu held. Returns 1 if it was shut down. */
static int conn_shut(struct conn *c)
{
    struct sockaddr_in in;
    socklen_t len = sizeof in;
    int done = 0;
    if (c->fd >= 0 && getpeername(c->fd, (struct sockaddr *)&in, &len) == 0 &&
        in.sin_family == AF_INET && ntohl(in.sin_addr.s_addr) == c->peer &&
        ntohs(in.sin_port) == c->peer_port) {
        shutdown(c->fd, SHUT_RDWR);
        done = 1;
    }
    c->shut = 1;
    return done;
}

/* Shuts down the oldest connection still waiting for a complete request.
 * Called with cs->mu held; returns 1 if one was found. */
static int evict_oldest(struct ox_store_conns *cs)
{
    struct conn *old = NULL;
    for (struct conn *c = cs->head; c != NULL; c = c->next)
        if (!c->shut && c->deadline_ms != 0 && c->fd >= 0 &&
            (old == NULL || c->opened_ms < old->opened_ms))
            old = c;
    if (old == NULL)
        return 0;
    conn_shut(old);
    cs->evicted++;
    return 1;
}

static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t len)
{
    struct ox_store *st = cls;
    struct ox_store_conns *cs = st->conns;
    if (addr == NULL || addr->sa_family != AF_INET || len < (socklen_t)sizeof(struct sockaddr_in))
        return MHD_NO;
    uint32_t ip = ntohl(((const struct sockaddr_in *)addr)->sin_addr.s_addr);
    int normal = st->cfg->max_subscribers + 16;
    pthread_mutex_lock(&cs->mu);
    int from_peer = 0, live = 0;
    for (const struct conn *c = cs->head; c != NULL; c = c->next) {
        from_peer += c->peer == ip && !c->shut;
        live += !c->shut;
    }
    int local = is_local(cs, ip);
    int cap = local ? normal + RESERVED_SLOTS : normal;
    int ok = local || from_peer < st->cfg->max_per_ip;
    if (ok && live >= cap)
        ok = cs->total < normal + RESERVED_SLOTS + EVICT_SLACK && evict_oldest(cs);
    if (!ok)
        cs->refused++;
    pthread_mutex_unlock(&cs->mu);
    return ok ? MHD_YES : MHD_NO;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct ox_store *st = cls;
    struct ox_store_conns *cs = st->conns;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        struct conn *c = ox_xcalloc(1, sizeof *c);
        const union MHD_ConnectionInfo *fi =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        const union MHD_ConnectionInfo *ai =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        c->fd = fi != NULL ? fi->connect_fd : -1;
        if (ai != NULL && ai->client_addr != NULL && ai->client_addr->sa_family == AF_INET) {
            const struct sockaddr_in *in = (const struct sockaddr_in *)ai->client_addr;
            c->peer = ntohl(in->sin_addr.s_addr);
            c->peer_port = ntohs(in->sin_port);
        }
        c->opened_ms = ox_time_mono_ms();
        c->deadline_ms = c->opened_ms + st->cfg->request_timeout_ms;
        pthread_mutex_lock(&cs->mu);
        c->next = cs->head;
        if (cs->head != NULL)
            cs->head->prev = c;
        cs->head = c;
        cs->total++;
        pthread_mutex_unlock(&cs->mu);
        *socket_context = c;
        return;
    }
    struct conn *c = *socket_context;
    if (c == NULL)
        return;
    pthread_mutex_lock(&cs->mu);
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        cs->head = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    cs->total--;
    pthread_mutex_unlock(&cs->mu);
    free(c);
    *socket_context = NULL;
}

static struct conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *i =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return i != NULL ? i->socket_context : NULL;
}

/* deadline: 0 clears it, else the connection has this long from now. */
static void conn_deadline(struct ox_store *st, struct MHD_Connection *conn, int64_t ms)
{
    struct conn *c = conn_of(conn);
    if (c == NULL)
        return;
    pthread_mutex_lock(&st->conns->mu);
    c->deadline_ms = ms ? ox_time_mono_ms() + ms : 0;
    pthread_mutex_unlock(&st->conns->mu);
}

static void count_request(struct ox_store *st, struct MHD_Connection *conn, void **req_cls);

/* A response went out: a kept-alive connection has the full time again for
 * its next request. */
static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct ox_store *st = cls;
    (void)toe;
    count_request(st, conn, req_cls);
    conn_deadline(st, conn, st->cfg->request_timeout_ms);
    struct conn *c = conn_of(conn);
    if (c != NULL) {
        c->nul = 0;
        c->target = NULL;
    }
}

/* libmicrohttpd decodes the path and every query value with this; a decoded
 * NUL would silently cut the string (so "/v1/status%00x" would be
 * /v1/status and filter=a%00b would be "a"), so the request is refused. */
static size_t on_unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    (void)cls;
    if (strstr(s, "%00") != NULL) {
        struct conn *c = conn_of(conn);
        if (c != NULL)
            c->nul = 1;
    }
    return MHD_http_unescape(s);
}

void ox_store_http_reap(struct ox_store *st)
{
    struct ox_store_conns *cs = st->conns;
    if (cs == NULL)
        return;
    int64_t now = ox_time_mono_ms();
    pthread_mutex_lock(&cs->mu);
    for (struct conn *c = cs->head; c != NULL; c = c->next) {
        if (c->shut || c->deadline_ms == 0 || now < c->deadline_ms || c->fd < 0)
            continue;
        cs->reaped += conn_shut(c);
    }
    int64_t reaped = 0, refused = 0, evicted = 0;
    if ((cs->reaped || cs->refused || cs->evicted) && now - cs->last_log_ms >= REAP_LOG_MS) {
        reaped = cs->reaped;
        refused = cs->refused;
        evicted = cs->evicted;
        cs->reaped = cs->refused = cs->evicted = 0;
        cs->last_log_ms = now;
    }
    pthread_mutex_unlock(&cs->mu);
    if (reaped || refused || evicted)
        ox_slog_printf(st->slog, OX_LL_WARN,
                       "http: closed %lld connection(s) that sent no complete request within %d ms,"
                       " closed %lld such to make room for new ones and refused %lld over the"
                       " connection limits (last %d s)",
                       (long long)reaped, st->cfg->request_timeout_ms, (long long)evicted,
                       (long long)refused, REAP_LOG_MS / 1000);
}

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
static void count_request(struct ox_store *st, struct MHD_Connection *conn, void **req_cls)
{
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

/* Notes where the raw request target starts and its length as a C string,
 * before libmicrohttpd splits and decodes it in place (see on_request). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls;
    struct conn *c = conn_of(conn);
    if (c != NULL && uri != NULL) {
        c->target = uri;
        c->target_len = strlen(uri);
    }
    return NULL;
}

/* libmicrohttpd finds the request line's end and its last space by length,
 * so a raw NUL byte in the target survives and cuts `url` there
 * ("GET /v1/status\0x" would be /v1/status). The target occupies
 * [target, version - 1) of the unchanged request line. */
static int target_has_nul(const struct conn *c, const char *version)
{
    uintptr_t t = (uintptr_t)c->target, v = (uintptr_t)version;
    return c->target != NULL && v > t && v - t <= (1u << 20) && v - t != c->target_len + 1;
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
        struct conn *c = conn_of(conn);
        if (c != NULL && target_has_nul(c, version))
            c->nul = 1;
        if (strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
            return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0; /* discard bodies */
        return MHD_YES;
    }
    /* The request is complete: no deadline while it is answered (a
     * subscriber streams for as long as it likes). */
    conn_deadline(st, conn, 0);
    const struct conn *c = conn_of(conn);
    if (c != NULL && c->nul)
        return (enum MHD_Result)ox_store_http_error(
            conn, MHD_HTTP_BAD_REQUEST, "the request contains a NUL byte (raw or encoded as %%00)");
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
    st->start_ms = ox_time_wall_ms();
    struct ox_store_conns *cs = ox_xcalloc(1, sizeof *cs);
    pthread_mutex_init(&cs->mu, NULL);
    cs->listen_ip = ntohl(sa.sin_addr.s_addr);
    st->conns = cs;
    st->http = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        c->port, on_accept, st, on_request, st, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, st,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)c->max_subscribers + 16 + RESERVED_SLOTS + EVICT_SLACK,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)0, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)256,
        MHD_OPTION_NOTIFY_CONNECTION, on_connection, st, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
        st, MHD_OPTION_UNESCAPE_CALLBACK, on_unescape, st, MHD_OPTION_URI_LOG_CALLBACK, on_uri, st,
        MHD_OPTION_THREAD_STACK_SIZE, (size_t)(256 * 1024), MHD_OPTION_END);
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
    if (st->conns != NULL) {
        pthread_mutex_destroy(&st->conns->mu);
        free(st->conns);
        st->conns = NULL;
    }
    ox_metrics_http_free(st->http_counts);
    st->http_counts = NULL;
}
