/* ox_props.c - strict properties-file parser; the format is in ox_props.h. */
#include "ox_props.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ox_alloc.h"

struct ox_prop {
    char *key;
    char *value;
    int line;
};

struct ox_props {
    struct ox_prop *v;
    size_t n, cap;
};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static int is_key_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

void ox_props_free(ox_props *p)
{
    if (p == NULL)
        return;
    for (size_t i = 0; i < p->n; i++) {
        free(p->v[i].key);
        free(p->v[i].value);
    }
    free(p->v);
    free(p);
}

/* Parses one line [s, e); appends a setting unless it is blank or a comment. */
static int parse_line(ox_props *p, const char *s, const char *e, const char *name, int line,
                      ox_errbuf *eb)
{
    while (s < e && is_space(*s))
        s++;
    while (e > s && is_space(e[-1]))
        e--;
    if (s == e || *s == '#' || *s == '!')
        return 0;
    const char *eq = memchr(s, '=', (size_t)(e - s));
    if (eq == NULL)
        return ox_errf(eb, OX_ECONFIG, "%s:%d: expected key=value, got \"%.*s\"", name, line,
                       (int)(e - s > 60 ? 60 : e - s), s);
    const char *ke = eq;
    while (ke > s && is_space(ke[-1]))
        ke--;
    if (ke == s)
        return ox_errf(eb, OX_ECONFIG, "%s:%d: empty key before '='", name, line);
    for (const char *c = s; c < ke; c++)
        if (!is_key_char(*c))
            return ox_errf(eb, OX_ECONFIG,
                           "%s:%d: key \"%.*s\": invalid character (keys are [A-Za-z0-9._-])", name,
                           line, (int)(ke - s > 100 ? 100 : ke - s), s);
    const char *vs = eq + 1;
    while (vs < e && is_space(*vs))
        vs++;
    size_t klen = (size_t)(ke - s);
    for (size_t i = 0; i < p->n; i++)
        if (strlen(p->v[i].key) == klen && memcmp(p->v[i].key, s, klen) == 0)
            return ox_errf(eb, OX_ECONFIG, "%s:%d: key \"%.*s\" repeated (first set on line %d)",
                           name, line, (int)(klen > 100 ? 100 : klen), s, p->v[i].line);
    if (p->n == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 16;
        p->v = ox_xrealloc(p->v, p->cap * sizeof *p->v);
    }
    p->v[p->n].key = ox_xstrndup(s, klen);
    p->v[p->n].value = ox_xstrndup(vs, (size_t)(e - vs));
    p->v[p->n].line = line;
    p->n++;
    return 0;
}

int ox_props_parse(const char *text, size_t len, const char *name, ox_props **out, ox_errbuf *eb)
{
    *out = NULL;
    if (len > OX_PROPS_MAX_BYTES)
        return ox_errf(eb, OX_ECONFIG, "%s: larger than %u bytes", name, OX_PROPS_MAX_BYTES);
    const char *nul = memchr(text, '\0', len);
    if (nul != NULL) {
        int line = 1;
        for (const char *c = text; c < nul; c++)
            line += *c == '\n';
        return ox_errf(eb, OX_ECONFIG, "%s:%d: NUL byte at offset %zu", name, line,
                       (size_t)(nul - text));
    }
    ox_props *p = ox_xcalloc(1, sizeof *p);
    const char *s = text, *end = text + len;
    int line = 1, rc = 0;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        rc = parse_line(p, s, e, name, line, eb);
        if (rc != 0)
            goto fail;
        s = nl ? nl + 1 : end;
        line++;
    }
    *out = p;
    return 0;
fail:
    ox_props_free(p);
    return rc;
}

int ox_props_load_file(const char *path, ox_props **out, ox_errbuf *eb)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return ox_errf(eb, ox_err_from_errno(errno), "%s: open: %s", path, strerror(errno));
    char *buf = ox_xmalloc(OX_PROPS_MAX_BYTES + 1);
    size_t n = fread(buf, 1, OX_PROPS_MAX_BYTES + 1, f);
    int rc;
    if (ferror(f))
        rc = ox_errf(eb, OX_EIO, "%s: read: %s", path, strerror(errno));
    else
        rc = ox_props_parse(buf, n, path, out, eb);
    fclose(f);
    free(buf);
    return rc;
}

