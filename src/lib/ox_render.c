/*
 * ox_render.c - rendering a change record as one JSON object; see
 * ox_render.h for the key order.
 *
 * Column values: integers and floats as numbers, decimals as strings with
 * the column's scale, text as strings, binary as {"base64":"..."}, JSON
 * embedded, missing columns (partial row images) omitted.
 *
 * Rows are the hot path (hundreds of thousands per second): a table's
 * head (db, table, pk, schema) and column keys are rendered once per
 * table_version into a direct-mapped cache, and the position members once
 * per run of rows that share them.
 */
#include "ox_render.h"

#include <stdlib.h>
#include <string.h>

#include "ox_alloc.h"
#include "ox_json_out.h"

/* Tables whose renderings are kept: consecutive versions take distinct
 * slots, so this many recently mapped tables never evict each other. */
#define TABLE_SLOTS 512

/* One table's cached text: the head, then every column's `"name":`. */
struct colkey {
    const char *p; /* into text */
    uint32_t len;
};

struct table_ent {
    uint64_t version; /* 0: empty */
    uint32_t ncols, head_len;
    ox_buf text;
    struct colkey *key; /* ncols entries */
    uint32_t cap;       /* entries allocated */
};

/* The members after the row images (`,"gtid":..,...,"serverId":..}`) of
 * the rows of one source event. */
struct tail_memo {
    uint64_t version; /* the event_version it was rendered for; 0: none */
    ox_buf text;
};

struct ox_render {
    struct table_ent slot[TABLE_SLOTS];
    struct tail_memo tail;
};

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
 * take), the buffer's length stored back only when it must grow. Keys come
 * rendered from the table entry `e`.
 */
static void put_image(ox_buf *b, const char *key, size_t keylen, const ox_change *c,
                      const ox_value *vals, const struct table_ent *e)
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
        const struct colkey *k = &e->key[i];
        /* ',' + key + value + the closing '}'. */
        size_t need = (size_t)k->len + value_bound(v) + 2;
        if ((size_t)(b->data + b->cap - o) < need) {
            b->len = (size_t)(o - b->data);
            ox_buf_grow(b, need);
            o = b->data + b->len;
        }
        if (!first)
            *o++ = ',';
        first = false;
        o = copy_short(o, k->p, k->len);
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

/* `,"db":..,"table":..,"pk":[..]` and the schema state. */
static void put_head(const ox_change *c, ox_buf *b)
{
    PUT_OPT(b, ",\"db\":", c->db);
    PUT_OPT(b, ",\"table\":", c->table);
    put_pk(b, c);
    if (c->schema == OX_SCHEMA_UNKNOWN)
        OX_JSON_LIT(b, ",\"schema\":\"unknown\"");
}

/* A logical message's `,"db":..,"prefix":..,"transactional":..,"content":`
 * (the content is bytes: base64, like a binary value). */
static void put_message(const ox_change *c, ox_buf *b)
{
    PUT_OPT(b, ",\"db\":", c->db);
    PUT_OPT(b, ",\"prefix\":", c->table);
    if (c->message_transactional)
        OX_JSON_LIT(b, ",\"transactional\":true");
    else
        OX_JSON_LIT(b, ",\"transactional\":false");
    OX_JSON_LIT(b, ",\"content\":{\"base64\":\"");
    ox_base64(b, c->message, c->message_len);
    OX_JSON_LIT(b, "\"}");
}

/* Everything after the row images, with the closing brace. */
static void put_tail(const ox_change *c, ox_buf *b)
{
    PUT_OPT(b, ",\"gtid\":", c->gtid);
    if (c->op == OX_OP_COMMIT && c->xid) {
        OX_JSON_LIT(b, ",\"xid\":");
        ox_json_u64(b, c->xid);
    }
    PUT_OPT(b, ",\"sql\":", c->sql);
    PUT_OPT(b, ",\"file\":", c->file);
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

/* Renders c's head and column keys into e. */
static void fill_entry(struct table_ent *e, const ox_change *c)
{
    ox_buf_reset(&e->text);
    put_head(c, &e->text);
    e->head_len = (uint32_t)e->text.len;
    if (c->ncols > e->cap) {
        e->cap = c->ncols;
        e->key = ox_xrealloc(e->key, e->cap * sizeof *e->key);
    }
    /* Offsets first (in len): the buffer may move while it grows. */
    for (uint32_t i = 0; i < c->ncols; i++) {
        e->key[i].len = (uint32_t)e->text.len;
        put_colname(&e->text, &c->cols[i], i);
        ox_buf_putc(&e->text, ':');
    }
    for (uint32_t i = 0; i < c->ncols; i++) {
        size_t end = i + 1 < c->ncols ? e->key[i + 1].len : e->text.len;
        e->key[i].p = (const char *)e->text.data + e->key[i].len;
        e->key[i].len = (uint32_t)(end - e->key[i].len);
    }
    e->ncols = c->ncols;
}

static void free_entry(struct table_ent *e)
{
    ox_buf_free(&e->text);
    free(e->key);
}

/* The cached head and keys of c's table, rendered on a miss; NULL when c
 * has no table_version (or there is no renderer). */
static const struct table_ent *table_entry(ox_render *r, const ox_change *c)
{
    if (r == NULL || c->table_version == 0)
        return NULL;
    struct table_ent *e = &r->slot[c->table_version % TABLE_SLOTS];
    if (e->version != c->table_version || e->ncols != c->ncols) {
        fill_entry(e, c);
        e->version = c->table_version;
    }
    return e;
}

static bool is_row(int op)
{
    return op == OX_OP_INSERT || op == OX_OP_UPDATE || op == OX_OP_DELETE;
}

/* The members after the row images, from the memo while c's event is the
 * one it holds (rows without SQL text only: the statement goes on the
 * first row of an event). */
static void put_end(ox_render *r, const ox_change *c, ox_buf *b)
{
    if (r == NULL || c->event_version == 0 || c->sql != NULL || !is_row(c->op)) {
        put_tail(c, b);
        return;
    }
    struct tail_memo *m = &r->tail;
    if (m->version != c->event_version) {
        ox_buf_reset(&m->text);
        put_tail(c, &m->text);
        m->version = c->event_version;
    }
    ox_buf_put(b, m->text.data, m->text.len);
}

ox_render *ox_render_create(void)
{
    return ox_xcalloc(1, sizeof(ox_render));
}

void ox_render_free(ox_render *r)
{
    if (r == NULL)
        return;
    for (int i = 0; i < TABLE_SLOTS; i++)
        free_entry(&r->slot[i]);
    ox_buf_free(&r->tail.text);
    free(r);
}

void ox_render_json(ox_render *r, const ox_change *c, ox_buf *b)
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
    /* Without a cached entry, row images still render their keys once. */
    struct table_ent tmp = {0};
    const struct table_ent *e = table_entry(r, c);
    if (e == NULL && (c->before || c->after)) {
        fill_entry(&tmp, c);
        e = &tmp;
    }
    if (c->op == OX_OP_MESSAGE)
        put_message(c, b);
    else if (e)
        ox_buf_put(b, e->text.data, e->head_len);
    else
        put_head(c, b);
    if (c->op == OX_OP_DDL && c->ddl_kind)
        put_ddl(b, c);
    if (c->before)
        put_image(b, ",\"before\":", 10, c, c->before, e);
    if (c->after)
        put_image(b, ",\"after\":", 9, c, c->after, e);
    put_end(r, c, b);
    if (e == &tmp)
        free_entry(&tmp);
}
