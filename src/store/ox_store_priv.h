/*
 * ox_store_priv.h - state shared by the store daemon's modules (not public).
 *
 * Threads: the main thread (signals, once-a-second sampling, shutdown), the
 * capture thread (the change log's single writer), and the HTTP server's
 * threads (one per connection: status requests and subscribers, each
 * subscriber with its own ox_log_reader). Fields marked "mu" are guarded by
 * `mu`; counters marked "atomic" use __atomic builtins; the rest is set
 * before the threads start and read-only afterwards.
 */
#ifndef OX_STORE_PRIV_H
#define OX_STORE_PRIV_H

#include <pthread.h>
#include <signal.h>
#include <stdint.h>

#include "ox_log.h"
#include "ox_slog.h"
#include "ox_store_config.h"
#include "ox_time.h"

/* Store status codes (status JSON "status"); docs/store.md lists them. */
enum ox_store_status {
    OX_ST_NORMAL = 0,         /* DRC_500 */
    OX_ST_SOURCE_DOWN = 1,    /* DRC_501: cannot reach the source; retrying */
    OX_ST_SOURCE_LOST = 2,    /* DRC_502: resume position purged from the source */
    OX_ST_SOURCE_REFUSED = 3, /* DRC_503: auth, privileges, binlog format */
    OX_ST_LOG_FAILED = 4,     /* DRC_504: the change log failed (disk); capture halted */
    OX_ST_STOPPING = 5,       /* DRC_505: clean stop in progress */
    /* PostgreSQL faults, each its own code (docs/pg_capture.md). */
    OX_ST_PG_RESTART = 6,      /* DRC_506: the server shut down or is restarting */
    OX_ST_PG_PRIMARY_LOST = 7, /* DRC_507: link broke without a shutdown (killed) */
    OX_ST_PG_SLOT_LOST = 8,    /* DRC_508: slot dropped or invalidated */
    OX_ST_PG_PUBLICATION = 9,  /* DRC_509: publication dropped or altered */
    OX_ST_PG_PRIVILEGE = 10,   /* DRC_510: a privilege is missing */
    OX_ST_PG_WAL_LEVEL = 11,   /* DRC_511: wal_level is not logical */
};

#define OX_RATE_SAMPLES 11

struct ox_store {
    const ox_store_config *cfg;
    ox_log *log;
    ox_slog *slog;
    struct MHD_Daemon *http;
    struct ox_store_conns *conns; /* ox_store_http.c: open connections */
    pthread_t capture_thread;
    int capture_started;
    volatile sig_atomic_t *stop; /* set by SIGTERM/SIGINT, read everywhere */
    int stopping;                /* atomic: shutdown has begun */

    pthread_mutex_t mu;
    int status;        /* mu: enum ox_store_status */
    char err_msg[640]; /* mu: "[date] DRC_5xx:text\n" */

    /* Delay: the source time capture has reached, in ms since the epoch (atomic). */
    int64_t src_time_ms;

    uint64_t records_total; /* atomic: records appended since start */
    /* atomic: the MySQL schema history's counters since start (see
     * ox_binlog_stats): TABLE_MAPs whose FULL metadata disagreed with the
     * history, and TABLE_MAPs whose rows were flagged "schema":"unknown". */
    uint64_t schema_mismatches, schema_unknown;
    int subscribers;  /* atomic */
    uint64_t sub_seq; /* atomic: subscriber ids for store.log */
    /* main thread: records_total once a second, for recordsPerSec (mu). */
    uint64_t rate_samples[OX_RATE_SAMPLES];
    int64_t rate_times[OX_RATE_SAMPLES];
    int rate_n;

    /* For GET /metrics (ox_store_metrics.c). */
    int64_t start_ms;                    /* set before the threads start */
    uint64_t bytes_total;                /* atomic: payload bytes appended since start */
    uint64_t reconnects;                 /* atomic: source reconnections since start */
    uint64_t served_total;               /* atomic: records sent to subscribers */
    struct ox_metrics_http *http_counts; /* requests by route and code */
    struct sub *subs;                    /* mu: live subscribers, for per-subscriber figures */
    /* Source lag in bytes as its back end reports it (PostgreSQL: WAL
     * pinned by the slot), or -1 when not known (atomic). */
    int64_t source_lag_bytes;
    int source_wal_status; /* atomic: index in ox_store_wal_status_names, -1 unknown */

    /* Reposition (ox_store_repos.c), set before the threads start: while
     * repos_active and the log still ends at msgId repos_base, capture
     * begins at the configured start instead of after the log's last record. */
    int repos_active;
    uint64_t repos_base;
};

/* Sets status and errMsg (thread-safe) and logs the message at `level`. */
void ox_store_set_status(struct ox_store *st, int status, int level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Seconds between now and the source time capture has reached (0 before
 * any); the one delay figure /v1/status and /metrics both show. */
double ox_store_delay_s(struct ox_store *st);

/* Compares the configured start position with the one recorded in
 * <store.dir>/reposition and applies a change (reset of the schema history,
 * repos_active); call after the log is open, before capture starts. Logs. */
int ox_store_reposition_check(struct ox_store *st, ox_errbuf *eb);

/* The capture thread's body; returns when *st->stop is set. */
void *ox_store_capture_main(void *arg);

/* Starts/stops the HTTP server (status, subscribe). They log. */
int ox_store_http_start(struct ox_store *st, ox_errbuf *eb);
void ox_store_http_stop(struct ox_store *st);
/* Closes connections that have not completed a request within
 * store.http.request_timeout_ms; the main thread calls it about every 100 ms.
 * Logs (rate-limited). */
void ox_store_http_reap(struct ox_store *st);

/* Appends the status JSON document to out (GET /v1/status). */
struct ox_buf;
void ox_store_status_json(struct ox_store *st, struct ox_buf *out);

/* Samples records_total for recordsPerSec; main thread, about once a second. */
void ox_store_rate_sample(struct ox_store *st);

/* HTTP handler for GET /v1/subscribe (ox_store_sub.c). */
struct MHD_Connection;
int ox_store_sub_handle(struct ox_store *st, struct MHD_Connection *conn);

/* HTTP handler for GET /metrics (ox_store_metrics.c): the Prometheus text
 * format. Route names for the request counters are in ox_store_http_routes. */
int ox_store_metrics_handle(struct ox_store *st, struct MHD_Connection *conn);
extern const char *const ox_store_http_routes[];
extern const int ox_store_http_nroutes;
/* Appends ,"subscriberList":[{"id","peer","since","position","sent","lagRecords"}]
 * for the live subscribers (at most 100) to the status JSON. */
void ox_store_sub_status_json(struct ox_store *st, struct ox_buf *out, uint64_t last_msg_id);
/* Appends oxbow_store_subscriber_records_sent_total for live subscribers. */
void ox_store_sub_metrics(struct ox_store *st, struct ox_buf *out);

/* Queues a JSON response; returns the MHD result. */
int ox_store_http_reply(struct MHD_Connection *conn, unsigned code, const char *body, size_t len);
/* Queues {"isSuccess":false,"errMsg":"<text>"} with `code`. */
int ox_store_http_error(struct MHD_Connection *conn, unsigned code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* PostgreSQL slot wal_status values, in order of danger: their index is
 * the figure on /metrics (oxbow_source_wal_status). NULL-terminated. */
extern const char *const ox_store_wal_status_names[];

#endif
