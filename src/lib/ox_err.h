/*
 * ox_err.h - error codes as values.
 *
 * Every fallible function in oxbow returns an int: 0 on success or one of the
 * negative OX_E* codes below. The list lives once, in OX_ERRNO_MAP, which also
 * generates ox_strerror() (the libuv UV_ERRNO_MAP pattern). Callers that need
 * more context than a code carry it in an ox_errbuf filled by the callee.
 */
#ifndef OX_ERR_H
#define OX_ERR_H

#include <stddef.h>

#define OX_ERRNO_MAP(X)                                                                            \
    X(EINVAL, -1, "invalid argument")                                                              \
    X(ENOMEM, -2, "out of memory")                                                                 \
    X(EIO, -3, "input/output error")                                                               \
    X(ENOSPC, -4, "no space left on device")                                                       \
    X(EAGAIN, -5, "resource temporarily unavailable")                                              \
    X(ENOENT, -6, "no such file or entry")                                                         \
    X(EEXIST, -7, "already exists")                                                                \
    X(ECORRUPT, -8, "corrupt data")                                                                \
    X(ETRUNC, -9, "truncated data")                                                                \
    X(ERANGE, -10, "position out of range")                                                        \
    X(EGONE, -11, "position no longer retained")                                                   \
    X(EPROTO, -12, "protocol error")                                                               \
    X(ECONN, -13, "connection failed")                                                             \
    X(EAUTH, -14, "authentication failed")                                                         \
    X(EPERM, -15, "permission denied")                                                             \
    X(ECONFIG, -16, "bad configuration")                                                           \
    X(ECLOSED, -17, "closed")                                                                      \
    X(ETIMEDOUT, -18, "timed out")                                                                 \
    X(EUNSUPP, -19, "not supported")                                                               \
    X(EBUSY, -20, "busy")                                                                          \
    X(ESTATE, -21, "invalid state for this operation")                                             \
    X(EDB, -22, "database error")

enum {
#define OX_ERR_ENUM(name, code, msg) OX_##name = (code),
    OX_ERRNO_MAP(OX_ERR_ENUM)
#undef OX_ERR_ENUM
};

/* Returns a static, human-readable string for an OX_E* code (or "unknown
 * error"). Never logs. Thread-safe. */
const char *ox_strerror(int err);

/* Returns the symbolic name ("OX_EIO") of a code. Never logs. Thread-safe. */
const char *ox_errname(int err);

/* Maps a POSIX errno value to the closest OX_E* code. */
int ox_err_from_errno(int errnum);

/*
 * A caller-provided buffer for detail text ("segment 00000000000000000001.seg
 * offset 4096: bad crc"). Functions that take one fill it on failure only.
 */
typedef struct ox_errbuf {
    char msg[512];
} ox_errbuf;

/* printf-style fill of an ox_errbuf; a NULL buffer is allowed and ignored.
 * Returns err so that callers can write `return ox_errf(eb, OX_EIO, ...)`. */
int ox_errf(ox_errbuf *eb, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
