/*
 * test_binlog_fixtures.c - every captured binlog in tests/data/binlog/
 * decodes (or, for the malformed ones, fails with file and offset), with
 * values checked against the fixture README and by hand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ox_binlog.h"
#include "ox_buf.h"
#include "ox_change.h"
#include "ox_render.h"

#define DATA OX_SOURCE_DIR "/tests/data/binlog/"

typedef struct collect {
    ox_buf out;
    unsigned ops[8];
    unsigned rows;
} collect;

static int on_change(void *arg, const ox_change *c)
{
    collect *k = arg;
    ox_render_json(NULL, c, &k->out);
    ox_buf_putc(&k->out, '\n');
    if (c->op < 8)
        k->ops[c->op]++;
    return 0;
}

/* Decodes DATA/name; returns the JSON lines (NUL-terminated, caller frees
 * with collect_free) and the decoder's return code in *rc. */
static const char *decode(const char *name, collect *k, int *rc, ox_errbuf *eb)
{
    memset(k, 0, sizeof *k);
    char path[512];
    snprintf(path, sizeof path, DATA "%s", name);
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    memset(eb, 0, sizeof *eb);
    *rc = ox_binlog_decode_file(d, path, on_change, k, eb);
    ox_binlog_stats st;
    ox_binlog_decoder_stats(d, &st);
    k->rows = (unsigned)st.rows;
    ox_binlog_decoder_free(d);
    ox_buf_putc(&k->out, '\0');
    return (const char *)k->out.data;
}

static const char *decode_ok(const char *name, collect *k)
{
    int rc;
    ox_errbuf eb;
    const char *text = decode(name, k, &rc, &eb);
    if (rc != 0)
        fail_msg("%s: %s", name, eb.msg);
    return text;
}

#define HAS(text, needle)                                                                          \
    do {                                                                                           \
        if (strstr((text), (needle)) == NULL)                                                      \
            fail_msg("missing: %s", (needle));                                                     \
    } while (0)

static const char *const good_files[] = {
    "aurora57-padding-event100.binlog",
    "mariadb100-checksum-none.binlog",
    "mariadb105-fullmeta.binlog",
    "mysql51-incident.binlog",
    "mysql51-ndb-update-partial-row.binlog",
    "mysql51-ndb-write-partial-row.binlog",
    "mysql55-sakila.binlog.gz",
    "mysql56-4-rows-v2-load-rand-uservar.binlog",
    "mysql56-41-gtid.binlog",
    "mysql57-20-checksum-none.binlog",
    "mysql57-21-crc32.binlog",
    "mysql57-22-utf8mb4-collation.binlog",
    "mysql57-23-all-types.binlog",
    "mysql57-30-load-data.binlog",
    "mysql57-30-rand.binlog",
    "mysql57-30-rows-query.binlog",
    "mysql57-30-user-var-intvar.binlog",
    "mysql57-40-gtid-rows.binlog",
    "mysql57-6-anonymous-gtid.binlog",
    "mysql80-17-hidden-gcol.binlog",
    "mysql80-22-json-partial-update.binlog",
    "mysql80-26-bit-fullmeta.binlog",
    "mysql80-26-invisible-columns-fullmeta.binlog",
    "mysql80-28-enum-set-fullmeta.binlog",
    "mysql80-28-transaction-compression-update.binlog",
    "mysql80-29-gtid-ddl-dml.binlog",
    "mysql80-31-mixed-dml.binlog",
    "mysql80-31-transaction-compression-json-rowsquery.binlog",
    "mysql80-32-transaction-compression-zstd.binlog",
    "mysql80-40-minimal-row-metadata.binlog",
    "mysql80-40-previous-gtids-only.binlog",
    "mysql80-40-time-hour-overflow.binlog",
    "mysql82-int-types-dml.binlog",
    "mysql84-fullmeta-alltypes.binlog",
    "mysql84-minimal-alltypes.binlog",
    "mysql90-json-opaque.binlog",
    "mysql90-vector-fullmeta.binlog",
    "mysql96-gtid-tagged.binlog",
    "percona56-decimal.binlog",
};

