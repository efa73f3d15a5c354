/*
 * ox_pgoutput.h - decoder of PostgreSQL logical replication bytes: the
 * walsender's CopyData frames and the pgoutput plugin's messages.
 *
 * Pure: no libpq, no I/O, so that the fuzz target (tests/fuzz/fuzz_pgoutput.c)
 * can feed it arbitrary bytes. The PostgreSQL source (ox_pg_source.c) reads
 * frames with libpq and passes them here.
 *
 * Frames (inside CopyData of START_REPLICATION ... LOGICAL):
 *   'w' XLogData:  Int64 dataStart, Int64 walEnd, Int64 sendTime, message
 *   'k' keepalive: Int64 walEnd, Int64 sendTime, Byte replyRequested
 *
 * pgoutput messages (protocol version 1/2, text values; all integers are
 * big-endian, strings are NUL-terminated):
 *   'B' Begin     Int64 final_lsn, Int64 commit_ts, Int32 xid
 *   'C' Commit    Int8 flags, Int64 commit_lsn, Int64 end_lsn, Int64 commit_ts
 *   'O' Origin    Int64 lsn, String name                        (skipped)
 *   'R' Relation  Int32 relid, String nsp, String rel, Int8 replident,
 *                 Int16 natts, natts x (Int8 flags, String name, Int32 typoid,
 *                 Int32 typmod)
 *   'Y' Type      Int32 oid, String nsp, String name             (skipped)
 *   'I' Insert    Int32 relid, 'N' TupleData
 *   'U' Update    Int32 relid, ['K'|'O' TupleData], 'N' TupleData
 *   'D' Delete    Int32 relid, 'K'|'O' TupleData
 *   'T' Truncate  Int32 nrels, Int8 options, nrels x Int32 relid
 *   'M' Message   Int8 flags (1: transactional), Int64 lsn, String prefix, Int32 n,
 *                 n bytes (`messages 'true'`: a "message" record)
 *
 * Streaming (protocol 2, `streaming 'on'`; ox_pgoutput_stream_parse):
 *   'S' Stream Start   Int32 xid, Int8 first_segment
 *   'E' Stream Stop    (nothing)
 *   'c' Stream Commit  Int32 xid, Int8 flags, Int64 commit_lsn, Int64 end_lsn,
 *                      Int64 commit_ts
 *   'A' Stream Abort   Int32 xid, Int32 subxid (xid itself: the whole transaction)
 *   Between 'S' and 'E', R/Y/I/U/D/T/M carry Int32 xid (the subtransaction's)
 *   right after the type byte; the rest is as above.
 *   TupleData     Int16 ncols, ncols x ('n' | 'u' | 't' Int32 n, n bytes)
 *
 * Records produced (docs/records.md, "PostgreSQL"): BEGIN (gtid = the xid as
 * text), INSERT/UPDATE/DELETE with db = "database.schema", table, pk (the
 * replica-identity key columns when the identity is DEFAULT or INDEX; with
 * FULL or NOTHING the primary key as the pk lookup gives it, if set),
 * before/after, and TRUNCATE as a DDL record with sql
 * `TRUNCATE TABLE "schema"."table"` per table; COMMIT with xid.
 * Positions: file_idx = LSN >> 32, offset = LSN & 0xffffffff; a COMMIT's
 * next_offset (and its file_idx) are the commit's end LSN, the resume point.
 *
 * Thread: one decoder per thread. Never logs.
 */
#ifndef OX_PGOUTPUT_H
#define OX_PGOUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "ox_buf.h"
#include "ox_change.h"
#include "ox_err.h"
#include "ox_source.h" /* ox_change_fn */

/* PostgreSQL epoch (2000-01-01) in Unix seconds. */
#define OX_PG_EPOCH_UNIX 946684800LL

enum ox_pg_frame_kind {
    OX_PG_FRAME_XLOGDATA = 'w',
    OX_PG_FRAME_KEEPALIVE = 'k',
};

typedef struct ox_pg_frame {
    int kind;           /* enum ox_pg_frame_kind */
    uint64_t start;     /* XLogData: LSN of the message */
    uint64_t wal_end;   /* the server's end of WAL / sent position */
    int64_t send_time;  /* microseconds since 2000-01-01 */
    int reply;          /* keepalive: the server asks for a status update now */
    const uint8_t *msg; /* XLogData: the pgoutput message (points into the frame) */
    size_t msg_len;
} ox_pg_frame;

