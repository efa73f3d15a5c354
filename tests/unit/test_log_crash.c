/*
 * test_log_crash.c - kill -9 at random moments.
 *
 * Runs BUILD/tests/log_crash_child (found next to this program through
 * /proc/self/exe) at least 50 times on one log directory, alternating the
 * COMMIT and INTERVAL fsync policies, and kills it with SIGKILL after a
 * random 5..60 ms of appending. After each kill it reopens the log and checks that every
 * msgId the child reported durable is there; that msgIds run densely from 1
 * without repeats; that each record's payload, length and source position
 * are the deterministic ones; and that transaction boundaries fall where the
 * workload put them (so no partial transaction survived recovery).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <libgen.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "../helpers/log_crash_common.h"
#include "log_test_util.h"
#include "ox_log.h"

#define RUNS          60
#define TIME_BUDGET_S 45

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Parses "durable N" lines; returns the largest N seen. */
static uint64_t parse_lines(char *buf, size_t *len, uint64_t best)
{
    char *start = buf, *nl;
    while ((nl = memchr(start, '\n', (size_t)(buf + *len - start))) != NULL) {
        *nl = '\0';
        unsigned long long v;
        if (sscanf(start, "durable %llu", &v) == 1 && v > best)
            best = v;
        start = nl + 1;
    }
    size_t rest = (size_t)(buf + *len - start);
    memmove(buf, start, rest);
    *len = rest;
    return best;
}

/* Runs the child for `ms` milliseconds, kills it; returns its last report. */
static uint64_t run_and_kill(const char *child, const char *dir, const char *policy, int ms,
                             unsigned seed)
{
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 1);
        close(pfd[0]);
        close(pfd[1]);
        char s[32];
        snprintf(s, sizeof s, "%u", seed);
        execl(child, child, dir, policy, s, (char *)NULL);
        _exit(127);
    }
    close(pfd[1]);
    char buf[4096];
    size_t len = 0;
    uint64_t best = 0;
    /* The clock starts once the child is up and appending (its first report
     * or 3 s at most), so that slow starts (sanitizer builds) still get
     * killed in the middle of their work. */
    struct pollfd p0 = {pfd[0], POLLIN, 0};
    if (poll(&p0, 1, 3000) > 0) {
        ssize_t n0 = read(pfd[0], buf, sizeof buf - 1);
        if (n0 > 0) {
            len = (size_t)n0;
            best = parse_lines(buf, &len, best);
        }
    }
    double end = now_s() + ms / 1000.0;
    for (;;) {
        double left = end - now_s();
        if (left <= 0)
            break;
        struct pollfd p = {pfd[0], POLLIN, 0};
        if (poll(&p, 1, (int)(left * 1000) + 1) > 0) {
            ssize_t n = read(pfd[0], buf + len, sizeof buf - 1 - len);
            if (n <= 0)
                break;
            len += (size_t)n;
            best = parse_lines(buf, &len, best);
        }
    }
    kill(pid, SIGKILL);
    int st;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL))
        fail_msg("child ended on its own (status %d) before the kill", st);
    /* Reports written before the kill count too. */
    ssize_t n;
    while ((n = read(pfd[0], buf + len, sizeof buf - 1 - len)) > 0) {
        len += (size_t)n;
        best = parse_lines(buf, &len, best);
    }
    close(pfd[0]);
    return best;
}

/* Reopens the log and checks everything in it; returns the last msgId. */
static uint64_t verify(const char *dir, uint64_t must_have, ox_log_recovery *rec)
{
    ox_log_options o;
    ox_log_options_default(&o);
    o.segment_bytes = CRASH_SEGMENT_BYTES;
    o.fsync_policy = OX_LOG_FSYNC_COMMIT;
    ox_log *log;
    ox_errbuf eb;
    if (ox_log_open(dir, &o, &log, rec, &eb) != 0)
        fail_msg("reopen after kill: %s", eb.msg);
    ox_log_start st = {OX_LOG_FROM_EARLIEST, 0, 0, 0, 0};
    ox_log_reader *r;
    assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), 0);
    uint64_t want = 1, txn_first = 1, txn_left = crash_txn_len(1);
    ox_log_record rr;
    int rc;
    while ((rc = ox_log_reader_next(r, &rr, 0, &eb)) == 0) {
        if (rr.msg_id != want)
            fail_msg("msgId %llu where %llu was due", (unsigned long long)rr.msg_id,
                     (unsigned long long)want);
        uint32_t len = crash_payload_len(want);
        if (rr.payload_len != len || !ltu_check(rr.payload, len, want) ||
            rr.src.timestamp != (int64_t)want)
            fail_msg("record %llu has wrong content", (unsigned long long)want);
        txn_left--;
        int commit = (rr.flags & OX_LOG_COMMIT) != 0;
        if (commit != (txn_left == 0))
            fail_msg("transaction starting at %llu: commit flag out of place at %llu",
                     (unsigned long long)txn_first, (unsigned long long)want);
        want++;
        if (commit) {
            txn_first = want;
            txn_left = crash_txn_len(want);
        }
    }
    if (rc != OX_EAGAIN)
        fail_msg("reading the log: %s", eb.msg);
    if (txn_first != want)
        fail_msg("the log ends inside a transaction at %llu", (unsigned long long)want);
    if (want - 1 < must_have)
        fail_msg("msgId %llu was reported durable but the log ends at %llu",
                 (unsigned long long)must_have, (unsigned long long)(want - 1));
    ox_log_info info;
    ox_log_info_get(log, &info);
    assert_int_equal(info.last_msg_id, want - 1);
    ox_log_reader_free(r);
    assert_int_equal(ox_log_close(log), 0);
    return want - 1;
}

static void test_kill9(void **state)
{
    char self[PATH_MAX], child[PATH_MAX + 32], dir[256];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    assert_true(n > 0);
    self[n] = '\0';
    snprintf(child, sizeof child, "%s/log_crash_child", dirname(self));
    if (access(child, X_OK) != 0)
        fail_msg("crash child not found at %s", child);
    ltu_mkdtemp(dir, "crash");
    srand((unsigned)time(NULL));
    double t0 = now_s();
    uint64_t durable_ever = 0, last = 0, dropped = 0;
    int runs = 0;
    for (; runs < RUNS && (runs < 50 || now_s() - t0 < TIME_BUDGET_S); runs++) {
        const char *policy = runs % 2 ? "commit" : "interval";
        int ms = 5 + rand() % 56;
        uint64_t d = run_and_kill(child, dir, policy, ms, (unsigned)rand());
        if (d > durable_ever)
            durable_ever = d;
        ox_log_recovery rec;
        uint64_t end = verify(dir, durable_ever, &rec);
        assert_true(end >= last || end >= durable_ever);
        last = end;
        dropped += rec.dropped_records;
    }
    print_message("%d kills in %.1f s; log ends at msgId %llu; %llu records of unfinished "
                  "transactions dropped in recovery\n",
                  runs, now_s() - t0, (unsigned long long)last, (unsigned long long)dropped);
    assert_true(runs >= 50);
    assert_true(durable_ever > 0);
    ltu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_kill9)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
