/* test_change_json.c - ox_render_json, ox_op_name and the JSON writer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ox_change.h"
#include "ox_json_out.h"
#include "ox_render.h"

static char *render(const ox_change *c, ox_buf *b)
{
    b->len = 0;
    ox_render_json(NULL, c, b);
    ox_buf_putc(b, '\0');
    return (char *)b->data;
}

static void test_op_names(void **state)
{
    assert_string_equal(ox_op_name(OX_OP_INSERT), "insert");
    assert_string_equal(ox_op_name(OX_OP_UPDATE), "update");
    assert_string_equal(ox_op_name(OX_OP_DELETE), "delete");
    assert_string_equal(ox_op_name(OX_OP_DDL), "ddl");
    assert_string_equal(ox_op_name(OX_OP_BEGIN), "begin");
    assert_string_equal(ox_op_name(OX_OP_COMMIT), "commit");
    assert_string_equal(ox_op_name(OX_OP_HEARTBEAT), "heartbeat");
    assert_string_equal(ox_op_name(0), "unknown");
    assert_string_equal(ox_op_name(99), "unknown");
}

static void test_row_record(void **state)
{
    ox_column cols[12] = {
        {.name = "id", .is_pk = true},
        {.name = "u", .is_unsigned = true},
        {.name = "f"},
        {.name = "d"},
        {.name = "dec"},
        {.name = "t\"x"},
        {.name = NULL},
        {.name = "bin"},
        {.name = "js"},
        {.name = "when"},
        {.name = "gone"},
        {.name = "nul"},
    };
    ox_value after[12] = {
        {.kind = OX_VAL_INT, .v.i = INT64_MIN},
        {.kind = OX_VAL_UINT, .v.u = UINT64_MAX},
        {.kind = OX_VAL_FLOAT, .v.d = (double)12345.679f},
        {.kind = OX_VAL_DOUBLE, .v.d = 0.1},
        {.kind = OX_VAL_DECIMAL, .v.s = "-123.4500", .len = 9},
        {.kind = OX_VAL_TEXT, .v.s = "a\"b\\c\n\x01\xf0\x9f\x98\x80\xff", .len = 12},
        {.kind = OX_VAL_TEXT, .v.s = "", .len = 0},
        {.kind = OX_VAL_BYTES, .v.s = "\x00\x01\x02\x03", .len = 4},
        {.kind = OX_VAL_JSON, .v.s = "{\"a\":[1]}", .len = 9},
        {.kind = OX_VAL_TIME, .v.s = "2024-01-02 03:04:05.600", .len = 23},
        {.kind = OX_VAL_MISSING},
        {.kind = OX_VAL_NULL},
    };
    ox_change c = {
        .op = OX_OP_INSERT,
        .db = "shop",
        .table = "t",
        .ncols = 12,
        .cols = cols,
        .after = after,
        .gtid = "0-1-42",
        .sql = "insert into t values (...)",
        .file = "mysql-bin.000003",
        .file_idx = 3,
        .offset = 1234,
        .next_offset = 1321,
        .timestamp = 1700000000,
        .server_id = 7,
    };
    ox_buf b = OX_BUF_INIT;
    assert_string_equal(
        render(&c, &b),
        "{\"op\":\"insert\",\"db\":\"shop\",\"table\":\"t\",\"pk\":[\"id\"],\"after\":{"
        "\"id\":-9223372036854775808,\"u\":18446744073709551615,\"f\":12345.679,\"d\":0.1,"
        "\"dec\":\"-123.4500\",\"t\\\"x\":\"a\\\"b\\\\c\\n\\u0001\xf0\x9f\x98\x80\xef\xbf\xbd\","
        "\"@7\":\"\",\"bin\":{\"base64\":\"AAECAw==\"},\"js\":{\"a\":[1]},"
        "\"when\":\"2024-01-02 03:04:05.600\",\"nul\":null},"
        "\"gtid\":\"0-1-42\",\"sql\":\"insert into t values (...)\","
        "\"file\":\"mysql-bin.000003\",\"fileIdx\":3,\"offset\":1234,\"nextOffset\":1321,"
        "\"timestamp\":1700000000,\"serverId\":7}");

    /* Update: both images; key order pk, before, after; explicit pk order. */
    uint32_t pk[2] = {1, 0};
    ox_value before[12];
    memcpy(before, after, sizeof before);
    before[2].kind = OX_VAL_MISSING;
    c.op = OX_OP_UPDATE;
    c.before = before;
    c.npk = 2;
    c.pk = pk;
    c.sql = NULL;
    c.gtid = NULL;
    char *s = render(&c, &b);
    assert_non_null(strstr(s, "\"pk\":[\"u\",\"id\"],\"before\":{\"id\":-9223372036854775808,"
                              "\"u\":18446744073709551615,\"d\":0.1,"));
    assert_true(strstr(s, "\"before\"") < strstr(s, "\"after\""));
    assert_null(strstr(s, "\"gtid\""));
    assert_null(strstr(s, "\"sql\""));
    ox_buf_free(&b);
}

