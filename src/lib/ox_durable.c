/*
 * ox_durable.c - durable writes, renames, unlinks and truncates.
 *
 * The sequence for a new or replaced file is the one PostgreSQL and valkey
 * use: write under a temporary name, fsync the file, rename it into place,
 * fsync the directory. Without the directory fsync a power loss can forget
 * the rename (or the creation) even though the file's data blocks were
 * flushed.
 */
#include "ox_durable.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int sys_err(ox_errbuf *eb, const char *op, const char *what)
{
    int e = errno;
    int rc = ox_err_from_errno(e);
    if (rc == 0 || rc == OX_EAGAIN || rc == OX_EINVAL)
        rc = OX_EIO;
    return ox_errf(eb, rc, "%s %s: %s", op, what ? what : "?", strerror(e));
}

int ox_durable_write(int fd, const void *buf, size_t len, const char *what, ox_errbuf *eb)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return sys_err(eb, "write", what);
        }
        if (n == 0) {
            errno = EIO;
            return sys_err(eb, "write", what);
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

int ox_durable_pwrite(int fd, const void *buf, size_t len, uint64_t off, const char *what,
                      ox_errbuf *eb)
{
    const char *p = buf;
    while (len > 0) {
        ssize_t n = pwrite(fd, p, len, (off_t)off);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return sys_err(eb, "pwrite", what);
        }
        if (n == 0) {
            errno = EIO;
            return sys_err(eb, "pwrite", what);
        }
        p += n;
        off += (uint64_t)n;
        len -= (size_t)n;
    }
    return 0;
}

int ox_durable_fsync(int fd, const char *what, ox_errbuf *eb)
{
    while (fsync(fd) != 0) {
        if (errno != EINTR)
            return sys_err(eb, "fsync", what);
    }
    return 0;
}

int ox_durable_fdatasync(int fd, const char *what, ox_errbuf *eb)
{
    while (fdatasync(fd) != 0) {
        if (errno != EINTR)
            return sys_err(eb, "fdatasync", what);
    }
    return 0;
}

int ox_durable_fsync_dir(const char *dir, ox_errbuf *eb)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sys_err(eb, "open directory", dir);
    int rc = ox_durable_fsync(fd, dir, eb);
    close(fd);
    return rc;
}

int ox_durable_create(const char *dir, const char *name, const void *data, size_t len,
                      unsigned flags, int *fd_out, ox_errbuf *eb)
{
    char tmp[4096], dst[4096];
    int fd = -1, rc;
    if (snprintf(tmp, sizeof tmp, "%s/%s.tmp", dir, name) >= (int)sizeof tmp ||
        snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst)
        return ox_errf(eb, OX_EINVAL, "path too long: %s/%s", dir, name);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC,
              (flags & OX_DURABLE_PUBLIC) ? 0644 : 0600);
    if (fd < 0)
        return sys_err(eb, "create", tmp);
    rc = ox_durable_write(fd, data, len, tmp, eb);
    if (rc == 0 && !(flags & OX_DURABLE_NOSYNC))
        rc = ox_durable_fsync(fd, tmp, eb);
    if (rc == 0 && rename(tmp, dst) != 0)
        rc = sys_err(eb, "rename to", dst);
    if (rc == 0 && !(flags & OX_DURABLE_NOSYNC))
        rc = ox_durable_fsync_dir(dir, eb);
    if (rc != 0) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    if (fd_out != NULL)
        *fd_out = fd;
    else
        close(fd);
    return 0;
}

/* Splits path into its directory (in dir) and returns its last component. */
static const char *split_path(const char *path, char *dir, size_t n)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, n, ".");
        return path;
    }
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    snprintf(dir, n, "%.*s", (int)len, path);
    return slash + 1;
}

int ox_durable_replace(const char *path, const void *data, size_t len, unsigned flags,
                       ox_errbuf *eb)
{
    char dir[4096];
    if (strlen(path) >= sizeof dir)
        return ox_errf(eb, OX_EINVAL, "path too long: %s", path);
    const char *name = split_path(path, dir, sizeof dir);
    return ox_durable_create(dir, name, data, len, flags, NULL, eb);
}

int ox_durable_fsync_parent(const char *path, ox_errbuf *eb)
{
    char dir[4096];
    if (strlen(path) >= sizeof dir)
        return ox_errf(eb, OX_EINVAL, "path too long: %s", path);
    split_path(path, dir, sizeof dir);
    return ox_durable_fsync_dir(dir, eb);
}

int ox_durable_rename(const char *dir, const char *from, const char *to, unsigned flags,
                      ox_errbuf *eb)
{
    char a[4096], b[4096];
    if (snprintf(a, sizeof a, "%s/%s", dir, from) >= (int)sizeof a ||
        snprintf(b, sizeof b, "%s/%s", dir, to) >= (int)sizeof b)
        return ox_errf(eb, OX_EINVAL, "path too long in %s", dir);
    if (rename(a, b) != 0)
        return sys_err(eb, "rename", a);
    if (flags & OX_DURABLE_NOSYNC)
        return 0;
    return ox_durable_fsync_dir(dir, eb);
}

int ox_durable_unlink(const char *dir, const char *name, unsigned flags, ox_errbuf *eb)
{
    char p[4096];
    if (snprintf(p, sizeof p, "%s/%s", dir, name) >= (int)sizeof p)
        return ox_errf(eb, OX_EINVAL, "path too long: %s/%s", dir, name);
    if (unlink(p) != 0 && errno != ENOENT)
        return sys_err(eb, "unlink", p);
    if (flags & OX_DURABLE_NOSYNC)
        return 0;
    return ox_durable_fsync_dir(dir, eb);
}

int ox_durable_truncate(int fd, uint64_t len, unsigned flags, const char *what, ox_errbuf *eb)
{
    while (ftruncate(fd, (off_t)len) != 0) {
        if (errno != EINTR)
            return sys_err(eb, "ftruncate", what);
    }
    if (flags & OX_DURABLE_NOSYNC)
        return 0;
    return ox_durable_fsync(fd, what, eb);
}
