/*
 * test_binlog_layouts.c - hand-built events for the layout rules that real
 * fixtures only cover for one server: which columns the TABLE_MAP charset
 * and SIGNEDNESS lists count (MariaDB counts GEOMETRY and YEAR, MySQL does
 * not), BINARY(n) padding, ENUM names in a non-UTF-8 charset, common
 * headers longer than 19 bytes, v2/v3 binlogs (decoded), v1 binlogs and
 * MySQL 5.1 pre-GA TABLE_MAP/rows events (refused by name).
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ox_binlog.h"
#include "ox_buf.h"
#include "ox_render.h"

/* An event under construction: header bytes first, then the body. */
typedef struct evb {
    uint8_t b[1024];
    size_t n;
    size_t hdr;
} evb;

static void ev_start(evb *e, uint8_t type, size_t hdr_len)
{
    memset(e, 0, sizeof *e);
    e->b[4] = type;
    e->b[5] = 1; /* server id */
    e->hdr = hdr_len;
    e->n = hdr_len;
}

static void put(evb *e, const void *p, size_t n)
{
    if (n == 0)
        return; /* p may be NULL then; memcpy must not see it */
    memcpy(e->b + e->n, p, n);
    e->n += n;
}

static void put8(evb *e, unsigned v)
{
    e->b[e->n++] = (uint8_t)v;
}

static void putle(evb *e, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        put8(e, (unsigned)(v >> (8 * i)) & 0xff);
}

/* Sets the event length in the header (offset 9) and returns the length. */
static size_t ev_end(evb *e)
{
    for (int i = 0; i < 4; i++)
        e->b[9 + i] = (uint8_t)(e->n >> (8 * i));
    return e->n;
}

typedef struct sink {
    ox_buf out;
} sink;

static int collect(void *arg, const ox_change *c)
{
    sink *s = arg;
    ox_render_json(NULL, c, &s->out);
    ox_buf_putc(&s->out, '\n');
    return 0;
}

static int feed(ox_binlog_decoder *d, evb *e, uint64_t pos, sink *s, ox_errbuf *eb)
{
    size_t n = ev_end(e);
    return ox_binlog_decoder_feed(d, e->b, n, pos, collect, s, eb);
}

static const char *text(sink *s)
{
    ox_buf_putc(&s->out, '\0');
    s->out.len--;
    return (const char *)s->out.data;
}

/* A FORMAT_DESCRIPTION without checksums for the given server version. */
static int feed_fde(ox_binlog_decoder *d, const char *version, unsigned hdr_len, sink *s,
                    ox_errbuf *eb)
{
    evb e;
    ev_start(&e, 15, 19);
    putle(&e, 4, 2);
    char ver[50] = {0};
    snprintf(ver, sizeof ver, "%s", version);
    put(&e, ver, 50);
    putle(&e, 0, 4);
    put8(&e, hdr_len);
    uint8_t post[42] = {0};
    post[2 - 1] = 13; /* QUERY */
    post[4 - 1] = 8;  /* ROTATE */
    post[19 - 1] = 8; /* TABLE_MAP */
    for (int t = 20; t <= 25; t++)
        post[t - 1] = 8;
    for (int t = 30; t <= 32; t++)
        post[t - 1] = 10;
    put(&e, post, sizeof post);
    if (strstr(version, "MariaDB") || strncmp(version, "8.", 2) == 0) {
        put8(&e, 0); /* checksum_alg: none */
        putle(&e, 0, 4);
    }
    return feed(d, &e, 4, s, eb);
}

static void table_map_head(evb *e, const char *db, const char *table, const uint8_t *types,
                           size_t ncols, const uint8_t *meta, size_t metalen)
{
    ev_start(e, 19, 19);
    putle(e, 42, 6); /* table id */
    putle(e, 1, 2);
    put8(e, (unsigned)strlen(db));
    put(e, db, strlen(db) + 1);
    put8(e, (unsigned)strlen(table));
    put(e, table, strlen(table) + 1);
    put8(e, (unsigned)ncols);
    put(e, types, ncols);
    put8(e, (unsigned)metalen);
    put(e, meta, metalen);
    put8(e, 0xff); /* nullable bitmap (<= 8 columns) */
}

static void rows_head(evb *e, size_t ncols)
{
    ev_start(e, 30, 19);
    putle(e, 42, 6);
    putle(e, 1, 2); /* STMT_END_F */
    putle(e, 2, 2); /* extra data: just its length */
    put8(e, (unsigned)ncols);
    put8(e, (1u << ncols) - 1); /* every column present */
    put8(e, 0);                 /* row: no NULLs */
}

