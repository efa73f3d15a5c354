/*
 * ox_binlog_rows.c - WRITE/UPDATE/DELETE_ROWS events (v0, v1, v2, MariaDB
 * compressed) and MySQL PARTIAL_UPDATE_ROWS.
 *
 * Post-header: table_id (6 bytes, 4 if the post-header is 6 long) |
 * flags u16 | (v2, post-header 10) extra_len u16 counting itself, then
 * extra_len-2 bytes of extra data (tagged chunks: checked, then skipped).
 * Body: width (lenenc) | columns-present bitmap ((width+7)/8 bytes) |
 * (UPDATE) after-image columns bitmap | rows until the end, each row being
 * one image (WRITE: after, DELETE: before) or two (UPDATE: before, after).
 * An image is a NULL bitmap over the present columns, then the non-NULL
 * values in column order. MariaDB *_COMPRESSED events zlib-compress the
 * rows part (see ox_binlog_payload.c). In PARTIAL_UPDATE_ROWS each after
 * image starts with value_options (lenenc); when bit 0 is set a bitmap with
 * one bit per JSON column of the table follows, and a JSON column whose bit
 * is set carries a diff list instead of a document (ox_binlog_json.c).
 * Columns absent from an image (binlog_row_image=MINIMAL/NOBLOB) are
 * OX_VAL_MISSING.
 */
#include "ox_binlog_int.h"

#include <stdlib.h>
#include <string.h>

#include "ox_alloc.h"

static bool bit_at(const uint8_t *bm, uint32_t i)
{
    return (bm[i >> 3] >> (i & 7)) & 1;
}

static uint32_t popcount_bits(const uint8_t *bm, uint32_t n)
{
    uint32_t c = 0, i = 0;
    for (; i + 8 <= n; i += 8)
        c += (uint32_t)__builtin_popcount(bm[i >> 3]);
    for (; i < n; i++)
        c += bit_at(bm, i);
    return c;
}

/* What one image's columns-present bitmap implies, computed once per
 * event: every row of the event uses the same bitmap. */
typedef struct image_shape {
    const uint8_t *present;
    uint32_t npresent; /* set bits among the first width */
    bool all;          /* every one of the width columns is present */
} image_shape;

static void shape_init(image_shape *s, const uint8_t *present, uint32_t width)
{
    s->present = present;
    s->npresent = popcount_bits(present, width);
    s->all = s->npresent == width;
}

/* ox_bl_value for the fixed-width numeric types, inlined into the row loop
 * (the call and the big switch of ox_bl_value cost more than the decoding
 * itself); every other type goes to ox_bl_value. Same results. */
static inline long quick_value(ox_binlog_decoder *d, const ox_bl_col *c, const uint8_t *p,
                               size_t avail, ox_value *v)
{
    switch (c->dk) {
    case DK_INT8:
    case DK_INT16:
    case DK_INT32:
    case DK_INT64:
        return ox_bl_int_value(c, p, avail, v);
    case DK_DOUBLE:
        return ox_bl_double_value(p, avail, v);
    default:
        return ox_bl_value(c, p, avail, &d->scratch, v);
    }
}