/* A key given by is_pk flags on two columns (npk == 0), and the schema
 * flag: "pk" lists both names, "schema":"unknown" follows it. */
static void test_pk_flags_and_schema(void **state)
{
    ox_column cols[3] = {{.name = "m"}, {.name = "id", .is_pk = true}, {.is_pk = true}};
    ox_value after[3] = {
        {.kind = OX_VAL_NULL}, {.kind = OX_VAL_INT, .v.i = 3}, {.kind = OX_VAL_INT, .v.i = 4}};
    ox_change c = {.op = OX_OP_INSERT,
                   .db = "d",
                   .table = "t",
                   .ncols = 3,
                   .cols = cols,
                   .after = after,
                   .schema = OX_SCHEMA_UNKNOWN};
    ox_buf b = {0};
    const char *j = render(&c, &b);
    assert_non_null(strstr(j, ",\"pk\":[\"id\",\"@3\"],\"schema\":\"unknown\",\"after\":"));
    ox_buf_free(&b);
}

/* A composite key marked by is_pk (npk == 0): every separator is one byte
 * (a conditional of two literals passed to OX_JSON_LIT wrote sizeof(char *)
 * bytes of the one-byte ","; found by make fuzz-long, fuzz_binlog_event). */
static void test_composite_pk_by_flag(void **state)
{
    ox_column cols[3] = {{.name = "a", .is_pk = true}, {.name = "x"}, {.name = "b", .is_pk = true}};
    ox_change c;
    memset(&c, 0, sizeof c);
    c.db = "d";
    c.table = "t";
    c.cols = cols;
    c.ncols = 3;
    c.op = OX_OP_COMMIT;
    ox_buf b = OX_BUF_INIT;
    assert_non_null(strstr(render(&c, &b), ",\"db\":\"d\",\"table\":\"t\",\"pk\":[\"a\",\"b\"],"));
    ox_buf_free(&b);
}

static void test_control_records(void **state)
{
    ox_buf b = OX_BUF_INIT;
    ox_change c = {.op = OX_OP_COMMIT, .xid = 99, .offset = 10, .next_offset = 41};
    assert_string_equal(render(&c, &b), "{\"op\":\"commit\",\"xid\":99,\"fileIdx\":0,"
                                        "\"offset\":10,\"nextOffset\":41,\"timestamp\":0,"
                                        "\"serverId\":0}");
    /* xid only on commits. */
    c.op = OX_OP_BEGIN;
    assert_null(strstr(render(&c, &b), "xid"));
    c.op = OX_OP_DDL;
    c.db = "d";
    c.sql = "CREATE TABLE `t` (a int)";
    c.timestamp = -1;
    assert_string_equal(render(&c, &b), "{\"op\":\"ddl\",\"db\":\"d\","
                                        "\"sql\":\"CREATE TABLE `t` (a int)\",\"fileIdx\":0,"
                                        "\"offset\":10,\"nextOffset\":41,\"timestamp\":-1,"
                                        "\"serverId\":0}");
    ox_change j = {.op = OX_OP_UPDATE, .ncols = 1};
    ox_column col = {.name = "doc"};
    ox_value v = {.kind = OX_VAL_JSON_DIFF, .v.s = "[{\"op\":\"remove\",\"path\":\"$.a\"}]"};
    v.len = (uint32_t)strlen(v.v.s);
    j.cols = &col;
    j.after = &v;
    assert_non_null(strstr(render(&j, &b), "\"after\":{\"doc\":{\"$jsonDiff\":[{\"op\":"
                                           "\"remove\",\"path\":\"$.a\"}]}}"));
    ox_buf_free(&b);
}

