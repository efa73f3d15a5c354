/*
 * ox_store.c - the store daemon's life cycle; see ox_store.h.
 *
 * Directory layout (store.dir):
 *     store.lock   flock()ed while a store runs here; holds its pid
 *     store.log    the daemon's log (ox_slog)
 *     log/         the change log (ox_log; docs/format.md)
 */
#include "ox_store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ox_store_priv.h"

static int make_dir(const char *path, ox_errbuf *eb)
{
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return ox_errf(eb, ox_err_from_errno(errno), "mkdir %s: %s", path, strerror(errno));
    return 0;
}

static int lock_dir(const char *dir, int *fd_out, ox_errbuf *eb)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/store.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return ox_errf(eb, ox_err_from_errno(errno), "open %s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return ox_errf(eb, e == EWOULDBLOCK ? OX_EBUSY : ox_err_from_errno(e),
                       "flock %s: %s (another store running in this directory?)", path,
                       strerror(e));
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%d\n", (int)getpid());
    if (ftruncate(fd, 0) != 0 || write(fd, pid, (size_t)n) != n) {
        /* The pid is informational; the lock is what matters. */
    }
    *fd_out = fd;
    return 0;
}

int ox_store_run(const ox_store_config *cfg, volatile sig_atomic_t *stop,
                 volatile sig_atomic_t *reopen, ox_errbuf *eb)
{
    struct ox_store st;
    memset(&st, 0, sizeof st);
    st.source_lag_bytes = -1;
    st.source_wal_status = -1;
    st.cfg = cfg;
    st.stop = stop;
    pthread_mutex_init(&st.mu, NULL);
    int lock_fd = -1, rc;
    char path[4096];
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &block, &old);

    if ((rc = make_dir(cfg->dir, eb)) != 0)
        goto out;
    if ((rc = lock_dir(cfg->dir, &lock_fd, eb)) != 0)
        goto out;
    snprintf(path, sizeof path, "%s/store.log", cfg->dir);
    if ((rc = ox_slog_open(path, cfg->log_level, 1, &st.slog, eb)) != 0)
        goto out;
    ox_slog_printf(st.slog, OX_LL_INFO, "store %s starting (pid %d), source %s:%u, port %u",
                   cfg->name, (int)getpid(), cfg->source_host, (unsigned)cfg->source_port,
                   (unsigned)cfg->port);

    ox_log_options opt;
    ox_log_options_default(&opt);
    opt.segment_bytes = cfg->segment_bytes;
    opt.fsync_policy = cfg->fsync_policy;
    opt.fsync_interval_ms = cfg->fsync_interval_ms;
    opt.retention_seconds = cfg->retention_s;
    opt.retention_bytes = cfg->retention_bytes;
    snprintf(path, sizeof path, "%s/log", cfg->dir);
    ox_log_recovery recov;
    memset(&recov, 0, sizeof recov);
    if ((rc = ox_log_open(path, &opt, &st.log, &recov, eb)) != 0) {
        char why[sizeof eb->msg];
        snprintf(why, sizeof why, "%s", eb->msg);
        ox_errf(eb, rc, "opening the change log %s: %s: %s", path, ox_strerror(rc), why);
        goto out;
    }
    if (recov.detail[0] != '\0')
        ox_slog_printf(st.slog, OX_LL_WARN, "change log recovery: %s", recov.detail);
    ox_log_info info;
    ox_log_info_get(st.log, &info);
    ox_slog_printf(st.slog, OX_LL_INFO,
                   "change log: msgIds %" PRIu64 "..%" PRIu64 ", %" PRIu64 " bytes in %" PRIu32
                   " segments",
                   info.first_msg_id, info.last_msg_id, info.bytes, info.segments);
    if ((rc = ox_store_reposition_check(&st, eb)) != 0)
        goto out;
    /* Until the source says otherwise, capture stands where the log ends
     * (or, for an empty log, at the store's start): delay grows from there
     * while the source cannot be reached. */
    st.src_time_ms = info.last_msg_id > 0 ? info.last_src.timestamp * 1000 : ox_time_wall_ms();
    ox_store_set_status(&st, OX_ST_NORMAL, OX_LL_INFO, "Store %s started successfully",
                        cfg->short_name);

    if ((rc = ox_store_http_start(&st, eb)) != 0)
        goto out;
    if (pthread_create(&st.capture_thread, NULL, ox_store_capture_main, &st) != 0) {
        rc = ox_errf(eb, OX_ENOMEM, "pthread_create: %s", strerror(errno));
        goto out;
    }
    st.capture_started = 1;
    ox_slog_printf(st.slog, OX_LL_INFO, "listening on %s:%u", cfg->listen, (unsigned)cfg->port);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    int64_t last_sample = 0;
    while (!*stop) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
        if (*reopen) {
            *reopen = 0;
            ox_errbuf re;
            if (ox_slog_reopen(st.slog, &re) != 0)
                ox_slog_printf(st.slog, OX_LL_ERROR, "SIGHUP: %s", re.msg);
            else
                ox_slog_printf(st.slog, OX_LL_INFO, "SIGHUP: store.log reopened");
        }
        ox_store_http_reap(&st);
        int64_t now = ox_time_mono_ms();
        if (now - last_sample >= 1000) {
            ox_store_rate_sample(&st);
            last_sample = now;
        }
    }
    ox_slog_printf(st.slog, OX_LL_INFO, "stop requested; stopping capture and subscribers");
    rc = 0;
out:
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    __atomic_store_n(&st.stopping, 1, __ATOMIC_RELAXED);
    if (st.capture_started) {
        /* The capture loop watches *stop; make sure it is set on error paths. */
        *stop = 1;
        pthread_join(st.capture_thread, NULL);
    }
    ox_store_http_stop(&st);
    if (st.log != NULL) {
        int cr = ox_log_close(st.log);
        if (cr != 0)
            ox_slog_printf(st.slog, OX_LL_ERROR, "closing the change log: %s", ox_strerror(cr));
        else if (rc == 0)
            ox_slog_printf(st.slog, OX_LL_INFO, "store %s stopped cleanly", cfg->name);
        if (rc == 0)
            rc = cr;
    }
    ox_slog_close(st.slog);
    if (lock_fd >= 0)
        close(lock_fd);
    pthread_mutex_destroy(&st.mu);
    return rc;
}
