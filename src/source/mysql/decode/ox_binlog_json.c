/*
 * ox_binlog_json.c - MySQL binary JSON (the JSON column's storage format)
 * to JSON text, and PARTIAL_UPDATE_ROWS diff lists.
 *
 * A document is a type byte followed by the value. Types:
 *   0x00/0x01 small/large object, 0x02/0x03 small/large array,
 *   0x04 literal (0 null, 1 true, 2 false), 0x05 int16, 0x06 uint16,
 *   0x07 int32, 0x08 uint32, 0x09 int64, 0x0a uint64, 0x0b double,
 *   0x0c utf8 string, 0x0f opaque (MySQL column type u8, data).
 * Containers (offset size 2 for small, 4 for large; offsets relative to the
 * container start): count | byte size | key entries (object only: key
 * offset, key length u16) | value entries (type u8, offset or inline
 * value) | keys | values. Literals and 16-bit integers (and 32-bit ones in
 * large containers) are inlined in the entry. Strings and opaque data are
 * prefixed by a variable-length size: 7 bits per byte, least significant
 * first, high bit set when another byte follows.
 * Rendering follows MySQL's JSON text: opaque DECIMAL as a number, DATE as
 * "YYYY-MM-DD", TIME as "HH:MM:SS.ffffff", DATETIME/TIMESTAMP as
 * "YYYY-MM-DD HH:MM:SS.ffffff", other opaque values as
 * "base64:typeNN:<base64>".
 *
 * A diff list (PARTIAL_UPDATE_ROWS) is a sequence of operation u8 (0
 * REPLACE, 1 INSERT, 2 REMOVE) | path (lenenc length + text) | for
 * REPLACE/INSERT: value length (lenenc) + binary JSON document. It is
 * rendered as [{"op":"replace","path":"$.a","value":...},...].
 */
#include "ox_binlog_int.h"

#include <stdio.h>
#include <string.h>

#include "ox_json_out.h"

#define JSON_MAX_DEPTH 100

static bool read_varlen7(const uint8_t **pp, const uint8_t *end, size_t *out)
{
    size_t v = 0;
    for (int i = 0; i < 5; i++) {
        if (*pp >= end)
            return false;
        uint8_t b = *(*pp)++;
        v |= (size_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            *out = v;
            return true;
        }
    }
    return false;
}

static int value(uint8_t type, const uint8_t *p, size_t n, ox_buf *out, int depth);

static bool inlined(uint8_t type, bool large)
{
    return type == 0x04 || type == 0x05 || type == 0x06 ||
           (large && (type == 0x07 || type == 0x08));
}

static int container(uint8_t type, const uint8_t *p, size_t n, ox_buf *out, int depth)
{
    bool large = type & 1, obj = type <= 0x01;
    size_t os = large ? 4 : 2;
    if (n < 2 * os)
        return -1;
    size_t count = (size_t)le_n(p, (int)os), size = (size_t)le_n(p + os, (int)os);
    if (size > n || size < 2 * os)
        return -1;
    size_t keyent = obj ? os + 2 : 0, valent = 1 + os;
    if (count > (size - 2 * os) / (keyent + valent))
        return -1;
    const uint8_t *keys = p + 2 * os, *vals = keys + count * keyent;
    ox_buf_putc(out, obj ? '{' : '[');
    for (size_t i = 0; i < count; i++) {
        if (i)
            ox_buf_putc(out, ',');
        if (obj) {
            size_t ko = (size_t)le_n(keys + i * keyent, (int)os);
            size_t kl = (size_t)le_n(keys + i * keyent + os, 2);
            if (ko > size || kl > size - ko)
                return -1;
            ox_json_str(out, (const char *)p + ko, kl);
            ox_buf_putc(out, ':');
        }
        const uint8_t *e = vals + i * valent;
        uint8_t t = e[0];
        int rc;
        if (inlined(t, large)) {
            rc = value(t, e + 1, os, out, depth + 1);
        } else {
            size_t vo = (size_t)le_n(e + 1, (int)os);
            if (vo >= size)
                return -1;
            rc = value(t, p + vo, size - vo, out, depth + 1);
        }
        if (rc != 0)
            return rc;
    }
    ox_buf_putc(out, obj ? '}' : ']');
    return 0;
}

