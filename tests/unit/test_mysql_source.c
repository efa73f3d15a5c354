/* test_mysql_source.c - the MySQL source's protocol helpers and contract
 * edges that need no server: back-end lookup, GTID set encoding, ROTATE and
 * header parsing, binlog index, connection errors, state errors. (The live
 * paths are covered by tests/e2e/test_mysql_live.py against a real server.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ox_mysql_dump.h"
#include "ox_mysql_source.h"
#include "ox_mysql_start.h"
#include "ox_source.h"

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void test_find(void **state)
{
    assert_ptr_equal(ox_source_find("mysql"), &ox_mysql_source_ops);
    assert_ptr_equal(ox_source_find("mariadb"), &ox_mysql_source_ops);
    assert_null(ox_source_find("pg-not-yet"));
    assert_null(ox_source_find(NULL));
    assert_string_equal(ox_mysql_source_ops.name, "mysql");
}

static void test_gtid_set_encode(void **state)
{
    ox_buf b = OX_BUF_INIT;
    ox_errbuf eb;
    assert_int_equal(ox_mysql_gtid_set_encode("3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:7,\n "
                                              "00000000-0000-0000-0000-000000000001:42",
                                              &b, &eb),
                     0);
    assert_int_equal(b.len, 8 + (16 + 8 + 2 * 16) + (16 + 8 + 16));
    assert_int_equal(rd64(b.data), 2);
    static const uint8_t uuid[16] = {0x3e, 0x11, 0xfa, 0x47, 0x71, 0xca, 0x11, 0xe1,
                                     0x9e, 0x33, 0xc8, 0x0a, 0xa9, 0x42, 0x95, 0x62};
    assert_memory_equal(b.data + 8, uuid, 16);
    assert_int_equal(rd64(b.data + 24), 2);
    assert_int_equal(rd64(b.data + 32), 1);
    assert_int_equal(rd64(b.data + 40), 6); /* end is exclusive */
    assert_int_equal(rd64(b.data + 48), 7);
    assert_int_equal(rd64(b.data + 56), 8);
    assert_int_equal(b.data + 64 + 15 - b.data, 79);
    assert_int_equal(b.data[64 + 15], 1);
    assert_int_equal(rd64(b.data + 80), 1);
    assert_int_equal(rd64(b.data + 88), 42);
    assert_int_equal(rd64(b.data + 96), 43);

    /* The empty set: everything. */
    ox_buf_reset(&b);
    assert_int_equal(ox_mysql_gtid_set_encode("", &b, &eb), 0);
    assert_int_equal(b.len, 8);
    assert_int_equal(rd64(b.data), 0);

    static const char *bad[] = {
        "xyz",
        "3E11FA47-71CA-11E1-9E33-C80AA9429562",
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:",
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:0",
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:5-3",
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-",
        "3E11FA47-71CA-11E1-9E33-C80AA942956:1",
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:1;",
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:99999999999999999999999",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ox_buf_reset(&b);
        assert_int_equal(ox_mysql_gtid_set_encode(bad[i], &b, &eb), OX_EINVAL);
        assert_int_equal(b.len, 0);
        assert_non_null(strstr(eb.msg, "GTID set"));
    }
    ox_buf_free(&b);
}

static size_t make_rotate(uint8_t *ev, uint64_t pos, const char *name, bool crc)
{
    size_t n = strlen(name), len = 19 + 8 + n + (crc ? 4 : 0);
    memset(ev, 0, len);
    ev[4] = OX_EV_ROTATE;
    ev[9] = (uint8_t)len;
    for (int i = 0; i < 8; i++)
        ev[19 + i] = (uint8_t)(pos >> (8 * i));
    memcpy(ev + 27, name, n);
    if (crc)
        memcpy(ev + 27 + n, "\xde\xad\xbe\xef", 4);
    return len;
}

