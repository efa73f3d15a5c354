/* test_ratelimit.c - the log-line rate limiter: a burst per second, then a
 * count of what was suppressed, reported with the next line that passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "ox_ratelimit.h"

static void test_burst_then_count(void **state)
{
    (void)state;
    ox_ratelimit rl;
    ox_ratelimit_init(&rl, 3);
    uint64_t sup = 99;
    int passed = 0;
    for (int i = 0; i < 100; i++) {
        if (ox_ratelimit_allow(&rl, &sup)) {
            passed++;
            assert_int_equal(sup, 0);
        }
    }
    assert_int_equal(passed, 3);
    usleep(1100 * 1000);
    assert_true(ox_ratelimit_allow(&rl, &sup));
    assert_int_equal(sup, 97);
    assert_true(ox_ratelimit_allow(&rl, &sup));
    assert_int_equal(sup, 0);
    ox_ratelimit_destroy(&rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_count),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