/* Decodes one image into vals; returns 0, or -1 truncated/corrupt, -2 unsupported. */
static int decode_image(ox_binlog_decoder *d, const ox_bl_table *t, uint32_t width,
                        const image_shape *sh, ox_rd *r, ox_value *vals, bool shared_image)
{
    const uint8_t *pbits = NULL;
    uint32_t jk = 0;
    if (shared_image) {
        uint64_t opts;
        if (!rd_lenenc(r, &opts))
            return -1;
        if (opts & 1) {
            size_t nb = (t->njson + 7) / 8;
            if (rd_left(r) < nb)
                return -1;
            pbits = r->p;
            r->p += nb;
        }
    }
    size_t nullbytes = (sh->npresent + 7) / 8;
    if (rd_left(r) < nullbytes)
        return -1;
    const uint8_t *nulls = r->p;
    r->p += nullbytes;
    for (uint32_t i = width; i < t->ncols; i++)
        vals[i].kind = OX_VAL_MISSING;
    if (sh->all && pbits == NULL) {
        /* The common case (full row image, no JSON diffs): column i is the
         * i-th present column, so its NULL bit is bit i. */
        const uint8_t *p = r->p, *end = r->end;
        for (uint32_t i = 0; i < width; i++) {
            ox_value *v = &vals[i];
            if (bit_at(nulls, i)) {
                v->kind = OX_VAL_NULL;
                continue;
            }
            long used = quick_value(d, &t->c[i], p, (size_t)(end - p), v);
            if (used < 0) {
                r->p = p;
                return (int)used;
            }
            p += used;
        }
        r->p = p;
        return 0;
    }
    const uint8_t *present = sh->present;
    uint32_t k = 0;
    for (uint32_t i = 0; i < width; i++) {
        ox_value *v = &vals[i];
        if (!bit_at(present, i)) {
            v->kind = OX_VAL_MISSING;
            continue;
        }
        const ox_bl_col *c = &t->c[i];
        bool partial = false;
        if (c->dk == DK_JSON && pbits) {
            partial = bit_at(pbits, jk);
            jk++;
        }
        if (bit_at(nulls, k++)) {
            v->kind = OX_VAL_NULL;
            continue;
        }
        long used = partial ? ox_bl_value_json_diff(c, r->p, rd_left(r), &d->scratch, v)
                            : ox_bl_value(c, r->p, rd_left(r), &d->scratch, v);
        if (used < 0)
            return (int)used;
        r->p += used;
    }
    return 0;
}

static void fixup(ox_binlog_decoder *d, ox_value *vals, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        if (vals[i].kind & OX_BL_SCRATCH) {
            vals[i].kind &= (uint8_t)~OX_BL_SCRATCH;
            vals[i].v.s = (const char *)d->scratch.data + vals[i].v.u;
        }
    }
}

/* The change a rows event type carries, and whether its rows are zlib
 * compressed (MariaDB). */
static int rows_op(int type, bool *compressed)
{
    int op;
    *compressed = false;
    switch (type) {
    case OX_EV_WRITE_ROWS_V0:
    case OX_EV_WRITE_ROWS_V1:
    case OX_EV_WRITE_ROWS:
        op = OX_OP_INSERT;
        break;
    case OX_EV_MARIA_WRITE_ROWS_COMPRESSED_V1:
    case OX_EV_MARIA_WRITE_ROWS_COMPRESSED:
        op = OX_OP_INSERT;
        *compressed = true;
        break;
    case OX_EV_DELETE_ROWS_V0:
    case OX_EV_DELETE_ROWS_V1:
    case OX_EV_DELETE_ROWS:
        op = OX_OP_DELETE;
        break;
    case OX_EV_MARIA_DELETE_ROWS_COMPRESSED_V1:
    case OX_EV_MARIA_DELETE_ROWS_COMPRESSED:
        op = OX_OP_DELETE;
        *compressed = true;
        break;
    case OX_EV_MARIA_UPDATE_ROWS_COMPRESSED_V1:
    case OX_EV_MARIA_UPDATE_ROWS_COMPRESSED:
        op = OX_OP_UPDATE;
        *compressed = true;
        break;
    default:
        op = OX_OP_UPDATE;
        break;
    }
    return op;
}

