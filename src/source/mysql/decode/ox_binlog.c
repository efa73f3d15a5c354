/*
 * ox_binlog.c - event framing, checksums, dispatch and transaction state.
 *
 * Event layout (binlog v4): a 19-byte header
 *   timestamp u32 | type u8 | server_id u32 | event_size u32 | log_pos u32 | flags u16
 * then the post-header (length per type from the FORMAT_DESCRIPTION), the
 * body, and a 4-byte CRC32 (zlib polynomial, over header+body) when the
 * FORMAT_DESCRIPTION announced binlog_checksum=CRC32. All integers are
 * little-endian.
 *
 * Transaction framing: MySQL writes GTID/ANONYMOUS_GTID, QUERY "BEGIN",
 * rows, XID (or QUERY "COMMIT"); MariaDB writes its GTID event in place of
 * BEGIN (unless flagged standalone: a single DDL with no COMMIT). DDL is a
 * QUERY outside BEGIN/COMMIT.
 */
#include "ox_binlog_int.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "ox_alloc.h"
#include "ox_json_out.h"
#include "ox_mysql_ddl.h"

int ox_bl_err(ox_binlog_decoder *d, ox_errbuf *eb, int err, const char *fmt, ...)
{
    if (eb == NULL)
        return err;
    char detail[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    ox_errf(eb, err, "%s offset %" PRIu64 ": %s", d->file[0] ? d->file : "(stream)", d->ev_pos,
            detail);
    return err;
}

int ox_binlog_decoder_create(ox_binlog_decoder **out)
{
    ox_binlog_decoder *d = ox_xcalloc(1, sizeof *d);
    d->verify = true;
    d->hdr_len = OX_BL_HEADER_LEN;
    *out = d;
    return 0;
}

void ox_binlog_decoder_free(ox_binlog_decoder *d)
{
    if (d == NULL)
        return;
    ox_bl_tables_clear(d);
    free(d->tabs);
    free(d->before);
    free(d->after);
    ox_buf_free(&d->annot);
    ox_buf_free(&d->query);
    ox_buf_free(&d->scratch);
    ox_buf_free(&d->inflate);
    ox_buf_free(&d->payload);
    free(d);
}

void ox_binlog_decoder_set_columns_fn(ox_binlog_decoder *d, ox_binlog_columns_fn fn, void *arg)
{
    d->columns_fn = fn;
    d->columns_arg = arg;
}

void ox_binlog_decoder_set_schema_fn(ox_binlog_decoder *d, ox_binlog_schema_fn fn, void *arg)
{
    d->schema_fn = fn;
    d->schema_arg = arg;
}

void ox_binlog_decoder_forget_maps(ox_binlog_decoder *d)
{
    ox_bl_tables_forget_raw(d);
}

static uint64_t file_index(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (dot == NULL || dot[1] == '\0')
        return 0;
    uint64_t v = 0;
    for (const char *p = dot + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    return v;
}

void ox_binlog_decoder_set_file(ox_binlog_decoder *d, const char *name)
{
    snprintf(d->file, sizeof d->file, "%s", name ? name : "");
    d->file_idx = file_index(d->file);
}

void ox_binlog_decoder_set_verify(ox_binlog_decoder *d, bool verify)
{
    d->verify = verify;
}

void ox_binlog_decoder_set_checksum(ox_binlog_decoder *d, bool on)
{
    d->assume_checksum = on;
}

void ox_binlog_decoder_reset(ox_binlog_decoder *d)
{
    ox_bl_tables_clear(d);
    d->in_txn = false;
    d->have_gtid = false;
    d->have_annot = false;
    d->payload_depth = 0;
}

void ox_binlog_decoder_stats(const ox_binlog_decoder *d, ox_binlog_stats *out)
{
    *out = d->stats;
}

bool ox_binlog_decoder_has_checksum(const ox_binlog_decoder *d)
{
    return d->have_fde ? d->checksum : d->assume_checksum;
}

void ox_bl_change_init(const ox_binlog_decoder *d, ox_change *c, int op)
{
    memset(c, 0, sizeof *c);
    c->op = (uint8_t)op;
    c->gtid = d->have_gtid ? d->gtid : NULL;
    c->file = d->file[0] ? d->file : NULL;
    c->file_idx = d->file_idx;
    c->offset = d->ev_pos;
    c->next_offset = d->ev_next;
    c->timestamp = d->ev_ts;
    c->server_id = d->ev_server;
}

/* Ends the transaction: one commit record, then the GTID is forgotten. */
static int emit_commit(ox_binlog_decoder *d, uint64_t xid, const char *sql, ox_change_fn fn,
                       void *arg)
{
    ox_change c;
    ox_bl_change_init(d, &c, OX_OP_COMMIT);
    c.xid = xid;
    c.sql = sql;
    d->in_txn = false;
    d->have_annot = false;
    int rc = fn(arg, &c);
    d->have_gtid = false;
    return rc;
}

static int emit_begin(ox_binlog_decoder *d, ox_change_fn fn, void *arg)
{
    if (d->in_txn)
        return 0;
    d->in_txn = true;
    /* Table ids only grow; bound the map between transactions. */
    if (d->ntabs > 4096)
        ox_bl_tables_clear(d);
    ox_change c;
    ox_bl_change_init(d, &c, OX_OP_BEGIN);
    return fn(arg, &c);
}

/* Case-insensitive "statement starts with word w" (followed by end/space). */
static bool stmt_is(const char *q, const char *w)
{
    size_t n = strlen(w);
    if (strncasecmp(q, w, n) != 0)
        return false;
    char c = q[n];
    return c == '\0' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';';
}

/* The DDL reader's flags from the QUERY status variables: sql_mode
 * (Q_SQL_MODE_CODE 1, 8 bytes) comes right after Q_FLAGS2_CODE (0, 4
 * bytes) in every MySQL and MariaDB version; anything else means the
 * defaults. */
static unsigned query_sql_mode_flags(const uint8_t *p, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t code = p[i++];
        if (code == 0) {
            i += 4;
        } else if (code == 1) {
            if (i + 8 > n)
                return 0;
            uint64_t mode = le_n(p + i, 8);
            unsigned f = 0;
            if (mode & (1u << 2)) /* MODE_ANSI_QUOTES */
                f |= OX_DDL_ANSI_QUOTES;
            if (mode & (1u << 20)) /* MODE_NO_BACKSLASH_ESCAPES */
                f |= OX_DDL_NO_BACKSLASH_ESCAPES;
            return f;
        } else {
            return 0;
        }
    }
    return 0;
}

/* One ddl record: what the statement acts on (ox_mysql_ddl.h), and for an
 * account statement nothing but the kind and the position: its text (a
 * password, maybe) never leaves the decoder. */
static int emit_ddl(ox_binlog_decoder *d, const char *sql, size_t len, unsigned flags,
                    ox_change_fn fn, void *arg, ox_errbuf *eb)
{
    ox_change c;
    ox_bl_change_init(d, &c, OX_OP_DDL);
    const char *sdb = d->db[0] ? d->db : NULL;
    ox_ddl_stmt *st = NULL;
    ox_change_target *tv = NULL;
    int rc = ox_mysql_ddl_parse(sql, len, sdb, flags, &st);
    if (rc != 0)
        return ox_bl_err(d, eb, rc, "QUERY event: reading the statement: %s", ox_strerror(rc));
    c.ddl_kind = ox_ddl_kind_name(st->kind);
    c.ddl_stmt = st;
    char *hidden = NULL;
    if (st->kind != OX_DDL_ACCOUNT) {
        /* A FEDERATED connection string or a PASSWORD option: the text
         * goes out with those literals replaced. */
        rc = ox_mysql_ddl_redact(sql, len, flags, &hidden, NULL);
        if (rc != 0) {
            ox_mysql_ddl_free(st);
            return ox_bl_err(d, eb, rc, "QUERY event: reading the statement: %s", ox_strerror(rc));
        }
        c.sql = hidden ? hidden : sql;
        c.session_db = sdb;
        c.ddl_unparsed = !st->parsed;
        c.db = sdb;
        if (st->ntargets > 0) {
            tv = ox_xcalloc(st->ntargets, sizeof *tv);
            for (uint32_t i = 0; i < st->ntargets; i++) {
                tv[i].db = st->targets[i].db;
                tv[i].table = st->targets[i].table;
                tv[i].new_db = st->targets[i].new_db;
                tv[i].new_table = st->targets[i].new_table;
            }
            c.ntargets = st->ntargets;
            c.targets = tv;
            c.db = tv[0].db;
            c.table = tv[0].table;
        }
    }
    rc = fn(arg, &c);
    free(tv);
    free(hidden);
    ox_mysql_ddl_free(st);
    if (!d->in_txn)
        d->have_gtid = false;
    return rc;
}

static int on_query(ox_binlog_decoder *d, const uint8_t *b, size_t n, bool compressed,
                    ox_change_fn fn, void *arg, ox_errbuf *eb)
{
    size_t post = d->post_len[OX_EV_QUERY - 1];
    if (post < 11)
        post = 13;
    if (n < post)
        return ox_bl_err(d, eb, OX_ETRUNC, "QUERY event shorter than its post-header");
    size_t db_len = b[8];
    size_t status_len = post >= 13 ? (size_t)le_n(b + 11, 2) : 0;
    size_t off = post + status_len;
    if (off + db_len + 1 > n)
        return ox_bl_err(d, eb, OX_ETRUNC, "QUERY event: status/db beyond the event");
    memcpy(d->db, b + off, db_len < sizeof d->db ? db_len : sizeof d->db - 1);
    d->db[db_len < sizeof d->db ? db_len : sizeof d->db - 1] = '\0';
    const uint8_t *q = b + off + db_len + 1;
    size_t qlen = n - (off + db_len + 1);
    ox_buf_reset(&d->query);
    if (compressed) {
        if (ox_bl_maria_uncompress(q, qlen, &d->query) != 0)
            return ox_bl_err(d, eb, OX_ECORRUPT, "QUERY_COMPRESSED: bad zlib data");
    } else {
        ox_buf_put(&d->query, q, qlen);
    }
    ox_buf_putc(&d->query, '\0');
    const char *sql = (const char *)d->query.data;
    while (*sql == ' ' || *sql == '\n' || *sql == '\t' || *sql == '\r')
        sql++;

    if (stmt_is(sql, "BEGIN") || (stmt_is(sql, "XA") && stmt_is(sql + 3, "START")))
        return emit_begin(d, fn, arg);
    if (stmt_is(sql, "COMMIT"))
        return emit_commit(d, 0, NULL, fn, arg);
    if (stmt_is(sql, "ROLLBACK") && !stmt_is(sql + 9, "TO"))
        return emit_commit(d, 0, "ROLLBACK", fn, arg);
    if (stmt_is(sql, "SAVEPOINT") || stmt_is(sql, "ROLLBACK"))
        return 0; /* ROLLBACK TO SAVEPOINT: the binlog already omits undone rows */
    if (stmt_is(sql, "XA") && stmt_is(sql + 3, "END"))
        return 0;
    if (stmt_is(sql, "XA") && stmt_is(sql + 3, "PREPARE"))
        return emit_commit(d, 0, sql, fn, arg);
    if (stmt_is(sql, "XA") && (stmt_is(sql + 3, "COMMIT") || stmt_is(sql + 3, "ROLLBACK")) &&
        d->in_txn)
        return emit_commit(d, 0, sql, fn, arg);

    /* DDL or a statement-based DML statement. */
    ox_bl_tables_forget_raw(d);
    size_t slen = d->query.len - 1 - (size_t)((const uint8_t *)sql - d->query.data);
    return emit_ddl(d, sql, slen, query_sql_mode_flags(b + post, status_len), fn, arg, eb);
}

static void fmt_uuid(char *out, const uint8_t *u)
{
    static const char hx[] = "0123456789abcdef";
    int k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[k++] = '-';
        out[k++] = hx[u[i] >> 4];
        out[k++] = hx[u[i] & 15];
    }
    out[k] = '\0';
}

