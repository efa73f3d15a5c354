/* test_log.c - the change log: transactions, segments, index lookups,
 * retention, concurrent readers. Recovery is in test_log_recovery.c, fault
 * injection in test_log_fault.c, kill -9 in test_log_crash.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <pthread.h>

#include "log_test_util.h"
#include "ox_log.h"

static ox_log_options opts(uint64_t seg, int policy)
{
    ox_log_options o;
    ox_log_options_default(&o);
    o.segment_bytes = seg;
    o.fsync_policy = policy;
    o.fsync_interval_ms = 2;
    return o;
}

static uint64_t put(ox_log *log, uint64_t expect_id, size_t len, int64_t ts, uint32_t flags)
{
    uint8_t buf[8192];
    ox_log_srcpos s;
    ltu_src(&s, expect_id, ts);
    ltu_fill(buf, len, expect_id);
    uint64_t id = 0;
    ox_errbuf eb;
    int rc = ox_log_append(log, &s, buf, (uint32_t)len, flags, &id, &eb);
    if (rc != 0)
        fail_msg("append: %s", eb.msg);
    assert_int_equal(id, expect_id);
    return id;
}

/* Reads the next record and checks it against what put() wrote. */
static void expect_rec(ox_log_reader *r, uint64_t id, size_t len)
{
    ox_log_record rec;
    ox_errbuf eb;
    int rc = ox_log_reader_next(r, &rec, 2000, &eb);
    if (rc != 0)
        fail_msg("reader_next for %llu: %d %s", (unsigned long long)id, rc, eb.msg);
    assert_int_equal(rec.msg_id, id);
    assert_int_equal(rec.payload_len, len);
    assert_true(ltu_check(rec.payload, len, id));
    ox_log_srcpos s;
    ltu_src(&s, id, rec.src.timestamp);
    assert_int_equal(rec.src.file_idx, s.file_idx);
    assert_int_equal(rec.src.offset, s.offset);
    assert_int_equal(rec.src.opaque_len, s.opaque_len);
    assert_memory_equal(rec.src.opaque, s.opaque, s.opaque_len);
}

static ox_log_reader *reader(ox_log *log, int kind, uint64_t v)
{
    ox_log_start st = {kind, v, (int64_t)v, v, 0};
    ox_log_reader *r = NULL;
    ox_errbuf eb;
    int rc = ox_log_reader_open(log, &st, &r, &eb);
    if (rc != 0)
        fail_msg("reader_open: %s", eb.msg);
    return r;
}

static void test_txn_visibility(void **state)
{
    char dir[256];
    ltu_mkdtemp(dir, "vis");
    ox_log_options o = opts(1 << 20, OX_LOG_FSYNC_COMMIT);
    ox_log *log;
    ox_log_recovery rec;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.dropped_bytes + rec.dropped_records + rec.rebuilt_indexes, 0);
    ox_log_reader *r = reader(log, OX_LOG_FROM_EARLIEST, 0);
    ox_log_record rr;
    put(log, 1, 100, 10, 0);
    put(log, 2, 0, 10, 0);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);
    assert_int_equal(ox_log_reader_next(r, &rr, 20, &eb), OX_EAGAIN);
    ox_log_info info;
    ox_log_info_get(log, &info);
    assert_int_equal(info.last_msg_id, 0);
    assert_int_equal(info.next_msg_id, 3);
    put(log, 3, 5000, 11, OX_LOG_COMMIT);
    expect_rec(r, 1, 100);
    expect_rec(r, 2, 0);
    expect_rec(r, 3, 5000);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);
    ox_log_info_get(log, &info);
    assert_int_equal(info.first_msg_id, 1);
    assert_int_equal(info.last_msg_id, 3);
    assert_int_equal(info.last_src.timestamp, 11);
    assert_int_equal(info.first_src.timestamp, 10);

    /* Abort: the msgIds of the dropped records are handed out again. */
    put(log, 4, 10, 12, 0);
    put(log, 5, 10, 12, 0);
    assert_int_equal(ox_log_abort(log, &eb), 0);
    put(log, 4, 33, 13, OX_LOG_COMMIT);
    expect_rec(r, 4, 33);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);

    /* Bad arguments do not hurt the log. */
    assert_int_equal(ox_log_append(log, NULL, NULL, 10, 0, NULL, &eb), OX_EINVAL);
    assert_int_equal(ox_log_append(log, NULL, "x", 1, 0x80, NULL, &eb), OX_EINVAL);
    ox_log_reader_free(r);
    assert_int_equal(ox_log_close(log), 0);

    /* Reopen after a clean close: nothing to repair, msgIds continue. */
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.dropped_bytes + rec.dropped_records + rec.rebuilt_indexes, 0);
    assert_string_equal(rec.detail, "");
    ox_log_info_get(log, &info);
    assert_int_equal(info.last_msg_id, 4);
    assert_int_equal(info.next_msg_id, 5);
    assert_int_equal(info.last_src.timestamp, 13);
    assert_int_equal(info.last_src.opaque_len, 5);
    assert_memory_equal(info.last_src.opaque, "0-1-4", 5);
    r = reader(log, OX_LOG_FROM_MSGID, 3);
    expect_rec(r, 3, 5000);
    expect_rec(r, 4, 33);
    ox_log_reader_free(r);
    r = reader(log, OX_LOG_FROM_LATEST, 0);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);
    put(log, 5, 7, 14, OX_LOG_COMMIT);
    expect_rec(r, 5, 7);
    ox_log_reader_free(r);
    assert_int_equal(ox_log_close(log), 0);
    ltu_rmrf(dir);
}

