/* ox_mysql_start.c - binlog list, event headers and the timestamp search. */
#include "ox_mysql_start.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ox_alloc.h"
#include "ox_mysql_conn.h"
#include "ox_mysql_dump.h"

int ox_mysql_list_binlogs(MYSQL *m, const ox_source_config *cfg, ox_mysql_binlog **out, size_t *n,
                          ox_errbuf *eb)
{
    static const char sql[] = "SHOW BINARY LOGS";
    *out = NULL;
    *n = 0;
    if (mysql_real_query(m, sql, sizeof sql - 1) != 0)
        return ox_mysql_error(
            m, cfg, "run SHOW BINARY LOGS (needs REPLICATION CLIENT, BINLOG MONITOR in MariaDB)",
            eb);
    MYSQL_RES *r = mysql_store_result(m);
    if (!r)
        return ox_mysql_error(m, cfg, "read SHOW BINARY LOGS", eb);
    size_t cnt = (size_t)mysql_num_rows(r);
    ox_mysql_binlog *v = ox_xcalloc(cnt ? cnt : 1, sizeof *v);
    size_t i = 0;
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(r)) && i < cnt) {
        snprintf(v[i].name, sizeof v[i].name, "%s", row[0] ? row[0] : "");
        v[i].size = row[1] ? strtoull(row[1], NULL, 10) : 0;
        i++;
    }
    mysql_free_result(r);
    *out = v;
    *n = i;
    return 0;
}

uint64_t ox_mysql_binlog_index(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot || !dot[1])
        return UINT64_MAX;
    char *end;
    unsigned long long v = strtoull(dot + 1, &end, 10);
    return *end ? UINT64_MAX : (uint64_t)v;
}

/* A non-blocking dump of one file from position 4 on a new connection. */
static int open_dump(const ox_source_config *cfg, bool mariadb, uint32_t server_id,
                     const char *file, MYSQL **out, ox_errbuf *eb)
{
    MYSQL *m = NULL;
    int rc = ox_mysql_connect(cfg, 30, &m, eb);
    if (rc == 0)
        rc = ox_mysql_dump_session(m, cfg, mariadb, 0, eb);
    if (rc == 0)
        rc = ox_mysql_dump_filepos(m, cfg, file, 4, server_id, OX_DUMP_NON_BLOCK, eb);
    if (rc != 0 && m) {
        mysql_close(m);
        m = NULL;
    }
    *out = m;
    return rc;
}

/* Timestamp of the first real event of `file` (its FORMAT_DESCRIPTION). */
static int first_event_time(const ox_source_config *cfg, bool mariadb, uint32_t server_id,
                            const char *file, int64_t *ts, ox_errbuf *eb)
{
    MYSQL *m = NULL;
    int rc = open_dump(cfg, mariadb, server_id, file, &m, eb);
    *ts = -1;
    while (rc == 0) {
        const uint8_t *ev;
        size_t len;
        ox_ev_header h;
        if ((rc = ox_mysql_dump_read(m, cfg, 30000, &ev, &len, eb)) != 0)
            break;
        if ((rc = ox_ev_header_parse(ev, len, &h)) != 0)
            break;
        if (h.timestamp != 0 && !(h.flags & OX_EV_ARTIFICIAL_F)) {
            *ts = h.timestamp;
            break;
        }
    }
    if (rc == OX_ECLOSED)
        rc = 0;
    if (m)
        mysql_close(m);
    return rc;
}

static bool is_txn_start(uint8_t type)
{
    /* MariaDB GTID, MySQL GTID and ANONYMOUS_GTID. */
    return type == 162 || type == 33 || type == 34;
}

int ox_mysql_find_timestamp(const ox_source_config *cfg, bool mariadb, bool checksum,
                            uint32_t server_id, const ox_mysql_binlog *logs, size_t n, int64_t ts,
                            char *file, size_t cap, uint64_t *pos, ox_errbuf *eb)
{
    if (n == 0)
        return ox_errf(eb, OX_ENOENT, "the server has no binary logs");
    /* Binary search for the last file whose first event is before ts: files
     * are in time order, so the first transaction at or after ts is in it or
     * (if it ends earlier) at the start of a later one. Strictly before:
     * several files may begin within the second ts, and the one before them
     * may end with transactions of that second. */
    size_t lo = 0, hi = n; /* invariant: files < lo start before ts, files >= hi don't */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t t;
        int rc = first_event_time(cfg, mariadb, server_id, logs[mid].name, &t, eb);
        if (rc != 0)
            return rc;
        if (t >= 0 && t < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == 0) {
        /* Every file begins at or after ts: is the oldest one later than ts?
         * Then the transactions of [ts, its start) are gone (purged, or
         * never logged): starting later would lose them silently. */
        int64_t t0;
        int rc = first_event_time(cfg, mariadb, server_id, logs[0].name, &t0, eb);
        if (rc != 0)
            return rc;
        if (t0 > ts) {
            char when[40], asked[40];
            time_t tt = (time_t)t0, ta = (time_t)ts;
            struct tm tm;
            strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&tt, &tm));
            strftime(asked, sizeof asked, "%Y-%m-%d %H:%M:%S UTC", gmtime_r(&ta, &tm));
            return ox_errf(eb, OX_EGONE,
                           "start time %lld (%s) is before the oldest binlog the source has: "
                           "%s begins at %lld (%s); start at or after that time",
                           (long long)ts, asked, logs[0].name, (long long)t0, when);
        }
    }
    size_t start = lo > 0 ? lo - 1 : 0;
    /* Scan from that file on; the dump continues across rotations. */
    MYSQL *m = NULL;
    int rc = open_dump(cfg, mariadb, server_id, logs[start].name, &m, eb);
    if (rc != 0)
        return rc;
    snprintf(file, cap, "%s", logs[start].name);
    *pos = 4;
    char cur[256];
    snprintf(cur, sizeof cur, "%s", logs[start].name);
    uint64_t end_pos = 4;
    bool seen_gtid = false, found = false;
    for (;;) {
        const uint8_t *ev;
        size_t len;
        ox_ev_header h;
        if ((rc = ox_mysql_dump_read(m, cfg, 60000, &ev, &len, eb)) != 0)
            break;
        if ((rc = ox_ev_header_parse(ev, len, &h)) != 0)
            break;
        if (h.type == OX_EV_ROTATE) {
            uint64_t rp;
            if ((rc = ox_ev_rotate_parse(ev, len, checksum, cur, sizeof cur, &rp)) != 0) {
                ox_errf(eb, rc, "bad ROTATE event while searching for a timestamp");
                break;
            }
            end_pos = rp;
            continue;
        }
        if (h.log_pos == 0 || (h.flags & OX_EV_ARTIFICIAL_F))
            continue;
        uint64_t off = h.log_pos >= h.size ? h.log_pos - h.size : 0;
        end_pos = h.log_pos;
        if (is_txn_start(h.type))
            seen_gtid = true;
        bool candidate = is_txn_start(h.type) || (!seen_gtid && h.type == 2);
        if (candidate && (int64_t)h.timestamp >= ts) {
            snprintf(file, cap, "%s", cur);
            *pos = off;
            found = true;
            break;
        }
    }
    mysql_close(m);
    if (rc == OX_ECLOSED)
        rc = 0;
    if (rc == 0 && !found) {
        /* Nothing reaches ts yet: start at the current end. */
        snprintf(file, cap, "%s", cur);
        *pos = end_pos;
    }
    return rc;
}