size_t ox_props_count(const ox_props *p)
{
    return p->n;
}

const char *ox_props_key(const ox_props *p, size_t i)
{
    return i < p->n ? p->v[i].key : NULL;
}

const char *ox_props_value(const ox_props *p, size_t i)
{
    return i < p->n ? p->v[i].value : NULL;
}

int ox_props_line(const ox_props *p, size_t i)
{
    return i < p->n ? p->v[i].line : 0;
}

static const struct ox_prop *find(const ox_props *p, const char *key)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->v[i].key, key) == 0)
            return &p->v[i];
    return NULL;
}

const char *ox_props_get(const ox_props *p, const char *key)
{
    const struct ox_prop *e = find(p, key);
    return e ? e->value : NULL;
}

const char *ox_props_get_str(const ox_props *p, const char *key, const char *def)
{
    const char *v = ox_props_get(p, key);
    return v ? v : def;
}

int ox_props_check_keys(const ox_props *p, const char *const *allowed, ox_errbuf *eb)
{
    for (size_t i = 0; i < p->n; i++) {
        int ok = 0;
        for (size_t a = 0; allowed[a] != NULL && !ok; a++) {
            size_t al = strlen(allowed[a]);
            if (al > 0 && allowed[a][al - 1] == '*')
                ok = strncmp(p->v[i].key, allowed[a], al - 1) == 0;
            else
                ok = strcmp(p->v[i].key, allowed[a]) == 0;
        }
        if (!ok)
            return ox_errf(eb, OX_ECONFIG, "unknown key \"%.200s\" (line %d)", p->v[i].key,
                           p->v[i].line);
    }
    return 0;
}

int ox_props_get_int(const ox_props *p, const char *key, int64_t def, int64_t min, int64_t max,
                     int64_t *out, ox_errbuf *eb)
{
    const struct ox_prop *e = find(p, key);
    if (e == NULL) {
        *out = def;
        return 0;
    }
    const char *s = e->value;
    int neg = 0;
    if (*s == '-') {
        neg = 1;
        s++;
    }
    uint64_t v = 0;
    int ok = *s != '\0';
    for (; *s && ok; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10) {
            ok = 0;
            break;
        }
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (ok && !neg && v > (uint64_t)INT64_MAX)
        ok = 0;
    if (ok && neg && v > (uint64_t)INT64_MAX + 1)
        ok = 0;
    int64_t x = 0;
    if (ok)
        x = neg ? (int64_t)(0 - v) : (int64_t)v;
    if (!ok || x < min || x > max)
        return ox_errf(eb, OX_ECONFIG,
                       "key \"%s\" (line %d): expected an integer in [%lld, %lld], got \"%.100s\"",
                       key, e->line, (long long)min, (long long)max, e->value);
    *out = x;
    return 0;
}

int ox_props_get_bool(const ox_props *p, const char *key, int def, int *out, ox_errbuf *eb)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    const struct ox_prop *e = find(p, key);
    if (e == NULL) {
        *out = def;
        return 0;
    }
    for (int i = 0; i < 4; i++) {
        if (strcasecmp(e->value, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(e->value, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return ox_errf(eb, OX_ECONFIG, "key \"%s\" (line %d): expected true or false, got \"%.100s\"",
                   key, e->line, e->value);
}

int ox_props_get_enum(const ox_props *p, const char *key, const char *const *choices, int def_index,
                      int *out, ox_errbuf *eb)
{
    const struct ox_prop *e = find(p, key);
    if (e == NULL) {
        *out = def_index;
        return 0;
    }
    char list[256] = "";
    size_t used = 0;
    for (int i = 0; choices[i] != NULL; i++) {
        if (strcmp(e->value, choices[i]) == 0) {
            *out = i;
            return 0;
        }
        int n = snprintf(list + used, sizeof list - used, "%s%s", i ? "|" : "", choices[i]);
        if (n > 0 && (size_t)n < sizeof list - used)
            used += (size_t)n;
    }
    return ox_errf(eb, OX_ECONFIG, "key \"%s\" (line %d): expected one of %s, got \"%.100s\"", key,
                   e->line, list, e->value);
}
