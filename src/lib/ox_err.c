/* ox_err.c - strings for the OX_E* codes and errno mapping. */
#include "ox_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

const char *ox_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define OX_ERR_STR(name, code, msg)                                                                \
    case code:                                                                                     \
        return msg;
        OX_ERRNO_MAP(OX_ERR_STR)
#undef OX_ERR_STR
    default:
        return "unknown error";
    }
}

const char *ox_errname(int err)
{
    switch (err) {
    case 0:
        return "OX_OK";
#define OX_ERR_NAME(name, code, msg)                                                               \
    case code:                                                                                     \
        return "OX_" #name;
        OX_ERRNO_MAP(OX_ERR_NAME)
#undef OX_ERR_NAME
    default:
        return "OX_EUNKNOWN";
    }
}

int ox_err_from_errno(int errnum)
{
    switch (errnum) {
    case 0:
        return 0;
    case ENOMEM:
        return OX_ENOMEM;
    case ENOSPC:
    case EDQUOT:
        return OX_ENOSPC;
    case EAGAIN:
        return OX_EAGAIN;
    case ENOENT:
        return OX_ENOENT;
    case EEXIST:
        return OX_EEXIST;
    case EACCES:
    case EPERM:
        return OX_EPERM;
    case EINVAL:
        return OX_EINVAL;
    case ETIMEDOUT:
        return OX_ETIMEDOUT;
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
        return OX_ECONN;
    default:
        return OX_EIO;
    }
}

int ox_errf(ox_errbuf *eb, int err, const char *fmt, ...)
{
    if (eb != NULL) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(eb->msg, sizeof eb->msg, fmt, ap);
        va_end(ap);
    }
    return err;
}
