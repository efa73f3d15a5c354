/*
 * fuzz_mysql_json.c - MySQL binary JSON and partial-update diff lists.
 *
 * Input: mode u8 (bit 0: a diff list instead of a document), then the
 * bytes. Whatever decodes must be valid JSON text (checked with jansson).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ox_assert.h"
#include "ox_binlog_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t *p = malloc(size);
    if (p == NULL)
        return 0;
    memcpy(p, data + 1, size - 1);
    ox_buf out = OX_BUF_INIT;
    int rc = (data[0] & 1) ? ox_mysql_json_diff_to_text(p, size - 1, &out)
                           : ox_mysql_json_to_text(p, size - 1, &out);
    if (rc == 0) {
        json_error_t err;
        json_t *j = json_loadb((const char *)out.data, out.len,
                               JSON_DECODE_ANY | JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);
        /* jansson cannot hold a NUL inside an object key; JSON allows it. */
        ox_assert(j != NULL || strstr(err.text, "NUL byte in object key") != NULL);
        json_decref(j);
    } else {
        ox_assert(out.len == 0);
    }
    ox_buf_free(&out);
    free(p);
    return 0;
}
