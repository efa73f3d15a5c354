/*
 * ox_log.c - opening, closing, retention and status of the change log. The
 * on-disk format is documented in ox_log_fmt.c and docs/format.md; recovery
 * lives in ox_log_recover.c, the writer in ox_log_write.c, readers in
 * ox_log_read.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_durable.h"
#include "ox_log_int.h"

void ox_log_options_default(ox_log_options *opt)
{
    opt->segment_bytes = 64u << 20;
    opt->fsync_policy = OX_LOG_FSYNC_INTERVAL;
    opt->fsync_interval_ms = 10;
    opt->retention_seconds = 86400;
    opt->retention_bytes = 0;
}

void oxl_path(const ox_log *log, uint64_t first_id, const char *ext, char *out, size_t n)
{
    char name[OXF_NAME_LEN + 8];
    oxf_seg_name(name, first_id, ext);
    snprintf(out, n, "%s/%s", log->dir, name);
}

oxl_seg *oxl_seg_find(ox_log *log, uint64_t first_id)
{
    size_t lo = 0, hi = log->nsegs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (log->segs[mid].first_id < first_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < log->nsegs && log->segs[lo].first_id == first_id ? &log->segs[lo] : NULL;
}

size_t oxl_seg_index_of(ox_log *log, uint64_t msg_id)
{
    size_t lo = 0, hi = log->nsegs; /* last segment with first_id <= msg_id */
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (log->segs[mid].first_id <= msg_id)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

int oxl_write_index(ox_log *log, uint64_t first_id, const oxf_idxstate *s, const oxf_ent *seal,
                    ox_errbuf *eb)
{
    size_t n = OXF_IDX_HDR + s->entries.len + (seal ? OXF_IDX_ENT : 0);
    uint8_t *b = ox_xmalloc(n);
    oxf_idx_hdr_encode(b, first_id);
    if (s->entries.len)
        memcpy(b + OXF_IDX_HDR, s->entries.data, s->entries.len);
    if (seal)
        oxf_ent_encode(b + OXF_IDX_HDR + s->entries.len, seal);
    char name[OXF_NAME_LEN + 8];
    oxf_seg_name(name, first_id, "idx");
    int rc = ox_durable_create(log->dir, name, b, n, log->dflags, NULL, eb);
    free(b);
    return rc;
}

/* Reads the source position of the first retained record; mlock not held.
 * Returns 1 if there was one. */
static int load_first_src(ox_log *log, ox_log_srcpos *out)
{
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&log->mlock);
    uint64_t first = log->segs[0].first_id;
    int empty = log->vis_id < first;
    pthread_mutex_unlock(&log->mlock);
    if (empty)
        return 0;
    char sp[PATH_MAX];
    oxl_path(log, first, "seg", sp, sizeof sp);
    int fd = open(sp, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    uint64_t id;
    int rc = oxf_read_src(fd, OXF_SEG_HDR, &id, out);
    close(fd);
    return rc == 0;
}

/* Frees what only the writer uses. */
static void writer_free(ox_log *log)
{
    if (log->fd >= 0)
        close(log->fd);
    log->fd = -1;
    free(log->buf);
    free(log->spare);
    log->buf = log->spare = NULL;
}

static void log_free(ox_log *log)
{
    writer_free(log);
    ox_buf_free(&log->idx.entries);
    free(log->segs);
    pthread_mutex_destroy(&log->wlock);
    pthread_mutex_destroy(&log->mlock);
    pthread_cond_destroy(&log->wcond);
    pthread_cond_destroy(&log->rcond);
    free(log->dir);
    free(log);
}

static int make_dir(const char *dir, ox_errbuf *eb)
{
    if (mkdir(dir, 0700) == 0) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash == parent)
            slash[1] = '\0';
        else if (slash != NULL)
            *slash = '\0';
        else
            snprintf(parent, sizeof parent, ".");
        return ox_durable_fsync_dir(parent, eb);
    }
    if (errno == EEXIST)
        return 0;
    return ox_errf(eb, ox_err_from_errno(errno) ? ox_err_from_errno(errno) : OX_EIO, "mkdir %s: %s",
                   dir, strerror(errno));
}

/* A log object for dir with options o: buffers, locks, no files yet. */
static ox_log *log_alloc(const char *dir, const ox_log_options *o)
{
    ox_log *log = ox_xcalloc(1, sizeof *log);
    log->dir = ox_xstrdup(dir);
    log->opt = *o;
    log->dflags = o->fsync_policy == OX_LOG_FSYNC_NONE ? OX_DURABLE_NOSYNC : 0;
    log->fd = -1;
    atomic_store(&log->refs, 1);
    /* Appends are batched in memory up to 2 MiB, or a segment's size if
     * smaller (a segment is flushed long before such a buffer fills; larger
     * records are written directly). */
    log->buf_cap = o->segment_bytes < (2u << 20) ? (size_t)o->segment_bytes : 2u << 20;
    log->buf = ox_xmalloc(log->buf_cap);
    log->spare = ox_xmalloc(log->buf_cap);
    pthread_mutex_init(&log->wlock, NULL);
    pthread_mutex_init(&log->mlock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&log->wcond, &ca);
    pthread_cond_init(&log->rcond, &ca);
    pthread_condattr_destroy(&ca);
    return log;
}

