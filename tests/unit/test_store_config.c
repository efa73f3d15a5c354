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

/* docs/store.md's key table is the key table of ox_store_config.c, row for
 * row and in order (a doc example is a test). */
static void test_docs_match_table(void **state)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/store.md", OX_SOURCE_DIR);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = 0, i = 0;
    const ox_store_key_doc *keys = ox_store_config_keys(&n);
    assert_true(n > 30);
    char line[8192], want[8192];
    while (fgets(line, sizeof line, f) != NULL) {
        if (strncmp(line, "| `store.", 9) != 0 && strncmp(line, "| `source.", 10) != 0)
            continue;
        line[strcspn(line, "\n")] = '\0';
        if (i >= n)
            fail_msg("docs/store.md documents a key the table lacks: %s", line);
        snprintf(want, sizeof want, "| `%s` | %s | %s |", keys[i].key, keys[i].doc_default,
                 keys[i].doc);
        if (strcmp(line, want) != 0)
            fail_msg("docs/store.md row %zu differs from the key table:\n doc:   %s\n table: %s",
                     i + 1, line, want);
        i++;
    }
    fclose(f);
    if (i != n)
        fail_msg("docs/store.md lacks key %s (and %zu more)", keys[i].key, n - i - 1);
}

static void test_tls_keys(void **state)
{
    ox_store_config *c = NULL;
    ox_errbuf eb;
    assert_int_equal(load(BASE, &c, &eb), 0);
    assert_null(c->source_tls_ca);
    assert_int_equal(c->source_tls_required, 0);
    ox_source_config sc;
    ox_store_config_source(c, &sc);
    assert_null(sc.tls_ca);
    assert_int_equal(sc.tls_required, 0);
    ox_store_config_free(c);
    assert_int_equal(
        load(BASE "source.tls.ca=/etc/ssl/ca.pem\nsource.tls.required=true\n", &c, &eb), 0);
    assert_string_equal(c->source_tls_ca, "/etc/ssl/ca.pem");
    assert_int_equal(c->source_tls_required, 1);
    ox_store_config_source(c, &sc);
    assert_string_equal(sc.tls_ca, "/etc/ssl/ca.pem");
    assert_int_equal(sc.tls_required, 1);
    ox_store_config_free(c);
    expect_err(BASE "source.tls.required=maybe\n", "key \"source.tls.required\"");
    expect_err(BASE "source.type=postgresql\nsource.database=d\nsource.tls.ca=/x\n",
               "key \"source.tls.ca\": not supported with source.type=postgresql");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),         cmocka_unit_test(test_all_keys),
        cmocka_unit_test(test_errors),           cmocka_unit_test(test_postgresql),
        cmocka_unit_test(test_docs_match_table), cmocka_unit_test(test_tls_keys),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
