/* test_cm_metadb.c - the SQLite metaDB: migrations, prepared statements, clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cm_metadb.h"

static char dir[64];
static char path[128];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/oxcm-mdb-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/metadb.sqlite", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

struct rows {
    int n;
    char first[4][256];
};

static int collect(void *arg, int ncol, const char *const *v)
{
    struct rows *r = arg;
    for (int c = 0; c < ncol && c < 4; c++)
        snprintf(r->first[c], sizeof r->first[c], "%s", v[c] ? v[c] : "(null)");
    r->n++;
    return 0;
}

static void test_migrate_and_roundtrip(void **state)
{
    ox_metadb *db = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_metadb_open(path, &db, &eb), 0);
    assert_string_equal(ox_metadb_kind(db), "sqlite");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    /* A value that would break spliced SQL is stored byte for byte. */
    const char *evil = "x'); DROP TABLE ox_topics; --";
    const char *p[11] = {"t1", "mysql", "127.0.0.1", "3306", "u", evil, "", "", "1", "5", ""};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_TOPIC_INSERT, 11, p, NULL, NULL, &eb), 0);
    struct rows r = {0};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_TOPIC_ALL, 0, NULL, collect, &r, &eb), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.first[0], "t1");
    assert_string_equal(r.first[3], "3306");
    /* Duplicate primary key is an error with detail, not a crash. */
    assert_int_equal(ox_metadb_exec(db, OX_MDB_TOPIC_INSERT, 11, p, NULL, NULL, &eb), OX_EDB);
    assert_non_null(strstr(eb.msg, "UNIQUE"));
    ox_metadb_close(db);

    /* Reopening applies no migration twice and keeps the data. */
    assert_int_equal(ox_metadb_open(path, &db, &eb), 0);
    struct rows v = {0};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_SCHEMA_VERSION, 0, NULL, collect, &v, &eb), 0);
    char want[8];
    snprintf(want, sizeof want, "%d", OX_METADB_SCHEMA_VERSION);
    assert_string_equal(v.first[0], want);
    struct rows r2 = {0};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_TOPIC_ALL, 0, NULL, collect, &r2, &eb), 0);
    assert_int_equal(r2.n, 1);
    ox_metadb_close(db);
}

static void test_crawler_rows_and_clock(void **state)
{
    ox_metadb *db = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_metadb_open(path, &db, &eb), 0);
    const char *c[15] = {"127.0.0.1-7100:t-000-0:0000000001",
                         "t",
                         "1",
                         "127.0.0.1-7100",
                         "0",
                         "master",
                         "mysql2store",
                         "",
                         "",
                         "running",
                         "1002",
                         "",
                         "",
                         "0",
                         "9"};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_INSERT, 15, c, NULL, NULL, &eb), 0);
    const char *d[2] = {c[0], "stopped"};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_SET_DESIRED, 2, d, NULL, NULL, &eb), 0);
    const char *s[6] = {c[0], "17000", "0", "ok\n", "{\"status\":0}", "42"};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_SET_STATUS, 6, s, NULL, NULL, &eb), 0);
    struct rows r = {0};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_ALL, 0, NULL, collect, &r, &eb), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.first[0], c[0]);
    assert_string_equal(r.first[1], "t");
    /* Ports are unique per host (migration 3); 0 (not allocated) repeats. */
    const char *c2[15] = {"127.0.0.1-7100:t-000-0:0000000002",
                          "t",
                          "2",
                          "127.0.0.1-7100",
                          "17000",
                          "master",
                          "mysql2store",
                          "",
                          "",
                          "running",
                          "1002",
                          "",
                          "",
                          "0",
                          "9"};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_INSERT, 15, c2, NULL, NULL, &eb), OX_EDB);
    assert_non_null(strstr(eb.msg, "UNIQUE"));
    c2[3] = "127.0.0.2-7100";
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_INSERT, 15, c2, NULL, NULL, &eb), 0);
    const char *sp[2] = {c2[0], "0"};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_SET_PORT, 2, sp, NULL, NULL, &eb), 0);
    c2[0] = "127.0.0.1-7100:t-000-0:0000000003";
    c2[3] = "127.0.0.2-7100";
    c2[4] = "0";
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_INSERT, 15, c2, NULL, NULL, &eb), 0);
    const char *del[1] = {c[0]};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_DELETE, 1, del, NULL, NULL, &eb), 0);
    struct rows r2 = {0};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_CRAWLER_ALL, 0, NULL, collect, &r2, &eb), 0);
    assert_int_equal(r2.n, 2);

    /* The heartbeat statement returns the database's clock (here: the host's). */
    struct timeval tv;
    gettimeofday(&tv, NULL);
    long long now = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
    char ms[24];
    snprintf(ms, sizeof ms, "%lld", now);
    const char *h[1] = {ms};
    struct rows hb = {0};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_HEARTBEAT, 1, h, collect, &hb, &eb), 0);
    assert_int_equal(hb.n, 1);
    long long db_ms = atoll(hb.first[0]);
    assert_true(llabs(db_ms - now) < 2000);
    ox_metadb_close(db);
}

/* Supervisor credentials: one per host, the hash unique, delete says
 * whether a row went. */
static void test_sv_credentials(void **state)
{
    ox_metadb *db = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_metadb_open(path, &db, &eb), 0);
    const char *h1 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const char *h2 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
    const char *a[3] = {"10.0.0.2-7100", h1, "1"};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_SVCRED_INSERT, 3, a, NULL, NULL, &eb), 0);
    const char *again[3] = {"10.0.0.2-7100", h2, "2"};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_SVCRED_INSERT, 3, again, NULL, NULL, &eb), OX_EDB);
    const char *same_hash[3] = {"10.0.0.3-7100", h1, "2"};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_SVCRED_INSERT, 3, same_hash, NULL, NULL, &eb),
                     OX_EDB);
    struct rows r = {0};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_SVCRED_ALL, 0, NULL, collect, &r, &eb), 0);
    assert_int_equal(r.n, 1);
    assert_string_equal(r.first[0], "10.0.0.2-7100");
    assert_string_equal(r.first[1], h1);
    const char *del[1] = {"10.0.0.2-7100"};
    struct rows d = {0};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_SVCRED_DELETE, 1, del, collect, &d, &eb), 0);
    assert_int_equal(d.n, 1);
    struct rows d2 = {0};
    assert_int_equal(ox_metadb_exec(db, OX_MDB_SVCRED_DELETE, 1, del, collect, &d2, &eb), 0);
    assert_int_equal(d2.n, 0);
    ox_metadb_close(db);
}

static void test_open_errors(void **state)
{
    ox_metadb *db = NULL;
    ox_errbuf eb;
    assert_int_not_equal(ox_metadb_open("/nonexistent-dir/x/metadb.sqlite", &db, &eb), 0);
    assert_non_null(strstr(eb.msg, "/nonexistent-dir/x/metadb.sqlite"));
    /* A PostgreSQL URL to a closed port fails with a connection error. */
    assert_int_equal(ox_metadb_open("postgresql://127.0.0.1:1/x?connect_timeout=1", &db, &eb),
                     OX_ECONN);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrate_and_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crawler_rows_and_clock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sv_credentials, setup, teardown),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
