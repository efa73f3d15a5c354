/* test_binlog_types.c - column value decoders on hand-built byte sequences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ox_binlog_int.h"
#include "ox_buf.h"

typedef struct tcol {
    ox_bl_col c;
    ox_buf scratch;
    ox_value v;
} tcol;

/* Lays out a column from its TABLE_MAP type byte and metadata bytes. */
static void layout(tcol *t, uint8_t type, const uint8_t *meta, size_t metalen)
{
    memset(&t->c, 0, sizeof t->c);
    int used = ox_bl_col_layout(&t->c, type, meta, metalen);
    assert_true(used >= 0);
    assert_int_equal((size_t)used, metalen);
}

/* Decodes bytes; asserts the whole input is consumed. */
static void dec(tcol *t, const uint8_t *p, size_t n)
{
    ox_buf_reset(&t->scratch);
    long used = ox_bl_value(&t->c, p, n, &t->scratch, &t->v);
    assert_int_equal(used, (long)n);
    if (t->v.kind & OX_BL_SCRATCH) {
        t->v.kind &= (uint8_t)~OX_BL_SCRATCH;
        t->v.v.s = (const char *)t->scratch.data + t->v.v.u;
    }
}

static void assert_text(const tcol *t, int kind, const char *want)
{
    assert_int_equal(t->v.kind, kind);
    assert_int_equal(t->v.len, strlen(want));
    assert_memory_equal(t->v.v.s, want, strlen(want));
}

#define DEC(t, ...)                                                                                \
    do {                                                                                           \
        const uint8_t b_[] = {__VA_ARGS__};                                                        \
        dec((t), b_, sizeof b_);                                                                   \
    } while (0)

