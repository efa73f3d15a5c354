/* test_log_fault.c - the change log under injected system call failures:
 * short writes are retried transparently; ENOSPC, EIO and failed fsyncs
 * surface as errors, the log refuses further work until reopened, nothing
 * unsynced is ever shown to readers, and everything that was visible before
 * the failure is still there after reopening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fault_inject.h"
#include "log_test_util.h"
#include "ox_log.h"

static char dir[256];

static int setup(void **state)
{
    fi_reset();
    ltu_mkdtemp(dir, "fault");
    return 0;
}

static int teardown(void **state)
{
    fi_reset();
    ltu_rmrf(dir);
    return 0;
}

static ox_log_options opts(int policy, uint64_t seg)
{
    ox_log_options o;
    ox_log_options_default(&o);
    o.fsync_policy = policy;
    o.fsync_interval_ms = 2;
    o.segment_bytes = seg;
    return o;
}

static int put(ox_log *log, uint64_t id, size_t len, uint32_t flags, ox_errbuf *eb)
{
    static uint8_t buf[70000];
    ox_log_srcpos s;
    ltu_src(&s, id, (int64_t)id);
    ltu_fill(buf, len, id);
    uint64_t got = 0;
    int rc = ox_log_append(log, &s, buf, (uint32_t)len, flags, &got, eb);
    if (rc == 0)
        assert_int_equal(got, id);
    return rc;
}

static uint64_t visible(ox_log *log)
{
    ox_log_info i;
    ox_log_info_get(log, &i);
    return i.last_msg_id;
}

/* Reopens without faults and checks records 1..n are all there, intact. */
static void verify_reopen(uint64_t n, uint64_t len)
{
    fi_reset();
    ox_log_options o = opts(OX_LOG_FSYNC_COMMIT, 1 << 20);
    ox_log *log;
    ox_errbuf eb;
    ox_log_recovery rec;
    assert_int_equal(ox_log_open(dir, &o, &log, &rec, &eb), 0);
    assert_true(visible(log) >= n);
    ox_log_start st = {OX_LOG_FROM_EARLIEST, 0, 0, 0, 0};
    ox_log_reader *r;
    assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), 0);
    for (uint64_t i = 1; i <= n; i++) {
        ox_log_record rr;
        assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), 0);
        assert_int_equal(rr.msg_id, i);
        assert_int_equal(rr.payload_len, len);
        assert_true(ltu_check(rr.payload, len, i));
    }
    ox_log_reader_free(r);
    assert_int_equal(ox_log_close(log), 0);
}

static void test_short_writes(void **state)
{
    ox_log_options o = opts(OX_LOG_FSYNC_INTERVAL, 16384);
    ox_log *log;
    ox_errbuf eb;
    fi_short(FI_PWRITE, 100);
    fi_short(FI_WRITE, 7);
    fi_eintr(FI_PWRITE, 5);
    fi_eintr(FI_FDATASYNC, 2);
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    for (uint64_t i = 1; i <= 300; i++)
        assert_int_equal(put(log, i, 500, OX_LOG_COMMIT, &eb), 0);
    assert_int_equal(ox_log_sync(log, &eb), 0);
    assert_int_equal(visible(log), 300);
    assert_int_equal(ox_log_close(log), 0);
    assert_true(fi_calls[FI_PWRITE] > 1500);
    verify_reopen(300, 500);
}

static void test_enospc_on_commit(void **state)
{
    ox_log_options o = opts(OX_LOG_FSYNC_COMMIT, 1 << 20);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    for (uint64_t i = 1; i <= 10; i++)
        assert_int_equal(put(log, i, 300, OX_LOG_COMMIT, &eb), 0);
    fi_fail(FI_PWRITE, 0, ENOSPC, 1);
    assert_int_equal(put(log, 11, 300, 0, &eb), 0); /* buffered only */
    assert_int_equal(put(log, 12, 300, OX_LOG_COMMIT, &eb), OX_ENOSPC);
    assert_int_equal(visible(log), 10);
    fi_reset();
    /* Failed until reopened, even though the disk "recovered". */
    assert_int_equal(put(log, 11, 300, OX_LOG_COMMIT, &eb), OX_ENOSPC);
    assert_non_null(strstr(eb.msg, "reopen"));
    assert_int_equal(ox_log_sync(log, &eb), OX_ENOSPC);
    assert_int_equal(ox_log_close(log), OX_ENOSPC);
    verify_reopen(10, 300);
}

