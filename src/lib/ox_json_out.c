/* ox_json_out.c - the fast JSON writer (see ox_json_out.h for why it exists). */
#include "ox_json_out.h"

#include <math.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Integers: the digits of a value below 10^8 are made in one 64-bit
 * register (SWAR: both 4-digit halves, then their 2-digit and 1-digit
 * parts, split with multiply-shift divisions that are exact in range),
 * shifted to drop the leading zeros and stored with one 8-byte write. No
 * loop and no branch on the digit count, which mispredicted on the varied
 * widths of real column values.
 */

/* The eight ASCII digits of v (< 10^8), zero-padded, most significant in
 * the lowest byte (little-endian order in memory). */
static inline uint64_t digits8(uint32_t v)
{
    uint64_t x = (uint64_t)(v / 10000) | (uint64_t)(v % 10000) << 32;
    /* Each 32-bit lane (< 10000): hundreds to the low 16 bits, the rest
     * above. x * 10486 >> 20 == x / 100 for x < 43699. */
    uint64_t q = (x * 10486) >> 20 & 0x0000007f0000007full;
    x = q | (x - q * 100) << 16;
    /* Each 16-bit lane (< 100): tens to the low byte, units above.
     * x * 103 >> 10 == x / 10 for x < 179. */
    q = (x * 103) >> 10 & 0x000f000f000f000full;
    x = q | (x - q * 10) << 8;
    return x | 0x3030303030303030ull;
}

/* Number of decimal digits of v (1..10). */
static inline size_t ndigits32(uint32_t v)
{
    static const uint32_t pow10[10] = {1,      10,      100,      1000,      10000,
                                       100000, 1000000, 10000000, 100000000, 1000000000};
    /* floor(log10(2^bits)) approximated by bits * 1233 >> 12, then fixed up. */
    uint32_t bits = 32 - (uint32_t)__builtin_clz(v | 1);
    uint32_t t = (bits * 1233) >> 12;
    return t + 1 - ((v | 1) < pow10[t]);
}

/* The digits of v (< 10^8) without leading zeros; writes 8 bytes at p. */
static inline size_t put_upto8(char *p, uint32_t v)
{
    size_t n = ndigits32(v);
    uint64_t d = digits8(v) >> (8 * (8 - n));
    memcpy(p, &d, 8);
    return n;
}

/* Exactly eight digits of v (< 10^8), zero-padded. */
static inline void put8(char *p, uint32_t v)
{
    uint64_t d = digits8(v);
    memcpy(p, &d, 8);
}

size_t ox_fmt_u64(char *p, uint64_t v)
{
    if (v < 100000000)
        return put_upto8(p, (uint32_t)v);
    size_t n;
    if (v < 10000000000000000ull) {
        n = put_upto8(p, (uint32_t)(v / 100000000));
        put8(p + n, (uint32_t)(v % 100000000));
        return n + 8;
    }
    uint64_t top = v / 10000000000000000ull; /* <= 1844 */
    uint64_t rest = v % 10000000000000000ull;
    n = put_upto8(p, (uint32_t)top);
    put8(p + n, (uint32_t)(rest / 100000000));
    put8(p + n + 8, (uint32_t)(rest % 100000000));
    return n + 16;
}

size_t ox_fmt_i64(char *p, int64_t v)
{
    if (v < 0) {
        *p = '-';
        /* Negate in unsigned arithmetic so INT64_MIN does not overflow. */
        return 1 + ox_fmt_u64(p + 1, (uint64_t)0 - (uint64_t)v);
    }
    return ox_fmt_u64(p, (uint64_t)v);
}

void ox_json_u64(ox_buf *b, uint64_t v)
{
    ox_json_reserve(b, 24);
    b->len += ox_fmt_u64((char *)b->data + b->len, v);
}

void ox_json_i64(ox_buf *b, int64_t v)
{
    ox_json_reserve(b, 24);
    b->len += ox_fmt_i64((char *)b->data + b->len, v);
}

static const double pow10d[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9};

/* Writes m / 10^k in decimal ("-12.5"): the integer m with a point k
 * digits from the right. The digits are written in place and the last k
 * of them moved one byte right to make room for the point. */
static size_t fmt_scaled(char *p, bool neg, uint64_t m, int k)
{
    size_t o = 0;
    if (neg)
        p[o++] = '-';
    size_t n = ox_fmt_u64(p + o, m), uk = (size_t)k;
    if (uk >= n) {
        /* "0." and k - n zeros before the digits. */
        char digits[24];
        memcpy(digits, p + o, n);
        p[o++] = '0';
        p[o++] = '.';
        for (size_t z = 0; z < uk - n; z++)
            p[o++] = '0';
        memcpy(p + o, digits, n);
        return o + n;
    }
    if (uk) {
        char *dot = p + o + n - uk;
        for (size_t i = uk; i > 0; i--)
            dot[i] = dot[i - 1];
        *dot = '.';
        return o + n + 1;
    }
    return o + n;
}

