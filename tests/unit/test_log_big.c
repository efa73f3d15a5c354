/* test_log_big.c - a 1 GiB transaction with bounded memory: written as it
 * comes (never held whole), invisible until its commit, then read back in
 * full; an aborted 256 MiB transaction before it is cut off again. Peak RSS
 * (VmHWM) must grow by far less than the transaction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "log_test_util.h"
#include "ox_log.h"

#define REC  (4u << 20)
#define NREC 256u /* 1 GiB */

static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f != NULL && fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "VmHWM: %ld kB", &v) == 1)
            break;
    if (f != NULL)
        fclose(f);
    return v;
}

static void put(ox_log *log, uint8_t *buf, uint64_t id, uint32_t flags)
{
    ox_log_srcpos s;
    ltu_src(&s, id, 1000);
    /* Cheap distinct content: the msgId stamped every 4 KiB. */
    for (uint32_t o = 0; o < REC; o += 4096)
        memcpy(buf + o, &id, sizeof id);
    ox_errbuf eb;
    uint64_t got;
    if (ox_log_append(log, &s, buf, REC, flags, &got, &eb) != 0)
        fail_msg("append %llu: %s", (unsigned long long)id, eb.msg);
    assert_int_equal(got, id);
}

static void test_one_gib_txn(void **state)
{
    char dir[256];
    ltu_mkdtemp(dir, "big");
    ox_log_options o;
    ox_log_options_default(&o);
    ox_log *log;
    ox_errbuf eb;
    uint8_t *buf = malloc(REC);
    memset(buf, 0xab, REC);
    assert_int_equal(ox_log_open(dir, &o, &log, NULL, &eb), 0);
    long hwm0 = vm_hwm_kb();
    ox_log_start st = {OX_LOG_FROM_EARLIEST, 0, 0, 0, 0};
    ox_log_reader *r;
    assert_int_equal(ox_log_reader_open(log, &st, &r, &eb), 0);
    for (uint64_t i = 1; i <= 64; i++)
        put(log, buf, i, 0);
    assert_int_equal(ox_log_abort(log, &eb), 0);
    for (uint64_t i = 1; i <= NREC; i++) {
        put(log, buf, i, i == NREC ? OX_LOG_COMMIT : 0);
        if (i == NREC - 1) {
            ox_log_record rec;
            assert_int_equal(ox_log_reader_next(r, &rec, 0, &eb), OX_EAGAIN);
        }
    }
    assert_int_equal(ox_log_sync(log, &eb), 0);
    long hwm1 = vm_hwm_kb();
    ox_log_info info;
    ox_log_info_get(log, &info);
    assert_int_equal(info.last_msg_id, NREC);
    assert_true(info.bytes > (uint64_t)NREC * REC);
    for (uint64_t i = 1; i <= NREC; i++) {
        ox_log_record rec;
        assert_int_equal(ox_log_reader_next(r, &rec, 1000, &eb), 0);
        assert_int_equal(rec.msg_id, i);
        assert_int_equal(rec.payload_len, REC);
        for (uint32_t off = 0; off < REC; off += 4096 * 61)
            assert_memory_equal(rec.payload + off, &i, sizeof i);
        assert_int_equal(rec.flags, i == NREC ? OX_LOG_COMMIT : 0);
    }
    long hwm2 = vm_hwm_kb();
    print_message("VmHWM: %ld kB at open, %ld kB after writing 1 GiB, %ld kB after reading it\n",
                  hwm0, hwm1, hwm2);
    assert_true(hwm1 - hwm0 < 64 * 1024);
    assert_true(hwm2 - hwm0 < 96 * 1024);
    ox_log_reader_free(r);
    assert_int_equal(ox_log_close(log), 0);
    free(buf);
    ltu_rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_one_gib_txn)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