static void test_all_decode(void **state)
{
    for (size_t i = 0; i < sizeof good_files / sizeof good_files[0]; i++) {
        collect k;
        decode_ok(good_files[i], &k);
        /* Every transaction that began also ended (the Aurora capture
         * stops inside one). */
        if (strncmp(good_files[i], "aurora", 6) != 0)
            assert_int_equal(k.ops[OX_OP_BEGIN], k.ops[OX_OP_COMMIT]);
        ox_buf_free(&k.out);
    }
}

static void test_malformed(void **state)
{
    collect k;
    int rc;
    ox_errbuf eb;
    decode("malformed-truncated-header.binlog", &k, &rc, &eb);
    assert_int_equal(rc, OX_ETRUNC);
    HAS(eb.msg, "malformed-truncated-header.binlog offset 4:");
    ox_buf_free(&k.out);
    decode("malformed-truncated-prev-gtids.binlog", &k, &rc, &eb);
    assert_int_equal(rc, OX_ETRUNC);
    HAS(eb.msg, "malformed-truncated-prev-gtids.binlog offset 120:");
    ox_buf_free(&k.out);
    decode("README.md", &k, &rc, &eb);
    assert_int_equal(rc, OX_ECORRUPT);
    HAS(eb.msg, "offset 0: not a binlog file");
    ox_buf_free(&k.out);
    decode("no-such-file.binlog", &k, &rc, &eb);
    assert_int_equal(rc, OX_ENOENT);
    ox_buf_free(&k.out);
}

static void test_decimals(void **state)
{
    collect k;
    const char *t = decode_ok("percona56-decimal.binlog", &k);
    assert_int_equal(k.ops[OX_OP_INSERT], 17);
    HAS(t, "{\"@1\":1,\"@2\":\"-10.55\",\"@3\":\"-11\",\"@4\":\"-10.550\",\"@5\":\"-10.55\","
           "\"@6\":\"-10.550\",\"@7\":\"-10.55\",\"@8\":\"-9.99999999999999\","
           "\"@9\":\"-10.5500000000\",\"@10\":\"-10.55000\","
           "\"@11\":\"-10.55000000000000000000\",\"@12\":\"-10.5500000000000000000000000\","
           "\"@13\":4,\"@14\":2}");
    HAS(t, "\"@8\":\"-0.00000001234500\",\"@9\":\"-0.0000000123\",\"@10\":\"0.00000\","
           "\"@11\":\"-0.00000001234500009877\"");
    HAS(t, "\"@9\":\"9999999999.9999999999\",\"@10\":\"1234500009876.50000\"");
    ox_buf_free(&k.out);
}

static void test_enum_set_fullmeta(void **state)
{
    collect k;
    const char *t = decode_ok("mysql80-28-enum-set-fullmeta.binlog", &k);
    HAS(t, "\"f3\":\"var1\",\"f4\":\"one,three\",\"f5\":\"0123456789\"}");
    HAS(t, "\"after\":{\"f1\":\"field1\",\"f2\":\"field_2\",\"f3\":\"variant2\","
           "\"f4\":\"two,four\"");
    HAS(t, "\"gtid\":\"93e95066-a2f4-11ec-9b69-9657f0ae95e2:3\",\"xid\":50");
    assert_int_equal(k.ops[OX_OP_INSERT], 1);
    assert_int_equal(k.ops[OX_OP_UPDATE], 1);
    assert_int_equal(k.ops[OX_OP_DELETE], 1);
    ox_buf_free(&k.out);
}

static void test_json_partial_update(void **state)
{
    collect k;
    const char *t = decode_ok("mysql80-22-json-partial-update.binlog", &k);
    HAS(t, "\"after\":{\"@1\":1,\"@2\":{\"age\":24,\"data\":\"xxxxxxxxxx\",\"name\":\"Joe\"},"
           "\"@3\":\"Joe\",\"@4\":24}");
    /* The PARTIAL_UPDATE_ROWS event: a minimal before image and JSON diffs. */
    HAS(t, "\"before\":{\"@1\":1},\"after\":{\"@2\":{\"$jsonDiff\":[{\"op\":\"replace\","
           "\"path\":\"$.age\",\"value\":26}]},\"@3\":\"Joe\",\"@4\":26}");
    HAS(t, "{\"$jsonDiff\":[{\"op\":\"replace\",\"path\":\"$.age\",\"value\":42}]}");
    assert_int_equal(k.ops[OX_OP_UPDATE], 12);
    ox_buf_free(&k.out);
}

