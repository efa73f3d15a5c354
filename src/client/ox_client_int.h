/*
 * ox_client_int.h - the client object shared by ox_client.c (one
 * connection: subscribe, parse, hand out records) and ox_client_retry.c
 * (reconnect mode on top of it). Internal to liboxbow-client.
 */
#ifndef OX_CLIENT_INT_H
#define OX_CLIENT_INT_H

#include <stdint.h>

#include "oxbow/client.h"

#include "ox_buf.h"
#include "ox_checkpoint.h"
#include "ox_client_parse.h"

struct oxc_retry;

struct ox_client {
    int fd;
    int binary;
    int status;
    int chunked;
    int64_t content_left; /* without chunking: bytes left, -1 = until close */
    int magic_seen;
    int ended;
    int failed;
    int transient;      /* the last failure is worth a reconnect */
    int64_t last_rx_ms; /* monotonic time bytes last arrived on the stream */
    char err[768];
    oxc_dechunk dc;
    ox_buf body;
    size_t body_off;
    uint32_t ds_ip;
    uint16_t ds_port;
    ox_buf json;
    char cp[OX_CHECKPOINT_STRLEN];
    struct oxc_retry *retry; /* reconnect mode (ox_client_retry.c), else NULL */
    uint8_t rbuf[256 * 1024];
};

/* Subscribes on c's (closed) connection to host:port: 0, or
 * OX_CLIENT_ERROR with c->err, c->transient and c->status set. */
int oxc_subscribe(ox_client *c, const char *host, uint16_t port, const ox_client_options *o);

/* Connects to host:port, sends one GET of path (with a bearer token if not
 * NULL) and reads the whole answer into c->body (c->status set). Returns 0
 * or OX_CLIENT_ERROR as oxc_subscribe. Closes the connection after. */
int oxc_http_get(ox_client *c, const char *host, uint16_t port, const char *path, const char *token,
                 int timeout_ms);

/* Appends s percent-encoded for a query string. */
void oxc_put_escaped(ox_buf *b, const char *s);

/* One connection's next record (ox_client_next without reconnects). */
int oxc_next_once(ox_client *c, ox_client_record *rec, int timeout_ms);

/* Closes the connection and clears the per-connection state (keeps err). */
void oxc_disconnect(ox_client *c);

/* Reconnect mode: ox_client_next and the cleanup of c->retry. */
int oxc_retry_next(ox_client *c, ox_client_record *rec, int timeout_ms);
void oxc_retry_free(struct oxc_retry *r);

#endif
