/*
 * ox_pg_stream.h - in-progress transactions streamed by the walsender
 * (pgoutput `streaming 'on'`, PostgreSQL 14+): spilled to files, replayed
 * at their Stream Commit, deleted at their Stream Abort.
 *
 * Nothing of a streamed transaction reaches the consumer before its commit:
 * each change is appended to the transaction's spill file (through a stdio
 * buffer, so memory stays that of one message whatever the size), and at
 * Stream Commit the file is read back in order, the changes of aborted
 * subtransactions skipped, between a BEGIN and a COMMIT made as the same
 * transaction unstreamed would give them (commit order, commit LSN).
 *
 * Spill file `<dir>/<xid>.spill`, one per open streamed transaction, a
 * sequence of entries in host byte order:
 *   u32 len, u32 subxid, u64 lsn, len bytes (the message without its xid)
 * They are scratch, never durable: a restart deletes them all, and the
 * server streams the transaction again from its start (the slot was never
 * confirmed past its commit), so they are written without fsync.
 *
 * Thread: one per source. Never logs.
 */
#ifndef OX_PG_STREAM_H
#define OX_PG_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ox_err.h"
#include "ox_pgoutput.h"

typedef struct ox_pg_stream ox_pg_stream;

/* Creates the spill state in directory `dir` (created 0700 if missing) in
 * *out (the caller frees it); spill files left there by an earlier run are
 * deleted. 0, or OX_EIO with eb set when the directory cannot be made. */
int ox_pg_stream_create(const char *dir, ox_pg_stream **out, ox_errbuf *eb);

/* Deletes every spill file and frees; NULL is a no-op. */
void ox_pg_stream_free(ox_pg_stream *s);

/* Forgets every streamed transaction and an unfinished replay (a
 * reconnect: the server streams them again), deleting their files. */
void ox_pg_stream_reset(ox_pg_stream *s);

/*
 * Takes one pgoutput message at WAL position lsn. Returns 1 when it was a
 * streaming message (spilled, or a block boundary, an abort, or a commit,
 * which starts a replay), 0 when it belongs to a non-streamed transaction
 * (the caller feeds it to the decoder), or a negative OX_E* code: a
 * protocol error or OX_EIO/OX_ENOSPC writing the spill file (eb names it).
 */
int ox_pg_stream_feed(ox_pg_stream *s, const uint8_t *msg, size_t len, uint64_t lsn, ox_errbuf *eb);

/* True while a committed streamed transaction has records left to replay. */
bool ox_pg_stream_replaying(const ox_pg_stream *s);

/* True while a stream block is open or a streamed transaction is
 * neither committed nor aborted. */
bool ox_pg_stream_open(const ox_pg_stream *s);

/*
 * Replays at most `max` changes of the committed transaction into `dec`
 * (records to fn, as ox_pgoutput_feed), its BEGIN first and its COMMIT
 * last, then deletes its file. Returns 0 (call again while
 * ox_pg_stream_replaying), fn's non-zero return, or a decoder or I/O error.
 */
int ox_pg_stream_replay(ox_pg_stream *s, ox_pgoutput *dec, size_t max, ox_change_fn fn, void *arg,
                        ox_errbuf *eb);

#endif
