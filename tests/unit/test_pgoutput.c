/* test_pgoutput.c - PostgreSQL frames, pgoutput messages and LSN positions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ox_pg_source.h"
#include "ox_pg_stream.h"
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

static void message(struct msg *m, int transactional, uint64_t lsn, const char *prefix,
                    const char *content, size_t n)
{
    u8(m, 'M');
    u8(m, transactional ? 1 : 0);
    be(m, lsn, 8);
    str(m, prefix);
    be(m, n, 4);
    memcpy(m->b + m->n, content, n);
    m->n += n;
}

/* A message outside a transaction is one of its own at its LSN; its JSON
 * is exactly docs/records.md's. */
static void test_messages(void **state)
{
    (void)state;
    ox_pgoutput *d = ox_pgoutput_create("shop");
    struct out o = {.n = 0};
    struct msg m = {.n = 0};
    ox_pgoutput_set_send_time(d, 1764500000);
    message(&m, 0, 23803720, "audit", "hello", 5);
    assert_int_equal(feed(d, &m, 23803720, &o), 0);
    assert_int_equal(o.n, 3);
    assert_string_equal((char *)o.json[1].data,
                        "{\"op\":\"message\",\"db\":\"shop\",\"prefix\":\"audit\","
                        "\"transactional\":false,\"content\":{\"base64\":\"aGVsbG8=\"},"
                        "\"fileIdx\":0,\"offset\":23803720,\"nextOffset\":23803720,"
                        "\"timestamp\":1764500000,\"serverId\":0}");
    assert_non_null(strstr((char *)o.json[0].data, "\"op\":\"begin\""));
    assert_string_equal((char *)o.json[2].data,
                        "{\"op\":\"commit\",\"fileIdx\":0,\"offset\":23803720,\"nextOffset\":"
                        "23803720,\"timestamp\":1764500000,\"serverId\":0}");
    assert_int_equal(ox_pgoutput_in_txn(d), 0);
    /* Transactional: inside its transaction, every byte kept. */
    o.n = 0;
    u8(&m, 'B');
    be(&m, 0x300, 8);
    be(&m, 0, 8);
    be(&m, 9, 4);
    assert_int_equal(feed(d, &m, 0x100, &o), 0);
    message(&m, 1, 0x200, "p\"x", "\0\xff\n", 3);
    assert_int_equal(feed(d, &m, 0x200, &o), 0);
    assert_int_equal(o.n, 2);
    assert_non_null(strstr((char *)o.json[1].data, "\"prefix\":\"p\\\"x\",\"transactional\":true,"
                                                   "\"content\":{\"base64\":\"AP8K\"}"));
    /* Transactional outside a transaction, truncated content: errors. */
    ox_pgoutput_reset(d);
    message(&m, 1, 0x400, "p", "x", 1);
    assert_int_equal(feed(d, &m, 0x400, &o), OX_EPROTO);
    message(&m, 0, 0x400, "p", "x", 1);
    m.b[m.n - 2] = 9; /* length 9 with one byte present */
    assert_int_equal(feed(d, &m, 0x400, &o), OX_ETRUNC);
    for (int i = 0; i < 8; i++)
        ox_buf_free(&o.json[i]);
    ox_pgoutput_free(d);
}

/* Stream Start (xid, first) or Stream Commit (xid, commit, end). */
static void stream_start(struct msg *m, uint32_t xid)
{
    u8(m, 'S');
    be(m, xid, 4);
    u8(m, 1);
}

static void stream_commit(struct msg *m, uint32_t xid, uint64_t commit, uint64_t end)
{
    u8(m, 'c');
    be(m, xid, 4);
    u8(m, 0);
    be(m, commit, 8);
    be(m, end, 8);
    be(m, 7, 8);
}

static void test_stream_parse(void **state)
{
    (void)state;
    ox_pg_stream_msg sm;
    ox_errbuf eb;
    struct msg m = {.n = 0};
    stream_start(&m, 900);
    assert_int_equal(ox_pgoutput_stream_parse(m.b, m.n, 0, 1, &sm, &eb), 0);
    assert_int_equal(sm.kind, 'S');
    assert_int_equal(sm.xid, 900);
    assert_int_equal(sm.first, 1);
    assert_int_equal(ox_pgoutput_stream_parse(m.b, m.n, 1, 1, &sm, &eb), OX_EPROTO);
    m.n = 0;
    u8(&m, 'I');
    be(&m, 901, 4);
    be(&m, 16384, 4);
    assert_int_equal(ox_pgoutput_stream_parse(m.b, m.n, 1, 1, &sm, &eb), 0);
    assert_int_equal(sm.kind, 'I');
    assert_int_equal(sm.xid, 901);
    assert_int_equal(sm.body, 5);
    assert_int_equal(ox_pgoutput_stream_parse(m.b, m.n, 0, 1, &sm, &eb), 0);
    assert_int_equal(sm.kind, 0); /* an unstreamed Insert */
    m.n = 0;
    stream_commit(&m, 900, 0x500, 0x510);
    assert_int_equal(ox_pgoutput_stream_parse(m.b, m.n, 0, 1, &sm, &eb), 0);
    assert_int_equal(sm.kind, 'c');
    assert_int_equal(sm.commit_lsn, 0x500);
    assert_int_equal(sm.end_lsn, 0x510);
    assert_int_equal(ox_pgoutput_stream_parse(m.b, m.n - 1, 0, 1, &sm, &eb), OX_ETRUNC);
    assert_int_equal(ox_pgoutput_stream_parse(m.b, m.n, 1, 1, &sm, &eb), OX_EPROTO);
    m.n = 0;
    u8(&m, 'E');
    assert_int_equal(ox_pgoutput_stream_parse(m.b, m.n, 0, 1, &sm, &eb), OX_EPROTO);
    m.n = 0;
    u8(&m, 'B');
    assert_int_equal(ox_pgoutput_stream_parse(m.b, m.n, 1, 1, &sm, &eb), OX_EPROTO);
}

