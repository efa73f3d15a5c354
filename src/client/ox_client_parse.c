/* ox_client_parse.c - chunked coding and stream frames; see ox_client_parse.h. */
#include "ox_client_parse.h"

#include "ox_record.h"
#include "ox_url.h"

#include <stdio.h>
#include <string.h>

enum { CH_SIZE, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER };

static int hexv(char c)
{
    return ox_hexval((unsigned char)c);
}

int oxc_dechunk_feed(oxc_dechunk *d, const uint8_t *in, size_t n, ox_buf *out, char *err,
                     size_t errlen)
{
    size_t i = 0;
    while (i < n && !d->done) {
        switch (d->state) {
        case CH_SIZE:
        case CH_TRAILER: {
            char c = (char)in[i++];
            if (c != '\n') {
                if (d->line_len + 1 >= sizeof d->line) {
                    snprintf(err, errlen, "chunked coding: line longer than %zu bytes",
                             sizeof d->line);
                    return -1;
                }
                d->line[d->line_len++] = c;
                break;
            }
            if (d->line_len > 0 && d->line[d->line_len - 1] == '\r')
                d->line_len--;
            d->line[d->line_len] = '\0';
            if (d->state == CH_TRAILER) {
                if (d->line_len == 0)
                    d->done = 1;
                d->line_len = 0;
                break;
            }
            uint64_t v = 0;
            size_t k = 0;
            for (; k < d->line_len && hexv(d->line[k]) >= 0; k++) {
                if (k >= 15) {
                    snprintf(err, errlen, "chunked coding: chunk size too large");
                    return -1;
                }
                v = v * 16 + (uint64_t)hexv(d->line[k]);
            }
            if (k == 0 || (k < d->line_len && d->line[k] != ';' && d->line[k] != ' ')) {
                snprintf(err, errlen, "chunked coding: bad chunk size line \"%.40s\"", d->line);
                return -1;
            }
            d->line_len = 0;
            d->remain = v;
            d->state = v == 0 ? CH_TRAILER : CH_DATA;
            break;
        }
        case CH_DATA: {
            size_t take = n - i;
            if (take > d->remain)
                take = (size_t)d->remain;
            ox_buf_put(out, in + i, take);
            i += take;
            d->remain -= take;
            if (d->remain == 0)
                d->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
            if (in[i] == '\r') {
                i++;
                d->state = CH_DATA_LF;
                break;
            }
            /* fall through: tolerate a bare LF */
            d->state = CH_DATA_LF;
            /* FALLTHROUGH */
        case CH_DATA_LF:
            if (in[i++] != '\n') {
                snprintf(err, errlen, "chunked coding: missing CRLF after chunk data");
                return -1;
            }
            d->state = CH_SIZE;
            break;
        }
    }
    return 0;
}

/* One JSON line: the envelope is ox_record's. */
static int parse_json_line(const uint8_t *s, size_t len, oxc_frame *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    f->data = s;
    f->data_len = len;
    if (len == 0) {
        f->kind = OXC_KEEPALIVE;
        return 1;
    }
    ox_record_env env;
    ox_errbuf eb;
    if (ox_record_json_parse(s, len, &env, &eb) != 0) {
        snprintf(err, errlen, "%s", eb.msg);
        return -1;
    }
    if (env.error) {
        f->kind = OXC_ERROR;
        return 1;
    }
    f->kind = OXC_RECORD;
    f->msg_id = env.msg_id;
    f->file_idx = env.file_idx;
    f->offset = env.offset;
    f->timestamp = env.timestamp;
    f->checkpoint = env.checkpoint;
    f->checkpoint_len = env.checkpoint_len;
    f->commit = env.commit;
    return 1;
}

int oxc_parse_next(int binary, int *magic_seen, const uint8_t *buf, size_t len, oxc_frame *f,
                   size_t *used, char *err, size_t errlen)
{
    if (len == 0)
        return 0;
    if (!binary) {
        const uint8_t *nl = memchr(buf, '\n', len);
        if (nl == NULL) {
            if (len > OXC_MAX_FRAME) {
                snprintf(err, errlen, "json stream: line longer than 1 GiB");
                return -1;
            }
            return 0;
        }
        *used = (size_t)(nl - buf) + 1;
        return parse_json_line(buf, (size_t)(nl - buf), f, err, errlen);
    }
    size_t off = 0;
    if (!*magic_seen) {
        if (len < OX_RECORD_MAGIC_LEN)
            return 0;
        if (memcmp(buf, OX_RECORD_MAGIC, OX_RECORD_MAGIC_LEN) != 0) {
            snprintf(err, errlen, "binary stream: bad preamble (not an oxbow store?)");
            return -1;
        }
        *magic_seen = 1;
        off = OX_RECORD_MAGIC_LEN;
    }
    if (len - off < OX_RECORD_FRAME_HDR) {
        *used = off;
        return off ? 2 : 0;
    }
    const uint8_t *h = buf + off;
    ox_record_frame fr;
    int bad = ox_record_frame_get(h, &fr);
    uint64_t flen = fr.len;
    if (flen < OX_RECORD_FRAME_HDR - 4 || flen > OXC_MAX_FRAME) {
        snprintf(err, errlen, "binary stream: bad frame length %llu", (unsigned long long)flen);
        return -1;
    }
    if (bad) {
        snprintf(err, errlen, "binary stream: unknown frame kind %u", fr.kind);
        return -1;
    }
    if (len - off - 4 < flen) {
        *used = off;
        return off ? 2 : 0;
    }
    memset(f, 0, sizeof *f);
    f->kind = fr.kind;
    f->commit = fr.flags & OX_RECORD_FLAG_COMMIT;
    f->msg_id = fr.msg_id;
    f->file_idx = fr.file_idx;
    f->offset = fr.offset;
    f->timestamp = fr.timestamp;
    f->data = h + OX_RECORD_FRAME_HDR;
    f->data_len = (size_t)flen - (OX_RECORD_FRAME_HDR - 4);
    *used = off + 4 + (size_t)flen;
    return 1;
}