/* The srcpos of the last transaction of the segment before the (empty)
 * tail, from its seal entry; *src untouched if it cannot be read. */
static void prev_seg_last_src(ox_log *log, ox_log_srcpos *src)
{
    char ip[PATH_MAX], sp[PATH_MAX];
    oxl_seg *p = &log->segs[log->nsegs - 2];
    oxl_path(log, p->first_id, "idx", ip, sizeof ip);
    oxl_path(log, p->first_id, "seg", sp, sizeof sp);
    int ifd = open(ip, O_RDONLY | O_CLOEXEC), sfd = open(sp, O_RDONLY | O_CLOEXEC);
    struct stat st;
    uint8_t e[OXF_IDX_ENT];
    oxf_ent seal;
    uint64_t id;
    if (ifd >= 0 && sfd >= 0 && fstat(ifd, &st) == 0 &&
        pread(ifd, e, sizeof e, st.st_size - OXF_IDX_ENT) == (ssize_t)sizeof e &&
        oxf_ent_decode(e, &seal) == 0 && seal.txn_first != 0)
        oxf_read_src(sfd, seal.txn_first, &id, src);
    if (ifd >= 0)
        close(ifd);
    if (sfd >= 0)
        close(sfd);
}

int ox_log_open(const char *dir, const ox_log_options *opt, ox_log **out, ox_log_recovery *rec,
                ox_errbuf *eb)
{
    ox_log_recovery scratch;
    if (rec == NULL)
        rec = &scratch;
    memset(rec, 0, sizeof *rec);
    *out = NULL;
    ox_log_options o;
    if (opt == NULL)
        ox_log_options_default(&o);
    else
        o = *opt;
    if (o.segment_bytes < 4096 || o.fsync_policy < OX_LOG_FSYNC_COMMIT ||
        o.fsync_policy > OX_LOG_FSYNC_NONE ||
        (o.fsync_policy == OX_LOG_FSYNC_INTERVAL && o.fsync_interval_ms == 0))
        return ox_errf(eb, OX_EINVAL,
                       "log options: segment_bytes >= 4096, a known fsync "
                       "policy and a non-zero interval are required");
    if (strlen(dir) > PATH_MAX - 64)
        return ox_errf(eb, OX_EINVAL, "log directory path too long");
    int rc = make_dir(dir, eb);
    if (rc != 0)
        return rc;
    ox_log *log = log_alloc(dir, &o);
    uint64_t *ids = NULL;
    size_t n = 0;
    rc = oxl_list_dir(log, &ids, &n, eb);
    if (rc != 0)
        goto fail;
    ox_log_srcpos csrc;
    int have_csrc = 0;
    if (n == 0) {
        rc = oxl_create_segment(log, 1, 1, eb);
        if (rc != 0)
            goto fail;
        atomic_store(&log->next_id, 1);
    } else {
        rc = oxl_recover_tail(log, ids, &n, rec, &csrc, &have_csrc, eb);
        if (rc != 0)
            goto fail;
        for (size_t i = 0; i + 1 < n; i++) {
            rc = oxl_load_sealed(log, ids[i], rec, eb);
            if (rc != 0)
                goto fail;
            if (i > 0 && log->segs[i].first_id != log->segs[i - 1].last_id + 1) {
                rc = ox_errf(eb, OX_ECORRUPT,
                             "%s/%020llu.seg: msgIds not contiguous with the "
                             "previous segment",
                             dir, (unsigned long long)ids[i]);
                goto fail;
            }
        }
        if (n > 1 && log->segs[n - 2].last_id + 1 != log->tail_first) {
            rc = ox_errf(eb, OX_ECORRUPT, "%s: msgIds not contiguous with the previous segment",
                         log->tail_path);
            goto fail;
        }
        oxl_seg_push(log,
                     &(oxl_seg){log->tail_first, atomic_load(&log->next_id) - 1, log->tail_size,
                                log->idx.max_ts, log->idx.max_fidx, log->idx.max_foff, 0});
    }
    atomic_store(&log->first_retained, log->segs[0].first_id);
    log->vis_seg = log->tail_first;
    log->vis_off = log->tail_size;
    log->vis_id = atomic_load(&log->next_id) - 1;
    log->c_seg = log->vis_seg;
    log->c_off = log->vis_off;
    log->c_id = log->vis_id;
    if (have_csrc) {
        log->vis_src = csrc;
    } else if (log->nsegs > 1) {
        /* The tail is empty: the last record is the previous segment's last. */
        prev_seg_last_src(log, &log->vis_src);
    }
    log->c_src = log->vis_src;
    log->first_src_ok = load_first_src(log, &log->first_src);
    if (o.fsync_policy == OX_LOG_FSYNC_INTERVAL && oxl_flusher_start(log) != 0) {
        rc = ox_errf(eb, OX_ENOMEM, "cannot start the flusher thread");
        goto fail;
    }
    if (rec->dropped_bytes || rec->dropped_records || rec->rebuilt_indexes)
        snprintf(rec->detail, sizeof rec->detail,
                 "dropped %llu bytes (%llu records of unfinished transactions) at the tail; "
                 "rebuilt %u indexes",
                 (unsigned long long)rec->dropped_bytes, (unsigned long long)rec->dropped_records,
                 rec->rebuilt_indexes);
    free(ids);
    *out = log;
    return 0;
fail:
    free(ids);
    log_free(log);
    return rc;
}