/* MySQL serialization library varlen integer: the count of trailing one
 * bits of the first byte, plus one, is the byte count; the value is the
 * little-endian integer shifted right by that count (0xff: 8 raw bytes). */
static bool rd_varlen(ox_rd *r, uint64_t *out)
{
    if (r->p >= r->end)
        return false;
    uint8_t b0 = r->p[0];
    if (b0 == 0xff) {
        if (rd_left(r) < 9)
            return false;
        *out = le_n(r->p + 1, 8);
        r->p += 9;
        return true;
    }
    int n = 1;
    while (b0 & 1) {
        n++;
        b0 >>= 1;
    }
    if (rd_left(r) < (size_t)n)
        return false;
    *out = le_n(r->p, n) >> n;
    r->p += n;
    return true;
}

/* GTID_TAGGED_LOG_EVENT (42): version byte 2, then payload_size and
 * last_non_ignorable_field_id varlens, then (field id, value) pairs:
 * 0 flags, 1 sid (16 varlen bytes), 2 gno (zig-zag varlen), 3 tag
 * (varlen length + bytes), ... in increasing id order. */
static int on_gtid_tagged(ox_binlog_decoder *d, const uint8_t *b, size_t n, ox_errbuf *eb)
{
    ox_rd r = {b, b + n};
    uint64_t size, lnif, id, v;
    uint8_t sid[16] = {0};
    uint64_t gno = 0;
    char tag[40] = "";
    if (n < 1 || b[0] != 2)
        return ox_bl_err(d, eb, OX_EUNSUPP, "GTID_TAGGED: unknown serialization version");
    r.p++;
    if (!rd_varlen(&r, &size) || !rd_varlen(&r, &lnif))
        goto trunc;
    while (r.p < r.end) {
        if (!rd_varlen(&r, &id))
            goto trunc;
        if (id == 1) {
            for (int i = 0; i < 16; i++) {
                if (!rd_varlen(&r, &v))
                    goto trunc;
                sid[i] = (uint8_t)v;
            }
        } else if (id == 3) {
            if (!rd_varlen(&r, &v) || v > rd_left(&r) || v >= sizeof tag)
                goto trunc;
            memcpy(tag, r.p, v);
            tag[v] = '\0';
            r.p += v;
        } else if (id <= 11) {
            if (!rd_varlen(&r, &v))
                goto trunc;
            if (id == 2)
                gno = (v & 1) ? 0 : v >> 1;
        } else {
            break;
        }
        if (id >= 3)
            break; /* sid, gno and tag are all we need */
    }
    char u[40];
    fmt_uuid(u, sid);
    snprintf(d->gtid, sizeof d->gtid, "%s:%s:%" PRIu64, u, tag, gno);
    d->have_gtid = true;
    return 0;
trunc:
    return ox_bl_err(d, eb, OX_ETRUNC, "GTID_TAGGED event truncated");
}

