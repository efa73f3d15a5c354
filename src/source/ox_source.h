/*
 * ox_source.h - capture back ends behind one ops table.
 *
 * A source connects to a database's change stream (MySQL/MariaDB binlog,
 * PostgreSQL logical replication) and delivers decoded change
 * records (ox_change, see ox_change.h) to a callback, transaction by
 * transaction: BEGIN, the row/DDL changes, COMMIT. Each back end defines one
 * `const struct ox_source_ops` with designated initializers; its concrete
 * state struct embeds `struct ox_source` first and lives in its .c file
 * (PostgreSQL's WalWriteMethodOps pattern).
 *
 * Exactly-once contract with the consumer (the store):
 *  - the consumer passes the position after its last durable transaction to
 *    start();
 *  - if the connection drops mid-transaction, the source calls on_reset()
 *    so that the consumer discards the partial transaction, reconnects with
 *    backoff, and resumes right after the last complete transaction it
 *    delivered, so nothing is lost or delivered twice.
 *
 * Reconnects and liveness belong to the source alone: it decides when a link
 * is dead (ox_source_dead_after_ms), retries with the one backoff of
 * ox_time.h, and reports its link through ops->state; the consumer only maps
 * what it reports to its own status codes.
 *
 * Threads: a source is used by one thread at a time. Sources don't log; they
 * return OX_E* codes with detail text in an ox_errbuf, and report their state
 * through ox_source_status().
 */
#ifndef OX_SOURCE_H
#define OX_SOURCE_H

#include <stdint.h>

#include "ox_change.h"
#include "ox_err.h"

typedef struct ox_source ox_source;

/* Connection settings. Secrets are never part of a source's argv: the
 * password comes from a file or the environment, read by the caller. */
typedef struct ox_source_config {
    const char *host;
    uint16_t port;
    const char *user;
    const char *password; /* owned by the caller; the source copies it */
    uint32_t server_id;   /* replica id to register with (MySQL/MariaDB) */
    int heartbeat_ms;     /* ask the server for heartbeats this often */
    int connect_timeout_s;
    /* TLS: NULL/0 = off. */
    const char *tls_ca;
    int tls_required;
    /* Addition (schema history): a directory the source owns for its
     * persistent schema history (the store passes `<store.dir>/schema`), or
     * NULL: column names come from live information_schema lookups
     * (`oxbow capture`). See docs/mysql_capture.md, "Schema history". */
    const char *schema_dir;
    /* PostgreSQL (docs/pg_capture.md): the database to capture, the
     * logical replication slot and the publication (NULL = derived from
     * `name`), and the store's name they are derived from. */
    const char *database;
    const char *slot;
    const char *publication;
    const char *name;
    const char *whitelist; /* the store's list, to scope a new publication */
    /* Addition (PostgreSQL streaming): a directory the source owns for the
     * spill files of in-progress transactions (the store passes
     * `<store.dir>/pgstream`), or NULL: streaming is not requested. */
    const char *spill_dir;
    /* Stop at the source's current end instead of waiting for more: poll()
     * returns OX_ECLOSED there (`oxbow capture --until-end`; MySQL only). */
    int until_end;
} ox_source_config;

enum ox_source_start_kind {
    OX_SOURCE_FROM_NOW = 0,       /* the current end of the source's log */
    OX_SOURCE_FROM_FILEPOS = 1,   /* file name + offset */
    OX_SOURCE_FROM_GTID = 2,      /* MariaDB gtid_slave_pos or MySQL GTID set, as text */
    OX_SOURCE_FROM_TIMESTAMP = 3, /* first event at or after a time */
};

typedef struct ox_source_start {
    int kind;          /* enum ox_source_start_kind */
    const char *file;  /* OX_SOURCE_FROM_FILEPOS, e.g. "mysql-bin.000003" */
    uint64_t file_idx; /* alternative to `file`: the numeric suffix (checkpoint fileIdx) */
    uint64_t offset;
    const char *gtid;  /* OX_SOURCE_FROM_GTID */
    int64_t timestamp; /* OX_SOURCE_FROM_TIMESTAMP, seconds since the epoch */
} ox_source_start;

/* A position the consumer made durable: the srcpos of its last committed
 * record (file_idx, offset as in ox_change). */
typedef struct ox_source_pos {
    uint64_t file_idx;
    uint64_t offset;
    int64_t timestamp;
} ox_source_pos;

/* Receives each change; a non-zero return stops poll(), which returns it. */
typedef int (*ox_change_fn)(void *arg, const ox_change *c);
/* Called when a partial transaction must be discarded (see above). */
typedef void (*ox_reset_fn)(void *arg);

/* A source's link as the source reports it (ops->state): the source alone
 * decides when a link is dead (ox_source_dead_after_ms) and reconnects with
 * the one backoff (ox_time.h); its consumer only shows what it reports. */
