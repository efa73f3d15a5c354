/*
 * ox_crc32c_fold.c - CRC32C of long buffers by carry-less multiplication.
 *
 * The crc32 instruction retires eight bytes per cycle at best (one per cycle,
 * three cycles latency, so three interleaved streams are needed to get even
 * that). PCLMULQDQ multiplies two 64-bit polynomials over GF(2); with it the
 * message is "folded": a 128-bit piece of message S = H*x^64 + L that still
 * has D bits of message after it contributes S*x^D to the CRC, and
 *     S*x^D = H*x^(D+64) + L*x^D == H*(x^(D+64) mod P) + L*(x^D mod P),
 * a product of at most 96 bits that can be XORed into the 128 bits that lie D
 * bits further on. Many such pieces are carried at once (4 lanes of 128 bits
 * for SSE, 4 registers of 4 lanes for AVX-512), so the work is a stream of
 * independent multiplies; at the end the lanes are folded into one 128-bit
 * value whose CRC the crc32 instruction computes (2 instructions), and the
 * last bytes go through crc32 as well.
 *
 * Constants. CRC32C is bit-reflected: in a 64-bit lane loaded little-endian,
 * bit i is the coefficient of x^(63-i), so the lowest quadword of a 128-bit
 * piece is its high half H. PCLMULQDQ of reflected operands a, b returns the
 * reflected product times x (the integer product has 127 bits, the 128-bit
 * reflected lane 128). A 32-bit constant k in the low half of a quadword
 * stands for k(x)*x^32. Multiplying by it therefore gives H*k*x^33, and we
 * need k = x^(D+64-33) mod P for H and k = x^(D-33) mod P for L. The values
 * below were computed with the reflected shift register (x^n mod P in
 * reflected form is 0x80000000 shifted right n times, XORing 0x82F63B78
 * whenever a 1 falls off), e.g. x^95 mod P = 0x493c7d27:
 *     D (bits)   k_H = x^(D+31) mod P   k_L = x^(D-33) mod P
 *       128          0xf20c0dfe             0x493c7d27
 *       256          0x3da6d0cb             0xba4fc28e
 *       384          0x1c291d04             0xddc0152b
 *       512          0x740eef02             0x9e4addf8
 *       640          0x083a6eec             0x39d3b296
 *       768          0xc49f4f67             0x0715ce53
 *      2048          0xdcb17aa4             0xb9e02b86
 * (A wrong constant would make every folded length disagree with the table
 * implementation, which test_crc32c.c compares each path against.)
 *
 * The CRC register is folded in by XORing it into the first four message
 * bytes (the definition of a reflected CRC register), so chaining works like
 * with the other implementations. Both paths are compiled with target
 * attributes and only called after __builtin_cpu_supports said yes.
 *
 * Why binlog checksums (src/source/mysql/ox_binlog_crc.c) have their own
 * folding code: they are CRC32 with the IEEE polynomial (0xEDB88320), this
 * is CRC32C (0x82F63B78). The fold step is the same four instructions, but
 * every constant differs, and the ends differ in kind: here the last 128
 * bits and the tail go through the SSE4.2 crc32 instruction, which computes
 * CRC32C only, so the IEEE code needs a Barrett reduction and byte tables
 * instead. A shared fold loop parameterised by constants would save about
 * twenty lines and put an indirect constant load in both hot loops; each
 * file is tested against its own reference (zlib, the CRC32C table).
 */
#include "ox_crc32c_int.h"

#include <string.h>

#if OX_CRC_HAVE_HW
#include <immintrin.h>

#define K128_H 0xf20c0dfeu
#define K128_L 0x493c7d27u
#define K256_H 0x3da6d0cbu
#define K256_L 0xba4fc28eu
#define K384_H 0x1c291d04u
#define K384_L 0xddc0152bu
#define K512_H 0x740eef02u
#define K512_L 0x9e4addf8u
#define K640_H 0x083a6eecu
#define K640_L 0x39d3b296u
#define K768_H 0xc49f4f67u
#define K768_L 0x0715ce53u
#define K2K_H  0xdcb17aa4u
#define K2K_L  0xb9e02b86u

