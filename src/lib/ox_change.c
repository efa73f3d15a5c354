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

/* Appends n bytes; short copies (keys, numbers-as-text) avoid the libc
 * call with two overlapping loads that never read outside [s, s+n). */
static inline void put_bytes(ox_buf *b, const char *s, size_t n)
{
    ox_json_reserve(b, n + 16);
    uint8_t *o = b->data + b->len;
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
    b->len += n;
}

static void put_value(ox_buf *b, const ox_value *v)
{
    switch (v->kind) {
    case OX_VAL_INT:
        ox_json_i64(b, v->v.i);
        break;
    case OX_VAL_UINT:
        ox_json_u64(b, v->v.u);
        break;
    case OX_VAL_FLOAT:
        ox_json_float(b, (float)v->v.d);
        break;
    case OX_VAL_DOUBLE:
        ox_json_double(b, v->v.d);
        break;
    case OX_VAL_DECIMAL:
    case OX_VAL_TIME:
        /* Formatted by the decoder from digits and separators only. */
        ox_json_reserve(b, (size_t)v->len + 2);
        b->data[b->len++] = '"';
        put_bytes(b, v->v.s, v->len);
        b->data[b->len++] = '"';
        break;
    case OX_VAL_TEXT:
        ox_json_str(b, v->v.s, v->len);
        break;
    case OX_VAL_BYTES:
        OX_JSON_LIT(b, "{\"base64\":\"");
        ox_base64(b, (const uint8_t *)v->v.s, v->len);
        OX_JSON_LIT(b, "\"}");
        break;
    case OX_VAL_JSON:
        if (v->len == 0)
            OX_JSON_LIT(b, "null");
        else
            ox_buf_put(b, v->v.s, v->len);
        break;
    case OX_VAL_JSON_DIFF:
        OX_JSON_LIT(b, "{\"$jsonDiff\":");
        ox_buf_put(b, v->v.s, v->len);
        ox_buf_putc(b, '}');
        break;
    case OX_VAL_NULL:
    default:
        OX_JSON_LIT(b, "null");
        break;
    }
}

static void put_image(ox_buf *b, const char *key, size_t keylen, const ox_change *c,
                      const ox_value *vals)
{
    ox_buf_put(b, key, keylen);
    ox_buf_putc(b, '{');
    bool first = true;
    for (uint32_t i = 0; i < c->ncols; i++) {
        if (vals[i].kind == OX_VAL_MISSING)
            continue;
        if (!first)
            ox_buf_putc(b, ',');
        first = false;
        const ox_column *col = &c->cols[i];
        if (col->json_key) {
            put_bytes(b, col->json_key, col->json_key_len);
        } else {
            put_colname(b, col, i);
            ox_buf_putc(b, ':');
        }
        put_value(b, &vals[i]);
    }
    ox_buf_putc(b, '}');
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
        OX_JSON_LIT(b, any ? "," : ",\"pk\":[");
        any = true;
        put_colname(b, &c->cols[i], i);
    }
    if (any)
        ox_buf_putc(b, ']');
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
    OX_JSON_LIT(b, "{\"op\":\"");
    ox_buf_puts(b, ox_op_name(c->op));
    ox_buf_putc(b, '"');
    if (c->json_head) {
        ox_buf_put(b, c->json_head, c->json_head_len);
    } else {
        ox_change_json_head(c, b);
    }
    if (c->before)
        put_image(b, ",\"before\":", 10, c, c->before);
    if (c->after)
        put_image(b, ",\"after\":", 9, c, c->after);
    if (c->json_tail)
        ox_buf_put(b, c->json_tail, c->json_tail_len);
    else
        ox_change_json_tail(c, b);
}
