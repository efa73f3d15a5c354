/*
 * ox_change.c - rendering a change record as one JSON object.
 *
 * Key order is fixed (docs/records.md): op, db, table, pk, before, after,
 * gtid, xid, sql, file, fileIdx, offset, nextOffset, timestamp, serverId.
 * Absent (NULL) fields are omitted; position fields are always present.
 * Column values: integers and floats as numbers, decimals as strings with
 * the column's scale, text as strings, binary as {"base64":"..."}, JSON
 * embedded, missing columns (partial row images) omitted.
 */
#include "ox_change.h"

#include "ox_json_out.h"

const char *ox_op_name(int op)
{
    switch (op) {
    case OX_OP_INSERT:
        return "insert";
    case OX_OP_UPDATE:
        return "update";
    case OX_OP_DELETE:
        return "delete";
    case OX_OP_DDL:
        return "ddl";
    case OX_OP_BEGIN:
        return "begin";
    case OX_OP_COMMIT:
        return "commit";
    case OX_OP_HEARTBEAT:
        return "heartbeat";
    case OX_OP_MESSAGE:
        return "message";
    default:
        return "unknown";
    }
}

/* Writes a column key: the name, or "@N" (1-based) when unknown. */
static void put_colname(ox_buf *b, const ox_column *col, uint32_t i)
{
    if (col->name) {
        ox_json_str(b, col->name, strlen(col->name));
        return;
    }
    char tmp[24];
    tmp[0] = '"';
    tmp[1] = '@';
    size_t n = 2 + ox_fmt_u64(tmp + 2, (uint64_t)i + 1);
    tmp[n++] = '"';
    ox_buf_put(b, tmp, n);
}

/* Copies n bytes; short copies (keys, numbers-as-text) avoid the libc
 * call with two overlapping loads that never read outside [s, s+n). */