/* A full disk clears in place (ox_log_retry): the log is cut back to its last
 * visible record, a reader open across the failure keeps reading, and the
 * writer appends the rest again; nothing lost, nothing twice. Any other
 * failure still needs a reopen. */
static void test_enospc_retry(void **state)
{
    ox_log_options o = opts(OX_LOG_FSYNC_INTERVAL, 8192);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    ox_log_start st = {OX_LOG_FROM_EARLIEST, 0, 0, 0, 0};
    ox_log_reader *r;
    assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), 0);
    for (uint64_t i = 1; i <= 40; i++)
        assert_int_equal(put(log, i, 700, OX_LOG_COMMIT, &eb), 0);
    assert_int_equal(ox_log_sync(log, &eb), 0);
    assert_int_equal(visible(log), 40);
    /* Disk full from now on, across segment roll-overs. */
    fi_fail(FI_PWRITE, 0, ENOSPC, 1);
    fi_fail(FI_WRITE, 0, ENOSPC, 1);
    int rc = 0;
    uint64_t i = 41;
    for (; i <= 80 && rc == 0; i++)
        rc = put(log, i, 700, (i % 3 == 0) ? OX_LOG_COMMIT : 0, &eb);
    if (rc == 0)
        rc = ox_log_sync(log, &eb);
    assert_int_equal(rc, OX_ENOSPC);
    assert_int_equal(visible(log), 40);
    /* Still full: retry cuts back, the next write fails again. */
    assert_int_equal(ox_log_retry(log, &eb), 0);
    rc = put(log, 41, 700, OX_LOG_COMMIT, &eb);
    if (rc == 0)
        rc = ox_log_sync(log, &eb);
    assert_int_equal(rc, OX_ENOSPC);
    /* Space is back. */
    fi_reset();
    assert_int_equal(ox_log_retry(log, &eb), 0);
    assert_int_equal(visible(log), 40);
    for (i = 41; i <= 100; i++)
        assert_int_equal(put(log, i, 700, OX_LOG_COMMIT, &eb), 0);
    assert_int_equal(ox_log_sync(log, &eb), 0);
    assert_int_equal(visible(log), 100);
    for (i = 1; i <= 100; i++) {
        ox_log_record rr;
        assert_int_equal(ox_log_reader_next(r, &rr, 2000, &eb), 0);
        assert_int_equal(rr.msg_id, i);
        assert_true(ltu_check(rr.payload, 700, i));
    }
    ox_log_reader_free(r);
    /* Another kind of failure is not retried in place. */
    fi_fail(FI_FDATASYNC, 0, EIO, 0);
    assert_int_equal(put(log, 101, 700, OX_LOG_COMMIT, &eb), 0);
    for (int k = 0; k < 200 && fi_fired[FI_FDATASYNC] == 0; k++)
        usleep(5000);
    usleep(20000);
    assert_int_equal(ox_log_retry(log, &eb), OX_EIO);
    assert_non_null(strstr(eb.msg, "reopen"));
    ox_log_close(log);
    verify_reopen(100, 700);
}