/* Timestamps wiggle (binlogs are not strictly ordered): ts(i) = i/4 + (i%3). */
static int64_t ts_of(uint64_t id)
{
    return 1000 + (int64_t)(id / 4) + (int64_t)(id % 3);
}
/* Transactions of 1..5 records: the one starting at id has 1 + id%5. */
static uint64_t txn_len(uint64_t first)
{
    return 1 + first % 5;
}

#define NREC 3000u
static uint64_t txn_start_of[NREC + 2];

static void fill_log(ox_log *log)
{
    uint64_t id = 1;
    while (id <= NREC) {
        uint64_t n = txn_len(id), first = id;
        for (uint64_t k = 0; k < n && id <= NREC; k++, id++) {
            txn_start_of[id] = first;
            put(log, id, 40 + id % 300, ts_of(id), (k + 1 == n || id == NREC) ? OX_LOG_COMMIT : 0);
        }
    }
}

static void check_lookups(ox_log *log)
{
    ox_log_record rr;
    ox_errbuf eb;
    for (uint64_t x = 1; x <= NREC; x += 37) {
        ox_log_reader *r = reader(log, OX_LOG_FROM_MSGID, x);
        expect_rec(r, x, 40 + x % 300);
        ox_log_reader_free(r);
    }
    for (int64_t t = 1000; t <= ts_of(NREC); t += 23) {
        uint64_t first = 0;
        for (uint64_t i = 1; i <= NREC && !first; i++)
            if (ts_of(i) >= t)
                first = txn_start_of[i];
        ox_log_reader *r = reader(log, OX_LOG_FROM_TIMESTAMP, (uint64_t)t);
        assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), 0);
        assert_int_equal(rr.msg_id, first);
        ox_log_reader_free(r);
    }
    for (uint64_t x = 1; x <= NREC; x += 53) {
        ox_log_srcpos s;
        ltu_src(&s, x, 0);
        ox_log_start st = {OX_LOG_FROM_SRCPOS, 0, 0, s.file_idx, s.offset};
        ox_log_reader *r;
        assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), 0);
        assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), 0);
        assert_int_equal(rr.msg_id, txn_start_of[x]);
        ox_log_reader_free(r);
    }
    /* Beyond the tail: accepted, waits. */
    ox_log_reader *r = reader(log, OX_LOG_FROM_TIMESTAMP, 99999);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);
    ox_log_reader_free(r);
    r = reader(log, OX_LOG_FROM_MSGID, NREC + 10);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);
    ox_log_reader_free(r);
    /* The whole log from the start. */
    r = reader(log, OX_LOG_FROM_EARLIEST, 0);
    for (uint64_t i = 1; i <= NREC; i++)
        expect_rec(r, i, 40 + i % 300);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);
    ox_log_reader_free(r);
}

static void test_segments_and_lookups(void **state)
{
    char dir[256];
    ltu_mkdtemp(dir, "seg");
    ox_log_options o = opts(16384, OX_LOG_FSYNC_NONE);
    ox_log *log;
    ox_errbuf eb;
    ox_log_recovery rec;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    fill_log(log);
    ox_log_info info;
    ox_log_info_get(log, &info);
    assert_true(info.segments > 20);
    assert_int_equal(info.last_msg_id, NREC);
    check_lookups(log);
    assert_int_equal(ox_log_close(log), 0);
    /* Sealed indexes from their files now, and a clean reopen. */
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.rebuilt_indexes, 0);
    check_lookups(log);
    assert_int_equal(ox_log_close(log), 0);
    /* Without any index file: all rebuilt. */
    char p[512];
    for (uint64_t i = 1; i <= NREC; i++) {
        ltu_seg_path(p, dir, i, "idx");
        unlink(p);
    }
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.rebuilt_indexes, info.segments);
    assert_int_equal(rec.dropped_bytes, 0);
    check_lookups(log);
    assert_int_equal(ox_log_close(log), 0);
    ltu_rmrf(dir);
}

