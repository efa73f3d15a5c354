/* fuzz_schema_hist.c - the schema history file (<store.dir>/schema/history):
 * bytes on disk that a crash, a bad disk or an operator may have damaged.
 * Opening must either fail with an error or give a history whose catalog can
 * be built at a position and written back in a form that opens again. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ox_assert.h"
#include "ox_crc32c.h"
#include "ox_le.h"
#include "ox_durable.h"
#include "ox_mysql_schema_hist.h"

/* The checksums would stop almost every mutation at the first record: for
 * half of the inputs (by the last byte), recompute them, so that the payload
 * decoder sees mutated records too. */
static void fix_crcs(uint8_t *p, size_t n)
{
    if (n >= 16)
        ox_put_le32(p + 12, ox_crc32c(0, p, 12));
    size_t off = 16;
    while (off + 8 <= n) {
        uint32_t len = ox_le32(p + off);
        if (len > n - off - 8)
            break;
        ox_put_le32(p + off + 4, ox_crc32c(0, p + off + 8, len));
        off += 8 + (size_t)len;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char dir[64], path[128];
    snprintf(dir, sizeof dir, "/tmp/oxfuzz-hist-%d", (int)getpid());
    snprintf(path, sizeof path, "%s/%s", dir, OX_SCHEMA_HIST_FILE);
    if (mkdir(dir, 0700) != 0 && errno != EEXIST)
        return 0;
    FILE *f = fopen(path, "wb");
    if (!f)
        return 0;
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy) {
        fclose(f);
        return 0;
    }
    if (size)
        memcpy(copy, data, size);
    if (size && (data[size - 1] & 1))
        fix_crcs(copy, size);
    if (size)
        fwrite(copy, 1, size, f);
    free(copy);
    fclose(f);
    /* The start position comes from the input too. */
    uint64_t fi = size > 20 ? data[size - 1] % 4 : 1, off = size > 20 ? data[size - 2] * 16u : 4;
    ox_errbuf eb;
    ox_schema_hist *h = NULL;
    if (ox_schema_hist_open(dir, OX_DURABLE_NOSYNC, &h, &eb) == 0) {
        ox_assert(ox_schema_hist_start(h, fi, off, &eb) == 0);
        const ox_cat *c = ox_schema_hist_catalog(h);
        const ox_cat_table *t;
        for (uint32_t i = 0; (t = ox_cat_table_at(c, i)) != NULL; i++) {
            uint32_t *pk = calloc(t->ncols + 1, sizeof *pk);
            ox_assert(pk && ox_cat_table_pk(t, pk) <= t->ncols);
            free(pk);
        }
        ox_schema_hist_close(h);
        ox_assert(ox_schema_hist_open(dir, OX_DURABLE_NOSYNC, &h, &eb) == 0);
        ox_schema_hist_close(h);
    }
    unlink(path);
    rmdir(dir);
    return 0;
}
