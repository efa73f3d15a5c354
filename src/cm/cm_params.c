/* cm_params.c - urlencoded form/query decoding for CM requests (see cm_params.h). */
#include "cm_params.h"

#include "ox_url.h"

#include <stdlib.h>
#include <string.h>

void ox_cm_params_init(ox_cm_params *ps)
{
    ps->n = 0;
}

void ox_cm_params_free(ox_cm_params *ps)
{
    for (int i = 0; i < ps->n; i++) {
        free(ps->p[i].key);
        free(ps->p[i].value);
    }
    ps->n = 0;
}

/*
 * Decodes s[0..len) into a new NUL-terminated string. Returns NULL (with
 * *bad set to the offending offset) on a bad escape, an encoded NUL or more
 * than `max` decoded bytes.
 */
static char *decode(const char *s, size_t len, size_t max, size_t *bad)
{
    char *out = NULL;
    *bad = 0;
    return ox_url_decode(s, len, max, &out, bad) == 0 ? out : NULL;
}

static int key_ok(const char *k)
{
    if (*k == '\0')
        return 0;
    for (; *k; k++) {
        char c = *k;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

int ox_cm_params_parse(ox_cm_params *ps, const char *s, size_t len, ox_errbuf *eb)
{
    size_t i = 0;
    while (i < len) {
        size_t start = i;
        while (i < len && s[i] != '&')
            i++;
        size_t end = i;
        if (i < len)
            i++; /* skip '&' */
        if (end == start)
            continue;
        size_t eq = start;
        while (eq < end && s[eq] != '=')
            eq++;
        size_t bad = 0;
        char *key = decode(s + start, eq - start, OX_CM_PARAM_KEY_MAX, &bad);
        if (key == NULL)
            return ox_errf(eb, OX_EINVAL, "bad parameter name at offset %zu", start + bad);
        if (!key_ok(key)) {
            free(key);
            return ox_errf(eb, OX_EINVAL, "bad parameter name at offset %zu", start);
        }
        const char *v = eq < end ? s + eq + 1 : s + end;
        size_t vlen = eq < end ? end - eq - 1 : 0;
        char *value = decode(v, vlen, OX_CM_PARAM_VALUE_MAX, &bad);
        if (value == NULL) {
            int e = ox_errf(eb, OX_EINVAL, "bad value of parameter '%s' at offset %zu", key,
                            (size_t)(v - s) + bad);
            free(key);
            return e;
        }
        if (ox_cm_params_get(ps, key) != NULL) {
            int e = ox_errf(eb, OX_EINVAL, "parameter '%s' given twice", key);
            free(key);
            free(value);
            return e;
        }
        if (ps->n >= OX_CM_PARAMS_MAX) {
            free(key);
            free(value);
            return ox_errf(eb, OX_EINVAL, "more than %d parameters", OX_CM_PARAMS_MAX);
        }
        ps->p[ps->n].key = key;
        ps->p[ps->n].value = value;
        ps->n++;
    }
    return 0;
}

const char *ox_cm_params_get(const ox_cm_params *ps, const char *key)
{
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->p[i].key, key) == 0)
            return ps->p[i].value;
    return NULL;
}

int ox_cm_params_check(const ox_cm_params *ps, const char *const *allowed, ox_errbuf *eb)
{
    for (int i = 0; i < ps->n; i++) {
        int found = 0;
        for (int a = 0; allowed[a] != NULL && !found; a++)
            found = strcmp(ps->p[i].key, allowed[a]) == 0;
        if (!found)
            return ox_errf(eb, OX_EINVAL, "unknown parameter '%s'", ps->p[i].key);
    }
    return 0;
}