static void test_txn_across_segments(void **state)
{
    char dir[256];
    ltu_mkdtemp(dir, "span");
    ox_log_options o = opts(8192, OX_LOG_FSYNC_COMMIT);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    put(log, 1, 100, 5, OX_LOG_COMMIT);
    ox_log_reader *r = reader(log, OX_LOG_FROM_EARLIEST, 0);
    expect_rec(r, 1, 100);
    for (uint64_t i = 2; i < 100; i++)
        put(log, i, 1000, 6, 0);
    ox_log_info info;
    ox_log_info_get(log, &info);
    assert_true(info.segments >= 10);
    ox_log_record rr;
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);
    /* Abort across segments: back to one segment, ids reused. */
    assert_int_equal(ox_log_abort(log, &eb), 0);
    ox_log_info_get(log, &info);
    assert_int_equal(info.segments, 1);
    assert_int_equal(info.next_msg_id, 2);
    for (uint64_t i = 2; i < 100; i++)
        put(log, i, 1000, 7, i == 99 ? OX_LOG_COMMIT : 0);
    for (uint64_t i = 2; i < 100; i++)
        expect_rec(r, i, 1000);
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);
    ox_log_reader_free(r);
    /* A transaction left open at close is dropped, not half-kept. */
    put(log, 100, 1000, 8, 0);
    put(log, 101, 1000, 8, 0);
    assert_int_equal(ox_log_close(log), 0);
    ox_log_recovery rec;
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_int_equal(rec.dropped_records, 0);
    ox_log_info_get(log, &info);
    assert_int_equal(info.next_msg_id, 100);
    r = reader(log, OX_LOG_FROM_MSGID, 50);
    for (uint64_t i = 50; i < 100; i++)
        expect_rec(r, i, 1000);
    ox_log_reader_free(r);
    assert_int_equal(ox_log_close(log), 0);
    ltu_rmrf(dir);
}

static void test_retention(void **state)
{
    char dir[256];
    ltu_mkdtemp(dir, "ret");
    ox_log_options o = opts(4096, OX_LOG_FSYNC_NONE);
    o.retention_seconds = 100;
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    /* 200 old records (ts 1000..), then 200 new ones (ts 5000..). */
    for (uint64_t i = 1; i <= 400; i++)
        put(log, i, 500, i <= 200 ? 1000 + (int64_t)i : 5000 + (int64_t)i, OX_LOG_COMMIT);
    ox_log_reader *inside = reader(log, OX_LOG_FROM_EARLIEST, 0);
    expect_rec(inside, 1, 500);
    ox_log_reader *tail = reader(log, OX_LOG_FROM_MSGID, 390);
    ox_log_info before, after;
    ox_log_info_get(log, &before);
    uint32_t nseg = 0;
    uint64_t nbytes = 0;
    assert_int_equal(ox_log_retain(log, 5000, &nseg, &nbytes, &eb), 0);
    assert_true(nseg > 5);
    ox_log_info_get(log, &after);
    assert_int_equal(after.segments, before.segments - nseg);
    assert_int_equal(after.bytes, before.bytes - nbytes);
    assert_true(after.first_msg_id > 100 && after.first_msg_id <= 201);
    assert_true(after.first_src.timestamp > 1000);
    assert_int_equal(after.first_src.file_idx, 1);
    /* The reader inside a removed segment, and starts before the earliest. */
    ox_log_record rr;
    assert_int_equal(ox_log_reader_next(inside, &rr, 0, &eb), OX_EGONE);
    ox_log_reader_free(inside);
    ox_log_reader *r = NULL;
    ox_log_start st = {OX_LOG_FROM_MSGID, 1, 0, 0, 0};
    assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), OX_EGONE);
    st = (ox_log_start){OX_LOG_FROM_TIMESTAMP, 0, 900, 0, 0};
    assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), OX_EGONE);
    r = reader(log, OX_LOG_FROM_EARLIEST, 0);
    expect_rec(r, after.first_msg_id, 500);
    ox_log_reader_free(r);
    expect_rec(tail, 390, 500);
    /* Size cap: keep at most ~3 segments; never the tail. */
    o.retention_bytes = 3 * 4096;
    assert_int_equal(ox_log_close(log), 0);
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    ox_log_reader_free(tail);
    assert_int_equal(ox_log_retain(log, 0, &nseg, NULL, &eb), 0);
    assert_true(nseg > 0);
    ox_log_info_get(log, &after);
    assert_true(after.bytes <= 3 * 4096 + 4096);
    assert_true(after.segments >= 1);
    assert_int_equal(after.last_msg_id, 400);
    /* msgIds continue after retention and reopen. */
    put(log, 401, 10, 6000, OX_LOG_COMMIT);
    assert_int_equal(ox_log_close(log), 0);
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    ox_log_info_get(log, &after);
    assert_int_equal(after.next_msg_id, 402);
    r = reader(log, OX_LOG_FROM_MSGID, 400);
    expect_rec(r, 400, 500);
    expect_rec(r, 401, 10);
    ox_log_reader_free(r);
    /* Retaining everything old still keeps the tail segment. */
    o.retention_bytes = 1;
    assert_int_equal(ox_log_close(log), 0);
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    assert_int_equal(ox_log_retain(log, 999999, NULL, NULL, &eb), 0);
    ox_log_info_get(log, &after);
    assert_int_equal(after.segments, 1);
    put(log, 402, 10, 6001, OX_LOG_COMMIT);
    assert_int_equal(ox_log_close(log), 0);
    ltu_rmrf(dir);
}