static void test_transaction_payloads(void **state)
{
    collect k;
    const char *t = decode_ok("mysql80-32-transaction-compression-zstd.binlog", &k);
    /* Every record from the payload carries the payload event's position. */
    HAS(t, "{\"op\":\"insert\",\"db\":\"test\",\"table\":\"tb1\",\"after\":{\"@1\":1},"
           "\"file\":\"mysql80-32-transaction-compression-zstd.binlog\",\"fileIdx\":0,"
           "\"offset\":274,\"nextOffset\":431,");
    HAS(t, "\"op\":\"commit\",\"xid\":");
    ox_buf_free(&k.out);

    t = decode_ok("mysql80-28-transaction-compression-update.binlog", &k);
    assert_int_equal(k.ops[OX_OP_UPDATE], 1);
    HAS(t, "\"before\":{\"@1\":1,\"@2\":\"Once Upon a Time in the West\",\"@3\":1968,"
           "\"@4\":\"Italy\",\"@5\":\"Western\"");
    ox_buf_free(&k.out);

    t = decode_ok("mysql80-31-transaction-compression-json-rowsquery.binlog", &k);
    HAS(t, "\"gtid\":\"76f3e7be-6720-11ed-9cad-0242ac110002:12\",\"sql\":\"insert into b "
           "values(1)\"");
    HAS(t, "\"@10\":{\"c\":1}");
    assert_int_equal(k.ops[OX_OP_COMMIT], 2);
    ox_buf_free(&k.out);
}

static void test_all_types_57(void **state)
{
    collect k;
    const char *t = decode_ok("mysql57-23-all-types.binlog", &k);
    HAS(t, "\"after\":{\"@1\":11,\"@2\":121,\"@3\":12341,\"@4\":1234561,\"@5\":123456789,"
           "\"@6\":1234567890987654321,\"@7\":12345.679,\"@8\":123456789.09876543,"
           "\"@9\":\"1234567890112233445566778899001112223334445556667778889.9900011112\","
           "\"@10\":\"Bsd234234 234234 zdfsfsdfsdf\",\"@11\":\"Hello world!\"");
    HAS(t, "\"@13\":{\"id\":1,\"name\":\"John\"}");
    HAS(t, "\"@15\":129324935,\"@16\":2,\"@17\":4,\"@18\":1989,\"@19\":\"1985-10-23\","
           "\"@20\":\"1988-11-27 14:12:13.345\",\"@21\":\"15:22:33.67\","
           "\"@22\":\"1985-10-13 10:22:23.567\"}");
    ox_buf_free(&k.out);
}

static void test_all_types_84(void **state)
{
    collect k;
    const char *t = decode_ok("mysql84-fullmeta-alltypes.binlog", &k);
    HAS(t,
        "\"pk\":[\"id\"],\"after\":{\"id\":1,\"i_big\":9223372036854775807,"
        "\"u_big\":18446744073709551615,\"dec_col\":\"-12345678901234567.0123456789\","
        "\"vc\":\"h\xc3\xa9llo w\xc3\xb6rld\",\"ch\":\"abc\",\"bin_col\":{\"base64\":\"3q2+7w==\"},"
        "\"vb\":{\"base64\":\"AQI=\"},\"txt\":\"text value\",\"blb\":{\"base64\":\"yv4=\"},"
        "\"flt\":1.25,\"dbl\":-2.5,\"dt\":\"2024-06-15 12:34:56.789\","
        "\"ts\":\"2024-06-15 12:34:56\",\"d\":\"2024-06-15\",\"t\":\"-01:02:03.500\","
        "\"y\":2024,\"e\":\"b\",\"e2\":\"c'd\",\"s\":\"x,z\",\"bt\":513,"
        "\"js\":{\"a\":1,\"d\":1.5,\"arr\":[\"x\",true,null],\"big\":9223372036854775807},"
        "\"geo\":{\"base64\":\"AAAAAAEBAAAAAAAAAAAA8D8AAAAAAAAAQA==\"},"
        "\"txt_latin1\":\"caf\xc3\xa9 \xc3\xb1\","
        /* latin1 0x9f 0x80 is Windows-1252 "\u0178\u20ac" */
        "\"vc_latin1\":\"\xc5\xb8\xe2\x82\xac se\xc3\xb1or\","
        "\"vc_ucs2\":\"h\xc3\xa9llo\"}");
    /* ROWS_QUERY text on the row it annotates; NULLs. */
    HAS(t, "\"after\":{\"id\":3,\"i_big\":null,");
    HAS(t, "\"sql\":\"INSERT INTO capture_types (id) VALUES (3)\"");
    /* Stream capture: artificial ROTATE + FORMAT_DESCRIPTION before the rest. */
    assert_int_equal(k.ops[OX_OP_DELETE], 1);
    ox_buf_free(&k.out);

    t = decode_ok("mysql84-minimal-alltypes.binlog", &k);
    /* No column names: positional keys. */
    HAS(t, "\"after\":{\"@1\":1,");
    assert_int_equal(k.ops[OX_OP_INSERT], 2);
    ox_buf_free(&k.out);
}

