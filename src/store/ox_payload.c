/* ox_payload.c - matching a payload's names against a filter; see ox_payload.h. */
#include "ox_payload.h"

#include <string.h>

static bool match_one(void *arg, const char *db, size_t dl, const char *t, size_t tl)
{
    return ox_filter_match(arg, db, dl, t, tl);
}

bool ox_payload_match(const ox_payload_view *v, const ox_filter *f)
{
    return ox_record_any_name(v, match_one, (void *)f);
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
