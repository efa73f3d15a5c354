/* ox_buf.c - growable byte buffer. */
#include "ox_buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "ox_alloc.h"

void ox_buf_grow(ox_buf *b, size_t extra)
{
    size_t need = b->len + extra;
    if (need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap *= 2;
    b->data = ox_xrealloc(b->data, cap);
    b->cap = cap;
}

void ox_buf_free(ox_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void ox_buf_printf(ox_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    ox_buf_grow(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}
