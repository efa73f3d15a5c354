/*
 * ox_json_out.h - a fast, append-only JSON writer into an ox_buf.
 *
 * Hand-written on purpose: jansson builds a tree with one malloc per value,
 * far too slow for the decode hot path (hundreds of thousands of rows per
 * second, each with several values). These helpers append text directly,
 * with table-driven escaping and a two-digits-at-a-time integer formatter.
 * None of them log; all are thread-safe for distinct buffers.
 */
#ifndef OX_JSON_OUT_H
#define OX_JSON_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ox_buf.h"

/* Writes the decimal digits of v into p (at least 20 bytes; _i64: a '-'
 * and the digits); returns the length of the number. Bytes after the
 * number, up to p + 20, may be overwritten (whole 8-byte stores). */
size_t ox_fmt_u64(char *p, uint64_t v);
size_t ox_fmt_i64(char *p, int64_t v);

void ox_json_u64(ox_buf *b, uint64_t v);
void ox_json_i64(ox_buf *b, int64_t v);

/* Shortest text that reads back as the same double (or, for _float, as the
 * same float). Non-finite values are written as null. At most 32 bytes. */
void ox_json_double(ox_buf *b, double v);
void ox_json_float(ox_buf *b, float v);
/* The same into a char array of at least 32 bytes; returns the length. */
size_t ox_fmt_double(char *p, double v);
size_t ox_fmt_float(char *p, float v);

/* A JSON string literal with quotes for UTF-8 text. Bytes that are not valid
 * UTF-8 become U+FFFD, so the output is always valid JSON. */
void ox_json_str(ox_buf *b, const char *s, size_t len);
/* The same written at o, which must have room for len * 6 + 2 bytes;
 * returns the end of what was written. */
uint8_t *ox_json_str_to(uint8_t *o, const char *s, size_t len);
/* Appends standard base64 (with padding) of s, without quotes. */
void ox_base64(ox_buf *b, const uint8_t *s, size_t len);
/* The same written at o (room for (len + 2) / 3 * 4 bytes); returns the end. */
uint8_t *ox_base64_to(uint8_t *o, const uint8_t *s, size_t len);

/* Length of the longest prefix of s made of ASCII bytes (< 0x80). */
size_t ox_ascii_prefix(const uint8_t *s, size_t len);

/* True if s is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool ox_utf8_valid(const uint8_t *s, size_t len);

/* Makes room for n more bytes, calling out of line only when growing. */
static inline void ox_json_reserve(ox_buf *b, size_t n)
{
    if (b->cap - b->len < n)
        ox_buf_grow(b, n);
}

static inline void ox_json_lit(ox_buf *b, const char *lit, size_t n)
{
    ox_buf_put(b, lit, n);
}
/* s must be a string literal: `"" s` refuses anything else at compile time
 * (a `c ? "a" : "bc"` argument would make sizeof the size of a pointer). */
#define OX_JSON_LIT(b, s) ox_json_lit((b), "" s, sizeof(s) - 1)

#endif
