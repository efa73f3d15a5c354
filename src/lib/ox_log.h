/*
 * ox_log.h - the store's durable, segmented change log.
 *
 * One writer thread appends records grouped in transactions; any number of
 * reader threads follow the log from a msgId, a timestamp or a source
 * position, and are woken when new data becomes visible. The on-disk format
 * (segments, per-segment index, record framing with CRC32C) is documented in
 * docs/format.md and in the header comment of ox_log.c.
 *
 * Visibility: a record becomes visible to readers only when the record that
 * commits its transaction has been appended and, unless the fsync policy is
 * OX_LOG_FSYNC_NONE, made durable. A reader therefore never sees part of a
 * transaction, and never sees a record that a crash could take back. Records
 * of an open transaction go to disk as they are appended, so a transaction of
 * any size never has to sit in memory.
 *
 * msgIds are dense and monotonic: the first record ever gets 1, each next
 * record the next integer. Records of an aborted or torn transaction were
 * never visible, so their msgIds are handed out again; a visible msgId is
 * never reused, also across restarts and retention.
 *
 * Threads: ox_log_open/close, ox_log_append, ox_log_abort, ox_log_sync and
 * ox_log_retain belong to the single writer thread. ox_log_info and everything
 * ox_log_reader_* may be called from any thread, concurrently with the writer.
 * None of these functions log; failures return an OX_E* code and fill the
 * optional ox_errbuf with the file and offset concerned.
 */
#ifndef OX_LOG_H
#define OX_LOG_H

#include <stdint.h>

#include "ox_err.h"

typedef struct ox_log ox_log;
typedef struct ox_log_reader ox_log_reader;

enum ox_log_fsync {
    OX_LOG_FSYNC_COMMIT = 0,   /* fsync before ox_log_append(..COMMIT) returns */
    OX_LOG_FSYNC_INTERVAL = 1, /* a flusher fsyncs every fsync_interval_ms (group commit) */
    OX_LOG_FSYNC_NONE = 2,     /* never fsync; visible on commit; a crash may lose the tail */
};

typedef struct ox_log_options {
    uint64_t segment_bytes;     /* start a new segment beyond this size (default 64 MiB) */
    int fsync_policy;           /* enum ox_log_fsync (default INTERVAL) */
    uint32_t fsync_interval_ms; /* for OX_LOG_FSYNC_INTERVAL (default 10) */
    int64_t retention_seconds;  /* store.clearer.outdated: drop segments older (default 86400) */
    uint64_t retention_bytes;   /* drop oldest segments beyond this total; 0 = no cap */
} ox_log_options;

/* Fills `opt` with the defaults above. */
void ox_log_options_default(ox_log_options *opt);

/* Longest opaque source position (a GTID set element, an LSN, ...). */
#define OX_LOG_OPAQUE_MAX 255

/* Where a record came from in the source: the checkpoint's source fields. */
typedef struct ox_log_srcpos {
    uint64_t file_idx; /* binlog file index (mysql-bin.000042 -> 42) */
    uint64_t offset;   /* byte offset in that file */
    int64_t timestamp; /* event time, seconds since the epoch */
    uint16_t opaque_len;
    uint8_t opaque[OX_LOG_OPAQUE_MAX]; /* e.g. GTID "0-1-42"; copied on append */
} ox_log_srcpos;

enum ox_log_flags {
    OX_LOG_COMMIT = 1u << 0, /* this record ends its transaction */
};

/* A record as a reader sees it. `payload` points into reader-owned memory
 * that stays valid until the next ox_log_reader_next() on that reader. */
typedef struct ox_log_record {
    uint64_t msg_id;
    uint32_t flags; /* enum ox_log_flags */
    ox_log_srcpos src;
    const uint8_t *payload;
    uint32_t payload_len;
} ox_log_record;

/* What ox_log_open found and repaired; all zero after a clean shutdown. */
typedef struct ox_log_recovery {
    uint64_t dropped_bytes;   /* torn or corrupt tail bytes truncated */
    uint64_t dropped_records; /* complete records of an uncommitted transaction dropped */
    uint32_t rebuilt_indexes; /* missing or bad segment indexes rebuilt */
    char detail[512];         /* human-readable summary of the above, "" if nothing */
} ox_log_recovery;

/*
 * Opens (creating if needed) the log in directory `dir`. Recovers from a crash:
 * truncates a torn or corrupt tail back to the last complete transaction,
 * rebuilds missing indexes, and describes what it did in `*rec` (may be NULL).
 * A corrupt record before the tail is OX_ECORRUPT naming file and offset.
 * On success *out owns the log; free it with ox_log_close.
 */
int ox_log_open(const char *dir, const ox_log_options *opt, ox_log **out, ox_log_recovery *rec,
                ox_errbuf *eb);

/* Flushes, fsyncs, wakes every reader with OX_ECLOSED, and frees the log.
 * Readers must be freed before or after, but not used after it returns.
 * ox_log_close(NULL) is a no-op. Returns the result of the final fsync.
 * (Implementation note: readers hold a reference to the log's shared state,
 * so a reader that is still used after close gets OX_ECLOSED rather than
 * touching freed memory; the last of the log and its readers frees it.)
 * A transaction still open at close is aborted. Under OX_LOG_FSYNC_NONE
 * nothing is fsynced, not even here. */
