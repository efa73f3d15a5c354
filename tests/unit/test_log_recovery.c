/* test_log_recovery.c - ox_log_open after crashes and damage: torn tails,
 * unfinished transactions (also across segments), lost or bad indexes,
 * corrupt records in the middle (named file and offset), gaps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sys/wait.h>

#include "log_test_util.h"
#include "ox_log.h"

#define PAYLOAD 1000u
/* Size of one record written by put(): header 48 + opaque "0-1-<id>". */
static uint64_t rec_size(uint64_t id)
{
    char tmp[32];
    return 48 + (uint64_t)snprintf(tmp, sizeof tmp, "0-1-%llu", (unsigned long long)id) + PAYLOAD;
}

static ox_log_options opts(uint64_t seg)
{
    ox_log_options o;
    ox_log_options_default(&o);
    o.segment_bytes = seg;
    o.fsync_policy = OX_LOG_FSYNC_COMMIT;
    return o;
}

static void put(ox_log *log, uint64_t id, uint32_t flags)
{
    uint8_t buf[PAYLOAD];
    ox_log_srcpos s;
    ltu_src(&s, id, 100 + (int64_t)id);
    ltu_fill(buf, sizeof buf, id);
    uint64_t got;
    ox_errbuf eb;
    if (ox_log_append(log, &s, buf, sizeof buf, flags, &got, &eb) != 0)
        fail_msg("append %llu: %s", (unsigned long long)id, eb.msg);
    assert_int_equal(got, id);
}

/* A log with records 1..n, each its own transaction. */
static void make_log(const char *dir, uint64_t seg, uint64_t n)
{
    ox_log_options o = opts(seg);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    for (uint64_t i = 1; i <= n; i++)
        put(log, i, OX_LOG_COMMIT);
    assert_int_equal(ox_log_close(log), 0);
}

/* Reads everything; checks records 1..n; returns the error that ended it. */
static int read_all(ox_log *log, uint64_t n, ox_errbuf *eb)
{
    ox_log_start st = {OX_LOG_FROM_EARLIEST, 0, 0, 0, 0};
    ox_log_reader *r;
    int rc = ox_log_reader_open(log, &st, &r, eb);
    if (rc != 0)
        return rc;
    uint64_t want = 1;
    ox_log_record rec;
    while ((rc = ox_log_reader_next(r, &rec, 0, eb)) == 0) {
        assert_int_equal(rec.msg_id, want);
        assert_int_equal(rec.payload_len, PAYLOAD);
        assert_true(ltu_check(rec.payload, PAYLOAD, want));
        want++;
    }
    ox_log_reader_free(r);
    if (rc == OX_EAGAIN)
        assert_int_equal(want - 1, n);
    return rc;
}

static void append_bytes(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    close(fd);
}

static void test_torn_tail(void **state)
{
    char dir[256], seg[512];
    ltu_mkdtemp(dir, "torn");
    make_log(dir, 1 << 20, 50);
    ltu_seg_path(seg, dir, 1, "seg");
    uint64_t size = ltu_file_size(seg);
    /* The first 30 bytes of a copy of the last record: a torn write. */
    uint8_t part[30];
    int fd = open(seg, O_RDONLY);
    assert_int_equal(pread(fd, part, sizeof part, (off_t)(size - rec_size(50))), 30);
    close(fd);
    append_bytes(seg, part, sizeof part);
    ox_log_options o = opts(1 << 20);
    ox_log *log;
    ox_log_recovery rec;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.dropped_bytes, 30);
    assert_int_equal(rec.dropped_records, 0);
    assert_true(strlen(rec.detail) > 0);
    assert_int_equal(ltu_file_size(seg), size);
    assert_int_equal(read_all(log, 50, &eb), OX_EAGAIN);
    put(log, 51, OX_LOG_COMMIT);
    assert_int_equal(ox_log_close(log), 0);
    /* Zeros at the end (a file extended but never written): dropped too. */
    uint8_t zeros[5000] = {0};
    append_bytes(seg, zeros, sizeof zeros);
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.dropped_bytes, sizeof zeros);
    assert_int_equal(read_all(log, 51, &eb), OX_EAGAIN);
    assert_int_equal(ox_log_close(log), 0);
    ltu_rmrf(dir);
}

/* A child appends an unfinished transaction of n records, pushes it to the
 * file and dies without closing. */