/* id INT, g GEOMETRY, tx TEXT (utf8mb4), bl BLOB: the charset list counts
 * g on MariaDB and not on MySQL; either way tx is text and bl bytes. */
static void check_geometry_charset(const char *version, unsigned tx_index)
{
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    sink s = {OX_BUF_INIT};
    ox_errbuf eb;
    assert_int_equal(feed_fde(d, version, 19, &s, &eb), 0);
    evb e;
    const uint8_t types[] = {3, 255, 252, 252};
    const uint8_t meta[] = {4, 2, 2};
    table_map_head(&e, "shop", "b9", types, 4, meta, sizeof meta);
    put8(&e, 4); /* COLUMN_NAME */
    put8(&e, 11);
    put(&e,
        "\x02id\x01g\x02tx\x02"
        "bl",
        11);
    put8(&e, 2); /* DEFAULT_CHARSET: binary, then tx -> utf8mb4_general_ci */
    put8(&e, 3);
    put8(&e, 63);
    put8(&e, tx_index);
    put8(&e, 45);
    assert_int_equal(feed(d, &e, 100, &s, &eb), 0);
    rows_head(&e, 4);
    putle(&e, 1, 4);
    putle(&e, 2, 4);
    put(&e, "gg", 2);
    putle(&e, 3, 2);
    put(&e, "abc", 3);
    putle(&e, 2, 2);
    put(&e, "\xff\x00", 2);
    assert_int_equal(feed(d, &e, 200, &s, &eb), 0);
    assert_non_null(strstr(text(&s), "\"tx\":\"abc\",\"bl\":{\"base64\":\"/wA=\"}"));
    ox_buf_free(&s.out);
    ox_binlog_decoder_free(d);
}

static void test_geometry_in_charset_list(void **state)
{
    (void)state;
    check_geometry_charset("10.11.19-MariaDB-log", 1);
    check_geometry_charset("8.0.36", 0);
}

/* YEAR, BIGINT, BIGINT UNSIGNED: MariaDB gives YEAR a SIGNEDNESS bit,
 * MySQL does not. */
static void check_year_signedness(const char *version, unsigned bits)
{
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    sink s = {OX_BUF_INIT};
    ox_errbuf eb;
    assert_int_equal(feed_fde(d, version, 19, &s, &eb), 0);
    evb e;
    const uint8_t types[] = {13, 8, 8};
    table_map_head(&e, "db", "t", types, 3, NULL, 0);
    put8(&e, 1); /* SIGNEDNESS */
    put8(&e, 1);
    put8(&e, bits);
    assert_int_equal(feed(d, &e, 100, &s, &eb), 0);
    rows_head(&e, 3);
    put8(&e, 124);
    putle(&e, UINT64_MAX, 8);
    putle(&e, UINT64_MAX, 8);
    assert_int_equal(feed(d, &e, 200, &s, &eb), 0);
    assert_non_null(strstr(text(&s), "\"@1\":2024,\"@2\":-1,\"@3\":18446744073709551615"));
    ox_buf_free(&s.out);
    ox_binlog_decoder_free(d);
}

static void test_year_in_signedness(void **state)
{
    (void)state;
    check_year_signedness("10.11.19-MariaDB-log", 0xa0);
    check_year_signedness("8.0.36", 0x40);
}

/* BINARY(4) gets its stripped 0x00 bytes back; CHAR(4) text does not get
 * spaces; ENUM names in latin1 come out as UTF-8. */
static void test_binary_padding_and_enum_names(void **state)
{
    (void)state;
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    sink s = {OX_BUF_INIT};
    ox_errbuf eb;
    assert_int_equal(feed_fde(d, "10.11.19-MariaDB-log", 19, &s, &eb), 0);
    evb e;
    const uint8_t types[] = {254, 254, 254};
    const uint8_t meta[] = {0xfe, 4, 0xfe, 16, 0xf7, 1};
    table_map_head(&e, "db", "t", types, 3, meta, sizeof meta);
    put8(&e, 3); /* COLUMN_CHARSET: binary, utf8mb4 */
    put8(&e, 2);
    put8(&e, 63);
    put8(&e, 45);
    put8(&e, 6); /* ENUM_STR_VALUE: 2 names, latin1 bytes */
    put8(&e, 5);
    put(&e, "\x02\x01\xe9\x01x", 5);
    put8(&e, 10); /* ENUM_AND_SET_DEFAULT_CHARSET: latin1_swedish_ci */
    put8(&e, 1);
    put8(&e, 8);
    assert_int_equal(feed(d, &e, 100, &s, &eb), 0);
    rows_head(&e, 3);
    put8(&e, 2);
    put(&e, "\x01\x02", 2);
    put8(&e, 2);
    put(&e, "ab", 2);
    put8(&e, 1);
    assert_int_equal(feed(d, &e, 200, &s, &eb), 0);
    assert_non_null(
        strstr(text(&s), "\"@1\":{\"base64\":\"AQIAAA==\"},\"@2\":\"ab\",\"@3\":\"\xc3\xa9\""));
    ox_buf_free(&s.out);
    ox_binlog_decoder_free(d);
}

