/*
 * ox_mysql_source.c - the MySQL/MariaDB source: connect, check, dump, feed
 * the decoder, track the resume point, reconnect. See ox_mysql_source.h.
 */
#include "ox_mysql_source.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mysql.h>

#include "ox_alloc.h"
#include "ox_binlog.h"
#include "ox_mysql_conn.h"
#include "ox_mysql_ddl.h"
#include "ox_mysql_dump.h"
#include "ox_mysql_schema.h"
#include "ox_mysql_schema_hist.h"
#include "ox_mysql_start.h"
#include "ox_time.h"

/* Reconnect backoff (ox_time.h): the figures docs/store.md promises. */
#define BACKOFF_FIRST_MS 100
#define BACKOFF_MAX_MS   5000
#define POLL_BATCH       8192 /* changes per poll() before returning */

struct mysql_source {
    struct ox_source base; /* first: ox_source* <-> mysql_source* */
    ox_source_config cfg;  /* strings below are our copies */
    char *host, *user, *password, *tls_ca;
    uint32_t server_id;
    bool nonblock;

    MYSQL *conn;
    bool mariadb;
    bool checksum;   /* @@global.binlog_checksum != NONE */
    bool need_names; /* binlog_row_metadata is not FULL */
    ox_binlog_decoder *dec;
    ox_mysql_schema *schema; /* live information_schema lookups (no history) */
    /* The schema history (cfg.schema_dir set): the hook's answers and the
     * position of the event being decoded, where the history starts if the
     * start position was not known up front (GTID). */
    char *schema_dir;
    ox_schema_hist *hist;
    ox_binlog_colinfo *ci;
    uint32_t *cipk;
    uint32_t cicap;
    uint64_t ev_fi, ev_pos;
    int64_t clock_offset_ms; /* source clock minus local clock */

    /* The requested start, used until the first resume point is known. */
    int start_kind;
    char *start_gtid;
    bool started;

    /* Stream position (from ROTATE and event headers). */
    char cur_file[256];
    uint64_t cur_pos;
    /* Right after the last complete transaction delivered. */
    char resume_file[256];
    uint64_t resume_pos;
    bool have_resume;
    bool in_txn;

    /* An event read by start() (to surface dump errors early) that still
     * has to be processed by the first poll(). */
    ox_buf pending;
    bool have_pending;

    /* Reconnect state. */
    bool down;
    int64_t down_since_ms, retry_at_ms, last_rx_ms;
    ox_backoff retry;
    uint32_t attempts;  /* failed reconnect attempts since down */
    ox_errbuf down_why; /* why the link went down, then the last attempt's error */
    bool eof;

    /* The caller's callbacks during one poll(). */
    ox_change_fn fn;
    void *arg;
    uint64_t delivered;
    ox_mysql_source_stats stats;
    ox_errbuf hist_err; /* a history error inside on_change */
};

static struct mysql_source *S(ox_source *s)
{
    return (struct mysql_source *)s;
}

void ox_mysql_source_set_nonblock(ox_source *s, bool on)
{
    S(s)->nonblock = on;
}

bool ox_mysql_source_resume_point(ox_source *s, const char **file, uint64_t *offset)
{
    struct mysql_source *m = S(s);
    if (!m->have_resume)
        return false;
    *file = m->resume_file;
    *offset = m->resume_pos;
    return true;
}

void ox_mysql_source_stats_get(ox_source *s, ox_mysql_source_stats *out)
{
    struct mysql_source *m = S(s);
    *out = m->stats;
    if (m->schema)
        ox_mysql_schema_counters(m->schema, &out->schema_lookups, &out->schema_hits);
    ox_binlog_stats bs;
    ox_binlog_decoder_stats(m->dec, &bs);
    out->schema_mismatches = bs.schema_mismatches;
    out->schema_unknown = bs.schema_unknown;
    out->schema_records = m->hist ? ox_schema_hist_records(m->hist) : 0;
}

static char *dup_or_null(const char *s)
{
    return s ? ox_xstrdup(s) : NULL;
}

