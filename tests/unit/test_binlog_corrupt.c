/*
 * test_binlog_corrupt.c - truncated and corrupt binlogs and bad checksums:
 * a clear error naming the file and the offset, never a crash (this test is
 * meant to run under ASan/UBSan too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ox_binlog.h"
#include "ox_buf.h"
#include "ox_render.h"

#define DATA OX_SOURCE_DIR "/tests/data/binlog/"

static int count_fn(void *arg, const ox_change *c)
{
    ox_buf *b = arg;
    ox_render_json(NULL, c, b); /* renders every value: catches bad pointers */
    b->len = 0;
    return 0;
}

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[512];
    snprintf(path, sizeof path, DATA "%s", name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static char *write_temp(const uint8_t *b, size_t n, const char *name)
{
    char *path = malloc(512);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(path, 512, "%s/oxbow-test-%d-%s", tmp, (int)getpid(), name);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
    return path;
}

static int decode_path(const char *path, bool verify, ox_errbuf *eb)
{
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    ox_binlog_decoder_set_verify(d, verify);
    ox_buf b = OX_BUF_INIT;
    memset(eb, 0, sizeof *eb);
    int rc = ox_binlog_decode_file(d, path, count_fn, &b, eb);
    ox_buf_free(&b);
    ox_binlog_decoder_free(d);
    return rc;
}

static void test_bad_checksum(void **state)
{
    size_t n;
    uint8_t *b = slurp("mysql80-28-enum-set-fullmeta.binlog", &n);
    /* Flip one byte inside the WRITE_ROWS event at offset 1077. */
    b[1077 + 40] ^= 0x01;
    char *path = write_temp(b, n, "badcrc.000001");
    ox_errbuf eb;
    int rc = decode_path(path, true, &eb);
    assert_int_equal(rc, OX_ECORRUPT);
    assert_non_null(strstr(eb.msg, "badcrc.000001 offset 1077: bad CRC32"));
    /* Without verification the flipped byte is a different value, no error
     * (the byte sits in a string column). */
    rc = decode_path(path, false, &eb);
    assert_int_equal(rc, 0);
    unlink(path);
    free(path);
    free(b);
}

static void test_every_truncation(void **state)
{
    const char *names[] = {"mysql80-22-json-partial-update.binlog",
                           "mysql80-32-transaction-compression-zstd.binlog",
                           "mariadb105-fullmeta.binlog"};
    for (size_t f = 0; f < 3; f++) {
        size_t n;
        uint8_t *b = slurp(names[f], &n);
        for (size_t cut = 0; cut < n; cut += (cut < 300 ? 1 : 7)) {
            char *path = write_temp(b, cut, "trunc.000007");
            ox_errbuf eb;
            int rc = decode_path(path, true, &eb);
            if (rc != 0) {
                assert_non_null(strstr(eb.msg, "trunc.000007"));
                assert_non_null(strstr(eb.msg, "offset "));
            }
            if (cut > 4 && cut < n)
                assert_true(rc == 0 || rc == OX_ETRUNC);
            unlink(path);
            free(path);
        }
        free(b);
    }
}

/* Splits a file into events and feeds them; returns the first error. */
/* Feeds the events of b from offset pos on, one exactly sized copy each. */
static int feed_from(const uint8_t *b, size_t n, size_t pos, bool verify, ox_errbuf *eb)
{
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    ox_binlog_decoder_set_verify(d, verify);
    ox_binlog_decoder_set_file(d, "fuzz.000001");
    ox_buf out = OX_BUF_INIT;
    int rc = 0;
    while (pos + 19 <= n) {
        size_t evlen = (size_t)b[pos + 9] | (size_t)b[pos + 10] << 8 | (size_t)b[pos + 11] << 16 |
                       (size_t)b[pos + 12] << 24;
        if (evlen < 19 || evlen > n - pos)
            break;
        /* A private, exactly sized copy so ASan sees any over-read. */
        uint8_t *ev = malloc(evlen);
        memcpy(ev, b + pos, evlen);
        rc = ox_binlog_decoder_feed(d, ev, evlen, pos, count_fn, &out, eb);
        free(ev);
        if (rc != 0)
            break;
        pos += evlen;
    }
    ox_buf_free(&out);
    ox_binlog_decoder_free(d);
    return rc;
}

static int feed_all(const uint8_t *b, size_t n, bool verify, ox_errbuf *eb)
{
    return feed_from(b, n, 4, verify, eb);
}

static void test_random_mutations(void **state)
{
    const char *names[] = {"mysql84-fullmeta-alltypes.binlog",
                           "mysql80-22-json-partial-update.binlog",
                           "mysql90-json-opaque.binlog",
                           "mysql80-31-transaction-compression-json-rowsquery.binlog",
                           "mariadb105-fullmeta.binlog",
                           "percona56-decimal.binlog",
                           "mysql57-23-all-types.binlog"};
    uint32_t seed = 12345;
    for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
        size_t n;
        uint8_t *orig = slurp(names[f], &n);
        uint8_t *b = malloc(n);
        for (int iter = 0; iter < 400; iter++) {
            memcpy(b, orig, n);
            int flips = 1 + iter % 4;
            for (int k = 0; k < flips; k++) {
                seed = seed * 1103515245u + 12345u;
                size_t at = 4 + (seed >> 8) % (n - 4);
                seed = seed * 1103515245u + 12345u;
                b[at] = (uint8_t)(seed >> 16);
            }
            ox_errbuf eb;
            /* Checksums off so that the damage reaches the decoders. */
            int rc = feed_all(b, n, false, &eb);
            /* (A damaged ROTATE may rename the file: check the offset.) */
            if (rc != 0 && strstr(eb.msg, " offset ") == NULL)
                fail_msg("no offset in: %s", eb.msg);
            /* With checksums on, damage is caught (or hits a length). */
            rc = feed_all(b, n, true, &eb);
            if (rc != 0)
                assert_non_null(strstr(eb.msg, "offset "));
        }
        free(b);
        free(orig);
    }
}