static int on_heartbeat(ox_binlog_decoder *d, const uint8_t *b, size_t n, bool v2, uint32_t logpos,
                        ox_change_fn fn, void *arg)
{
    char name[512] = "";
    uint64_t pos = logpos;
    if (!v2) {
        size_t k = n < sizeof name - 1 ? n : sizeof name - 1;
        memcpy(name, b, k);
        name[k] = '\0';
    } else {
        /* TLV: type (lenenc), length (lenenc), value; 0 ends the header. */
        ox_rd r = {b, b + n};
        uint64_t t, len;
        while (rd_lenenc(&r, &t) && t != 0 && rd_lenenc(&r, &len) && len <= rd_left(&r)) {
            if (t == 1) {
                size_t k = len < sizeof name - 1 ? len : sizeof name - 1;
                memcpy(name, r.p, k);
                name[k] = '\0';
            } else if (t == 2) {
                ox_rd vr = {r.p, r.p + len};
                uint64_t v;
                if (rd_lenenc(&vr, &v))
                    pos = v;
            }
            r.p += len;
        }
    }
    ox_change c;
    ox_bl_change_init(d, &c, OX_OP_HEARTBEAT);
    c.gtid = NULL;
    if (name[0])
        c.file = name;
    c.file_idx = name[0] ? file_index(name) : d->file_idx;
    c.offset = c.next_offset = pos;
    return fn(arg, &c);
}

