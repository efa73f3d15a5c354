/*
 * ox_client.c - liboxbow-client: HTTP/1.1 subscriber over a plain socket.
 *
 * One blocking TCP connection per client with poll()-based timeouts. The
 * response body (chunked) is decoded into `body`; frames are parsed from it
 * in place (ox_client_parse.c). In binary mode the record's JSON is rebuilt
 * as the JSON stream would send it: {"msgId":N,"checkpoint":"...", followed
 * by the stored object's members, so both formats hand out the same text.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

#include "oxbow/client.h"

#include "ox_alloc.h"
#include "ox_buf.h"
#include "ox_checkpoint.h"
#include "ox_client_parse.h"
#include "ox_json_out.h"
#include "ox_record.h"
#include "ox_time.h"

struct ox_client {
    int fd;
    int binary;
    int status;
    int chunked;
    int64_t content_left; /* without chunking: bytes left, -1 = until close */
    int magic_seen;
    int ended;
    int failed;
    char err[768];
    oxc_dechunk dc;
    ox_buf body;
    size_t body_off;
    uint32_t ds_ip;
    uint16_t ds_port;
    ox_buf json;
    char cp[OX_CHECKPOINT_STRLEN];
    uint8_t rbuf[256 * 1024];
};

static int fail(ox_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(ox_client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err, sizeof c->err, fmt, ap);
    va_end(ap);
    c->failed = 1;
    return OX_CLIENT_ERROR;
}

void ox_client_options_init(ox_client_options *o)
{
    memset(o, 0, sizeof *o);
    o->timestamp = -1;
    o->binary = 1;
    o->connect_timeout_ms = 5000;
}

const char *ox_client_error(const ox_client *c)
{
    return c ? c->err : "no client";
}

int ox_client_http_status(const ox_client *c)
{
    return c ? c->status : 0;
}

void ox_client_close(ox_client *c)
{
    if (c == NULL)
        return;
    if (c->fd >= 0)
        close(c->fd);
    ox_buf_free(&c->body);
    ox_buf_free(&c->json);
    free(c);
}

static void put_escaped(ox_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '~' || ch == '*' || ch == ':') {
            ox_buf_putc(b, ch);
        } else {
            ox_buf_putc(b, '%');
            ox_buf_putc(b, (uint8_t)hex[ch >> 4]);
            ox_buf_putc(b, (uint8_t)hex[ch & 15]);
        }
    }
}

static int connect_to(ox_client *c, const char *host, uint16_t port, int timeout_ms)
{
    char ps[8];
    snprintf(ps, sizeof ps, "%u", (unsigned)port);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int gr = getaddrinfo(host, ps, &hints, &res);
    if (gr != 0)
        return fail(c, "resolve %s: %s", host, gai_strerror(gr));
    int rc = OX_CLIENT_ERROR;
    for (struct addrinfo *a = res; a != NULL; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
            continue;
        int r = connect(fd, a->ai_addr, a->ai_addrlen);
        if (r != 0 && errno == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            r = poll(&p, 1, timeout_ms);
            int soerr = 0;
            socklen_t sl = sizeof soerr;
            if (r == 1 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0)
                r = 0;
            else {
                errno = r == 0 ? ETIMEDOUT : soerr ? soerr : errno;
                r = -1;
            }
        }
        if (r == 0) {
            int fl = fcntl(fd, F_GETFL);
            fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
            c->fd = fd;
            rc = 0;
            break;
        }
        fail(c, "connect %s:%u: %s", host, (unsigned)port, strerror(errno));
        close(fd);
    }
    freeaddrinfo(res);
    return rc;
}

/* Reads more raw bytes within timeout_ms; returns bytes, 0 on EOF, -2 on
 * timeout, -1 on error. */
static ssize_t read_some(ox_client *c, int timeout_ms)
{
    struct pollfd p = {c->fd, POLLIN, 0};
    int r;
    do {
        r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    if (r == 0)
        return -2;
    if (r < 0)
        return -1;
    ssize_t n;
    do {
        n = recv(c->fd, c->rbuf, sizeof c->rbuf, 0);
    } while (n < 0 && errno == EINTR);
    return n;
}

/* Moves decoded body bytes into c->body. */
static int absorb(ox_client *c, const uint8_t *p, size_t n)
{
    if (c->chunked) {
        char err[128];
        if (oxc_dechunk_feed(&c->dc, p, n, &c->body, err, sizeof err) != 0)
            return fail(c, "%s", err);
        if (c->dc.done)
            c->ended = 1;
        return 0;
    }
    if (c->content_left >= 0 && (int64_t)n > c->content_left)
        n = (size_t)c->content_left;
    ox_buf_put(&c->body, p, n);
    if (c->content_left >= 0) {
        c->content_left -= (int64_t)n;
        if (c->content_left == 0)
            c->ended = 1;
    }
    return 0;
}

static const char *find_header(const char *head, const char *name, size_t *len)
{
    size_t nl = strlen(name);
    for (const char *p = strstr(head, "\r\n"); p != NULL; p = strstr(p, "\r\n")) {
        p += 2;
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            const char *v = p + nl + 1;
            while (*v == ' ' || *v == '\t')
                v++;
            const char *e = strstr(v, "\r\n");
            *len = e ? (size_t)(e - v) : strlen(v);
            return v;
        }
    }
    return NULL;
}

