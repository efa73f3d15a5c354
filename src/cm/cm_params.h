/*
 * cm_params.h - form and query parameters of CM requests.
 *
 * Wire format: application/x-www-form-urlencoded, as sent by `curl -d` and in
 * URL query strings: pairs `key=value` separated by '&', '+' meaning a space
 * and %XX a byte. A pair without '=' has an empty value. Empty pairs ("a=1&&b")
 * are skipped. Keys are limited to OX_CM_PARAM_KEY_MAX bytes of
 * [A-Za-z0-9_.], values to OX_CM_PARAM_VALUE_MAX bytes without NUL bytes, and a
 * request to OX_CM_PARAMS_MAX pairs. A key given twice is an error, so that a
 * request never means two things.
 */
#ifndef OX_CM_PARAMS_H
#define OX_CM_PARAMS_H

#include <stddef.h>

#include "ox_err.h"

#define OX_CM_PARAMS_MAX      32
#define OX_CM_PARAM_KEY_MAX   64
#define OX_CM_PARAM_VALUE_MAX 16384

typedef struct ox_cm_param {
    char *key;   /* decoded, NUL-terminated */
    char *value; /* decoded, NUL-terminated */
} ox_cm_param;

typedef struct ox_cm_params {
    ox_cm_param p[OX_CM_PARAMS_MAX];
    int n;
} ox_cm_params;

/* Initialises an empty set. */
void ox_cm_params_init(ox_cm_params *ps);

/*
 * Decodes `len` bytes of urlencoded text and adds the pairs to `ps` (so that a
 * query string and a body can be merged). Returns 0, or OX_EINVAL with a
 * message in `eb` naming the offending key and the byte offset. On failure
 * `ps` keeps the pairs added before the error; free it either way. Never logs.
 * Thread-safe on distinct sets.
 */
int ox_cm_params_parse(ox_cm_params *ps, const char *s, size_t len, ox_errbuf *eb);

/* Returns the value of `key` or NULL. The pointer lives as long as `ps`. */
const char *ox_cm_params_get(const ox_cm_params *ps, const char *key);

/*
 * Checks that every key of `ps` is in the NULL-terminated list `allowed`.
 * Returns 0 or OX_EINVAL with "unknown parameter 'x'" in `eb`.
 */
int ox_cm_params_check(const ox_cm_params *ps, const char *const *allowed, ox_errbuf *eb);

/* Frees the decoded strings; the set may be reused after ox_cm_params_init. */
void ox_cm_params_free(ox_cm_params *ps);

#endif