void oxl_release(ox_log *log)
{
    if (atomic_fetch_sub(&log->refs, 1) == 1)
        log_free(log);
}

int ox_log_close(ox_log *log)
{
    if (log == NULL)
        return 0;
    oxl_flusher_stop(log);
    int rc = log->failed;
    ox_errbuf eb;
    if (rc == 0 && log->txn_open)
        rc = ox_log_abort(log, &eb);
    if (rc == 0)
        rc = oxl_sync_now(log, &eb);
    if (rc == 0)
        rc = oxl_write_index(log, log->tail_first, &log->idx, NULL, &eb);
    pthread_mutex_lock(&log->mlock);
    atomic_store(&log->closed, 1);
    pthread_cond_broadcast(&log->rcond);
    pthread_mutex_unlock(&log->mlock);
    writer_free(log);
    oxl_release(log);
    return rc;
}

int ox_log_info_get(ox_log *log, ox_log_info *info)
{
    memset(info, 0, sizeof *info);
    pthread_mutex_lock(&log->mlock);
    if (!log->first_src_ok && log->vis_id >= log->segs[0].first_id) {
        /* The first record became visible since open: read its position. */
        pthread_mutex_unlock(&log->mlock);
        ox_log_srcpos fs;
        int ok = load_first_src(log, &fs);
        pthread_mutex_lock(&log->mlock);
        if (ok && !log->first_src_ok) {
            log->first_src = fs;
            log->first_src_ok = 1;
        }
    }
    uint64_t first = log->segs[0].first_id;
    info->first_msg_id = log->vis_id >= first ? first : 0;
    info->last_msg_id = log->vis_id;
    info->next_msg_id = atomic_load(&log->next_id);
    if (info->first_msg_id)
        info->first_src = log->first_src;
    info->last_src = log->vis_src;
    for (size_t i = 0; i < log->nsegs; i++)
        info->bytes += log->segs[i].size;
    info->segments = (uint32_t)log->nsegs;
    pthread_mutex_unlock(&log->mlock);
    return 0;
}

int ox_log_retain(ox_log *log, int64_t now, uint32_t *segments_removed, uint64_t *bytes_removed,
                  ox_errbuf *eb)
{
    uint32_t nrm = 0;
    uint64_t brm = 0;
    pthread_mutex_lock(&log->mlock);
    uint64_t total = 0;
    for (size_t i = 0; i < log->nsegs; i++)
        total += log->segs[i].size;
    size_t k = 0;
    while (k + 1 < log->nsegs && log->segs[k].last_id <= log->vis_id) {
        const oxl_seg *s = &log->segs[k];
        int old = log->opt.retention_seconds > 0 && s->max_ts < now - log->opt.retention_seconds;
        int big = log->opt.retention_bytes > 0 && total > log->opt.retention_bytes;
        if (!old && !big)
            break;
        total -= s->size;
        brm += s->size;
        k++;
    }
    uint64_t *gone = NULL;
    if (k > 0) {
        gone = ox_xmalloc(k * sizeof *gone);
        for (size_t i = 0; i < k; i++)
            gone[i] = log->segs[i].first_id;
        memmove(log->segs, log->segs + k, (log->nsegs - k) * sizeof *log->segs);
        log->nsegs -= k;
        atomic_store(&log->first_retained, log->segs[0].first_id);
        nrm = (uint32_t)k;
    }
    pthread_mutex_unlock(&log->mlock);
    int rc = 0;
    for (size_t i = 0; i < k && rc == 0; i++) {
        char name[OXF_NAME_LEN + 8];
        oxf_seg_name(name, gone[i], "seg");
        rc = ox_durable_unlink(log->dir, name, OX_DURABLE_NOSYNC, eb);
        oxf_seg_name(name, gone[i], "idx");
        if (rc == 0)
            rc = ox_durable_unlink(log->dir, name, OX_DURABLE_NOSYNC, eb);
    }
    free(gone);
    if (k > 0 && rc == 0 && !(log->dflags & OX_DURABLE_NOSYNC))
        rc = ox_durable_fsync_dir(log->dir, eb);
    if (k > 0) {
        ox_log_srcpos fs;
        int ok = load_first_src(log, &fs);
        pthread_mutex_lock(&log->mlock);
        log->first_src = fs;
        log->first_src_ok = ok;
        pthread_mutex_unlock(&log->mlock);
    }
    if (segments_removed)
        *segments_removed = nrm;
    if (bytes_removed)
        *bytes_removed = brm;
    return rc;
}