static int my_open(const ox_source_config *cfg, ox_source **out, ox_errbuf *eb)
{
    *out = NULL;
    if (!cfg || !cfg->user)
        return ox_errf(eb, OX_EINVAL, "mysql source: a user is required");
    struct mysql_source *m = ox_xcalloc(1, sizeof *m);
    ox_backoff_init(&m->retry, BACKOFF_FIRST_MS, BACKOFF_MAX_MS);
    m->base.ops = &ox_mysql_source_ops;
    m->cfg = *cfg;
    m->cfg.host = m->host = ox_xstrdup(cfg->host ? cfg->host : "127.0.0.1");
    m->cfg.user = m->user = ox_xstrdup(cfg->user);
    m->cfg.password = m->password = dup_or_null(cfg->password);
    m->cfg.tls_ca = m->tls_ca = dup_or_null(cfg->tls_ca);
    m->cfg.schema_dir = m->schema_dir = dup_or_null(cfg->schema_dir);
    if (!m->cfg.port)
        m->cfg.port = 3306;
    m->server_id = cfg->server_id ? cfg->server_id : 1000000000u + (uint32_t)(getpid() % 1000000);
    m->nonblock = cfg->until_end != 0;
    if (ox_binlog_decoder_create(&m->dec) != 0) {
        free(m->host);
        free(m->user);
        free(m->password);
        free(m->tls_ca);
        free(m->schema_dir);
        free(m);
        return ox_errf(eb, OX_ENOMEM, "cannot create the binlog decoder");
    }
    m->schema = ox_mysql_schema_create(&m->cfg);
    *out = &m->base;
    return 0;
}

static void drop_conn(struct mysql_source *m)
{
    if (m->conn)
        mysql_close(m->conn);
    m->conn = NULL;
}

static void my_close(ox_source *s)
{
    if (!s)
        return;
    struct mysql_source *m = S(s);
    drop_conn(m);
    ox_mysql_schema_free(m->schema);
    ox_schema_hist_close(m->hist);
    free(m->ci);
    free(m->cipk);
    free(m->schema_dir);
    ox_binlog_decoder_free(m->dec);
    ox_buf_free(&m->pending);
    if (m->password)
        memset(m->password, 0, strlen(m->password));
    free(m->host);
    free(m->user);
    free(m->password);
    free(m->tls_ca);
    free(m->start_gtid);
    free(m);
}

/* Source clock minus ours, from one round trip (midpoint estimate). */
static int measure_clock(struct mysql_source *m, ox_errbuf *eb)
{
    char buf[64];
    int64_t t0 = ox_time_wall_ms();
    int rc = ox_mysql_query_value(m->conn, &m->cfg, "SELECT UNIX_TIMESTAMP(NOW(6))", buf,
                                  sizeof buf, eb);
    int64_t t1 = ox_time_wall_ms();
    if (rc != 0)
        return rc;
    double server = strtod(buf, NULL);
    m->clock_offset_ms = (int64_t)(server * 1000.0) - (t0 + t1) / 2;
    return 0;
}

/* The checks that must hold before capture: binlog on, ROW format, and the
 * SELECT privilege when column names must come from information_schema. */
static int check_server(struct mysql_source *m, ox_errbuf *eb)
{
    char v[64];
    int rc;
    const ox_source_config *c = &m->cfg;
    if ((rc = ox_mysql_query_value(m->conn, c, "SELECT @@global.log_bin", v, sizeof v, eb)) != 0)
        return rc;
    if (strcmp(v, "1") != 0 && strcasecmp(v, "ON") != 0)
        return ox_errf(eb, OX_ECONFIG,
                       "binary logging is off at %s:%u (log_bin=OFF): start the server with "
                       "--log-bin and binlog_format=ROW",
                       c->host, (unsigned)c->port);
    if ((rc = ox_mysql_query_value(m->conn, c, "SELECT @@global.binlog_format", v, sizeof v, eb)) !=
        0)
        return rc;
    if (strcasecmp(v, "ROW") != 0)
        return ox_errf(eb, OX_ECONFIG,
                       "binlog_format is %s at %s:%u, but capture needs binlog_format=ROW (SET "
                       "GLOBAL binlog_format='ROW' and binlog_format=ROW in the server config)",
                       v, c->host, (unsigned)c->port);
    if ((rc = ox_mysql_query_value(m->conn, c, "SELECT @@global.binlog_checksum", v, sizeof v,
                                   eb)) != 0)
        return rc;
    m->checksum = strcasecmp(v, "NONE") != 0;
    /* binlog_row_metadata exists in MariaDB 10.5+ and MySQL 8.0.1+; without
     * it, TABLE_MAP never carries names. */
    m->need_names = true;
    if (ox_mysql_query_value(m->conn, c, "SELECT @@global.binlog_row_metadata", v, sizeof v,
                             NULL) == 0 &&
        strcasecmp(v, "FULL") == 0)
        m->need_names = false;
    if (m->need_names) {
        /* information_schema only shows columns of tables the user holds a
         * privilege on: without any SELECT we would silently get nothing. */
        static const char sql[] =
            "SELECT (SELECT COUNT(*) FROM information_schema.USER_PRIVILEGES WHERE "
            "PRIVILEGE_TYPE = 'SELECT') + (SELECT COUNT(*) FROM "
            "information_schema.SCHEMA_PRIVILEGES WHERE PRIVILEGE_TYPE = 'SELECT') + (SELECT "
            "COUNT(*) FROM information_schema.TABLE_PRIVILEGES WHERE PRIVILEGE_TYPE = 'SELECT')";
        if ((rc = ox_mysql_query_value(m->conn, c, sql, v, sizeof v, eb)) != 0)
            return rc;
        if (strtoull(v, NULL, 10) == 0)
            return ox_errf(eb, OX_EPERM,
                           "missing privilege: user '%s' at %s:%u has no SELECT privilege, so "
                           "column names cannot be read from information_schema.COLUMNS "
                           "(binlog_row_metadata is not FULL); GRANT SELECT or set "
                           "binlog_row_metadata=FULL",
                           c->user, c->host, (unsigned)c->port);
    }
    return 0;
}

