/*
 * ox_buf.h - a growable byte buffer for building records, JSON and frames.
 *
 * Growth aborts on OOM (ox_xrealloc; the one OOM story is in ox_alloc.h):
 * buffers belong to daemons and tools, and their sizes are bounded by one record or one event, never by a whole
 * transaction. Not thread-safe; one owner at a time.
 */
#ifndef OX_BUF_H
#define OX_BUF_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct ox_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
} ox_buf;

#define OX_BUF_INIT                                                                                \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

/* Makes room for at least `extra` more bytes. */
void ox_buf_grow(ox_buf *b, size_t extra);

/* Frees the storage; the buffer may be reused afterwards. */
void ox_buf_free(ox_buf *b);

static inline void ox_buf_reset(ox_buf *b)
{
    b->len = 0;
}

static inline void ox_buf_put(ox_buf *b, const void *p, size_t n)
{
    if (b->cap - b->len < n)
        ox_buf_grow(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
}

static inline void ox_buf_putc(ox_buf *b, uint8_t c)
{
    if (b->cap == b->len)
        ox_buf_grow(b, 1);
    b->data[b->len++] = c;
}

static inline void ox_buf_puts(ox_buf *b, const char *s)
{
    ox_buf_put(b, s, strlen(s));
}

/* printf-style append. */
void ox_buf_printf(ox_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