/* Extracts "errMsg" from a JSON error body, roughly (no full JSON parser). */
static void error_body(ox_client *c, const char *body, size_t len)
{
    const char *k = memmem(body, len, "\"errMsg\":\"", 10);
    char msg[600];
    size_t m = 0;
    if (k != NULL) {
        const char *s = k + 10, *e = body + len;
        while (s < e && *s != '"' && m + 1 < sizeof msg) {
            if (*s == '\\' && s + 1 < e) {
                s++;
                msg[m++] = *s == 'n' ? ' ' : *s;
                s++;
                continue;
            }
            msg[m++] = *s++;
        }
    } else {
        m = len < sizeof msg - 1 ? len : sizeof msg - 1;
        memcpy(msg, body, m);
    }
    msg[m] = '\0';
    fail(c, "HTTP %d: %s", c->status, msg);
}

int ox_client_open(const char *host, uint16_t port, const ox_client_options *o, ox_client **out)
{
    ox_client_options def;
    if (o == NULL) {
        ox_client_options_init(&def);
        o = &def;
    }
    ox_client *c = ox_xcalloc(1, sizeof *c);
    *out = c;
    c->fd = -1;
    c->binary = o->binary;
    c->content_left = -1;
    int timeout = o->connect_timeout_ms > 0 ? o->connect_timeout_ms : 5000;
    if (connect_to(c, host, port, timeout) != 0)
        return OX_CLIENT_ERROR;
    ox_buf q = OX_BUF_INIT;
    ox_buf_printf(&q, "GET /v1/subscribe?format=%s", c->binary ? "binary" : "json");
    if (o->checkpoint != NULL) {
        ox_buf_puts(&q, "&checkpoint=");
        put_escaped(&q, o->checkpoint);
    } else if (o->timestamp >= 0) {
        ox_buf_printf(&q, "&timestamp=%lld", (long long)o->timestamp);
    } else if (o->msg_id > 0) {
        ox_buf_printf(&q, "&msgId=%llu", (unsigned long long)o->msg_id);
    } else if (o->from_earliest) {
        ox_buf_puts(&q, "&from=earliest");
    }
    if (o->filter != NULL && *o->filter) {
        ox_buf_puts(&q, "&filter=");
        put_escaped(&q, o->filter);
    }
    ox_buf_printf(&q, " HTTP/1.1\r\nHost: %s:%u\r\nAccept: */*\r\nUser-Agent: liboxbow-client\r\n",
                  host, (unsigned)port);
    if (o->token != NULL)
        ox_buf_printf(&q, "Authorization: Bearer %s\r\n", o->token);
    ox_buf_puts(&q, "\r\n");
    size_t sent = 0;
    while (sent < q.len) {
        ssize_t n = send(c->fd, q.data + sent, q.len - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            ox_buf_free(&q);
            return fail(c, "send: %s", strerror(errno));
        }
        sent += (size_t)n;
    }
    ox_buf_free(&q);

    /* Response head. */
    ox_buf head = OX_BUF_INIT;
    int64_t deadline = ox_time_mono_ms() + timeout + 30000;
    const uint8_t *end = NULL;
    while (end == NULL) {
        int64_t left = deadline - ox_time_mono_ms();
        ssize_t n = read_some(c, left > 0 ? (int)left : 0);
        if (n <= 0) {
            ox_buf_free(&head);
            return fail(c, "reading the response: %s",
                        n == 0    ? "connection closed"
                        : n == -2 ? "timed out"
                                  : strerror(errno));
        }
        ox_buf_put(&head, c->rbuf, (size_t)n);
        end = memmem(head.data, head.len, "\r\n\r\n", 4);
        if (end == NULL && head.len > 65536) {
            ox_buf_free(&head);
            return fail(c, "response head longer than 64 KiB");
        }
    }
    size_t hlen = (size_t)(end - head.data) + 4;
    ox_buf_putc(&head, 0);
    char *h = (char *)head.data;
    h[hlen - 2] = '\0';
    int major, minor;
    if (sscanf(h, "HTTP/%d.%d %d", &major, &minor, &c->status) != 3) {
        ox_buf_free(&head);
        return fail(c, "not an HTTP response");
    }
    size_t vl;
    const char *v = find_header(h, "Transfer-Encoding", &vl);
    c->chunked = v != NULL && vl >= 7 && strncasecmp(v, "chunked", 7) == 0;
    v = find_header(h, "Content-Length", &vl);
    if (!c->chunked && v != NULL)
        c->content_left = strtoll(v, NULL, 10);
    v = find_header(h, "X-Oxbow-Datasource", &vl);
    if (v != NULL) {
        const char *colon = memchr(v, ':', vl);
        if (colon != NULL) {
            uint32_t ip;
            if (ox_ipv4_parse(v, (size_t)(colon - v), &ip) == 0)
                c->ds_ip = ip;
            c->ds_port = (uint16_t)strtoul(colon + 1, NULL, 10);
        }
    }
    int rc = absorb(c, head.data + hlen, head.len - 1 - hlen);
    ox_buf_free(&head);
    if (rc != 0)
        return rc;
    if (c->status != 200) {
        /* Error answers are small JSON documents with a Content-Length. */
        while (!c->ended && c->body.len < 65536) {
            ssize_t n = read_some(c, 5000);
            if (n <= 0)
                break;
            if (absorb(c, c->rbuf, (size_t)n) != 0)
                return OX_CLIENT_ERROR;
        }
        error_body(c, (const char *)c->body.data, c->body.len);
        return OX_CLIENT_ERROR;
    }
    return 0;
}