/* Resolves the requested start into m->resume_file/pos (all kinds but GTID).
 * `logs` is SHOW BINARY LOGS. */
static int resolve_start(struct mysql_source *m, const ox_source_start *from,
                         const ox_mysql_binlog *logs, size_t n, ox_errbuf *eb)
{
    const ox_source_config *c = &m->cfg;
    switch (from->kind) {
    case OX_SOURCE_FROM_NOW: {
        if (n == 0)
            return ox_errf(eb, OX_ENOENT, "%s:%u has no binary logs", c->host, (unsigned)c->port);
        snprintf(m->resume_file, sizeof m->resume_file, "%s", logs[n - 1].name);
        m->resume_pos = logs[n - 1].size;
        m->have_resume = true;
        return 0;
    }
    case OX_SOURCE_FROM_FILEPOS: {
        const ox_mysql_binlog *hit = NULL;
        for (size_t i = 0; i < n; i++) {
            bool match = from->file ? strcmp(logs[i].name, from->file) == 0
                                    : ox_mysql_binlog_index(logs[i].name) == from->file_idx;
            if (match)
                hit = &logs[i];
        }
        char want[256];
        if (from->file)
            snprintf(want, sizeof want, "%s", from->file);
        else
            snprintf(want, sizeof want, "file index %" PRIu64, from->file_idx);
        if (!hit) {
            uint64_t first = n ? ox_mysql_binlog_index(logs[0].name) : UINT64_MAX;
            uint64_t wi = from->file ? ox_mysql_binlog_index(from->file) : from->file_idx;
            if (n && wi != UINT64_MAX && first != UINT64_MAX && wi < first)
                return ox_errf(eb, OX_EGONE,
                               "binlog %s was purged from %s:%u (the oldest binlog there is %s)",
                               want, c->host, (unsigned)c->port, logs[0].name);
            return ox_errf(eb, OX_ENOENT, "binlog %s does not exist at %s:%u (binlogs: %s .. %s)",
                           want, c->host, (unsigned)c->port, n ? logs[0].name : "none",
                           n ? logs[n - 1].name : "none");
        }
        uint64_t pos = from->offset < 4 ? 4 : from->offset;
        if (pos > hit->size)
            return ox_errf(eb, OX_ERANGE,
                           "position %" PRIu64 " is beyond the end of %s (%" PRIu64 " bytes)", pos,
                           hit->name, hit->size);
        snprintf(m->resume_file, sizeof m->resume_file, "%s", hit->name);
        m->resume_pos = pos;
        m->have_resume = true;
        return 0;
    }
    case OX_SOURCE_FROM_TIMESTAMP: {
        int rc = ox_mysql_find_timestamp(c, m->mariadb, m->checksum, m->server_id, logs, n,
                                         from->timestamp, m->resume_file, sizeof m->resume_file,
                                         &m->resume_pos, eb);
        if (rc == 0)
            m->have_resume = true;
        return rc;
    }
    default:
        return ox_errf(eb, OX_EINVAL, "unknown start kind %d", from->kind);
    }
}

/* The history's first snapshot, at the start position. Started from the
 * current end, the position is read again after the snapshot: if the binlog
 * grew meanwhile (a DDL may have run between the two reads), the start moves
 * to the new end and the snapshot is taken again. */
