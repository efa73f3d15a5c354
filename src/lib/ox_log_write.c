/*
 * ox_log_write.c - the change log's writer: appends, transactions, group
 * commit and segment roll-over.
 *
 * Appends are encoded straight into a user-space buffer (buf_cap bytes) and
 * written with one pwrite when it fills, so a stream of small records costs
 * one system call per buffer, not per record. Records too large for the
 * buffer go to the file directly; an open transaction is therefore never held
 * in memory, whatever its size. Bytes of an open transaction may reach the
 * file before its commit; they are invisible to readers, which only read up
 * to the end of the last durable commit, and recovery or ox_log_abort cut
 * them off again.
 *
 * Durability by policy:
 *   COMMIT   - the append of a commit writes the buffer, fdatasyncs, and then
 *              publishes the new visible end.
 *   INTERVAL - a commit only marks data pending and wakes the flusher thread;
 *              the flusher waits fsync_interval_ms (so that commits arriving
 *              meanwhile share one fsync), swaps the write buffer with a spare
 *              one under wlock, writes and fdatasyncs it outside the lock, and
 *              publishes. Writes stay in file order: the writer waits for an
 *              in-flight flusher write before it writes its own buffer.
 *   NONE     - a commit writes the buffer (so readers can read it) and
 *              publishes at once; nothing is fsynced.
 * A segment is rolled over only between records: the full segment is written
 * and fdatasynced, its index sealed, and a new segment is created durably
 * (temporary name, fsync, rename, directory fsync).
 *
 * Any failed write or fsync marks the log failed: no later append, commit or
 * sync succeeds and nothing more becomes visible until the log is reopened
 * and recovered, because after a failed fsync the kernel may already have
 * dropped the dirty pages that we would otherwise believe durable. A full
 * disk (OX_ENOSPC) is the one failure the writer may also clear in place,
 * with ox_log_retry: it cuts the log back to the end of the last visible
 * transaction, which was durable before the failure, so nothing that the
 * failed writes may have left behind survives.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ox_durable.h"
#include "ox_log_int.h"
#include "ox_time.h"

void oxl_fail(ox_log *log, int rc, const ox_errbuf *detail)
{
    /* Callers hold wlock, so failures are recorded one at a time; the
     * message is complete before `failed` (atomic) says it is there. */
    if (atomic_load(&log->failed))
        return;
    snprintf(log->fail_msg, sizeof log->fail_msg, "%s", detail != NULL ? detail->msg : "I/O error");
    atomic_store(&log->failed, rc);
}

static int failed_err(ox_log *log, ox_errbuf *eb)
{
    return ox_errf(eb, log->failed, "log failed earlier (%s); reopen it to recover", log->fail_msg);
}

void oxl_publish(ox_log *log, uint64_t seg, uint64_t off, uint64_t id, const ox_log_srcpos *src)
{
    pthread_mutex_lock(&log->mlock);
    if (id >= log->vis_id) {
        log->vis_seg = seg;
        log->vis_off = off;
        log->vis_id = id;
        if (src != NULL)
            log->vis_src = *src;
    }
    oxl_seg *t = &log->segs[log->nsegs - 1];
    t->size = log->tail_size;
    t->last_id = atomic_load(&log->next_id) - 1;
    t->max_ts = log->idx.max_ts;
    t->max_fidx = log->idx.max_fidx;
    t->max_foff = log->idx.max_foff;
    pthread_cond_broadcast(&log->rcond);
    pthread_mutex_unlock(&log->mlock);
}

/* Writes the buffer to the file; wlock held. Waits for an in-flight flusher
 * write first so that writes reach the file in order. */
static int flush_locked(ox_log *log, ox_errbuf *eb)
{
    while (log->fl_writing)
        pthread_cond_wait(&log->wcond, &log->wlock);
    if (log->failed)
        return failed_err(log, eb);
    if (log->buf_len == 0)
        return 0;
    ox_errbuf e2;
    int rc = ox_durable_pwrite(log->fd, log->buf, log->buf_len, log->buf_off, log->tail_path, &e2);
    if (rc != 0) {
        oxl_fail(log, rc, &e2);
        return ox_errf(eb, rc, "%s", e2.msg);
    }
    log->buf_off += log->buf_len;
    log->buf_len = 0;
    return 0;
}

static void wait_flusher_idle(ox_log *log)
{
    while (log->fl_busy)
        pthread_cond_wait(&log->wcond, &log->wlock);
}

