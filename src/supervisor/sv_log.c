/* sv_log.c - the tail of a store's log, for GET /v1/log on the supervisor's
 * status port (the CM's console reads logs of stores on other hosts here). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ox_tail.h"
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
    size_t got = 0;
    char *buf = ox_file_tail(path, max, &got);
    if (buf == NULL)
        return NULL;
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