static int take_snapshot(struct mysql_source *m, const ox_source_start *from,
                         ox_mysql_binlog **logs, size_t *n, ox_errbuf *eb)
{
    for (int attempt = 0;; attempt++) {
        ox_cat *cat = NULL;
        int rc = ox_mysql_schema_snapshot(m->conn, &cat, eb);
        if (rc != 0)
            return rc;
        if (from->kind == OX_SOURCE_FROM_NOW && attempt < 5) {
            free(*logs);
            *logs = NULL;
            if ((rc = ox_mysql_list_binlogs(m->conn, &m->cfg, logs, n, eb)) != 0) {
                ox_cat_free(cat);
                return rc;
            }
            uint64_t old = m->resume_pos;
            char oldf[256];
            snprintf(oldf, sizeof oldf, "%s", m->resume_file);
            if ((rc = resolve_start(m, from, *logs, *n, eb)) != 0) {
                ox_cat_free(cat);
                return rc;
            }
            if (old != m->resume_pos || strcmp(oldf, m->resume_file) != 0) {
                ox_cat_free(cat);
                continue;
            }
        }
        uint64_t fi = m->have_resume ? ox_mysql_binlog_index(m->resume_file) : 0;
        uint64_t off = m->have_resume ? m->resume_pos : 0;
        return ox_schema_hist_snapshot(m->hist, fi == UINT64_MAX ? 0 : fi, off, cat, eb);
    }
}

/* Opens the connection, checks the server, and (first time) resolves the
 * start; then starts the dump from the resume point or the GTID. */
static int connect_and_dump(struct mysql_source *m, const ox_source_start *from, ox_errbuf *eb)
{
    int rc;
    ox_mysql_binlog *logs = NULL;
    size_t n = 0;
    drop_conn(m);
    /* Reads are bounded by poll() in ox_mysql_dump_read; this timeout
     * catches a server that stalls in the middle of a packet, and a dead
     * link on TLS connections (whose reads block): with heartbeats on,
     * three silent periods (at least 5 s) are enough. */
    int read_timeout = 60;
    if (m->cfg.heartbeat_ms > 0) {
        read_timeout = (3 * m->cfg.heartbeat_ms + 999) / 1000;
        if (read_timeout < 5)
            read_timeout = 5;
    }
    if ((rc = ox_mysql_connect(&m->cfg, read_timeout, &m->conn, eb)) != 0)
        goto fail;
    m->mariadb = ox_mysql_is_mariadb(m->conn);
    if ((rc = check_server(m, eb)) != 0 || (rc = measure_clock(m, eb)) != 0)
        goto fail;
    if ((rc = ox_mysql_list_binlogs(m->conn, &m->cfg, &logs, &n, eb)) != 0)
        goto fail;
    if (from && from->kind != OX_SOURCE_FROM_GTID &&
        (rc = resolve_start(m, from, logs, n, eb)) != 0)
        goto fail;
    if (from && m->hist && ox_schema_hist_empty(m->hist) &&
        (rc = take_snapshot(m, from, &logs, &n, eb)) != 0)
        goto fail;
    if (m->have_resume) {
        /* Also when reconnecting: say "purged" clearly rather than let the
         * dump fail with a generic 1236. */
        ox_source_start again = {
            .kind = OX_SOURCE_FROM_FILEPOS, .file = m->resume_file, .offset = m->resume_pos};
        char keep[256];
        uint64_t keep_pos = m->resume_pos;
        snprintf(keep, sizeof keep, "%s", m->resume_file);
        if ((rc = resolve_start(m, &again, logs, n, eb)) != 0)
            goto fail;
        snprintf(m->resume_file, sizeof m->resume_file, "%s", keep);
        m->resume_pos = keep_pos;
    }
    int hb = m->cfg.heartbeat_ms > 0 ? m->cfg.heartbeat_ms : 0;
    if ((rc = ox_mysql_dump_session(m->conn, &m->cfg, m->mariadb, hb, eb)) != 0)
        goto fail;
    if ((rc = ox_mysql_register_replica(m->conn, &m->cfg, m->server_id, eb)) != 0)
        goto fail;
    uint16_t flags =
        (m->nonblock ? OX_DUMP_NON_BLOCK : 0) | (m->mariadb ? OX_DUMP_ANNOTATE_ROWS : 0);
    if (m->have_resume) {
        snprintf(m->cur_file, sizeof m->cur_file, "%s", m->resume_file);
        m->cur_pos = m->resume_pos;
        ox_binlog_decoder_set_file(m->dec, m->cur_file);
        rc = ox_mysql_dump_filepos(m->conn, &m->cfg, m->resume_file, m->resume_pos, m->server_id,
                                   flags, eb);
    } else if (m->mariadb) {
        rc = ox_mysql_dump_gtid_mariadb(m->conn, &m->cfg, m->start_gtid, m->server_id, flags, eb);
    } else {
        rc = ox_mysql_dump_gtid_mysql(m->conn, &m->cfg, m->start_gtid, m->server_id, flags, eb);
    }
    if (rc != 0)
        goto fail;
    /* Read the first packet now: a purged position or a missing REPLICATION
     * SLAVE privilege is reported by the server here, and start() should
     * say so rather than the first poll(). */
    const uint8_t *ev;
    size_t len;
    rc = ox_mysql_dump_read(m->conn, &m->cfg, 30000, &ev, &len, eb);
    if (rc == OX_EPERM)
        ox_errf(eb, OX_EPERM,
                "missing privilege: user '%s' at %s:%u may not read the binlog (needs "
                "REPLICATION SLAVE): %s",
                m->cfg.user, m->cfg.host, (unsigned)m->cfg.port, mysql_error(m->conn));
    if (rc == OX_EAGAIN)
        rc = ox_errf(eb, OX_ETIMEDOUT, "no answer to the binlog dump from %s:%u in 30 s",
                     m->cfg.host, (unsigned)m->cfg.port);
    if (rc == OX_ECLOSED) {
        m->eof = true;
        rc = 0;
    } else if (rc == 0) {
        ox_buf_reset(&m->pending);
        ox_buf_put(&m->pending, ev, len);
        m->have_pending = true;
    } else {
        goto fail;
    }
    m->last_rx_ms = ox_time_mono_ms();
    free(logs);
    return 0;
fail:
    free(logs);
    drop_conn(m);
    return rc;
}

