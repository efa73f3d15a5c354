/* test_store_parse.c - filters, payload framing and subscribe query parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ox_filter.h"
#include "ox_payload.h"
#include "ox_render.h"
#include "ox_sub_query.h"

static bool m(const ox_filter *f, const char *db, const char *t)
{
    return ox_filter_match(f, db, strlen(db), t, strlen(t));
}

static void test_filter(void **state)
{
    ox_filter *f = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_filter_parse(" db.t , db2.* ,*.audit_*,shop , a*b.x*y*", &f, &eb), 0);
    assert_false(ox_filter_empty(f));
    assert_true(m(f, "db", "t"));
    assert_false(m(f, "db", "t2"));
    assert_false(m(f, "DB", "t"));
    assert_true(m(f, "db2", "anything"));
    assert_true(m(f, "db2", ""));
    assert_true(m(f, "x", "audit_log"));
    assert_false(m(f, "x", "audit"));
    assert_true(m(f, "shop", "orders"));
    assert_true(m(f, "ab", "xy"));
    assert_true(m(f, "aqqb", "xzzyzzy"));
    assert_false(m(f, "aqqbc", "xy"));
    assert_false(m(f, "other", "t"));
    ox_filter_free(f);
    assert_int_equal(ox_filter_parse("  ", &f, &eb), 0);
    assert_true(ox_filter_empty(f));
    assert_false(m(f, "db", "t"));
    ox_filter_free(f);
    assert_int_equal(ox_filter_parse("a.b,,c", &f, &eb), OX_EINVAL);
    assert_string_equal(eb.msg, "filter pattern 2 is empty");
    assert_int_equal(ox_filter_parse("a.b,\x01x", &f, &eb), OX_EINVAL);
    assert_non_null(strstr(eb.msg, "control byte"));
    /* The dot splits at the first '.', so a table pattern may hold dots. */
    assert_int_equal(ox_filter_parse("d.t.x", &f, &eb), 0);
    assert_true(m(f, "d", "t.x"));
    ox_filter_free(f);
    /* PostgreSQL dbs are "database.schema". */
    assert_int_equal(ox_filter_parse("shop.public.t,crm.*,hr.private", &f, &eb), 0);
    assert_true(m(f, "shop.public", "t"));
    assert_false(m(f, "shop.public", "u"));
    assert_false(m(f, "shop.other", "t"));
    assert_true(m(f, "crm.public", "anything"));
    assert_true(m(f, "hr.private", "x"));
    assert_false(m(f, "hr.public", "x"));
    ox_filter_free(f);
    assert_int_equal(ox_filter_parse("*.audit_*", &f, &eb), 0);
    assert_true(m(f, "shop.public", "audit_log"));
    assert_false(m(f, "shop.public", "orders"));
    ox_filter_free(f);
}

static void test_payload(void **state)
{
    ox_buf b = OX_BUF_INIT;
    ox_record_put_header(&b, "shop", "orders", 1);
    ox_buf_puts(&b, "{\"a\":1}");
    ox_payload_view v;
    assert_int_equal(ox_record_decode(b.data, (uint32_t)b.len, &v), 0);
    assert_int_equal(v.db_len, 4);
    assert_memory_equal(v.db, "shop", 4);
    assert_int_equal(v.table_len, 6);
    assert_memory_equal(v.table, "orders", 6);
    assert_int_equal(v.op, 1);
    assert_int_equal(v.json_len, 7);
    assert_memory_equal(v.json, "{\"a\":1}", 7);
    for (uint32_t cut = 0; cut < 12; cut++)
        assert_int_equal(ox_record_decode(b.data, cut, &v), OX_ECORRUPT);
    ox_buf_reset(&b);
    ox_record_put_header(&b, NULL, NULL, 6);
    assert_int_equal(b.len, 3);
    assert_int_equal(ox_record_decode(b.data, 3, &v), 0);
    assert_int_equal(v.db_len + v.table_len + v.json_len, 0);
    assert_int_equal(v.op, 6);
    ox_buf_free(&b);
}

static bool collect(void *arg, const char *db, size_t dl, const char *t, size_t tl)
{
    ox_buf *b = arg;
    ox_buf_put(b, db, dl);
    ox_buf_putc(b, '.');
    ox_buf_put(b, t, tl);
    ox_buf_putc(b, ';');
    return false;
}

/* A DDL record names every table it acts on: the header carries the first,
 * the name list the others and every new name of a rename. */