static void test_temporal_and_gtids(void **state)
{
    collect k;
    const char *t = decode_ok("mysql80-40-time-hour-overflow.binlog", &k);
    HAS(t, "\"after\":{\"@1\":\"-507:48:27\"}");
    ox_buf_free(&k.out);

    t = decode_ok("mysql96-gtid-tagged.binlog", &k);
    HAS(t, "{\"op\":\"begin\",\"gtid\":\"55778904-0299-11f1-b1b8-4ef0c4956feb:mytag:3\"");
    HAS(t, "\"after\":{\"@1\":3,\"@2\":100,\"@3\":\"250.00\"}");
    ox_buf_free(&k.out);

    t = decode_ok("mariadb100-checksum-none.binlog", &k);
    HAS(t, "{\"op\":\"ddl\",\"kind\":\"create_table\",\"db\":\"test_db\",\"table\":"
           "\"departments\",\"sessionDb\":\"test_db\",\"gtid\":\"0-3704-2815\",\"sql\":"
           "\"CREATE TABLE");
    HAS(t, "{\"op\":\"begin\",\"gtid\":\"0-3704-2816\"");
    HAS(t, "\"after\":{\"@1\":\"RST\",\"@2\":\"XYZ\"}");
    HAS(t, "\"xid\":456");
    ox_buf_free(&k.out);

    t = decode_ok("mariadb105-fullmeta.binlog", &k);
    HAS(t, "{\"op\":\"insert\",\"db\":\"toddy_test\",\"table\":\"outbox\",\"pk\":[\"id\"],"
           "\"after\":{\"id\":62,\"topic\":\"foo\",\"event_type\":\"JSON\","
           "\"event\":{\"base64\":\"eyJmb28iOjF9\"},\"created\":\"2022-04-20 22:18:04\"},"
           "\"gtid\":\"0-1-1\",\"sql\":\"insert into outbox");
    ox_buf_free(&k.out);

    t = decode_ok("mysql57-40-gtid-rows.binlog", &k);
    assert_int_equal(k.ops[OX_OP_BEGIN], k.ops[OX_OP_COMMIT]);
    assert_true(k.ops[OX_OP_INSERT] >= 3);
    ox_buf_free(&k.out);
}