static void test_feed_contract(void **state)
{
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    ox_binlog_decoder_set_file(d, "mysql-bin.000042");
    ox_buf out = OX_BUF_INIT;
    ox_errbuf eb;
    uint8_t ev[40] = {0};
    assert_int_equal(ox_binlog_decoder_feed(d, ev, 10, 100, count_fn, &out, &eb), OX_ETRUNC);
    assert_non_null(strstr(eb.msg, "mysql-bin.000042 offset 100:"));
    ev[9] = 30; /* the header claims 30 bytes, 40 are given */
    ev[4] = 2;
    assert_int_equal(ox_binlog_decoder_feed(d, ev, 40, 200, count_fn, &out, &eb), OX_ECORRUPT);
    assert_non_null(strstr(eb.msg, "offset 200:"));
    /* An unknown event type is skipped. */
    ev[9] = 40;
    ev[4] = 100;
    assert_int_equal(ox_binlog_decoder_feed(d, ev, 40, 300, count_fn, &out, &eb), 0);
    /* A rows event for a table that was never mapped is an error. */
    ev[4] = 30;
    ev[19] = 5;     /* table id */
    ev[19 + 8] = 2; /* extra-data length, counting itself */
    assert_int_equal(ox_binlog_decoder_feed(d, ev, 40, 400, count_fn, &out, &eb), OX_ECORRUPT);
    assert_non_null(strstr(eb.msg, "unmapped table id 5"));
    ox_buf_free(&out);
    ox_binlog_decoder_free(d);
    ox_binlog_decoder_free(NULL);
}

/* A FORMAT_DESCRIPTION may give TABLE_MAP a post-header shorter than the
 * 6-byte table id it starts with (found by fuzz_binlog_event: the decoder
 * read past the event). It is refused, naming the length. The input is the
 * fuzz target's: a selector byte, then events. */
static void test_short_table_map_post_header(void **state)
{
    (void)state;
    size_t n = 0;
    uint8_t *b = slurp("../../fuzz/corpus/binlog_event/regress-tablemap-post-header-5", &n);
    ox_errbuf eb;
    /* The fuzz input's selector byte 0: no verification, no checksums. */
    int rc = feed_from(b, n, 1, false, &eb);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(eb.msg, "TABLE_MAP post-header length"));
    free(b);
}

static int stop_fn(void *arg, const ox_change *c)
{
    int *n = arg;
    return ++*n == 3 ? 77 : 0;
}

static void test_callback_stops(void **state)
{
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    int n = 0;
    ox_errbuf eb;
    assert_int_equal(ox_binlog_decode_file(d, DATA "mysql57-21-crc32.binlog", stop_fn, &n, &eb),
                     77);
    assert_int_equal(n, 3);
    ox_binlog_decoder_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_checksum),     cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_random_mutations), cmocka_unit_test(test_feed_contract),
        cmocka_unit_test(test_callback_stops),   cmocka_unit_test(test_short_table_map_post_header),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
