/* sv_log.c - the tail of a store's log, for GET /v1/log on the supervisor's
 * status port (the CM's console reads logs of stores on other hosts here). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "sv_internal.h"

/* Bytes read per requested line: the tail is read from the end of the file,
 * never the whole file. */
#define SV_LOG_BYTES_PER_LINE 400

char *sv_log_tail(const char *path, long lines, size_t *len)
{
    if (lines < 1 || lines > SV_LOG_MAX_LINES) {
        errno = EINVAL;
        return NULL;
    }
    size_t max = (size_t)lines * SV_LOG_BYTES_PER_LINE + 4096;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        errno = EINVAL;
        return NULL;
    }
    off_t from = sb.st_size > (off_t)max ? sb.st_size - (off_t)max : 0;
    size_t want = (size_t)(sb.st_size - from);
    char *buf = ox_xmalloc(want + 1);
    size_t got = 0;
    while (got < want) {
        ssize_t n = pread(fd, buf + got, want - got, from + (off_t)got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    /* Keep the last `lines` lines (and never half a line at the start). */
    size_t start = 0;
    long seen = 0;
    for (size_t i = got; i > 0; i--) {
        if (buf[i - 1] == '\n' && i != got && ++seen == lines) {
            start = i;
            break;
        }
    }
    memmove(buf, buf + start, got - start);
    *len = got - start;
    buf[*len] = '\0';
    return buf;
}
