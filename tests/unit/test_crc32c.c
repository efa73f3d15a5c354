/* test_crc32c.c - CRC32C test vectors, hardware vs software, chaining. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ox_crc32c.h"

static void test_vectors(void **state)
{
    assert_int_equal(ox_crc32c(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(ox_crc32c_sw(0, "123456789", 9), 0xE3069283u);
    assert_int_equal(ox_crc32c(0, "", 0), 0);
    /* RFC 3720 (iSCSI) B.4: 32 bytes of zeros, of 0xff, ascending. */
    uint8_t b[32];
    memset(b, 0, sizeof b);
    assert_int_equal(ox_crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xff, sizeof b);
    assert_int_equal(ox_crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)i;
    assert_int_equal(ox_crc32c(0, b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        b[i] = (uint8_t)(31 - i);
    assert_int_equal(ox_crc32c(0, b, 32), 0x113FDB5Cu);
}

static void test_hw_matches_sw(void **state)
{
    /* Every length around the block sizes of the 3-stream path and every
     * misalignment; also chained calls. */
    size_t max = 3 * 8192 * 2 + 100;
    uint8_t *p = malloc(max + 8);
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < max + 8; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
    static const size_t lens[] = {0,   1,    7,    8,    9,     255,   256,   767,   768,
                                  769, 1000, 8191, 8192, 24575, 24576, 24577, 49152, 49252};
    for (size_t a = 0; a < 8; a++) {
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            uint32_t h = ox_crc32c(0, p + a, lens[i]);
            assert_int_equal(h, ox_crc32c_sw(0, p + a, lens[i]));
            size_t cut = lens[i] / 3;
            assert_int_equal(h, ox_crc32c(ox_crc32c(0, p + a, cut), p + a + cut, lens[i] - cut));
        }
    }
    free(p);
    print_message("crc32c uses %s\n", ox_crc32c_hw() ? "SSE4.2" : "software tables");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_hw_matches_sw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
