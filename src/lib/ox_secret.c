/* ox_secret.c - read a secret from a file (see ox_secret.h). */
#include "ox_secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ox_alloc.h"

#define OX_SECRET_MAX 4096

int ox_secret_read_file(const char *what, const char *path, char **out, ox_errbuf *eb)
{
    FILE *f = fopen(path, "rbe");
    if (f == NULL)
        return ox_errf(eb, OX_ECONFIG, "%s: cannot open \"%.200s\": %s", what, path,
                       strerror(errno));
    char buf[OX_SECRET_MAX];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    int big = !feof(f) && fgetc(f) != EOF;
    fclose(f);
    int rc = 0;
    if (big) {
        rc = ox_errf(eb, OX_ECONFIG, "%s: \"%.200s\" is larger than %d bytes", what, path,
                     OX_SECRET_MAX - 1);
        goto cleanup;
    }
    buf[n] = '\0';
    if (memchr(buf, '\0', n) != NULL) {
        rc = ox_errf(eb, OX_ECONFIG, "%s: \"%.200s\" contains a NUL byte", what, path);
        goto cleanup;
    }
    while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        buf[--n] = '\0';
    *out = ox_xstrdup(buf);
cleanup:
    memset(buf, 0, sizeof buf);
    return rc;
}
