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

void ox_payload_encode(ox_buf *out, const ox_change *c)
{
    ox_payload_put_header(out, c->db, c->table, c->op);
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
    v->op = p[i++];
    v->json = (const char *)p + i;
    v->json_len = len - i;
    return 0;
}