static void crash_in_txn(const char *dir, uint64_t seg, uint64_t first, uint64_t n)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        ox_log_options o = opts(seg);
        ox_log *log;
        ox_errbuf eb;
        if (ox_log_open(dir, &o, &log, NULL, &eb) != 0)
            _exit(2);
        for (uint64_t i = 0; i < n; i++)
            put(log, first + i, 0);
        if (ox_log_sync(log, &eb) != 0)
            _exit(3);
        _exit(0);
    }
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_unfinished_txn(void **state)
{
    char dir[256];
    ltu_mkdtemp(dir, "unfin");
    make_log(dir, 1 << 20, 20);
    crash_in_txn(dir, 1 << 20, 21, 10);
    ox_log_options o = opts(1 << 20);
    ox_log *log;
    ox_log_recovery rec;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.dropped_records, 10);
    uint64_t bytes = 0;
    for (uint64_t i = 21; i <= 30; i++)
        bytes += rec_size(i);
    assert_int_equal(rec.dropped_bytes, bytes);
    ox_log_info info;
    ox_log_info_get(log, &info);
    assert_int_equal(info.next_msg_id, 21);
    assert_int_equal(read_all(log, 20, &eb), OX_EAGAIN);
    assert_int_equal(ox_log_close(log), 0);
    ltu_rmrf(dir);
}

static void test_unfinished_txn_across_segments(void **state)
{
    char dir[256], p[512];
    ltu_mkdtemp(dir, "unfseg");
    make_log(dir, 8192, 20);
    ox_log_options o = opts(8192);
    ox_log *log;
    ox_log_recovery rec;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    ox_log_info before;
    ox_log_info_get(log, &before);
    assert_int_equal(ox_log_close(log), 0);
    crash_in_txn(dir, 8192, 21, 40);
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.dropped_records, 40);
    ox_log_info info;
    ox_log_info_get(log, &info);
    assert_int_equal(info.next_msg_id, 21);
    assert_int_equal(info.segments, before.segments);
    assert_int_equal(read_all(log, 20, &eb), OX_EAGAIN);
    /* The segments that only held the unfinished transaction are gone. */
    ltu_seg_path(p, dir, 30, "seg");
    for (uint64_t id = 22; id <= 60; id++) {
        ltu_seg_path(p, dir, id, "seg");
        if (id > 21)
            assert_int_equal(access(p, F_OK), -1);
    }
    for (uint64_t i = 21; i <= 30; i++)
        put(log, i, i == 30 ? OX_LOG_COMMIT : 0);
    assert_int_equal(read_all(log, 30, &eb), OX_EAGAIN);
    assert_int_equal(ox_log_close(log), 0);
    ltu_rmrf(dir);
}

static void test_indexes_rebuilt(void **state)
{
    char dir[256], p[512];
    ltu_mkdtemp(dir, "idx");
    make_log(dir, 8192, 100);
    ox_log_options o = opts(8192);
    ox_log *log;
    ox_log_recovery rec;
    ox_errbuf eb;
    /* Lose the first index, garble the second, lose the tail's. */
    ltu_seg_path(p, dir, 1, "idx");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    ox_log_start st = {OX_LOG_FROM_LATEST, 0, 0, 0, 0};
    ox_log_info info;
    ox_log_info_get(log, &info);
    (void)st;
    assert_int_equal(ox_log_close(log), 0);
    uint64_t second = 1 + 8192 / rec_size(1) + 1, last = 0;
    ltu_seg_path(p, dir, second, "seg");
    if (access(p, F_OK) != 0)
        second = 0;
    for (uint64_t id = 100; id > 1 && !last; id--) {
        ltu_seg_path(p, dir, id, "seg");
        if (access(p, F_OK) == 0)
            last = id;
    }
    assert_true(last > 1);
    ltu_seg_path(p, dir, 1, "idx");
    assert_int_equal(unlink(p), 0);
    int garbled = 0;
    for (uint64_t id = 2; id < last && !garbled; id++) {
        ltu_seg_path(p, dir, id, "idx");
        if (access(p, F_OK) == 0) {
            ltu_flip(p, 40);
            garbled = 1;
        }
    }
    assert_true(garbled);
    ltu_seg_path(p, dir, last, "idx");
    assert_int_equal(unlink(p), 0);
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.rebuilt_indexes, 3);
    assert_int_equal(rec.dropped_bytes, 0);
    assert_int_equal(read_all(log, 100, &eb), OX_EAGAIN);
    for (uint64_t x = 1; x <= 100; x += 7) {
        ox_log_start s2 = {OX_LOG_FROM_MSGID, x, 0, 0, 0};
        ox_log_reader *r;
        ox_log_record rr;
        assert_int_equal(ox_log_reader_open(log, &s2, &r, &eb), 0);
        assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), 0);
        assert_int_equal(rr.msg_id, x);
        ox_log_reader_free(r);
    }
    assert_int_equal(ox_log_close(log), 0);
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.rebuilt_indexes, 0);
    assert_int_equal(ox_log_close(log), 0);
    ltu_rmrf(dir);
}