static void test_rotate_and_header(void **state)
{
    uint8_t ev[128];
    char name[64];
    uint64_t pos;
    ox_ev_header h;
    size_t len = make_rotate(ev, 4, "mysql-bin.000007", true);
    assert_int_equal(ox_ev_header_parse(ev, len, &h), 0);
    assert_int_equal(h.type, OX_EV_ROTATE);
    assert_int_equal(h.size, len);
    assert_int_equal(ox_ev_rotate_parse(ev, len, true, name, sizeof name, &pos), 0);
    assert_string_equal(name, "mysql-bin.000007");
    assert_int_equal(pos, 4);
    len = make_rotate(ev, 0x123456789ull, "b.000001", false);
    assert_int_equal(ox_ev_rotate_parse(ev, len, false, name, sizeof name, &pos), 0);
    assert_string_equal(name, "b.000001");
    assert_int_equal(pos, 0x123456789ull);
    /* Too short, empty name, a name too long for the buffer, a NUL inside. */
    assert_int_equal(ox_ev_header_parse(ev, 18, &h), OX_ETRUNC);
    assert_int_equal(ox_ev_rotate_parse(ev, 26, false, name, sizeof name, &pos), OX_ECORRUPT);
    assert_int_equal(ox_ev_rotate_parse(ev, 27, false, name, sizeof name, &pos), OX_ECORRUPT);
    assert_int_equal(ox_ev_rotate_parse(ev, 30, true, name, sizeof name, &pos), OX_ECORRUPT);
    assert_int_equal(ox_ev_rotate_parse(ev, len, false, name, 4, &pos), OX_ECORRUPT);
    len = make_rotate(ev, 4, "ab\0cd", false);
    ev[27 + 2] = 0;
    memcpy(ev + 27, "ab\0cd", 5);
    assert_int_equal(ox_ev_rotate_parse(ev, 19 + 8 + 5, false, name, sizeof name, &pos),
                     OX_ECORRUPT);
}

static void test_binlog_index(void **state)
{
    assert_int_equal(ox_mysql_binlog_index("mysql-bin.000042"), 42);
    assert_int_equal(ox_mysql_binlog_index("a.b.7"), 7);
    assert_true(ox_mysql_binlog_index("noext") == UINT64_MAX);
    assert_true(ox_mysql_binlog_index("x.") == UINT64_MAX);
    assert_true(ox_mysql_binlog_index("x.12a") == UINT64_MAX);
}

static int never(void *arg, const ox_change *c)
{
    fail();
    return 0;
}

static void test_lifecycle_errors(void **state)
{
    const struct ox_source_ops *ops = ox_source_find("mysql");
    ox_source *s = NULL;
    ox_errbuf eb;
    ox_source_config bad = {.host = "127.0.0.1", .port = 1};
    assert_int_equal(ops->open(&bad, &s, &eb), OX_EINVAL); /* no user */
    assert_null(s);
    /* Port 1 on loopback: nothing listens, the connection is refused. */
    ox_source_config cfg = {
        .host = "127.0.0.1", .port = 1, .user = "u", .password = "secret", .connect_timeout_s = 2};
    assert_int_equal(ops->open(&cfg, &s, &eb), 0);
    assert_int_equal(ops->poll(s, never, NULL, NULL, 10, &eb), OX_ESTATE);
    ox_source_start from = {
        .kind = OX_SOURCE_FROM_FILEPOS, .file = "mysql-bin.000001", .offset = 4};
    assert_int_equal(ops->start(s, &from, &eb), OX_ECONN);
    assert_non_null(strstr(eb.msg, "cannot connect to 127.0.0.1:1"));
    const char *f;
    uint64_t off;
    ox_mysql_source_stats st;
    ox_mysql_source_stats_get(s, &st);
    assert_int_equal(st.reconnects, 0);
    (void)f;
    (void)off;
    ops->close(s);
    ops->close(NULL);
}

/* The libmariadb loaded now is the series ox_mysql_dump.c's private
 * read-ahead fields are pinned to (else every dump refuses to start). */
static void test_client_pin(void **state)
{
    ox_errbuf eb;
    assert_int_equal(ox_mysql_client_check(&eb), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_find),
        cmocka_unit_test(test_gtid_set_encode),
        cmocka_unit_test(test_rotate_and_header),
        cmocka_unit_test(test_binlog_index),
        cmocka_unit_test(test_lifecycle_errors),
        cmocka_unit_test(test_client_pin),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
