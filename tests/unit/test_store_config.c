/* test_store_config.c - the store's configuration keys and their errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ox_log.h"
#include "ox_store_config.h"

static int load(const char *text, ox_store_config **c, ox_errbuf *eb)
{
    ox_props *p = NULL;
    int rc = ox_props_parse(text, strlen(text), "store.properties", &p, eb);
    if (rc == 0)
        rc = ox_store_config_from_props(p, c, eb);
    ox_props_free(p);
    return rc;
}

static void expect_err(const char *text, const char *needle)
{
    ox_store_config *c = NULL;
    ox_errbuf eb;
    assert_int_equal(load(text, &c, &eb), OX_ECONFIG);
    assert_null(c);
    if (strstr(eb.msg, needle) == NULL)
        fail_msg("error \"%s\" lacks \"%s\"", eb.msg, needle);
}

#define BASE                                                                                       \
    "store.name=10.0.0.1-7100:p_1_source-000-0:0000000007\nstore.dir=/tmp/s\nstore.port=17000\n"

static void test_defaults(void **state)
{
    ox_store_config *c = NULL;
    ox_errbuf eb;
    setenv("OX_TEST_PW", "s3cret", 1);
    assert_int_equal(load(BASE "source.password.env=OX_TEST_PW\n", &c, &eb), 0);
    assert_string_equal(c->listen, "127.0.0.1");
    assert_int_equal(c->port, 17000);
    assert_string_equal(c->source_host, "127.0.0.1");
    assert_int_equal(c->source_ip, 2130706433u);
    assert_int_equal(c->source_port, 3306);
    assert_string_equal(c->source_password, "s3cret");
    assert_int_equal(c->server_id, 1017000);
    assert_int_equal(c->heartbeat_ms, 1000);
    assert_int_equal(c->has_start, 0);
    assert_int_equal(c->retention_s, 86400);
    assert_int_equal(c->retention_bytes, 0);
    assert_int_equal(c->fsync_policy, OX_LOG_FSYNC_INTERVAL);
    assert_int_equal(c->fsync_interval_ms, 10);
    assert_int_equal(c->log_level, 1);
    ox_store_config_free(c);
}

static void test_all_keys(void **state)
{
    char pw[] = "/tmp/ox_store_pwXXXXXX";
    int fd = mkstemp(pw);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "pw1\n", 4), 4);
    close(fd);
    char text[2048];
    snprintf(text, sizeof text,
             BASE "source.type=mysql\nsource.host=localhost\nsource.port=33061\nsource.user=rep\n"
                  "source.password.file=%s\nsource.server_id=77\nsource.heartbeat.ms=200\n"
                  "store.start.checkpoint=::::1663049354:\nstore.whitelist=db.t, db2.*\n"
                  "store.blacklist=db2.secret\nstore.clearer.outdated=60\n"
                  "store.clearer.max_bytes=1000000\nstore.segment.bytes=1048576\n"
                  "store.fsync=commit\nstore.fsync.interval_ms=5\nstore.log.level=debug\n",
             pw);
    ox_store_config *c = NULL;
    ox_errbuf eb;
    int rc = load(text, &c, &eb);
    if (rc != 0)
        fail_msg("%s", eb.msg);
    unlink(pw);
    assert_string_equal(c->source_password, "pw1");
    assert_int_equal(c->source_port, 33061);
    assert_int_equal(c->server_id, 77);
    assert_int_equal(c->has_start, 1);
    assert_int_equal(c->start.timestamp, 1663049354);
    assert_string_equal(c->whitelist, "db.t, db2.*");
    assert_int_equal(c->retention_s, 60);
    assert_int_equal(c->retention_bytes, 1000000);
    assert_int_equal(c->fsync_policy, OX_LOG_FSYNC_COMMIT);
    assert_int_equal(c->log_level, 0);
    ox_store_config_free(c);
}

static void test_errors(void **state)
{
    expect_err(BASE "store.prot=1\n", "unknown key \"store.prot\" (line 4)");
    expect_err("store.dir=/x\nstore.port=1\n", "key \"store.name\" is required");
    expect_err("store.name=a b\nstore.dir=/x\nstore.port=1\n", "key \"store.name\"");
    expect_err("store.name=a\nstore.port=1\n", "key \"store.dir\" is required");
    expect_err("store.name=a\nstore.dir=/x\n", "key \"store.port\" is required");
    expect_err(BASE "store.port=1\n", "key \"store.port\" repeated");
    expect_err("store.name=a\nstore.dir=/x\nstore.port=70000\n", "key \"store.port\" (line 3)");
    expect_err(BASE "store.listen=0.0.0.0\n", "key \"store.listen\"");
    expect_err(BASE "source.type=oracle\n", "key \"source.type\"");
    expect_err(BASE "source.password.file=/nonexistent/pw\n", "key \"source.password.file\"");
    expect_err(BASE "source.password.env=OX_SURELY_UNSET_VAR\n", "key \"source.password.env\"");
    expect_err(BASE "store.start.checkpoint=1:2:3\n", "key \"store.start.checkpoint\"");
    expect_err(BASE "store.start.checkpoint=1.2.3.4:1:::::\n", "key \"store.start.checkpoint\"");
    expect_err(BASE "store.whitelist=a.b,,c\n", "key \"store.whitelist\"");
    expect_err(BASE "store.fsync=always\n", "key \"store.fsync\"");
    expect_err(BASE "store.log.level=loud\n", "key \"store.log.level\"");
    expect_err(BASE "store.clearer.outdated=-1\n", "key \"store.clearer.outdated\"");
    expect_err(BASE "source.heartbeat.ms=abc\n", "key \"source.heartbeat.ms\"");
    expect_err(BASE "source.type=postgresql\n", "key \"source.database\" is required");
}

static void test_postgresql(void **state)
{
    ox_store_config *c = NULL;
    ox_errbuf eb;
    assert_int_equal(load(BASE "source.type=postgresql\nsource.database=shop\n", &c, &eb), 0);
    assert_string_equal(c->source_type, "postgresql");
    assert_string_equal(c->source_database, "shop");
    assert_int_equal(c->source_port, 5432);
    assert_string_equal(c->source_user, "postgres");
    assert_null(c->source_slot);
    assert_null(c->source_publication);
    ox_store_config_free(c);
    assert_int_equal(load(BASE "source.type=postgresql\nsource.database=shop\nsource.slot=s1\n"
                               "source.publication=p1\nsource.port=6543\n",
                          &c, &eb),
                     0);
    assert_string_equal(c->source_slot, "s1");
    assert_string_equal(c->source_publication, "p1");
    assert_int_equal(c->source_port, 6543);
    ox_store_config_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_postgresql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
