/* ox_pgoutput.c - pgoutput frames and messages -> change records (see ox_pgoutput.h). */
#include "ox_pgoutput.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ox_alloc.h"
#include "ox_buf.h"
#include "ox_json_out.h"

/* How a column's text value becomes JSON (docs/records.md, PostgreSQL). */
enum pg_render {
    R_TEXT = 0, /* the server's text output as a JSON string */
    R_INT,      /* JSON number, the text verbatim */
    R_FLOAT,    /* JSON number when finite, else "NaN"/"Infinity"/"-Infinity" */
    R_DECIMAL,  /* JSON string, the exact decimal text (NaN, Infinity too) */
    R_BOOL,     /* true/false */
    R_BYTEA,    /* {"base64":...} of the bytes */
    R_JSON,     /* the document embedded */
};

/* Built-in type OIDs with a non-text rendering (pg_type.dat); every other
 * type, including enums, domains, arrays and ranges, is its text output.
 * json (114) stays text too: its value is the exact text as entered
 * (whitespace, key order, duplicate keys), which embedding would lose for
 * any consumer that parses the record. */
static const struct {
    uint32_t oid;
    uint8_t render;
} render_by_oid[] = {
    {16, R_BOOL},      /* bool */
    {17, R_BYTEA},     /* bytea */
    {20, R_INT},       /* int8 */
    {21, R_INT},       /* int2 */
    {23, R_INT},       /* int4 */
    {26, R_INT},       /* oid */
    {700, R_FLOAT},    /* float4 */
    {701, R_FLOAT},    /* float8 */
    {1700, R_DECIMAL}, /* numeric */
    {3802, R_JSON},    /* jsonb */
};

static uint8_t render_for(uint32_t oid)
{
    for (size_t i = 0; i < sizeof render_by_oid / sizeof render_by_oid[0]; i++)
        if (render_by_oid[i].oid == oid)
            return render_by_oid[i].render;
    return R_TEXT;
}

struct pg_rel {
    uint32_t relid;
    char *nsp, *name, *db;
    char replident;
    uint32_t natts;
    ox_column *cols;
    uint32_t *typoid;
    uint8_t *render;
    char **names;
    uint32_t npk;
    uint32_t *pk;
    uint64_t version; /* ox_change.table_version: one per Relation message */
};

struct ox_pgoutput {
    char *dbname;
    struct pg_rel *rels;
    size_t nrels, caprels;
    size_t last; /* index of the last relation looked up */
    int in_txn;
    uint32_t xid;
    uint64_t final_lsn;
    int64_t commit_ts; /* Unix seconds */
    ox_value *before, *after;
    uint32_t cap_vals;
    ox_buf scratch; /* decoded bytea values and TRUNCATE text of one message */
    ox_pg_pk_fn pk_fn;
    void *pk_arg;
    int64_t send_time; /* Unix seconds of the current frame (messages outside a transaction) */
};

/* A bounded big-endian reader over one message. */
struct rd {
    const uint8_t *p, *end;
    int bad;
};

static uint8_t rd_u8(struct rd *r)
{
    if (r->end - r->p < 1) {
        r->bad = 1;
        return 0;
    }
    return *r->p++;
}

static uint64_t rd_be(struct rd *r, int n)
{
    if (r->end - r->p < n) {
        r->bad = 1;
        r->p = r->end;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 8) | r->p[i];
    r->p += n;
    return v;
}

