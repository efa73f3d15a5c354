/*
 * ox_mysql_start.h - resolving where a binlog capture starts.
 *
 * The binlog file list (SHOW BINARY LOGS), file-index to name mapping, the
 * event header fields capture needs, and the timestamp search: a binary
 * search over the files' first event times, then a scan of one file to the
 * first transaction at or after the time. Thread: one thread. Never logs.
 */
#ifndef OX_MYSQL_START_H
#define OX_MYSQL_START_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mysql.h>

#include "ox_err.h"
#include "ox_source.h"

/* Binlog v4 event header: 19 bytes. */
#define OX_EV_HEADER_LEN   19
#define OX_EV_ROTATE       4
#define OX_EV_FORMAT_DESC  15
#define OX_EV_HEARTBEAT    27
#define OX_EV_ARTIFICIAL_F 0x20

typedef struct ox_ev_header {
    uint32_t timestamp;
    uint8_t type;
    uint32_t server_id;
    uint32_t size;
    uint32_t log_pos;
    uint16_t flags;
} ox_ev_header;

/* Reads the header of an event of len bytes; OX_ETRUNC if too short. */
int ox_ev_header_parse(const uint8_t *ev, size_t len, ox_ev_header *h);

/* Parses a ROTATE event (checksum: whether it ends with 4 CRC bytes) into the
 * next file's name and position. Returns 0 or OX_ECORRUPT. */
int ox_ev_rotate_parse(const uint8_t *ev, size_t len, bool checksum, char *name, size_t cap,
                       uint64_t *pos);

typedef struct ox_mysql_binlog {
    char name[256];
    uint64_t size;
} ox_mysql_binlog;

/* SHOW BINARY LOGS into a malloc'd array (*out, freed by the caller). Needs
 * REPLICATION CLIENT / BINLOG MONITOR: OX_EPERM otherwise. */
int ox_mysql_list_binlogs(MYSQL *m, const ox_source_config *cfg, ox_mysql_binlog **out, size_t *n,
                          ox_errbuf *eb);

/* The numeric suffix of a binlog name ("mysql-bin.000042" -> 42), or
 * UINT64_MAX if it has none. */
uint64_t ox_mysql_binlog_index(const char *name);

/*
 * Finds the first transaction whose events have timestamp >= ts, among the
 * n binlogs (in order). Opens its own short-lived connections. Fills
 * file/pos; if no event reaches ts (a time in the future), the end of the
 * last binlog. A ts before the first event of the oldest binlog is OX_EGONE
 * with the oldest available time in eb. Returns 0 or an OX_E* code.
 */
int ox_mysql_find_timestamp(const ox_source_config *cfg, bool mariadb, bool checksum,
                            uint32_t server_id, const ox_mysql_binlog *logs, size_t n, int64_t ts,
                            char *file, size_t cap, uint64_t *pos, ox_errbuf *eb);

#endif