int ox_log_close(ox_log *log);

/*
 * Appends one record to the open transaction (a transaction opens implicitly
 * at the first append after a commit). With OX_LOG_COMMIT in `flags` the
 * record closes the transaction; it becomes visible once durable as the
 * policy says. Stores the assigned msgId in *msg_id (may be NULL).
 * Payloads are at most 1 GiB. On error the open transaction is aborted.
 * (Implementation note: OX_EINVAL for bad arguments leaves the log as it
 * was. Any write or fsync error - OX_EIO, OX_ENOSPC, ... - marks the log
 * failed: every later append, abort, sync and close returns that error and
 * nothing more becomes visible; the open transaction is dropped when the log
 * is reopened, which is the only way back.)
 */
int ox_log_append(ox_log *log, const ox_log_srcpos *src, const void *payload, uint32_t len,
                  uint32_t flags, uint64_t *msg_id, ox_errbuf *eb);

/*
 * After the log failed with OX_ENOSPC (disk full), returns it to the end of
 * its last visible transaction and clears the failure, so that the writer
 * can append again: everything appended after that point (committed but not
 * yet durable, or open) is cut off, and the writer must append it again from
 * its source (ox_log_info's last_src says where). Visible records are never
 * touched, and readers keep reading. Returns 0 (also when the log had not
 * failed), the original error for any other failure (only reopening
 * recovers from those), or an error if cutting back failed (the log stays
 * failed). Writer thread. Never logs.
 */
int ox_log_retry(ox_log *log, ox_errbuf *eb);

/* Discards the open transaction, if any (its bytes are truncated). */
int ox_log_abort(ox_log *log, ox_errbuf *eb);

/* Makes every committed record durable now and visible; for group commit
 * the writer may call this whenever its source has nothing more pending. */
int ox_log_sync(ox_log *log, ox_errbuf *eb);

/* Summary for status pages. Any thread. first_src is read from the first
 * retained record (after retention too); bytes counts every segment,
 * including not yet visible bytes of the one being written. */
typedef struct ox_log_info {
    uint64_t first_msg_id;   /* earliest retained visible record, 0 if none */
    uint64_t last_msg_id;    /* latest visible record, 0 if none */
    uint64_t next_msg_id;    /* what the next append will get */
    ox_log_srcpos first_src; /* of first_msg_id */
    ox_log_srcpos last_src;  /* of last_msg_id: where capture resumes */
    uint64_t bytes;          /* total size of retained segments */
    uint32_t segments;
} ox_log_info;

int ox_log_info_get(ox_log *log, ox_log_info *info);

/* Applies retention (age and size cap) relative to `now` (seconds since the
 * epoch): removes whole segments, never the one being written. Reports the
 * number of segments and bytes removed (both may be NULL). */
int ox_log_retain(ox_log *log, int64_t now, uint32_t *segments_removed, uint64_t *bytes_removed,
                  ox_errbuf *eb);

enum ox_log_start_kind {
    OX_LOG_FROM_MSGID = 0,     /* first record with msg_id >= value */
    OX_LOG_FROM_TIMESTAMP = 1, /* first transaction whose records have timestamp >= value */
    OX_LOG_FROM_SRCPOS = 2,    /* first transaction at or after (file_idx, offset) */
    OX_LOG_FROM_EARLIEST = 3,
    OX_LOG_FROM_LATEST = 4, /* only records appended from now on */
};

typedef struct ox_log_start {
    int kind; /* enum ox_log_start_kind */
    uint64_t msg_id;
    int64_t timestamp;
    uint64_t file_idx;
    uint64_t offset;
} ox_log_start;

/*
 * Opens a reader. A start before the earliest retained record is OX_EGONE; a
 * start beyond the tail is accepted and waits for data. *out is owned by the
 * caller; free with ox_log_reader_free. Any thread.
 * (Implementation notes: OX_LOG_FROM_TIMESTAMP and _SRCPOS find the first
 * record, in log order, whose timestamp / (file_idx, offset) is >= the value
 * and start at the first record of its transaction; if no visible record
 * matches yet, the reader waits at the end. Once retention has removed
 * anything, a timestamp or position before the first retained record's is
 * OX_EGONE. msg_id 0 means 1. One reader is used by one thread at a time.)
 */
int ox_log_reader_open(ox_log *log, const ox_log_start *start, ox_log_reader **out, ox_errbuf *eb);

/*
 * Returns the next visible record in *rec: 0, OX_EAGAIN if none became
 * visible within timeout_ms (0 = don't wait, -1 = wait forever), OX_ECLOSED
 * once the log is closed, OX_EGONE if retention removed the reader's next
 * segment before it got there, OX_ECORRUPT (with file and offset in eb).
 */
int ox_log_reader_next(ox_log_reader *r, ox_log_record *rec, int timeout_ms, ox_errbuf *eb);

/* Wakes a reader blocked in ox_log_reader_next (it returns OX_EAGAIN), for
 * example when its subscriber went away. Any thread. */
void ox_log_reader_wake(ox_log_reader *r);

void ox_log_reader_free(ox_log_reader *r);

#endif