/* Opens the history (cfg.schema_dir) if it is not open. */
static int hist_open(struct mysql_source *m, ox_errbuf *eb)
{
    if (!m->schema_dir || m->hist)
        return 0;
    return ox_schema_hist_open(m->schema_dir, 0, &m->hist, eb);
}

/* Starts the history at the resume point when it is known (else the first
 * event that needs the history starts it, see hist_ready). */
static int hist_start_at_resume(struct mysql_source *m, ox_errbuf *eb)
{
    if (!m->hist || !m->have_resume || ox_schema_hist_started(m->hist))
        return 0;
    uint64_t fi = ox_mysql_binlog_index(m->resume_file);
    return ox_schema_hist_start(m->hist, fi == UINT64_MAX ? 0 : fi, m->resume_pos, eb);
}

/* The history starts where the first event that needs it is, when the start
 * position was not known up front (GTID). */
static int hist_ready(struct mysql_source *m, uint64_t fi, uint64_t pos, ox_errbuf *eb)
{
    if (ox_schema_hist_started(m->hist))
        return 0;
    return ox_schema_hist_start(m->hist, fi, pos, eb);
}

/* The decoder's ox_binlog_schema_fn: the table as the history knows it. */
static int history_columns(void *arg, const char *db, const char *table, ox_binlog_tableinfo *info)
{
    struct mysql_source *m = arg;
    if (!m->hist)
        return OX_ENOENT;
    int rc = hist_ready(m, m->ev_fi, m->ev_pos, &m->hist_err);
    if (rc != 0)
        return rc;
    const ox_cat_table *t = ox_cat_find(ox_schema_hist_catalog(m->hist), db, table);
    if (!t || t->uncertain || t->ncols == 0)
        return OX_ENOENT;
    if (m->cicap < t->ncols) {
        m->cicap = t->ncols;
        m->ci = ox_xrealloc(m->ci, m->cicap * sizeof *m->ci);
        m->cipk = ox_xrealloc(m->cipk, m->cicap * sizeof *m->cipk);
    }
    for (uint32_t i = 0; i < t->ncols; i++) {
        const ox_cat_col *c = &t->cols[i];
        m->ci[i] = (ox_binlog_colinfo){.name = c->name,
                                       .type = c->type,
                                       .charset = c->charset,
                                       .is_unsigned = c->is_unsigned,
                                       .nmembers = c->nmembers,
                                       .members = c->members};
    }
    info->ncols = t->ncols;
    info->cols = m->ci;
    info->npk = ox_cat_table_pk(t, m->cipk);
    info->pk = m->cipk;
    return 0;
}

