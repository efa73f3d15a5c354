/*
 * log_crash_child.c - the victim of test_log_crash: appends transactions to
 * a change log until it is killed, and reports on stdout every time the
 * visible (durable) end advances: "durable N\n".
 *
 * usage: log_crash_child DIR commit|interval SEED
 *
 * Everything is deterministic from msgIds so that the parent can verify what
 * it finds: a transaction starting at msgId F has crash_txn_len(F) records,
 * record m has crash_payload_len(m) payload bytes of ltu_fill(m) and
 * timestamp m. Now and then a transaction is aborted half-way (its msgIds
 * are then handed out again, to the same content).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/log_test_util.h"
#include "log_crash_common.h"
#include "ox_log.h"

static void report(uint64_t v)
{
    char line[64];
    int n = snprintf(line, sizeof line, "durable %llu\n", (unsigned long long)v);
    if (write(1, line, (size_t)n) != n)
        _exit(4);
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s DIR commit|interval SEED\n", argv[0]);
        return 2;
    }
    ox_log_options o;
    ox_log_options_default(&o);
    o.segment_bytes = CRASH_SEGMENT_BYTES;
    o.fsync_policy = strcmp(argv[2], "commit") == 0 ? OX_LOG_FSYNC_COMMIT : OX_LOG_FSYNC_INTERVAL;
    o.fsync_interval_ms = 3;
    srand((unsigned)strtoul(argv[3], NULL, 10));
    ox_log *log;
    ox_errbuf eb;
    if (ox_log_open(argv[1], &o, &log, NULL, &eb) != 0) {
        fprintf(stderr, "open: %s\n", eb.msg);
        return 3;
    }
    uint8_t *buf = malloc(CRASH_MAX_PAYLOAD);
    uint64_t reported = 0;
    for (unsigned txn = 0;; txn++) {
        ox_log_info info;
        ox_log_info_get(log, &info);
        uint64_t first = info.next_msg_id, n = crash_txn_len(first);
        int abort_it = rand() % 11 == 0;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t id = first + k;
            if (abort_it && k == n / 2)
                break;
            ox_log_srcpos s;
            ltu_src(&s, id, (int64_t)id);
            uint32_t len = crash_payload_len(id);
            ltu_fill(buf, len, id);
            uint64_t got;
            if (ox_log_append(log, &s, buf, len, k + 1 == n ? OX_LOG_COMMIT : 0, &got, &eb) != 0 ||
                got != id) {
                fprintf(stderr, "append %llu: %s\n", (unsigned long long)id, eb.msg);
                return 5;
            }
        }
        if (abort_it && ox_log_abort(log, &eb) != 0) {
            fprintf(stderr, "abort: %s\n", eb.msg);
            return 6;
        }
        ox_log_info_get(log, &info);
        if (info.last_msg_id != reported) {
            reported = info.last_msg_id;
            report(reported);
        }
        if (txn % 8 == 0)
            usleep(300);
    }
}
