/*
 * fuzz_pgoutput.c - the PostgreSQL replication frame parser and the pgoutput
 * message decoder (ox_pgoutput.h), with every record rendered as JSON.
 *
 * Input: CopyData frames back to back, each preceded by its length as a
 * 4-byte big-endian integer, as the walsender streams them ('w' XLogData
 * carrying Begin/Relation/Insert/Update/Delete/Truncate/Commit/... messages,
 * 'k' keepalives). Decoding continues after an error, as a reconnect would,
 * after a reset. Seeds: tests/fuzz/corpus/pgoutput/ (made by gen_pgoutput.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ox_pgoutput.h"
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
    ox_pgoutput *d = ox_pgoutput_create("fuzzdb");
    ox_buf out = OX_BUF_INIT;
    size_t pos = 0;
    while (size - pos >= 4) {
        size_t len = (size_t)data[pos] << 24 | (size_t)data[pos + 1] << 16 |
                     (size_t)data[pos + 2] << 8 | data[pos + 3];
        pos += 4;
        if (len > size - pos)
            break;
        /* An exactly sized copy, so that any over-read is caught. */
        uint8_t *f = malloc(len ? len : 1);
        if (f == NULL)
            break;
        memcpy(f, data + pos, len);
        pos += len;
        ox_pg_frame fr;
        ox_errbuf eb;
        if (ox_pg_frame_parse(f, len, &fr, &eb) == 0 && fr.kind == OX_PG_FRAME_XLOGDATA &&
            ox_pgoutput_feed(d, fr.msg, fr.msg_len, fr.start, render, &out, &eb) != 0)
            ox_pgoutput_reset(d);
        free(f);
    }
    ox_buf_free(&out);
    ox_pgoutput_free(d);
    return 0;
}