int oxl_sync_now(ox_log *log, ox_errbuf *eb)
{
    pthread_mutex_lock(&log->wlock);
    wait_flusher_idle(log);
    int rc = flush_locked(log, eb);
    if (rc == 0 && log->c_id > log->vis_id) {
        if (log->opt.fsync_policy != OX_LOG_FSYNC_NONE) {
            ox_errbuf e2;
            rc = ox_durable_fdatasync(log->fd, log->tail_path, &e2);
            if (rc != 0) {
                oxl_fail(log, rc, &e2);
                ox_errf(eb, rc, "%s", e2.msg);
            }
        }
        if (rc == 0) {
            log->pending = 0;
            oxl_publish(log, log->c_seg, log->c_off, log->c_id, &log->c_src);
        }
    }
    pthread_mutex_unlock(&log->wlock);
    return rc;
}

static void *flusher_main(void *arg)
{
    ox_log *log = arg;
    pthread_mutex_lock(&log->wlock);
    for (;;) {
        while (!log->flusher_stop && !log->pending)
            pthread_cond_wait(&log->wcond, &log->wlock);
        if (log->flusher_stop)
            break;
        /* Let commits arriving during the interval share one fsync. */
        struct timespec dl = ox_time_deadline(CLOCK_MONOTONIC, log->opt.fsync_interval_ms);
        while (!log->flusher_stop &&
               pthread_cond_timedwait(&log->wcond, &log->wlock, &dl) != ETIMEDOUT)
            ;
        if (log->flusher_stop)
            break;
        if (log->failed || !log->pending) {
            log->pending = 0;
            continue;
        }
        log->pending = 0;
        uint64_t t_seg = log->c_seg, t_off = log->c_off, t_id = log->c_id;
        ox_log_srcpos t_src = log->c_src;
        uint8_t *wbuf = log->buf;
        size_t wlen = log->buf_len;
        uint64_t woff = log->buf_off;
        log->buf = log->spare;
        log->spare = wbuf;
        log->buf_len = 0;
        log->buf_off += wlen;
        int fd = log->fd;
        log->fl_busy = log->fl_writing = 1;
        pthread_mutex_unlock(&log->wlock);

        ox_errbuf e2;
        int rc = wlen ? ox_durable_pwrite(fd, wbuf, wlen, woff, log->tail_path, &e2) : 0;
        pthread_mutex_lock(&log->wlock);
        log->fl_writing = 0;
        pthread_cond_broadcast(&log->wcond);
        pthread_mutex_unlock(&log->wlock);
        if (rc == 0)
            rc = ox_durable_fdatasync(fd, log->tail_path, &e2);

        pthread_mutex_lock(&log->wlock);
        log->fl_busy = 0;
        pthread_cond_broadcast(&log->wcond);
        if (rc != 0)
            oxl_fail(log, rc, &e2);
        else if (!log->failed)
            oxl_publish(log, t_seg, t_off, t_id, &t_src);
    }
    pthread_mutex_unlock(&log->wlock);
    return NULL;
}

int oxl_flusher_start(ox_log *log)
{
    log->flusher_stop = 0;
    if (pthread_create(&log->flusher, NULL, flusher_main, log) != 0)
        return OX_ENOMEM;
    log->flusher_on = 1;
    return 0;
}

void oxl_flusher_stop(ox_log *log)
{
    if (!log->flusher_on)
        return;
    pthread_mutex_lock(&log->wlock);
    log->flusher_stop = 1;
    pthread_cond_broadcast(&log->wcond);
    pthread_mutex_unlock(&log->wlock);
    pthread_join(log->flusher, NULL);
    log->flusher_on = 0;
}

int oxl_create_segment(ox_log *log, uint64_t first_id, uint64_t txn_first, ox_errbuf *eb)
{
    uint8_t hdr[OXF_SEG_HDR];
    oxf_seg_hdr h = {first_id, txn_first, (int64_t)time(NULL)};
    oxf_seg_hdr_encode(hdr, &h);
    char name[OXF_NAME_LEN + 8];
    oxf_seg_name(name, first_id, "seg");
    int fd = -1;
    int rc = ox_durable_create(log->dir, name, hdr, sizeof hdr, log->dflags, &fd, eb);
    if (rc != 0)
        return rc;
    log->fd = fd;
    oxl_path(log, first_id, "seg", log->tail_path, sizeof log->tail_path);
    log->tail_first = first_id;
    log->tail_size = OXF_SEG_HDR;
    log->buf_off = OXF_SEG_HDR;
    log->buf_len = 0;
    log->last_rec_off = 0;
    pthread_mutex_lock(&log->mlock);
    oxf_idx_init(&log->idx, &h);
    if (log->nsegs == log->segcap) {
        log->segcap = log->segcap ? log->segcap * 2 : 16;
        log->segs = realloc(log->segs, log->segcap * sizeof *log->segs);
        if (log->segs == NULL)
            abort(); /* the segment table is tiny; no sane recovery from this */
    }
    log->segs[log->nsegs++] = (oxl_seg){first_id, first_id - 1, OXF_SEG_HDR, INT64_MIN, 0, 0, 0};
    pthread_mutex_unlock(&log->mlock);
    return 0;
}

