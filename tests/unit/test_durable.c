/* test_durable.c - ox_durable under injected short writes, EINTR, ENOSPC,
 * EIO and failing fsync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "fault_inject.h"
#include "log_test_util.h"
#include "ox_durable.h"

static char dir[256];

static int setup(void **state)
{
    fi_reset();
    ltu_mkdtemp(dir, "dur");
    return 0;
}

static int teardown(void **state)
{
    fi_reset();
    ltu_rmrf(dir);
    return 0;
}

static int read_all(const char *path, uint8_t *buf, size_t cap)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, cap);
    close(fd);
    return (int)n;
}

static void test_short_writes_and_eintr(void **state)
{
    static uint8_t data[100000], back[100001];
    ltu_fill(data, sizeof data, 7);
    char p[512];
    snprintf(p, sizeof p, "%s/a", dir);
    int fd = open(p, O_RDWR | O_CREAT, 0644);
    fi_short(FI_WRITE, 777);
    fi_eintr(FI_WRITE, 3);
    ox_errbuf eb;
    assert_int_equal(ox_durable_write(fd, data, sizeof data, p, &eb), 0);
    assert_true(fi_calls[FI_WRITE] > 100);
    fi_short(FI_PWRITE, 1000);
    fi_eintr(FI_PWRITE, 2);
    assert_int_equal(ox_durable_pwrite(fd, data, 5000, 200000, p, &eb), 0);
    fi_eintr(FI_FSYNC, 2);
    assert_int_equal(ox_durable_fsync(fd, p, &eb), 0);
    fi_eintr(FI_FDATASYNC, 2);
    assert_int_equal(ox_durable_fdatasync(fd, p, &eb), 0);
    close(fd);
    assert_int_equal(read_all(p, back, sizeof data), 100000);
    assert_memory_equal(back, data, sizeof data);
    assert_int_equal(ltu_file_size(p), 205000);
}

static void test_errors_surface(void **state)
{
    uint8_t data[4096] = {1};
    char p[512];
    snprintf(p, sizeof p, "%s/b", dir);
    int fd = open(p, O_RDWR | O_CREAT, 0644);
    ox_errbuf eb;
    fi_fail(FI_WRITE, 0, ENOSPC, 0);
    assert_int_equal(ox_durable_write(fd, data, sizeof data, p, &eb), OX_ENOSPC);
    assert_non_null(strstr(eb.msg, p));
    /* Fails after part of the data went out: still an error. */
    fi_short(FI_PWRITE, 100);
    fi_fail(FI_PWRITE, 3, EIO, 0);
    assert_int_equal(ox_durable_pwrite(fd, data, sizeof data, 0, p, &eb), OX_EIO);
    fi_fail(FI_FSYNC, 0, EIO, 0);
    assert_int_equal(ox_durable_fsync(fd, p, &eb), OX_EIO);
    assert_non_null(strstr(eb.msg, "fsync"));
    fi_fail(FI_FDATASYNC, 0, EIO, 0);
    assert_int_equal(ox_durable_fdatasync(fd, p, &eb), OX_EIO);
    fi_fail(FI_FTRUNCATE, 0, EIO, 0);
    assert_int_equal(ox_durable_truncate(fd, 10, 0, p, &eb), OX_EIO);
    fi_fail(FI_FSYNC, 0, EIO, 0);
    assert_int_equal(ox_durable_truncate(fd, 10, 0, p, &eb), OX_EIO);
    assert_int_equal(ox_durable_truncate(fd, 10, 0, p, &eb), 0);
    assert_int_equal(ltu_file_size(p), 10);
    close(fd);
}

static void test_create_rename_unlink(void **state)
{
    char p[512], t[512];
    uint8_t back[64];
    ox_errbuf eb;
    snprintf(p, sizeof p, "%s/c", dir);
    snprintf(t, sizeof t, "%s/c.tmp", dir);
    assert_int_equal(ox_durable_create(dir, "c", "hello", 5, 0, NULL, &eb), 0);
    assert_int_equal(read_all(p, back, sizeof back), 5);
    assert_int_equal(access(t, F_OK), -1);
    /* A failed fsync leaves the old file untouched and no temporary. */
    fi_fail(FI_FSYNC, 0, EIO, 0);
    assert_int_equal(ox_durable_create(dir, "c", "world!", 6, 0, NULL, &eb), OX_EIO);
    assert_int_equal(read_all(p, back, sizeof back), 5);
    assert_memory_equal(back, "hello", 5);
    assert_int_equal(access(t, F_OK), -1);
    /* Short writes inside create are retried. */
    fi_short(FI_WRITE, 1);
    int fd = -1;
    assert_int_equal(ox_durable_create(dir, "c", "world!", 6, 0, &fd, &eb), 0);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(read_all(p, back, sizeof back), 6);
    assert_int_equal(ox_durable_rename(dir, "c", "d", 0, &eb), 0);
    assert_int_equal(ox_durable_rename(dir, "c", "d", 0, &eb), OX_ENOENT);
    assert_int_equal(ox_durable_unlink(dir, "d", 0, &eb), 0);
    assert_int_equal(ox_durable_unlink(dir, "d", 0, &eb), 0);
    assert_int_equal(ox_durable_fsync_dir("/nonexistent/dir", &eb), OX_ENOENT);
}

/* By full path (the daemons' files: the supervisor's drc.properties and
 * store.properties, the CM's supervisor token): atomic, mode 0600 unless
 * OX_DURABLE_PUBLIC, and a failed fsync leaves the old file. */
static void test_replace_by_path(void **state)
{
    char p[512];
    uint8_t back[64];
    struct stat st;
    ox_errbuf eb;
    snprintf(p, sizeof p, "%s/token", dir);
    assert_int_equal(ox_durable_replace(p, "secret\n", 7, 0, &eb), 0);
    assert_int_equal(read_all(p, back, sizeof back), 7);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    fi_fail(FI_FSYNC, 0, EIO, 0);
    assert_int_equal(ox_durable_replace(p, "other\n", 6, 0, &eb), OX_EIO);
    assert_int_equal(read_all(p, back, sizeof back), 7);
    assert_memory_equal(back, "secret\n", 7);
    snprintf(p, sizeof p, "%s/drc.properties", dir);
    mode_t old = umask(022);
    assert_int_equal(ox_durable_replace(p, "a=b\n", 4, OX_DURABLE_PUBLIC, &eb), 0);
    umask(old);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(ox_durable_fsync_parent(p, &eb), 0);
    assert_int_equal(ox_durable_replace("/nonexistent/dir/f", "x", 1, 0, &eb), OX_ENOENT);
    assert_int_equal(ox_durable_fsync_parent("/nonexistent/dir/f", &eb), OX_ENOENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_short_writes_and_eintr, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_surface, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_rename_unlink, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_by_path, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
