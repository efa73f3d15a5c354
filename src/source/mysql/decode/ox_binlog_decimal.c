/*
 * ox_binlog_decimal.c - MySQL binary DECIMAL (NEWDECIMAL) to exact text.
 *
 * DECIMAL(p,s) is stored big-endian in groups of 9 decimal digits per 4
 * bytes: the integer part (p-s digits) as a leading partial group of
 * (p-s)%9 digits in dig2bytes[(p-s)%9] bytes followed by full groups, then
 * the fraction as full groups followed by a trailing partial group of s%9
 * digits. The sign is the inverted top bit of the first byte; negative
 * numbers additionally have every byte inverted. Output: optional '-',
 * the integer digits without leading zeros ("0" if none), and, if s > 0,
 * '.' and exactly s digits.
 */
#include "ox_binlog_int.h"

#include <string.h>

#include "ox_json_out.h"

static const int dig2bytes[10] = {0, 1, 1, 2, 2, 3, 3, 4, 4, 4};
static const uint32_t pow10u[10] = {1,      10,      100,      1000,      10000,
                                    100000, 1000000, 10000000, 100000000, 1000000000};

int ox_bl_decimal_size(int prec, int scale)
{
    int intg = prec - scale;
    return intg / 9 * 4 + dig2bytes[intg % 9] + scale / 9 * 4 + dig2bytes[scale % 9];
}

static const char digits2[201] = "00010203040506070809101112131415161718192021222324"
                                 "25262728293031323334353637383940414243444546474849"
                                 "50515253545556575859606162636465666768697071727374"
                                 "75767778798081828384858687888990919293949596979899";

/* Writes exactly k digits of v, zero-padded, two at a time. */
static char *put_digits(char *o, uint32_t v, int k)
{
    int i = k;
    while (i >= 2) {
        i -= 2;
        memcpy(o + i, digits2 + 2 * (v % 100), 2);
        v /= 100;
    }
    if (i)
        o[0] = (char)('0' + v % 10);
    return o + k;
}

/* Exactly nine digits of v (< 10^9): one, then four pairs. */
static char *put_digits9(char *o, uint32_t v)
{
    uint32_t hi = v / 100000000, lo = v % 100000000;
    uint32_t a = lo / 10000, b = lo % 10000;
    o[0] = (char)('0' + hi);
    memcpy(o + 1, digits2 + 2 * (a / 100), 2);
    memcpy(o + 3, digits2 + 2 * (a % 100), 2);
    memcpy(o + 5, digits2 + 2 * (b / 100), 2);
    memcpy(o + 7, digits2 + 2 * (b % 100), 2);
    return o + 9;
}

static char *put_nolead(char *o, uint32_t v)
{
    return o + ox_fmt_u64(o, v);
}

/* The stored group of nb bytes at p, with the sign encoding undone: every
 * byte XORed with `mask` (0xff for negative numbers, else 0) and, for the
 * first group, the top bit flipped. */
static inline uint32_t group(const uint8_t *p, int nb, uint32_t mask, bool first)
{
    uint32_t v = (uint32_t)be_n(p, nb);
    uint32_t m = nb == 4 ? mask : mask & ((1u << (8 * nb)) - 1);
    if (first)
        m ^= 0x80u << (8 * (nb - 1));
    return v ^ m;
}

long ox_bl_decimal(const uint8_t *p, size_t avail, int prec, int scale, char *out, size_t *outlen)
{
    if (prec <= 0 || prec > 65 || scale < 0 || scale > prec || scale > 30)
        return -1;
    int intg = prec - scale, intg0 = intg / 9, intg0x = intg % 9;
    int frac0 = scale / 9, frac0x = scale % 9;
    int size = intg0 * 4 + dig2bytes[intg0x] + frac0 * 4 + dig2bytes[frac0x];
    if (avail < (size_t)size || size == 0)
        return -1;
    /* The sign is the inverted top bit of the first byte; negative numbers
     * have every byte inverted (undone group by group, without a copy). */
    bool neg = !(p[0] & 0x80);
    uint32_t mask = neg ? 0xffffffffu : 0;
    char *o = out;
    if (neg)
        *o++ = '-';
    char *digits = o;
    int pos = 0;
    if (intg0x) {
        int nb = dig2bytes[intg0x];
        uint32_t v = group(p, nb, mask, true);
        pos += nb;
        if (v >= pow10u[intg0x])
            return -1;
        if (v)
            o = put_nolead(o, v);
    }
    for (int g = 0; g < intg0; g++) {
        uint32_t v = group(p + pos, 4, mask, pos == 0);
        pos += 4;
        if (v >= pow10u[9])
            return -1;
        if (o == digits) {
            if (v)
                o = put_nolead(o, v);
        } else {
            o = put_digits9(o, v);
        }
    }
    if (o == digits)
        *o++ = '0';
    if (scale) {
        *o++ = '.';
        for (int g = 0; g < frac0; g++) {
            uint32_t v = group(p + pos, 4, mask, pos == 0);
            pos += 4;
            if (v >= pow10u[9])
                return -1;
            o = put_digits9(o, v);
        }
        if (frac0x) {
            int nb = dig2bytes[frac0x];
            uint32_t v = group(p + pos, nb, mask, pos == 0);
            if (v >= pow10u[frac0x])
                return -1;
            o = put_digits(o, v, frac0x);
        }
    }
    *outlen = (size_t)(o - out);
    return size;
}