static int hook(void *arg, const char *db, const char *table, uint32_t ncols, char **names,
                bool *is_pk, bool *is_text)
{
    (void)arg;
    (void)db;
    (void)table;
    (void)is_pk;
    static char *n[] = {"b", "c"};
    for (uint32_t i = 0; i < ncols && i < 2; i++)
        names[i] = n[i];
    is_text[0] = false; /* b BINARY(4) */
    is_text[1] = true;  /* c CHAR(4) */
    return 0;
}

/* Without charset metadata (MySQL 5.7, MariaDB < 10.5) the schema hook
 * says which strings are binary: BINARY(n) is padded on that path too. */
static void test_binary_padding_from_schema_hook(void **state)
{
    (void)state;
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    ox_binlog_decoder_set_columns_fn(d, hook, NULL);
    sink s = {OX_BUF_INIT};
    ox_errbuf eb;
    assert_int_equal(feed_fde(d, "5.7.44-log", 19, &s, &eb), 0);
    evb e;
    const uint8_t types[] = {254, 254};
    const uint8_t meta[] = {0xfe, 4, 0xfe, 4};
    table_map_head(&e, "db", "t", types, 2, meta, sizeof meta);
    assert_int_equal(feed(d, &e, 100, &s, &eb), 0);
    rows_head(&e, 2);
    put8(&e, 1);
    put8(&e, 0x07);
    put8(&e, 2);
    put(&e, "ab", 2);
    assert_int_equal(feed(d, &e, 200, &s, &eb), 0);
    assert_non_null(strstr(text(&s), "\"b\":{\"base64\":\"BwAAAA==\"},\"c\":\"ab\""));
    ox_buf_free(&s.out);
    ox_binlog_decoder_free(d);
}

/* v2 rows events: a well-formed extra-row-info chunk is skipped, a cut
 * short one is named as the damage. */
static void test_rows_extra_data(void **state)
{
    (void)state;
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    sink s = {OX_BUF_INIT};
    ox_errbuf eb;
    assert_int_equal(feed_fde(d, "10.11.19-MariaDB-log", 19, &s, &eb), 0);
    evb e;
    const uint8_t types[] = {3};
    table_map_head(&e, "db", "t", types, 1, NULL, 0);
    assert_int_equal(feed(d, &e, 100, &s, &eb), 0);
    for (int bad = 0; bad <= 1; bad++) {
        ev_start(&e, 30, 19);
        putle(&e, 42, 6);
        putle(&e, 1, 2);
        putle(&e, 2 + 4, 2);
        put(&e, bad ? "\x00\x05\x00\x00" : "\x00\x03\x00\x07", 4);
        put(&e, "\x01\x01\x00", 3);
        putle(&e, 5, 4);
        int rc = feed(d, &e, 200, &s, &eb);
        if (bad) {
            assert_int_equal(rc, OX_ECORRUPT);
            assert_non_null(strstr(eb.msg, "offset 200: rows event extra data"));
        } else {
            assert_int_equal(rc, 0);
            assert_non_null(strstr(text(&s), "\"after\":{\"@1\":5}"));
        }
    }
    ox_buf_free(&s.out);
    ox_binlog_decoder_free(d);
}

static void put_query(evb *e, size_t post_len, const char *db, const char *sql)
{
    putle(e, 7, 4); /* thread id */
    putle(e, 0, 4); /* exec time */
    put8(e, (unsigned)strlen(db));
    putle(e, 0, 2); /* error code */
    if (post_len >= 13)
        putle(e, 0, 2); /* no status variables */
    put(e, db, strlen(db) + 1);
    put(e, sql, strlen(sql));
}

/* A FORMAT_DESCRIPTION declaring 23-byte headers (Google's MySQL 5.1):
 * later event bodies start at byte 23. */
