/*
 * ox_binlog_time.c - temporal values: binlog encodings to text.
 *
 * Encodings handled by ox_binlog_value.c with these formatters:
 *   DATE (3 bytes LE): day bits 0-4, month bits 5-8, year bits 9-23.
 *   TIME (old, 3 bytes LE signed): HHMMSS as a decimal integer.
 *   DATETIME (old, 8 bytes LE): YYYYMMDDhhmmss as a decimal integer.
 *   TIMESTAMP (old, 4 bytes LE) and TIMESTAMP2 (4 bytes BE): seconds since
 *     the epoch, printed in UTC; 0 is the zero timestamp.
 *   DATETIME2 (5 bytes BE, minus 0x8000000000): sign(1) year*13+month(17)
 *     day(5) hour(5) minute(6) second(6).
 *   TIME2 (3 bytes BE, minus 0x800000): sign(1) unused(1) hour(10)
 *     minute(6) second(6); negative values are stored as the complement.
 *   Fractions (TIME2/DATETIME2/TIMESTAMP2): (fsp+1)/2 bytes BE holding
 *     hundredths (fsp 1-2), 1/10000 (fsp 3-4) or microseconds (fsp 5-6).
 * "Packed" longlongs (MySQL's in-memory form, also used inside binary JSON):
 *   value = (integer part << 24) + microseconds, integer part as above.
 * Output always has exactly fsp fractional digits.
 */
#include "ox_binlog_int.h"

#include <string.h>

static const char digits2[201] = "00010203040506070809101112131415161718192021222324"
                                 "25262728293031323334353637383940414243444546474849"
                                 "50515253545556575859606162636465666768697071727374"
                                 "75767778798081828384858687888990919293949596979899";

/* Two digits of v % 100. */
static inline char *put2(char *o, unsigned v)
{
    memcpy(o, digits2 + 2 * (v % 100), 2);
    return o + 2;
}

static char *put_frac(char *o, uint32_t usec, int fsp)
{
    if (fsp <= 0)
        return o;
    char tmp[6];
    for (int i = 5; i >= 0; i--) {
        tmp[i] = (char)('0' + usec % 10);
        usec /= 10;
    }
    *o++ = '.';
    memcpy(o, tmp, (size_t)fsp);
    return o + fsp;
}

static inline __attribute__((always_inline)) char *put_date(char *o, unsigned y, unsigned mo,
                                                            unsigned d)
{
    o = put2(o, y / 100 % 100);
    o = put2(o, y % 100);
    *o++ = '-';
    o = put2(o, mo);
    *o++ = '-';
    return put2(o, d);
}

size_t ox_bl_fmt_date(char *out, uint32_t v)
{
    return (size_t)(put_date(out, v >> 9, (v >> 5) & 15, v & 31) - out);
}

/* Inlined into the DATETIME2 path below, the hottest temporal one. */
static inline __attribute__((always_inline)) size_t fmt_ymdhms(char *out, unsigned y, unsigned mo,
                                                               unsigned d, unsigned h, unsigned mi,
                                                               unsigned s, uint32_t usec, int fsp)
{
    char *o = put_date(out, y, mo, d);
    *o++ = ' ';
    o = put2(o, h);
    *o++ = ':';
    o = put2(o, mi);
    *o++ = ':';
    o = put2(o, s);
    o = put_frac(o, usec, fsp);
    return (size_t)(o - out);
}

size_t ox_bl_fmt_ymdhms(char *out, unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
                        unsigned s, uint32_t usec, int fsp)
{
    return fmt_ymdhms(out, y, mo, d, h, mi, s, usec, fsp);
}

size_t ox_bl_fmt_time(char *out, bool neg, unsigned h, unsigned mi, unsigned s, uint32_t usec,
                      int fsp)
{
    char *o = out;
    if (neg)
        *o++ = '-';
    if (h >= 100) {
        if (h >= 1000)
            *o++ = (char)('0' + h / 1000 % 10);
        *o++ = (char)('0' + h / 100 % 10);
    }
    o = put2(o, h % 100);
    *o++ = ':';
    o = put2(o, mi);
    *o++ = ':';
    o = put2(o, s);
    o = put_frac(o, usec, fsp);
    return (size_t)(o - out);
}

/* Days since 1970-01-01 to a civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

size_t ox_bl_fmt_epoch(char *out, int64_t secs, uint32_t usec, int fsp)
{
    if (secs == 0 && usec == 0)
        return ox_bl_fmt_ymdhms(out, 0, 0, 0, 0, 0, 0, 0, fsp);
    int64_t days = secs / 86400, rem = secs % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    return ox_bl_fmt_ymdhms(out, (unsigned)y, m, d, (unsigned)(rem / 3600),
                            (unsigned)(rem / 60 % 60), (unsigned)(rem % 60), usec, fsp);
}

size_t ox_bl_fmt_packed_datetime(char *out, int64_t packed, int fsp, bool date_only)
{
    char *o = out;
    uint64_t u = (uint64_t)packed;
    if (packed < 0) {
        *o++ = '-';
        u = (uint64_t)0 - u; /* no overflow for INT64_MIN */
    }
    uint64_t ymdhms = u >> 24;
    uint32_t usec = (uint32_t)(u & 0xffffff);
    uint64_t ymd = ymdhms >> 17, ym = ymd >> 5, hms = ymdhms & 0x1ffff;
    unsigned day = (unsigned)(ymd & 31), month = (unsigned)(ym % 13), year = (unsigned)(ym / 13);
    if (date_only)
        return (size_t)(put_date(o, year % 10000, month, day) - out);
    return (size_t)(o - out) + fmt_ymdhms(o, year % 10000, month, day, (unsigned)(hms >> 12),
                                          (unsigned)((hms >> 6) & 63), (unsigned)(hms & 63),
                                          usec % 1000000, fsp);
}

size_t ox_bl_fmt_packed_time(char *out, int64_t packed, int fsp)
{
    bool neg = packed < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)packed : (uint64_t)packed;
    uint64_t hms = u >> 24;
    uint32_t usec = (uint32_t)(u & 0xffffff);
    return ox_bl_fmt_time(out, neg, (unsigned)((hms >> 12) & 0x3ff), (unsigned)((hms >> 6) & 63),
                          (unsigned)(hms & 63), usec % 1000000, fsp);
}

uint32_t ox_bl_frac_usec(const uint8_t *p, int fsp)
{
    switch (fsp) {
    case 1:
    case 2:
        return (uint32_t)p[0] * 10000;
    case 3:
    case 4:
        return (uint32_t)be_n(p, 2) * 100;
    case 5:
    case 6:
        return (uint32_t)be_n(p, 3);
    default:
        return 0;
    }
}
