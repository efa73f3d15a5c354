/*
 * cm_guard.c - the CM's accept loop and request-head guard (see cm_guard.h).
 *
 * One thread, one epoll set. A new connection waits in `pending` until its
 * head is complete; the guard looks at the head with MSG_PEEK, so the bytes
 * stay in the socket for libmicrohttpd to read after the hand-over. Edge
 * triggering (EPOLLET) wakes the thread once per arrival of new bytes, not
 * for bytes it has already looked at. A refused head gets its JSON answer,
 * then the connection is drained for up to GUARD_DRAIN_MS (closing a socket
 * with unread bytes sends a reset, which can destroy the answer before the
 * client reads it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cm_guard.h"
#include "ox_alloc.h"

#define GUARD_DRAIN_MS   1000
#define GUARD_DRAIN_MAX  (8u << 20)
#define GUARD_TICK_MS    200
#define GUARD_MAX_EVENTS 64

struct pend {
    struct pend *prev, *next;
    int fd;
    struct sockaddr_in addr;
    int64_t deadline_ms; /* monotonic */
    int draining;        /* answered here; reading what the client still sends */
    size_t drained;
};

struct cm_guard {
    struct MHD_Daemon *mhd;
    int lfd, ep;
    pthread_t thread;
    int started;
    atomic_int stop;
    struct pend *head;
    unsigned n, max_conns, per_ip;
    int timeout_ms;
    uint16_t port;
    char peek[CM_GUARD_MAX_HEAD + 1];
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Forgets p (the caller closed or handed over its descriptor). */
static void unlink_pend(cm_guard *g, struct pend *p)
{
    epoll_ctl(g->ep, EPOLL_CTL_DEL, p->fd, NULL);
    if (p->prev != NULL)
        p->prev->next = p->next;
    else
        g->head = p->next;
    if (p->next != NULL)
        p->next->prev = p->prev;
    g->n--;
    free(p);
}

static void drop(cm_guard *g, struct pend *p)
{
    int fd = p->fd;
    unlink_pend(g, p);
    close(fd);
}

static void accept_all(cm_guard *g)
{
    for (;;) {
        struct sockaddr_in sa;
        socklen_t len = sizeof sa;
        int fd = accept4(g->lfd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            /* Out of descriptors: let the tick pass rather than spin. */
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
                usleep(10000);
            return;
        }
        unsigned same = 0;
        for (const struct pend *q = g->head; q != NULL; q = q->next)
            same += q->addr.sin_addr.s_addr == sa.sin_addr.s_addr;
        if (g->n >= g->max_conns || same >= g->per_ip || sa.sin_family != AF_INET) {
            close(fd);
            continue;
        }
        struct pend *p = ox_xcalloc(1, sizeof *p);
        p->fd = fd;
        p->addr = sa;
        p->deadline_ms = mono_ms() + g->timeout_ms;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP | EPOLLET, .data.ptr = p};
        if (epoll_ctl(g->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            free(p);
            close(fd);
            continue;
        }
        p->next = g->head;
        if (g->head != NULL)
            g->head->prev = p;
        g->head = p;
        g->n++;
    }
}

/* Answers a head too large to serve, in the API's error shape, and starts
 * draining the connection. */
static void refuse(cm_guard *g, struct pend *p, int uri_too_long)
{
    char body[200], msg[512];
    int blen = snprintf(body, sizeof body,
                        "{\"errMsg\":\"%s larger than %u bytes\",\"isSuccess\":false}\n",
                        uri_too_long ? "request target" : "request headers", CM_GUARD_MAX_HEAD);
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 %s\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n"
                     "Connection: close\r\nContent-Length: %d\r\n\r\n%s",
                     uri_too_long ? "414 URI Too Long" : "431 Request Header Fields Too Large",
                     blen, body);
    /* A fresh connection's send buffer is empty: the few hundred bytes fit. */
    if (send(p->fd, msg, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT) != n) {
        drop(g, p);
        return;
    }
    shutdown(p->fd, SHUT_WR);
    p->draining = 1;
    p->deadline_ms = mono_ms() + GUARD_DRAIN_MS;
}

static void drain(cm_guard *g, struct pend *p)
{
    for (;;) {
        ssize_t r = recv(p->fd, g->peek, sizeof g->peek, 0);
        if (r > 0 && (p->drained += (size_t)r) <= GUARD_DRAIN_MAX)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;
        drop(g, p); /* end of stream, an error, or enough */
        return;
    }
}

