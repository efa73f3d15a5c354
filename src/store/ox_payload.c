/* ox_payload.c - the store's record payload framing; see ox_payload.h. */
#include "ox_payload.h"

#include <string.h>

static void put_name(ox_buf *out, const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n > 255)
        n = 255;
    ox_buf_putc(out, (uint8_t)n);
    ox_buf_put(out, s, n);
}

void ox_payload_put_header(ox_buf *out, const char *db, const char *table, int op)
{
    put_name(out, db);
    put_name(out, table);
    ox_buf_putc(out, (uint8_t)op);
}

void ox_payload_put_change_header(ox_buf *out, const ox_change *c, int op)
{
    /* Names beyond the header's: later targets, and every new name. */
    uint32_t extra = 0;
    if (c->op == OX_OP_DDL)
        for (uint32_t i = 0; i < c->ntargets; i++)
            extra += (i > 0) + (c->targets[i].new_table != NULL);
    if (extra == 0) {
        ox_payload_put_header(out, c->db, c->table, op);
        return;
    }
    if (extra > 0xffff)
        extra = 0xffff;
    ox_payload_put_header(out, c->db, c->table, op | OX_PAYLOAD_NAMES);
    ox_buf_putc(out, (uint8_t)(extra & 0xff));
    ox_buf_putc(out, (uint8_t)(extra >> 8));
    uint32_t k = 0;
    for (uint32_t i = 0; i < c->ntargets && k < extra; i++) {
        const ox_change_target *t = &c->targets[i];
        if (i > 0) {
            put_name(out, t->db);
            put_name(out, t->table);
            k++;
        }
        if (t->new_table && k < extra) {
            put_name(out, t->new_db);
            put_name(out, t->new_table);
            k++;
        }
    }
}

void ox_payload_encode(ox_buf *out, const ox_change *c)
{
    ox_payload_put_change_header(out, c, c->op);
    ox_change_to_json(c, out);
}

int ox_payload_decode(const uint8_t *p, uint32_t len, ox_payload_view *v)
{
    uint32_t i = 0;
    if (len < 3)
        return OX_ECORRUPT;
    v->db_len = p[i++];
    if ((uint64_t)i + v->db_len + 2 > len)
        return OX_ECORRUPT;
    v->db = (const char *)p + i;
    i += v->db_len;
    v->table_len = p[i++];
    if ((uint64_t)i + v->table_len + 1 > len)
        return OX_ECORRUPT;
    v->table = (const char *)p + i;
    i += v->table_len;
    uint8_t op = p[i++];
    v->nnames = 0;
    v->names = NULL;
    /* OX_PAYLOAD_POSITION (0x86) does not have the names bit. */
    if (op & OX_PAYLOAD_NAMES) {
        op &= (uint8_t)~OX_PAYLOAD_NAMES;
        if ((uint64_t)i + 2 > len)
            return OX_ECORRUPT;
        uint16_t n = (uint16_t)(p[i] | (p[i + 1] << 8));
        i += 2;
        v->names = p + i;
        for (uint32_t k = 0; k < 2u * n; k++) {
            if ((uint64_t)i + 1 > len || (uint64_t)i + 1 + p[i] > len)
                return OX_ECORRUPT;
            i += 1u + p[i];
        }
        v->nnames = n;
    }
    v->op = op;
    v->json = (const char *)p + i;
    v->json_len = len - i;
    return 0;
}

bool ox_payload_any_name(const ox_payload_view *v,
                         bool (*fn)(void *arg, const char *db, size_t dl, const char *t, size_t tl),
                         void *arg)
{
    if (fn(arg, v->db, v->db_len, v->table, v->table_len))
        return true;
    const uint8_t *q = v->names;
    for (uint16_t k = 0; k < v->nnames; k++) {
        size_t dl = q[0];
        const char *db = (const char *)q + 1;
        size_t tl = q[1 + dl];
        const char *t = (const char *)q + 2 + dl;
        if (fn(arg, db, dl, t, tl))
            return true;
        q += 2 + dl + tl;
    }
    return false;
}

static bool match_one(void *arg, const char *db, size_t dl, const char *t, size_t tl)
{
    return ox_filter_match(arg, db, dl, t, tl);
}

bool ox_payload_match(const ox_payload_view *v, const ox_filter *f)
{
    return ox_payload_any_name(v, match_one, (void *)f);
}

static size_t slen(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    return n > 255 ? 255 : n; /* as stored */
}

bool ox_payload_change_any_name(const ox_change *c,
                                bool (*fn)(void *arg, const char *db, size_t dl, const char *t,
                                           size_t tl),
                                void *arg)
{
    const char *db = c->db ? c->db : "", *t = c->table ? c->table : "";
    if (fn(arg, db, slen(c->db), t, slen(c->table)))
        return true;
    if (c->op != OX_OP_DDL)
        return false;
    for (uint32_t i = 0; i < c->ntargets && i < 0xffff; i++) {
        const ox_change_target *g = &c->targets[i];
        if (i > 0 &&
            fn(arg, g->db ? g->db : "", slen(g->db), g->table ? g->table : "", slen(g->table)))
            return true;
        if (g->new_table &&
            fn(arg, g->new_db ? g->new_db : "", slen(g->new_db), g->new_table, slen(g->new_table)))
            return true;
    }
    return false;
}