/* A NUL-terminated string in the message; NULL if unterminated. */
static const char *rd_str(struct rd *r)
{
    const uint8_t *z = r->p < r->end ? memchr(r->p, 0, (size_t)(r->end - r->p)) : NULL;
    if (!z) {
        r->bad = 1;
        r->p = r->end;
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p = z + 1;
    return s;
}

int ox_pg_frame_parse(const uint8_t *p, size_t n, ox_pg_frame *out, ox_errbuf *eb)
{
    struct rd r = {p, p + n, 0};
    memset(out, 0, sizeof *out);
    out->kind = rd_u8(&r);
    switch (out->kind) {
    case OX_PG_FRAME_XLOGDATA:
        out->start = rd_be(&r, 8);
        out->wal_end = rd_be(&r, 8);
        out->send_time = (int64_t)rd_be(&r, 8);
        out->msg = r.p;
        out->msg_len = (size_t)(r.end - r.p);
        break;
    case OX_PG_FRAME_KEEPALIVE:
        out->wal_end = rd_be(&r, 8);
        out->send_time = (int64_t)rd_be(&r, 8);
        out->reply = rd_u8(&r);
        break;
    default:
        return ox_errf(eb, OX_EPROTO, "unknown replication frame type 0x%02x (%zu bytes)",
                       (unsigned)out->kind, n);
    }
    if (r.bad)
        return ox_errf(eb, OX_ETRUNC, "truncated replication frame '%c' (%zu bytes)", out->kind, n);
    return 0;
}

static uint8_t *put_be(uint8_t *o, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--) {
        o[i] = (uint8_t)v;
        v >>= 8;
    }
    return o + n;
}

void ox_pg_status_update(uint8_t out[34], uint64_t written, uint64_t flushed, uint64_t applied,
                         int64_t now_pg_us, int reply)
{
    uint8_t *o = out;
    *o++ = 'r';
    o = put_be(o, written, 8);
    o = put_be(o, flushed, 8);
    o = put_be(o, applied, 8);
    o = put_be(o, (uint64_t)now_pg_us, 8);
    *o = reply ? 1 : 0;
}

int ox_pg_lsn_parse(const char *s, uint64_t *lsn)
{
    char *e1, *e2;
    if (!s || !*s)
        return OX_EINVAL;
    unsigned long long hi = strtoull(s, &e1, 16);
    if (*e1 != '/' || e1 == s || hi > 0xffffffffull)
        return OX_EINVAL;
    unsigned long long lo = strtoull(e1 + 1, &e2, 16);
    if (*e2 != '\0' || e2 == e1 + 1 || lo > 0xffffffffull)
        return OX_EINVAL;
    *lsn = ((uint64_t)hi << 32) | lo;
    return 0;
}

void ox_pg_lsn_format(uint64_t lsn, char out[24])
{
    snprintf(out, 24, "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
}

ox_pgoutput *ox_pgoutput_create(const char *dbname)
{
    ox_pgoutput *d = ox_xcalloc(1, sizeof *d);
    d->dbname = ox_xstrdup(dbname ? dbname : "");
    return d;
}

static void rel_clear(struct pg_rel *r)
{
    for (uint32_t i = 0; i < r->natts; i++)
        free(r->names[i]);
    free(r->names);
    free(r->cols);
    free(r->typoid);
    free(r->render);
    free(r->pk);
    free(r->nsp);
    free(r->name);
    free(r->db);
    memset(r, 0, sizeof *r);
}

void ox_pgoutput_free(ox_pgoutput *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->nrels; i++)
        rel_clear(&d->rels[i]);
    free(d->rels);
    free(d->before);
    free(d->after);
    ox_buf_free(&d->scratch);
    free(d->dbname);
    free(d);
}

void ox_pgoutput_reset(ox_pgoutput *d)
{
    d->in_txn = 0;
    d->xid = 0;
}

int ox_pgoutput_in_txn(const ox_pgoutput *d)
{
    return d->in_txn;
}

static struct pg_rel *rel_find(ox_pgoutput *d, uint32_t relid)
{
    if (d->last < d->nrels && d->rels[d->last].relid == relid)
        return &d->rels[d->last];
    for (size_t i = 0; i < d->nrels; i++)
        if (d->rels[i].relid == relid) {
            d->last = i;
            return &d->rels[i];
        }
    return NULL;
}