static void test_corrupt_middle_of_tail(void **state)
{
    char dir[256], seg[512], want[600];
    ltu_mkdtemp(dir, "midtail");
    make_log(dir, 1 << 20, 50);
    ltu_seg_path(seg, dir, 1, "seg");
    uint64_t off = 64;
    for (uint64_t i = 1; i < 20; i++)
        off += rec_size(i);
    ltu_flip(seg, off + 48 + 200); /* a payload byte of record 20 */
    ox_log_options o = opts(1 << 20);
    ox_log *log = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), OX_ECORRUPT);
    assert_null(log);
    snprintf(want, sizeof want, "%s offset %llu: bad record crc", seg, (unsigned long long)off);
    assert_non_null(strstr(eb.msg, want));
    /* Nothing was truncated. */
    assert_true(ltu_file_size(seg) > off + 30 * rec_size(1));
    ltu_rmrf(dir);
}

static void test_corrupt_sealed_segment(void **state)
{
    char dir[256], seg[512], want[600];
    ltu_mkdtemp(dir, "midseal");
    make_log(dir, 16384, 100);
    ltu_seg_path(seg, dir, 1, "seg");
    uint64_t off = 64 + rec_size(1) + rec_size(2);
    ltu_flip(seg, off + 8); /* the msgId field of record 3 */
    ox_log_options o = opts(16384);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    ox_log_start st = {OX_LOG_FROM_EARLIEST, 0, 0, 0, 0};
    ox_log_reader *r;
    ox_log_record rr;
    assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), 0);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), 0);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), 0);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_ECORRUPT);
    snprintf(want, sizeof want, "%s offset %llu", seg, (unsigned long long)off);
    assert_non_null(strstr(eb.msg, want));
    /* It stays an error; it is never skipped. */
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_ECORRUPT);
    ox_log_reader_free(r);
    /* Later data stays readable. */
    st = (ox_log_start){OX_LOG_FROM_MSGID, 90, 0, 0, 0};
    assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), 0);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), 0);
    assert_int_equal(rr.msg_id, 90);
    ox_log_reader_free(r);
    assert_int_equal(ox_log_close(log), 0);
    /* Without its index the damaged segment is caught at open. */
    char p[512];
    ltu_seg_path(p, dir, 1, "idx");
    unlink(p);
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), OX_ECORRUPT);
    assert_non_null(strstr(eb.msg, want));
    ltu_rmrf(dir);
}

static void test_bad_header_and_gap(void **state)
{
    char dir[256], p[512];
    ltu_mkdtemp(dir, "hdr");
    make_log(dir, 8192, 60);
    ox_log_options o = opts(8192);
    ox_log *log;
    ox_errbuf eb;
    /* Remove a middle segment: a gap in msgIds. */
    uint64_t mid = 0;
    for (uint64_t id = 20; id < 40 && !mid; id++) {
        ltu_seg_path(p, dir, id, "seg");
        if (access(p, F_OK) == 0)
            mid = id;
    }
    assert_true(mid > 0);
    char moved[600];
    snprintf(moved, sizeof moved, "%s.away", p);
    assert_int_equal(rename(p, moved), 0);
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), OX_ECORRUPT);
    assert_non_null(strstr(eb.msg, "contiguous"));
    assert_int_equal(rename(moved, p), 0);
    /* A damaged header of the first segment. */
    ltu_seg_path(p, dir, 1, "seg");
    ltu_flip(p, 20);
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), OX_ECORRUPT);
    assert_non_null(strstr(eb.msg, p));
    ltu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torn_tail),
        cmocka_unit_test(test_unfinished_txn),
        cmocka_unit_test(test_unfinished_txn_across_segments),
        cmocka_unit_test(test_indexes_rebuilt),
        cmocka_unit_test(test_corrupt_middle_of_tail),
        cmocka_unit_test(test_corrupt_sealed_segment),
        cmocka_unit_test(test_bad_header_and_gap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