/* Applies a DDL record to the history (before it is delivered, so that the
 * next TABLE_MAP sees it); *unknown is set when the history could not apply
 * it and a table became uncertain. */
static int hist_ddl(struct mysql_source *m, const ox_change *c, bool *unknown, ox_errbuf *eb)
{
    *unknown = false;
    if (!m->hist)
        return ox_errf(eb, OX_ESTATE, "schema history not open");
    if (!c->sql && !c->ddl_stmt)
        return 0;
    int rc = hist_ready(m, c->file_idx, c->offset, eb);
    if (rc != 0)
        return rc;
    /* The decoder's reading (session database, sql_mode quoting), else our
     * own with the session's database. */
    ox_ddl_stmt *own = NULL;
    const ox_ddl_stmt *st = c->ddl_stmt;
    if (!st) {
        const char *sdb = c->session_db ? c->session_db : c->db;
        if (ox_mysql_ddl_parse(c->sql, strlen(c->sql), sdb, 0, &own) != 0)
            return ox_errf(eb, OX_ENOMEM, "out of memory reading a DDL statement");
        st = own;
    }
    int effect = OX_CAT_NONE;
    rc = ox_schema_hist_apply(m->hist, c->file_idx, c->offset, st, &effect, eb);
    ox_mysql_ddl_free(own);
    *unknown = effect == OX_CAT_UNCERTAIN;
    ox_binlog_decoder_forget_maps(m->dec);
    return rc;
}

static int my_start(ox_source *s, const ox_source_start *from, ox_errbuf *eb)
{
    struct mysql_source *m = S(s);
    if (m->started)
        return ox_errf(eb, OX_ESTATE, "mysql source already started");
    ox_source_start now = {.kind = OX_SOURCE_FROM_NOW};
    if (!from)
        from = &now;
    m->start_kind = from->kind;
    if (from->kind == OX_SOURCE_FROM_GTID) {
        if (!from->gtid || !*from->gtid)
            return ox_errf(eb, OX_EINVAL, "GTID start without a GTID position");
        m->start_gtid = ox_xstrdup(from->gtid);
    }
    int rc;
    if (m->schema_dir) {
        if ((rc = hist_open(m, eb)) != 0)
            return rc;
        ox_binlog_decoder_set_schema_fn(m->dec, history_columns, m);
    } else {
        ox_binlog_decoder_set_columns_fn(m->dec, ox_mysql_schema_columns, m->schema);
    }
    rc = connect_and_dump(m, from, eb);
    if (rc != 0)
        return rc;
    if (!m->need_names)
        ox_binlog_decoder_set_columns_fn(m->dec, NULL, NULL);
    if ((rc = hist_start_at_resume(m, eb)) != 0)
        return rc;
    m->started = true;
    return 0;
}

/* Wraps the caller's callback: tracks transactions and the resume point,
 * invalidates cached schemas on DDL, stamps heartbeats with source time. */
static int on_change(void *arg, const ox_change *c)
{
    struct mysql_source *m = arg;
    ox_change hb, ddl;
    switch (c->op) {
    case OX_OP_BEGIN:
        m->in_txn = true;
        break;
    case OX_OP_COMMIT:
        m->in_txn = false;
        snprintf(m->resume_file, sizeof m->resume_file, "%s", c->file ? c->file : m->cur_file);
        m->resume_pos = c->next_offset;
        m->have_resume = true;
        break;
    case OX_OP_DDL:
        /* Any DDL may change any table's columns (RENAME, DROP DATABASE,
         * ALTER of a table named in another schema): forget them all. */
        ox_mysql_schema_invalidate(m->schema, NULL, NULL);
        if (m->schema_dir) {
            bool unknown = false;
            int rc = hist_ddl(m, c, &unknown, &m->hist_err);
            if (rc != 0)
                return rc;
            if (unknown) {
                ddl = *c;
                ddl.schema = OX_SCHEMA_UNKNOWN;
                c = &ddl;
            }
        }
        if (!m->in_txn) {
            snprintf(m->resume_file, sizeof m->resume_file, "%s", c->file ? c->file : m->cur_file);
            m->resume_pos = c->next_offset;
            m->have_resume = true;
        }
        break;
    case OX_OP_HEARTBEAT:
        if (c->timestamp == 0) {
            hb = *c;
            hb.timestamp = (ox_time_wall_ms() + m->clock_offset_ms) / 1000;
            c = &hb;
        }
        break;
    default:
        break;
    }
    m->delivered++;
    return m->fn(m->arg, c);
}

