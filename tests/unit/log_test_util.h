/*
 * log_test_util.h - helpers shared by the change-log tests: scratch
 * directories, deterministic payloads, file pokes.
 */
#ifndef LOG_TEST_UTIL_H
#define LOG_TEST_UTIL_H

#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ox_log.h"

static int ltu_rm_cb(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(p);
}

/* Removes a directory tree. */
static inline void ltu_rmrf(const char *dir)
{
    nftw(dir, ltu_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* Makes a fresh scratch directory; `out` gets its path. */
static inline void ltu_mkdtemp(char out[256], const char *tag)
{
    const char *base = getenv("TMPDIR");
    snprintf(out, 256, "%s/oxlog-%s-XXXXXX", base && *base ? base : "/tmp", tag);
    if (mkdtemp(out) == NULL) {
        perror("mkdtemp");
        abort();
    }
}

/* Deterministic payload bytes for msgId `id`. */
static inline void ltu_fill(uint8_t *p, size_t n, uint64_t id)
{
    uint64_t x = id * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)x;
    }
}

static inline int ltu_check(const uint8_t *p, size_t n, uint64_t id)
{
    uint64_t x = id * 0x9E3779B97F4A7C15ull + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if (p[i] != (uint8_t)x)
            return 0;
    }
    return 1;
}

/* Source position derived from msgId, with a GTID-like opaque string. */
static inline void ltu_src(ox_log_srcpos *s, uint64_t id, int64_t ts)
{
    memset(s, 0, sizeof *s);
    s->file_idx = 1 + id / 1000;
    s->offset = 4 + (id % 1000) * 100;
    s->timestamp = ts;
    s->opaque_len =
        (uint16_t)snprintf((char *)s->opaque, sizeof s->opaque, "0-1-%llu", (unsigned long long)id);
}

static inline void ltu_seg_path(char out[512], const char *dir, uint64_t first, const char *ext)
{
    snprintf(out, 512, "%s/%020llu.%s", dir, (unsigned long long)first, ext);
}

static inline uint64_t ltu_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* XORs one byte of a file. */
static inline void ltu_flip(const char *path, uint64_t off)
{
    int fd = open(path, O_RDWR);
    uint8_t b;
    if (fd < 0 || pread(fd, &b, 1, (off_t)off) != 1)
        abort();
    b ^= 0x5a;
    if (pwrite(fd, &b, 1, (off_t)off) != 1)
        abort();
    close(fd);
}

#endif
