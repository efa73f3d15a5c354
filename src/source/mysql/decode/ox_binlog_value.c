/*
 * ox_binlog_value.c - one column value of a row image to an ox_value.
 *
 * Encodings (little-endian unless noted):
 *   TINY/SHORT/INT24/LONG/LONGLONG: 1/2/3/4/8 bytes, two's complement;
 *     signedness from the SIGNEDNESS metadata (signed when unknown).
 *   FLOAT/DOUBLE: IEEE 754, 4/8 bytes.   YEAR: 1 byte, 0 or year-1900.
 *   NEWDECIMAL, temporal types: see ox_binlog_decimal.c, ox_binlog_time.c.
 *   VARCHAR/VAR_STRING/CHAR: 1-byte length if the column's max byte length
 *     is < 256, else 2 bytes; then the bytes.
 *   BLOB/TEXT/GEOMETRY/JSON/VECTOR: length in len_bytes (1-4) then bytes.
 *   ENUM: 1 or 2 bytes index (1-based; 0 is the empty error value).
 *   SET: 1-8 bytes bitmask.  BIT: 1-8 bytes big-endian.
 * Text is rendered by character set: binary -> bytes (base64), utf8 ->
 * text, latin1 (as MySQL means it: Windows-1252)/ucs2/utf16/utf32 -> converted
 * to UTF-8, unknown -> text if
 * the bytes are valid UTF-8 else bytes. Values formatted here are written
 * to the row scratch buffer (see OX_BL_SCRATCH in ox_binlog_int.h).
 *
 * MariaDB's INET6, INET4 and UUID are BINARY(16)/BINARY(4) in the binlog
 * (their bytes in network / text order, checked on MariaDB 10.11: the binlog
 * carries a UUID's bytes in the order SELECT prints them, also for
 * time-based UUIDs). When the schema history names the type (ox_bl_col.fbt)
 * they are rendered as SELECT shows them: INET4 dotted quad; UUID lower-case
 * 8-4-4-4-12 hex; INET6 as MariaDB prints it, which is not quite RFC 5952:
 * the first longest run of zero groups is written "::" even when it is one
 * group long ("1::2:3:4:5:6:7"), groups are lower-case hex without leading
 * zeros, and an address whose first 6 groups are zero (IPv4-compatible,
 * "::1.2.3.4") or whose first 5 are zero and sixth ffff (IPv4-mapped,
 * "::ffff:1.2.3.4") ends in a dotted quad, unless the run of zeros is
 * longer (so "::1", "::", "::1:0:0").
 */
#include "ox_binlog_int.h"

#include <stdio.h>
#include <string.h>

#include "ox_json_out.h"

static void set_scratch(ox_value *v, int kind, size_t off, size_t len)
{
    v->kind = (uint8_t)(kind | OX_BL_SCRATCH);
    v->v.u = off;
    v->len = (uint32_t)len;
}

static void put_utf8_cp(ox_buf *b, uint32_t cp)
{
    if (cp < 0x80) {
        ox_buf_putc(b, (uint8_t)cp);
    } else if (cp < 0x800) {
        uint8_t t[2] = {(uint8_t)(0xc0 | cp >> 6), (uint8_t)(0x80 | (cp & 63))};
        ox_buf_put(b, t, 2);
    } else if (cp < 0x10000) {
        uint8_t t[3] = {(uint8_t)(0xe0 | cp >> 12), (uint8_t)(0x80 | ((cp >> 6) & 63)),
                        (uint8_t)(0x80 | (cp & 63))};
        ox_buf_put(b, t, 3);
    } else {
        uint8_t t[4] = {(uint8_t)(0xf0 | cp >> 18), (uint8_t)(0x80 | ((cp >> 12) & 63)),
                        (uint8_t)(0x80 | ((cp >> 6) & 63)), (uint8_t)(0x80 | (cp & 63))};
        ox_buf_put(b, t, 4);
    }
}

