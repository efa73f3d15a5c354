/*
 * ox_url.h - hex digits and application/x-www-form-urlencoded decoding,
 * shared by the CM's form parser, the store's subscribe query parser, the
 * client's chunked-coding parser and the GTID parser.
 */
#ifndef OX_URL_H
#define OX_URL_H

#include <stddef.h>

/* Value 0-15 of a hex digit (either case), or -1. */
int ox_hexval(int c);

/*
 * Decodes s[0..len) ('+' is a space, %XX a byte) into a new NUL-terminated
 * string in *out (malloc'ed; the caller frees it). Returns 0, OX_EINVAL on a
 * bad escape, an encoded or raw NUL, or more than `max` decoded bytes (then
 * *bad_off, if not NULL, is the offending offset), or OX_ENOMEM. Never logs.
 */
int ox_url_decode(const char *s, size_t len, size_t max, char **out, size_t *bad_off);

#endif
