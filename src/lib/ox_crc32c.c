/*
 * ox_crc32c.c - CRC32C, hardware-accelerated with a software fallback.
 *
 * Why hand-written: none of the Debian libraries oxbow depends on exports a
 * CRC32C (zlib's crc32 is the IEEE polynomial, which MySQL binlogs use but
 * which is weaker for our record framing and has no CPU instruction on x86).
 *
 * Software: the classic "slicing by 8" tables for the reflected polynomial
 * 0x82F63B78. Hardware: the SSE4.2 crc32 instruction has a latency of three
 * cycles and a throughput of one per cycle, so one dependent chain runs at a
 * third of the possible speed. Long buffers are therefore cut into three
 * streams of equal length that are computed at once and then joined: shifting
 * a CRC register over n zero bytes is a linear map, precomputed for the
 * block lengths we use as four 256-entry tables (one per register byte).
 * Buffers of FOLD_MIN bytes or more go to the carry-less multiply paths of
 * ox_crc32c_fold.c when the CPU has them (chosen once, at first use).
 */
#include "ox_crc32c.h"
#include "ox_crc32c_int.h"

#include <pthread.h>
#include <string.h>

#if OX_CRC_HAVE_HW
#include <nmmintrin.h>
#endif

#define POLY        0x82F63B78u
#define LONG_BLOCK  8192u /* bytes per stream, long blocks */
#define SHORT_BLOCK 256u  /* bytes per stream, short blocks */
#define TINY_BLOCK  32u   /* bytes per stream, records of a few hundred bytes */
/* From this length on ox_crc32c folds: on the AMD EPYC (AVX-512) we measured
 * on, VPCLMULQDQ and three crc32 streams tie from 64 to 128 bytes (7 and
 * 15 GB/s) and folding leads from 192 bytes on (19 vs 16 GB/s, 59 vs 28 at
 * 4 KiB); see bench/bench_crc32c.sh. */
#define FOLD_MIN 128u
/* Three buffers at once: three crc32 chains keep the crc32 unit busy and beat
 * three folding calls (and mixes of both) on the log's 240-byte records
 * (44 vs 38 GB/s); folding wins again from about this length. */
#define X3_FOLD_MIN 512u

static uint32_t sw_table[8][256];
static uint32_t shift_long[4][256];
static uint32_t shift_short[4][256];
static uint32_t shift_tiny[4][256];
static int use_hw;
static unsigned paths;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* Advances the raw register (no pre/post inversion) over `len` bytes. */
static uint32_t sw_update(uint32_t reg, const uint8_t *p, size_t len)
{
    while (len && ((uintptr_t)p & 7)) {
        reg = sw_table[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
        len--;
    }
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        w ^= reg;
        reg = sw_table[7][w & 0xff] ^ sw_table[6][(w >> 8) & 0xff] ^ sw_table[5][(w >> 16) & 0xff] ^
              sw_table[4][(w >> 24) & 0xff] ^ sw_table[3][(w >> 32) & 0xff] ^
              sw_table[2][(w >> 40) & 0xff] ^ sw_table[1][(w >> 48) & 0xff] ^ sw_table[0][w >> 56];
        p += 8;
        len -= 8;
    }
    while (len--)
        reg = sw_table[0][(reg ^ *p++) & 0xff] ^ (reg >> 8);
    return reg;
}

/* a(x) * b(x) mod P in the reflected layout (bit 31 is x^0): setup only. */
static uint32_t mulmod(uint32_t a, uint32_t b)
{
    uint32_t r = 0;
    for (uint32_t bit = 0x80000000u; bit; bit >>= 1) {
        if (a & bit)
            r ^= b;
        b = (b & 1) ? (b >> 1) ^ POLY : b >> 1; /* b *= x */
    }
    return r;
}

