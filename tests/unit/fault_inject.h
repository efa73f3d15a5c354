/*
 * fault_inject.h - system call fault injection through `ld --wrap`.
 *
 * A test that includes this header and links with
 *   -Wl,--wrap=write,--wrap=pwrite,--wrap=fsync,--wrap=fdatasync,--wrap=ftruncate
 * (see test_durable.cmake) gets __wrap_ versions of those calls for every
 * caller in the oxbow libraries. They pass through to the real call unless armed:
 *   fi_fail(op, after, err)  - the call after `after` more successful calls
 *                              fails with errno `err`; sticky if fi_sticky.
 *   fi_short(op, max)        - writes transfer at most `max` bytes per call.
 *   fi_eintr(op, n)          - the next n calls fail with EINTR.
 * Counters are atomic: the log's flusher thread calls these too.
 */
#ifndef FAULT_INJECT_H
#define FAULT_INJECT_H

#include <errno.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <unistd.h>

enum { FI_WRITE, FI_PWRITE, FI_FSYNC, FI_FDATASYNC, FI_FTRUNCATE, FI_NOPS };

static _Atomic int fi_after[FI_NOPS] = {-1, -1, -1, -1, -1};
static _Atomic int fi_errno[FI_NOPS];
static _Atomic int fi_sticky[FI_NOPS];
static _Atomic int fi_max[FI_NOPS];
static _Atomic int fi_intr[FI_NOPS];
static _Atomic int fi_calls[FI_NOPS];
static _Atomic int fi_fired[FI_NOPS];

static inline void fi_reset(void)
{
    for (int i = 0; i < FI_NOPS; i++) {
        fi_after[i] = -1;
        fi_errno[i] = fi_sticky[i] = fi_max[i] = fi_intr[i] = fi_calls[i] = fi_fired[i] = 0;
    }
}

static inline void fi_fail(int op, int after, int err, int sticky)
{
    fi_errno[op] = err;
    fi_sticky[op] = sticky;
    fi_after[op] = after;
}

static inline void fi_short(int op, int max)
{
    fi_max[op] = max;
}

static inline void fi_eintr(int op, int n)
{
    fi_intr[op] = n;
}

/* 0 to go ahead, or -1 with errno set. */
static inline int fi_check(int op)
{
    fi_calls[op]++;
    if (fi_intr[op] > 0) {
        fi_intr[op]--;
        errno = EINTR;
        return -1;
    }
    int a = fi_after[op];
    if (a < 0)
        return 0;
    if (a > 0) {
        fi_after[op] = a - 1;
        return 0;
    }
    fi_fired[op]++;
    if (!fi_sticky[op])
        fi_after[op] = -1;
    errno = fi_errno[op];
    return -1;
}

ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __real_pwrite(int fd, const void *buf, size_t n, off_t off);
int __real_fsync(int fd);
int __real_fdatasync(int fd);
int __real_ftruncate(int fd, off_t len);

ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off);
int __wrap_fsync(int fd);
int __wrap_fdatasync(int fd);
int __wrap_ftruncate(int fd, off_t len);

ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (fi_check(FI_WRITE) != 0)
        return -1;
    if (fi_max[FI_WRITE] > 0 && n > (size_t)fi_max[FI_WRITE])
        n = (size_t)fi_max[FI_WRITE];
    return __real_write(fd, buf, n);
}

ssize_t __wrap_pwrite(int fd, const void *buf, size_t n, off_t off)
{
    if (fi_check(FI_PWRITE) != 0)
        return -1;
    if (fi_max[FI_PWRITE] > 0 && n > (size_t)fi_max[FI_PWRITE])
        n = (size_t)fi_max[FI_PWRITE];
    return __real_pwrite(fd, buf, n, off);
}

int __wrap_fsync(int fd)
{
    if (fi_check(FI_FSYNC) != 0)
        return -1;
    return __real_fsync(fd);
}

int __wrap_fdatasync(int fd)
{
    if (fi_check(FI_FDATASYNC) != 0)
        return -1;
    return __real_fdatasync(fd);
}

int __wrap_ftruncate(int fd, off_t len)
{
    if (fi_check(FI_FTRUNCATE) != 0)
        return -1;
    return __real_ftruncate(fd, len);
}

#endif
