/*
 * ox_client_parse.h - liboxbow-client's parsers of the bytes a store sends
 * (internal): the HTTP/1.1 chunked transfer coding, and the two stream
 * formats of docs/protocol.md (JSON lines, binary frames). Pure functions
 * over buffers, so that tests/fuzz/fuzz_client_stream.c can drive them.
 * Nothing here logs or blocks.
 */
#ifndef OX_CLIENT_PARSE_H
#define OX_CLIENT_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "ox_buf.h"

/* Longest frame or line the client accepts (a 1 GiB payload plus headers). */
#define OXC_MAX_FRAME ((size_t)1 << 30) + 4096

typedef struct oxc_dechunk {
    int state;       /* internal */
    uint64_t remain; /* bytes left in the current chunk */
    char line[80];
    size_t line_len;
    int done; /* the last chunk and its trailer were read */
} oxc_dechunk;

/*
 * Feeds `n` raw bytes; appends the decoded body to `out`. Returns 0, or -1
 * with a reason in err (bad chunk size line, missing CRLF).
 */
int oxc_dechunk_feed(oxc_dechunk *d, const uint8_t *in, size_t n, ox_buf *out, char *err,
                     size_t errlen);

enum oxc_kind {
    OXC_RECORD = 0,
    OXC_KEEPALIVE = 1,
    OXC_ERROR = 2,
};

typedef struct oxc_frame {
    int kind; /* enum oxc_kind */
    int commit;
    uint64_t msg_id, file_idx, offset;
    int64_t timestamp;
    const uint8_t *data; /* binary: the stored payload; json: the whole line */
    size_t data_len;
    const char *checkpoint; /* json only: points at the checkpoint text (not NUL-terminated) */
    size_t checkpoint_len;
} oxc_frame;

/*
 * Parses the next frame at buf[0..len). Returns 1 with *f filled (pointing
 * into buf) and *used set; 2 if only the binary preamble was consumed
 * (*used bytes, no frame yet); 0 if more bytes are needed; or -1 with a
 * reason in err for a malformed stream. `magic_seen` tracks the preamble.
 */
int oxc_parse_next(int binary, int *magic_seen, const uint8_t *buf, size_t len, oxc_frame *f,
                   size_t *used, char *err, size_t errlen);

#endif
