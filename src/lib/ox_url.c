/* ox_url.c - hex digits and form/query percent-decoding (see ox_url.h). */
#include "ox_url.h"

#include <stdlib.h>

#include "ox_err.h"

int ox_hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int ox_url_decode(const char *s, size_t len, size_t max, char **out, size_t *bad_off)
{
    char *d = malloc(len + 1);
    if (d == NULL)
        return OX_ENOMEM;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        size_t at = i;
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            int h = i + 2 < len ? ox_hexval((unsigned char)s[i + 1]) : -1;
            int l = i + 2 < len ? ox_hexval((unsigned char)s[i + 2]) : -1;
            /* An encoded NUL would silently cut the value short in C strings. */
            if (h < 0 || l < 0 || (h == 0 && l == 0))
                goto bad;
            c = (char)(h * 16 + l);
            i += 2;
        } else if (c == '\0') {
            goto bad;
        }
        if (o >= max)
            goto bad;
        d[o++] = c;
        continue;
    bad:
        if (bad_off != NULL)
            *bad_off = at;
        free(d);
        return OX_EINVAL;
    }
    d[o] = '\0';
    *out = d;
    return 0;
}
