/* test_sv_config.c - the supervisor's keys: supervisor.stop.stores decides
 * whether a clean stop takes the stores down (default: it does not). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ox_supervisor.h"

/* Loads the supervisor config from `text`; returns ox_sv_config_load's code. */
static int load(const char *text, struct ox_sv_config *cfg, ox_errbuf *eb)
{
    ox_props *p = NULL;
    assert_int_equal(ox_props_parse(text, strlen(text), "test", &p, eb), 0);
    int rc = ox_sv_config_load(p, "/tmp/ox-test-sv", cfg, eb);
    ox_props_free(p);
    return rc;
}

static void test_stop_stores_default_off(void **state)
{
    (void)state;
    struct ox_sv_config cfg;
    ox_errbuf eb;
    assert_int_equal(load("supervisor.port=7101\n", &cfg, &eb), 0);
    assert_int_equal(cfg.stop_stores, 0);
    assert_int_equal(cfg.stores_outlive, 0); /* set by the program, not a key */
    ox_sv_config_free(&cfg);
    assert_int_equal(ox_sv_config_load(NULL, "/tmp/ox-test-sv", &cfg, &eb), 0);
    assert_int_equal(cfg.stop_stores, 0);
    ox_sv_config_free(&cfg);
}

static void test_stop_stores_key(void **state)
{
    (void)state;
    struct ox_sv_config cfg;
    ox_errbuf eb;
    assert_int_equal(load("supervisor.stop.stores=true\n", &cfg, &eb), 0);
    assert_int_equal(cfg.stop_stores, 1);
    ox_sv_config_free(&cfg);
    assert_int_equal(load("supervisor.stop.stores=false\n", &cfg, &eb), 0);
    assert_int_equal(cfg.stop_stores, 0);
    ox_sv_config_free(&cfg);
    assert_int_equal(load("supervisor.stop.stores=maybe\n", &cfg, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "supervisor.stop.stores"));
    ox_sv_config_free(&cfg);
}

static void test_key_is_known(void **state)
{
    (void)state;
    int found = 0;
    for (int i = 0; ox_sv_config_keys[i] != NULL; i++)
        found |= strcmp(ox_sv_config_keys[i], "supervisor.stop.stores") == 0;
    assert_true(found);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stop_stores_default_off),
        cmocka_unit_test(test_stop_stores_key),
        cmocka_unit_test(test_key_is_known),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
