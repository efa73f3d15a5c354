/* ox_client_parse.c - chunked coding and stream frames; see ox_client_parse.h. */
#include "ox_client_parse.h"

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

static uint64_t le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

/* Parses an unsigned decimal at s[*i..], advancing *i; -1 if none. */
static int dec(const uint8_t *s, size_t len, size_t *i, uint64_t *out)
{
    uint64_t v = 0;
    size_t start = *i;
    while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
        if (*i - start >= 20)
            return -1;
        v = v * 10 + (uint64_t)(s[*i] - '0');
        (*i)++;
    }
    if (*i == start)
        return -1;
    *out = v;
    return 0;
}

/* {"msgId":N,"checkpoint":"ip:port:file:off:ts:N",... */
static int parse_json_line(const uint8_t *s, size_t len, oxc_frame *f, char *err, size_t errlen)
{
    static const char p1[] = "{\"msgId\":", p2[] = ",\"checkpoint\":\"";
    static const char e1[] = "{\"isSuccess\":false";
    memset(f, 0, sizeof *f);
    f->data = s;
    f->data_len = len;
    if (len == 0) {
        f->kind = OXC_KEEPALIVE;
        return 1;
    }
    if (len >= sizeof e1 - 1 && memcmp(s, e1, sizeof e1 - 1) == 0) {
        f->kind = OXC_ERROR;
        return 1;
    }
    size_t i = sizeof p1 - 1;
    if (len < i || memcmp(s, p1, i) != 0 || dec(s, len, &i, &f->msg_id) != 0 ||
        len - i < sizeof p2 - 1 || memcmp(s + i, p2, sizeof p2 - 1) != 0) {
        snprintf(err, errlen, "json stream: a line does not start with msgId and checkpoint");
        return -1;
    }
    i += sizeof p2 - 1;
    size_t cp = i;
    while (i < len && s[i] != '"')
        i++;
    if (i == len || i - cp > 127) {
        snprintf(err, errlen, "json stream: unterminated checkpoint");
        return -1;
    }
    f->checkpoint = (const char *)s + cp;
    f->checkpoint_len = i - cp;
    /* fileIdx, offset and timestamp are fields 3-5 of the checkpoint. */
    size_t k = cp;
    int colons = 0;
    while (k < i && colons < 2)
        colons += s[k++] == ':';
    uint64_t ts = 0;
    if (colons != 2 || dec(s, i, &k, &f->file_idx) != 0 || k >= i || s[k++] != ':' ||
        dec(s, i, &k, &f->offset) != 0 || k >= i || s[k++] != ':' || dec(s, i, &k, &ts) != 0) {
        snprintf(err, errlen, "json stream: malformed checkpoint");
        return -1;
    }
    f->timestamp = (int64_t)ts;
    f->kind = OXC_RECORD;
    /* Commit records carry "op":"commit" (docs/records.md). */
    f->commit = memmem(s, len, "\"op\":\"commit\"", 13) != NULL;
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
        if (len < 8)
            return 0;
        if (memcmp(buf, "OXBSTRM1", 8) != 0) {
            snprintf(err, errlen, "binary stream: bad preamble (not an oxbow store?)");
            return -1;
        }
        *magic_seen = 1;
        off = 8;
    }
    if (len - off < 40) {
        *used = off;
        return off ? 2 : 0;
    }
    const uint8_t *h = buf + off;
    uint64_t flen = le(h, 4);
    if (flen < 36 || flen > OXC_MAX_FRAME) {
        snprintf(err, errlen, "binary stream: bad frame length %llu", (unsigned long long)flen);
        return -1;
    }
    if (h[4] > OXC_ERROR) {
        snprintf(err, errlen, "binary stream: unknown frame kind %u", h[4]);
        return -1;
    }
    if (len - off - 4 < flen) {
        *used = off;
        return off ? 2 : 0;
    }
    memset(f, 0, sizeof *f);
    f->kind = h[4];
    f->commit = h[5] & 1;
    f->msg_id = le(h + 8, 8);
    f->file_idx = le(h + 16, 8);
    f->offset = le(h + 24, 8);
    f->timestamp = (int64_t)le(h + 32, 8);
    f->data = h + 40;
    f->data_len = (size_t)flen - 36;
    *used = off + 4 + (size_t)flen;
    return 1;
}
