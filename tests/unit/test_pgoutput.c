/* test_pgoutput.c - PostgreSQL frames, pgoutput messages and LSN positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ox_pg_source.h"
#include "ox_pgoutput.h"
#include "ox_render.h"

/* A message under construction. */
struct msg {
    uint8_t b[4096];
    size_t n;
};

static void u8(struct msg *m, uint8_t v)
{
    m->b[m->n++] = v;
}

static void be(struct msg *m, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--)
        m->b[m->n++] = (uint8_t)(v >> (8 * i));
}

static void str(struct msg *m, const char *s)
{
    memcpy(m->b + m->n, s, strlen(s) + 1);
    m->n += strlen(s) + 1;
}

static void text(struct msg *m, const char *s)
{
    u8(m, 't');
    be(m, strlen(s), 4);
    memcpy(m->b + m->n, s, strlen(s));
    m->n += strlen(s);
}

struct out {
    ox_buf json[8];
    int n;
};

static int collect(void *arg, const ox_change *c)
{
    struct out *o = arg;
    if (o->n < 8) {
        ox_buf_reset(&o->json[o->n]);
        ox_render_json(NULL, c, &o->json[o->n]);
        ox_buf_putc(&o->json[o->n], 0);
        o->n++;
    }
    return 0;
}

static int feed(ox_pgoutput *d, struct msg *m, uint64_t lsn, struct out *o)
{
    ox_errbuf eb;
    int rc = ox_pgoutput_feed(d, m->b, m->n, lsn, collect, o, &eb);
    m->n = 0;
    return rc;
}

static void test_lsn_roundtrip(void **state)
{
    uint64_t v;
    char buf[24];
    assert_int_equal(ox_pg_lsn_parse("0/16B3748", &v), 0);
    assert_int_equal(v, 0x16B3748);
    assert_int_equal(v >> 32, 0);
    assert_int_equal(v & 0xffffffffu, 23803720);
    assert_int_equal(ox_pg_lsn_parse("FFFFFFFF/FFFFFFFF", &v), 0);
    assert_true(v == UINT64_MAX);
    ox_pg_lsn_format(v, buf);
    assert_string_equal(buf, "FFFFFFFF/FFFFFFFF");
    ox_pg_lsn_format((uint64_t)7 << 32 | 42, buf);
    assert_string_equal(buf, "7/2A");
    assert_int_equal(ox_pg_lsn_parse("1/", &v), OX_EINVAL);
    assert_int_equal(ox_pg_lsn_parse("100000000/0", &v), OX_EINVAL);
    assert_int_equal(ox_pg_lsn_parse("x/1", &v), OX_EINVAL);
}

static void test_default_names(void **state)
{
    char n[64];
    ox_pg_default_name("teststore", n, sizeof n);
    assert_string_equal(n, "oxbow_teststore");
    ox_pg_default_name("127.0.0.1-17001:Orders-000-0:0000000001", n, sizeof n);
    assert_string_equal(n, "oxbow_127_0_0_1_17001_orders_000_0_0000000001");
    char a[64], b[64];
    ox_pg_default_name("a-very-long-store-name-that-goes-past-the-limit-of-sixty-three-x", a,
                       sizeof a);
    ox_pg_default_name("a-very-long-store-name-that-goes-past-the-limit-of-sixty-three-y", b,
                       sizeof b);
    assert_int_equal(strlen(a), 63);
    assert_string_not_equal(a, b);
}

static void test_frames(void **state)
{
    struct msg m = {.n = 0};
    ox_pg_frame f;
    ox_errbuf eb;
    u8(&m, 'k');
    be(&m, 0x100000020ull, 8);
    be(&m, 5, 8);
    u8(&m, 1);
    assert_int_equal(ox_pg_frame_parse(m.b, m.n, &f, &eb), 0);
    assert_int_equal(f.kind, 'k');
    assert_true(f.wal_end == 0x100000020ull);
    assert_int_equal(f.reply, 1);
    assert_int_equal(ox_pg_frame_parse(m.b, m.n - 1, &f, &eb), OX_ETRUNC);
    m.b[0] = 'z';
    assert_int_equal(ox_pg_frame_parse(m.b, m.n, &f, &eb), OX_EPROTO);
    uint8_t r[34];
    ox_pg_status_update(r, 1, 0x0102030405060708ull, 3, 4, 1);
    assert_int_equal(r[0], 'r');
    assert_int_equal(r[9], 1);
    assert_int_equal(r[16], 8);
    assert_int_equal(r[33], 1);
}