/* Parses one CopyData frame. 0, or OX_ETRUNC/OX_EPROTO with detail in eb. */
int ox_pg_frame_parse(const uint8_t *p, size_t n, ox_pg_frame *out, ox_errbuf *eb);

/* Writes the 34-byte standby status update ('r') into out. */
void ox_pg_status_update(uint8_t out[34], uint64_t written, uint64_t flushed, uint64_t applied,
                         int64_t now_pg_us, int reply);

/* "X/Y" LSN text <-> value. parse returns 0 or OX_EINVAL. */
int ox_pg_lsn_parse(const char *s, uint64_t *lsn);
void ox_pg_lsn_format(uint64_t lsn, char out[24]);

typedef struct ox_pgoutput ox_pgoutput;

/* Creates a decoder for database `dbname` (copied; it prefixes each record's
 * db). Never fails (aborts on OOM like every daemon allocation). */
ox_pgoutput *ox_pgoutput_create(const char *dbname);
void ox_pgoutput_free(ox_pgoutput *d);

/*
 * Looks up the primary key of table `relid` (its pg_class OID) for a
 * Relation whose replica identity names no key (FULL, NOTHING): appends
 * the key's column names in key order to `names`, each NUL-terminated.
 * Non-zero (or nothing appended): pk is omitted, never guessed.
 */
typedef int (*ox_pg_pk_fn)(void *arg, uint32_t relid, ox_buf *names);

/* Sets the lookup (NULL: none, pk is omitted for FULL and NOTHING). */
void ox_pgoutput_set_pk_lookup(ox_pgoutput *d, ox_pg_pk_fn fn, void *arg);

/* Forgets the open transaction (a reconnect); relations are kept, and the
 * server resends them anyway. */
void ox_pgoutput_reset(ox_pgoutput *d);

/* Decodes one pgoutput message that starts at WAL position `lsn`, calling fn
 * for each record; fn's non-zero return stops decoding and is returned.
 * Errors: OX_ETRUNC/OX_EPROTO/OX_ECORRUPT with the LSN named in eb. */
int ox_pgoutput_feed(ox_pgoutput *d, const uint8_t *msg, size_t len, uint64_t lsn, ox_change_fn fn,
                     void *arg, ox_errbuf *eb);

/* The current frame's send time (Unix seconds): the timestamp of a
 * message sent outside any transaction, which carries no time itself. */
void ox_pgoutput_set_send_time(ox_pgoutput *d, int64_t unix_s);

/* True between a Begin and its Commit. */
int ox_pgoutput_in_txn(const ox_pgoutput *d);

/* One message of the streaming protocol, as ox_pgoutput_stream_parse reads it. */
typedef struct ox_pg_stream_msg {
    int kind;            /* 'S', 'E', 'c', 'A'; inside a block the change's type
                            byte ('R', 'Y', 'I', 'U', 'D', 'T', 'M', or 'O'); 0:
                            not a streaming message (feed it to the decoder) */
    uint32_t xid;        /* S, c, A: the top-level transaction; changes: the
                            (sub)transaction that made the change */
    uint32_t subxid;     /* A */
    int first;           /* S: first block of the transaction */
    uint64_t commit_lsn; /* c */
    uint64_t end_lsn;    /* c: the resume point after it */
    int64_t commit_ts;   /* c: microseconds since 2000-01-01 */
    size_t body;         /* changes: offset of what follows the xid */
} ox_pg_stream_msg;

/* Classifies one pgoutput message; `in_block` says whether a Stream Start
 * is open (changes then carry an xid). 0 with out filled (kind 0 for a
 * message of a non-streamed transaction), or OX_ETRUNC/OX_EPROTO with the
 * LSN named in eb. Pure. */
int ox_pgoutput_stream_parse(const uint8_t *msg, size_t len, int in_block, uint64_t lsn,
                             ox_pg_stream_msg *out, ox_errbuf *eb);

/* Replays a streamed transaction (m is its Stream Commit): _begin delivers
 * its BEGIN at `lsn` (the first streamed change's), then the caller feeds
 * each kept change (type byte + body, without the xid) to
 * ox_pgoutput_feed, then _commit delivers its COMMIT. The records are those
 * the same transaction gives unstreamed. Returns as ox_pgoutput_feed. */
int ox_pgoutput_begin_streamed(ox_pgoutput *d, const ox_pg_stream_msg *m, uint64_t lsn,
                               ox_change_fn fn, void *arg, ox_errbuf *eb);
int ox_pgoutput_commit_streamed(ox_pgoutput *d, const ox_pg_stream_msg *m, ox_change_fn fn,
                                void *arg, ox_errbuf *eb);

#endif
