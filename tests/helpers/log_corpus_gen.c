/*
 * log_corpus_gen.c - writes seed inputs for fuzz_log_segment into OUTDIR:
 * real small segments (mode byte 0 + segment bytes) and a real index (mode
 * byte 1 + index bytes), made with the log API.
 *
 * usage: log_corpus_gen OUTDIR
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../unit/log_test_util.h"
#include "ox_log.h"

static void emit(const char *outdir, const char *name, uint8_t mode, const char *src)
{
    FILE *in = fopen(src, "rb");
    char path[600];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *out = fopen(path, "wb");
    if (in == NULL || out == NULL) {
        perror(in == NULL ? src : path);
        exit(1);
    }
    fputc(mode, out);
    int c;
    while ((c = fgetc(in)) != EOF)
        fputc(c, out);
    fclose(in);
    fclose(out);
}

/* A log with `n` records in transactions of `per` records. */
static void make(const char *dir, int n, int per, int open_tail, size_t len)
{
    ox_log_options o;
    ox_log_options_default(&o);
    o.fsync_policy = OX_LOG_FSYNC_NONE;
    ox_log *log;
    ox_errbuf eb;
    if (ox_log_open(dir, &o, &log, NULL, &eb) != 0) {
        fprintf(stderr, "%s\n", eb.msg);
        exit(1);
    }
    uint8_t buf[4096];
    for (int i = 1; i <= n; i++) {
        ox_log_srcpos s;
        ltu_src(&s, (uint64_t)i, 1000 + i % 7);
        ltu_fill(buf, len, (uint64_t)i);
        ox_log_append(log, &s, buf, (uint32_t)len, i % per == 0 ? OX_LOG_COMMIT : 0, NULL, &eb);
    }
    if (open_tail)
        ox_log_sync(log, &eb); /* leaves the unfinished transaction in the file */
    else
        ox_log_close(log);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    char dir[256], seg[512], idx[512];
    struct {
        const char *name;
        int n, per, open_tail;
        size_t len;
    } cases[] = {
        {"seg_small", 5, 1, 0, 20},
        {"seg_txns", 40, 4, 0, 100},
        {"seg_open_txn", 23, 5, 1, 50},
        {"seg_indexed", 60, 3, 0, 900},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        ltu_mkdtemp(dir, "corpus");
        make(dir, cases[i].n, cases[i].per, cases[i].open_tail, cases[i].len);
        ltu_seg_path(seg, dir, 1, "seg");
        ltu_seg_path(idx, dir, 1, "idx");
        emit(argv[1], cases[i].name, 0, seg);
        if (i == 3)
            emit(argv[1], "idx_indexed", 1, idx);
        ltu_rmrf(dir);
    }
    return 0;
}
