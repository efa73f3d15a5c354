/*
 * ox_mysql_dump.h - the replication protocol on a libmariadb connection.
 *
 * Wire formats (all integers little-endian):
 *
 *  COM_BINLOG_DUMP (0x12):      u32 position, u16 flags, u32 server_id,
 *                               file name (rest of packet, no NUL).
 *  COM_BINLOG_DUMP_GTID (0x1e): u16 flags, u32 server_id, u32 name_len,
 *   (MySQL 5.6+)                name, u64 position, and with flag
 *                               BINLOG_THROUGH_GTID (4): u32 data_len, data =
 *                               u64 n_sids, per sid: 16-byte UUID, u64
 *                               n_intervals, per interval u64 start, u64 end
 *                               (end exclusive).
 *  COM_REGISTER_SLAVE (0x15):   u32 server_id, u8 len + host, u8 len + user,
 *                               u8 len + password, u16 port, u32 rank, u32
 *                               master_id.
 *  Each event arrives as one packet: 0x00 then the event (19-byte header,
 *  body, CRC32 when negotiated); 0xfe with fewer than 8 bytes is the end of
 *  a non-blocking dump; 0xff is an error packet.
 *
 * MariaDB GTID positions are sent as the user variable @slave_connect_state
 * before a COM_BINLOG_DUMP with an empty file name.
 *
 * Thread: one thread per connection. Never logs.
 */
#ifndef OX_MYSQL_DUMP_H
#define OX_MYSQL_DUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "ox_binlog_stream.h" /* ox_mysql_gtid_set_encode */
#include "ox_buf.h"
#include "ox_err.h"
#include "ox_source.h"

#define OX_DUMP_NON_BLOCK     0x01 /* BINLOG_DUMP_NON_BLOCK: EOF at the end instead of waiting */
#define OX_DUMP_ANNOTATE_ROWS 0x02 /* MariaDB: send ANNOTATE_ROWS events */
#define OX_DUMP_THROUGH_GTID  0x04 /* MySQL COM_BINLOG_DUMP_GTID: data carries a GTID set */

/*
 * Session settings before a dump: checksum negotiation
 * (@master_binlog_checksum = @@global.binlog_checksum), MariaDB capability 4
 * (GTID events), heartbeat period (heartbeat_ms > 0). Returns 0 or OX_E*.
 */
int ox_mysql_dump_session(MYSQL *m, const ox_source_config *cfg, bool mariadb, int heartbeat_ms,
                          ox_errbuf *eb);

/* OX_ECONFIG, saying why, unless the libmariadb loaded at run time is of the
 * series whose private read-ahead fields this file was built for (see
 * ox_mysql_dump.c); ox_mysql_dump_session calls it. */
int ox_mysql_client_check(ox_errbuf *eb);

/* Registers as a replica (COM_REGISTER_SLAVE): shows in SHOW SLAVE HOSTS. */
int ox_mysql_register_replica(MYSQL *m, const ox_source_config *cfg, uint32_t server_id,
                              ox_errbuf *eb);

/* Sends COM_BINLOG_DUMP from file:pos. The server's errors (purged file,
 * privileges) arrive with the first read. */
int ox_mysql_dump_filepos(MYSQL *m, const ox_source_config *cfg, const char *file, uint64_t pos,
                          uint32_t server_id, uint16_t flags, ox_errbuf *eb);

/* MariaDB: sets @slave_connect_state = gtid_pos (prepared statement) and
 * strict mode, then dumps from that GTID position (events after it). */
int ox_mysql_dump_gtid_mariadb(MYSQL *m, const ox_source_config *cfg, const char *gtid_pos,
                               uint32_t server_id, uint16_t flags, ox_errbuf *eb);

/* MySQL: COM_BINLOG_DUMP_GTID with the executed GTID set `gtid_set` (text,
 * "uuid:1-5:7,uuid2:1-3"): the server sends every transaction not in it. */
int ox_mysql_dump_gtid_mysql(MYSQL *m, const ox_source_config *cfg, const char *gtid_set,
                             uint32_t server_id, uint16_t flags, ox_errbuf *eb);

/*
 * Waits up to timeout_ms (<0: forever; on TLS connections the read blocks
 * until a packet arrives, which heartbeats bound) for the next dump packet and returns
 * the event in *ev and *len (without the 0x00 byte; valid until the next read).
 * Returns 0, OX_EAGAIN on timeout, OX_ECLOSED at the end of a non-blocking
 * dump, or an error from ox_mysql_error (connection lost: OX_ECONN).
 */
int ox_mysql_dump_read(MYSQL *m, const ox_source_config *cfg, int timeout_ms, const uint8_t **ev,
                       size_t *len, ox_errbuf *eb);

/* True if a packet is already buffered or readable without waiting (always
 * false on TLS connections, whose buffering is invisible here). */
bool ox_mysql_dump_ready(MYSQL *m);

#endif