static void base_change(ox_pgoutput *d, ox_change *c, int op, uint64_t lsn)
{
    memset(c, 0, sizeof *c);
    c->op = (uint8_t)op;
    c->xid = d->xid;
    c->file_idx = lsn >> 32;
    c->offset = lsn & 0xffffffffu;
    c->next_offset = c->offset;
    c->timestamp = d->commit_ts;
}

static int64_t pg_ts_to_unix(int64_t us)
{
    /* Floor division: times before 2000 are negative microseconds. */
    int64_t s = us / 1000000;
    if (us % 1000000 < 0)
        s--;
    return s + OX_PG_EPOCH_UNIX;
}

/* FULL and NOTHING name no key in the Relation message: the primary key
 * from the catalog, if every one of its columns is in the relation. Only
 * pk is set, not is_pk: with NOTHING an update's old key is not known. */
static void lookup_pk(ox_pgoutput *d, struct pg_rel *nr)
{
    ox_buf names = OX_BUF_INIT;
    if (d->pk_fn(d->pk_arg, nr->relid, &names) == 0) {
        const char *s = (const char *)names.data, *end = s + names.len;
        while (s && s < end) {
            const char *z = memchr(s, '\0', (size_t)(end - s));
            if (!z)
                break;
            uint32_t i = 0;
            while (i < nr->natts && strcmp(nr->names[i], s) != 0)
                i++;
            if (i == nr->natts || nr->npk == nr->natts) {
                nr->npk = 0; /* a key the relation does not show: omit it */
                break;
            }
            nr->pk[nr->npk++] = i;
            s = z + 1;
        }
    }
    ox_buf_free(&names);
}

void ox_pgoutput_set_pk_lookup(ox_pgoutput *d, ox_pg_pk_fn fn, void *arg)
{
    d->pk_fn = fn;
    d->pk_arg = arg;
}

static int msg_relation(ox_pgoutput *d, struct rd *r, uint64_t lsn, ox_errbuf *eb)
{
    uint32_t relid = (uint32_t)rd_be(r, 4);
    const char *nsp = rd_str(r), *name = rd_str(r);
    char replident = (char)rd_u8(r);
    uint32_t natts = (uint32_t)rd_be(r, 2);
    if (r->bad)
        goto trunc;
    /* Every attribute takes at least 10 bytes: refuse counts the message
     * cannot hold before allocating for them. */
    if ((size_t)(r->end - r->p) < (size_t)natts * 10)
        goto trunc;
    struct pg_rel nr;
    memset(&nr, 0, sizeof nr);
    nr.relid = relid;
    nr.replident = replident;
    nr.nsp = ox_xstrdup(nsp);
    nr.name = ox_xstrdup(name);
    size_t dl = strlen(d->dbname) + 1 + strlen(nsp) + 1;
    nr.db = ox_xmalloc(dl);
    snprintf(nr.db, dl, "%s.%s", d->dbname, nsp);
    nr.cols = ox_xcalloc(natts ? natts : 1, sizeof *nr.cols);
    nr.typoid = ox_xcalloc(natts ? natts : 1, sizeof *nr.typoid);
    nr.render = ox_xcalloc(natts ? natts : 1, 1);
    nr.names = ox_xcalloc(natts ? natts : 1, sizeof *nr.names);
    nr.pk = ox_xcalloc(natts ? natts : 1, sizeof *nr.pk);
    for (uint32_t i = 0; i < natts; i++) {
        uint8_t flags = rd_u8(r);
        const char *an = rd_str(r);
        uint32_t typoid = (uint32_t)rd_be(r, 4);
        (void)rd_be(r, 4); /* typmod: the text output already reflects it */
        if (r->bad) {
            nr.natts = i;
            rel_clear(&nr);
            goto trunc;
        }
        nr.names[i] = ox_xstrdup(an);
        nr.cols[i].name = nr.names[i];
        nr.typoid[i] = typoid;
        nr.render[i] = render_for(typoid);
        /* With REPLICA IDENTITY FULL every column carries the key flag: it
         * is then no key at all. */
        if ((flags & 1) && (replident == 'd' || replident == 'i')) {
            nr.cols[i].is_pk = true;
            nr.pk[nr.npk++] = i;
        }
    }
    nr.natts = natts;
    if ((replident == 'f' || replident == 'n') && d->pk_fn)
        lookup_pk(d, &nr);
    nr.version = ox_change_version_new();
    struct pg_rel *old = rel_find(d, relid);
    if (old) {
        rel_clear(old);
        *old = nr;
    } else {
        if (d->nrels == d->caprels) {
            d->caprels = d->caprels ? d->caprels * 2 : 16;
            d->rels = ox_xrealloc(d->rels, d->caprels * sizeof *d->rels);
        }
        d->rels[d->nrels++] = nr;
    }
    if (natts > d->cap_vals) {
        d->cap_vals = natts;
        d->before = ox_xrealloc(d->before, natts * sizeof *d->before);
        d->after = ox_xrealloc(d->after, natts * sizeof *d->after);
    }
    return 0;
trunc:
    return ox_errf(eb, OX_ETRUNC, "LSN %" PRIX64 ": truncated Relation message", lsn);
}