/* Seals the tail segment and starts the next one; wlock held. */
static int roll_locked(ox_log *log, ox_errbuf *eb)
{
    ox_errbuf e2;
    wait_flusher_idle(log);
    int rc = flush_locked(log, eb);
    if (rc != 0)
        return rc;
    if (log->opt.fsync_policy != OX_LOG_FSYNC_NONE) {
        rc = ox_durable_fdatasync(log->fd, log->tail_path, &e2);
        if (rc != 0)
            goto fail;
    }
    uint64_t last_id = atomic_load(&log->next_id) - 1;
    oxf_ent seal;
    oxf_idx_seal(&log->idx, last_id, log->tail_size, log->last_rec_off, &seal);
    rc = oxl_write_index(log, log->tail_first, &log->idx, &seal, &e2);
    if (rc != 0)
        goto fail;
    pthread_mutex_lock(&log->mlock);
    oxl_seg *t = &log->segs[log->nsegs - 1];
    *t = (oxl_seg){log->tail_first,   last_id, log->tail_size, log->idx.max_ts, log->idx.max_fidx,
                   log->idx.max_foff, 1};
    pthread_mutex_unlock(&log->mlock);
    close(log->fd);
    log->fd = -1;
    rc = oxl_create_segment(log, last_id + 1, log->txn_open ? log->txn_first_id : last_id + 1, &e2);
    if (rc != 0)
        goto fail;
    return 0;
fail:
    oxl_fail(log, rc, &e2);
    return ox_errf(eb, rc, "%s", e2.msg);
}

int ox_log_append(ox_log *log, const ox_log_srcpos *src, const void *payload, uint32_t len,
                  uint32_t flags, uint64_t *msg_id, ox_errbuf *eb)
{
    static const ox_log_srcpos zero_src;
    if (log->failed)
        return failed_err(log, eb);
    if (src == NULL)
        src = &zero_src;
    if ((flags & ~(uint32_t)OX_LOG_COMMIT) != 0 || len > OXF_MAX_PAYLOAD ||
        src->opaque_len > OX_LOG_OPAQUE_MAX || (len > 0 && payload == NULL))
        return ox_errf(eb, OX_EINVAL, "append: bad flags, payload or source position");
    size_t rsize = (size_t)OXF_REC_HDR + src->opaque_len + len;
    int rc = 0;
    pthread_mutex_lock(&log->wlock);
    if (log->tail_size >= log->opt.segment_bytes && log->last_rec_off != 0) {
        rc = roll_locked(log, eb);
        if (rc != 0)
            goto out;
    }
    uint64_t id = atomic_load_explicit(&log->next_id, memory_order_relaxed);
    uint64_t off = log->tail_size;
    if (!log->txn_open) {
        log->txn_open = 1;
        log->txn_first_id = id;
        log->txn_seg = log->tail_first;
        log->txn_off = off;
        log->txn_idx = log->idx;
        log->txn_idx_len = log->idx.entries.len;
        log->txn_last_rec_off = log->last_rec_off;
    }
    if (rsize > log->buf_cap - log->buf_len) {
        rc = flush_locked(log, eb);
        if (rc != 0)
            goto out;
    }
    uint8_t hdr[OXF_REC_HDR];
    oxf_rec_encode(hdr, id, src, len, (uint16_t)flags, payload);
    if (rsize <= log->buf_cap) {
        uint8_t *p = log->buf + log->buf_len;
        memcpy(p, hdr, OXF_REC_HDR);
        memcpy(p + OXF_REC_HDR, src->opaque, src->opaque_len);
        if (len)
            memcpy(p + OXF_REC_HDR + src->opaque_len, payload, len);
        log->buf_len += rsize;
    } else {
        /* Too large to buffer: header and source position, then the payload
         * straight from the caller's memory (the buffer is empty now). */
        uint8_t head[OXF_REC_HDR + OX_LOG_OPAQUE_MAX];
        memcpy(head, hdr, OXF_REC_HDR);
        memcpy(head + OXF_REC_HDR, src->opaque, src->opaque_len);
        ox_errbuf e2;
        rc = ox_durable_pwrite(log->fd, head, OXF_REC_HDR + src->opaque_len, off, log->tail_path,
                               &e2);
        if (rc == 0)
            rc = ox_durable_pwrite(log->fd, payload, len, off + OXF_REC_HDR + src->opaque_len,
                                   log->tail_path, &e2);
        if (rc != 0) {
            oxl_fail(log, rc, &e2);
            rc = ox_errf(eb, rc, "%s", e2.msg);
            goto out;
        }
        log->buf_off = off + rsize;
    }
    oxf_rec r = {
        0, id, src->file_idx, src->offset, src->timestamp, len, (uint16_t)flags, src->opaque_len};
    int adds = log->idx.last_entry_off == 0 || off >= log->idx.last_entry_off + OXF_IDX_EVERY;
    if (adds)
        pthread_mutex_lock(&log->mlock);
    oxf_idx_note(&log->idx, off, &r);
    if (adds)
        pthread_mutex_unlock(&log->mlock);
    log->last_rec_off = off;
    log->tail_size = off + rsize;
    atomic_store_explicit(&log->next_id, id + 1, memory_order_relaxed);
    if (msg_id != NULL)
        *msg_id = id;
    if (flags & OX_LOG_COMMIT) {
        log->txn_open = 0;
        log->c_seg = log->tail_first;
        log->c_off = log->tail_size;
        log->c_id = id;
        log->c_src = *src;
        if (log->opt.fsync_policy == OX_LOG_FSYNC_INTERVAL && !log->pending) {
            log->pending = 1;
            pthread_cond_broadcast(&log->wcond);
        } else if (log->opt.fsync_policy == OX_LOG_FSYNC_NONE) {
            rc = flush_locked(log, eb);
            if (rc == 0)
                oxl_publish(log, log->c_seg, log->c_off, log->c_id, &log->c_src);
        }
    }
out:
    pthread_mutex_unlock(&log->wlock);
    if (rc == 0 && (flags & OX_LOG_COMMIT) && log->opt.fsync_policy == OX_LOG_FSYNC_COMMIT)
        rc = oxl_sync_now(log, eb);
    return rc;
}