static void build_shift(uint32_t tab[4][256], size_t n)
{
    /* Advancing the register over n zero bytes multiplies it by x^(8n) mod P
     * (computed a byte at a time with the table: the program starts faster
     * than with 8n bit steps per unit vector). The map is linear over GF(2):
     * tabulate the 32 unit vectors, then XOR. */
    uint32_t xn = 0x80000000u; /* x^0 */
    for (size_t i = 0; i < n; i++)
        xn = sw_table[0][xn & 0xff] ^ (xn >> 8);
    uint32_t unit[32];
    for (int b = 0; b < 32; b++)
        unit[b] = mulmod(1u << b, xn);
    for (int k = 0; k < 4; k++) {
        for (int v = 0; v < 256; v++) {
            uint32_t r = 0;
            for (int b = 0; b < 8; b++)
                if (v & (1 << b))
                    r ^= unit[k * 8 + b];
            tab[k][v] = r;
        }
    }
}

static inline uint32_t shift(const uint32_t tab[4][256], uint32_t reg)
{
    return tab[0][reg & 0xff] ^ tab[1][(reg >> 8) & 0xff] ^ tab[2][(reg >> 16) & 0xff] ^
           tab[3][reg >> 24];
}

static void init_tables(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        sw_table[0][n] = c;
    }
    for (uint32_t n = 0; n < 256; n++)
        for (int k = 1; k < 8; k++)
            sw_table[k][n] = sw_table[0][sw_table[k - 1][n] & 0xff] ^ (sw_table[k - 1][n] >> 8);
    build_shift(shift_long, LONG_BLOCK);
    build_shift(shift_short, SHORT_BLOCK);
    build_shift(shift_tiny, TINY_BLOCK);
#if OX_CRC_HAVE_HW
    __builtin_cpu_init();
    use_hw = __builtin_cpu_supports("sse4.2") != 0;
    if (use_hw) {
        paths = OX_CRC32C_SSE42;
        if (__builtin_cpu_supports("pclmul"))
            paths |= OX_CRC32C_PCLMUL;
        if ((paths & OX_CRC32C_PCLMUL) && __builtin_cpu_supports("vpclmulqdq") &&
            __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
            paths |= OX_CRC32C_VPCLMUL;
    }
#endif
}

#if OX_CRC_HAVE_HW
/* Three streams of `blk` bytes each, joined with the shift tables. */
static inline uint32_t hw_blocks(uint32_t reg, const uint8_t **pp, size_t *lenp, size_t blk,
                                 const uint32_t tab[4][256])
{
    const uint8_t *p = *pp;
    size_t len = *lenp;
    while (len >= 3 * blk) {
        uint64_t c0 = reg, c1 = 0, c2 = 0;
        const uint8_t *end = p + blk;
        while (p < end) {
            uint64_t a, b, c;
            memcpy(&a, p, 8);
            memcpy(&b, p + blk, 8);
            memcpy(&c, p + 2 * blk, 8);
            c0 = _mm_crc32_u64(c0, a);
            c1 = _mm_crc32_u64(c1, b);
            c2 = _mm_crc32_u64(c2, c);
            p += 8;
        }
        reg = shift(tab, shift(tab, (uint32_t)c0) ^ (uint32_t)c1) ^ (uint32_t)c2;
        p += 2 * blk;
        len -= 3 * blk;
    }
    *pp = p;
    *lenp = len;
    return reg;
}

uint32_t ox_crc32c_hw_update(uint32_t reg, const uint8_t *p, size_t len)
{
    reg = hw_blocks(reg, &p, &len, LONG_BLOCK, shift_long);
    reg = hw_blocks(reg, &p, &len, SHORT_BLOCK, shift_short);
    reg = hw_blocks(reg, &p, &len, TINY_BLOCK, shift_tiny);
    uint64_t c = reg;
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        c = _mm_crc32_u64(c, w);
        p += 8;
        len -= 8;
    }
    reg = (uint32_t)c;
    while (len--)
        reg = _mm_crc32_u8(reg, *p++);
    return reg;
}
#endif

#define PCLMUL_ONLY (OX_CRC32C_SSE42 | OX_CRC32C_PCLMUL)

