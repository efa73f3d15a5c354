/* test_cm_params.c - form/query parameter decoding and crawler/topic name rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cm_names.h"
#include "cm_params.h"

static int parse(ox_cm_params *ps, const char *s, ox_errbuf *eb)
{
    ox_cm_params_init(ps);
    return ox_cm_params_parse(ps, s, strlen(s), eb);
}

static void test_seed_body(void **state)
{
    ox_cm_params ps;
    ox_errbuf eb;
    assert_int_equal(parse(&ps, "crawler=10.10.10.1-7100:p_4223_source-000-0:0000000007", &eb), 0);
    assert_int_equal(ps.n, 1);
    assert_string_equal(ox_cm_params_get(&ps, "crawler"),
                        "10.10.10.1-7100:p_4223_source-000-0:0000000007");
    ox_cm_params_free(&ps);
    /* The detail query: empty filters. */
    assert_int_equal(parse(&ps, "filters=&crawler=a", &eb), 0);
    assert_string_equal(ox_cm_params_get(&ps, "filters"), "");
    assert_string_equal(ox_cm_params_get(&ps, "crawler"), "a");
    assert_null(ox_cm_params_get(&ps, "nope"));
    ox_cm_params_free(&ps);
}

static void test_decoding(void **state)
{
    ox_cm_params ps;
    ox_errbuf eb;
    assert_int_equal(parse(&ps, "a=x+y%3Az&&b&c=%2e%2E%2f", &eb), 0);
    assert_string_equal(ox_cm_params_get(&ps, "a"), "x y:z");
    assert_string_equal(ox_cm_params_get(&ps, "b"), "");
    assert_string_equal(ox_cm_params_get(&ps, "c"), "../");
    ox_cm_params_free(&ps);
}

static void test_errors(void **state)
{
    ox_cm_params ps;
    ox_errbuf eb;
    assert_int_equal(parse(&ps, "a=%zz", &eb), OX_EINVAL);
    assert_non_null(strstr(eb.msg, "'a'"));
    assert_non_null(strstr(eb.msg, "offset 2"));
    ox_cm_params_free(&ps);
    assert_int_equal(parse(&ps, "a=%4", &eb), OX_EINVAL);
    ox_cm_params_free(&ps);
    assert_int_equal(parse(&ps, "a=%00", &eb), OX_EINVAL); /* encoded NUL */
    ox_cm_params_free(&ps);
    assert_int_equal(parse(&ps, "a=1&a=2", &eb), OX_EINVAL);
    assert_non_null(strstr(eb.msg, "twice"));
    ox_cm_params_free(&ps);
    assert_int_equal(parse(&ps, "b%2Fc=1", &eb), OX_EINVAL); /* '/' in a key */
    ox_cm_params_free(&ps);
    assert_int_equal(parse(&ps, "=1", &eb), OX_EINVAL);
    ox_cm_params_free(&ps);
    char many[1024] = "";
    for (int i = 0; i <= OX_CM_PARAMS_MAX; i++)
        sprintf(many + strlen(many), "k%d=1&", i);
    assert_int_equal(parse(&ps, many, &eb), OX_EINVAL);
    ox_cm_params_free(&ps);
}

static void test_check_allowed(void **state)
{
    ox_cm_params ps;
    ox_errbuf eb;
    static const char *const allowed[] = {"crawler", NULL};
    assert_int_equal(parse(&ps, "crawler=x", &eb), 0);
    assert_int_equal(ox_cm_params_check(&ps, allowed, &eb), 0);
    ox_cm_params_free(&ps);
    assert_int_equal(parse(&ps, "crawler=x&crawlr=y", &eb), 0);
    assert_int_equal(ox_cm_params_check(&ps, allowed, &eb), OX_EINVAL);
    assert_non_null(strstr(eb.msg, "unknown parameter 'crawlr'"));
    ox_cm_params_free(&ps);
}

static void test_names(void **state)
{
    ox_errbuf eb;
    ox_cm_name n;
    assert_int_equal(ox_cm_name_parse("10.10.10.1-7100:p_4223_source-000-0:0000000007", &n, &eb),
                     0);
    assert_string_equal(n.host_ip, "10.10.10.1");
    assert_int_equal(n.sv_port, 7100);
    assert_string_equal(n.topic, "p_4223_source");
    assert_int_equal(n.sub_id, 7);
    char buf[OX_CM_NAME_MAX + 1];
    ox_cm_name_format("127.0.0.1", 7100, "orders", 12, buf, sizeof buf);
    assert_string_equal(buf, "127.0.0.1-7100:orders-000-0:0000000012");
    assert_int_equal(ox_cm_name_parse(buf, NULL, &eb), 0);
    static const char *const bad[] = {
        "",
        "../../etc/passwd",
        "10.10.10.1-7100:../x-000-0:0000000007",
        "10.10.10.1-7100:a/b-000-0:0000000007",
        "10.10.10.1-7100:..-000-0:0000000007",
        "10.10.10.1-7100:x-000-0:000000007",   /* 9 digits */
        "10.10.10.1-7100:x-000-0:00000000a7",  /* not digits */
        "10.10.10.1-7100:x-001-0:0000000007",  /* wrong middle */
        "10.10.10.01-7100:x-000-0:0000000007", /* non-canonical ip */
        "10.10.10.1-0:x-000-0:0000000007",
        "10.10.10.1-7100:x-000-0:0000000007:9",
        "10.10.10.1-7100:p_4223***_source-000-0:0000000007",
        "host-7100:x-000-0:0000000007",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (ox_cm_name_parse(bad[i], NULL, &eb) != OX_EINVAL)
            fail_msg("accepted bad name \"%s\"", bad[i]);
    }
    assert_int_equal(ox_cm_topic_validate("orders.v2-x_1", &eb), 0);
    assert_int_equal(ox_cm_topic_validate("..", &eb), OX_EINVAL);
    assert_int_equal(ox_cm_topic_validate(".hidden", &eb), OX_EINVAL);
    assert_int_equal(ox_cm_topic_validate("a/b", &eb), OX_EINVAL);
    assert_int_equal(ox_cm_topic_validate("a b", &eb), OX_EINVAL);
    assert_int_equal(ox_cm_topic_validate("", &eb), OX_EINVAL);
    char longt[80];
    memset(longt, 'a', sizeof longt - 1);
    longt[sizeof longt - 1] = '\0';
    assert_int_equal(ox_cm_topic_validate(longt, &eb), OX_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_seed_body), cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_errors),    cmocka_unit_test(test_check_allowed),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
