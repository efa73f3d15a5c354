/*
 * http_inject.h - feeds one fuzz input to a running libmicrohttpd daemon as a
 * whole HTTP request over a loopback TCP connection to the daemon's ephemeral
 * port, so that MHD's own parsing plus our routing, auth, parameter and body
 * code all run on the input exactly as for a client (fuzz_cm_http,
 * fuzz_store_http). (A socketpair handed to MHD_add_connection was tried
 * first: MHD treats it as TCP, fails its TCP_CORK/NODELAY calls and answers
 * late.)
 *
 * Input format: "METHOD TARGET[ HTTP/1.x]\nHeader: value\n...\n\nbody".
 * The head's lines are sent with CRLF; " HTTP/1.1" is appended to the request
 * line when the input names no version, "Host:" when it has none; then
 * Content-Length of the body and "Connection: close". So mutations land in the
 * parts our code reads (method, path, query, headers, body) instead of dying
 * in MHD's framing, which MHD fuzzes itself.
 *
 * Header-only (static functions) because each fuzz target is one source file.
 */
#ifndef OX_FUZZ_HTTP_INJECT_H
#define OX_FUZZ_HTTP_INJECT_H

#include <ftw.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ox_assert.h"
#include "ox_buf.h"

static char http_inject_tmp[256];

static int http_inject_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void http_inject_cleanup(void)
{
    if (http_inject_tmp[0] != '\0')
        nftw(http_inject_tmp, http_inject_rm, 16, FTW_DEPTH | FTW_PHYS);
}

/* A private directory (on /dev/shm when there is one: SQLite's and the log's
 * fsyncs would dominate otherwise), removed when the process exits. */
static const char *http_inject_tmpdir(const char *tag)
{
    const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(http_inject_tmp, sizeof http_inject_tmp, "%s/oxfuzz-%s-XXXXXX", base, tag);
    ox_assert(mkdtemp(http_inject_tmp) != NULL);
    atexit(http_inject_cleanup);
    return http_inject_tmp;
}

/* Builds the request bytes from the fuzz input (see the file comment). */
static void http_inject_build(const uint8_t *data, size_t size, ox_buf *req)
{
    const uint8_t *body = NULL;
    size_t head_len = size, body_len = 0;
    for (size_t i = 0; i + 1 < size; i++) {
        if (data[i] == '\n' && data[i + 1] == '\n') {
            head_len = i;
            body = data + i + 2;
            body_len = size - i - 2;
            break;
        }
    }
    int has_host = 0, first = 1;
    size_t pos = 0;
    while (pos <= head_len) {
        size_t end = pos;
        while (end < head_len && data[end] != '\n')
            end++;
        size_t n = end;
        if (n > pos && data[n - 1] == '\r')
            n--;                  /* CRLF in the input counts as one line end */
        if (n == pos && !first) { /* an empty line would end the head early */
            if (end >= head_len)
                break;
            pos = end + 1;
            continue;
        }
        ox_buf_put(req, data + pos, n - pos);
        if (first) {
            if (memmem(data + pos, n - pos, " HTTP/", 6) == NULL)
                ox_buf_puts(req, " HTTP/1.1");
            first = 0;
        } else if (n - pos >= 5 && strncasecmp((const char *)data + pos, "host:", 5) == 0) {
            has_host = 1;
        }
        ox_buf_puts(req, "\r\n");
        if (end >= head_len)
            break;
        pos = end + 1;
    }
    if (!has_host)
        ox_buf_puts(req, "Host: fuzz\r\n");
    char cl[64];
    snprintf(cl, sizeof cl, "Content-Length: %zu\r\nConnection: close\r\n\r\n", body_len);
    ox_buf_puts(req, cl);
    if (body_len > 0)
        ox_buf_put(req, body, body_len);
}

static int64_t http_inject_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Sends the request built from data to the server on loopback `port` and reads the answer into
 * resp until MHD closes the connection, for at most `wait_ms`, and once bytes
 * came, until none came for `idle_ms` (a streaming response, such as a store
 * subscription, never ends by itself: closing our end stops it). Returns the
 * HTTP status of the answer, 0 when none came, -1 when MHD refused the
 * connection (its connection limit: not a finding).
 */
static int http_inject(uint16_t port, const uint8_t *data, size_t size, int wait_ms, int idle_ms,
                       ox_buf *resp)
{
    ox_assert(port != 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ox_assert(fd >= 0);
    if (connect(fd, (const struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1; /* backlog full: not a finding */
    }
    ox_buf req = OX_BUF_INIT;
    http_inject_build(data, size, &req);
    size_t off = 0;
    int64_t deadline = http_inject_mono_ms() + wait_ms;
    while (off < req.len) {
        ssize_t n = send(fd, req.data + off, req.len - off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            off += (size_t)n;
            continue;
        }
        struct pollfd p = {fd, POLLOUT, 0};
        if (http_inject_mono_ms() > deadline || poll(&p, 1, 50) < 0)
            break; /* MHD stopped reading (it answered early, e.g. 413) */
        if (p.revents & (POLLERR | POLLHUP))
            break;
    }
    ox_buf_free(&req);
    shutdown(fd, SHUT_WR);
    for (;;) {
        int64_t left = deadline - http_inject_mono_ms();
        if (left <= 0)
            break;
        if (resp->len > 0 && left > idle_ms)
            left = idle_ms;
        struct pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, (int)left) <= 0)
            break;
        char buf[16384];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n <= 0)
            break;
        if (resp->len < (1u << 20))
            ox_buf_put(resp, buf, (size_t)n);
    }
    close(fd);
    if (getenv("OX_FUZZ_VERBOSE") != NULL) /* to see what an input does */
        fprintf(stderr, "--- answer (%zu bytes):\n%.*s\n", resp->len, (int)resp->len,
                (const char *)resp->data);
    int status = 0;
    if (resp->len >= 12 && memcmp(resp->data, "HTTP/1.", 7) == 0)
        status = atoi((const char *)resp->data + 9);
    return status;
}

/* The port a daemon that listens itself is bound to. */
static inline uint16_t http_inject_mhd_port(struct MHD_Daemon *d)
{
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    ox_assert(info != NULL && info->port != 0);
    return info->port;
}

/* The body of an answer (after the blank line), or NULL. */
static const char *http_inject_body(ox_buf *resp, size_t *len)
{
    ox_buf_putc(resp, 0);
    resp->len--;
    const char *b = strstr((const char *)resp->data, "\r\n\r\n");
    if (b == NULL)
        return NULL;
    b += 4;
    *len = resp->len - (size_t)(b - (const char *)resp->data);
    /* Only the first answer's body when a length is given (MHD may add its
     * own answer to bytes it read after ours). */
    const char *cl = strcasestr((const char *)resp->data, "\r\nContent-Length:");
    if (cl != NULL && cl < b) {
        size_t n = strtoul(cl + 17, NULL, 10);
        if (n < *len)
            *len = n;
    }
    return b;
}

#endif
