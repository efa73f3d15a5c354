/*
 * oxbow/client.h - liboxbow-client: follow an oxbow store's change stream.
 *
 * A subscriber connects to a store (HTTP/1.1, GET /v1/subscribe, see
 * docs/protocol.md), starts at a checkpoint, a timestamp, a msgId or the
 * earliest/latest record, optionally with a db.table filter, and reads change
 * records one by one. Every record carries its checkpoint: to resume after a
 * crash, open again with the checkpoint of the last record you processed and
 * the stream continues exactly after it.
 *
 *     ox_client_options o;
 *     ox_client_options_init(&o);
 *     o.checkpoint = saved;              // or NULL: from the latest record
 *     ox_client *c;
 *     if (ox_client_open("127.0.0.1", 17000, &o, &c) != 0) { ...ox_client_error(c)... }
 *     ox_client_record r;
 *     while (ox_client_next(c, &r, 1000) >= 0) { if (r.msg_id) use(r.json, r.checkpoint); }
 *     ox_client_close(c);
 *
 * Threads: one ox_client per thread; distinct clients are independent.
 * The library never logs and never calls exit(); it aborts only if memory
 * runs out. Link with `pkg-config --libs oxbow-client`.
 */
#ifndef OXBOW_CLIENT_H
#define OXBOW_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ox_client ox_client;

typedef struct ox_client_options {
    const char *checkpoint; /* resume after this record ("ip:port:file:off:ts:msgId") */
    int64_t timestamp;      /* or: from this source time (seconds); -1 = unset */
    uint64_t msg_id;        /* or: from this msgId (inclusive); 0 = unset */
    int from_earliest;      /* or: from the earliest retained record */
    const char *filter;     /* "db.t,db2.*" or NULL for everything */
    int binary;             /* 1 (default): compact binary framing; 0: JSON lines */
    const char *token;      /* bearer token for a store not on loopback, or NULL */
    int connect_timeout_ms; /* default 5000 */
} ox_client_options;

/* One change record. All pointers stay valid until the next ox_client_next
 * or ox_client_close on the same client. */
typedef struct ox_client_record {
    uint64_t msg_id;   /* the store's record id (dense, increasing) */
    uint64_t file_idx; /* source position of the change */
    uint64_t offset;
    int64_t timestamp;      /* source event time, seconds since the epoch */
    int commit;             /* 1 if this record ends its transaction */
    const char *checkpoint; /* NUL-terminated; resume point after this record */
    const char *json;       /* the record as one JSON object, with msgId and checkpoint */
    size_t json_len;        /* (json is NUL-terminated as well) */
} ox_client_record;

/* Return values of ox_client_next. */
#define OX_CLIENT_RECORD  1    /* *rec holds a record */
#define OX_CLIENT_TIMEOUT 0    /* nothing within timeout_ms */
#define OX_CLIENT_ERROR   (-1) /* see ox_client_error(); the client is unusable */
#define OX_CLIENT_END     (-2) /* the store ended the stream (shutdown) */

/* Sets the defaults above. */
void ox_client_options_init(ox_client_options *o);

/*
 * Connects and subscribes. Returns 0, or -1 with the reason in
 * ox_client_error(*out) (connection refused, or the store's answer, e.g.
 * HTTP 410 "Invalid start time, shall within store's data keep time ...").
 * *out is always set (even on failure) and must be freed with
 * ox_client_close. Blocks up to connect_timeout_ms plus the server's answer.
 */
int ox_client_open(const char *host, uint16_t port, const ox_client_options *o, ox_client **out);

/*
 * Waits up to timeout_ms (-1 = forever) for the next record. Returns
 * OX_CLIENT_RECORD, OX_CLIENT_TIMEOUT, OX_CLIENT_END or OX_CLIENT_ERROR.
 */
int ox_client_next(ox_client *c, ox_client_record *rec, int timeout_ms);

/* Human-readable reason for the last failure ("" if none). */
const char *ox_client_error(const ox_client *c);

/* HTTP status of the subscribe answer (200, 400, 410, ...), 0 before one. */
int ox_client_http_status(const ox_client *c);

/*
 * Reconnect mode (opt-in, an addition to the API above). A client opened with
 * ox_client_open_reconnect survives a store that is killed, restarted or
 * moved: when the connection drops, the stream ends, or a store answers
 * 5xx/429 or is unreachable, ox_client_next reconnects by itself and
 * subscribes again from the checkpoint of the last record it returned, so
 * the caller sees every record once and in order (a record the store sends
 * again, msgId at or below the last one returned, is skipped). Where to
 * connect: the current master of `crawler` as the CM's
 * GET /crawler/detail reports it (host and port), then each URL of
 * `stores` in turn, starting from the one that worked last. Waits between
 * rounds follow the project's backoff (initial, doubling, capped; no
 * jitter). Errors that are not transient (a 4xx answer such as 410 for a
 * checkpoint older than retention, a malformed stream, an error the store
 * sends inside the stream) are returned as OX_CLIENT_ERROR, never retried.
 * Without a start option and before the first record, a reconnect starts
 * from the latest record again: give a start option for exactly-once.
 */
typedef struct ox_client_reconnect {
    const char *const *stores; /* store URLs "http://HOST:PORT" (or "HOST:PORT") */
    size_t n_stores;
    const char *cm_url;         /* CM "http://HOST:PORT", or several separated by ',' ; or NULL */
    const char *crawler;        /* the store's name in the CM (crawler/detail), with cm_url */
    const char *cm_token;       /* bearer token for the CM API, or NULL */
    int64_t give_up_ms;         /* 0 (default): retry forever; else fail after this long down */
    int64_t backoff_initial_ms; /* first wait between rounds; default 200 */
    int64_t backoff_cap_ms;     /* longest wait; default 5000 */
    /* A connection on which neither a record nor a keepalive (the store
     * sends one after 3 s without records) arrived for this long is taken
     * as dead (a frozen store, a cut link) and replaced; default 10000. */
    int64_t silence_ms;
    /* Called (if set) on the calling thread after each successful reconnect
     * with a one-line, NUL-terminated description (where, why, from which
     * msgId); it holds no secret. The library itself never prints. */
    void (*on_reconnect)(void *arg, const char *line);
    void *arg;
} ox_client_reconnect;

/* Sets the defaults above. */
void ox_client_reconnect_init(ox_client_reconnect *r);

/*
 * Like ox_client_open, in reconnect mode. The library copies every string
 * of r and o. Tries each endpoint once; returns 0 when connected, and also
 * when every endpoint failed transiently (the store may be restarting):
 * ox_client_next then keeps trying (check ox_client_error for the last
 * reason). Returns -1 (reason in ox_client_error) on a bad URL, no
 * endpoint at all, or an answer that is not transient. *out is always set
 * and must be freed with ox_client_close.
 */
int ox_client_open_reconnect(const ox_client_reconnect *r, const ox_client_options *o,
                             ox_client **out);

/* Number of successful reconnects so far (0 for a client without
 * reconnect mode). */
uint64_t ox_client_reconnects(const ox_client *c);

/* Closes the connection and frees; NULL is a no-op. */
void ox_client_close(ox_client *c);

#ifdef __cplusplus
}
#endif

#endif
