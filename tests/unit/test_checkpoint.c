/* test_checkpoint.c - checkpoint string parsing and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ox_checkpoint.h"

static void test_full_roundtrip(void **state)
{
    ox_checkpoint cp;
    ox_errbuf eb;
    assert_int_equal(ox_checkpoint_parse("10.10.10.1:1:1663049355:0:1663049354:1", &cp, &eb), 0);
    assert_int_equal(cp.db_ip, 168430081u);
    assert_int_equal(cp.db_port, 1);
    assert_int_equal(cp.file_idx, 1663049355u);
    assert_int_equal(cp.offset, 0);
    assert_int_equal(cp.timestamp, 1663049354);
    assert_int_equal(cp.msg_id, 1);
    assert_int_equal(cp.present, 0x3f);
    char buf[OX_CHECKPOINT_STRLEN];
    ox_checkpoint_format(&cp, buf, sizeof buf);
    assert_string_equal(buf, "10.10.10.1:1:1663049355:0:1663049354:1");
}

static void test_partial_timestamp(void **state)
{
    ox_checkpoint cp;
    ox_errbuf eb;
    assert_int_equal(ox_checkpoint_parse("::::1663049354:", &cp, &eb), 0);
    assert_int_equal(cp.present, OX_CP_TIMESTAMP);
    assert_int_equal(cp.timestamp, 1663049354);
    char buf[OX_CHECKPOINT_STRLEN];
    ox_checkpoint_format(&cp, buf, sizeof buf);
    assert_string_equal(buf, "::::1663049354:");
    assert_int_equal(ox_checkpoint_parse(":::::", &cp, &eb), 0);
    assert_int_equal(cp.present, 0);
}

static void test_malformed(void **state)
{
    static const char *const bad[] = {
        "",                                     /* one field */
        "1.2.3.4:1:2:3:4",                      /* five fields */
        "1.2.3.4:1:2:3:4:5:6",                  /* seven fields */
        "1.2.3:1:2:3:4:5",                      /* three octets */
        "1.2.3.256:1:2:3:4:5",                  /* octet out of range */
        "1.2.3.4:65536:2:3:4:5",                /* port out of range */
        "1.2.3.4:1:-2:3:4:5",                   /* sign */
        "1.2.3.4:1:2:x:4:5",                    /* not a number */
        "1.2.3.4:1:2:3:4:18446744073709551616", /* u64 overflow */
        "1.2.3.4:1:2:3: 4:5",                   /* space */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ox_checkpoint cp;
        ox_errbuf eb;
        eb.msg[0] = '\0';
        assert_int_equal(ox_checkpoint_parse(bad[i], &cp, &eb), OX_EINVAL);
        assert_true(strlen(eb.msg) > 0);
    }
    ox_checkpoint cp;
    ox_errbuf eb;
    assert_int_equal(ox_checkpoint_parse("1.2.3.4:1:2:x:4:5", &cp, &eb), OX_EINVAL);
    assert_non_null(strstr(eb.msg, "offset"));
}

static void test_ipv4_big_endian(void **state)
{
    uint32_t ip;
    assert_int_equal(ox_ipv4_parse("1.1.1.1", 7, &ip), 0);
    assert_int_equal(ip, 16843009u);
    char buf[16];
    ox_ipv4_format(168430081u, buf);
    assert_string_equal(buf, "10.10.10.1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_roundtrip),
        cmocka_unit_test(test_partial_timestamp),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_ipv4_big_endian),
    };
    return cmocka_run_group_tests_name("checkpoint", tests, NULL, NULL);
}