static void test_integers(void **state)
{
    tcol t = {.scratch = OX_BUF_INIT};
    layout(&t, OX_MT_TINY, NULL, 0);
    DEC(&t, 0x80);
    assert_int_equal(t.v.kind, OX_VAL_INT);
    assert_int_equal(t.v.v.i, -128);
    t.c.unsig = true;
    DEC(&t, 0xff);
    assert_int_equal(t.v.kind, OX_VAL_UINT);
    assert_int_equal(t.v.v.u, 255);

    layout(&t, OX_MT_SHORT, NULL, 0);
    DEC(&t, 0x00, 0x80);
    assert_int_equal(t.v.v.i, -32768);
    t.c.unsig = true;
    DEC(&t, 0xff, 0xff);
    assert_int_equal(t.v.v.u, 65535);

    layout(&t, OX_MT_INT24, NULL, 0);
    DEC(&t, 0x00, 0x00, 0x80);
    assert_int_equal(t.v.v.i, -8388608);
    DEC(&t, 0xff, 0xff, 0x7f);
    assert_int_equal(t.v.v.i, 8388607);
    DEC(&t, 0xff, 0xff, 0xff);
    assert_int_equal(t.v.v.i, -1);
    t.c.unsig = true;
    DEC(&t, 0xff, 0xff, 0xff);
    assert_int_equal(t.v.v.u, 16777215);

    layout(&t, OX_MT_LONG, NULL, 0);
    DEC(&t, 0x00, 0x00, 0x00, 0x80);
    assert_int_equal(t.v.v.i, INT32_MIN);
    t.c.unsig = true;
    DEC(&t, 0xff, 0xff, 0xff, 0xff);
    assert_int_equal(t.v.v.u, UINT32_MAX);

    layout(&t, OX_MT_LONGLONG, NULL, 0);
    DEC(&t, 0, 0, 0, 0, 0, 0, 0, 0x80);
    assert_true(t.v.v.i == INT64_MIN);
    DEC(&t, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f);
    assert_true(t.v.v.i == INT64_MAX);
    t.c.unsig = true;
    DEC(&t, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    assert_int_equal(t.v.kind, OX_VAL_UINT);
    assert_true(t.v.v.u == UINT64_MAX);

    /* YEAR: 0 is the zero year, else 1900 + byte. */
    layout(&t, OX_MT_YEAR, NULL, 0);
    DEC(&t, 0);
    assert_int_equal(t.v.v.u, 0);
    DEC(&t, 255);
    assert_int_equal(t.v.v.u, 2155);

    /* BIT(10): meta (bits % 8, bytes) = (2, 1): 2 bytes big-endian. */
    const uint8_t bm[] = {2, 1};
    layout(&t, OX_MT_BIT, bm, 2);
    DEC(&t, 0x02, 0x01);
    assert_int_equal(t.v.kind, OX_VAL_UINT);
    assert_int_equal(t.v.v.u, 513);
    ox_buf_free(&t.scratch);
}

static void test_floats(void **state)
{
    tcol t = {.scratch = OX_BUF_INIT};
    const uint8_t m4[] = {4}, m8[] = {8};
    layout(&t, OX_MT_FLOAT, m4, 1);
    float f = -1.25f;
    uint8_t fb[4];
    memcpy(fb, &f, 4);
    dec(&t, fb, 4);
    assert_int_equal(t.v.kind, OX_VAL_FLOAT);
    assert_true(t.v.v.d == -1.25);
    layout(&t, OX_MT_DOUBLE, m8, 1);
    double d = 123456789.09876543;
    uint8_t db[8];
    memcpy(db, &d, 8);
    dec(&t, db, 8);
    assert_int_equal(t.v.kind, OX_VAL_DOUBLE);
    assert_true(t.v.v.d == d);
    ox_buf_free(&t.scratch);
}

static void test_decimal(void **state)
{
    tcol t = {.scratch = OX_BUF_INIT};
    /* The classic example: DECIMAL(14,4) 1234567890.1234 and its negation. */
    const uint8_t m[] = {14, 4};
    layout(&t, OX_MT_NEWDECIMAL, m, 2);
    DEC(&t, 0x81, 0x0D, 0xFB, 0x38, 0xD2, 0x04, 0xD2);
    assert_text(&t, OX_VAL_DECIMAL, "1234567890.1234");
    DEC(&t, 0x7E, 0xF2, 0x04, 0xC7, 0x2D, 0xFB, 0x2D);
    assert_text(&t, OX_VAL_DECIMAL, "-1234567890.1234");
    /* Zero keeps the scale. */
    DEC(&t, 0x80, 0, 0, 0, 0, 0, 0);
    assert_text(&t, OX_VAL_DECIMAL, "0.0000");
    /* DECIMAL(65,30) of all nines: 35 integer digits, 30 fraction digits. */
    const uint8_t m2[] = {65, 30};
    layout(&t, OX_MT_NEWDECIMAL, m2, 2);
    int size = ox_bl_decimal_size(65, 30);
    assert_int_equal(size, 30);
    /* 35 = 3*9 + 8 integer digits, 30 = 3*9 + 3 fraction digits. */
    uint8_t b[30];
    int k = 0;
    uint32_t v8 = 99999999, v9 = 999999999, v3 = 999;
    b[k++] = (uint8_t)(v8 >> 24);
    b[k++] = (uint8_t)(v8 >> 16);
    b[k++] = (uint8_t)(v8 >> 8);
    b[k++] = (uint8_t)v8;
    for (int g = 0; g < 6; g++) {
        b[k++] = (uint8_t)(v9 >> 24);
        b[k++] = (uint8_t)(v9 >> 16);
        b[k++] = (uint8_t)(v9 >> 8);
        b[k++] = (uint8_t)v9;
    }
    b[k++] = (uint8_t)(v3 >> 8);
    b[k++] = (uint8_t)v3;
    assert_int_equal(k, 30);
    b[0] ^= 0x80;
    dec(&t, b, 30);
    assert_text(&t, OX_VAL_DECIMAL,
                "99999999999999999999999999999999999.999999999999999999999999999999");
    for (int i = 0; i < 30; i++)
        b[i] ^= 0xff;
    dec(&t, b, 30);
    assert_text(&t, OX_VAL_DECIMAL,
                "-99999999999999999999999999999999999.999999999999999999999999999999");
    /* A group out of range (>= 10^9) is corrupt, not printed. */
    memset(b, 0xff, sizeof b);
    ox_buf_reset(&t.scratch);
    assert_int_equal(ox_bl_value(&t.c, b, 30, &t.scratch, &t.v), -1);
    /* Truncated input. */
    assert_int_equal(ox_bl_value(&t.c, b, 29, &t.scratch, &t.v), -1);
    ox_buf_free(&t.scratch);
}

static void test_temporal(void **state)
{
    tcol t = {.scratch = OX_BUF_INIT};
    layout(&t, OX_MT_DATE, NULL, 0);
    DEC(&t, 0, 0, 0);
    assert_text(&t, OX_VAL_TIME, "0000-00-00");
    /* 2024-02-29: (2024 << 9) | (2 << 5) | 29. */
    uint32_t dv = 2024u << 9 | 2u << 5 | 29u;
    DEC(&t, (uint8_t)dv, (uint8_t)(dv >> 8), (uint8_t)(dv >> 16));
    assert_text(&t, OX_VAL_TIME, "2024-02-29");

    const uint8_t f0[] = {0}, f2[] = {2}, f3[] = {3}, f6[] = {6};
    layout(&t, OX_MT_TIME2, f6, 1);
    DEC(&t, 0x4b, 0x91, 0x05, 0x00, 0x00, 0x00);
    assert_text(&t, OX_VAL_TIME, "-838:59:59.000000");
    layout(&t, OX_MT_TIME2, f2, 1);
    DEC(&t, 0x7f, 0xff, 0xfe, 0xce);
    assert_text(&t, OX_VAL_TIME, "-00:00:01.50");
    layout(&t, OX_MT_TIME2, f3, 1);
    DEC(&t, 0x80, 0xc8, 0xb8, 0x1e, 0xd2);
    assert_text(&t, OX_VAL_TIME, "12:34:56.789");
    DEC(&t, 0x7f, 0xef, 0x7c, 0xec, 0x78);
    assert_text(&t, OX_VAL_TIME, "-01:02:03.500");
    layout(&t, OX_MT_TIME2, f0, 1);
    DEC(&t, 0x80, 0x00, 0x00);
    assert_text(&t, OX_VAL_TIME, "00:00:00");
    DEC(&t, 0x4b, 0x91, 0x05);
    assert_text(&t, OX_VAL_TIME, "-838:59:59");

    /* Old TIME: HHMMSS as a signed 3-byte integer; -12:34:56 = -123456. */
    layout(&t, OX_MT_TIME, NULL, 0);
    uint32_t tv = (uint32_t)(-123456) & 0xffffff;
    DEC(&t, (uint8_t)tv, (uint8_t)(tv >> 8), (uint8_t)(tv >> 16));
    assert_text(&t, OX_VAL_TIME, "-12:34:56");

    layout(&t, OX_MT_DATETIME2, f3, 1);
    DEC(&t, 0x99, 0xb3, 0x9e, 0xc8, 0xb8, 0x1e, 0xd2);
    assert_text(&t, OX_VAL_TIME, "2024-06-15 12:34:56.789");
    layout(&t, OX_MT_DATETIME2, f0, 1);
    DEC(&t, 0x80, 0, 0, 0, 0);
    assert_text(&t, OX_VAL_TIME, "0000-00-00 00:00:00");
    layout(&t, OX_MT_DATETIME2, f6, 1);
    DEC(&t, 0xfe, 0xf3, 0xff, 0x7e, 0xfb, 0x0f, 0x42, 0x3f);
    assert_text(&t, OX_VAL_TIME, "9999-12-31 23:59:59.999999");

    /* Old DATETIME: YYYYMMDDhhmmss as an 8-byte integer. */
    layout(&t, OX_MT_DATETIME, NULL, 0);
    uint64_t x = 20060215033433ull;
    uint8_t xb[8];
    for (int i = 0; i < 8; i++)
        xb[i] = (uint8_t)(x >> (8 * i));
    dec(&t, xb, 8);
    assert_text(&t, OX_VAL_TIME, "2006-02-15 03:34:33");

    layout(&t, OX_MT_TIMESTAMP2, f3, 1);
    DEC(&t, 0, 0, 0, 0, 0, 0);
    assert_text(&t, OX_VAL_TIME, "0000-00-00 00:00:00.000");
    layout(&t, OX_MT_TIMESTAMP2, f6, 1);
    DEC(&t, 0x65, 0x53, 0xf1, 0x00, 0x01, 0xe2, 0x40);
    assert_text(&t, OX_VAL_TIME, "2023-11-14 22:13:20.123456");
    layout(&t, OX_MT_TIMESTAMP, NULL, 0);
    DEC(&t, 0x00, 0xf1, 0x53, 0x65);
    assert_text(&t, OX_VAL_TIME, "2023-11-14 22:13:20");
    DEC(&t, 0, 0, 0, 0);
    assert_text(&t, OX_VAL_TIME, "0000-00-00 00:00:00");
    ox_buf_free(&t.scratch);
}

static void test_strings(void **state)
{
    tcol t = {.scratch = OX_BUF_INIT};
    /* VARCHAR(300 bytes): 2-byte length. */
    const uint8_t vm[] = {0x2c, 0x01};
    layout(&t, OX_MT_VARCHAR, vm, 2);
    assert_int_equal(t.c.len_bytes, 2);
    t.c.cs = CS_UTF8;
    DEC(&t, 3, 0, 'a', 'b', 'c');
    assert_text(&t, OX_VAL_TEXT, "abc");
    /* CHAR(255) utf8mb4 = 1020 bytes: length bits 8-9 hide in the real type. */
    const uint8_t cm[] = {0xfe ^ 0x30, 0xfc};
    layout(&t, OX_MT_STRING, cm, 2);
    assert_int_equal(t.c.real, OX_MT_STRING);
    assert_int_equal(t.c.max_len, 1020);
    assert_int_equal(t.c.len_bytes, 2);
    /* latin1 converts to UTF-8. */
    const uint8_t sm[] = {OX_MT_STRING, 10};
    layout(&t, OX_MT_STRING, sm, 2);
    t.c.cs = CS_LATIN1;
    DEC(&t, 5, 'c', 'a', 'f', 0xe9, '!');
    assert_text(&t, OX_VAL_TEXT, "caf\xc3\xa9!");
    /* MySQL's latin1 is Windows-1252: 0x80 is the euro sign. */
    DEC(&t, 2, 0x80, 0x9f);
    assert_text(&t, OX_VAL_TEXT, "\xe2\x82\xac\xc5\xb8");
    /* ucs2 and utf16 (surrogate pair) convert to UTF-8. */
    t.c.cs = CS_UCS2;
    DEC(&t, 4, 0x00, 'h', 0x00, 0xe9);
    assert_text(&t, OX_VAL_TEXT, "h\xc3\xa9");
    t.c.cs = CS_UTF16;
    DEC(&t, 4, 0xd8, 0x3d, 0xde, 0x00);
    assert_text(&t, OX_VAL_TEXT, "\xf0\x9f\x98\x80");
    t.c.cs = CS_UTF32;
    DEC(&t, 4, 0, 0x01, 0xf6, 0x00);
    assert_text(&t, OX_VAL_TEXT, "\xf0\x9f\x98\x80");
    /* binary stays bytes; unknown charset: UTF-8 if valid, else bytes. */
    t.c.cs = CS_BINARY;
    DEC(&t, 2, 0xde, 0xad);
    assert_int_equal(t.v.kind, OX_VAL_BYTES);
    t.c.cs = CS_UNKNOWN;
    DEC(&t, 2, 0xff, 0xfe);
    assert_int_equal(t.v.kind, OX_VAL_BYTES);
    DEC(&t, 4, 0xf0, 0x9f, 0x98, 0x80);
    assert_text(&t, OX_VAL_TEXT, "\xf0\x9f\x98\x80");
    DEC(&t, 0);
    assert_text(&t, OX_VAL_TEXT, "");

    /* BLOB with 3 length bytes; a length beyond the data is corrupt. */
    const uint8_t bm[] = {3};
    layout(&t, OX_MT_BLOB, bm, 1);
    t.c.cs = CS_BINARY;
    DEC(&t, 2, 0, 0, 0x00, 0x01);
    assert_int_equal(t.v.kind, OX_VAL_BYTES);
    assert_int_equal(t.v.len, 2);
    const uint8_t bad[] = {5, 0, 0, 1};
    assert_int_equal(ox_bl_value(&t.c, bad, sizeof bad, &t.scratch, &t.v), -1);

    /* ENUM / SET with and without names. */
    const uint8_t em[] = {OX_MT_ENUM, 1};
    layout(&t, OX_MT_STRING, em, 2);
    assert_int_equal(t.c.dk, DK_ENUM);
    DEC(&t, 2);
    assert_int_equal(t.v.kind, OX_VAL_UINT);
    assert_int_equal(t.v.v.u, 2);
    char *names[] = {"low", "medium", "high"};
    uint32_t lens[] = {3, 6, 4};
    t.c.names = names;
    t.c.name_lens = lens;
    t.c.nnames = 3;
    DEC(&t, 2);
    assert_text(&t, OX_VAL_TEXT, "medium");
    DEC(&t, 0);
    assert_text(&t, OX_VAL_TEXT, "");
    const uint8_t setm[] = {OX_MT_SET, 1};
    layout(&t, OX_MT_STRING, setm, 2);
    assert_int_equal(t.c.dk, DK_SET);
    DEC(&t, 5);
    assert_int_equal(t.v.v.u, 5);
    t.c.names = names;
    t.c.name_lens = lens;
    t.c.nnames = 3;
    DEC(&t, 5);
    assert_text(&t, OX_VAL_TEXT, "low,high");
    DEC(&t, 0);
    assert_text(&t, OX_VAL_TEXT, "");
    ox_buf_free(&t.scratch);
}

/* Writes a binary JSON document of `levels` nested one-element arrays
 * around an empty array; returns its length. */
static size_t nest(uint8_t *out, int levels)
{
    size_t n = 0;
    out[n++] = 0x02;
    for (int i = 0; i < levels; i++) {
        size_t size = 7 * (size_t)(levels - i) + 4;
        out[n++] = 1;
        out[n++] = 0;
        out[n++] = (uint8_t)size;
        out[n++] = (uint8_t)(size >> 8);
        out[n++] = 0x02;
        out[n++] = 7;
        out[n++] = 0;
    }
    out[n++] = 0;
    out[n++] = 0;
    out[n++] = 4;
    out[n++] = 0;
    return n;
}

static void test_json_vector_geometry(void **state)
{
    tcol t = {.scratch = OX_BUF_INIT};
    const uint8_t jm[] = {4};
    layout(&t, OX_MT_JSON, jm, 1);
    /* {"a":1}: small object, 1 member, 12 bytes, key at 11, int16 inlined. */
    DEC(&t, 13, 0, 0, 0, 0x00, 0x01, 0x00, 0x0c, 0x00, 0x0b, 0x00, 0x01, 0x00, 0x05, 0x01, 0x00,
        'a');
    assert_text(&t, OX_VAL_JSON, "{\"a\":1}");
    /* ["x\n", true, -2.5]: small array of 3; string and double by offset. */
    DEC(&t, 25, 0, 0, 0, 0x02, 0x03, 0x00, 0x18, 0x00, 0x0c, 0x0d, 0x00, 0x04, 0x01, 0x00, 0x0b,
        0x10, 0x00, 0x02, 'x', '\n', 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0xc0);
    assert_text(&t, OX_VAL_JSON, "[\"x\\n\",true,-2.5]");
    /* Opaque DECIMAL(4,2) 12.34 inside JSON is a number. */
    DEC(&t, 7, 0, 0, 0, 0x0f, OX_MT_NEWDECIMAL, 4, 4, 2, 0x8c, 0x22);
    assert_text(&t, OX_VAL_JSON, "12.34");
    /* Empty JSON (length 0) is null. */
    DEC(&t, 0, 0, 0, 0);
    assert_text(&t, OX_VAL_JSON, "null");
    /* An unknown type byte is corrupt. */
    const uint8_t bad[] = {1, 0, 0, 0, 0x0e};
    assert_int_equal(ox_bl_value(&t.c, bad, sizeof bad, &t.scratch, &t.v), -1);
    /* Nested one-element arrays: 50 levels render, 200 exceed the depth
     * limit (an error, not a stack overflow). */
    uint8_t deep[4 + 1 + 200 * 7 + 4];
    for (int levels = 50; levels <= 200; levels += 150) {
        size_t n = nest(deep + 4, levels);
        uint32_t dl = (uint32_t)n;
        memcpy(deep, &dl, 4);
        ox_buf_reset(&t.scratch);
        long r = ox_bl_value(&t.c, deep, 4 + n, &t.scratch, &t.v);
        if (levels == 200) {
            assert_int_equal(r, -1);
        } else {
            assert_int_equal(r, (long)(4 + n));
            assert_int_equal(t.v.len, 2 * 51);
        }
    }

    /* VECTOR: array of floats. */
    layout(&t, OX_MT_VECTOR, jm, 1);
    float fv[2] = {1.5f, -2.0f};
    uint8_t vb[12] = {8, 0, 0, 0};
    memcpy(vb + 4, fv, 8);
    dec(&t, vb, 12);
    assert_text(&t, OX_VAL_JSON, "[1.5,-2]");
    /* GEOMETRY: the stored bytes. */
    layout(&t, OX_MT_GEOMETRY, jm, 1);
    DEC(&t, 2, 0, 0, 0, 1, 2);
    assert_int_equal(t.v.kind, OX_VAL_BYTES);
    assert_int_equal(t.v.len, 2);
    ox_buf_free(&t.scratch);
}

static void test_json_diff(void **state)
{
    ox_buf b = OX_BUF_INIT;
    /* REPLACE $.age with int16 26, then REMOVE $.x. */
    const uint8_t d[] = {0, 5, '$', '.', 'a', 'g', 'e', 3, 0x05, 26, 0, 2, 3, '$', '.', 'x'};
    assert_int_equal(ox_mysql_json_diff_to_text(d, sizeof d, &b), 0);
    ox_buf_putc(&b, 0);
    assert_string_equal((char *)b.data, "[{\"op\":\"replace\",\"path\":\"$.age\",\"value\":26},"
                                        "{\"op\":\"remove\",\"path\":\"$.x\"}]");
    ox_buf_reset(&b);
    const uint8_t bad[] = {7, 1, '$'};
    assert_int_equal(ox_mysql_json_diff_to_text(bad, sizeof bad, &b), OX_ECORRUPT);
    assert_int_equal(b.len, 0);
    ox_buf_free(&b);
}

static void test_truncation_everywhere(void **state)
{
    /* Every decoder given fewer bytes than it needs returns -1. */
    const uint8_t m2[] = {10, 2}, f6[] = {6}, vm[] = {10, 0}, lb[] = {4};
    struct {
        uint8_t type;
        const uint8_t *meta;
        size_t ml;
    } cases[] = {
        {OX_MT_TINY, NULL, 0},  {OX_MT_LONGLONG, NULL, 0}, {OX_MT_NEWDECIMAL, m2, 2},
        {OX_MT_TIME2, f6, 1},   {OX_MT_DATETIME2, f6, 1},  {OX_MT_TIMESTAMP2, f6, 1},
        {OX_MT_VARCHAR, vm, 2}, {OX_MT_BLOB, lb, 1},       {OX_MT_JSON, lb, 1},
        {OX_MT_DATE, NULL, 0},  {OX_MT_DATETIME, NULL, 0}, {OX_MT_TIMESTAMP, NULL, 0},
    };
    uint8_t zeros[16] = {0};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tcol t = {.scratch = OX_BUF_INIT};
        layout(&t, cases[i].type, cases[i].meta, cases[i].ml);
        ox_buf_reset(&t.scratch);
        assert_int_equal(ox_bl_value(&t.c, zeros, 0, &t.scratch, &t.v), -1);
        ox_buf_free(&t.scratch);
    }
}