#define TAIL_N 20000u
struct follow {
    ox_log *log;
    int rc;
    uint64_t got;
};

static void *follower(void *arg)
{
    struct follow *f = arg;
    ox_log_start st = {OX_LOG_FROM_EARLIEST, 0, 0, 0, 0};
    ox_log_reader *r;
    ox_errbuf eb;
    f->rc = ox_log_reader_open(f->log, &st, &r, &eb);
    while (f->rc == 0 && f->got < TAIL_N) {
        ox_log_record rec;
        int rc = ox_log_reader_next(r, &rec, -1, &eb);
        if (rc != 0) {
            f->rc = rc;
            break;
        }
        if (rec.msg_id != f->got + 1 || !ltu_check(rec.payload, rec.payload_len, rec.msg_id)) {
            f->rc = -100;
            break;
        }
        f->got++;
        /* Whole transactions only: once a record of a transaction is
         * visible, the rest of it is readable at once, without waiting. */
        while (!(rec.flags & OX_LOG_COMMIT) && f->got < TAIL_N) {
            rc = ox_log_reader_next(r, &rec, 0, &eb);
            if (rc != 0 || rec.msg_id != f->got + 1) {
                f->rc = -101;
                break;
            }
            f->got++;
        }
    }
    ox_log_reader_free(r);
    return NULL;
}

static void test_concurrent_tail(void **state)
{
    char dir[256];
    ltu_mkdtemp(dir, "tail");
    ox_log_options o = opts(256 << 10, OX_LOG_FSYNC_INTERVAL);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    struct follow f[3];
    pthread_t th[3];
    for (int i = 0; i < 3; i++) {
        f[i] = (struct follow){log, 0, 0};
        pthread_create(&th[i], NULL, follower, &f[i]);
    }
    uint64_t id = 1;
    while (id <= TAIL_N) {
        uint64_t n = 1 + id % 4;
        for (uint64_t k = 0; k < n && id <= TAIL_N; k++, id++)
            put(log, id, 20 + id % 200, 1, (k + 1 == n || id == TAIL_N) ? OX_LOG_COMMIT : 0);
        if (id % 1000 == 0)
            usleep(1000);
    }
    for (int i = 0; i < 3; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(f[i].rc, 0);
        assert_int_equal(f[i].got, TAIL_N);
    }
    assert_int_equal(ox_log_close(log), 0);
    ltu_rmrf(dir);
}

struct blocked {
    ox_log_reader *r;
    int rc;
};

static void *block_reader(void *arg)
{
    struct blocked *b = arg;
    ox_log_record rec;
    ox_errbuf eb;
    b->rc = ox_log_reader_next(b->r, &rec, -1, &eb);
    return NULL;
}

static void test_wake_and_close(void **state)
{
    char dir[256];
    ltu_mkdtemp(dir, "wake");
    ox_log_options o = opts(1 << 20, OX_LOG_FSYNC_INTERVAL);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    struct blocked b = {reader(log, OX_LOG_FROM_LATEST, 0), 1};
    pthread_t th;
    pthread_create(&th, NULL, block_reader, &b);
    usleep(50000);
    ox_log_reader_wake(b.r);
    pthread_join(th, NULL);
    assert_int_equal(b.rc, OX_EAGAIN);
    b.rc = 1;
    pthread_create(&th, NULL, block_reader, &b);
    usleep(50000);
    assert_int_equal(ox_log_close(log), 0);
    pthread_join(th, NULL);
    assert_int_equal(b.rc, OX_ECLOSED);
    ox_log_reader_free(b.r);
    ltu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_txn_visibility),      cmocka_unit_test(test_segments_and_lookups),
        cmocka_unit_test(test_txn_across_segments), cmocka_unit_test(test_retention),
        cmocka_unit_test(test_concurrent_tail),     cmocka_unit_test(test_wake_and_close),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