/* Looks at what has arrived of p's head: hands it over, refuses it, or
 * leaves it to wait for more. */
static void look(cm_guard *g, struct pend *p, int hup)
{
    ssize_t r = recv(p->fd, g->peek, sizeof g->peek, MSG_PEEK);
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (r <= 0) {
        drop(g, p);
        return;
    }
    size_t len = (size_t)r, first = 0, lines = 0;
    int done = 0;
    for (size_t i = 0; i < len && !done; i++) {
        if (g->peek[i] != '\n')
            continue;
        if (lines++ == 0)
            first = i + 1;
        /* A blank line ends the head (libmicrohttpd accepts a bare LF). */
        done = (i + 1 < len && g->peek[i + 1] == '\n') ||
               (i + 2 < len && g->peek[i + 1] == '\r' && g->peek[i + 2] == '\n');
    }
    if (lines > CM_GUARD_MAX_LINES || (!done && len > CM_GUARD_MAX_HEAD)) {
        refuse(g, p, first == 0);
        return;
    }
    if (!done && !hup)
        return; /* more to come */
    /* Complete (or the client stopped sending: the server judges it). */
    int fd = p->fd;
    struct sockaddr_in sa = p->addr;
    unlink_pend(g, p);
    /* It closes the socket itself if it cannot take the connection. */
    MHD_add_connection(g->mhd, fd, (const struct sockaddr *)&sa, sizeof sa);
}

static void sweep(cm_guard *g)
{
    int64_t now = mono_ms();
    struct pend *p = g->head;
    while (p != NULL) {
        struct pend *next = p->next;
        if (now >= p->deadline_ms)
            drop(g, p);
        p = next;
    }
}

static void *guard_main(void *arg)
{
    cm_guard *g = arg;
    struct epoll_event evs[GUARD_MAX_EVENTS];
    int64_t last_sweep = mono_ms();
    while (!atomic_load(&g->stop)) {
        int n = epoll_wait(g->ep, evs, GUARD_MAX_EVENTS, GUARD_TICK_MS);
        for (int i = 0; i < n; i++) {
            struct pend *p = evs[i].data.ptr;
            if (p == NULL)
                accept_all(g);
            else if (p->draining)
                drain(g, p);
            else
                look(g, p, (evs[i].events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0);
        }
        if (mono_ms() - last_sweep >= GUARD_TICK_MS) {
            sweep(g);
            last_sweep = mono_ms();
        }
    }
    return NULL;
}

int cm_guard_start(struct MHD_Daemon *mhd, const struct sockaddr_in *sa, unsigned max_conns,
                   unsigned per_ip, unsigned timeout_s, cm_guard **out, ox_errbuf *eb)
{
    cm_guard *g = ox_xcalloc(1, sizeof *g);
    g->mhd = mhd;
    g->max_conns = max_conns;
    g->per_ip = per_ip;
    g->timeout_ms = (int)timeout_s * 1000;
    g->ep = -1;
    int one = 1;
    struct sockaddr_in bound;
    socklen_t blen = sizeof bound;
    g->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (g->lfd < 0 || setsockopt(g->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0 ||
        bind(g->lfd, (const struct sockaddr *)sa, sizeof *sa) != 0 || listen(g->lfd, 1024) != 0 ||
        getsockname(g->lfd, (struct sockaddr *)&bound, &blen) != 0)
        goto fail;
    g->port = ntohs(bound.sin_port);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
    if ((g->ep = epoll_create1(EPOLL_CLOEXEC)) < 0 ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, g->lfd, &ev) != 0)
        goto fail;
    if (pthread_create(&g->thread, NULL, guard_main, g) != 0)
        goto fail;
    g->started = 1;
    *out = g;
    return 0;
fail:;
    int e = errno;
    cm_guard_stop(g);
    char ip[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &sa->sin_addr, ip, sizeof ip);
    return ox_errf(eb, OX_EIO, "cannot listen on %s:%u: %s", ip, (unsigned)ntohs(sa->sin_port),
                   strerror(e));
}

uint16_t cm_guard_port(const cm_guard *g)
{
    return g->port;
}

void cm_guard_stop(cm_guard *g)
{
    if (g == NULL)
        return;
    atomic_store(&g->stop, 1);
    if (g->started)
        pthread_join(g->thread, NULL);
    while (g->head != NULL)
        drop(g, g->head);
    if (g->ep >= 0)
        close(g->ep);
    if (g->lfd >= 0)
        close(g->lfd);
    free(g);
}
