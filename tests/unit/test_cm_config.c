/* test_cm_config.c - CM and supervisor configuration: defaults, the
 * non-loopback token rule, and errors that name the key. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ox_cm.h"
#include "ox_props.h"
#include "ox_supervisor.h"

static ox_props *props(const char *text)
{
    ox_props *p = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_props_parse(text, strlen(text), "test.properties", &p, &eb), 0);
    return p;
}

static void test_cm_defaults(void **state)
{
    struct ox_cm_config c;
    ox_errbuf eb;
    assert_int_equal(ox_cm_config_load(NULL, &c, &eb), 0);
    assert_string_equal(c.listen, "127.0.0.1");
    assert_int_equal(c.port, 8088);
    assert_string_equal(c.url, "http://127.0.0.1:8088");
    assert_string_equal(c.metadb_url, "oxbow-data/metadb.sqlite");
    assert_int_equal(c.run_supervisor, 1);
    assert_null(c.auth_token);
    ox_cm_config_free(&c);
}

static void test_cm_non_loopback_needs_token(void **state)
{
    struct ox_cm_config c;
    ox_errbuf eb;
    ox_props *p = props("cm.listen=0.0.0.0\n");
    assert_int_equal(ox_cm_config_load(p, &c, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "cm.auth.token"));
    ox_props_free(p);
    p = props("cm.listen=0.0.0.0\ncm.auth.token=short\n");
    assert_int_equal(ox_cm_config_load(p, &c, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "16"));
    ox_props_free(p);
    p = props("cm.listen=0.0.0.0\ncm.auth.token=0123456789abcdef0123\ncm.port=9000\n");
    assert_int_equal(ox_cm_config_load(p, &c, &eb), 0);
    assert_string_equal(c.auth_token, "0123456789abcdef0123");
    assert_string_equal(c.url, "http://127.0.0.1:9000");
    ox_cm_config_free(&c);
    ox_props_free(p);
}

static void test_cm_bad_keys(void **state)
{
    struct ox_cm_config c;
    ox_errbuf eb;
    ox_props *p = props("cm.prot=1\n");
    assert_int_equal(ox_cm_config_load(p, &c, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "cm.prot"));
    ox_props_free(p);
    p = props("cm.location=128\n");
    assert_int_equal(ox_cm_config_load(p, &c, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "cm.location"));
    ox_props_free(p);
    p = props("metadb.url=postgresql://x@127.0.0.1/db\ncm.data.dir=/tmp/x\n");
    assert_int_equal(ox_cm_config_load(p, &c, &eb), 0);
    assert_string_equal(c.metadb_url, "postgresql://x@127.0.0.1/db");
    ox_cm_config_free(&c);
    ox_props_free(p);
}

static void test_sv_config(void **state)
{
    struct ox_sv_config c;
    ox_errbuf eb;
    assert_int_equal(ox_sv_config_load(NULL, "/srv/sv", &c, &eb), 0);
    assert_int_equal(c.port, 7100);
    assert_int_equal(c.store_port_base, 17000);
    assert_string_equal(c.host_ip, "127.0.0.1");
    assert_string_equal(c.drc_path, "/srv/sv/package/config/drc.properties");
    ox_sv_config_free(&c);
    /* supervisor.dir=/home/ds/supervisor gives the seed's path. */
    ox_props *p = props("supervisor.dir=/home/ds/supervisor\n");
    assert_int_equal(ox_sv_config_load(p, "/x", &c, &eb), 0);
    assert_string_equal(c.drc_path, "/home/ds/supervisor/package/config/drc.properties");
    ox_sv_config_free(&c);
    ox_props_free(p);
    p = props("supervisor.host.ip=10.0.0.300\n");
    assert_int_equal(ox_sv_config_load(p, "/x", &c, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "supervisor.host.ip"));
    ox_props_free(p);
    p = props("supervisor.store.listen=10.0.0.2\n");
    assert_int_equal(ox_sv_config_load(p, "/x", &c, &eb), OX_ECONFIG);
    assert_non_null(strstr(eb.msg, "supervisor.store.token.file"));
    ox_props_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cm_defaults),
        cmocka_unit_test(test_cm_non_loopback_needs_token),
        cmocka_unit_test(test_cm_bad_keys),
        cmocka_unit_test(test_sv_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
