/* test_crc32c.c - CRC32C test vectors; every path (tables, crc32 instruction,
 * PCLMULQDQ and VPCLMULQDQ folding, the three-buffer call) against the
 * tables for all lengths 0..4096 at every alignment, random long buffers,
 * chaining. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ox_crc32c.h"

typedef uint32_t (*crc_fn)(uint32_t, const void *, size_t);

static const struct {
    const char *name;
    crc_fn fn;
    unsigned needs; /* OX_CRC32C_* bits the path needs to be itself */
} paths[] = {
    {"dispatch", ox_crc32c, 0},
    {"sw", ox_crc32c_sw, 0},
    {"sse42", ox_crc32c_sse42, OX_CRC32C_SSE42},
    {"pclmul", ox_crc32c_pclmul, OX_CRC32C_SSE42 | OX_CRC32C_PCLMUL},
    {"vpclmul", ox_crc32c_vpclmul, OX_CRC32C_SSE42 | OX_CRC32C_PCLMUL | OX_CRC32C_VPCLMUL},
};
#define NPATHS (sizeof paths / sizeof paths[0])

static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint8_t *random_buf(size_t n)
{
    uint8_t *p = malloc(n ? n : 1);
    assert_non_null(p);
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)next_rand();
    return p;
}

/* Bit-at-a-time CRC32C straight from the definition, independent of the
 * tables the library builds. */
static uint32_t crc_bitwise(uint32_t crc, const uint8_t *p, size_t len)
{
    crc = ~crc;
    while (len--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
    }
    return ~crc;
}

static void test_cpu_paths(void **state)
{
    /* What the library detected must be what the CPU reports, so that the
     * forced-path tests below really exercise each path on this machine. */
    unsigned want = 0;
#if defined(__x86_64__) && defined(__SSE4_2__) /* else the library uses tables only */
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse4.2")) {
        want = OX_CRC32C_SSE42;
        if (__builtin_cpu_supports("pclmul"))
            want |= OX_CRC32C_PCLMUL;
        if ((want & OX_CRC32C_PCLMUL) && __builtin_cpu_supports("vpclmulqdq") &&
            __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl"))
            want |= OX_CRC32C_VPCLMUL;
    }
#endif
    assert_int_equal(ox_crc32c_paths(), want);
    assert_int_equal(ox_crc32c_hw(), (want & OX_CRC32C_SSE42) != 0);
    for (size_t i = 0; i < NPATHS; i++)
        if ((paths[i].needs & want) != paths[i].needs)
            print_message("crc32c: %s path not available here; that test runs the fallback\n",
                          paths[i].name);
    print_message("crc32c uses %s\n", ox_crc32c_impl());
}

static void test_vectors(void **state)
{
    uint8_t b[32];
    for (size_t i = 0; i < NPATHS; i++) {
        crc_fn f = paths[i].fn;
        assert_int_equal(f(0, "123456789", 9), 0xE3069283u);
        assert_int_equal(f(0, "", 0), 0);
        /* RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xff, ascending,
         * descending. */
        memset(b, 0, sizeof b);
        assert_int_equal(f(0, b, 32), 0x8A9136AAu);
        memset(b, 0xff, sizeof b);
        assert_int_equal(f(0, b, 32), 0x62A8AB43u);
        for (int k = 0; k < 32; k++)
            b[k] = (uint8_t)k;
        assert_int_equal(f(0, b, 32), 0x46DD794Eu);
        for (int k = 0; k < 32; k++)
            b[k] = (uint8_t)(31 - k);
        assert_int_equal(f(0, b, 32), 0x113FDB5Cu);
    }
    /* A long vector that takes the folding loops: 4096 zero bytes. */
    uint8_t *z = calloc(4096, 1);
    assert_non_null(z);
    for (size_t i = 0; i < NPATHS; i++)
        assert_int_equal(paths[i].fn(0, z, 4096), crc_bitwise(0, z, 4096));
    free(z);
}

