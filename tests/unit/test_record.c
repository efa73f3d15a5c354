/* test_record.c - ox_record: payload, checkpoint, JSON envelope, binary frames. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ox_record.h"

static void test_checkpoint(void **state)
{
    ox_log_srcpos sp;
    memset(&sp, 0, sizeof sp);
    sp.file_idx = 3;
    sp.offset = 4567;
    sp.timestamp = 1663049354;
    char buf[OX_CHECKPOINT_STRLEN];
    size_t n = ox_record_checkpoint(2130706433u, 3306, &sp, 42, buf);
    assert_string_equal(buf, "127.0.0.1:3306:3:4567:1663049354:42");
    assert_int_equal(n, strlen(buf));
    /* The widest text fits and reads back. */
    sp.file_idx = UINT64_MAX;
    sp.offset = UINT64_MAX;
    sp.timestamp = INT64_MAX;
    n = ox_record_checkpoint(0xffffffffu, 65535, &sp, UINT64_MAX, buf);
    assert_string_equal(buf, "255.255.255.255:65535:18446744073709551615:18446744073709551615:"
                             "9223372036854775807:18446744073709551615");
    assert_int_equal(n, 104);
    ox_checkpoint cp;
    ox_errbuf eb;
    assert_int_equal(ox_checkpoint_parse(buf, &cp, &eb), 0);
    assert_int_equal(cp.present, 0x3f);
    assert_true(cp.offset == UINT64_MAX && cp.timestamp == INT64_MAX && cp.msg_id == UINT64_MAX);
    sp.timestamp = INT64_MIN;
    n = ox_record_checkpoint(0xffffffffu, 65535, &sp, UINT64_MAX, buf);
    assert_int_equal(n, 105);
    assert_int_equal(n, strlen(buf));
}

static void test_checkpoint_partial_and_cut(void **state)
{
    ox_checkpoint cp;
    ox_errbuf eb;
    char buf[OX_CHECKPOINT_STRLEN];
    assert_int_equal(ox_checkpoint_parse("::3:0::", &cp, &eb), 0);
    assert_int_equal(ox_checkpoint_format(&cp, buf, sizeof buf), 7);
    assert_string_equal(buf, "::3:0::");
    assert_int_equal(ox_checkpoint_parse("10.0.0.01:007:1:2:-0:5", &cp, &eb), OX_EINVAL);
    assert_int_equal(ox_checkpoint_parse("10.0.0.01:007:1:2:0:5", &cp, &eb), 0);
    ox_checkpoint_format(&cp, buf, sizeof buf);
    assert_string_equal(buf, "10.0.0.1:7:1:2:0:5");
    /* A short buffer gets a cut, terminated text. */
    char small[6];
    assert_int_equal(ox_checkpoint_format(&cp, small, sizeof small), 5);
    assert_string_equal(small, "10.0.");
}

static void put_head(ox_buf *b, const char *json, const char *expect_rest)
{
    const char *rest;
    size_t rest_len;
    ox_buf_reset(b);
    ox_record_json_head(b, 9, "1.2.3.4:5:6:7:8:9", 17, json, strlen(json), &rest, &rest_len);
    if (expect_rest == NULL) {
        assert_null(rest);
        assert_int_equal(rest_len, 0);
        return;
    }
    assert_int_equal(rest_len, strlen(expect_rest));
    assert_memory_equal(rest, expect_rest, rest_len);
    ox_buf_put(b, rest, rest_len);
}

static void test_json_envelope(void **state)
{
    ox_buf b = OX_BUF_INIT;
    put_head(&b, "{\"op\":\"commit\",\"xid\":3}", "\"op\":\"commit\",\"xid\":3}");
    const char *want =
        "{\"msgId\":9,\"checkpoint\":\"1.2.3.4:5:6:7:8:9\",\"op\":\"commit\",\"xid\":3}";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    ox_record_env env;
    ox_errbuf eb;
    assert_int_equal(ox_record_json_parse(b.data, b.len, &env, &eb), 0);
    assert_int_equal(env.error, 0);
    assert_int_equal(env.msg_id, 9);
    assert_int_equal(env.file_idx, 6);
    assert_int_equal(env.offset, 7);
    assert_int_equal(env.timestamp, 8);
    assert_int_equal(env.commit, 1);
    assert_int_equal(env.checkpoint_len, 17);
    assert_memory_equal(env.checkpoint, "1.2.3.4:5:6:7:8:9", 17);
    put_head(&b, "{}", "}");
    want = "{\"msgId\":9,\"checkpoint\":\"1.2.3.4:5:6:7:8:9\"}";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    assert_int_equal(ox_record_json_parse(b.data, b.len, &env, &eb), 0);
    assert_int_equal(env.commit, 0);
    put_head(&b, "[]", NULL);
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    ox_buf_reset(&b);
    ox_record_json_error(&b, "gone \"now\"");
    want = "{\"isSuccess\":false,\"errMsg\":\"gone \\\"now\\\"\"}";
    assert_int_equal(b.len, strlen(want));
    assert_memory_equal(b.data, want, b.len);
    assert_int_equal(ox_record_json_parse(b.data, b.len, &env, &eb), 0);
    assert_int_equal(env.error, 1);
    ox_buf_free(&b);
}