int ox_bl_dispatch(ox_binlog_decoder *d, const uint8_t *ev, size_t len, ox_change_fn fn, void *arg,
                   ox_errbuf *eb)
{
    int type = ev[4];
    if (len < d->hdr_len)
        return ox_bl_err(d, eb, OX_ETRUNC, "event of %zu bytes is shorter than its %u-byte header",
                         len, d->hdr_len);
    const uint8_t *b = ev + d->hdr_len;
    size_t n = len - d->hdr_len;
    d->ev_ts = (uint32_t)le_n(ev, 4);
    d->ev_server = (uint32_t)le_n(ev + 5, 4);
    d->stats.events++;
    switch (type) {
    case OX_EV_TABLE_MAP:
        return ox_bl_table_map(d, b, n, eb);
    case OX_EV_WRITE_ROWS_V0:
    case OX_EV_UPDATE_ROWS_V0:
    case OX_EV_DELETE_ROWS_V0:
        /* PRE_GA_*_ROWS: MySQL 5.1.0-5.1.17 wrote rows in another layout,
         * against TABLE_MAPs without column metadata. */
        return ox_bl_err(d, eb, OX_EUNSUPP,
                         "pre-GA rows event (type %d, MySQL 5.1.0-5.1.17 format, server %s) is "
                         "not supported",
                         type, d->server_version[0] ? d->server_version : "unknown");
    case OX_EV_WRITE_ROWS_V1:
    case OX_EV_UPDATE_ROWS_V1:
    case OX_EV_DELETE_ROWS_V1:
    case OX_EV_WRITE_ROWS:
    case OX_EV_UPDATE_ROWS:
    case OX_EV_DELETE_ROWS:
    case OX_EV_PARTIAL_UPDATE_ROWS:
    case OX_EV_MARIA_WRITE_ROWS_COMPRESSED_V1:
    case OX_EV_MARIA_UPDATE_ROWS_COMPRESSED_V1:
    case OX_EV_MARIA_DELETE_ROWS_COMPRESSED_V1:
    case OX_EV_MARIA_WRITE_ROWS_COMPRESSED:
    case OX_EV_MARIA_UPDATE_ROWS_COMPRESSED:
    case OX_EV_MARIA_DELETE_ROWS_COMPRESSED:
        return ox_bl_rows(d, type, b, n, fn, arg, eb);
    case OX_EV_QUERY:
        return on_query(d, b, n, false, fn, arg, eb);
    case OX_EV_MARIA_QUERY_COMPRESSED:
        return on_query(d, b, n, true, fn, arg, eb);
    case OX_EV_XID:
        if (n < 8)
            return ox_bl_err(d, eb, OX_ETRUNC, "XID event truncated");
        return emit_commit(d, le_n(b, 8), NULL, fn, arg);
    case OX_EV_XA_PREPARE:
        return emit_commit(d, 0, "XA PREPARE", fn, arg);
    case OX_EV_MARIA_GTID: {
        if (n < 13)
            return ox_bl_err(d, eb, OX_ETRUNC, "GTID event truncated");
        uint64_t seq = le_n(b, 8);
        uint32_t domain = (uint32_t)le_n(b + 8, 4);
        uint8_t flags = b[12];
        /* Formatted by hand: this runs once per transaction. */
        char *g = d->gtid;
        g += ox_fmt_u64(g, domain);
        *g++ = '-';
        g += ox_fmt_u64(g, d->ev_server);
        *g++ = '-';
        g += ox_fmt_u64(g, seq);
        *g = '\0';
        d->have_gtid = true;
        d->have_annot = false;
        if (flags & 1)
            return 0; /* FL_STANDALONE: one statement, no BEGIN/COMMIT */
        d->in_txn = false;
        return emit_begin(d, fn, arg);
    }
    case OX_EV_GTID: {
        if (n < 25)
            return ox_bl_err(d, eb, OX_ETRUNC, "GTID event truncated");
        char u[40];
        fmt_uuid(u, b + 1);
        snprintf(d->gtid, sizeof d->gtid, "%s:%" PRIu64, u, le_n(b + 17, 8));
        d->have_gtid = true;
        return 0;
    }
    case OX_EV_ANONYMOUS_GTID:
        d->have_gtid = false;
        return 0;
    case OX_EV_GTID_TAGGED:
        return on_gtid_tagged(d, b, n, eb);
    case OX_EV_ROWS_QUERY:
    case OX_EV_MARIA_ANNOTATE_ROWS: {
        size_t skip = type == OX_EV_ROWS_QUERY ? 1 : 0;
        if (n < skip)
            return ox_bl_err(d, eb, OX_ETRUNC, "ROWS_QUERY event truncated");
        ox_buf_reset(&d->annot);
        ox_buf_put(&d->annot, b + skip, n - skip);
        ox_buf_putc(&d->annot, '\0');
        d->have_annot = true;
        return 0;
    }
    case OX_EV_ROTATE: {
        size_t post = d->post_len[OX_EV_ROTATE - 1] ? d->post_len[OX_EV_ROTATE - 1] : 8;
        if (n < post)
            return ox_bl_err(d, eb, OX_ETRUNC, "ROTATE event truncated");
        if (!d->file_locked) {
            size_t k = n - post < sizeof d->file - 1 ? n - post : sizeof d->file - 1;
            memcpy(d->file, b + post, k);
            d->file[k] = '\0';
            d->file_idx = file_index(d->file);
        }
        return 0;
    }
    case OX_EV_HEARTBEAT:
    case OX_EV_HEARTBEAT_V2:
        return on_heartbeat(d, b, n, type == OX_EV_HEARTBEAT_V2, (uint32_t)le_n(ev + 13, 4), fn,
                            arg);
    case OX_EV_TRANSACTION_PAYLOAD:
        return ox_bl_payload(d, b, n, fn, arg, eb);
    case OX_EV_MARIA_START_ENCRYPTION:
        return ox_bl_err(d, eb, OX_EUNSUPP, "encrypted binlog (START_ENCRYPTION event)");
    case OX_EV_FORMAT_DESCRIPTION:
        /* Only reachable from inside a payload, where it cannot occur. */
        return ox_bl_err(d, eb, OX_ECORRUPT, "FORMAT_DESCRIPTION inside a payload");
    default:
        /* STOP, INCIDENT, PREVIOUS_GTIDS, GTID_LIST, BINLOG_CHECKPOINT,
         * statement context (INTVAR, RAND, USER_VAR), LOAD events and
         * unknown types: nothing to deliver. */
        d->stats.skipped++;
        return 0;
    }
}

