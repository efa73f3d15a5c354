/*
 * fuzz_binlog_event.c - the binlog event decoder (framing, checksums,
 * FORMAT_DESCRIPTION, QUERY, GTIDs, TABLE_MAP, rows, payloads, ...).
 *
 * Input: one flags byte (bit 0: verify CRC32, bit 1: assume checksums
 * before the FORMAT_DESCRIPTION), then a binlog file body without the magic:
 * events back to back, each split off by its header's length and fed like
 * live replication feeds them. Seeds are the captured fixtures.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ox_assert.h"
#include "ox_binlog.h"
#include "ox_render.h"

static int render(void *arg, const ox_change *c)
{
    ox_buf *b = arg;
    b->len = 0;
    ox_render_json(NULL, c, b);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    ox_binlog_decoder *d = NULL;
    if (ox_binlog_decoder_create(&d) != 0)
        return 0;
    ox_binlog_decoder_set_verify(d, data[0] & 1);
    ox_binlog_decoder_set_checksum(d, (data[0] >> 1) & 1);
    ox_binlog_decoder_set_file(d, "fuzz-bin.000001");
    ox_buf out = OX_BUF_INIT;
    size_t pos = 1;
    while (size - pos >= 19) {
        const uint8_t *h = data + pos;
        size_t len = (size_t)h[9] | (size_t)h[10] << 8 | (size_t)h[11] << 16 | (size_t)h[12] << 24;
        if (len < 19 || len > size - pos)
            break;
        /* An exactly sized copy, so that any over-read is caught. */
        uint8_t *ev = malloc(len);
        if (ev == NULL)
            break;
        memcpy(ev, h, len);
        ox_errbuf eb;
        int rc = ox_binlog_decoder_feed(d, ev, len, pos + 3, render, &out, &eb);
        free(ev);
        if (rc != 0) {
            /* Every error names a position. */
            ox_assert(strstr(eb.msg, "offset ") != NULL);
            break;
        }
        pos += len;
    }
    ox_buf_free(&out);
    ox_binlog_decoder_free(d);
    return 0;
}