static void test_payload_names(void **state)
{
    ox_change_target tg[2] = {{"ddl", "a", "other", "a2"}, {"ddl", "b", NULL, NULL}};
    ox_change c = {.op = OX_OP_DDL, .db = "ddl", .table = "a", .ntargets = 2, .targets = tg};
    ox_buf b = OX_BUF_INIT, names = OX_BUF_INIT;
    ox_record_put_change_header(&b, &c, c.op);
    ox_render_json(NULL, &c, &b);
    ox_payload_view v;
    assert_int_equal(ox_record_decode(b.data, (uint32_t)b.len, &v), 0);
    assert_int_equal(v.op, OX_OP_DDL);
    assert_int_equal(v.nnames, 2);
    assert_true(v.json_len > 2 && v.json[0] == '{' && v.json[v.json_len - 1] == '}');
    (void)ox_record_any_name(&v, collect, &names);
    ox_buf_putc(&names, '\0');
    assert_string_equal((char *)names.data, "ddl.a;other.a2;ddl.b;");
    /* The change-side enumeration gives the same names. */
    ox_buf_reset(&names);
    (void)ox_payload_change_any_name(&c, collect, &names);
    ox_buf_putc(&names, '\0');
    assert_string_equal((char *)names.data, "ddl.a;other.a2;ddl.b;");
    ox_filter *f = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_filter_parse("other.a2", &f, &eb), 0);
    assert_true(ox_payload_match(&v, f));
    ox_filter_free(f);
    assert_int_equal(ox_filter_parse("ddl.b", &f, &eb), 0);
    assert_true(ox_payload_match(&v, f));
    ox_filter_free(f);
    assert_int_equal(ox_filter_parse("ddl.c,other.a", &f, &eb), 0);
    assert_false(ox_payload_match(&v, f));
    ox_filter_free(f);
    /* Every cut of the name list is corrupt, never an overrun. */
    size_t hdr = (size_t)((const uint8_t *)v.json - b.data);
    for (uint32_t cut = 0; cut < hdr; cut++)
        assert_int_equal(ox_record_decode(b.data, cut, &v), OX_ECORRUPT);
    /* One target without a rename: no list, the old layout. */
    c.ntargets = 1;
    tg[0].new_db = tg[0].new_table = NULL;
    ox_buf_reset(&b);
    ox_record_put_change_header(&b, &c, c.op);
    ox_render_json(NULL, &c, &b);
    assert_int_equal(b.data[1 + 3 + 1 + 1], OX_OP_DDL);
    assert_int_equal(ox_record_decode(b.data, (uint32_t)b.len, &v), 0);
    assert_int_equal(v.nnames, 0);
    /* A position record keeps its op. */
    ox_buf_reset(&b);
    ox_record_put_header(&b, NULL, NULL, OX_PAYLOAD_POSITION);
    assert_int_equal(ox_record_decode(b.data, (uint32_t)b.len, &v), 0);
    assert_int_equal(v.op, OX_PAYLOAD_POSITION);
    ox_buf_free(&b);
    ox_buf_free(&names);
}

static int q(const char *qs, ox_sub_query *out, ox_errbuf *eb)
{
    ox_sub_query_init(out);
    return ox_sub_query_parse_string(out, qs, eb);
}

static void expect_bad(const char *qs, const char *needle)
{
    ox_sub_query sq;
    ox_errbuf eb;
    assert_int_equal(q(qs, &sq, &eb), OX_EINVAL);
    if (strstr(eb.msg, needle) == NULL)
        fail_msg("query %s: error \"%s\" lacks \"%s\"", qs, eb.msg, needle);
    ox_sub_query_free(&sq);
}

static void test_query(void **state)
{
    ox_sub_query sq;
    ox_errbuf eb;
    assert_int_equal(q("", &sq, &eb), 0);
    assert_int_equal(sq.start.kind, OX_LOG_FROM_LATEST);
    assert_int_equal(sq.format, OX_SUB_JSON);
    assert_null(sq.filter);
    assert_int_equal(q("checkpoint=127.0.0.1:3306:3:4567:1663049354:42&format=binary", &sq, &eb),
                     0);
    assert_int_equal(sq.start.kind, OX_LOG_FROM_MSGID);
    assert_int_equal(sq.start.msg_id, 43);
    assert_int_equal(sq.format, OX_SUB_BINARY);
    assert_int_equal(q("checkpoint=%3A%3A3%3A4567%3A%3A", &sq, &eb), 0);
    assert_int_equal(sq.start.kind, OX_LOG_FROM_SRCPOS);
    assert_int_equal(sq.start.file_idx, 3);
    assert_int_equal(sq.start.offset, 4568); /* strictly after */
    assert_int_equal(q("checkpoint=::::1663049354:", &sq, &eb), 0);
    assert_int_equal(sq.start.kind, OX_LOG_FROM_TIMESTAMP);
    assert_int_equal(sq.start.timestamp, 1663049354);
    assert_int_equal(q("timestamp=1663049354&filter=db.t%2Cdb2.*", &sq, &eb), 0);
    assert_int_equal(sq.start.kind, OX_LOG_FROM_TIMESTAMP);
    assert_non_null(sq.filter);
    assert_true(ox_filter_match(sq.filter, "db2", 3, "x", 1));
    ox_sub_query_free(&sq);
    assert_int_equal(q("msgId=7", &sq, &eb), 0);
    assert_int_equal(sq.start.kind, OX_LOG_FROM_MSGID);
    assert_int_equal(sq.start.msg_id, 7);
    assert_int_equal(q("from=earliest", &sq, &eb), 0);
    assert_int_equal(sq.start.kind, OX_LOG_FROM_EARLIEST);

    expect_bad("foo=1", "unknown parameter \"foo\"");
    expect_bad("checkpoint=::::1:&timestamp=5",
               "give only one of checkpoint, timestamp, msgId and from (got checkpoint and "
               "timestamp)");
    expect_bad("format=json&format=json", "parameter \"format\" given twice");
    expect_bad("checkpoint=::3", "bad checkpoint: checkpoint \"::3\": expected 6 fields");
    expect_bad("checkpoint=:::::", "needs a msgId");
    expect_bad("checkpoint=::::x:", "bad checkpoint");
    expect_bad("timestamp=-5", "bad timestamp");
    expect_bad("msgId=0", "bad msgId");
    expect_bad("msgId=99999999999999999999999", "bad msgId");
    expect_bad("from=middle", "bad from");
    expect_bad("format=xml", "bad format");
    expect_bad("filter=a,,b", "bad filter: filter pattern 2 is empty");
    expect_bad("filter=%zz", "bad percent-escape");
    expect_bad("filter=a%00b", "bad percent-escape");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter),
        cmocka_unit_test(test_payload),
        cmocka_unit_test(test_payload_names),
        cmocka_unit_test(test_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
