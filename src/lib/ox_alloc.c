/* ox_alloc.c - aborting allocators; see ox_alloc.h for why. */
#include "ox_alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void ox_oom(size_t n)
{
    fprintf(stderr, "oxbow: out of memory allocating %zu bytes\n", n);
    abort();
}

void *ox_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        ox_oom(n);
    return p;
}

void *ox_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        ox_oom(nmemb * size);
    return p;
}

void *ox_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        ox_oom(n);
    return q;
}

char *ox_xstrdup(const char *s)
{
    return ox_xstrndup(s, strlen(s));
}

char *ox_xstrndup(const char *s, size_t n)
{
    char *d = ox_xmalloc(n + 1);
    if (n > 0) /* s may be NULL when n is 0 (an empty ox_buf's data) */
        memcpy(d, s, n);
    d[n] = '\0';
    return d;
}