static inline uint8_t *copy_short(uint8_t *o, const char *s, size_t n)
{
    if (n >= 8 && n <= 16) {
        uint64_t x, y;
        memcpy(&x, s, 8);
        memcpy(&y, s + n - 8, 8);
        memcpy(o, &x, 8);
        memcpy(o + n - 8, &y, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t x, y;
        memcpy(&x, s, 4);
        memcpy(&y, s + n - 4, 4);
        memcpy(o, &x, 4);
        memcpy(o + n - 4, &y, 4);
    } else {
        memcpy(o, s, n);
    }
    return o + n;
}

#define LIT_TO(o, s) (memcpy((o), (s), sizeof(s) - 1), (o) + sizeof(s) - 1)

/* The most bytes put_value_to can write for v. */
static inline size_t value_bound(const ox_value *v)
{
    switch (v->kind) {
    case OX_VAL_INT:
    case OX_VAL_UINT:
    case OX_VAL_FLOAT:
    case OX_VAL_DOUBLE:
        return 32;
    case OX_VAL_DECIMAL:
    case OX_VAL_TIME:
        return (size_t)v->len + 2;
    case OX_VAL_TEXT:
        return (size_t)v->len * 6 + 2;
    case OX_VAL_BYTES:
        return ((size_t)v->len + 2) / 3 * 4 + 13;
    case OX_VAL_JSON:
        return (size_t)v->len + 4;
    case OX_VAL_JSON_DIFF:
        return (size_t)v->len + 14;
    default:
        return 4;
    }
}

/* Writes v at o, which has room for value_bound(v) bytes; returns the end. */
static inline uint8_t *put_value_to(uint8_t *o, const ox_value *v)
{
    switch (v->kind) {
    case OX_VAL_INT:
        return o + ox_fmt_i64((char *)o, v->v.i);
    case OX_VAL_UINT:
        return o + ox_fmt_u64((char *)o, v->v.u);
    case OX_VAL_FLOAT:
        return o + ox_fmt_float((char *)o, (float)v->v.d);
    case OX_VAL_DOUBLE:
        return o + ox_fmt_double((char *)o, v->v.d);
    case OX_VAL_DECIMAL:
    case OX_VAL_TIME:
        /* Formatted by the decoder from digits and separators only. */
        *o++ = '"';
        o = copy_short(o, v->v.s, v->len);
        *o++ = '"';
        return o;
    case OX_VAL_TEXT:
        return ox_json_str_to(o, v->v.s, v->len);
    case OX_VAL_BYTES:
        o = LIT_TO(o, "{\"base64\":\"");
        o = ox_base64_to(o, (const uint8_t *)v->v.s, v->len);
        return LIT_TO(o, "\"}");
    case OX_VAL_JSON:
        if (v->len == 0)
            return LIT_TO(o, "null");
        memcpy(o, v->v.s, v->len);
        return o + v->len;
    case OX_VAL_JSON_DIFF:
        o = LIT_TO(o, "{\"$jsonDiff\":");
        memcpy(o, v->v.s, v->len);
        o += v->len;
        *o++ = '}';
        return o;
    case OX_VAL_NULL:
    default:
        return LIT_TO(o, "null");
    }
}

/*
 * One row image, written straight into the buffer through a local pointer:
 * one capacity test per value (against the most the key and value can
 * take), the buffer's length stored back only when it must grow or a key
 * is rendered the slow way (a column without a cached key).
 */
static void put_image(ox_buf *b, const char *key, size_t keylen, const ox_change *c,
                      const ox_value *vals)
{
    ox_json_reserve(b, keylen + 2);
    uint8_t *o = b->data + b->len;
    memcpy(o, key, keylen);
    o += keylen;
    *o++ = '{';
    bool first = true;
    for (uint32_t i = 0; i < c->ncols; i++) {
        const ox_value *v = &vals[i];
        if (v->kind == OX_VAL_MISSING)
            continue;
        const ox_column *col = &c->cols[i];
        /* ',' + key + value + the closing '}'. */
        size_t need = (size_t)col->json_key_len + value_bound(v) + 2;
        if ((size_t)(b->data + b->cap - o) < need) {
            b->len = (size_t)(o - b->data);
            ox_buf_grow(b, need);
            o = b->data + b->len;
        }
        if (!first)
            *o++ = ',';
        first = false;
        if (col->json_key) {
            o = copy_short(o, col->json_key, col->json_key_len);
        } else {
            b->len = (size_t)(o - b->data);
            put_colname(b, col, i);
            ox_buf_putc(b, ':');
            ox_json_reserve(b, need);
            o = b->data + b->len;
        }
        o = put_value_to(o, v);
    }
    if (b->data + b->cap == o) {
        b->len = (size_t)(o - b->data);
        ox_buf_grow(b, 1);
        o = b->data + b->len;
    }
    *o++ = '}';
    b->len = (size_t)(o - b->data);
}

static void put_pk(ox_buf *b, const ox_change *c)
{
    if (c->cols == NULL || c->ncols == 0)
        return;
    if (c->npk > 0 && c->pk) {
        OX_JSON_LIT(b, ",\"pk\":[");
        for (uint32_t k = 0; k < c->npk; k++) {
            if (k)
                ox_buf_putc(b, ',');
            uint32_t i = c->pk[k] < c->ncols ? c->pk[k] : 0;
            put_colname(b, &c->cols[i], i);
        }
        ox_buf_putc(b, ']');
        return;
    }
    bool any = false;
    for (uint32_t i = 0; i < c->ncols; i++) {
        if (!c->cols[i].is_pk)
            continue;
        /* Two literals: OX_JSON_LIT takes sizeof, which of a ?: expression
         * is the size of a pointer. */
        if (any)
            OX_JSON_LIT(b, ",");
        else
            OX_JSON_LIT(b, ",\"pk\":[");
        any = true;
        put_colname(b, &c->cols[i], i);
    }
    if (any)
        ox_buf_putc(b, ']');
}

static void put_opt_str(ox_buf *b, const char *key, size_t keylen, const char *v)
{
    if (!v)
        return;
    ox_buf_put(b, key, keylen);
    ox_json_str(b, v, strlen(v));
}

#define PUT_OPT(b, key, v) put_opt_str(b, key, sizeof(key) - 1, v)

/* The DDL members after db/table: newDb, newTable, tables, parsed, sessionDb. */
static void put_ddl(ox_buf *b, const ox_change *c)
{
    if (c->ntargets > 0) {
        PUT_OPT(b, ",\"newDb\":", c->targets[0].new_db);
        PUT_OPT(b, ",\"newTable\":", c->targets[0].new_table);
    }
    if (c->ntargets > 1) {
        OX_JSON_LIT(b, ",\"tables\":[");
        for (uint32_t i = 0; i < c->ntargets; i++) {
            const ox_change_target *t = &c->targets[i];
            ox_buf_puts(b, i ? ",{" : "{");
            bool first = true;
            const char *keys[4] = {"db", "table", "newDb", "newTable"};
            const char *vals[4] = {t->db, t->table, t->new_db, t->new_table};
            for (int k = 0; k < 4; k++) {
                if (!vals[k])
                    continue;
                ox_buf_puts(b, first ? "\"" : ",\"");
                ox_buf_puts(b, keys[k]);
                ox_buf_puts(b, "\":");
                ox_json_str(b, vals[k], strlen(vals[k]));
                first = false;
            }
            ox_buf_putc(b, '}');
        }
        ox_buf_putc(b, ']');
    }
    if (c->ddl_unparsed)
        OX_JSON_LIT(b, ",\"parsed\":false");
    PUT_OPT(b, ",\"sessionDb\":", c->session_db);
}

void ox_change_json_head(const ox_change *c, ox_buf *b)
{
    if (c->db) {
        OX_JSON_LIT(b, ",\"db\":");
        ox_json_str(b, c->db, strlen(c->db));
    }
    if (c->table) {
        OX_JSON_LIT(b, ",\"table\":");
        ox_json_str(b, c->table, strlen(c->table));
    }
    put_pk(b, c);
    if (c->schema == OX_SCHEMA_UNKNOWN)
        OX_JSON_LIT(b, ",\"schema\":\"unknown\"");
}

void ox_change_column_key(const ox_column *col, uint32_t i, ox_buf *b)
{
    put_colname(b, col, i);
    ox_buf_putc(b, ':');
}

void ox_change_json_tail(const ox_change *c, ox_buf *b)
{
    if (c->gtid) {
        OX_JSON_LIT(b, ",\"gtid\":");
        ox_json_str(b, c->gtid, strlen(c->gtid));
    }
    if (c->op == OX_OP_COMMIT && c->xid) {
        OX_JSON_LIT(b, ",\"xid\":");
        ox_json_u64(b, c->xid);
    }
    if (c->sql) {
        OX_JSON_LIT(b, ",\"sql\":");
        ox_json_str(b, c->sql, strlen(c->sql));
    }
    if (c->file) {
        OX_JSON_LIT(b, ",\"file\":");
        ox_json_str(b, c->file, strlen(c->file));
    }
    OX_JSON_LIT(b, ",\"fileIdx\":");
    ox_json_u64(b, c->file_idx);
    OX_JSON_LIT(b, ",\"offset\":");
    ox_json_u64(b, c->offset);
    OX_JSON_LIT(b, ",\"nextOffset\":");
    ox_json_u64(b, c->next_offset);
    OX_JSON_LIT(b, ",\"timestamp\":");
    ox_json_i64(b, c->timestamp);
    OX_JSON_LIT(b, ",\"serverId\":");
    ox_json_u64(b, c->server_id);
    ox_buf_putc(b, '}');
}

void ox_change_to_json(const ox_change *c, ox_buf *b)
{
    switch (c->op) {
    case OX_OP_INSERT:
        OX_JSON_LIT(b, "{\"op\":\"insert\"");
        break;
    case OX_OP_UPDATE:
        OX_JSON_LIT(b, "{\"op\":\"update\"");
        break;
    case OX_OP_DELETE:
        OX_JSON_LIT(b, "{\"op\":\"delete\"");
        break;
    default:
        OX_JSON_LIT(b, "{\"op\":\"");
        ox_buf_puts(b, ox_op_name(c->op));
        ox_buf_putc(b, '"');
        break;
    }
    if (c->op == OX_OP_DDL && c->ddl_kind) {
        OX_JSON_LIT(b, ",\"kind\":");
        ox_json_str(b, c->ddl_kind, strlen(c->ddl_kind));
    }
    if (c->json_head) {
        ox_buf_put(b, c->json_head, c->json_head_len);
    } else {
        ox_change_json_head(c, b);
    }
    if (c->op == OX_OP_DDL && c->ddl_kind)
        put_ddl(b, c);
    if (c->before)
        put_image(b, ",\"before\":", 10, c, c->before);
    if (c->after)
        put_image(b, ",\"after\":", 9, c, c->after);
    if (c->json_tail)
        ox_buf_put(b, c->json_tail, c->json_tail_len);
    else
        ox_change_json_tail(c, b);
}
