/*
 * bench_crc32c.c - CRC32C throughput per implementation, next to peers.
 *
 * usage: bench_crc32c [BYTES...]   (default: 240 4096 262144 16777216)
 *
 * For each buffer size, every path (tables, crc32 instruction, PCLMULQDQ and
 * VPCLMULQDQ folding, ox_crc32c's own choice) runs over the same warm buffer
 * again and again for about 50 ms; the paths take turns, RUNS (5) rounds, and
 * each one's median GB/s is printed. Peers on the same buffer: zlib's crc32 (the IEEE
 * polynomial, which MySQL binlogs use; zlib 1.2.13 folds with PCLMULQDQ
 * where it can) and memcpy into a second buffer of the same size (what a
 * warm `cat` mostly costs). A last line runs the change log reader's
 * pattern: a 256 KiB chunk cut into 240-byte records whose CRCs are taken
 * three at a time with ox_crc32c_x3.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zlib.h>

#include "ox_crc32c.h"

#define RUNS     5
#define SLICE_NS 50000000.0

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

enum { P_SW, P_SSE42, P_PCLMUL, P_VPCLMUL, P_AUTO, P_ZLIB, P_MEMCPY, P_X3, NP };
static const char *const names[NP] = {"table",     "sse4.2", "pclmul", "vpclmul",
                                      "ox_crc32c", "zlib",   "memcpy", "x3 recs"};

static volatile uint32_t sink;

/* One pass of path `w` over buf (len bytes); returns bytes processed. */
static size_t pass(int w, const uint8_t *buf, uint8_t *dst, size_t len)
{
    switch (w) {
    case P_SW:
        sink ^= ox_crc32c_sw(0, buf, len);
        break;
    case P_SSE42:
        sink ^= ox_crc32c_sse42(0, buf, len);
        break;
    case P_PCLMUL:
        sink ^= ox_crc32c_pclmul(0, buf, len);
        break;
    case P_VPCLMUL:
        sink ^= ox_crc32c_vpclmul(0, buf, len);
        break;
    case P_AUTO:
        sink ^= ox_crc32c(0, buf, len);
        break;
    case P_ZLIB:
        sink ^= (uint32_t)crc32(0, buf, (uInt)len);
        break;
    case P_MEMCPY:
        memcpy(dst, buf, len);
        sink ^= dst[len - 1];
        break;
    case P_X3: {
        /* Records of 248 bytes (the log's header + 200-byte payload), the CRC
         * covering all but the first 8 bytes of each. */
        size_t rec = 248, n = len / rec, i = 0;
        for (; i + 3 <= n; i += 3) {
            const void *p[3] = {buf + i * rec + 8, buf + (i + 1) * rec + 8,
                                buf + (i + 2) * rec + 8};
            size_t l[3] = {rec - 8, rec - 8, rec - 8};
            uint32_t out[3];
            ox_crc32c_x3(p, l, out);
            sink ^= out[0] ^ out[1] ^ out[2];
        }
        for (; i < n; i++)
            sink ^= ox_crc32c(0, buf + i * rec + 8, rec - 8);
        return n * rec;
    }
    }
    return len;
}

/* GB/s of one ~50 ms slice of path `w`. */
static double slice(int w, const uint8_t *buf, uint8_t *dst, size_t len)
{
    double t0 = now_ns(), t;
    size_t bytes = 0;
    do {
        for (int k = 0; k < 16; k++)
            bytes += pass(w, buf, dst, len);
        t = now_ns();
    } while (t - t0 < SLICE_NS);
    return (double)bytes / (t - t0);
}

int main(int argc, char **argv)
{
    static const size_t defaults[] = {240, 4096, 262144, 16777216};
    size_t nsizes = argc > 1 ? (size_t)(argc - 1) : sizeof defaults / sizeof defaults[0];
    printf("crc32c paths on this CPU: %s%s%s (ox_crc32c uses %s); GB/s, medians of %d\n",
           (ox_crc32c_paths() & OX_CRC32C_SSE42) ? "sse4.2 " : "",
           (ox_crc32c_paths() & OX_CRC32C_PCLMUL) ? "pclmulqdq " : "",
           (ox_crc32c_paths() & OX_CRC32C_VPCLMUL) ? "vpclmulqdq" : "", ox_crc32c_impl(), RUNS);
    for (size_t s = 0; s < nsizes; s++) {
        size_t len = argc > 1 ? strtoull(argv[s + 1], NULL, 10) : defaults[s];
        if (len == 0)
            continue;
        uint8_t *buf = malloc(len), *dst = malloc(len);
        if (buf == NULL || dst == NULL)
            return 1;
        uint64_t x = 88172645463325252ull;
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            buf[i] = (uint8_t)x;
        }
        memset(dst, 0, len);
        /* Paths take turns within each run, so that load from other
         * processes on a shared machine hits them alike. */
        double g[NP], runs[NP][RUNS];
        for (int r = 0; r < RUNS; r++)
            for (int w = 0; w < NP; w++)
                runs[w][r] = (w == P_X3 && len < 3 * 248) ? 0 : slice(w, buf, dst, len);
        for (int w = 0; w < NP; w++) {
            qsort(runs[w], RUNS, sizeof runs[w][0], cmp_dbl);
            g[w] = runs[w][RUNS / 2];
        }
        printf("%9zu bytes:", len);
        for (int w = 0; w < NP; w++)
            if (g[w] > 0)
                printf(" %s %.1f", names[w], g[w]);
        printf(" | ox_crc32c/zlib %.2f, ox_crc32c/memcpy %.2f, ox_crc32c/sse4.2 %.2f\n",
               g[P_AUTO] / g[P_ZLIB], g[P_AUTO] / g[P_MEMCPY], g[P_AUTO] / g[P_SSE42]);
        free(buf);
        free(dst);
    }
    return 0;
}