static void test_ddl_record(void **state)
{
    ox_buf b = OX_BUF_INIT;
    ox_change_target tg[2] = {{"ddl", "a", "other", "a2"}, {"ddl", "b", NULL, NULL}};
    ox_change c = {.op = OX_OP_DDL,
                   .ddl_kind = "rename_table",
                   .db = "ddl",
                   .table = "a",
                   .ntargets = 2,
                   .targets = tg,
                   .session_db = "x",
                   .sql = "RENAME TABLE a TO other.a2, b TO b",
                   .next_offset = 5};
    assert_string_equal(
        render(&c, &b),
        "{\"op\":\"ddl\",\"kind\":\"rename_table\",\"db\":\"ddl\",\"table\":\"a\","
        "\"newDb\":\"other\",\"newTable\":\"a2\",\"tables\":[{\"db\":\"ddl\",\"table\":"
        "\"a\",\"newDb\":\"other\",\"newTable\":\"a2\"},{\"db\":\"ddl\",\"table\":\"b\"}],"
        "\"sessionDb\":\"x\",\"sql\":\"RENAME TABLE a TO other.a2, b TO b\",\"fileIdx\":0,"
        "\"offset\":0,\"nextOffset\":5,\"timestamp\":0,\"serverId\":0}");
    ox_change u = {.op = OX_OP_DDL, .ddl_kind = "other", .ddl_unparsed = true, .sql = "FROB"};
    assert_string_equal(render(&u, &b), "{\"op\":\"ddl\",\"kind\":\"other\",\"parsed\":false,"
                                        "\"sql\":\"FROB\",\"fileIdx\":0,\"offset\":0,"
                                        "\"nextOffset\":0,\"timestamp\":0,\"serverId\":0}");
    ox_change a = {.op = OX_OP_DDL, .ddl_kind = "account"};
    assert_string_equal(render(&a, &b), "{\"op\":\"ddl\",\"kind\":\"account\",\"fileIdx\":0,"
                                        "\"offset\":0,\"nextOffset\":0,\"timestamp\":0,"
                                        "\"serverId\":0}");
    ox_buf_free(&b);
}

static void test_writer(void **state)
{
    char p[40];
    assert_int_equal(ox_fmt_u64(p, 0), 1);
    assert_memory_equal(p, "0", 1);
    assert_int_equal(ox_fmt_u64(p, 18446744073709551615ull), 20);
    assert_memory_equal(p, "18446744073709551615", 20);
    assert_int_equal(ox_fmt_i64(p, -5), 2);
    assert_memory_equal(p, "-5", 2);
    struct {
        double v;
        const char *want;
    } dc[] = {{0.1, "0.1"},
              {-2.5, "-2.5"},
              {100, "100"},
              {1e100, "1e+100"},
              {0.3, "0.3"},
              {0, "0"},
              {651.592973, "651.592973"},
              {1.0 / 3, "0.3333333333333333"}};
    for (size_t i = 0; i < sizeof dc / sizeof dc[0]; i++) {
        size_t n = ox_fmt_double(p, dc[i].v);
        p[n] = '\0';
        assert_string_equal(p, dc[i].want);
    }
    struct {
        float v;
        const char *want;
    } fc[] = {{12345.679f, "12345.679"},
              {1.1f, "1.1"},
              {0.1f, "0.1"},
              {1e30f, "1e+30"},
              {-3.25f, "-3.25"}};
    for (size_t i = 0; i < sizeof fc / sizeof fc[0]; i++) {
        size_t n = ox_fmt_float(p, fc[i].v);
        p[n] = '\0';
        assert_string_equal(p, fc[i].want);
    }
    ox_buf b = OX_BUF_INIT;
    ox_base64(&b, (const uint8_t *)"a", 1);
    ox_base64(&b, (const uint8_t *)"ab", 2);
    ox_base64(&b, (const uint8_t *)"abc", 3);
    ox_buf_putc(&b, 0);
    assert_string_equal((char *)b.data, "YQ==YWI=YWJj");
    assert_true(ox_utf8_valid((const uint8_t *)"h\xc3\xa9", 3));
    assert_false(ox_utf8_valid((const uint8_t *)"\xc0\x80", 2));     /* overlong */
    assert_false(ox_utf8_valid((const uint8_t *)"\xed\xa0\x80", 3)); /* surrogate */
    assert_false(ox_utf8_valid((const uint8_t *)"\xf4\x90\x80\x80", 4));
    assert_false(ox_utf8_valid((const uint8_t *)"\xe2\x82", 2)); /* truncated */
    ox_buf_free(&b);
}