static void test_fsync_failure_commit_policy(void **state)
{
    ox_log_options o = opts(OX_LOG_FSYNC_COMMIT, 1 << 20);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    ox_log_start st = {OX_LOG_FROM_EARLIEST, 0, 0, 0, 0};
    ox_log_reader *r;
    assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), 0);
    for (uint64_t i = 1; i <= 5; i++)
        assert_int_equal(put(log, i, 100, OX_LOG_COMMIT, &eb), 0);
    fi_fail(FI_FDATASYNC, 0, EIO, 0); /* fails once; a retry would "succeed" */
    assert_int_equal(put(log, 6, 100, OX_LOG_COMMIT, &eb), OX_EIO);
    assert_non_null(strstr(eb.msg, "fdatasync"));
    /* Record 6 is on disk but was never made durable: not visible, and a
     * later sync must not claim it is. */
    assert_int_equal(ox_log_sync(log, &eb), OX_EIO);
    assert_int_equal(visible(log), 5);
    ox_log_record rr;
    for (uint64_t i = 1; i <= 5; i++) {
        assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), 0);
        assert_int_equal(rr.msg_id, i);
    }
    assert_int_equal(ox_log_reader_next(r, &rr, 0, &eb), OX_EAGAIN);
    assert_int_equal(put(log, 7, 100, OX_LOG_COMMIT, &eb), OX_EIO);
    assert_int_equal(ox_log_close(log), OX_EIO);
    ox_log_reader_free(r);
    verify_reopen(5, 100);
}

static void test_fsync_failure_flusher(void **state)
{
    ox_log_options o = opts(OX_LOG_FSYNC_INTERVAL, 1 << 20);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    for (uint64_t i = 1; i <= 50; i++)
        assert_int_equal(put(log, i, 1000, OX_LOG_COMMIT, &eb), 0);
    assert_int_equal(ox_log_sync(log, &eb), 0);
    assert_int_equal(visible(log), 50);
    fi_fail(FI_FDATASYNC, 0, EIO, 0);
    /* The flusher may fail while these are still being appended: from then
     * on appends fail too. */
    for (uint64_t i = 51; i <= 60; i++) {
        int rc = put(log, i, 1000, OX_LOG_COMMIT, &eb);
        if (rc != 0) {
            assert_int_equal(rc, OX_EIO);
            break;
        }
    }
    /* The flusher hits the failure within a few intervals. */
    for (int k = 0; k < 200 && fi_fired[FI_FDATASYNC] == 0; k++)
        usleep(5000);
    assert_int_equal(fi_fired[FI_FDATASYNC], 1);
    /* ox_log_sync waits for the flusher to finish, so it sees the failure
     * even though the injected error was one-shot and a new fdatasync
     * would "succeed". */
    assert_int_equal(ox_log_sync(log, &eb), OX_EIO);
    assert_int_equal(visible(log), 50);
    assert_int_equal(put(log, 61, 1000, OX_LOG_COMMIT, &eb), OX_EIO);
    assert_int_equal(ox_log_close(log), OX_EIO);
    verify_reopen(50, 1000);
}

static void test_errors_in_roll_and_abort(void **state)
{
    ox_log_options o = opts(OX_LOG_FSYNC_COMMIT, 8192);
    ox_log *log;
    ox_errbuf eb;
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    for (uint64_t i = 1; i <= 7; i++)
        assert_int_equal(put(log, i, 1000, OX_LOG_COMMIT, &eb), 0);
    /* The next append rolls over: the new segment's header write fails. */
    fi_fail(FI_WRITE, 0, ENOSPC, 0);
    int rc = 0;
    uint64_t i = 8;
    for (; i <= 12 && rc == 0; i++)
        rc = put(log, i, 1000, OX_LOG_COMMIT, &eb);
    assert_int_equal(rc, OX_ENOSPC);
    uint64_t vis = visible(log);
    assert_int_equal(vis, i - 2);
    assert_int_equal(ox_log_close(log), OX_ENOSPC);
    verify_reopen(vis, 1000);

    /* Abort of a transaction already on disk: the truncate fails. */
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    assert_int_equal(put(log, vis + 1, 5000, 0, &eb), 0);
    assert_int_equal(put(log, vis + 2, 5000, 0, &eb), 0);
    assert_int_equal(ox_log_sync(log, &eb), 0); /* pushes the open txn to the file */
    fi_fail(FI_FTRUNCATE, 0, EIO, 0);
    assert_int_equal(ox_log_abort(log, &eb), OX_EIO);
    assert_int_equal(put(log, vis + 1, 10, OX_LOG_COMMIT, &eb), OX_EIO);
    assert_int_equal(ox_log_close(log), OX_EIO);
    verify_reopen(vis, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_short_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc_on_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_enospc_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_failure_commit_policy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsync_failure_flusher, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_in_roll_and_abort, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