/* Feeds one event: ROTATE is handled here (file name and position, since the
 * artificial ROTATE at the start of a dump precedes the FORMAT_DESCRIPTION
 * that tells the decoder about checksums); everything else goes to the
 * decoder at its position in the file. */
static int handle_event(struct mysql_source *m, const uint8_t *ev, size_t len, ox_errbuf *eb)
{
    ox_ev_header h;
    if (ox_ev_header_parse(ev, len, &h) != 0 || h.size != len)
        return ox_errf(eb, OX_ECORRUPT, "%s offset %" PRIu64 ": bad event header in the stream",
                       m->cur_file, m->cur_pos);
    m->stats.events++;
    if (h.type == OX_EV_ROTATE) {
        char name[256];
        uint64_t pos;
        if (ox_ev_rotate_parse(ev, len, m->checksum, name, sizeof name, &pos) != 0)
            return ox_errf(eb, OX_ECORRUPT, "%s offset %" PRIu64 ": bad ROTATE event", m->cur_file,
                           m->cur_pos);
        snprintf(m->cur_file, sizeof m->cur_file, "%s", name);
        m->cur_pos = pos;
        ox_binlog_decoder_set_file(m->dec, name);
        return 0;
    }
    uint64_t pos = m->cur_pos;
    m->ev_fi = ox_mysql_binlog_index(m->cur_file);
    if (m->ev_fi == UINT64_MAX)
        m->ev_fi = 0;
    if (h.log_pos != 0 && h.type != OX_EV_HEARTBEAT && !(h.flags & OX_EV_ARTIFICIAL_F) &&
        h.log_pos >= len) {
        pos = h.log_pos - len;
        m->cur_pos = h.log_pos;
    }
    m->ev_pos = pos;
    int rc = ox_binlog_decoder_feed(m->dec, ev, len, pos, on_change, m, eb);
    if (rc != 0 && m->hist_err.msg[0] && eb) {
        /* on_change's own errors (the history's I/O) carry their text. */
        ox_errf(eb, rc, "%s", m->hist_err.msg);
    }
    m->hist_err.msg[0] = '\0';
    return rc;
}

/* The connection is gone (why: the text for state()): drop the partial
 * transaction and plan a retry at once. */
static void go_down(struct mysql_source *m, ox_reset_fn reset, const char *why)
{
    ox_errf(&m->down_why, OX_ECONN, "%s", why);
    if (m->in_txn && reset)
        reset(m->arg);
    m->in_txn = false;
    ox_binlog_decoder_reset(m->dec);
    ox_mysql_schema_disconnect(m->schema);
    /* The stream resumes after the last complete transaction: a DDL of the
     * partial one (CREATE TABLE ... SELECT) comes again. The history is
     * read again and started there, so it is never applied twice. */
    ox_schema_hist_close(m->hist);
    m->hist = NULL;
    drop_conn(m);
    m->have_pending = false;
    m->down = true;
    m->down_since_ms = ox_time_mono_ms();
    m->retry_at_ms = m->down_since_ms;
    m->attempts = 0;
    ox_backoff_reset(&m->retry);
}

/* Retries until connected, the deadline (OX_EAGAIN) or an error retrying
 * cannot fix; a link that is only unreachable is retried for ever (the
 * store shows it as down meanwhile, through state()). */
static int try_reconnect(struct mysql_source *m, int64_t deadline, ox_errbuf *eb)
{
    for (;;) {
        int64_t t = ox_time_mono_ms();
        if (t < m->retry_at_ms) {
            if (deadline <= t)
                return OX_EAGAIN;
            ox_time_sleep_ms((m->retry_at_ms < deadline ? m->retry_at_ms : deadline) - t, 0);
            if (ox_time_mono_ms() < m->retry_at_ms)
                return OX_EAGAIN;
        }
        ox_errbuf why;
        int rc = connect_and_dump(m, NULL, &why);
        if (rc == 0 &&
            ((rc = hist_open(m, &why)) != 0 || (rc = hist_start_at_resume(m, &why)) != 0))
            return ox_errf(eb, rc, "%s", why.msg);
        if (rc == 0) {
            m->down = false;
            m->stats.reconnects++;
            return 0;
        }
        if (rc != OX_ECONN && rc != OX_ETIMEDOUT)
            return ox_errf(eb, rc, "%s", why.msg);
        m->down_why = why;
        m->attempts++;
        m->retry_at_ms = ox_time_mono_ms() + ox_backoff_fail(&m->retry);
    }
}