static int opaque(const uint8_t *p, size_t n, ox_buf *out)
{
    if (n < 1)
        return -1;
    uint8_t mt = p[0];
    const uint8_t *q = p + 1, *end = p + n;
    size_t len;
    if (!read_varlen7(&q, end, &len) || len > (size_t)(end - q))
        return -1;
    char tmp[96];
    size_t k;
    switch (mt) {
    case OX_MT_NEWDECIMAL:
        if (len < 2)
            return -1;
        if (ox_bl_decimal(q + 2, len - 2, q[0], q[1], tmp, &k) < 0)
            return -1;
        ox_buf_put(out, tmp, k);
        return 0;
    case OX_MT_DATE:
    case OX_MT_NEWDATE:
    case OX_MT_TIME:
    case OX_MT_TIME2:
    case OX_MT_DATETIME:
    case OX_MT_DATETIME2:
    case OX_MT_TIMESTAMP:
    case OX_MT_TIMESTAMP2: {
        if (len < 8)
            return -1;
        int64_t packed = (int64_t)le_n(q, 8);
        tmp[0] = '"';
        if (mt == OX_MT_TIME || mt == OX_MT_TIME2)
            k = ox_bl_fmt_packed_time(tmp + 1, packed, 6);
        else
            k = ox_bl_fmt_packed_datetime(tmp + 1, packed, 6,
                                          mt == OX_MT_DATE || mt == OX_MT_NEWDATE);
        tmp[k + 1] = '"';
        ox_buf_put(out, tmp, k + 2);
        return 0;
    }
    default:
        k = (size_t)snprintf(tmp, sizeof tmp, "\"base64:type%u:", mt);
        ox_buf_put(out, tmp, k);
        ox_base64(out, q, len);
        ox_buf_putc(out, '"');
        return 0;
    }
}

static int value(uint8_t type, const uint8_t *p, size_t n, ox_buf *out, int depth)
{
    if (depth > JSON_MAX_DEPTH)
        return -1;
    switch (type) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
        return container(type, p, n, out, depth);
    case 0x04:
        if (n < 1)
            return -1;
        if (p[0] == 0)
            OX_JSON_LIT(out, "null");
        else if (p[0] == 1)
            OX_JSON_LIT(out, "true");
        else if (p[0] == 2)
            OX_JSON_LIT(out, "false");
        else
            return -1;
        return 0;
    case 0x05:
        if (n < 2)
            return -1;
        ox_json_i64(out, (int16_t)le_n(p, 2));
        return 0;
    case 0x06:
        if (n < 2)
            return -1;
        ox_json_u64(out, le_n(p, 2));
        return 0;
    case 0x07:
        if (n < 4)
            return -1;
        ox_json_i64(out, (int32_t)le_n(p, 4));
        return 0;
    case 0x08:
        if (n < 4)
            return -1;
        ox_json_u64(out, le_n(p, 4));
        return 0;
    case 0x09:
        if (n < 8)
            return -1;
        ox_json_i64(out, (int64_t)le_n(p, 8));
        return 0;
    case 0x0a:
        if (n < 8)
            return -1;
        ox_json_u64(out, le_n(p, 8));
        return 0;
    case 0x0b: {
        if (n < 8)
            return -1;
        uint64_t u = le_n(p, 8);
        double d;
        memcpy(&d, &u, 8);
        ox_json_double(out, d);
        return 0;
    }
    case 0x0c: {
        const uint8_t *q = p, *end = p + n;
        size_t len;
        if (!read_varlen7(&q, end, &len) || len > (size_t)(end - q))
            return -1;
        ox_json_str(out, (const char *)q, len);
        return 0;
    }
    case 0x0f:
        return opaque(p, n, out);
    default:
        return -1;
    }
}

int ox_mysql_json_to_text(const uint8_t *p, size_t n, ox_buf *out)
{
    size_t start = out->len;
    if (n == 0) {
        OX_JSON_LIT(out, "null");
        return 0;
    }
    int rc = value(p[0], p + 1, n - 1, out, 0);
    if (rc != 0)
        out->len = start;
    return rc == 0 ? 0 : OX_ECORRUPT;
}

int ox_mysql_json_diff_to_text(const uint8_t *p, size_t n, ox_buf *out)
{
    static const char *const ops[] = {"replace", "insert", "remove"};
    size_t start = out->len;
    ox_rd r = {p, p + n};
    ox_buf_putc(out, '[');
    bool first = true;
    while (r.p < r.end) {
        uint8_t op = *r.p++;
        uint64_t plen, vlen;
        if (op > 2 || !rd_lenenc(&r, &plen) || plen > rd_left(&r))
            goto bad;
        if (!first)
            ox_buf_putc(out, ',');
        first = false;
        OX_JSON_LIT(out, "{\"op\":\"");
        ox_buf_puts(out, ops[op]);
        OX_JSON_LIT(out, "\",\"path\":");
        ox_json_str(out, (const char *)r.p, plen);
        r.p += plen;
        if (op != 2) {
            if (!rd_lenenc(&r, &vlen) || vlen > rd_left(&r) || vlen == 0)
                goto bad;
            OX_JSON_LIT(out, ",\"value\":");
            if (value(r.p[0], r.p + 1, vlen - 1, out, 0) != 0)
                goto bad;
            r.p += vlen;
        }
        ox_buf_putc(out, '}');
    }
    ox_buf_putc(out, ']');
    return 0;
bad:
    out->len = start;
    return OX_ECORRUPT;
}