static void test_long_common_header(void **state)
{
    (void)state;
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    sink s = {OX_BUF_INIT};
    ox_errbuf eb;
    assert_int_equal(feed_fde(d, "5.1.63-google-log", 23, &s, &eb), 0);
    evb e;
    ev_start(&e, 2, 23);
    memcpy(e.b + 19, "\xaa\xbb\xcc\xdd", 4); /* the server's extra header field */
    put_query(&e, 13, "test", "create table t1 (id int)");
    assert_int_equal(feed(d, &e, 106, &s, &eb), 0);
    assert_non_null(strstr(text(&s), "\"db\":\"test\",\"table\":\"t1\",\"sessionDb\":\"test\",\"sql\":\"create table t1 (id int)\""));
    /* Shorter than 19 is corrupt, not a layout. */
    ox_binlog_decoder_free(d);
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    assert_int_equal(feed_fde(d, "5.1.63-google-log", 13, &s, &eb), OX_ECORRUPT);
    ox_buf_free(&s.out);
    ox_binlog_decoder_free(d);
}

static void feed_start_v3(ox_binlog_decoder *d, unsigned version, size_t hdr_len, int want, sink *s,
                          ox_errbuf *eb)
{
    evb e;
    ev_start(&e, 1, hdr_len);
    putle(&e, version, 2);
    char ver[50] = {0};
    snprintf(ver, sizeof ver, "%s", version == 1 ? "3.23.58-log" : "4.1.24-log");
    put(&e, ver, 50);
    putle(&e, 0, 4);
    assert_int_equal(feed(d, &e, 4, s, eb), want);
}

/* v3 (MySQL 4.x) and v2 binlogs are decoded: QUERY has an 11-byte
 * post-header without status variables. v1 (3.23) is refused by name. */
static void test_old_binlog_versions(void **state)
{
    (void)state;
    for (unsigned v = 2; v <= 3; v++) {
        ox_binlog_decoder *d = NULL;
        assert_int_equal(ox_binlog_decoder_create(&d), 0);
        sink s = {OX_BUF_INIT};
        ox_errbuf eb;
        feed_start_v3(d, v, 19, 0, &s, &eb);
        evb e;
        ev_start(&e, 2, 19);
        put_query(&e, 11, "test", "INSERT INTO t1 VALUES (1)");
        assert_int_equal(feed(d, &e, 79, &s, &eb), 0);
        assert_non_null(strstr(text(&s), "\"db\":\"test\",\"sessionDb\":\"test\",\"sql\":\"INSERT INTO t1 VALUES (1)\""));
        ox_buf_free(&s.out);
        ox_binlog_decoder_free(d);
    }
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    ox_binlog_decoder_set_file(d, "old-bin.001");
    sink s = {OX_BUF_INIT};
    ox_errbuf eb;
    feed_start_v3(d, 1, 13, OX_EUNSUPP, &s, &eb);
    assert_non_null(strstr(eb.msg, "old-bin.001 offset 4: binlog format v1 (MySQL 3.23"));
    ox_buf_free(&s.out);
    ox_binlog_decoder_free(d);
}

/* MySQL 5.1.0-5.1.17: TABLE_MAP without metadata, rows types 20-22. */
static void test_pre_ga_refused(void **state)
{
    (void)state;
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    sink s = {OX_BUF_INIT};
    ox_errbuf eb;
    assert_int_equal(feed_fde(d, "5.1.17-beta-log", 19, &s, &eb), 0);
    evb e;
    ev_start(&e, 19, 19);
    putle(&e, 16, 6);
    putle(&e, 0, 2);
    put(&e, "\x04test\x00\x02t1\x00\x02\x03\xfe", 13);
    assert_int_equal(feed(d, &e, 421, &s, &eb), OX_EUNSUPP);
    assert_non_null(strstr(eb.msg, "offset 421: TABLE_MAP without column metadata (MySQL "
                                   "5.1.0-5.1.17 pre-GA format, server 5.1.17-beta-log)"));
    ev_start(&e, 20, 19);
    putle(&e, 16, 6);
    putle(&e, 1, 2);
    put(&e, "\x02\xff\xf9", 3);
    assert_int_equal(feed(d, &e, 461, &s, &eb), OX_EUNSUPP);
    assert_non_null(strstr(eb.msg, "offset 461: pre-GA rows event (type 20"));
    ox_buf_free(&s.out);
    ox_binlog_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_geometry_in_charset_list),
        cmocka_unit_test(test_year_in_signedness),
        cmocka_unit_test(test_binary_padding_and_enum_names),
        cmocka_unit_test(test_binary_padding_from_schema_hook),
        cmocka_unit_test(test_rows_extra_data),
        cmocka_unit_test(test_long_common_header),
        cmocka_unit_test(test_old_binlog_versions),
        cmocka_unit_test(test_pre_ga_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