static int spill_feed(ox_pg_stream *st, struct msg *m, uint64_t lsn)
{
    ox_errbuf eb;
    int rc = ox_pg_stream_feed(st, m->b, m->n, lsn, &eb);
    m->n = 0;
    return rc;
}

/* Spill and replay: a subtransaction's rows skipped, its Relation kept,
 * an aborted transaction's file deleted, the replay's BEGIN/COMMIT those
 * of the Stream Commit. */
static void test_stream_spill(void **state)
{
    (void)state;
    char dir[] = "/tmp/test_pg_stream.XXXXXX";
    assert_non_null(mkdtemp(dir));
    ox_pg_stream *st = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_pg_stream_create(dir, &st, &eb), 0);
    ox_pgoutput *d = ox_pgoutput_create("db");
    struct msg m = {.n = 0};
#define FEED(lsn) spill_feed(st, &m, (lsn))
    stream_start(&m, 900);
    assert_int_equal(FEED(0x10), 1);
    u8(&m, 'R');
    be(&m, 901, 4); /* sent by the subtransaction that aborts */
    be(&m, 7, 4);
    str(&m, "public");
    str(&m, "t");
    u8(&m, 'd');
    be(&m, 1, 2);
    u8(&m, 1);
    str(&m, "id");
    be(&m, 23, 4);
    be(&m, 0xffffffffu, 4);
    assert_int_equal(FEED(0x11), 1);
    for (int i = 0; i < 3; i++) {
        u8(&m, 'I');
        be(&m, i == 1 ? 901 : 900, 4);
        be(&m, 7, 4);
        u8(&m, 'N');
        be(&m, 1, 2);
        char v[2] = {(char)('1' + i), 0};
        text(&m, v);
        assert_int_equal(FEED(0x12 + (uint64_t)i), 1);
    }
    u8(&m, 'E');
    assert_int_equal(FEED(0x20), 1);
    assert_true(ox_pg_stream_open(st));
    stream_start(&m, 902);
    assert_int_equal(FEED(0x21), 1);
    u8(&m, 'E');
    assert_int_equal(FEED(0x22), 1);
    char path[128];
    snprintf(path, sizeof path, "%s/902.spill", dir);
    assert_int_equal(access(path, F_OK), 0);
    u8(&m, 'A');
    be(&m, 902, 4);
    be(&m, 902, 4);
    assert_int_equal(FEED(0x23), 1);
    assert_int_not_equal(access(path, F_OK), 0);
    u8(&m, 'A');
    be(&m, 900, 4);
    be(&m, 901, 4);
    assert_int_equal(FEED(0x24), 1);
    u8(&m, 'I'); /* an unstreamed message goes to the decoder */
    assert_int_equal(FEED(0x25), 0);
    stream_commit(&m, 900, 0x30, 0x38);
    assert_int_equal(FEED(0x38), 1);
    assert_true(ox_pg_stream_replaying(st));
    struct out o = {.n = 0};
    assert_int_equal(ox_pg_stream_replay(st, d, 1, collect, &o, &eb), 0);
    assert_true(ox_pg_stream_replaying(st));
    while (ox_pg_stream_replaying(st))
        assert_int_equal(ox_pg_stream_replay(st, d, 1, collect, &o, &eb), 0);
    assert_int_equal(o.n, 4); /* begin, rows 1 and 3, commit */
    assert_non_null(
        strstr((char *)o.json[1].data, "\"after\":{\"id\":1},\"fileIdx\":0,\"offset\":18"));
    assert_non_null(
        strstr((char *)o.json[2].data, "\"after\":{\"id\":3},\"fileIdx\":0,\"offset\":20"));
    assert_non_null(strstr((char *)o.json[3].data, "\"xid\":900,\"fileIdx\":0,\"offset\":48,"
                                                   "\"nextOffset\":56"));
    assert_false(ox_pg_stream_open(st));
    snprintf(path, sizeof path, "%s/900.spill", dir);
    assert_int_not_equal(access(path, F_OK), 0);
    /* A later block of a transaction whose start this connection never
     * saw: an error, never a transaction with its first changes missing. */
    u8(&m, 'S');
    be(&m, 999, 4);
    u8(&m, 0);
    assert_int_equal(FEED(0x40), OX_EPROTO);
    ox_pg_stream_reset(st);
#undef FEED
    for (int i = 0; i < 8; i++)
        ox_buf_free(&o.json[i]);
    ox_pgoutput_free(d);
    ox_pg_stream_free(st);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lsn_roundtrip), cmocka_unit_test(test_default_names),
        cmocka_unit_test(test_frames),        cmocka_unit_test(test_transaction),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_pk_lookup),
        cmocka_unit_test(test_messages),      cmocka_unit_test(test_stream_parse),
        cmocka_unit_test(test_stream_spill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