static int json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || s[i] < '0' || s[i] > '9')
        return 0;
    if (s[i] == '0')
        i++;
    else
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || s[i] < '0' || s[i] > '9')
            return 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    }
    return i == n;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static const char unchanged_json[] = "{\"$unchanged\":true}";

/* One text value -> ox_value (pointing into the message or d->scratch, which
 * the caller sized so that it never moves). */
static int text_value(ox_pgoutput *d, uint8_t render, const char *s, uint32_t n, ox_value *v)
{
    v->len = n;
    v->v.s = s;
    switch (render) {
    case R_INT:
        v->kind = json_number(s, n) ? OX_VAL_JSON : OX_VAL_TEXT;
        return 0;
    case R_FLOAT:
        v->kind = json_number(s, n) ? OX_VAL_JSON : OX_VAL_TEXT;
        return 0;
    case R_DECIMAL:
        /* Digits, '-', '.', or NaN/Infinity: nothing to escape, but a
         * string from a confused server still goes through the escaper. */
        v->kind = OX_VAL_TEXT;
        return 0;
    case R_BOOL:
        v->kind = OX_VAL_JSON;
        if (n == 1 && s[0] == 't') {
            v->v.s = "true";
            v->len = 4;
        } else if (n == 1 && s[0] == 'f') {
            v->v.s = "false";
            v->len = 5;
        } else {
            v->kind = OX_VAL_TEXT;
        }
        return 0;
    case R_BYTEA: {
        /* bytea_output=hex: "\x" then two hex digits per byte. */
        if (n < 2 || s[0] != '\\' || s[1] != 'x' || (n & 1))
            return OX_ECORRUPT;
        uint8_t *o = d->scratch.data + d->scratch.len;
        for (uint32_t i = 2; i < n; i += 2) {
            int h = hexval((uint8_t)s[i]), l = hexval((uint8_t)s[i + 1]);
            if (h < 0 || l < 0)
                return OX_ECORRUPT;
            o[(i - 2) / 2] = (uint8_t)(h << 4 | l);
        }
        v->kind = OX_VAL_BYTES;
        v->v.s = (const char *)o;
        v->len = (n - 2) / 2;
        d->scratch.len += v->len;
        return 0;
    }
    case R_JSON:
        v->kind = n ? OX_VAL_JSON : OX_VAL_TEXT;
        return 0;
    default:
        v->kind = OX_VAL_TEXT;
        return 0;
    }
}