static void test_json_opaque_and_vector(void **state)
{
    collect k;
    const char *t = decode_ok("mysql90-json-opaque.binlog", &k);
    HAS(t, "\"after\":{\"a\":{\"b\":\"2012-03-18\"}}");
    HAS(t, "\"after\":{\"a\":{\"c\":\"2012-03-18 11:30:45.000000\"}}");
    HAS(t, "\"after\":{\"a\":{\"c\":\"87:31:46.654321\"}}");
    HAS(t, "\"after\":{\"a\":{\"d\":123.456}}");
    HAS(t, "\"after\":{\"a\":{\"e\":9.00}}");
    HAS(t, "\"after\":{\"a\":{\"a\":\"base64:type15:VQ==\"}}");
    ox_buf_free(&k.out);

    t = decode_ok("mysql90-vector-fullmeta.binlog", &k);
    HAS(t, "\"pk\":[\"id\"],\"after\":{\"id\":1,\"vector_column\":[1.1,2.2,3.3]}");
    HAS(t, "\"after\":{\"id\":1,\"vector_column\":[1.1,2.2],\"foo\":null,"
           "\"vector_column2\":[1.1,2.2,3.3,4.4]}");
    ox_buf_free(&k.out);

    t = decode_ok("mysql80-26-bit-fullmeta.binlog", &k);
    assert_int_equal(k.ops[OX_OP_INSERT], 1);
    ox_buf_free(&k.out);
}

static void test_partial_images_and_v1(void **state)
{
    collect k;
    const char *t = decode_ok("mysql51-ndb-update-partial-row.binlog", &k);
    /* Columns absent from the image are omitted. */
    HAS(t, "\"before\":{\"@1\":4,\"@3\":4},\"after\":{\"@1\":4,\"@3\":40}");
    HAS(t, "{\"op\":\"delete\",\"db\":\"test\",\"table\":\"ba\",\"before\":{\"@1\":2}");
    ox_buf_free(&k.out);

    t = decode_ok("mysql55-sakila.binlog.gz", &k);
    assert_int_equal(k.ops[OX_OP_INSERT], 47273);
    assert_int_equal(k.rows, 47273);
    HAS(t, "{\"op\":\"insert\",\"db\":\"sakila\",\"table\":\"actor\",\"after\":{\"@1\":1,"
           "\"@2\":\"PENELOPE\",\"@3\":\"GUINESS\",\"@4\":\"2006-02-15 03:34:33\"},"
           "\"file\":\"mysql55-sakila.binlog\"");
    ox_buf_free(&k.out);

    t = decode_ok("aurora57-padding-event100.binlog", &k);
    /* The unknown event type 100 is skipped; the BEGIN before it decodes. */
    HAS(t, "{\"op\":\"begin\",\"file\":\"aurora57-padding-event100.binlog\"");
    ox_buf_free(&k.out);
}

typedef struct hook_ctx {
    int calls;
    int rc;
    char last[128];
} hook_ctx;

static int columns_hook(void *arg, const char *db, const char *table, uint32_t ncols, char **names,
                        bool *is_pk, bool *is_text)
{
    hook_ctx *h = arg;
    h->calls++;
    snprintf(h->last, sizeof h->last, "%s.%s/%u", db, table, ncols);
    if (h->rc != 0)
        return h->rc;
    static char buf[64][8];
    for (uint32_t i = 0; i < ncols && i < 64; i++) {
        snprintf(buf[i], sizeof buf[i], "c%u", i + 1);
        names[i] = buf[i];
        is_text[i] = i != 11; /* column 12 of mysqlcdc is VARBINARY */
    }
    is_pk[0] = true;
    return 0;
}

static const char *decode_hooked(const char *name, collect *k, hook_ctx *h, int *rc, ox_errbuf *eb)
{
    memset(k, 0, sizeof *k);
    char path[512];
    snprintf(path, sizeof path, DATA "%s", name);
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    ox_binlog_decoder_set_columns_fn(d, columns_hook, h);
    *rc = ox_binlog_decode_file(d, path, on_change, k, eb);
    ox_binlog_decoder_free(d);
    ox_buf_putc(&k->out, '\0');
    return (const char *)k->out.data;
}

/* Without COLUMN_NAME metadata the schema hook names the columns, marks
 * the key and decides text vs binary for columns of unknown charset. */