static void test_transaction(void **state)
{
    ox_pgoutput *d = ox_pgoutput_create("shop");
    struct out o = {.n = 0};
    struct msg m = {.n = 0};
    u8(&m, 'R');
    be(&m, 16384, 4);
    str(&m, "public");
    str(&m, "t");
    u8(&m, 'd');
    be(&m, 5, 2);
    static const struct {
        uint8_t flags;
        const char *name;
        uint32_t oid;
    } cols[] = {{1, "id", 23}, {0, "f", 701}, {0, "n", 1700}, {0, "b", 17}, {0, "doc", 25}};
    for (int i = 0; i < 5; i++) {
        u8(&m, cols[i].flags);
        str(&m, cols[i].name);
        be(&m, cols[i].oid, 4);
        be(&m, 0xffffffffu, 4);
    }
    assert_int_equal(feed(d, &m, 10, &o), 0);
    u8(&m, 'B');
    be(&m, 0x200000100ull, 8);
    be(&m, 1000000, 8); /* one second after 2000-01-01 */
    be(&m, 742, 4);
    assert_int_equal(feed(d, &m, 0x200000000ull, &o), 0);
    u8(&m, 'I');
    be(&m, 16384, 4);
    u8(&m, 'N');
    be(&m, 5, 2);
    text(&m, "1");
    text(&m, "NaN");
    text(&m, "-0.00100");
    text(&m, "\\x00ff");
    u8(&m, 'n');
    assert_int_equal(feed(d, &m, 0x200000010ull, &o), 0);
    u8(&m, 'U');
    be(&m, 16384, 4);
    u8(&m, 'N');
    be(&m, 5, 2);
    text(&m, "1");
    text(&m, "1e+100");
    text(&m, "2");
    text(&m, "\\x");
    u8(&m, 'u');
    assert_int_equal(feed(d, &m, 0x200000020ull, &o), 0);
    u8(&m, 'C');
    u8(&m, 0);
    be(&m, 0x200000100ull, 8);
    be(&m, 0x300000008ull, 8);
    be(&m, 1000000, 8);
    assert_int_equal(feed(d, &m, 0x200000100ull, &o), 0);
    assert_int_equal(o.n, 4);
    assert_string_equal(
        (char *)o.json[1].data,
        "{\"op\":\"insert\",\"db\":\"shop.public\",\"table\":\"t\",\"pk\":[\"id\"],\"after\":{"
        "\"id\":1,\"f\":\"NaN\",\"n\":\"-0.00100\",\"b\":{\"base64\":\"AP8=\"},\"doc\":null},"
        "\"fileIdx\":2,\"offset\":16,\"nextOffset\":16,\"timestamp\":946684801,"
        "\"serverId\":0}");
    assert_non_null(strstr((char *)o.json[2].data, "\"before\":{\"id\":1}"));
    assert_non_null(strstr((char *)o.json[2].data,
                           "\"after\":{\"id\":1,\"f\":1e+100,\"n\":\"2\",\"b\":{\"base64\":\"\"},"
                           "\"doc\":{\"$unchanged\":true}}"));
    /* The commit's fileIdx:nextOffset is its end LSN, exactly. */
    assert_non_null(
        strstr((char *)o.json[3].data, "\"fileIdx\":3,\"offset\":256,\"nextOffset\":8"));
    for (int i = 0; i < 8; i++)
        ox_buf_free(&o.json[i]);
    ox_pgoutput_free(d);
}

/* The lookup a PostgreSQL source gives: a fixed key, or a column the
 * relation does not have. */
