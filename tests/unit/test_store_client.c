/* test_store_client.c - liboxbow-client's stream parsers (record checkpoints: test_record.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/client/ox_client_parse.c"

static void test_dechunk(void **state)
{
    const char *in = "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n";
    /* Feed byte by byte: state must carry across calls. */
    oxc_dechunk d;
    memset(&d, 0, sizeof d);
    ox_buf out = OX_BUF_INIT;
    char err[128];
    for (size_t i = 0; i < strlen(in); i++)
        assert_int_equal(oxc_dechunk_feed(&d, (const uint8_t *)in + i, 1, &out, err, sizeof err),
                         0);
    assert_int_equal(d.done, 1);
    assert_int_equal(out.len, 11);
    assert_memory_equal(out.data, "hello world", 11);
    memset(&d, 0, sizeof d);
    ox_buf_reset(&out);
    assert_int_equal(oxc_dechunk_feed(&d, (const uint8_t *)"xyz\r\n", 5, &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "bad chunk size line"));
    memset(&d, 0, sizeof d);
    assert_int_equal(oxc_dechunk_feed(&d, (const uint8_t *)"2\r\nabX", 7, &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "missing CRLF"));
    ox_buf_free(&out);
}

static void test_json_lines(void **state)
{
    const char *s = "{\"msgId\":7,\"checkpoint\":\"127.0.0.1:3306:3:4567:1663049354:7\","
                    "\"op\":\"commit\"}\n\n{\"isSuccess\":false,\"errMsg\":\"gone\"}\n{\"msgId\":";
    const uint8_t *b = (const uint8_t *)s;
    size_t len = strlen(s), off = 0, used;
    int magic = 0;
    oxc_frame f;
    char err[128];
    assert_int_equal(oxc_parse_next(0, &magic, b, len, &f, &used, err, sizeof err), 1);
    assert_int_equal(f.kind, OXC_RECORD);
    assert_int_equal(f.msg_id, 7);
    assert_int_equal(f.file_idx, 3);
    assert_int_equal(f.offset, 4567);
    assert_int_equal(f.timestamp, 1663049354);
    assert_int_equal(f.commit, 1);
    assert_int_equal(f.checkpoint_len, strlen("127.0.0.1:3306:3:4567:1663049354:7"));
    off += used;
    assert_int_equal(oxc_parse_next(0, &magic, b + off, len - off, &f, &used, err, sizeof err), 1);
    assert_int_equal(f.kind, OXC_KEEPALIVE);
    off += used;
    assert_int_equal(oxc_parse_next(0, &magic, b + off, len - off, &f, &used, err, sizeof err), 1);
    assert_int_equal(f.kind, OXC_ERROR);
    off += used;
    /* An incomplete line waits for more bytes. */
    assert_int_equal(oxc_parse_next(0, &magic, b + off, len - off, &f, &used, err, sizeof err), 0);
    const char *bad = "{\"op\":\"insert\"}\n";
    assert_int_equal(
        oxc_parse_next(0, &magic, (const uint8_t *)bad, strlen(bad), &f, &used, err, sizeof err),
        -1);
    assert_non_null(strstr(err, "msgId and checkpoint"));
}

static size_t put_frame(uint8_t *p, int kind, int flags, uint64_t id, const char *payload)
{
    size_t pl = strlen(payload);
    uint64_t fields[4] = {id, 9, 1234, 1700000000};
    uint32_t len = (uint32_t)(36 + pl);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(len >> (8 * i));
    p[4] = (uint8_t)kind;
    p[5] = (uint8_t)flags;
    p[6] = p[7] = 0;
    for (int k = 0; k < 4; k++)
        for (int i = 0; i < 8; i++)
            p[8 + 8 * k + i] = (uint8_t)(fields[k] >> (8 * i));
    memcpy(p + 40, payload, pl);
    return 40 + pl;
}

static void test_binary_frames(void **state)
{
    uint8_t buf[512];
    size_t n = 0;
    memcpy(buf, "OXBSTRM1", 8);
    n = 8;
    n += put_frame(buf + n, 0, 1, 42,
                   "\x02"
                   "db\x01t\x06{}");
    n += put_frame(buf + n, 1, 0, 0, "");
    int magic = 0;
    oxc_frame f;
    size_t used;
    char err[128];
    /* Only the preamble available: consumed, no frame. */
    assert_int_equal(oxc_parse_next(1, &magic, buf, 8, &f, &used, err, sizeof err), 2);
    assert_int_equal(used, 8);
    assert_int_equal(oxc_parse_next(1, &magic, buf + 8, 20, &f, &used, err, sizeof err), 0);
    assert_int_equal(oxc_parse_next(1, &magic, buf + 8, n - 8, &f, &used, err, sizeof err), 1);
    assert_int_equal(f.kind, OXC_RECORD);
    assert_int_equal(f.commit, 1);
    assert_int_equal(f.msg_id, 42);
    assert_int_equal(f.file_idx, 9);
    assert_int_equal(f.offset, 1234);
    assert_int_equal(f.timestamp, 1700000000);
    assert_int_equal(f.data_len, 8);
    size_t off = 8 + used;
    assert_int_equal(oxc_parse_next(1, &magic, buf + off, n - off, &f, &used, err, sizeof err), 1);
    assert_int_equal(f.kind, OXC_KEEPALIVE);
    magic = 0;
    assert_int_equal(
        oxc_parse_next(1, &magic, (const uint8_t *)"HTTP/1.1", 8, &f, &used, err, sizeof err), -1);
    buf[8] = 3; /* frame length below the header size */
    buf[9] = buf[10] = buf[11] = 0;
    magic = 1;
    assert_int_equal(oxc_parse_next(1, &magic, buf + 8, n - 8, &f, &used, err, sizeof err), -1);
    assert_non_null(strstr(err, "bad frame length"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dechunk),
        cmocka_unit_test(test_json_lines),
        cmocka_unit_test(test_binary_frames),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