int ox_binlog_decoder_feed(ox_binlog_decoder *d, const uint8_t *ev, size_t len, uint64_t pos,
                           ox_change_fn fn, void *arg, ox_errbuf *eb)
{
    d->ev_pos = pos;
    d->ev_next = pos + len;
    d->stats.bytes += len;
    if (len < OX_BL_HEADER_LEN)
        return ox_bl_err(d, eb, OX_ETRUNC, "event of %zu bytes is shorter than its header", len);
    uint32_t evlen = (uint32_t)le_n(ev + 9, 4);
    if (evlen != len)
        return ox_bl_err(d, eb, OX_ECORRUPT, "event length field %" PRIu32 " != %zu bytes given",
                         evlen, len);
    int type = ev[4];
    if (type == OX_EV_FORMAT_DESCRIPTION) {
        d->stats.events++;
        return ox_bl_fde(d, ev, len, eb);
    }
    if (type == OX_EV_START_V3 && !d->have_fde) {
        d->stats.events++;
        return ox_bl_start_v3(d, ev, len, eb);
    }
    bool crc = d->have_fde ? d->checksum : d->assume_checksum;
    if (!d->have_fde && !crc && type == OX_EV_ROTATE && len >= OX_BL_HEADER_LEN + 8 + 4) {
        /* A stream's first artificial ROTATE: detect its CRC from itself. */
        uint32_t want = (uint32_t)le_n(ev + len - 4, 4);
        crc = ox_bl_crc32(ev, len - 4) == want;
    }
    if (crc) {
        if (len < OX_BL_HEADER_LEN + OX_BL_CRC_LEN)
            return ox_bl_err(d, eb, OX_ETRUNC, "event too short for its checksum");
        len -= OX_BL_CRC_LEN;
        if (d->verify) {
            uint32_t want = (uint32_t)le_n(ev + len, 4);
            uint32_t got = ox_bl_crc32(ev, len);
            if (want != got)
                return ox_bl_err(d, eb, OX_ECORRUPT,
                                 "bad CRC32 in event type %d (stored %08" PRIx32
                                 ", computed %08" PRIx32 ")",
                                 type, want, got);
        }
    }
    return ox_bl_dispatch(d, ev, len, fn, arg, eb);
}