int ox_bl_rows(ox_binlog_decoder *d, int type, const uint8_t *b, size_t n, ox_change_fn fn,
               void *arg, ox_errbuf *eb)
{
    bool compressed, partial = type == OX_EV_PARTIAL_UPDATE_ROWS;
    int op = rows_op(type, &compressed);
    size_t post = d->post_len[type - 1];
    if (post == 0)
        post = (type >= OX_EV_WRITE_ROWS && type <= OX_EV_DELETE_ROWS) || partial ? 10 : 8;
    if (post != 6 && post != 8 && post != 10)
        return ox_bl_err(d, eb, OX_EUNSUPP, "rows event post-header length %zu", post);
    if (n < post)
        return ox_bl_err(d, eb, OX_ETRUNC, "rows event truncated in its post-header");
    uint64_t id = post == 6 ? le_n(b, 4) : le_n(b, 6);
    ox_rd r = {b + post, b + n};
    if (post == 10) {
        size_t extra = (size_t)le_n(b + 8, 2);
        if (extra < 2 || extra - 2 > rd_left(&r))
            return ox_bl_err(d, eb, OX_ECORRUPT, "rows event extra data length %zu", extra);
        /* Tagged chunks. Tag 0 (extra row info: length byte counting the
         * 2-byte chunk header, format byte, data) is checked as servers
         * check it; any other tag ends what a reader can understand. */
        const uint8_t *x = r.p, *xend = r.p + (extra - 2);
        while (x < xend && *x == 0) {
            if (xend - x < 3 || x[1] < 2 || x[1] > xend - x - 1)
                return ox_bl_err(d, eb, OX_ECORRUPT,
                                 "rows event extra data: bad extra row info chunk");
            x += 1 + x[1];
        }
        r.p = xend;
    }
    ox_bl_table *t = ox_bl_table_find(d, id);
    if (t == NULL) {
        if (id == 0xffffffu || id == 0xffffffffffffull) {
            d->stats.skipped++;
            return 0; /* dummy event that only ends a statement */
        }
        return ox_bl_err(d, eb, OX_ECORRUPT, "rows event for unmapped table id %llu",
                         (unsigned long long)id);
    }
    uint64_t width = 0;
    if (!rd_lenenc(&r, &width) || width > t->ncols)
        return ox_bl_err(d, eb, OX_ECORRUPT, "rows event width %llu for %s.%s of %u columns",
                         (unsigned long long)width, t->db, t->table, t->ncols);
    size_t bmlen = (size_t)(width + 7) / 8;
    if (rd_left(&r) < bmlen * (op == OX_OP_UPDATE ? 2 : 1))
        return ox_bl_err(d, eb, OX_ETRUNC, "rows event truncated in its column bitmaps");
    const uint8_t *cols1 = r.p, *cols2 = r.p;
    r.p += bmlen;
    if (op == OX_OP_UPDATE) {
        cols2 = r.p;
        r.p += bmlen;
    }
    if (compressed) {
        ox_buf_reset(&d->inflate);
        if (ox_bl_maria_uncompress(r.p, rd_left(&r), &d->inflate) != 0)
            return ox_bl_err(d, eb, OX_ECORRUPT, "compressed rows event: bad zlib data");
        r.p = d->inflate.data;
        r.end = d->inflate.data + d->inflate.len;
    }
    if (d->valcap < t->ncols) {
        d->valcap = t->ncols;
        d->before = ox_xrealloc(d->before, d->valcap * sizeof *d->before);
        d->after = ox_xrealloc(d->after, d->valcap * sizeof *d->after);
    }
    ox_change c;
    ox_bl_change_init(d, &c, op);
    c.db = t->db;
    c.table = t->table;
    c.ncols = t->ncols;
    c.cols = t->cols;
    c.npk = t->npk;
    c.pk = t->pk;
    c.schema = t->schema;
    c.table_version = t->version;
    /* The rows of this event share gtid, file and positions. */
    c.event_version = ox_change_version_new();
    image_shape sh1, sh2;
    shape_init(&sh1, cols1, (uint32_t)width);
    shape_init(&sh2, cols2, (uint32_t)width);
    while (r.p < r.end) {
        const uint8_t *row = r.p;
        ox_buf_reset(&d->scratch);
        int rc = 0;
        if (op != OX_OP_INSERT)
            rc = decode_image(d, t, (uint32_t)width, &sh1, &r, d->before, false);
        if (rc == 0 && op != OX_OP_DELETE)
            rc = decode_image(d, t, (uint32_t)width, op == OX_OP_UPDATE ? &sh2 : &sh1, &r, d->after,
                              partial);
        if (rc == 0 && r.p == row)
            rc = -1; /* a row of no bytes (width 0): would never end */
        if (rc != 0)
            return ox_bl_err(d, eb, rc == -2 ? OX_EUNSUPP : OX_ECORRUPT,
                             "%s row of %s.%s at byte %zu of the rows data: %s", ox_op_name(op),
                             t->db, t->table, (size_t)(row - b),
                             rc == -2 ? "unsupported column type" : "truncated or corrupt value");
        c.before = op != OX_OP_INSERT ? d->before : NULL;
        c.after = op != OX_OP_DELETE ? d->after : NULL;
        if (c.before)
            fixup(d, d->before, t->ncols);
        if (c.after)
            fixup(d, d->after, t->ncols);
        c.sql = NULL;
        if (d->have_annot) {
            /* The statement text goes on the first row only. */
            c.sql = (const char *)d->annot.data;
            d->have_annot = false;
        }
        d->stats.rows++;
        rc = fn(arg, &c);
        if (rc != 0)
            return rc;
    }
    return 0;
}
