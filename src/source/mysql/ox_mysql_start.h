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

#include "ox_binlog_stream.h" /* ox_ev_header */
#include "ox_err.h"
#include "ox_source.h"

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
