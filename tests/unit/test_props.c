/* test_props.c - the properties parser and its typed getters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ox_props.h"

static ox_props *parse_ok(const char *text)
{
    ox_props *p = NULL;
    ox_errbuf eb;
    int rc = ox_props_parse(text, strlen(text), "t.properties", &p, &eb);
    if (rc != 0)
        fail_msg("unexpected error: %s", eb.msg);
    return p;
}

static void expect_err(const char *text, const char *needle)
{
    ox_props *p = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_props_parse(text, strlen(text), "t.properties", &p, &eb), OX_ECONFIG);
    assert_null(p);
    if (strstr(eb.msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", eb.msg, needle);
}

static void test_basic(void **state)
{
    ox_props *p = parse_ok("# comment\n! also\n\n  store.name = s1  \r\nstore.port=17000\n"
                           "source.password.env=A=B#c\nempty=\nlast=x");
    assert_int_equal(ox_props_count(p), 5);
    assert_string_equal(ox_props_get(p, "store.name"), "s1");
    assert_string_equal(ox_props_get(p, "source.password.env"), "A=B#c");
    assert_string_equal(ox_props_get(p, "empty"), "");
    assert_string_equal(ox_props_get(p, "last"), "x");
    assert_null(ox_props_get(p, "nope"));
    assert_string_equal(ox_props_get_str(p, "nope", "d"), "d");
    assert_int_equal(ox_props_line(p, 0), 4);
    assert_string_equal(ox_props_key(p, 1), "store.port");
    int64_t v;
    ox_errbuf eb;
    assert_int_equal(ox_props_get_int(p, "store.port", 0, 1, 65535, &v, &eb), 0);
    assert_int_equal(v, 17000);
    assert_int_equal(ox_props_get_int(p, "absent", 42, 1, 65535, &v, &eb), 0);
    assert_int_equal(v, 42);
    ox_props_free(p);
    ox_props_free(NULL);
}

static void test_malformed(void **state)
{
    expect_err("a=1\nno equals here\n", "t.properties:2: expected key=value");
    expect_err(" = v\n", "t.properties:1: empty key");
    expect_err("bad key=1\n", "t.properties:1: key \"bad key\": invalid character");
    expect_err("a=1\nb=2\na=3\n", "t.properties:3: key \"a\" repeated (first set on line 1)");
    const char withnul[] = "a=1\nb=\0x\n";
    ox_props *p = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_props_parse(withnul, sizeof withnul - 1, "n", &p, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "n:2: NUL byte at offset 6"));
}

static void test_typed(void **state)
{
    ox_props *p = parse_ok("i=12x\nbig=99999999999999999999\nneg=-5\nb=Yes\nbb=maybe\ne=commit\n"
                           "ee=sometimes\n");
    int64_t v;
    int b, e;
    ox_errbuf eb;
    assert_int_equal(ox_props_get_int(p, "i", 0, 0, 100, &v, &eb), OX_ECONFIG);
    assert_non_null(
        strstr(eb.msg, "key \"i\" (line 1): expected an integer in [0, 100], got \"12x\""));
    assert_int_equal(ox_props_get_int(p, "big", 0, 0, INT64_MAX, &v, &eb), OX_ECONFIG);
    assert_int_equal(ox_props_get_int(p, "neg", 0, -10, 10, &v, &eb), 0);
    assert_int_equal(v, -5);
    assert_int_equal(ox_props_get_int(p, "neg", 0, 0, 10, &v, &eb), OX_ECONFIG);
    assert_int_equal(ox_props_get_bool(p, "b", 0, &b, &eb), 0);
    assert_int_equal(b, 1);
    assert_int_equal(ox_props_get_bool(p, "bb", 0, &b, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "\"bb\""));
    static const char *const ch[] = {"interval", "commit", "none", NULL};
    assert_int_equal(ox_props_get_enum(p, "e", ch, 0, &e, &eb), 0);
    assert_int_equal(e, 1);
    assert_int_equal(ox_props_get_enum(p, "ee", ch, 0, &e, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "expected one of interval|commit|none, got \"sometimes\""));
    assert_int_equal(ox_props_get_enum(p, "absent", ch, 2, &e, &eb), 0);
    assert_int_equal(e, 2);
    ox_props_free(p);
}

static void test_check_keys(void **state)
{
    ox_props *p = parse_ok("store.name=a\nsource.opt.x=1\nstore.nmae=typo\n");
    static const char *const allowed[] = {"store.name", "source.opt.*", NULL};
    ox_errbuf eb;
    assert_int_equal(ox_props_check_keys(p, allowed, &eb), OX_ECONFIG);
    assert_string_equal(eb.msg, "unknown key \"store.nmae\" (line 3)");
    ox_props_free(p);
}

static void test_file(void **state)
{
    char path[] = "/tmp/ox_props_testXXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("k = v\n", f);
    fclose(f);
    ox_props *p = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_props_load_file(path, &p, &eb), 0);
    assert_string_equal(ox_props_get(p, "k"), "v");
    ox_props_free(p);
    unlink(path);
    assert_int_equal(ox_props_load_file(path, &p, &eb), OX_ENOENT);
    assert_non_null(strstr(eb.msg, path));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_basic), cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_typed), cmocka_unit_test(test_check_keys),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