/* UCS-2/UTF-16 (either byte order)/UTF-32 to UTF-8; false if malformed. */
static bool wide_to_utf8(const uint8_t *s, size_t n, int cs, ox_buf *b)
{
    size_t unit = cs == CS_UTF32 ? 4 : 2;
    if (n % unit)
        return false;
    for (size_t i = 0; i < n; i += unit) {
        uint32_t cp;
        if (cs == CS_UTF32) {
            cp = (uint32_t)be_n(s + i, 4);
        } else {
            cp = cs == CS_UTF16LE ? (uint32_t)le_n(s + i, 2) : (uint32_t)be_n(s + i, 2);
            if (cs != CS_UCS2 && cp >= 0xd800 && cp <= 0xdbff) {
                if (i + 4 > n)
                    return false;
                uint32_t lo =
                    cs == CS_UTF16LE ? (uint32_t)le_n(s + i + 2, 2) : (uint32_t)be_n(s + i + 2, 2);
                if (lo < 0xdc00 || lo > 0xdfff)
                    return false;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                i += 2;
            }
        }
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        put_utf8_cp(b, cp);
    }
    return true;
}

/* Writes a[0..3] as a dotted quad. */
static void put_ipv4(ox_buf *b, const uint8_t *a)
{
    char t[16];
    int n = snprintf(t, sizeof t, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
    ox_buf_put(b, t, (size_t)n);
}

static void put_inet6(ox_buf *b, const uint8_t *a)
{
    unsigned w[8];
    for (int i = 0; i < 8; i++)
        w[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    /* The first longest run of zero groups (MariaDB: strictly longer wins). */
    int gpos = -1, glen = 0;
    for (int i = 0; i < 8;) {
        if (w[i] != 0) {
            i++;
            continue;
        }
        int j = i;
        while (j < 8 && w[j] == 0)
            j++;
        if (j - i > glen) {
            gpos = i;
            glen = j - i;
        }
        i = j;
    }
    if (gpos == 0 && (glen == 6 || (glen == 5 && w[5] == 0xffff))) {
        if (glen == 5)
            ox_buf_put(b, "::ffff:", 7);
        else
            ox_buf_put(b, "::", 2);
        put_ipv4(b, a + 12);
        return;
    }
    char t[8];
    for (int i = 0; i < 8;) {
        if (i == gpos) {
            ox_buf_put(b, "::", 2);
            i += glen;
            continue;
        }
        if (i > 0 && i != gpos + glen)
            ox_buf_putc(b, ':');
        int n = snprintf(t, sizeof t, "%x", w[i]);
        ox_buf_put(b, t, (size_t)n);
        i++;
    }
}

static void put_uuid(ox_buf *b, const uint8_t *a)
{
    static const char hex[] = "0123456789abcdef";
    char t[36];
    size_t k = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            t[k++] = '-';
        t[k++] = hex[a[i] >> 4];
        t[k++] = hex[a[i] & 15];
    }
    ox_buf_put(b, t, k);
}

/* A BINARY(n) of a MariaDB INET6/INET4/UUID column (see the file header) as
 * text; a value of another length (never written by the server) stays
 * bytes. */
static void fbt_value(const ox_bl_col *c, const uint8_t *s, size_t n, ox_buf *scratch, ox_value *v)
{
    size_t want = c->fbt == FBT_INET4 ? 4 : 16;
    if (n > want || c->max_len != want) {
        v->kind = OX_VAL_BYTES;
        return;
    }
    uint8_t a[16];
    memset(a, 0, sizeof a);
    memcpy(a, s, n); /* the binlog drops trailing zero bytes of BINARY(n) */
    size_t off = scratch->len;
    if (c->fbt == FBT_INET4)
        put_ipv4(scratch, a);
    else if (c->fbt == FBT_INET6)
        put_inet6(scratch, a);
    else
        put_uuid(scratch, a);
    set_scratch(v, OX_VAL_TEXT, off, scratch->len - off);
}

/* Inlined into the row path (ox_bl_value) on purpose: a call per string
 * value is measurable in the decode benchmark. */
static inline __attribute__((always_inline)) void text_value(const ox_bl_col *c, const uint8_t *s,
                                                             size_t n, ox_buf *scratch, ox_value *v)
{
    v->len = (uint32_t)n;
    v->v.s = (const char *)s;
    switch (c->cs) {
    case CS_BINARY:
        v->kind = OX_VAL_BYTES;
        if (__builtin_expect(c->fbt != FBT_NONE, 0)) {
            fbt_value(c, s, n, scratch, v);
            return;
        }
        if (c->pad && n < c->max_len) {
            size_t off = scratch->len;
            ox_json_reserve(scratch, c->max_len);
            memcpy(scratch->data + off, s, n);
            memset(scratch->data + off + n, 0, c->max_len - n);
            scratch->len = off + c->max_len;
            set_scratch(v, OX_VAL_BYTES, off, c->max_len);
        }
        return;
    case CS_UTF8:
        v->kind = OX_VAL_TEXT;
        return;
    case CS_LATIN1: {
        /* MySQL's latin1 is Windows-1252: 0x80-0x9f are mostly letters and
         * punctuation, not C1 controls. */
        static const uint16_t cp1252[32] = {
            0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160,
            0x2039, 0x0152, 0x008d, 0x017d, 0x008f, 0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022,
            0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178};
        /* Pure ASCII (the common case) is already UTF-8: no copy. */
        size_t ascii = ox_ascii_prefix(s, n);
        if (ascii == n) {
            v->kind = OX_VAL_TEXT;
            return;
        }
        size_t off = scratch->len;
        ox_json_reserve(scratch, n * 3);
        uint8_t *o = scratch->data + off;
        memcpy(o, s, ascii);
        o += ascii;
        for (size_t i = ascii; i < n; i++) {
            uint32_t cp = s[i];
            if (cp >= 0x80 && cp < 0xa0)
                cp = cp1252[cp - 0x80];
            if (cp < 0x80) {
                *o++ = (uint8_t)cp;
            } else if (cp < 0x800) {
                *o++ = (uint8_t)(0xc0 | (cp >> 6));
                *o++ = (uint8_t)(0x80 | (cp & 0x3f));
            } else {
                *o++ = (uint8_t)(0xe0 | (cp >> 12));
                *o++ = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
                *o++ = (uint8_t)(0x80 | (cp & 0x3f));
            }
        }
        scratch->len = (size_t)(o - scratch->data);
        set_scratch(v, OX_VAL_TEXT, off, scratch->len - off);
        return;
    }
    case CS_UCS2:
    case CS_UTF16:
    case CS_UTF16LE:
    case CS_UTF32: {
        size_t off = scratch->len;
        if (wide_to_utf8(s, n, c->cs, scratch)) {
            set_scratch(v, OX_VAL_TEXT, off, scratch->len - off);
        } else {
            scratch->len = off;
            v->kind = OX_VAL_BYTES;
        }
        return;
    }
    default:
        v->kind = ox_utf8_valid(s, n) ? OX_VAL_TEXT : OX_VAL_BYTES;
        return;
    }
}

bool ox_bl_to_utf8(uint8_t cs, const uint8_t *s, size_t n, ox_buf *out)
{
    ox_bl_col c = {.cs = cs};
    ox_value v;
    text_value(&c, s, n, out, &v);
    if ((v.kind & ~OX_BL_SCRATCH) != OX_VAL_TEXT)
        return false;
    if (!(v.kind & OX_BL_SCRATCH))
        ox_buf_put(out, s, n);
    return true;
}

/* Reads a len_bytes length prefix; returns false if it does not fit. */
static bool read_len(const uint8_t *p, size_t avail, int lb, size_t *len)
{
    if (avail < (size_t)lb)
        return false;
    *len = (size_t)le_n(p, lb);
    return *len <= avail - (size_t)lb;
}

static long set_value(const ox_bl_col *c, const uint8_t *p, size_t avail, ox_buf *scratch,
                      ox_value *v)
{
    int lb = c->len_bytes;
    if (avail < (size_t)lb)
        return -1;
    uint64_t bits = le_n(p, lb);
    if (c->nnames == 0) {
        v->kind = OX_VAL_UINT;
        v->v.u = bits;
        return lb;
    }
    size_t off = scratch->len;
    bool first = true;
    for (uint32_t k = 0; k < c->nnames && k < 64; k++) {
        if (!((bits >> k) & 1))
            continue;
        if (!first)
            ox_buf_putc(scratch, ',');
        first = false;
        ox_buf_put(scratch, c->names[k], c->name_lens[k]);
    }
    set_scratch(v, OX_VAL_TEXT, off, scratch->len - off);
    return lb;
}

long ox_bl_value(const ox_bl_col *c, const uint8_t *p, size_t avail, ox_buf *scratch, ox_value *v)
{
    size_t len, off;
    switch (c->dk) {
    case DK_INT8:
    case DK_INT16:
    case DK_INT32:
    case DK_INT64:
        return ox_bl_int_value(c, p, avail, v);
    case DK_INT24:
        if (avail < 3)
            return -1;
        if (c->unsig) {
            v->kind = OX_VAL_UINT;
            v->v.u = le_n(p, 3);
        } else {
            v->kind = OX_VAL_INT;
            v->v.i = (int64_t)(le_n(p, 3) ^ 0x800000) - 0x800000;
        }
        return 3;
    case DK_FLOAT: {
        if (avail < 4)
            return -1;
        uint32_t u = (uint32_t)le_n(p, 4);
        float f;
        memcpy(&f, &u, 4);
        v->kind = OX_VAL_FLOAT;
        v->v.d = f;
        return 4;
    }
    case DK_DOUBLE:
        return ox_bl_double_value(p, avail, v);
    case DK_NEWDECIMAL: {
        off = scratch->len;
        ox_json_reserve(scratch, 80);
        long used = ox_bl_decimal(p, avail, c->prec, c->scale, (char *)scratch->data + off, &len);
        if (used < 0)
            return -1;
        scratch->len += len;
        set_scratch(v, OX_VAL_DECIMAL, off, len);
        return used;
    }
    case DK_YEAR:
        if (avail < 1)
            return -1;
        v->kind = OX_VAL_UINT;
        v->v.u = p[0] ? 1900u + p[0] : 0;
        return 1;
    default:
        break;
    }

    /* Temporal types: formatted text in the scratch buffer. */
    off = scratch->len;
    ox_json_reserve(scratch, 48);
    char *o = (char *)scratch->data + off;
    long used;
    switch (c->dk) {
    case DK_DATE:
        if (avail < 3)
            return -1;
        len = ox_bl_fmt_date(o, (uint32_t)le_n(p, 3));
        used = 3;
        break;
    case DK_TIME: {
        if (avail < 3)
            return -1;
        int64_t t = (int64_t)(le_n(p, 3) ^ 0x800000) - 0x800000;
        bool neg = t < 0;
        uint64_t a = neg ? (uint64_t)-t : (uint64_t)t;
        len = ox_bl_fmt_time(o, neg, (unsigned)(a / 10000), (unsigned)(a / 100 % 100),
                             (unsigned)(a % 100), 0, 0);
        used = 3;
        break;
    }
    case DK_TIME2: {
        int fsp = c->fsp;
        used = 3 + (fsp + 1) / 2;
        if (avail < (size_t)used)
            return -1;
        int64_t ip = (int64_t)be_n(p, 3) - 0x800000, packed;
        if (fsp >= 5) {
            packed = (int64_t)be_n(p, 6) - 0x800000000000ll;
        } else if (fsp >= 1) {
            int64_t frac = fsp <= 2 ? p[3] : (int64_t)be_n(p + 3, 2);
            int64_t unit = fsp <= 2 ? 0x100 : 0x10000;
            if (ip < 0 && frac) {
                ip++;
                frac -= unit;
            }
            packed = ip * (1 << 24) + frac * (fsp <= 2 ? 10000 : 100);
        } else {
            packed = ip * (1 << 24);
        }
        len = ox_bl_fmt_packed_time(o, packed, fsp);
        break;
    }
    case DK_DATETIME: {
        if (avail < 8)
            return -1;
        uint64_t x = le_n(p, 8), dd = x / 1000000, tt = x % 1000000;
        len = ox_bl_fmt_ymdhms(o, (unsigned)(dd / 10000 % 10000), (unsigned)(dd / 100 % 100),
                               (unsigned)(dd % 100), (unsigned)(tt / 10000),
                               (unsigned)(tt / 100 % 100), (unsigned)(tt % 100), 0, 0);
        used = 8;
        break;
    }
    case DK_DATETIME2: {
        int fsp = c->fsp;
        used = 5 + (fsp + 1) / 2;
        if (avail < (size_t)used)
            return -1;
        int64_t ip = (int64_t)be_n(p, 5) - 0x8000000000ll;
        int64_t packed = ip * (1 << 24) + ox_bl_frac_usec(p + 5, fsp);
        len = ox_bl_fmt_packed_datetime(o, packed, fsp, false);
        break;
    }
    case DK_TIMESTAMP:
        if (avail < 4)
            return -1;
        len = ox_bl_fmt_epoch(o, (int64_t)le_n(p, 4), 0, 0);
        used = 4;
        break;
    case DK_TIMESTAMP2: {
        int fsp = c->fsp;
        used = 4 + (fsp + 1) / 2;
        if (avail < (size_t)used)
            return -1;
        len = ox_bl_fmt_epoch(o, (int64_t)be_n(p, 4), ox_bl_frac_usec(p + 4, fsp), fsp);
        break;
    }
    default:
        used = 0;
        len = 0;
        break;
    }
    if (used) {
        scratch->len += len;
        set_scratch(v, OX_VAL_TIME, off, len);
        return used;
    }

    switch (c->dk) {
    case DK_VARSTR:
    case DK_BLOB:
        if (!read_len(p, avail, c->len_bytes, &len))
            return -1;
        text_value(c, p + c->len_bytes, len, scratch, v);
        return (long)(c->len_bytes + len);
    case DK_GEOMETRY:
        if (!read_len(p, avail, c->len_bytes, &len))
            return -1;
        v->kind = OX_VAL_BYTES;
        v->v.s = (const char *)p + c->len_bytes;
        v->len = (uint32_t)len;
        return (long)(c->len_bytes + len);
    case DK_JSON:
        if (!read_len(p, avail, c->len_bytes, &len))
            return -1;
        off = scratch->len;
        if (ox_mysql_json_to_text(p + c->len_bytes, len, scratch) != 0)
            return -1;
        set_scratch(v, OX_VAL_JSON, off, scratch->len - off);
        return (long)(c->len_bytes + len);
    case DK_VECTOR: {
        if (!read_len(p, avail, c->len_bytes, &len) || len % 4)
            return -1;
        off = scratch->len;
        ox_buf_putc(scratch, '[');
        for (size_t i = 0; i < len; i += 4) {
            uint32_t u = (uint32_t)le_n(p + c->len_bytes + i, 4);
            float f;
            memcpy(&f, &u, 4);
            if (i)
                ox_buf_putc(scratch, ',');
            ox_json_float(scratch, f);
        }
        ox_buf_putc(scratch, ']');
        set_scratch(v, OX_VAL_JSON, off, scratch->len - off);
        return (long)(c->len_bytes + len);
    }
    case DK_ENUM: {
        if (avail < c->len_bytes)
            return -1;
        uint64_t idx = le_n(p, c->len_bytes);
        if (c->nnames == 0) {
            v->kind = OX_VAL_UINT;
            v->v.u = idx;
        } else if (idx >= 1 && idx <= c->nnames) {
            v->kind = OX_VAL_TEXT;
            v->v.s = c->names[idx - 1];
            v->len = c->name_lens[idx - 1];
        } else {
            v->kind = OX_VAL_TEXT; /* 0: the empty "error" value */
            v->v.s = "";
            v->len = 0;
        }
        return c->len_bytes;
    }
    case DK_SET:
        return set_value(c, p, avail, scratch, v);
    case DK_BIT:
        if (avail < c->len_bytes)
            return -1;
        v->kind = OX_VAL_UINT;
        v->v.u = be_n(p, c->len_bytes);
        return c->len_bytes;
    default:
        return -2;
    }
}

long ox_bl_value_json_diff(const ox_bl_col *c, const uint8_t *p, size_t avail, ox_buf *scratch,
                           ox_value *v)
{
    size_t len;
    if (!read_len(p, avail, c->len_bytes, &len))
        return -1;
    size_t off = scratch->len;
    if (ox_mysql_json_diff_to_text(p + c->len_bytes, len, scratch) != 0)
        return -1;
    set_scratch(v, OX_VAL_JSON_DIFF, off, scratch->len - off);
    return (long)(c->len_bytes + len);
}
