/* test_time.c - the clocks and the one retry backoff (ox_time.h): doubling
 * from the first wait to the cap, reset on success, odd settings made safe. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ox_time.h"

static void test_doubles_to_cap_and_resets(void **state)
{
    (void)state;
    ox_backoff b;
    ox_backoff_init(&b, 1000, 30000);
    const int64_t want[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(ox_backoff_fail(&b), want[i]);
    assert_int_equal(b.failures, 7);
    ox_backoff_reset(&b);
    assert_int_equal(b.failures, 0);
    assert_int_equal(ox_backoff_peek(&b), 1000);
    assert_int_equal(ox_backoff_fail(&b), 1000);
}

static void test_cap_not_a_power_of_two(void **state)
{
    (void)state;
    ox_backoff b;
    ox_backoff_init(&b, 100, 5000);
    const int64_t want[] = {100, 200, 400, 800, 1600, 3200, 5000, 5000};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(ox_backoff_fail(&b), want[i]);
}

static void test_odd_settings(void **state)
{
    (void)state;
    ox_backoff b;
    ox_backoff_init(&b, 500, 100); /* cap below the first wait: the first wait */
    assert_int_equal(ox_backoff_fail(&b), 500);
    assert_int_equal(ox_backoff_fail(&b), 500);
    ox_backoff_init(&b, 0, 0); /* never a busy loop */
    assert_true(ox_backoff_fail(&b) >= 1);
    ox_backoff_init(&b, INT64_MAX / 2 + 1, INT64_MAX); /* no overflow */
    assert_true(ox_backoff_fail(&b) > 0);
    assert_int_equal(ox_backoff_fail(&b), INT64_MAX);
}

static void test_clocks(void **state)
{
    (void)state;
    int64_t m0 = ox_time_mono_ms(), w0 = ox_time_wall_ms();
    ox_time_sleep_ms(30, 0);
    int64_t m1 = ox_time_mono_ms(), w1 = ox_time_wall_ms();
    assert_true(m1 - m0 >= 30);
    assert_true(w1 - w0 >= 25 && w1 - w0 < 5000);
    assert_true(w0 > 1600000000000LL); /* after 2020: really the epoch clock */
    int64_t us = ox_time_wall_us();
    assert_true(us / 1000 >= w1 && us / 1000 - w1 < 5000);
    ox_time_sleep_ms(-5, 0); /* returns at once */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doubles_to_cap_and_resets),
        cmocka_unit_test(test_cap_not_a_power_of_two),
        cmocka_unit_test(test_odd_settings),
        cmocka_unit_test(test_clocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
