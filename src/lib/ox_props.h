/*
 * ox_props.h - a strict properties-file parser (the seed's drc.properties style).
 *
 * Format, one setting per line:
 *
 *     # comment (also "!"), blank lines ignored
 *     key = value
 *
 * Keys are [A-Za-z0-9._-]+; whitespace around key and value is trimmed; the
 * value is everything after the first '=' (it may contain '=' and '#'; there
 * is no escape processing and no line continuation, so a password or a path
 * is taken byte for byte). CRLF line ends are accepted. A line without '=',
 * an empty or invalid key, a duplicate key, or a NUL byte is an error that
 * names the file (the `name` given) and the line. Files are limited to 1 MiB.
 *
 * Typed getters name the key and the offending value in their error, so a
 * daemon can print "config: store.port: expected an integer in [1, 65535],
 * got \"x\"" and exit. Nothing here logs. A parsed ox_props is read-only and
 * may be shared between threads.
 */
#ifndef OX_PROPS_H
#define OX_PROPS_H

#include <stddef.h>
#include <stdint.h>

#include "ox_err.h"

typedef struct ox_props ox_props;

/* Longest accepted file or text. */
#define OX_PROPS_MAX_BYTES (1u << 20)

/*
 * Parses `len` bytes of `text`; `name` (e.g. the file path) is used in error
 * messages only. Returns 0 and a new ox_props in *out (free with
 * ox_props_free), or OX_ECONFIG with "NAME:LINE: reason" in eb.
 */
int ox_props_parse(const char *text, size_t len, const char *name, ox_props **out, ox_errbuf *eb);

/* Reads and parses a file. I/O errors return OX_EIO/OX_ENOENT naming the path. */
int ox_props_load_file(const char *path, ox_props **out, ox_errbuf *eb);

/* Frees a parsed set; NULL is a no-op. */
void ox_props_free(ox_props *p);

/* Number of settings, and the i-th key/value/line number in file order. */
size_t ox_props_count(const ox_props *p);
const char *ox_props_key(const ox_props *p, size_t i);
const char *ox_props_value(const ox_props *p, size_t i);
int ox_props_line(const ox_props *p, size_t i);

/* The value of `key` (owned by p), or NULL if absent. */
const char *ox_props_get(const ox_props *p, const char *key);

/*
 * Fails with OX_ECONFIG naming the first key (and its line) that is not in
 * the NULL-terminated `allowed` list. An allowed entry ending in '*' matches
 * any key with that prefix ("source.option.*").
 */
int ox_props_check_keys(const ox_props *p, const char *const *allowed, ox_errbuf *eb);

/* String with default: *out = value or `def` (absent key). Never fails. */
const char *ox_props_get_str(const ox_props *p, const char *key, const char *def);

/*
 * Integer in [min, max] (decimal, optional leading '-'); absent -> def.
 * Returns 0 or OX_ECONFIG naming key, value and the range.
 */
int ox_props_get_int(const ox_props *p, const char *key, int64_t def, int64_t min, int64_t max,
                     int64_t *out, ox_errbuf *eb);

/* Boolean: true/false/yes/no/on/off/1/0 (case-insensitive); absent -> def. */
int ox_props_get_bool(const ox_props *p, const char *key, int def, int *out, ox_errbuf *eb);

/*
 * One of the NULL-terminated `choices` (exact match); *out is its index;
 * absent -> def_index. OX_ECONFIG lists the choices.
 */
int ox_props_get_enum(const ox_props *p, const char *key, const char *const *choices, int def_index,
                      int *out, ox_errbuf *eb);

#endif
