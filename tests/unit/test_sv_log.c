/* test_sv_log.c - the tail of a store's log that the supervisor serves on
 * GET /v1/log: the last N lines, read from the end with a bounded number of
 * bytes, N bounded, no symlinks followed. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sv_internal.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/ox-test-sv-log-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void write_file(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static void test_last_lines(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/a.log", dir);
    const char *t = "one\ntwo\nthree\n";
    write_file(path, t, strlen(t));
    size_t len;
    char *s = sv_log_tail(path, 2, &len);
    assert_non_null(s);
    assert_string_equal(s, "two\nthree\n");
    assert_int_equal(len, strlen(s));
    free(s);
    s = sv_log_tail(path, 10, &len);
    assert_string_equal(s, t);
    free(s);
    /* A last line without its newline counts as a line. */
    write_file(path, "one\ntwo\nthree", 13);
    s = sv_log_tail(path, 1, &len);
    assert_string_equal(s, "three");
    free(s);
}

static void test_bounds(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/b.log", dir);
    write_file(path, "x\n", 2);
    size_t len;
    errno = 0;
    assert_null(sv_log_tail(path, 0, &len));
    assert_int_equal(errno, EINVAL);
    assert_null(sv_log_tail(path, SV_LOG_MAX_LINES + 1, &len));
    char *s = sv_log_tail(path, SV_LOG_MAX_LINES, &len);
    assert_string_equal(s, "x\n");
    free(s);
    /* One 8 MiB line: only a bounded piece of its end is read. */
    size_t big = 8u << 20;
    char *b = malloc(big);
    assert_non_null(b);
    memset(b, 'y', big);
    b[big - 1] = '\n';
    write_file(path, b, big);
    free(b);
    s = sv_log_tail(path, 1, &len);
    assert_non_null(s);
    assert_true(len > 0 && len <= 400 + 4096);
    assert_int_equal(s[len - 1], '\n');
    free(s);
    /* Many lines: exactly the last N. */
    FILE *f = fopen(path, "wb");
    for (int i = 0; i < 200000; i++)
        fprintf(f, "line %d\n", i);
    fclose(f);
    s = sv_log_tail(path, 3, &len);
    assert_string_equal(s, "line 199997\nline 199998\nline 199999\n");
    free(s);
}

static void test_refusals(void **state)
{
    (void)state;
    char path[128], link[128];
    size_t len;
    snprintf(path, sizeof path, "%s/missing.log", dir);
    errno = 0;
    assert_null(sv_log_tail(path, 5, &len));
    assert_int_equal(errno, ENOENT);
    snprintf(link, sizeof link, "%s/link.log", dir);
    assert_int_equal(symlink("/etc/passwd", link), 0);
    assert_null(sv_log_tail(link, 5, &len));
    /* A directory is not a log. */
    assert_null(sv_log_tail(dir, 5, &len));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_last_lines),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