/* The raw register over `len` bytes with the best path in `allowed`. */
static uint32_t update(unsigned allowed, uint32_t reg, const uint8_t *p, size_t len)
{
    pthread_once(&init_once, init_tables);
#if OX_CRC_HAVE_HW
    unsigned have = paths & allowed;
    if ((have & OX_CRC32C_VPCLMUL) && len >= FOLD_MIN)
        return ox_crc32c_vpclmul_update(reg, p, len);
    /* The 128-bit folding path is only taken when asked for: on the AMD EPYC
     * we measured it on it ran at 15 GB/s against 22-30 for three crc32
     * chains (see bench/bench_crc32c.sh), so without AVX-512 the crc32
     * instruction is the better default. */
    if ((have & OX_CRC32C_PCLMUL) && allowed == PCLMUL_ONLY && len >= FOLD_MIN)
        return ox_crc32c_pclmul_update(reg, p, len);
    if (have & OX_CRC32C_SSE42)
        return ox_crc32c_hw_update(reg, p, len);
#else
    (void)allowed;
#endif
    return sw_update(reg, p, len);
}

uint32_t ox_crc32c(uint32_t crc, const void *p, size_t len)
{
    return ~update(~0u, ~crc, p, len);
}

void ox_crc32c_x3(const void *const p[3], const size_t len[3], uint32_t out[3])
{
    pthread_once(&init_once, init_tables);
#if OX_CRC_HAVE_HW
    if ((paths & OX_CRC32C_VPCLMUL) && len[0] >= X3_FOLD_MIN && len[1] >= X3_FOLD_MIN &&
        len[2] >= X3_FOLD_MIN) {
        for (int i = 0; i < 3; i++)
            out[i] = ~ox_crc32c_vpclmul_update(0xffffffffu, p[i], len[i]);
        return;
    }
    if (use_hw) {
        const uint8_t *a = p[0], *b = p[1], *c = p[2];
        size_t common = len[0] < len[1] ? len[0] : len[1];
        common = (common < len[2] ? common : len[2]) & ~(size_t)7;
        uint64_t ca = 0xffffffffu, cb = 0xffffffffu, cc = 0xffffffffu;
        for (size_t i = 0; i < common; i += 8) {
            uint64_t wa, wb, wc;
            memcpy(&wa, a + i, 8);
            memcpy(&wb, b + i, 8);
            memcpy(&wc, c + i, 8);
            ca = _mm_crc32_u64(ca, wa);
            cb = _mm_crc32_u64(cb, wb);
            cc = _mm_crc32_u64(cc, wc);
        }
        out[0] = ~ox_crc32c_hw_update((uint32_t)ca, a + common, len[0] - common);
        out[1] = ~ox_crc32c_hw_update((uint32_t)cb, b + common, len[1] - common);
        out[2] = ~ox_crc32c_hw_update((uint32_t)cc, c + common, len[2] - common);
        return;
    }
#endif
    for (int i = 0; i < 3; i++)
        out[i] = ~sw_update(0xffffffffu, p[i], len[i]);
}

uint32_t ox_crc32c_sw(uint32_t crc, const void *p, size_t len)
{
    return ~update(0, ~crc, p, len);
}

uint32_t ox_crc32c_sse42(uint32_t crc, const void *p, size_t len)
{
    return ~update(OX_CRC32C_SSE42, ~crc, p, len);
}

uint32_t ox_crc32c_pclmul(uint32_t crc, const void *p, size_t len)
{
    return ~update(PCLMUL_ONLY, ~crc, p, len);
}

uint32_t ox_crc32c_vpclmul(uint32_t crc, const void *p, size_t len)
{
    return ~update(~0u, ~crc, p, len);
}

unsigned ox_crc32c_paths(void)
{
    pthread_once(&init_once, init_tables);
    return paths;
}

const char *ox_crc32c_impl(void)
{
    pthread_once(&init_once, init_tables);
    if (paths & OX_CRC32C_VPCLMUL)
        return "vpclmulqdq";
    return use_hw ? "sse4.2" : "table";
}

int ox_crc32c_hw(void)
{
    pthread_once(&init_once, init_tables);
    return use_hw;
}