/*
 * Fast path for "human" values: if v is the double nearest to m / 10^k for
 * an integer m and a small k, then the decimal m*10^-k reads back as v (the
 * division below and strtod are both correctly rounded, m and 10^k are
 * exact). For m < 2^50, a*10^k is within m*2^-51 of m, so rounding it
 * recovers m exactly whenever such an m exists for this k. The smallest k
 * that round-trips gives the shortest text (a shorter m'/10^k' is also
 * m'*10^(k-k') / 10^k, so trying k upwards finds it first), and k is
 * bounded by a*10^k < 2^50 and k <= 9. Returns 0 when v is not such a
 * value (the caller falls back to printf).
 */
static size_t fmt_double_fast(char *p, double v)
{
    bool neg = v < 0;
    double a = neg ? -v : v;
    if (!(a < 1e15) || (a != 0 && a < 1e-6))
        return 0;
    /* k = 0 without the division (by 1, exact). */
    uint64_t m = (uint64_t)(a + 0.5);
    if ((double)m == a)
        return fmt_scaled(p, neg, m, 0);
    for (int k = 1; k <= 9; k++) {
        double s = a * pow10d[k];
        if (s >= 0x1p50)
            return 0;
        m = (uint64_t)(s + 0.5);
        if ((double)m / pow10d[k] == a)
            return fmt_scaled(p, neg, m, k);
    }
    return 0;
}

size_t ox_fmt_double(char *p, double v)
{
    if (!isfinite(v)) {
        memcpy(p, "null", 4);
        return 4;
    }
    size_t fast = fmt_double_fast(p, v);
    if (fast)
        return fast;
    /* %.15g is the shortest form whenever one of <= 15 digits round-trips;
     * otherwise 16 or 17 digits are needed. */
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(p, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(p, NULL) == v)
            break;
    }
    return (size_t)n;
}

/* The same for floats: m < 2^21 keeps a*10^k within 0.25 of m. */
static size_t fmt_float_fast(char *p, float v)
{
    bool neg = v < 0;
    float a = neg ? -v : v;
    if (!(a < 1e6f) || (a != 0 && a < 1e-4f))
        return 0;
    int k = 7;
    while (k > 0 && a * (float)pow10d[k] >= 0x1p21f)
        k--;
    float s = a * (float)pow10d[k];
    uint32_t m = (uint32_t)(s + 0.5f);
    if ((float)m / (float)pow10d[k] != a)
        return 0;
    while (k > 0 && m % 10 == 0) {
        m /= 10;
        k--;
    }
    return fmt_scaled(p, neg, m, k);
}

size_t ox_fmt_float(char *p, float v)
{
    if (!isfinite(v)) {
        memcpy(p, "null", 4);
        return 4;
    }
    size_t fast = fmt_float_fast(p, v);
    if (fast)
        return fast;
    int n = 0;
    for (int prec = 6; prec <= 9; prec++) {
        n = snprintf(p, 32, "%.*g", prec, (double)v);
        if (prec == 9 || strtof(p, NULL) == v)
            break;
    }
    return (size_t)n;
}

void ox_json_double(ox_buf *b, double v)
{
    ox_json_reserve(b, 32);
    b->len += ox_fmt_double((char *)b->data + b->len, v);
}

void ox_json_float(ox_buf *b, float v)
{
    ox_json_reserve(b, 32);
    b->len += ox_fmt_float((char *)b->data + b->len, v);
}

/* 0: copy as is; 1: needs an escape; 2: start of a multi-byte sequence. */
static const uint8_t esc_class[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
    2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2,
};