static void build_record(ox_client *c, const oxc_frame *f, ox_client_record *rec)
{
    memset(rec, 0, sizeof *rec);
    rec->msg_id = f->msg_id;
    rec->file_idx = f->file_idx;
    rec->offset = f->offset;
    rec->timestamp = f->timestamp;
    rec->commit = f->commit;
    ox_buf_reset(&c->json);
    if (!c->binary) {
        size_t n = f->checkpoint_len < sizeof c->cp ? f->checkpoint_len : sizeof c->cp - 1;
        memcpy(c->cp, f->checkpoint, n);
        c->cp[n] = '\0';
        ox_buf_put(&c->json, f->data, f->data_len);
    } else {
        ox_log_srcpos sp;
        memset(&sp, 0, sizeof sp);
        sp.file_idx = f->file_idx;
        sp.offset = f->offset;
        sp.timestamp = f->timestamp;
        size_t cl = ox_record_checkpoint(c->ds_ip, c->ds_port, &sp, f->msg_id, c->cp);
        ox_payload_view pv;
        memset(&pv, 0, sizeof pv);
        const char *rest = NULL;
        size_t rest_len = 0;
        if (ox_record_decode(f->data, (uint32_t)f->data_len, &pv) != 0)
            pv.json_len = 0; /* served as {"msgId":..,"checkpoint":".."} */
        ox_record_json_head(&c->json, f->msg_id, c->cp, cl, pv.json, pv.json_len, &rest, &rest_len);
        if (rest != NULL)
            ox_buf_put(&c->json, rest, rest_len);
    }
    ox_buf_putc(&c->json, 0);
    c->json.len--;
    rec->checkpoint = c->cp;
    rec->json = (const char *)c->json.data;
    rec->json_len = c->json.len;
}

int ox_client_next(ox_client *c, ox_client_record *rec, int timeout_ms)
{
    if (c == NULL || c->failed)
        return OX_CLIENT_ERROR;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : ox_time_mono_ms() + timeout_ms;
    for (;;) {
        oxc_frame f;
        size_t used = 0;
        char err[160];
        static const uint8_t none[1];
        const uint8_t *base = c->body.data != NULL ? c->body.data + c->body_off : none;
        int r = oxc_parse_next(c->binary, &c->magic_seen, base, c->body.len - c->body_off, &f,
                               &used, err, sizeof err);
        if (r < 0)
            return fail(c, "%s", err);
        if (r == 2) {
            c->body_off += used;
            continue;
        }
        if (r == 1) {
            c->body_off += used;
            if (f.kind == OXC_KEEPALIVE)
                continue;
            if (f.kind == OXC_ERROR) {
                error_body(c, (const char *)f.data, f.data_len);
                return OX_CLIENT_ERROR;
            }
            build_record(c, &f, rec);
            return OX_CLIENT_RECORD;
        }
        if (c->ended)
            return c->body_off == c->body.len ? OX_CLIENT_END
                                              : fail(c, "stream ended inside a record");
        /* Need more bytes: drop what was consumed, then read. */
        if (c->body_off > 0) {
            memmove(c->body.data, c->body.data + c->body_off, c->body.len - c->body_off);
            c->body.len -= c->body_off;
            c->body_off = 0;
        }
        int64_t left = deadline == INT64_MAX ? -1 : deadline - ox_time_mono_ms();
        if (deadline != INT64_MAX && left < 0)
            left = 0;
        ssize_t n = read_some(c, (int)left);
        if (n == -2)
            return OX_CLIENT_TIMEOUT;
        if (n < 0)
            return fail(c, "recv: %s", strerror(errno));
        if (n == 0) {
            if (!c->chunked && c->content_left < 0)
                c->ended = 1;
            else
                return fail(c, "the store closed the connection");
            continue;
        }
        if (absorb(c, c->rbuf, (size_t)n) != 0)
            return OX_CLIENT_ERROR;
    }
}