#define SSE_TARGET __attribute__((target("sse4.2,pclmul")))
#define AVX_TARGET __attribute__((target("sse4.2,pclmul,avx512f,avx512vl,vpclmulqdq")))

/* Folds x forward over the bits the constants k were made for, adds d. */
static inline SSE_TARGET __m128i fold128(__m128i x, __m128i k, __m128i d)
{
    __m128i h = _mm_clmulepi64_si128(x, k, 0x00);
    __m128i l = _mm_clmulepi64_si128(x, k, 0x11);
    return _mm_xor_si128(_mm_xor_si128(h, l), d);
}

/* The CRC register after a 128-bit value (the register already in it). */
static inline SSE_TARGET uint32_t reduce128(__m128i x)
{
    uint64_t c = _mm_crc32_u64(0, (uint64_t)_mm_cvtsi128_si64(x));
    return (uint32_t)_mm_crc32_u64(c, (uint64_t)_mm_extract_epi64(x, 1));
}

static inline SSE_TARGET __m128i kpair(uint32_t h, uint32_t l)
{
    return _mm_set_epi64x((long long)l, (long long)h);
}

/* x (holding the message so far) followed by the remaining `len` bytes:
 * folds 16 bytes at a time, then crc32 over the rest. */
static inline SSE_TARGET uint32_t finish128(__m128i x, const uint8_t *p, size_t len)
{
    __m128i k = kpair(K128_H, K128_L);
    while (len >= 16) {
        x = fold128(x, k, _mm_loadu_si128((const __m128i *)p));
        p += 16;
        len -= 16;
    }
    return ox_crc32c_hw_update(reduce128(x), p, len);
}

SSE_TARGET uint32_t ox_crc32c_pclmul_update(uint32_t reg, const uint8_t *p, size_t len)
{
    if (len < 64)
        return ox_crc32c_hw_update(reg, p, len);
    __m128i x0 = _mm_loadu_si128((const __m128i *)p);
    __m128i x1 = _mm_loadu_si128((const __m128i *)(p + 16));
    __m128i x2 = _mm_loadu_si128((const __m128i *)(p + 32));
    __m128i x3 = _mm_loadu_si128((const __m128i *)(p + 48));
    x0 = _mm_xor_si128(x0, _mm_cvtsi32_si128((int)reg));
    p += 64;
    len -= 64;
    __m128i k = kpair(K512_H, K512_L);
    while (len >= 64) {
        x0 = fold128(x0, k, _mm_loadu_si128((const __m128i *)p));
        x1 = fold128(x1, k, _mm_loadu_si128((const __m128i *)(p + 16)));
        x2 = fold128(x2, k, _mm_loadu_si128((const __m128i *)(p + 32)));
        x3 = fold128(x3, k, _mm_loadu_si128((const __m128i *)(p + 48)));
        p += 64;
        len -= 64;
    }
    k = kpair(K128_H, K128_L);
    __m128i x = fold128(fold128(fold128(x0, k, x1), k, x2), k, x3);
    return finish128(x, p, len);
}

static inline AVX_TARGET __m512i fold512(__m512i x, __m512i k, __m512i d)
{
    __m512i h = _mm512_clmulepi64_epi128(x, k, 0x00);
    __m512i l = _mm512_clmulepi64_epi128(x, k, 0x11);
    return _mm512_ternarylogic_epi64(h, l, d, 0x96); /* h ^ l ^ d */
}

static inline AVX_TARGET __m512i kpair4(uint32_t h, uint32_t l)
{
    return _mm512_broadcast_i32x4(_mm_set_epi64x((long long)l, (long long)h));
}