static void test_schema_hook(void **state)
{
    collect k;
    hook_ctx h = {0};
    int rc;
    ox_errbuf eb;
    const char *t = decode_hooked("mysql57-23-all-types.binlog", &k, &h, &rc, &eb);
    assert_int_equal(rc, 0);
    /* One call for the table, although it is mapped in three transactions. */
    assert_int_equal(h.calls, 1);
    assert_string_equal(h.last, "test.mysqlcdc/22");
    HAS(t, "\"pk\":[\"c1\"],\"after\":{\"c1\":11,\"c2\":121,");
    HAS(t, "\"c12\":{\"base64\":\"EjRWRTRFRTQ=\"}");
    HAS(t, "\"c14\":\"\\u0015#T\"");
    ox_buf_free(&k.out);

    /* OX_ENOENT: positional names. */
    h = (hook_ctx){.rc = OX_ENOENT};
    t = decode_hooked("mysql57-23-all-types.binlog", &k, &h, &rc, &eb);
    assert_int_equal(rc, 0);
    HAS(t, "\"after\":{\"@1\":11,");
    ox_buf_free(&k.out);

    /* Any other error stops decoding, naming the table and the position. */
    h = (hook_ctx){.rc = OX_EDB};
    decode_hooked("mysql57-23-all-types.binlog", &k, &h, &rc, &eb);
    assert_int_equal(rc, OX_EDB);
    HAS(eb.msg, "offset ");
    HAS(eb.msg, "test.mysqlcdc");
    ox_buf_free(&k.out);

    /* FULL metadata: the hook is not consulted. */
    h = (hook_ctx){0};
    decode_hooked("mysql80-28-enum-set-fullmeta.binlog", &k, &h, &rc, &eb);
    assert_int_equal(rc, 0);
    assert_int_equal(h.calls, 0);
    ox_buf_free(&k.out);
}

/* Reads a whole file (test data is small). */
static uint8_t *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, DATA "%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

/* The live path: events fed one by one give the same records as the file. */
static void test_feed_matches_file(void **state)
{
    const char *names[] = {"mysql84-fullmeta-alltypes.binlog", "mariadb105-fullmeta.binlog",
                           "mysql80-31-transaction-compression-json-rowsquery.binlog"};
    for (size_t i = 0; i < 3; i++) {
        collect whole, fed;
        decode_ok(names[i], &whole);
        memset(&fed, 0, sizeof fed);
        size_t len;
        uint8_t *b = slurp(names[i], &len);
        ox_binlog_decoder *d = NULL;
        assert_int_equal(ox_binlog_decoder_create(&d), 0);
        ox_binlog_decoder_set_file(d, names[i]);
        ox_errbuf eb;
        size_t pos = 4;
        while (pos < len) {
            size_t evlen = (size_t)b[pos + 9] | (size_t)b[pos + 10] << 8 |
                           (size_t)b[pos + 11] << 16 | (size_t)b[pos + 12] << 24;
            /* The decoder copies what it keeps: hand it a private copy. */
            uint8_t *ev = malloc(evlen);
            memcpy(ev, b + pos, evlen);
            int rc = ox_binlog_decoder_feed(d, ev, evlen, pos, on_change, &fed, &eb);
            free(ev);
            if (rc != 0)
                fail_msg("%s", eb.msg);
            pos += evlen;
        }
        ox_buf_putc(&fed.out, '\0');
        /* ROTATE renames the file in the live path (not when decoding a
         * file): the stream capture's records name the server's files. */
        if (i > 0) {
            assert_string_equal((char *)fed.out.data, (char *)whole.out.data);
        } else {
            HAS((char *)fed.out.data, "\"file\":\"mysql-bin.000002\",\"fileIdx\":2,");
            assert_null(strstr((char *)fed.out.data, "mysql84-fullmeta"));
        }
        assert_int_equal(fed.ops[OX_OP_INSERT], whole.ops[OX_OP_INSERT]);
        ox_buf_free(&whole.out);
        ox_buf_free(&fed.out);
        free(b);
        ox_binlog_decoder_free(d);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_decode),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_decimals),
        cmocka_unit_test(test_enum_set_fullmeta),
        cmocka_unit_test(test_json_partial_update),
        cmocka_unit_test(test_transaction_payloads),
        cmocka_unit_test(test_all_types_57),
        cmocka_unit_test(test_all_types_84),
        cmocka_unit_test(test_temporal_and_gtids),
        cmocka_unit_test(test_json_opaque_and_vector),
        cmocka_unit_test(test_partial_images_and_v1),
        cmocka_unit_test(test_feed_matches_file),
        cmocka_unit_test(test_schema_hook),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