/* MariaDB's INET6/INET4/UUID (BINARY(16)/BINARY(4) in the binlog, typed by
 * the schema history). Expected texts are what SELECT printed on MariaDB
 * 10.11 for the stored bytes (HEX(CAST(c AS BINARY(16)))). */
static void hexbytes(const char *h, uint8_t *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        assert_int_equal(sscanf(h + 2 * i, "%2x", &v), 1);
        out[i] = (uint8_t)v;
    }
}

static void fbt_dec(tcol *t, const char *hex, size_t n)
{
    uint8_t b[17];
    /* The binlog drops trailing zero bytes of BINARY(n). */
    hexbytes(hex, b + 1, n);
    size_t len = n;
    while (len > 0 && b[len] == 0)
        len--;
    b[0] = (uint8_t)len;
    dec(t, b, len + 1);
}

static void test_fixed_binary(void **state)
{
    (void)state;
    static const struct {
        const char *hex, *text;
    } inet6[] = {
        {"00000000000000000000000000000001", "::1"},
        {"20010db8000000000000ff0000428329", "2001:db8::ff00:42:8329"},
        {"00000000000000000000ffff01020304", "::ffff:1.2.3.4"},
        {"00000000000000000000000000000000", "::"},
        {"00010000000000000000000000000000", "1::"},
        {"00000000000000000000000001020304", "::1.2.3.4"},
        {"00010000000000020000000000000003", "1:0:0:2::3"},
        {"00000002000300040005000600070008", "::2:3:4:5:6:7:8"},
        {"00000000000100000000000000000000", "0:0:1::"},
        {"00010000000200030004000500060007", "1::2:3:4:5:6:7"},
        {"00010000000000020000000000030004", "1::2:0:0:3:4"},
        {"00000000000000000000000000010000", "::0.1.0.0"},
        {"00000000000000000000ffff00000000", "::ffff:0.0.0.0"},
        {"00000000000000000000000100000000", "::1:0:0"},
        {"00000001000200030004000500060007", "::1:2:3:4:5:6:7"},
    };
    tcol t = {.scratch = OX_BUF_INIT};
    const uint8_t m16[] = {OX_MT_STRING, 16}, m4[] = {OX_MT_STRING, 4};
    layout(&t, OX_MT_STRING, m16, 2);
    t.c.cs = CS_BINARY;
    t.c.pad = true;
    t.c.fbt = FBT_INET6;
    for (size_t i = 0; i < sizeof inet6 / sizeof inet6[0]; i++) {
        fbt_dec(&t, inet6[i].hex, 16);
        assert_text(&t, OX_VAL_TEXT, inet6[i].text);
    }
    t.c.fbt = FBT_UUID;
    fbt_dec(&t, "123e4567e89b12d3a456426614174000", 16);
    assert_text(&t, OX_VAL_TEXT, "123e4567-e89b-12d3-a456-426614174000");
    fbt_dec(&t, "1234567812341234c234123456789abc", 16);
    assert_text(&t, OX_VAL_TEXT, "12345678-1234-1234-c234-123456789abc");
    fbt_dec(&t, "00000000000000000000000000000000", 16);
    assert_text(&t, OX_VAL_TEXT, "00000000-0000-0000-0000-000000000000");
    /* A length the type never has stays bytes. */
    t.c.fbt = FBT_INET6;
    DEC(&t, 17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
    assert_int_equal(t.v.kind, OX_VAL_BYTES);
    layout(&t, OX_MT_STRING, m4, 2);
    t.c.cs = CS_BINARY;
    t.c.pad = true;
    t.c.fbt = FBT_INET4;
    fbt_dec(&t, "01020304", 4);
    assert_text(&t, OX_VAL_TEXT, "1.2.3.4");
    fbt_dec(&t, "ffffffff", 4);
    assert_text(&t, OX_VAL_TEXT, "255.255.255.255");
    fbt_dec(&t, "00000000", 4);
    assert_text(&t, OX_VAL_TEXT, "0.0.0.0");
    fbt_dec(&t, "0a000000", 4);
    assert_text(&t, OX_VAL_TEXT, "10.0.0.0");
    /* Without the type: the 4 bytes. */
    t.c.fbt = FBT_NONE;
    fbt_dec(&t, "0a000000", 4);
    assert_int_equal(t.v.kind, OX_VAL_BYTES);
    assert_int_equal(t.v.len, 4);
    ox_buf_free(&t.scratch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integers),     cmocka_unit_test(test_floats),
        cmocka_unit_test(test_decimal),      cmocka_unit_test(test_temporal),
        cmocka_unit_test(test_strings),      cmocka_unit_test(test_json_vector_geometry),
        cmocka_unit_test(test_json_diff),    cmocka_unit_test(test_truncation_everywhere),
        cmocka_unit_test(test_fixed_binary),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
