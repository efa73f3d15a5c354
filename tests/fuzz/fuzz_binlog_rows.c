/*
 * fuzz_binlog_rows.c - TABLE_MAP parsing and row image decoding directly.
 *
 * Input: selector u8 (picks the rows event type), table-map body length
 * u16 LE, the TABLE_MAP body (post-header included), then the rows event
 * body (post-header included). The rendered JSON of every row must parse.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ox_assert.h"
#include "ox_binlog_int.h"
#include "ox_render.h"

static int render(void *arg, const ox_change *c)
{
    ox_buf *b = arg;
    b->len = 0;
    ox_render_json(NULL, c, b);
    json_error_t err;
    json_t *j =
        json_loadb((const char *)b->data, b->len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL, &err);
    /* jansson cannot hold a NUL inside an object key; JSON allows it. */
    ox_assert(j != NULL || strstr(err.text, "NUL byte in object key") != NULL);
    json_decref(j);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const uint8_t types[] = {
        OX_EV_WRITE_ROWS_V1,       OX_EV_UPDATE_ROWS_V1,
        OX_EV_DELETE_ROWS_V1,      OX_EV_WRITE_ROWS,
        OX_EV_UPDATE_ROWS,         OX_EV_DELETE_ROWS,
        OX_EV_PARTIAL_UPDATE_ROWS, OX_EV_MARIA_WRITE_ROWS_COMPRESSED_V1,
    };
    if (size < 3)
        return 0;
    int type = types[data[0] % sizeof types];
    size_t tlen = (size_t)data[1] | (size_t)data[2] << 8;
    if (tlen > size - 3)
        return 0;
    ox_binlog_decoder *d = NULL;
    if (ox_binlog_decoder_create(&d) != 0)
        return 0;
    ox_binlog_decoder_set_file(d, "fuzz-bin.000001");
    ox_buf out = OX_BUF_INIT;
    ox_errbuf eb;
    uint8_t *tm = malloc(tlen + 1), *rows = malloc(size - 3 - tlen + 1);
    if (tm && rows) {
        memcpy(tm, data + 3, tlen);
        memcpy(rows, data + 3 + tlen, size - 3 - tlen);
        if (ox_bl_table_map(d, tm, tlen, &eb) == 0)
            ox_bl_rows(d, type, rows, size - 3 - tlen, render, &out, &eb);
    }
    free(tm);
    free(rows);
    ox_buf_free(&out);
    ox_binlog_decoder_free(d);
    return 0;
}
