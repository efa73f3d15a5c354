/* test_sha256.c - SHA-256 against the FIPS 180-4 examples and sha256sum
 * values for lengths around the padding boundaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ox_sha256.h"

static void test_vectors(void **state)
{
    (void)state;
    static const struct {
        const char *in;
        const char *hex;
    } v[] = {
        {"", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
         "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[65];
        ox_sha256_hex(v[i].in, strlen(v[i].in), hex);
        assert_string_equal(hex, v[i].hex);
    }
}

static void test_lengths(void **state)
{
    (void)state;
    /* printf 'a%.0s' $(seq N) | sha256sum, for N at the padding edges. */
    static const struct {
        size_t n;
        const char *hex;
    } v[] = {
        {55, "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318"},
        {56, "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a"},
        {64, "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb"},
        {1000, "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3"},
    };
    char buf[1000];
    memset(buf, 'a', sizeof buf);
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char hex[65];
        ox_sha256_hex(buf, v[i].n, hex);
        assert_string_equal(hex, v[i].hex);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),
        cmocka_unit_test(test_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