static int tuple(ox_pgoutput *d, struct rd *r, const struct pg_rel *rel, ox_value *vals,
                 uint64_t lsn, ox_errbuf *eb)
{
    uint32_t n = (uint32_t)rd_be(r, 2);
    if (r->bad)
        return ox_errf(eb, OX_ETRUNC, "LSN %" PRIX64 ": truncated TupleData", lsn);
    if (n != rel->natts)
        return ox_errf(eb, OX_EPROTO,
                       "LSN %" PRIX64 ": %u columns for %s.%s, whose Relation message has %u", lsn,
                       n, rel->nsp, rel->name, rel->natts);
    for (uint32_t i = 0; i < n; i++) {
        uint8_t k = rd_u8(r);
        ox_value *v = &vals[i];
        memset(v, 0, sizeof *v);
        switch (k) {
        case 'n':
            v->kind = OX_VAL_NULL;
            break;
        case 'u':
            v->kind = OX_VAL_JSON;
            v->v.s = unchanged_json;
            v->len = sizeof unchanged_json - 1;
            break;
        case 't': {
            uint32_t len = (uint32_t)rd_be(r, 4);
            if (r->bad || (size_t)(r->end - r->p) < len)
                return ox_errf(eb, OX_ETRUNC, "LSN %" PRIX64 ": truncated value of column %s", lsn,
                               rel->names[i]);
            const char *s = (const char *)r->p;
            r->p += len;
            if (text_value(d, rel->render[i], s, len, v) != 0)
                return ox_errf(eb, OX_ECORRUPT,
                               "LSN %" PRIX64 ": column %s of %s.%s: not a hex bytea value", lsn,
                               rel->names[i], rel->nsp, rel->name);
            break;
        }
        default:
            return ox_errf(eb, r->bad ? OX_ETRUNC : OX_EPROTO,
                           "LSN %" PRIX64 ": column %s of %s.%s: value kind 0x%02x (binary values "
                           "are not requested)",
                           lsn, rel->names[i], rel->nsp, rel->name, (unsigned)k);
        }
    }
    return 0;
}

static struct pg_rel *need_rel(ox_pgoutput *d, uint32_t relid, uint64_t lsn, ox_errbuf *eb)
{
    struct pg_rel *rel = rel_find(d, relid);
    if (!rel)
        ox_errf(eb, OX_EPROTO, "LSN %" PRIX64 ": change of relation %u before its Relation message",
                lsn, relid);
    return rel;
}

static void rel_change(ox_pgoutput *d, ox_change *c, const struct pg_rel *rel, int op, uint64_t lsn)
{
    base_change(d, c, op, lsn);
    c->db = rel->db;
    c->table = rel->name;
    c->ncols = rel->natts;
    c->cols = rel->cols;
    c->npk = rel->npk;
    c->pk = rel->pk;
    c->table_version = rel->version;
}

