/*
 * ox_mysql_source.h - the MySQL/MariaDB binlog capture back end.
 *
 * ox_mysql_source_ops implements ox_source_ops (see ox_source.h) over the
 * replication protocol: it connects with libmariadb, checks the server
 * (log_bin on, binlog_format=ROW, privileges), registers as a replica with
 * cfg->server_id (0 picks 1000000000 + pid % 1000000), negotiates CRC32
 * checksums and heartbeats, dumps the binlog from the requested start and
 * feeds every event to the binlog decoder (ox_binlog.h), which verifies the
 * checksum and produces the change records.
 *
 * Starting points: the current end (SHOW MASTER STATUS), file:pos (or the
 * checkpoint's fileIdx), a GTID position (MariaDB "0-1-42,1-2-7" via
 * @slave_connect_state; MySQL GTID sets "uuid:1-42" via COM_BINLOG_DUMP_GTID),
 * or a timestamp: a binary search over the binlog files' first event times
 * (one short non-blocking dump per probe), then a scan of that file to the
 * first transaction (GTID event) whose timestamp is >= the requested time.
 *
 * Heartbeats: the server sends HEARTBEAT events (timestamp 0) when idle for
 * heartbeat_ms. They reach the callback as op HEARTBEAT with timestamp = the
 * source's current time, estimated as local time plus the clock offset
 * measured at connect (SELECT UNIX_TIMESTAMP(NOW(6)) against the local clock
 * at the midpoint of the round trip), so an idle source still shows a fresh
 * delay. If nothing at all (not even a heartbeat) arrives for
 * ox_source_dead_after_ms(heartbeat_ms), the connection is treated as lost.
 *
 * Reconnects: when the connection drops (server restart or shutdown,
 * network, dead link), poll() calls reset() if a transaction was open,
 * resets the decoder and reconnects with ox_time.h's backoff (100 ms doubling
 * to 5 s between attempts, reported through ops->state), dumping
 * again from the position right after the last complete transaction (the
 * next_offset of the last COMMIT, or of the last DDL outside a
 * transaction). An unreachable server is retried for ever; attempts stop at
 * once for errors retrying cannot fix (purged binlog, privileges, binlog_format,
 * authentication). While waiting for the next attempt poll() returns
 * OX_EAGAIN when its timeout ends.
 *
 * Errors (code, and the text in eb that the store shows in errMsg):
 *   OX_EAUTH   wrong password / unknown user (server error 1045)
 *   OX_EPERM   missing REPLICATION SLAVE, REPLICATION CLIENT (BINLOG
 *              MONITOR) or SELECT (needed for information_schema when
 *              binlog_row_metadata is not FULL)
 *   OX_ECONFIG binlog off, or binlog_format not ROW
 *   OX_EGONE   the start position was purged (error 1236 or not in SHOW
 *              BINARY LOGS)
 *   OX_ECONN   host unreachable / connection refused at start()
 *   OX_ECLOSED end of the binlog in non-blocking mode (in blocking mode the
 *              server ends the dump only when it shuts down: a reconnect)
 *
 * Thread: one thread at a time. Never logs.
 */
#ifndef OX_MYSQL_SOURCE_H
#define OX_MYSQL_SOURCE_H

#include <stdbool.h>
#include <stdint.h>

#include "ox_source.h"

extern const struct ox_source_ops ox_mysql_source_ops;

/* Non-blocking dump (before start()): the server ends the stream at the
 * current end of the binlog and poll() then returns OX_ECLOSED. For tools and
 * tests that capture "everything so far". */
void ox_mysql_source_set_nonblock(ox_source *s, bool on);

/* Where capture would resume now: the file and offset right after the last
 * complete transaction delivered (or the start position). Returns false if
 * not known yet (GTID start before the first commit). */
bool ox_mysql_source_resume_point(ox_source *s, const char **file, uint64_t *offset);

/* Counters for tests: reconnects done, information_schema lookups. */
typedef struct ox_mysql_source_stats {
    uint64_t reconnects;
    uint64_t schema_lookups;
    uint64_t schema_hits;
    uint64_t events;
    /* Addition (schema history): see ox_binlog_stats; records in the
     * history file. */
    uint64_t schema_mismatches;
    uint64_t schema_unknown;
    uint64_t schema_records;
} ox_mysql_source_stats;

void ox_mysql_source_stats_get(ox_source *s, ox_mysql_source_stats *out);

#endif