static void test_all_lengths(void **state)
{
    /* Every length 0..4096 at every offset 0..63 (so every alignment of every
     * 16- and 64-byte load), each path against the tables; the tables are
     * themselves checked against the bitwise definition on a sample. */
    size_t max = 4096;
    uint8_t *buf = random_buf(max + 64);
    for (size_t len = 0; len <= max; len++) {
        for (size_t a = 0; a < 64; a += (len < 600 ? 1 : 13)) {
            const uint8_t *p = buf + a;
            uint32_t want = ox_crc32c_sw(0, p, len);
            if ((len + a) % 97 == 0)
                assert_int_equal(want, crc_bitwise(0, p, len));
            for (size_t i = 0; i < NPATHS; i++)
                if (paths[i].fn(0, p, len) != want)
                    fail_msg("%s: len %zu offset %zu", paths[i].name, len, a);
            uint32_t seed = (uint32_t)next_rand();
            uint32_t want2 = ox_crc32c_sw(seed, p, len);
            for (size_t i = 0; i < NPATHS; i++)
                if (paths[i].fn(seed, p, len) != want2)
                    fail_msg("%s: len %zu offset %zu seeded", paths[i].name, len, a);
        }
    }
    free(buf);
}

static void test_large_random(void **state)
{
    /* Random long buffers (past the 256-byte rounds of the AVX-512 path and
     * the 8 KiB blocks of the crc32 path) at random offsets and lengths. */
    size_t max = 1u << 20;
    uint8_t *buf = random_buf(max + 64);
    for (int round = 0; round < 40; round++) {
        size_t a = (size_t)(next_rand() % 64);
        size_t len = (size_t)(next_rand() % max);
        const uint8_t *p = buf + a;
        uint32_t want = ox_crc32c_sw(0, p, len);
        for (size_t i = 0; i < NPATHS; i++)
            if (paths[i].fn(0, p, len) != want)
                fail_msg("%s: len %zu offset %zu", paths[i].name, len, a);
    }
    assert_int_equal(ox_crc32c(0, buf, max), crc_bitwise(0, buf, max));
    free(buf);
}

static void test_chaining(void **state)
{
    /* crc(a || b) == crc(crc(a), b) for cuts anywhere, mixing paths. */
    size_t n = 70000;
    uint8_t *buf = random_buf(n);
    uint32_t whole = ox_crc32c_sw(0, buf, n);
    for (int round = 0; round < 200; round++) {
        size_t cut = (size_t)(next_rand() % (n + 1));
        if (round < 64)
            cut = (size_t)round * 5;
        for (size_t i = 0; i < NPATHS; i++) {
            crc_fn f = paths[i].fn, g = paths[(i + 1 + round) % NPATHS].fn;
            if (g(f(0, buf, cut), buf + cut, n - cut) != whole)
                fail_msg("%s then %s: cut at %zu", paths[i].name,
                         paths[(i + 1 + round) % NPATHS].name, cut);
        }
    }
    free(buf);
}

static void test_x3(void **state)
{
    /* The three-buffer call, with equal and unequal lengths around the
     * record sizes of the log and the folding threshold. */
    uint8_t *buf = random_buf(3 * 5000 + 32);
    static const size_t lens[] = {0, 1, 7, 63, 64, 65, 200, 240, 255, 256, 257, 1000, 4999};
    size_t nl = sizeof lens / sizeof lens[0];
    for (size_t i = 0; i < nl; i++) {
        for (size_t j = 0; j < nl; j++) {
            for (size_t k = 0; k < nl; k += 3) {
                const void *p[3] = {buf + 3, buf + 5001, buf + 10002 + i};
                size_t len[3] = {lens[i], lens[j], lens[k]};
                uint32_t out[3];
                ox_crc32c_x3(p, len, out);
                for (int m = 0; m < 3; m++)
                    assert_int_equal(out[m], ox_crc32c_sw(0, p[m], len[m]));
            }
        }
    }
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_paths),   cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_all_lengths), cmocka_unit_test(test_large_random),
        cmocka_unit_test(test_chaining),    cmocka_unit_test(test_x3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