/* Drops segments after the transaction's first one and reopens that one as
 * the tail, truncated to where the transaction began; wlock held. */
static int abort_across_segments(ox_log *log, ox_errbuf *e2)
{
    int rc = 0;
    close(log->fd);
    log->fd = -1;
    pthread_mutex_lock(&log->mlock);
    while (log->nsegs > 1 && log->segs[log->nsegs - 1].first_id > log->txn_seg) {
        char name[OXF_NAME_LEN + 8];
        uint64_t first = log->segs[--log->nsegs].first_id;
        oxf_seg_name(name, first, "seg");
        if (rc == 0)
            rc = ox_durable_unlink(log->dir, name, OX_DURABLE_NOSYNC, e2);
        oxf_seg_name(name, first, "idx");
        if (rc == 0)
            rc = ox_durable_unlink(log->dir, name, OX_DURABLE_NOSYNC, e2);
    }
    pthread_mutex_unlock(&log->mlock);
    if (rc == 0 && !(log->dflags & OX_DURABLE_NOSYNC))
        rc = ox_durable_fsync_dir(log->dir, e2);
    if (rc != 0)
        return rc;
    oxl_path(log, log->txn_seg, "seg", log->tail_path, sizeof log->tail_path);
    log->fd = open(log->tail_path, O_RDWR | O_CLOEXEC);
    if (log->fd < 0)
        return ox_errf(e2, OX_EIO, "reopen %s: %s", log->tail_path, strerror(errno));
    rc = ox_durable_truncate(log->fd, log->txn_off, log->dflags, log->tail_path, e2);
    if (rc != 0)
        return rc;
    oxf_scan sc;
    memset(&sc, 0, sizeof sc);
    rc = oxf_scan_segment(log->fd, log->tail_path, &sc, e2);
    if (rc == 0 && (sc.bad || sc.end_valid != log->txn_off))
        rc = ox_errf(e2, OX_ECORRUPT, "%s offset %llu: not readable back after abort",
                     log->tail_path, (unsigned long long)sc.end_valid);
    if (rc == 0) {
        pthread_mutex_lock(&log->mlock);
        ox_buf_free(&log->idx.entries);
        log->idx = sc.idx;
        sc.idx.entries = (ox_buf)OX_BUF_INIT;
        log->segs[log->nsegs - 1].sealed = 0;
        pthread_mutex_unlock(&log->mlock);
        log->tail_first = log->txn_seg;
        log->last_rec_off = sc.last_off;
    }
    ox_buf_free(&sc.idx.entries);
    ox_buf_free(&sc.idx_commit.entries);
    return rc;
}

