/* ox_filter.c - db.table glob patterns; see ox_filter.h. */
#include "ox_filter.h"

#include <stdlib.h>
#include <string.h>

#include "ox_alloc.h"

struct pattern {
    char *db, *table; /* NUL-terminated globs */
    char *full;       /* the whole pattern, for dotted db names (PostgreSQL) */
};

struct ox_filter {
    struct pattern *v;
    size_t n;
};

void ox_filter_free(ox_filter *f)
{
    if (f == NULL)
        return;
    for (size_t i = 0; i < f->n; i++) {
        free(f->v[i].db);
        free(f->v[i].table);
        free(f->v[i].full);
    }
    free(f->v);
    free(f);
}

int ox_filter_parse(const char *list, ox_filter **out, ox_errbuf *eb)
{
    *out = NULL;
    ox_filter *f = ox_xcalloc(1, sizeof *f);
    const char *s = list;
    int rc = 0;
    size_t cap = 0;
    /* An all-blank list is empty; otherwise every comma-separated item counts. */
    size_t blank = strspn(list, " \t");
    if (list[blank] == '\0') {
        *out = f;
        return 0;
    }
    for (;;) {
        const char *e = strchr(s, ',');
        if (e == NULL)
            e = s + strlen(s);
        const char *a = s, *b = e;
        while (a < b && (*a == ' ' || *a == '\t'))
            a++;
        while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
            b--;
        size_t len = (size_t)(b - a);
        if (len == 0) {
            rc = ox_errf(eb, OX_EINVAL, "filter pattern %zu is empty", f->n + 1);
            goto fail;
        }
        if (len > 255) {
            rc = ox_errf(eb, OX_EINVAL, "filter pattern \"%.40s...\" is longer than 255 bytes", a);
            goto fail;
        }
        for (size_t i = 0; i < len; i++) {
            if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f) {
                rc = ox_errf(eb, OX_EINVAL, "filter pattern %zu has a control byte at offset %zu",
                             f->n + 1, i);
                goto fail;
            }
        }
        if (f->n == OX_FILTER_MAX_PATTERNS) {
            rc = ox_errf(eb, OX_EINVAL, "more than %d filter patterns", OX_FILTER_MAX_PATTERNS);
            goto fail;
        }
        if (f->n == cap) {
            cap = cap ? cap * 2 : 8;
            f->v = ox_xrealloc(f->v, cap * sizeof *f->v);
        }
        const char *dot = memchr(a, '.', len);
        struct pattern *p = &f->v[f->n++];
        p->full = ox_xstrndup(a, len);
        if (dot == NULL) {
            p->db = ox_xstrndup(a, len);
            p->table = ox_xstrdup("*");
        } else {
            p->db = ox_xstrndup(a, (size_t)(dot - a));
            p->table = ox_xstrndup(dot + 1, (size_t)(b - dot - 1));
        }
        if (*e == '\0')
            break;
        s = e + 1;
    }
    *out = f;
    return 0;
fail:
    ox_filter_free(f);
    return rc;
}

bool ox_filter_empty(const ox_filter *f)
{
    return f == NULL || f->n == 0;
}

/* Glob match with '*' only; iterative with one backtrack point (linear-ish). */
static bool glob(const char *pat, const char *s, size_t n)
{
    size_t si = 0;
    const char *star = NULL;
    size_t star_si = 0;
    while (si < n) {
        if (*pat == '*') {
            star = pat++;
            star_si = si;
        } else if (*pat != '\0' && *pat == s[si]) {
            pat++;
            si++;
        } else if (star != NULL) {
            pat = star + 1;
            si = ++star_si;
        } else {
            return false;
        }
    }
    while (*pat == '*')
        pat++;
    return *pat == '\0';
}

bool ox_filter_match(const ox_filter *f, const char *db, size_t db_len, const char *table,
                     size_t table_len)
{
    if (f == NULL)
        return false;
    /* A PostgreSQL db is "database.schema": a pattern then also matches as
     * a whole against "database.schema.table", or against the db alone
     * (then it means every table of that schema). */
    char joined[768];
    size_t jn = 0;
    bool dotted = memchr(db, '.', db_len) != NULL && db_len + 1 + table_len <= sizeof joined;
    if (dotted) {
        memcpy(joined, db, db_len);
        joined[db_len] = '.';
        memcpy(joined + db_len + 1, table, table_len);
        jn = db_len + 1 + table_len;
    }
    for (size_t i = 0; i < f->n; i++) {
        if (glob(f->v[i].db, db, db_len) && glob(f->v[i].table, table, table_len))
            return true;
        if (dotted && (glob(f->v[i].full, joined, jn) || glob(f->v[i].full, db, db_len)))
            return true;
    }
    return false;
}