static int pk_of(void *arg, uint32_t relid, ox_buf *names)
{
    const char *key = arg;
    assert_int_equal(relid, 16385);
    ox_buf_put(names, key, strlen(key) + 1);
    if (strcmp(key, "c") == 0)
        ox_buf_put(names, "a", 2); /* composite, in key order: c, a */
    return 0;
}

/* Relation fk (a, b, c) with this identity, then one insert in a
 * transaction; returns the insert's JSON. */
static const char *relation_full(ox_pgoutput *d, char replident, struct out *o)
{
    struct msg m = {.n = 0};
    o->n = 0;
    u8(&m, 'R');
    be(&m, 16385, 4);
    str(&m, "public");
    str(&m, "fk");
    u8(&m, (uint8_t)replident);
    be(&m, 3, 2);
    static const char *names[] = {"a", "b", "c"};
    for (int i = 0; i < 3; i++) {
        u8(&m, replident == 'f' ? 1 : 0); /* FULL flags every column */
        str(&m, names[i]);
        be(&m, 23, 4);
        be(&m, 0xffffffffu, 4);
    }
    assert_int_equal(feed(d, &m, 10, o), 0);
    u8(&m, 'B');
    be(&m, 0x100, 8);
    be(&m, 1000000, 8);
    be(&m, 7, 4);
    assert_int_equal(feed(d, &m, 0x10, o), 0);
    u8(&m, 'I');
    be(&m, 16385, 4);
    u8(&m, 'N');
    be(&m, 3, 2);
    text(&m, "1");
    text(&m, "2");
    text(&m, "3");
    assert_int_equal(feed(d, &m, 0x20, o), 0);
    u8(&m, 'C');
    u8(&m, 0);
    be(&m, 0x100, 8);
    be(&m, 0x108, 8);
    be(&m, 1000000, 8);
    assert_int_equal(feed(d, &m, 0x100, o), 0);
    assert_int_equal(o->n, 3);
    return (const char *)o->json[1].data;
}

static void test_pk_lookup(void **state)
{
    (void)state;
    struct out o = {.n = 0};
    ox_pgoutput *d = ox_pgoutput_create("shop");
    /* No lookup: pk omitted. */
    assert_null(strstr(relation_full(d, 'f', &o), "\"pk\""));
    ox_pgoutput_set_pk_lookup(d, pk_of, "c");
    assert_non_null(strstr(relation_full(d, 'f', &o), "\"pk\":[\"c\",\"a\"]"));
    assert_non_null(strstr(relation_full(d, 'n', &o), "\"pk\":[\"c\",\"a\"]"));
    /* A key column the relation does not have: omitted, not guessed. */
    ox_pgoutput_set_pk_lookup(d, pk_of, "gone");
    assert_null(strstr(relation_full(d, 'f', &o), "\"pk\""));
    for (int i = 0; i < 8; i++)
        ox_buf_free(&o.json[i]);
    ox_pgoutput_free(d);
}

static void test_errors(void **state)
{
    ox_pgoutput *d = ox_pgoutput_create("db");
    struct out o = {.n = 0};
    struct msg m = {.n = 0};
    /* A change before its relation, outside a transaction, truncated. */
    u8(&m, 'I');
    be(&m, 1, 4);
    assert_int_equal(feed(d, &m, 1, &o), OX_EPROTO);
    u8(&m, 'B');
    be(&m, 1, 8);
    assert_int_equal(feed(d, &m, 1, &o), OX_ETRUNC);
    u8(&m, 'R');
    be(&m, 1, 4);
    str(&m, "s");
    str(&m, "t");
    u8(&m, 'd');
    be(&m, 60000, 2); /* more columns than the message holds */
    assert_int_equal(feed(d, &m, 1, &o), OX_ETRUNC);
    u8(&m, '?');
    assert_int_equal(feed(d, &m, 1, &o), OX_EPROTO);
    assert_int_equal(o.n, 0);
    ox_pgoutput_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lsn_roundtrip), cmocka_unit_test(test_default_names),
        cmocka_unit_test(test_frames),        cmocka_unit_test(test_transaction),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_pk_lookup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