static int my_poll(ox_source *s, ox_change_fn fn, ox_reset_fn reset, void *arg, int timeout_ms,
                   ox_errbuf *eb)
{
    struct mysql_source *m = S(s);
    if (!m->started)
        return ox_errf(eb, OX_ESTATE, "mysql source not started");
    m->fn = fn;
    m->arg = arg;
    m->delivered = 0;
    int64_t deadline = ox_time_mono_ms() + (timeout_ms > 0 ? timeout_ms : 0);
    int rc;
    if (m->have_pending) {
        m->have_pending = false;
        if ((rc = handle_event(m, m->pending.data, m->pending.len, eb)) != 0)
            return rc;
    }
    for (;;) {
        if (m->eof)
            return m->delivered ? 0 : ox_errf(eb, OX_ECLOSED, "end of the binlog reached");
        if (m->down) {
            rc = try_reconnect(m, deadline, eb);
            if (rc == OX_EAGAIN)
                return m->delivered ? 0 : OX_EAGAIN;
            if (rc != 0)
                return rc;
            if (m->have_pending) {
                m->have_pending = false;
                if ((rc = handle_event(m, m->pending.data, m->pending.len, eb)) != 0)
                    return rc;
            }
            continue;
        }
        int64_t t = ox_time_mono_ms();
        if (m->delivered >= POLL_BATCH || (m->delivered && !ox_mysql_dump_ready(m->conn)))
            return 0;
        int wait = m->delivered ? 0 : (int)(deadline > t ? deadline - t : 0);
        /* Silence longer than about one heartbeat period: the link is dead
         * even if TCP has not noticed (ox_source_dead_after_ms). */
        if (m->cfg.heartbeat_ms > 0 && !m->nonblock) {
            int64_t limit = ox_source_dead_after_ms(m->cfg.heartbeat_ms);
            if (t - m->last_rx_ms > limit) {
                char why[96];
                snprintf(why, sizeof why,
                         "nothing (not even a heartbeat) for %" PRId64 " ms: the link is dead",
                         t - m->last_rx_ms);
                go_down(m, reset, why);
                continue;
            }
            if (wait > m->last_rx_ms + limit - t)
                wait = (int)(m->last_rx_ms + limit - t) + 1;
        }
        const uint8_t *ev;
        size_t len;
        ox_errbuf why;
        rc = ox_mysql_dump_read(m->conn, &m->cfg, wait, &ev, &len, &why);
        if (rc == OX_EAGAIN) {
            if (ox_time_mono_ms() >= deadline)
                return m->delivered ? 0 : OX_EAGAIN;
            continue;
        }
        if (rc == OX_ECLOSED && !m->nonblock) {
            /* A replica's dump ends only when the server shuts down. */
            go_down(m, reset, "the server ended the binlog dump (shut down or restarting)");
            continue;
        }
        if (rc == OX_ECLOSED) {
            m->eof = true;
            continue;
        }
        if (rc == OX_ECONN) {
            go_down(m, reset, why.msg);
            continue;
        }
        if (rc != 0)
            return ox_errf(eb, rc, "%s", why.msg);
        m->last_rx_ms = ox_time_mono_ms();
        if ((rc = handle_event(m, ev, len, eb)) != 0) {
            /* The schema connection lost the server (it restarted): the
             * event was not delivered; resume from the last transaction. */
            if (rc == OX_ECONN) {
                go_down(m, reset, eb ? eb->msg : "the schema connection was lost");
                continue;
            }
            return rc;
        }
    }
}

static void my_state(ox_source *s, ox_source_state *out, ox_errbuf *why)
{
    struct mysql_source *m = S(s);
    out->down = m->down;
    out->down_for_ms = m->down ? ox_time_mono_ms() - m->down_since_ms : 0;
    out->attempts = m->down ? m->attempts : 0;
    out->reconnects = m->stats.reconnects;
    if (why)
        *why = m->down ? m->down_why : (ox_errbuf){{0}};
}

static void my_schema_counters(ox_source *s, uint64_t *mismatches, uint64_t *unknown)
{
    ox_binlog_stats bs;
    ox_binlog_decoder_stats(S(s)->dec, &bs);
    *mismatches = bs.schema_mismatches;
    *unknown = bs.schema_unknown;
}

const struct ox_source_ops ox_mysql_source_ops = {
    .name = "mysql",
    .open = my_open,
    .start = my_start,
    .poll = my_poll,
    .close = my_close,
    .schema_counters = my_schema_counters,
    .state = my_state,
};
