/*
 * fuzz_client_stream.c - the bytes a store (or anything posing as one) sends
 * to liboxbow-client: chunked transfer coding, then JSON lines or binary
 * frames. The first input byte picks the mode (bit 0: binary, bit 1:
 * chunked) and the split size used to feed the decoder piecewise.
 */
#include <stdint.h>
#include <string.h>

#include "../../src/client/ox_client_parse.c"
#include "ox_assert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int binary = data[0] & 1, chunked = data[0] & 2;
    size_t split = (size_t)(data[0] >> 2) + 1;
    data++;
    size--;
    ox_buf body = OX_BUF_INIT;
    char err[200];
    if (chunked) {
        oxc_dechunk d;
        memset(&d, 0, sizeof d);
        for (size_t i = 0; i < size; i += split) {
            size_t n = size - i < split ? size - i : split;
            if (oxc_dechunk_feed(&d, data + i, n, &body, err, sizeof err) != 0) {
                ox_assert(err[0] != '\0');
                break;
            }
        }
    } else {
        ox_buf_put(&body, data, size);
    }
    int magic = 0;
    size_t off = 0;
    for (;;) {
        oxc_frame f;
        size_t used = 0;
        static const uint8_t none[1];
        const uint8_t *base = body.data != NULL ? body.data + off : none;
        int r = oxc_parse_next(binary, &magic, base, body.len - off, &f, &used, err, sizeof err);
        if (r <= 0)
            break;
        ox_assert(used > 0 && used <= body.len - off);
        if (r == 1)
            ox_assert(f.data_len <= body.len - off);
        off += used;
    }
    ox_buf_free(&body);
    return 0;
}