/* Length of the well-formed UTF-8 sequence at s (1..4), or 0 if invalid. */
static size_t utf8_seq(const uint8_t *s, size_t avail)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return (avail >= 2 && (s[1] & 0xc0) == 0x80) ? 2 : 0;
    if (c >= 0xe0 && c <= 0xef) {
        if (avail < 3 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
            return 0;
        if (c == 0xe0 && s[1] < 0xa0)
            return 0; /* overlong */
        if (c == 0xed && s[1] >= 0xa0)
            return 0; /* surrogate */
        return 3;
    }
    if (c >= 0xf0 && c <= 0xf4) {
        if (avail < 4 || (s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
            return 0;
        if (c == 0xf0 && s[1] < 0x90)
            return 0;
        if (c == 0xf4 && s[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

size_t ox_ascii_prefix(const uint8_t *s, size_t len)
{
    size_t i = 0;
#if defined(__SSE2__)
    while (len - i >= 16) {
        int bits = _mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(s + i)));
        if (bits)
            return i + (size_t)__builtin_ctz((unsigned)bits);
        i += 16;
    }
    if (i < len && len >= 16) {
        /* The tail: one load of the final 16 bytes, minus those scanned. */
        size_t from = len - 16;
        unsigned bits =
            (unsigned)_mm_movemask_epi8(_mm_loadu_si128((const __m128i *)(s + from))) >> (i - from);
        return bits ? i + (size_t)__builtin_ctz(bits) : len;
    }
#endif
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

bool ox_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = ox_ascii_prefix(s, len);
    while (i < len) {
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

static const char hexd[] = "0123456789abcdef";

void ox_json_str(ox_buf *b, const char *str, size_t len)
{
    /* Worst case: every byte becomes a 6-byte \u00XX escape. */
    ox_json_reserve(b, len * 6 + 2);
    b->len = (size_t)(ox_json_str_to(b->data + b->len, str, len) - b->data);
}

uint8_t *ox_json_str_to(uint8_t *o, const char *str, size_t len)
{
    const uint8_t *s = (const uint8_t *)str;
    *o++ = '"';
    size_t i = 0;
    while (i < len) {
        size_t run = i;
#if defined(__SSE2__)
        /* 16 bytes at a time while none needs attention: a signed compare
         * with 0x20 catches both control characters and bytes >= 0x80. */
        const __m128i sp = _mm_set1_epi8(0x20), qu = _mm_set1_epi8('"'), bs = _mm_set1_epi8('\\');
        while (len - run >= 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(s + run));
            __m128i m = _mm_or_si128(_mm_cmplt_epi8(x, sp),
                                     _mm_or_si128(_mm_cmpeq_epi8(x, qu), _mm_cmpeq_epi8(x, bs)));
            int bits = _mm_movemask_epi8(m);
            if (bits) {
                run += (size_t)__builtin_ctz((unsigned)bits);
                goto found;
            }
            run += 16;
        }
        if (run < len && len >= 16) {
            /* The last 1..15 bytes: one load of the final 16 (which stays
             * inside the string), ignoring the bytes already scanned. */
            size_t from = len - 16, skip = run - from;
            __m128i x = _mm_loadu_si128((const __m128i *)(s + from));
            __m128i m = _mm_or_si128(_mm_cmplt_epi8(x, sp),
                                     _mm_or_si128(_mm_cmpeq_epi8(x, qu), _mm_cmpeq_epi8(x, bs)));
            unsigned bits = (unsigned)_mm_movemask_epi8(m) >> skip;
            run = bits ? run + (size_t)__builtin_ctz(bits) : len;
        }
    found:
#endif
        while (run < len && esc_class[s[run]] == 0)
            run++;
        if (run > i) {
            memcpy(o, s + i, run - i);
            o += run - i;
            i = run;
            if (i == len)
                break;
        }
        uint8_t c = s[i];
        if (esc_class[c] == 1) {
            *o++ = '\\';
            switch (c) {
            case '"':
                *o++ = '"';
                break;
            case '\\':
                *o++ = '\\';
                break;
            case '\n':
                *o++ = 'n';
                break;
            case '\r':
                *o++ = 'r';
                break;
            case '\t':
                *o++ = 't';
                break;
            case '\b':
                *o++ = 'b';
                break;
            case '\f':
                *o++ = 'f';
                break;
            default:
                *o++ = 'u';
                *o++ = '0';
                *o++ = '0';
                *o++ = (uint8_t)hexd[c >> 4];
                *o++ = (uint8_t)hexd[c & 15];
            }
            i++;
            continue;
        }
        size_t n = utf8_seq(s + i, len - i);
        if (n == 0) {
            *o++ = 0xef; /* U+FFFD REPLACEMENT CHARACTER */
            *o++ = 0xbf;
            *o++ = 0xbd;
            i++;
        } else {
            memcpy(o, s + i, n);
            o += n;
            i += n;
        }
    }
    *o++ = '"';
    return o;
}

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void ox_base64(ox_buf *b, const uint8_t *s, size_t len)
{
    ox_json_reserve(b, (len + 2) / 3 * 4);
    b->len = (size_t)(ox_base64_to(b->data + b->len, s, len) - b->data);
}

uint8_t *ox_base64_to(uint8_t *o, const uint8_t *s, size_t len)
{
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8 | s[i + 2];
        *o++ = (uint8_t)b64[v >> 18];
        *o++ = (uint8_t)b64[(v >> 12) & 63];
        *o++ = (uint8_t)b64[(v >> 6) & 63];
        *o++ = (uint8_t)b64[v & 63];
    }
    if (len - i == 1) {
        uint32_t v = (uint32_t)s[i] << 16;
        *o++ = (uint8_t)b64[v >> 18];
        *o++ = (uint8_t)b64[(v >> 12) & 63];
        *o++ = '=';
        *o++ = '=';
    } else if (len - i == 2) {
        uint32_t v = (uint32_t)s[i] << 16 | (uint32_t)s[i + 1] << 8;
        *o++ = (uint8_t)b64[v >> 18];
        *o++ = (uint8_t)b64[(v >> 12) & 63];
        *o++ = (uint8_t)b64[(v >> 6) & 63];
        *o++ = '=';
    }
    return o;
}