static void test_json_envelope_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "{\"op\":\"insert\"}",
        "{\"msgId\":,\"checkpoint\":\"1.2.3.4:5:6:7:8:9\"}",
        "{\"msgId\":1,\"check\":\"1.2.3.4:5:6:7:8:9\"}",
        "{\"msgId\":1,\"checkpoint\":\"1.2.3.4:5:6:7:8:9",
        "{\"msgId\":1,\"checkpoint\":\"1.2.3.4:5:x:7:8:9\"}",
        "{\"msgId\":1,\"checkpoint\":\"1.2.3.4\"}",
        "{\"msgId\":123456789012345678901,\"checkpoint\":\"::1:2:3:\"}",
    };
    ox_record_env env;
    ox_errbuf eb;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(ox_record_json_parse((const uint8_t *)bad[i], strlen(bad[i]), &env, &eb),
                         OX_EINVAL);
    /* A checkpoint longer than any real one. */
    char line[300] = "{\"msgId\":1,\"checkpoint\":\"::1:2:3:";
    size_t n = strlen(line);
    memset(line + n, '9', 200);
    memcpy(line + n + 200, "\"}", 3);
    assert_int_equal(ox_record_json_parse((const uint8_t *)line, strlen(line), &env, &eb),
                     OX_EINVAL);
}

static void test_frame(void **state)
{
    ox_log_record rec;
    memset(&rec, 0, sizeof rec);
    rec.msg_id = 0x0102030405060708ull;
    rec.flags = OX_LOG_COMMIT;
    rec.src.file_idx = 3;
    rec.src.offset = 0x1122;
    rec.src.timestamp = -2;
    uint8_t h[OX_RECORD_FRAME_HDR];
    ox_record_frame_put(h, OX_RECORD_KIND_RECORD, &rec, 5);
    static const uint8_t want[OX_RECORD_FRAME_HDR] = {
        41, 0, 0, 0, 0,    1,    0, 0, 8, 7, 6, 5, 4,    3,    2,    1,    3,    0,    0,    0,
        0,  0, 0, 0, 0x22, 0x11, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    assert_memory_equal(h, want, sizeof want);
    ox_record_frame f;
    assert_int_equal(ox_record_frame_get(h, &f), 0);
    assert_int_equal(f.len, 41);
    assert_int_equal(f.kind, OX_RECORD_KIND_RECORD);
    assert_int_equal(f.flags, OX_RECORD_FLAG_COMMIT);
    assert_true(f.msg_id == rec.msg_id);
    assert_int_equal(f.file_idx, 3);
    assert_int_equal(f.offset, 0x1122);
    assert_int_equal(f.timestamp, -2);
    ox_record_frame_put(h, OX_RECORD_KIND_KEEPALIVE, NULL, 0);
    assert_int_equal(ox_record_frame_get(h, &f), 0);
    assert_int_equal(f.len, 36);
    assert_int_equal(f.kind, OX_RECORD_KIND_KEEPALIVE);
    assert_true(f.msg_id == 0 && f.flags == 0);
    h[4] = 3; /* unknown kind */
    assert_int_equal(ox_record_frame_get(h, &f), OX_ECORRUPT);
    h[4] = 0;
    h[0] = 35; /* shorter than the header */
    assert_int_equal(ox_record_frame_get(h, &f), OX_ECORRUPT);
}

static void test_payload(void **state)
{
    ox_change_target t[2] = {{.db = "a", .table = "t1", .new_db = "b", .new_table = "t2"},
                             {.db = "a", .table = "t3"}};
    ox_change c = {.op = OX_OP_DDL, .db = "a", .table = "t1", .ntargets = 2, .targets = t};
    ox_buf b = OX_BUF_INIT;
    ox_record_put_change_header(&b, &c, c.op);
    ox_buf_put(&b, "{}", 2);
    ox_payload_view v;
    assert_int_equal(ox_record_decode(b.data, (uint32_t)b.len, &v), 0);
    assert_int_equal(v.op, OX_OP_DDL);
    assert_int_equal(v.nnames, 2);
    assert_int_equal(v.json_len, 2);
    assert_memory_equal(v.json, "{}", 2);
    for (uint32_t cut = 0; cut < b.len - 2; cut++)
        assert_int_equal(ox_record_decode(b.data, cut, &v), OX_ECORRUPT);
    ox_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_checkpoint),    cmocka_unit_test(test_checkpoint_partial_and_cut),
        cmocka_unit_test(test_json_envelope), cmocka_unit_test(test_json_envelope_bad),
        cmocka_unit_test(test_frame),         cmocka_unit_test(test_payload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
