/*
 * ox_pg_source.h - the PostgreSQL logical replication capture back end.
 *
 * ox_pg_source_ops implements ox_source_ops (see ox_source.h) over libpq in
 * replication mode (loaded at run time, ox_pq.h): START_REPLICATION SLOT
 * ... LOGICAL with the pgoutput plugin, text values, and the pure decoder of
 * ox_pgoutput.h. docs/pg_capture.md is the user-facing description.
 *
 * Slot and publication: cfg->slot and cfg->publication name existing ones;
 * NULL derives "oxbow_<store name>" (lower case, [a-z0-9_], at most 63
 * characters, with a hash suffix when shortened) from cfg->name. start()
 * creates a missing publication (FOR ALL TABLES) and then, only when the
 * start is not a position (now or a timestamp: a new store), the slot. A
 * missing slot when a position is asked for means it was dropped behind
 * the store's back: OX_EGONE.
 *
 * Positions: an LSN is fileIdx = LSN >> 32 and offset = LSN & 0xffffffff;
 * a COMMIT's resume point is its end LSN. start(FILEPOS) streams from that
 * LSN; the server skips every transaction that committed before it.
 *
 * Confirmation: the standby status updates report as flushed only what
 * confirm() said is durable, or, when every delivered transaction is durable
 * and none is open, the server's last keepalive position (as pg_recvlogical
 * does), so that an idle store does not pin WAL.
 *
 * Errors: OX_ECONFIG wal_level not logical, slot of another plugin or
 * database, database missing; OX_EPERM no REPLICATION attribute or no
 * right to create the publication/slot; OX_EAUTH authentication; OX_EGONE
 * slot missing or invalidated (max_slot_wal_keep_size), or a timestamp
 * before the slot's creation; OX_ECONN unreachable at start() (once streaming, a lost link is
 * retried for ever, 100 ms doubling to 5 s, and shown through state());
 * OX_EBUSY the slot stays in use by another process (retried 60 s first).
 *
 * Thread: one thread at a time. Never logs.
 */
#ifndef OX_PG_SOURCE_H
#define OX_PG_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ox_source.h"

extern const struct ox_source_ops ox_pg_source_ops;

/* The slot or publication name derived from a store name (see above). */
void ox_pg_default_name(const char *store_name, char *out, size_t n);

/* Lag of the slot as last seen (for status pages): the server's WAL end
 * minus the confirmed position, in bytes; false before the first keepalive. */
bool ox_pg_source_lag(ox_source *s, uint64_t *wal_end, uint64_t *confirmed);

#endif