/* Constants for the last fold of the AVX-512 path, by the number r16 of
 * 16-byte blocks after the register: lane j moves 3 - j + r16 lanes of 128
 * bits (row 0, lane 3: no move, its constants are unused zeros). */
static const uint64_t fold_tail_k[4][8] __attribute__((aligned(64))) = {
    {K384_H, K384_L, K256_H, K256_L, K128_H, K128_L, 0, 0},
    {K512_H, K512_L, K384_H, K384_L, K256_H, K256_L, K128_H, K128_L},
    {K640_H, K640_L, K512_H, K512_L, K384_H, K384_L, K256_H, K256_L},
    {K768_H, K768_L, K640_H, K640_L, K512_H, K512_L, K384_H, K384_L},
};

AVX_TARGET uint32_t ox_crc32c_vpclmul_update(uint32_t reg, const uint8_t *p, size_t len)
{
    if (len < 64)
        return ox_crc32c_hw_update(reg, p, len);
    __m512i x = _mm512_loadu_si512(p);
    x = _mm512_xor_si512(x, _mm512_zextsi128_si512(_mm_cvtsi32_si128((int)reg)));
    p += 64;
    len -= 64;
    __m512i k512 = kpair4(K512_H, K512_L);
    if (len >= 192) {
        /* Four registers, 256 bytes per round, each folded over 2048 bits. */
        __m512i x1 = _mm512_loadu_si512(p);
        __m512i x2 = _mm512_loadu_si512(p + 64);
        __m512i x3 = _mm512_loadu_si512(p + 128);
        p += 192;
        len -= 192;
        __m512i k = kpair4(K2K_H, K2K_L);
        while (len >= 256) {
            x = fold512(x, k, _mm512_loadu_si512(p));
            x1 = fold512(x1, k, _mm512_loadu_si512(p + 64));
            x2 = fold512(x2, k, _mm512_loadu_si512(p + 128));
            x3 = fold512(x3, k, _mm512_loadu_si512(p + 192));
            p += 256;
            len -= 256;
        }
        x = fold512(fold512(fold512(x, k512, x1), k512, x2), k512, x3);
    }
    while (len >= 64) {
        x = fold512(x, k512, _mm512_loadu_si512(p));
        p += 64;
        len -= 64;
    }
    /* Fewer than 64 bytes are left: r16 16-byte blocks and a tail. In one
     * step, lane j of x is folded to the end of the blocks (3 - j + r16 lanes
     * further on) and the blocks, loaded into the top r16 lanes of y, to the
     * end as well; the last lane of x (no blocks) or of y is already there.
     * The masked load starts inside bytes already consumed (there are 64 of
     * them), so it never touches memory outside the buffer. */
    size_t r16 = len / 16;
    __m512i y = _mm512_maskz_loadu_epi64((__mmask8)(0xff00u >> (2 * r16)), p + 16 * r16 - 64);
    __m512i kx = _mm512_load_si512(fold_tail_k[r16]);
    __m512i ky = _mm512_load_si512(fold_tail_k[0]);
    __m512i t = _mm512_ternarylogic_epi64(_mm512_clmulepi64_epi128(x, kx, 0x00),
                                          _mm512_clmulepi64_epi128(x, kx, 0x11),
                                          _mm512_clmulepi64_epi128(y, ky, 0x00), 0x96);
    t = _mm512_xor_si512(t, _mm512_clmulepi64_epi128(y, ky, 0x11));
    __m256i t2 = _mm256_xor_si256(_mm512_castsi512_si256(t), _mm512_extracti64x4_epi64(t, 1));
    __m128i h = _mm_xor_si128(_mm256_castsi256_si128(t2), _mm256_extracti128_si256(t2, 1));
    h = _mm_xor_si128(h, _mm512_extracti32x4_epi32(r16 ? y : x, 3));
    p += 16 * r16;
    len -= 16 * r16;
    return ox_crc32c_hw_update(reduce128(h), p, len);
}
#endif
