/*
 * ox_durable.h - the one place where oxbow makes bytes durable.
 *
 * Everything that must survive kill -9 and power loss goes through these
 * helpers: full writes that retry short writes and EINTR, fsync/fdatasync,
 * files created or replaced atomically (temporary name, fsync, rename, fsync
 * of the directory), durable rename, unlink and truncate. A failed fsync is
 * reported and never retried here: after it the kernel may have dropped the
 * dirty pages, so the caller must treat the file as failed (the PostgreSQL
 * fsync lesson) rather than fsync again and believe the data is safe.
 *
 * All functions return 0 or a negative OX_E* code (ENOSPC -> OX_ENOSPC, EIO
 * and anything unexpected -> OX_EIO, ...) and fill the optional ox_errbuf with
 * the operation and path. None of them log. They are thread-safe as far as
 * the underlying system calls are; callers serialise writes to one file.
 */
#ifndef OX_DURABLE_H
#define OX_DURABLE_H

#include <stddef.h>
#include <stdint.h>

#include "ox_err.h"

/* Flags for the functions below that would otherwise fsync. */
enum ox_durable_flags {
    OX_DURABLE_NOSYNC = 1u << 0, /* skip fsyncs (fsync policy "none"): atomic, not durable */
    OX_DURABLE_PUBLIC = 1u << 1, /* ox_durable_create: mode 0644 (no secret in it), not 0600 */
};

/* write(2) all `len` bytes at the file position, retrying short writes and
 * EINTR. `what` names the file in error messages. */
int ox_durable_write(int fd, const void *buf, size_t len, const char *what, ox_errbuf *eb);

/* pwrite(2) all `len` bytes at `off`, retrying short writes and EINTR. */
int ox_durable_pwrite(int fd, const void *buf, size_t len, uint64_t off, const char *what,
                      ox_errbuf *eb);

/* fsync(2) / fdatasync(2), retried on EINTR only. */
int ox_durable_fsync(int fd, const char *what, ox_errbuf *eb);
int ox_durable_fdatasync(int fd, const char *what, ox_errbuf *eb);

/* Opens directory `dir` and fsyncs it, so that entries created, renamed or
 * removed in it are durable. */
int ox_durable_fsync_dir(const char *dir, ox_errbuf *eb);

/*
 * Creates or replaces `dir`/`name` atomically with `len` bytes of `data`:
 * writes `name`.tmp, fsyncs it, renames it over `name`, fsyncs `dir`.
 * With OX_DURABLE_NOSYNC the fsyncs are skipped. If `fd_out` is not NULL the
 * file stays open read-write and its descriptor is stored there (the caller
 * closes it); otherwise it is closed.
 */
int ox_durable_create(const char *dir, const char *name, const void *data, size_t len,
                      unsigned flags, int *fd_out, ox_errbuf *eb);

/* ox_durable_create for a full path: the directory is the part before the
 * last '/' ("." if none). */
int ox_durable_replace(const char *path, const void *data, size_t len, unsigned flags,
                       ox_errbuf *eb);
/* Fsyncs the directory that holds `path` (see ox_durable_replace), so that
 * a file created there by other means is durable by name. */
int ox_durable_fsync_parent(const char *path, ox_errbuf *eb);
/* rename(2) `from` to `to` (both inside `dir`), then fsyncs `dir`. */
int ox_durable_rename(const char *dir, const char *from, const char *to, unsigned flags,
                      ox_errbuf *eb);

/* unlink(2) `dir`/`name` (ENOENT is success), then fsyncs `dir` unless
 * OX_DURABLE_NOSYNC. */
int ox_durable_unlink(const char *dir, const char *name, unsigned flags, ox_errbuf *eb);

/* ftruncate(2) to `len`, then fsync unless OX_DURABLE_NOSYNC. */
int ox_durable_truncate(int fd, uint64_t len, unsigned flags, const char *what, ox_errbuf *eb);

#endif
