/*
 * fuzz_pgoutput.c - the PostgreSQL replication frame parser and the pgoutput
 * message decoder (ox_pgoutput.h), with every record rendered as JSON.
 *
 * Input: CopyData frames back to back, each preceded by its length as a
 * 4-byte big-endian integer, as the walsender streams them ('w' XLogData
 * carrying Begin/Relation/Insert/Update/Delete/Truncate/Commit/... messages,
 * 'k' keepalives). Decoding continues after an error, as a reconnect would,
 * after a reset. Streaming messages (Stream Start/Stop/Commit/Abort and the
 * xid-tagged changes inside a block) go through ox_pgoutput_stream_parse as
 * the source's spill does; a change inside a block is fed to the decoder
 * without its xid, as a replay would, and a Stream Commit replays an empty
 * transaction. Seeds: tests/fuzz/corpus/pgoutput/ (made by gen_pgoutput.py).
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

/* One XLogData message, as ox_pg_source.c routes it. */
static void feed(ox_pgoutput *d, int *in_block, const uint8_t *m, size_t n, uint64_t lsn,
                 ox_buf *out)
{
    ox_errbuf eb;
    ox_pg_stream_msg sm;
    int rc;
    if (ox_pgoutput_stream_parse(m, n, *in_block, lsn, &sm, &eb) != 0) {
        *in_block = 0;
        ox_pgoutput_reset(d);
        return;
    }
    switch (sm.kind) {
    case 0:
        rc = ox_pgoutput_feed(d, m, n, lsn, render, out, &eb);
        break;
    case 'S':
        *in_block = 1;
        return;
    case 'E':
        *in_block = 0;
        return;
    case 'A':
    case 'O':
        return;
    case 'c':
        rc = ox_pgoutput_begin_streamed(d, &sm, lsn, render, out, &eb);
        if (rc == 0)
            rc = ox_pgoutput_commit_streamed(d, &sm, render, out, &eb);
        break;
    default: {
        uint8_t *body = malloc(n - sm.body + 1);
        if (body == NULL)
            return;
        body[0] = m[0];
        memcpy(body + 1, m + sm.body, n - sm.body);
        rc = ox_pgoutput_feed(d, body, n - sm.body + 1, lsn, render, out, &eb);
        free(body);
        break;
    }
    }
    if (rc != 0)
        ox_pgoutput_reset(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    int in_block = 0;
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
        if (ox_pg_frame_parse(f, len, &fr, &eb) == 0 && fr.kind == OX_PG_FRAME_XLOGDATA)
            feed(d, &in_block, fr.msg, fr.msg_len, fr.start, &out);
        free(f);
    }
    ox_buf_free(&out);
    ox_pgoutput_free(d);
    return 0;
}