/* Renders c with renderer r and without one; both must give the same bytes.
 * Returns the cached rendering (valid until the next call). */
static const char *render_both(ox_render *r, const ox_change *c)
{
    static ox_buf cached, plain;
    cached.len = plain.len = 0;
    ox_render_json(r, c, &cached);
    ox_render_json(NULL, c, &plain);
    ox_buf_putc(&cached, '\0');
    ox_buf_putc(&plain, '\0');
    assert_string_equal((char *)cached.data, (char *)plain.data);
    return (const char *)cached.data;
}

/* The renderer's caches follow table_version and event_version: a new
 * version (a changed table, a new event) is rendered anew, the same
 * version reuses, and versions that share a cache slot do not mix. */
static void test_render_caches(void **state)
{
    ox_render *r = ox_render_create();
    ox_column cols[2] = {{.name = "id", .is_pk = true}, {.name = "v"}};
    ox_value after[2] = {{.kind = OX_VAL_INT, .v.i = 1},
                         {.kind = OX_VAL_TEXT, .v.s = "x", .len = 1}};
    char gtid[16] = "0-1-5";
    ox_change c = {.op = OX_OP_INSERT,
                   .db = "d",
                   .table = "t",
                   .ncols = 2,
                   .cols = cols,
                   .after = after,
                   .gtid = gtid,
                   .offset = 100,
                   .table_version = ox_change_version_new(),
                   .event_version = ox_change_version_new()};
    assert_string_equal(render_both(r, &c),
                        "{\"op\":\"insert\",\"db\":\"d\",\"table\":\"t\",\"pk\":[\"id\"],"
                        "\"after\":{\"id\":1,\"v\":\"x\"},\"gtid\":\"0-1-5\",\"fileIdx\":0,"
                        "\"offset\":100,\"nextOffset\":0,\"timestamp\":0,\"serverId\":0}");
    /* Same versions: the second row reuses both caches. */
    after[0].v.i = 2;
    assert_non_null(strstr(render_both(r, &c), "\"after\":{\"id\":2,"));
    /* A renamed column and a new event at the same address: new versions. */
    cols[1].name = "w";
    strcpy(gtid, "0-1-6");
    c.offset = 200;
    c.table_version = ox_change_version_new();
    c.event_version = ox_change_version_new();
    const char *j = render_both(r, &c);
    assert_non_null(strstr(j, "\"w\":\"x\""));
    assert_non_null(strstr(j, "\"gtid\":\"0-1-6\",\"fileIdx\":0,\"offset\":200"));
    /* A row with the statement text does not take (or leave) the memo. */
    c.sql = "INSERT INTO t VALUES (2,'x')";
    assert_non_null(strstr(render_both(r, &c), "\"sql\":\"INSERT INTO t"));
    c.sql = NULL;
    assert_null(strstr(render_both(r, &c), "\"sql\""));
    /* Two tables in one cache slot (versions 512 apart): each keeps its
     * own keys, however they alternate. */
    ox_column other[2] = {{.name = "a"}, {.name = "b"}};
    ox_change o = c;
    o.cols = other;
    o.table = "u";
    o.table_version = ox_change_version_new();
    for (int i = 0; i < 511; i++)
        (void)ox_change_version_new();
    c.table_version = ox_change_version_new();
    assert_int_equal(c.table_version - o.table_version, 512);
    for (int i = 0; i < 6; i++) {
        ox_change *x = i % 3 ? &c : &o;
        j = render_both(r, x);
        assert_non_null(strstr(j, x == &o ? "\"a\":2,\"b\":\"x\"" : "\"id\":2,\"w\":\"x\""));
    }
    /* Version 0: no promise, rendered field by field. */
    c.table_version = c.event_version = 0;
    cols[0].name = "key";
    assert_non_null(strstr(render_both(r, &c), "\"pk\":[\"key\"],\"after\":{\"key\":2,"));
    ox_render_free(r);
    ox_render_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_op_names),
        cmocka_unit_test(test_row_record),
        cmocka_unit_test(test_control_records),
        cmocka_unit_test(test_pk_flags_and_schema),
        cmocka_unit_test(test_composite_pk_by_flag),
        cmocka_unit_test(test_ddl_record),
        cmocka_unit_test(test_writer),
        cmocka_unit_test(test_render_caches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
