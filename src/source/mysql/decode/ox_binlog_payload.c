/*
 * ox_binlog_payload.c - compressed events.
 *
 * MySQL TRANSACTION_PAYLOAD_EVENT (40, binlog_transaction_compression=ON):
 * a header of fields, each type (lenenc) | length (lenenc) | value (a lenenc
 * integer), ended by type 0; types 1 payload size, 2 compression type
 * (0 zstd, 255 none), 3 uncompressed size. The payload that follows is a
 * zstd frame holding whole events (19-byte header, no CRC32 of their own:
 * the outer event's CRC covers them). Every record decoded from it carries
 * the payload event's offset and next offset, so that a consumer resumes
 * after the whole payload.
 *
 * MariaDB QUERY_COMPRESSED (165) and *_ROWS_COMPRESSED (166-171): the
 * query text, or the rows data after the column bitmaps, is stored as one
 * header byte 0x80|n (n = 1..4), an n-byte big-endian uncompressed length,
 * and a zlib stream.
 */
#include "ox_binlog_int.h"

#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define MAX_UNCOMPRESSED (1u << 30)

int ox_bl_maria_uncompress(const uint8_t *p, size_t n, ox_buf *out)
{
    if (n < 1 || (p[0] & 0xe0) != 0x80)
        return OX_ECORRUPT;
    int lenlen = p[0] & 7;
    if (lenlen < 1 || lenlen > 4 || n < (size_t)lenlen + 1)
        return OX_ECORRUPT;
    uLongf want = (uLongf)be_n(p + 1, lenlen);
    if (want > MAX_UNCOMPRESSED)
        return OX_ECORRUPT;
    size_t off = out->len;
    ox_buf_grow(out, want + 1);
    uLongf got = want;
    int zr = uncompress(out->data + off, &got, p + 1 + lenlen, (uLong)(n - 1 - (size_t)lenlen));
    if (zr != Z_OK || got != want)
        return OX_ECORRUPT;
    out->len = off + got;
    return 0;
}

static int zstd_all(const uint8_t *src, size_t n, uint64_t hint, ox_buf *out)
{
    ZSTD_DStream *z = ZSTD_createDStream();
    if (z == NULL)
        return OX_ENOMEM;
    int rc = 0;
    ZSTD_initDStream(z);
    ZSTD_inBuffer in = {src, n, 0};
    ox_buf_grow(out, hint && hint < MAX_UNCOMPRESSED ? (size_t)hint : 65536);
    for (;;) {
        if (out->cap - out->len < 65536)
            ox_buf_grow(out, 65536);
        ZSTD_outBuffer ob = {out->data + out->len, out->cap - out->len, 0};
        size_t r = ZSTD_decompressStream(z, &ob, &in);
        out->len += ob.pos;
        if (ZSTD_isError(r)) {
            rc = OX_ECORRUPT;
            break;
        }
        if (out->len > MAX_UNCOMPRESSED) {
            rc = OX_ECORRUPT;
            break;
        }
        if (r == 0)
            break; /* frame complete */
        if (in.pos == in.size && ob.pos < ob.size) {
            rc = OX_ETRUNC; /* input ended inside the frame */
            break;
        }
    }
    ZSTD_freeDStream(z);
    return rc;
}

int ox_bl_payload(ox_binlog_decoder *d, const uint8_t *b, size_t n, ox_change_fn fn, void *arg,
                  ox_errbuf *eb)
{
    if (d->payload_depth > 0)
        return ox_bl_err(d, eb, OX_ECORRUPT, "TRANSACTION_PAYLOAD nested in a payload");
    ox_rd r = {b, b + n};
    uint64_t type, len, size = 0, comp = 0, usize = 0;
    bool have_size = false;
    for (;;) {
        if (!rd_lenenc(&r, &type))
            return ox_bl_err(d, eb, OX_ETRUNC, "TRANSACTION_PAYLOAD header truncated");
        if (type == 0)
            break;
        if (!rd_lenenc(&r, &len) || len > rd_left(&r))
            return ox_bl_err(d, eb, OX_ETRUNC, "TRANSACTION_PAYLOAD header truncated");
        ox_rd v = {r.p, r.p + len};
        uint64_t x = 0;
        rd_lenenc(&v, &x);
        if (type == 1) {
            size = x;
            have_size = true;
        } else if (type == 2) {
            comp = x;
        } else if (type == 3) {
            usize = x;
        }
        r.p += len;
    }
    if (!have_size || size > rd_left(&r))
        return ox_bl_err(d, eb, OX_ECORRUPT, "TRANSACTION_PAYLOAD size %llu beyond the event",
                         (unsigned long long)size);
    ox_buf_reset(&d->payload);
    if (comp == 0) {
        int rc = zstd_all(r.p, (size_t)size, usize, &d->payload);
        if (rc != 0)
            return ox_bl_err(d, eb, rc, "TRANSACTION_PAYLOAD: bad zstd data");
    } else if (comp == 255) {
        ox_buf_put(&d->payload, r.p, (size_t)size);
    } else {
        return ox_bl_err(d, eb, OX_EUNSUPP, "TRANSACTION_PAYLOAD compression type %llu",
                         (unsigned long long)comp);
    }
    /* Inner events may decode into d->inflate/scratch, never into payload. */
    d->payload_depth++;
    int rc = 0;
    size_t pos = 0;
    while (pos < d->payload.len) {
        size_t left = d->payload.len - pos;
        const uint8_t *ev = d->payload.data + pos;
        if (left < OX_BL_HEADER_LEN) {
            rc = ox_bl_err(d, eb, OX_ETRUNC, "TRANSACTION_PAYLOAD: inner event header truncated");
            break;
        }
        size_t evlen = (size_t)le_n(ev + 9, 4);
        if (evlen < OX_BL_HEADER_LEN || evlen > left) {
            rc =
                ox_bl_err(d, eb, OX_ETRUNC,
                          "TRANSACTION_PAYLOAD: inner event at byte %zu of length %zu", pos, evlen);
            break;
        }
        rc = ox_bl_dispatch(d, ev, evlen, fn, arg, eb);
        if (rc != 0)
            break;
        pos += evlen;
    }
    d->payload_depth--;
    return rc;
}