static int msg_row(ox_pgoutput *d, int kind, struct rd *r, size_t msg_len, uint64_t lsn,
                   ox_change_fn fn, void *arg, ox_errbuf *eb)
{
    uint32_t relid = (uint32_t)rd_be(r, 4);
    if (r->bad)
        return ox_errf(eb, OX_ETRUNC, "LSN %" PRIX64 ": truncated row message", lsn);
    struct pg_rel *rel = need_rel(d, relid, lsn, eb);
    if (!rel)
        return OX_EPROTO;
    /* Decoded bytea is at most half its text: the message length bounds
     * the scratch space, so pointers into it stay valid. */
    ox_buf_reset(&d->scratch);
    ox_buf_grow(&d->scratch, msg_len);
    ox_change c;
    int op = kind == 'I' ? OX_OP_INSERT : kind == 'U' ? OX_OP_UPDATE : OX_OP_DELETE;
    rel_change(d, &c, rel, op, lsn);
    int rc;
    uint8_t t = rd_u8(r);
    int have_before = 0;
    if (kind != 'I' && (t == 'K' || t == 'O')) {
        if ((rc = tuple(d, r, rel, d->before, lsn, eb)) != 0)
            return rc;
        have_before = 1;
        /* 'K' carries only the key columns; the others arrive as nulls but
         * were not sent: mark them missing rather than null. */
        if (t == 'K')
            for (uint32_t i = 0; i < rel->natts; i++)
                if (!(rel->cols[i].is_pk) && d->before[i].kind == OX_VAL_NULL)
                    d->before[i].kind = OX_VAL_MISSING;
        if (kind == 'U')
            t = rd_u8(r);
    }
    if (kind == 'D') {
        if (!have_before)
            return ox_errf(eb, r->bad ? OX_ETRUNC : OX_EPROTO,
                           "LSN %" PRIX64 ": Delete of %s.%s without an old tuple", lsn, rel->nsp,
                           rel->name);
        c.before = d->before;
    } else {
        if (t != 'N')
            return ox_errf(eb, r->bad ? OX_ETRUNC : OX_EPROTO,
                           "LSN %" PRIX64 ": %s of %s.%s without a new tuple", lsn,
                           kind == 'I' ? "Insert" : "Update", rel->nsp, rel->name);
        if ((rc = tuple(d, r, rel, d->after, lsn, eb)) != 0)
            return rc;
        c.after = d->after;
        if (kind == 'U') {
            if (have_before) {
                c.before = d->before;
            } else {
                /* REPLICA IDENTITY DEFAULT/INDEX with the key unchanged, or
                 * NOTHING: the server sends no old tuple. The key columns
                 * are the new ones (unchanged); the rest is unknown. */
                for (uint32_t i = 0; i < rel->natts; i++) {
                    d->before[i] = d->after[i];
                    if (!rel->cols[i].is_pk)
                        d->before[i].kind = OX_VAL_MISSING;
                }
                c.before = d->before;
            }
        }
    }
    return fn(arg, &c);
}

static void quote_ident(ox_buf *b, const char *s)
{
    ox_buf_putc(b, '"');
    for (; *s; s++) {
        if (*s == '"')
            ox_buf_putc(b, '"');
        ox_buf_putc(b, (uint8_t)*s);
    }
    ox_buf_putc(b, '"');
}

