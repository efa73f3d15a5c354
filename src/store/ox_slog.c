/* ox_slog.c - leveled, timestamped store.log; see ox_slog.h. */
#include "ox_slog.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_store_config.h"
#include "ox_time.h"

struct ox_slog {
    pthread_mutex_t mu;
    int fd;
    int level;
    int to_stderr;
    char *path;
};

int ox_slog_open(const char *path, int level, int to_stderr, ox_slog **out, ox_errbuf *eb)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return ox_errf(eb, ox_err_from_errno(errno), "open %s: %s", path, strerror(errno));
    ox_slog *l = ox_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->fd = fd;
    l->level = level;
    l->to_stderr = to_stderr;
    l->path = ox_xstrdup(path);
    *out = l;
    return 0;
}

void ox_slog_printf(ox_slog *l, int level, const char *fmt, ...)
{
    if (l == NULL || level < l->level)
        return;
    static const char *const names[] = {"DEBUG", "INFO ", "WARN ", "ERROR"};
    char line[2048];
    int64_t now = ox_time_wall_ms();
    time_t sec = (time_t)(now / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    size_t n = strftime(line, sizeof line, "%Y-%m-%d %H:%M:%S", &tm);
    n += (size_t)snprintf(line + n, sizeof line - n, ".%03ld %s ", (long)(now % 1000),
                          names[level < 0   ? 0
                                : level > 3 ? 3
                                            : level]);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - n - 1, fmt, ap);
    va_end(ap);
    if (m < 0)
        m = 0;
    n += (size_t)m < sizeof line - n - 1 ? (size_t)m : sizeof line - n - 2;
    line[n++] = '\n';
    pthread_mutex_lock(&l->mu);
    ssize_t w = write(l->fd, line, n);
    (void)w;
    pthread_mutex_unlock(&l->mu);
    if (l->to_stderr && level >= OX_LL_WARN) {
        w = write(2, line, n);
        (void)w;
    }
}

int ox_slog_reopen(ox_slog *l, ox_errbuf *eb)
{
    int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0)
        return ox_errf(eb, ox_err_from_errno(errno), "reopen %s: %s", l->path, strerror(errno));
    pthread_mutex_lock(&l->mu);
    int old = l->fd;
    l->fd = fd;
    pthread_mutex_unlock(&l->mu);
    close(old);
    return 0;
}

void ox_slog_close(ox_slog *l)
{
    if (l == NULL)
        return;
    close(l->fd);
    pthread_mutex_destroy(&l->mu);
    free(l->path);
    free(l);
}