typedef struct ox_source_state {
    int down;            /* 1 while the source reconnects by itself */
    int64_t down_for_ms; /* how long it has been down (0 when up) */
    uint32_t attempts;   /* failed reconnect attempts since it went down */
    uint64_t reconnects; /* successful reconnects since open */
    uint64_t resends;    /* PostgreSQL: streamed transactions received again
                            unstreamed since open (docs/pg_capture.md) */
} ox_source_state;

/* Faults a back end can tell apart (docs/store.md maps each to a status). */
typedef enum ox_source_fault {
    OX_SOURCE_FAULT_NONE = 0,
    OX_SOURCE_FAULT_RESTART,      /* the server shut down or is starting up */
    OX_SOURCE_FAULT_PRIMARY_LOST, /* the link broke without a shutdown (killed, crashed) */
    OX_SOURCE_FAULT_SLOT_LOST,    /* the replication slot was dropped or invalidated */
    OX_SOURCE_FAULT_PUBLICATION,  /* the publication was dropped or lost a listed table */
    OX_SOURCE_FAULT_PRIVILEGE,    /* the user lacks a privilege capture needs */
    OX_SOURCE_FAULT_WAL_LEVEL,    /* the server does not write logical WAL */
} ox_source_fault;

struct ox_source_ops {
    const char *name; /* "mysql" */
    int (*open)(const ox_source_config *cfg, ox_source **out, ox_errbuf *eb);
    int (*start)(ox_source *s, const ox_source_start *from, ox_errbuf *eb);
    /* Delivers the changes of whatever events arrive within timeout_ms.
     * Returns 0 after delivering at least one event, OX_EAGAIN on timeout
     * (also while the source reconnects by itself: see state), or an error
     * retrying cannot fix (purged binlog, privileges, wrong binlog format). */
    int (*poll)(ox_source *s, ox_change_fn fn, ox_reset_fn reset, void *arg, int timeout_ms,
                ox_errbuf *eb);
    void (*close)(ox_source *s);
    /* Optional (NULL for MySQL): the consumer made everything up to `durable`
     * durable (called after each poll with the log's durable end). A source
     * whose server keeps changes until they are confirmed (PostgreSQL
     * slots) confirms only up to here, so nothing the consumer has not
     * stored is ever recycled. */
    void (*confirm)(ox_source *s, const ox_source_pos *durable);
    /* Optional: removes what the source created on the server for this
     * consumer (PostgreSQL: the slot and the publication), for
     * crawler/destroy. Needs no open source. */
    int (*drop)(const ox_source_config *cfg, ox_errbuf *eb);
    /* Optional: how far the server's end is ahead of what this consumer
     * confirmed, in bytes (PostgreSQL: WAL the slot pins). 0 when known. */
    int (*lag)(ox_source *s, uint64_t *bytes);
    /* Optional: the kind of the last fault (the error last returned, or why
     * the link is down now) for back ends whose faults have their own store
     * status (PostgreSQL), with its text in *why (may be NULL);
     * OX_SOURCE_FAULT_NONE means "use the error code". */
    ox_source_fault (*fault)(ox_source *s, ox_errbuf *why);
    /* Optional: what the server keeps for this consumer, as it names it
     * (PostgreSQL: the slot's wal_status, "reserved", "extended",
     * "unreserved" or "lost"), NUL-terminated in out. OX_EAGAIN when not
     * known yet. */
    int (*slot_status)(ox_source *s, char *out, size_t n);
    /* Optional (MySQL: the schema history): table maps whose FULL metadata
     * disagreed with the history, and table maps served with
     * "schema":"unknown", since open. NULL = the source has no history. */
    void (*schema_counters)(ox_source *s, uint64_t *mismatches, uint64_t *unknown);
    /* Optional: the link's state now (see ox_source_state), and while down
     * why, in *why (may be NULL): what took it down, then the last attempt's
     * error. A source without it is taken as always up. */
    void (*state)(ox_source *s, ox_source_state *out, ox_errbuf *why);
};

/* The base every back end embeds first. */
struct ox_source {
    const struct ox_source_ops *ops;
};

/* Looks up a back end by name ("mysql"); NULL if unknown. */
const struct ox_source_ops *ox_source_find(const char *name);

/*
 * The dead-link rule, owned here for every back end and the store: with
 * heartbeats every heartbeat_ms, a link that delivered nothing (no change,
 * no heartbeat) for longer than this is dead: about one heartbeat period
 * plus a margin for scheduling and the network: the larger of half a
 * period and one second.
 * Returns 0 (no rule) when heartbeat_ms <= 0. Pure function.
 */
int64_t ox_source_dead_after_ms(int heartbeat_ms);

#endif
