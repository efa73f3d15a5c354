/* ox_binlog_stream.c - event headers, ROTATE events and GTID set encoding
 * (see ox_binlog_stream.h). */
#include "ox_binlog_stream.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ox_le.h"
#include "ox_url.h" /* ox_hexval */

static void put_u64(ox_buf *b, uint64_t v)
{
    uint8_t p[8];
    ox_put_le64(p, v);
    ox_buf_put(b, p, 8);
}

int ox_ev_header_parse(const uint8_t *ev, size_t len, ox_ev_header *h)
{
    if (len < OX_EV_HEADER_LEN)
        return OX_ETRUNC;
    h->timestamp = ox_le32(ev);
    h->type = ev[4];
    h->server_id = ox_le32(ev + 5);
    h->size = ox_le32(ev + 9);
    h->log_pos = ox_le32(ev + 13);
    h->flags = (uint16_t)(ev[17] | ev[18] << 8);
    return 0;
}

int ox_ev_rotate_parse(const uint8_t *ev, size_t len, bool checksum, char *name, size_t cap,
                       uint64_t *pos)
{
    size_t end = len - (checksum ? 4 : 0);
    if (len < OX_EV_HEADER_LEN + 8 + (checksum ? 4 : 0))
        return OX_ECORRUPT;
    const uint8_t *p = ev + OX_EV_HEADER_LEN;
    *pos = (uint64_t)ox_le32(p) | (uint64_t)ox_le32(p + 4) << 32;
    size_t n = end - OX_EV_HEADER_LEN - 8;
    if (n == 0 || n >= cap)
        return OX_ECORRUPT;
    memcpy(name, p + 8, n);
    name[n] = '\0';
    if (memchr(name, '\0', n))
        return OX_ECORRUPT;
    return 0;
}

/* Parses a UUID (32 hex digits, dashes ignored) at *pp into 16 bytes. */
static int parse_uuid(const char **pp, uint8_t out[16])
{
    const char *p = *pp;
    int n = 0;
    while (n < 32 && *p && *p != ':') {
        if (*p == '-') {
            p++;
            continue;
        }
        int v = ox_hexval((unsigned char)*p);
        if (v < 0)
            return -1;
        if (n % 2 == 0)
            out[n / 2] = (uint8_t)(v << 4);
        else
            out[n / 2] |= (uint8_t)v;
        n++;
        p++;
    }
    if (n != 32)
        return -1;
    *pp = p;
    return 0;
}

static int parse_u64(const char **pp, uint64_t *out)
{
    const char *p = *pp;
    if (!isdigit((unsigned char)*p))
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(p, &end, 10);
    if (errno || v == 0)
        return -1;
    *out = v;
    *pp = end;
    return 0;
}

static const char *skip_ws(const char *p)
{
    while (*p && isspace((unsigned char)*p))
        p++;
    return p;
}

int ox_mysql_gtid_set_encode(const char *text, ox_buf *out, ox_errbuf *eb)
{
    size_t start = out->len;
    put_u64(out, 0); /* n_sids, patched below */
    uint64_t nsids = 0;
    const char *p = skip_ws(text);
    while (*p) {
        const char *elem = p;
        uint8_t uuid[16];
        if (parse_uuid(&p, uuid) != 0)
            goto bad;
        ox_buf_put(out, uuid, 16);
        size_t nint_at = out->len;
        put_u64(out, 0);
        uint64_t nint = 0;
        while (*p == ':') {
            p++;
            uint64_t a, b;
            if (parse_u64(&p, &a) != 0)
                goto bad;
            b = a;
            if (*p == '-') {
                p++;
                if (parse_u64(&p, &b) != 0 || b < a)
                    goto bad;
            }
            put_u64(out, a);
            put_u64(out, b + 1);
            nint++;
        }
        if (nint == 0)
            goto bad;
        ox_put_le64(out->data + nint_at, nint);
        nsids++;
        p = skip_ws(p);
        if (*p == ',')
            p = skip_ws(p + 1);
        else if (*p)
            goto bad;
        continue;
    bad:
        out->len = start;
        return ox_errf(eb, OX_EINVAL, "bad MySQL GTID set near '%.40s' (want uuid:1-5:7,...)",
                       elem);
    }
    ox_put_le64(out->data + start, nsids);
    return 0;
}
