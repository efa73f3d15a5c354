/*
 * fuzz_log_segment.c - arbitrary bytes as a change-log segment or index.
 *
 * The first input byte picks what the rest is:
 *   even: the only segment file (00000000000000000001.seg) of a log;
 *   odd:  the index file of a valid three-record log.
 * The target opens the log (recovery runs on the bytes), reads every record
 * from the start and from a few msgIds and timestamps, and closes it. It must
 * not crash, and every record it returns must be byte for byte what the
 * segment holds at that place, with a matching CRC32C - recomputed here from
 * the documented format, independently of the reader.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../unit/log_test_util.h"
#include "ox_assert.h"
#include "ox_crc32c.h"
#include "ox_log.h"

static uint64_t get64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Checks that `rec` is the record at `off` of seg[0..len). */
static uint64_t check_record(const uint8_t *seg, size_t len, uint64_t off, const ox_log_record *rec)
{
    ox_assert(off + 48 <= len);
    const uint8_t *p = seg + off;
    uint64_t size = 48 + (uint64_t)rec->src.opaque_len + rec->payload_len;
    ox_assert(off + size <= len);
    ox_assert(get32(p) == 0x4C52584Fu);
    ox_assert(get32(p + 4) == ox_crc32c(0, p + 8, size - 8));
    ox_assert(get64(p + 8) == rec->msg_id);
    ox_assert(get64(p + 16) == rec->src.file_idx && get64(p + 24) == rec->src.offset);
    ox_assert((int64_t)get64(p + 32) == rec->src.timestamp);
    ox_assert(memcmp(p + 48, rec->src.opaque, rec->src.opaque_len) == 0);
    ox_assert(memcmp(p + 48 + rec->src.opaque_len, rec->payload, rec->payload_len) == 0);
    return off + size;
}

static void write_file(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ox_assert(f != NULL);
    ox_assert(fwrite(p, 1, n, f) == n || n == 0);
    fclose(f);
}

static uint8_t *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc(sz > 0 ? (size_t)sz : 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static void read_from(ox_log *log, int kind, uint64_t v, const uint8_t *seg, size_t seglen,
                      int check_offsets)
{
    ox_log_start st = {kind, v, (int64_t)v, v, 0};
    ox_log_reader *r;
    ox_errbuf eb;
    if (ox_log_reader_open(log, &st, &r, &eb) != 0)
        return;
    ox_log_record rec;
    uint64_t off = 64;
    while (ox_log_reader_next(r, &rec, 0, &eb) == 0)
        if (check_offsets)
            off = check_record(seg, seglen, off, &rec);
    ox_log_reader_free(r);
}

/* Scratch logs on tmpfs when there is one: the target creates, writes and
 * removes a directory per input, which on a disk costs far more than the
 * parsing it tests. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 0);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char dir[256], seg[512], idx[512];
    ltu_mkdtemp(dir, "fuzz");
    ltu_seg_path(seg, dir, 1, "seg");
    ltu_seg_path(idx, dir, 1, "idx");
    ox_log_options o;
    ox_log_options_default(&o);
    o.fsync_policy = OX_LOG_FSYNC_NONE;
    /* Inputs are at most a few KiB; a small segment size also keeps the
     * writer's buffers small (allocating 2 MiB twice per input under ASan
     * was most of the time). */
    o.segment_bytes = 64 << 10;
    ox_log *log;
    ox_errbuf eb;
    if (data[0] % 2 == 0) {
        write_file(seg, data + 1, size - 1);
    } else {
        ox_assert(ox_log_open(dir, &o, &log, NULL, &eb) == 0);
        for (uint64_t i = 1; i <= 3; i++) {
            ox_log_srcpos s;
            ltu_src(&s, i, (int64_t)(10 * i));
            ox_assert(ox_log_append(log, &s, "abc", 3, OX_LOG_COMMIT, NULL, &eb) == 0);
        }
        ox_assert(ox_log_close(log) == 0);
        write_file(idx, data + 1, size - 1);
    }
    if (ox_log_open(dir, &o, &log, NULL, &eb) == 0) {
        /* The segment as recovery left it: returned records must be in it. */
        size_t seglen = 0;
        uint8_t *segb = read_file(seg, &seglen);
        if (segb != NULL) {
            read_from(log, OX_LOG_FROM_EARLIEST, 0, segb, seglen, 1);
            read_from(log, OX_LOG_FROM_MSGID, 2, segb, seglen, 0);
            read_from(log, OX_LOG_FROM_TIMESTAMP, 15, segb, seglen, 0);
            read_from(log, OX_LOG_FROM_SRCPOS, 1, segb, seglen, 0);
            free(segb);
        }
        ox_log_close(log);
    }
    ltu_rmrf(dir);
    return 0;
}