int ox_log_abort(ox_log *log, ox_errbuf *eb)
{
    if (log->failed)
        return failed_err(log, eb);
    if (!log->txn_open)
        return 0;
    ox_errbuf e2;
    int rc = 0;
    pthread_mutex_lock(&log->wlock);
    wait_flusher_idle(log);
    while (log->fl_writing)
        pthread_cond_wait(&log->wcond, &log->wlock);
    if (log->txn_seg == log->tail_first) {
        if (log->txn_off >= log->buf_off) {
            log->buf_len = (size_t)(log->txn_off - log->buf_off);
        } else {
            log->buf_len = 0;
            rc = ox_durable_truncate(log->fd, log->txn_off, log->dflags, log->tail_path, &e2);
            log->buf_off = log->txn_off;
        }
        if (rc == 0) {
            pthread_mutex_lock(&log->mlock);
            ox_buf saved = log->idx.entries;
            log->idx = log->txn_idx;
            log->idx.entries = saved;
            log->idx.entries.len = log->txn_idx_len;
            pthread_mutex_unlock(&log->mlock);
            log->last_rec_off = log->txn_last_rec_off;
        }
    } else {
        log->buf_len = 0;
        rc = abort_across_segments(log, &e2);
        log->buf_off = log->txn_off;
    }
    if (rc == 0) {
        log->tail_size = log->txn_off;
        atomic_store(&log->next_id, log->txn_first_id);
        log->txn_open = 0;
        pthread_mutex_lock(&log->mlock);
        log->segs[log->nsegs - 1].size = log->tail_size;
        log->segs[log->nsegs - 1].last_id = log->txn_first_id - 1;
        pthread_mutex_unlock(&log->mlock);
    } else {
        oxl_fail(log, rc, &e2);
        ox_errf(eb, rc, "%s", e2.msg);
    }
    pthread_mutex_unlock(&log->wlock);
    return rc;
}

int ox_log_sync(ox_log *log, ox_errbuf *eb)
{
    if (log->failed)
        return failed_err(log, eb);
    return oxl_sync_now(log, eb);
}

int ox_log_retry(ox_log *log, ox_errbuf *eb)
{
    int failed = atomic_load(&log->failed);
    if (failed == 0)
        return 0;
    if (failed != OX_ENOSPC)
        return ox_errf(eb, failed,
                       "log failed (%s); only a full disk is retried in place, "
                       "reopen the log to recover",
                       log->fail_msg);
    ox_errbuf e2;
    pthread_mutex_lock(&log->wlock);
    wait_flusher_idle(log);
    while (log->fl_writing)
        pthread_cond_wait(&log->wcond, &log->wlock);
    pthread_mutex_lock(&log->mlock);
    uint64_t vseg = log->vis_seg, voff = log->vis_off, vid = log->vis_id;
    ox_log_srcpos vsrc = log->vis_src;
    pthread_mutex_unlock(&log->mlock);
    /* Cut back as an abort of everything after the visible end would:
     * later segments go, the visible one becomes the tail again, truncated
     * at the visible end and its index rebuilt from the file. */
    log->txn_seg = vseg;
    log->txn_off = voff;
    log->txn_first_id = vid + 1;
    log->buf_len = 0;
    int rc = abort_across_segments(log, &e2);
    if (rc == 0) {
        log->buf_off = voff;
        log->tail_size = voff;
        log->txn_open = 0;
        log->pending = 0;
        log->c_seg = vseg;
        log->c_off = voff;
        log->c_id = vid;
        log->c_src = vsrc;
        atomic_store(&log->next_id, vid + 1);
        pthread_mutex_lock(&log->mlock);
        log->segs[log->nsegs - 1].size = voff;
        log->segs[log->nsegs - 1].last_id = vid;
        pthread_mutex_unlock(&log->mlock);
        log->fail_msg[0] = '\0';
        atomic_store(&log->failed, 0);
    } else {
        ox_errf(eb, rc, "cutting the log back to msgId %llu after a full disk: %s",
                (unsigned long long)vid, e2.msg);
    }
    pthread_mutex_unlock(&log->wlock);
    return rc;
}