static int msg_truncate(ox_pgoutput *d, struct rd *r, uint64_t lsn, ox_change_fn fn, void *arg,
                        ox_errbuf *eb)
{
    uint32_t n = (uint32_t)rd_be(r, 4);
    uint8_t opts = rd_u8(r);
    if (r->bad || (size_t)(r->end - r->p) < (size_t)n * 4)
        return ox_errf(eb, OX_ETRUNC, "LSN %" PRIX64 ": truncated Truncate message", lsn);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t relid = (uint32_t)rd_be(r, 4);
        struct pg_rel *rel = need_rel(d, relid, lsn, eb);
        if (!rel)
            return OX_EPROTO;
        ox_buf_reset(&d->scratch);
        ox_buf_puts(&d->scratch, "TRUNCATE TABLE ");
        quote_ident(&d->scratch, rel->nsp);
        ox_buf_putc(&d->scratch, '.');
        quote_ident(&d->scratch, rel->name);
        if (opts & 2)
            ox_buf_puts(&d->scratch, " RESTART IDENTITY");
        ox_buf_putc(&d->scratch, 0);
        ox_change c;
        base_change(d, &c, OX_OP_DDL, lsn);
        c.db = rel->db;
        c.table = rel->name;
        c.sql = (const char *)d->scratch.data;
        int rc = fn(arg, &c);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* The JSON of a message record between "op" and the position fields:
 * ,"db":..,"prefix":..,"transactional":..,"content":{"base64":..}. */
/* 'M': a transactional message is a record of its transaction; one outside
 * any is a transaction of its own (BEGIN, message, COMMIT, xid 0) at its
 * LSN, which is also its resume point (the server sends a message only if
 * it lies at or after the start position). */
static int msg_message(ox_pgoutput *d, struct rd *r, uint64_t lsn, ox_change_fn fn, void *arg,
                       ox_errbuf *eb)
{
    uint8_t flags = rd_u8(r);
    uint64_t mlsn = rd_be(r, 8);
    const char *prefix = rd_str(r);
    uint32_t n = (uint32_t)rd_be(r, 4);
    if (r->bad || (size_t)(r->end - r->p) < n)
        return ox_errf(eb, OX_ETRUNC, "LSN %" PRIX64 ": truncated Message", lsn);
    if ((flags & 1) && !d->in_txn)
        return ox_errf(eb, OX_EPROTO,
                       "LSN %" PRIX64 ": transactional Message outside a transaction", lsn);
    int alone = !d->in_txn, rc;
    ox_change c;
    if (alone) {
        d->xid = 0;
        d->commit_ts = d->send_time;
        base_change(d, &c, OX_OP_BEGIN, mlsn);
        if ((rc = fn(arg, &c)) != 0)
            return rc;
    }
    base_change(d, &c, OX_OP_MESSAGE, mlsn);
    c.db = d->dbname;
    c.table = prefix; /* the name the lists match: DATABASE.PREFIX */
    c.message = r->p;
    c.message_len = n;
    c.message_transactional = (flags & 1) != 0;
    if ((rc = fn(arg, &c)) != 0 || !alone)
        return rc;
    base_change(d, &c, OX_OP_COMMIT, mlsn);
    return fn(arg, &c);
}

void ox_pgoutput_set_send_time(ox_pgoutput *d, int64_t unix_s)
{
    d->send_time = unix_s;
}

int ox_pgoutput_feed(ox_pgoutput *d, const uint8_t *msg, size_t len, uint64_t lsn, ox_change_fn fn,
                     void *arg, ox_errbuf *eb)
{
    struct rd r = {msg, msg + len, 0};
    int kind = rd_u8(&r);
    ox_change c;
    switch (kind) {
    case 'B': {
        uint64_t final_lsn = rd_be(&r, 8);
        int64_t ts = (int64_t)rd_be(&r, 8);
        uint32_t xid = (uint32_t)rd_be(&r, 4);
        if (r.bad)
            return ox_errf(eb, OX_ETRUNC, "LSN %" PRIX64 ": truncated Begin message", lsn);
        if (d->in_txn)
            return ox_errf(eb, OX_EPROTO, "LSN %" PRIX64 ": Begin inside transaction %u", lsn,
                           d->xid);
        d->in_txn = 1;
        d->xid = xid;
        d->final_lsn = final_lsn;
        d->commit_ts = pg_ts_to_unix(ts);
        base_change(d, &c, OX_OP_BEGIN, lsn);
        return fn(arg, &c);
    }
    case 'C': {
        (void)rd_u8(&r);
        uint64_t commit_lsn = rd_be(&r, 8);
        uint64_t end_lsn = rd_be(&r, 8);
        int64_t ts = (int64_t)rd_be(&r, 8);
        if (r.bad)
            return ox_errf(eb, OX_ETRUNC, "LSN %" PRIX64 ": truncated Commit message", lsn);
        if (!d->in_txn)
            return ox_errf(eb, OX_EPROTO, "LSN %" PRIX64 ": Commit without Begin", lsn);
        d->commit_ts = pg_ts_to_unix(ts);
        base_change(d, &c, OX_OP_COMMIT, commit_lsn);
        /* The checkpoint of a commit is the resume point: its end LSN. */
        c.file_idx = end_lsn >> 32;
        c.next_offset = end_lsn & 0xffffffffu;
        d->in_txn = 0;
        int rc = fn(arg, &c);
        d->xid = 0;
        return rc;
    }
    case 'R':
        return msg_relation(d, &r, lsn, eb);
    case 'I':
    case 'U':
    case 'D':
        if (!d->in_txn)
            return ox_errf(eb, OX_EPROTO, "LSN %" PRIX64 ": row change outside a transaction", lsn);
        return msg_row(d, kind, &r, len, lsn, fn, arg, eb);
    case 'T':
        if (!d->in_txn)
            return ox_errf(eb, OX_EPROTO, "LSN %" PRIX64 ": Truncate outside a transaction", lsn);
        return msg_truncate(d, &r, lsn, fn, arg, eb);
    case 'M':
        return msg_message(d, &r, lsn, fn, arg, eb);
    case 'O': /* origin of a replicated transaction */
    case 'Y': /* type names: the text output does not need them */
        return 0;
    default:
        return ox_errf(eb, OX_EPROTO, "LSN %" PRIX64 ": unknown pgoutput message type 0x%02x", lsn,
                       (unsigned)kind);
    }
}

/* The type bytes that carry a subtransaction xid inside a stream block. */
static int has_stream_xid(int kind)
{
    return kind && strchr("RYIUDTM", kind) != NULL;
}

int ox_pgoutput_stream_parse(const uint8_t *msg, size_t len, int in_block, uint64_t lsn,
                             ox_pg_stream_msg *out, ox_errbuf *eb)
{
    struct rd r = {msg, msg + len, 0};
    memset(out, 0, sizeof *out);
    int kind = rd_u8(&r);
    switch (kind) {
    case 'S':
        out->xid = (uint32_t)rd_be(&r, 4);
        out->first = rd_u8(&r) == 1;
        break;
    case 'E':
        break;
    case 'c':
        out->xid = (uint32_t)rd_be(&r, 4);
        (void)rd_u8(&r);
        out->commit_lsn = rd_be(&r, 8);
        out->end_lsn = rd_be(&r, 8);
        out->commit_ts = (int64_t)rd_be(&r, 8);
        break;
    case 'A': /* protocol 4 adds abort_lsn and abort_ts: not requested */
        out->xid = (uint32_t)rd_be(&r, 4);
        out->subxid = (uint32_t)rd_be(&r, 4);
        break;
    default:
        if (!in_block)
            return 0; /* kind 0: a message of a non-streamed transaction */
        if (kind == 'O')
            break;
        if (!has_stream_xid(kind))
            return ox_errf(eb, r.bad ? OX_ETRUNC : OX_EPROTO,
                           "LSN %" PRIX64 ": message type 0x%02x inside a stream block", lsn,
                           (unsigned)kind);
        out->xid = (uint32_t)rd_be(&r, 4);
        out->body = 5;
        break;
    }
    if (r.bad)
        return ox_errf(eb, OX_ETRUNC, "LSN %" PRIX64 ": truncated streaming message '%c'", lsn,
                       kind);
    /* Start, Commit and Abort come between blocks, Stop ends one. */
    int inside_only = kind == 'E' || has_stream_xid(kind) || kind == 'O';
    if (in_block != inside_only)
        return ox_errf(eb, OX_EPROTO, "LSN %" PRIX64 ": streaming message '%c' %s a stream block",
                       lsn, kind, in_block ? "inside" : "outside");
    out->kind = kind;
    return 0;
}

int ox_pgoutput_begin_streamed(ox_pgoutput *d, const ox_pg_stream_msg *m, uint64_t lsn,
                               ox_change_fn fn, void *arg, ox_errbuf *eb)
{
    uint8_t b[21], *o = b;
    *o++ = 'B';
    o = put_be(o, m->commit_lsn, 8);
    o = put_be(o, (uint64_t)m->commit_ts, 8);
    put_be(o, m->xid, 4);
    return ox_pgoutput_feed(d, b, sizeof b, lsn, fn, arg, eb);
}

int ox_pgoutput_commit_streamed(ox_pgoutput *d, const ox_pg_stream_msg *m, ox_change_fn fn,
                                void *arg, ox_errbuf *eb)
{
    uint8_t c[26], *o = c;
    *o++ = 'C';
    *o++ = 0;
    o = put_be(o, m->commit_lsn, 8);
    o = put_be(o, m->end_lsn, 8);
    put_be(o, (uint64_t)m->commit_ts, 8);
    return ox_pgoutput_feed(d, c, sizeof c, m->end_lsn, fn, arg, eb);
}
