/*
 * ox_log_read.c - readers of the change log.
 *
 * A reader reads its current segment in large chunks (pread of OXR_CHUNK
 * bytes, about what fits the CPU's L2 cache, or one record if larger) into
 * its own buffer and walks the records in place: one system call per chunk,
 * no allocation per record, and the memory of a reader stays one chunk (or
 * its largest record) whatever the log size. It only ever reads bytes below
 * the visible end, which never change again. Every record's CRC and msgId
 * are checked before it is returned. Checking runs ahead in batches of about
 * OXR_VERIFY bytes (small enough to stay in the L1 cache until the records
 * are handed out), three records at a time so that the CPU overlaps their CRC
 * dependency chains; handing out a checked record is then a few loads from
 * the buffer. (Reading through mmap was measured slower than pread on this
 * workload, also with MAP_POPULATE or madvise: mapping and faulting in a warm
 * 1 GB log cost more than cat's whole copy of it, and the copy leaves the
 * data in cache for the CRC.)
 *
 * How far a reader may read: records of a segment older than the one that
 * holds the end of the last visible transaction are all visible (a later
 * commit exists), up to the segment's final size; in that segment, up to the
 * visible end. When a segment is exhausted the next one is the file named
 * after the next msgId. With nothing to read, a reader waits on the log's
 * condition variable, which the writer or flusher broadcasts when the visible
 * end moves (and which ox_log_reader_wake and ox_log_close also broadcast).
 *
 * Start positions are found through the per-segment index: the segment
 * table for the segment, a binary search over index entries, then a scan of a
 * few KiB. Timestamp and source-position starts go back to the start of the
 * transaction that holds the first matching record.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_assert.h"
#include "ox_crc32c.h"
#include "ox_log_int.h"

#define OXR_CHUNK (256u << 10)

struct ox_log_reader {
    ox_log *log;
    uint64_t want_id;   /* skip records below this msgId */
    uint64_t pos_id;    /* msgId of the record at `pos` */
    uint64_t seg_first; /* current segment */
    uint64_t pos;       /* offset of the next record in it */
    uint64_t limit;     /* readable up to here */
    uint64_t verified;  /* records in [pos, verified) passed their CRC and msgId checks */
    int sealed;         /* limit is the segment's final size */
    int fd;
    char path[PATH_MAX];
    uint8_t *map; /* buffer: bytes [map_off, map_off + map_len) of the segment */
    uint64_t map_off;
    size_t map_len, map_cap;
    _Atomic int woken;
};

static void unmap(ox_log_reader *r)
{
    r->map_len = 0;
}

static void close_seg(ox_log_reader *r)
{
    unmap(r);
    if (r->fd >= 0)
        close(r->fd);
    r->fd = -1;
}

static void set_pos(ox_log_reader *r, uint64_t seg, uint64_t off, uint64_t id)
{
    if (seg != r->seg_first)
        close_seg(r);
    r->seg_first = seg;
    r->pos = off;
    r->pos_id = id;
    r->limit = 0;
    r->verified = 0;
    r->sealed = 0;
}

/* Makes [off, off+len) of the current segment addressable; off + len must
 * not exceed r->limit. Reads as much as the buffer holds, up to the limit. */
static const uint8_t *window(ox_log_reader *r, uint64_t off, size_t len, ox_errbuf *eb, int *rc)
{
    if (off >= r->map_off && off + len <= r->map_off + r->map_len)
        return r->map + (off - r->map_off);
    size_t keep = 0;
    if (off >= r->map_off && off < r->map_off + r->map_len) {
        keep = (size_t)(r->map_off + r->map_len - off);
        memmove(r->map, r->map + (off - r->map_off), keep);
    }
    r->map_off = off;
    r->map_len = keep;
    size_t cap = len > OXR_CHUNK ? (len + 65535) & ~(size_t)65535 : OXR_CHUNK;
    if (cap > r->map_cap) {
        uint8_t *nb = realloc(r->map, cap);
        if (nb == NULL) {
            *rc = ox_errf(eb, OX_ENOMEM, "%s offset %llu: no memory for a %zu-byte record", r->path,
                          (unsigned long long)off, len);
            return NULL;
        }
        r->map = nb;
        r->map_cap = cap;
    }
    uint64_t end = off + r->map_cap < r->limit ? off + r->map_cap : r->limit;
    while (r->map_off + r->map_len < end) {
        uint64_t at = r->map_off + r->map_len;
        ssize_t n = pread(r->fd, r->map + r->map_len, (size_t)(end - at), (off_t)at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            *rc = ox_errf(eb, OX_EIO, "read %s offset %llu: %s", r->path, (unsigned long long)at,
                          n < 0 ? strerror(errno) : "file shorter than its visible data");
            r->map_len = 0;
            return NULL;
        }
        r->map_len += (size_t)n;
    }
    return r->map + (off - r->map_off);
}

static int open_seg(ox_log_reader *r, ox_errbuf *eb)
{
    oxl_path(r->log, r->seg_first, "seg", r->path, sizeof r->path);
    r->fd = open(r->path, O_RDONLY | O_CLOEXEC);
    if (r->fd >= 0)
        return 0;
    if (errno == ENOENT && r->pos_id < atomic_load(&r->log->first_retained))
        return ox_errf(eb, OX_EGONE, "msgId %llu was removed by retention",
                       (unsigned long long)r->pos_id);
    return ox_errf(eb, OX_EIO, "open %s: %s", r->path, strerror(errno));
}

/* Fills *rec from the record at p, whose header verify_ahead() validated:
 * fields are loaded straight from the buffer, which the CRC check has just
 * brought into cache. */
static inline size_t fill(ox_log_record *rec, const uint8_t *p)
{
    uint16_t opaque_len = ox_le16(p + offsetof(struct oxf_disk_rec, opaque_len));
    uint32_t payload_len = ox_le32(p + offsetof(struct oxf_disk_rec, payload_len));
    rec->msg_id = ox_le64(p + offsetof(struct oxf_disk_rec, msg_id));
    rec->flags = ox_le16(p + offsetof(struct oxf_disk_rec, flags));
    rec->src.file_idx = ox_le64(p + offsetof(struct oxf_disk_rec, file_idx));
    rec->src.offset = ox_le64(p + offsetof(struct oxf_disk_rec, src_offset));
    rec->src.timestamp = (int64_t)ox_le64(p + offsetof(struct oxf_disk_rec, timestamp));
    rec->src.opaque_len = opaque_len;
    if (opaque_len)
        memcpy(rec->src.opaque, p + OXF_REC_HDR, opaque_len);
    rec->payload = p + OXF_REC_HDR + opaque_len;
    rec->payload_len = payload_len;
    return (size_t)OXF_REC_HDR + opaque_len + payload_len;
}

/* Validates the header of the record at `off` (expected msgId `id`) within
 * the buffer and below the limit: its size, or 0 if it is not complete and
 * valid there (take()'s slow path says why). */
static size_t check_hdr(const ox_log_reader *r, uint64_t off, uint64_t stop, uint64_t id,
                        uint32_t *crc)
{
    oxf_rec h;
    size_t need;
    const char *why;
    if (off >= stop ||
        oxf_rec_parse_hdr(r->map + (off - r->map_off), (size_t)(stop - off), &h, &need, &why) !=
            0 ||
        h.msg_id != id)
        return 0;
    *crc = h.crc;
    return need;
}

/* Checks the CRCs and msgIds of the records from r->verified on (the first
 * at r->pos) and extends r->verified over the longest run that passed: up to
 * OXR_VERIFY bytes per call, three records at a time (the CRC chains of
 * different records overlap in the CPU), so that the checked bytes are still
 * in the L1 cache when take() hands them out. Records that fail are left for
 * take()'s slow path, which reports them. */
#define OXR_VERIFY (16u << 10)
static void verify_ahead(ox_log_reader *r)
{
    uint64_t map_end = r->map_off + r->map_len;
    uint64_t stop = r->limit < map_end ? r->limit : map_end;
    uint64_t off = r->pos, id = r->pos_id;
    if (off < r->map_off)
        return;
    while (off - r->pos < OXR_VERIFY) {
        const void *ptr[3];
        size_t len[3], sz[3];
        uint32_t stored[3], got[3];
        uint64_t o = off;
        int n = 0;
        for (; n < 3; n++) {
            sz[n] = check_hdr(r, o, stop, id + (uint64_t)n, &stored[n]);
            if (sz[n] == 0)
                break;
            ptr[n] = r->map + (o - r->map_off) + 8;
            len[n] = sz[n] - 8;
            o += sz[n];
        }
        if (n == 3) {
            ox_crc32c_x3(ptr, len, got);
        } else {
            for (int i = 0; i < n; i++)
                got[i] = ox_crc32c(0, ptr[i], len[i]);
        }
        for (int i = 0; i < n; i++) {
            if (got[i] != stored[i])
                return;
            off += sz[i];
            id++;
            r->verified = off;
        }
        if (n < 3)
            return;
    }
}

/* Parses the record at r->pos (below r->limit): 0, or an error. */
static int take(ox_log_reader *r, ox_log_record *rec, ox_errbuf *eb)
{
    int rc = 0;
    oxf_rec h;
    size_t need = 0;
    const char *why = "record runs past the end of committed data";
    /* next_impl hands out already checked records itself. */
    ox_assert(r->pos >= r->verified);
    if (r->fd < 0 && (rc = open_seg(r, eb)) != 0)
        return rc;
    /* Map the whole first record, then check it and its successors. */
    uint64_t avail = r->limit - r->pos;
    size_t want = avail < OXF_REC_HDR ? (size_t)avail : OXF_REC_HDR;
    const uint8_t *p = window(r, r->pos, want, eb, &rc);
    if (p == NULL)
        return rc;
    size_t inmap = (size_t)(r->map_off + r->map_len - r->pos);
    if (oxf_rec_parse_hdr(p, avail < inmap ? (size_t)avail : inmap, &h, &need, &why) == 1 &&
        need <= avail && window(r, r->pos, need, eb, &rc) == NULL)
        return rc;
    r->verified = r->pos;
    verify_ahead(r);
    if (r->pos < r->verified) {
        r->pos += fill(rec, r->map + (r->pos - r->map_off));
        r->pos_id++;
        return 0;
    }
    /* The record at pos is bad: say exactly why. */
    p = r->map + (r->pos - r->map_off);
    inmap = (size_t)(r->map_off + r->map_len - r->pos);
    int pr = oxf_rec_parse(p, avail < inmap ? (size_t)avail : inmap, &h, &need, &why);
    if (pr == 1 && need <= avail)
        why = "record does not fit its window"; /* not reached: window() mapped it */
    else if (pr == 0 && h.msg_id != r->pos_id)
        why = "msgId out of sequence";
    else if (pr == 1)
        why = "record runs past the end of committed data";
    return ox_errf(eb, OX_ECORRUPT, "%s offset %llu: %s", r->path, (unsigned long long)r->pos, why);
}

/* Computes how far the reader may read; mlock held. Returns 1 if it moved on
 * to the next segment, else 0. */
static int refresh_limit(ox_log_reader *r)
{
    ox_log *log = r->log;
    if (r->seg_first < log->vis_seg) {
        oxl_seg *s = oxl_seg_find(log, r->seg_first);
        if (s == NULL) {
            /* Removed by retention. If the reader was inside it, pos_id is
             * below the first retained msgId and the caller reports EGONE;
             * if it had read it all, it simply goes on with the next one. */
            set_pos(r, r->pos_id, OXF_SEG_HDR, r->pos_id);
            return 1;
        }
        r->limit = s->size;
        r->sealed = 1;
        if (r->pos >= r->limit) {
            set_pos(r, r->pos_id, OXF_SEG_HDR, r->pos_id);
            return 1;
        }
    } else if (r->seg_first == log->vis_seg) {
        r->limit = log->vis_off;
        r->sealed = 0;
    }
    return 0;
}

static int next_impl(ox_log_reader *r, ox_log_record *rec, int timeout_ms, ox_errbuf *eb)
{
    ox_log *log = r->log;
    struct timespec dl = {0, 0};
    int have_dl = 0;
    for (;;) {
        if (atomic_load_explicit(&log->closed, memory_order_relaxed))
            return ox_errf(eb, OX_ECLOSED, "log closed");
        if (atomic_load_explicit(&r->woken, memory_order_relaxed) && atomic_exchange(&r->woken, 0))
            return OX_EAGAIN;
        if (r->pos_id < atomic_load_explicit(&log->first_retained, memory_order_relaxed))
            return ox_errf(eb, OX_EGONE, "msgId %llu was removed by retention",
                           (unsigned long long)r->pos_id);
        if (r->pos < r->verified) { /* the common case: a checked record in the buffer */
            r->pos += fill(rec, r->map + (r->pos - r->map_off));
            if (r->pos_id++ < r->want_id)
                continue;
            return 0;
        }
        if (r->pos < r->limit) {
            int rc = take(r, rec, eb);
            if (rc != 0)
                return rc;
            if (rec->msg_id < r->want_id)
                continue;
            return 0;
        }
        pthread_mutex_lock(&log->mlock);
        int lr = refresh_limit(r);
        if (lr == 1 || r->pos < r->limit) {
            pthread_mutex_unlock(&log->mlock);
            continue;
        }
        if (timeout_ms == 0 || atomic_load(&log->closed) || atomic_load(&r->woken)) {
            pthread_mutex_unlock(&log->mlock);
            if (timeout_ms == 0)
                return OX_EAGAIN;
            continue;
        }
        if (timeout_ms < 0) {
            pthread_cond_wait(&log->rcond, &log->mlock);
        } else {
            if (!have_dl) {
                clock_gettime(CLOCK_MONOTONIC, &dl);
                uint64_t ns = (uint64_t)dl.tv_nsec + (uint64_t)timeout_ms * 1000000u;
                dl.tv_sec += (time_t)(ns / 1000000000u);
                dl.tv_nsec = (long)(ns % 1000000000u);
                have_dl = 1;
            }
            if (pthread_cond_timedwait(&log->rcond, &log->mlock, &dl) == ETIMEDOUT) {
                int more = refresh_limit(r) != 0 || r->pos < r->limit;
                pthread_mutex_unlock(&log->mlock);
                if (!more)
                    return OX_EAGAIN;
                continue;
            }
        }
        pthread_mutex_unlock(&log->mlock);
    }
}

int ox_log_reader_next(ox_log_reader *r, ox_log_record *rec, int timeout_ms, ox_errbuf *eb)
{
    return next_impl(r, rec, timeout_ms, eb);
}

void ox_log_reader_wake(ox_log_reader *r)
{
    atomic_store(&r->woken, 1);
    pthread_mutex_lock(&r->log->mlock);
    pthread_cond_broadcast(&r->log->rcond);
    pthread_mutex_unlock(&r->log->mlock);
}

void ox_log_reader_free(ox_log_reader *r)
{
    if (r == NULL)
        return;
    close_seg(r);
    free(r->map);
    oxl_release(r->log);
    free(r);
}

/* What a start position looks for in index entries and records. */
typedef struct target {
    int kind;
    uint64_t id;
    int64_t ts;
    uint64_t fi, fo;
} target;

static int src_less(uint64_t afi, uint64_t afo, uint64_t bfi, uint64_t bfo)
{
    return afi < bfi || (afi == bfi && afo < bfo);
}

/* 1 if every record before entry `e` precedes the target. */
static int ent_before(const oxf_ent *e, const target *t)
{
    switch (t->kind) {
    case OX_LOG_FROM_MSGID:
        return e->msg_id <= t->id;
    case OX_LOG_FROM_TIMESTAMP:
        return e->max_ts < t->ts;
    default:
        return src_less(e->max_fidx, e->max_foff, t->fi, t->fo);
    }
}

/* Last index entry of segment `si` for which ent_before holds; mlock held. */
static int seg_lookup(ox_log *log, size_t si, const target *t, oxf_ent *out, ox_errbuf *eb)
{
    const oxl_seg *s = &log->segs[si];
    *out = (oxf_ent){s->first_id, OXF_SEG_HDR, INT64_MIN, 0, 0, s->first_id, OXF_ENT_RECORD};
    if (!s->sealed) {
        const ox_buf *b = &log->idx.entries;
        size_t lo = 0, hi = b->len / OXF_IDX_ENT;
        oxf_ent e;
        while (lo < hi) { /* first entry for which ent_before fails */
            size_t mid = (lo + hi) / 2;
            oxf_ent_decode(b->data + mid * OXF_IDX_ENT, &e);
            if (ent_before(&e, t))
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0)
            oxf_ent_decode(b->data + (lo - 1) * OXF_IDX_ENT, out);
        return 0;
    }
    char ip[PATH_MAX];
    oxl_path(log, s->first_id, "idx", ip, sizeof ip);
    int fd = open(ip, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < OXF_IDX_HDR + OXF_IDX_ENT) {
        if (fd >= 0)
            close(fd);
        return ox_errf(eb, OX_ECORRUPT, "%s: index missing or short", ip);
    }
    size_t lo = 0, hi = (size_t)(st.st_size - OXF_IDX_HDR) / OXF_IDX_ENT - 1;
    int rc = 0;
    uint8_t b[OXF_IDX_ENT];
    oxf_ent e;
    while (lo < hi && rc == 0) {
        size_t mid = (lo + hi) / 2;
        off_t at = (off_t)(OXF_IDX_HDR + mid * OXF_IDX_ENT);
        if (pread(fd, b, sizeof b, at) != (ssize_t)sizeof b || oxf_ent_decode(b, &e) != 0)
            rc = ox_errf(eb, OX_ECORRUPT, "%s offset %lld: bad index entry", ip, (long long)at);
        else if (ent_before(&e, t))
            lo = mid + 1;
        else
            hi = mid;
    }
    if (rc == 0 && lo > 0) {
        off_t at = (off_t)(OXF_IDX_HDR + (lo - 1) * OXF_IDX_ENT);
        if (pread(fd, b, sizeof b, at) != (ssize_t)sizeof b || oxf_ent_decode(b, out) != 0)
            rc = ox_errf(eb, OX_ECORRUPT, "%s offset %lld: bad index entry", ip, (long long)at);
    }
    close(fd);
    return rc;
}

static void at_latest(ox_log_reader *r)
{
    ox_log *log = r->log;
    set_pos(r, log->vis_seg, log->vis_off, log->vis_id + 1);
    r->want_id = r->pos_id;
}

/* Positions at msgId x; mlock held. */
static int seek_msgid(ox_log_reader *r, uint64_t x, ox_errbuf *eb)
{
    ox_log *log = r->log;
    if (x == 0)
        x = 1;
    if (x < atomic_load(&log->first_retained))
        return ox_errf(eb, OX_EGONE, "msgId %llu is before the earliest retained msgId %llu",
                       (unsigned long long)x,
                       (unsigned long long)atomic_load(&log->first_retained));
    if (x > log->vis_id) {
        at_latest(r);
        r->want_id = x;
        return 0;
    }
    size_t si = oxl_seg_index_of(log, x);
    target t = {OX_LOG_FROM_MSGID, x, 0, 0, 0};
    oxf_ent e;
    int rc = seg_lookup(log, si, &t, &e, eb);
    if (rc != 0)
        return rc;
    set_pos(r, log->segs[si].first_id, e.seg_offset, e.msg_id);
    r->want_id = x;
    return 0;
}

static int rec_matches(const ox_log_record *rec, const target *t)
{
    if (t->kind == OX_LOG_FROM_TIMESTAMP)
        return rec->src.timestamp >= t->ts;
    return !src_less(rec->src.file_idx, rec->src.offset, t->fi, t->fo);
}

/* Timestamp or source-position start; mlock held on entry, released. */
static int seek_value(ox_log_reader *r, const target *t, ox_errbuf *eb)
{
    ox_log *log = r->log;
    uint64_t first = atomic_load(&log->first_retained);
    if (log->vis_id < first) {
        at_latest(r);
        pthread_mutex_unlock(&log->mlock);
        return 0;
    }
    const ox_log_srcpos *fs = &log->first_src;
    int before = t->kind == OX_LOG_FROM_TIMESTAMP
                     ? t->ts < fs->timestamp
                     : src_less(t->fi, t->fo, fs->file_idx, fs->offset);
    if (first > 1 && before) {
        pthread_mutex_unlock(&log->mlock);
        return ox_errf(eb, OX_EGONE, "start position is before the earliest retained record");
    }
    size_t si = 0;
    for (; si < log->nsegs && log->segs[si].first_id <= log->vis_id; si++) {
        const oxl_seg *s = &log->segs[si];
        if (t->kind == OX_LOG_FROM_TIMESTAMP ? s->max_ts >= t->ts
                                             : !src_less(s->max_fidx, s->max_foff, t->fi, t->fo))
            break;
    }
    if (si == log->nsegs || log->segs[si].first_id > log->vis_id) {
        at_latest(r);
        pthread_mutex_unlock(&log->mlock);
        return 0;
    }
    oxf_ent e;
    int rc = seg_lookup(log, si, t, &e, eb);
    if (rc == 0) {
        set_pos(r, log->segs[si].first_id, e.seg_offset, e.msg_id);
        r->want_id = 0;
    }
    pthread_mutex_unlock(&log->mlock);
    if (rc != 0)
        return rc;
    uint64_t cur_txn = e.txn_first;
    int prev_commit = 0, firstrec = 1;
    for (;;) {
        ox_log_record rec;
        rc = next_impl(r, &rec, 0, eb);
        if (rc == OX_EAGAIN) {
            r->want_id = r->pos_id; /* nothing matches yet: wait at the end */
            return 0;
        }
        if (rc != 0)
            return rc;
        if (!firstrec && prev_commit)
            cur_txn = rec.msg_id;
        firstrec = 0;
        if (rec_matches(&rec, t)) {
            pthread_mutex_lock(&log->mlock);
            rc = seek_msgid(r, cur_txn, eb);
            pthread_mutex_unlock(&log->mlock);
            return rc;
        }
        prev_commit = (rec.flags & OX_LOG_COMMIT) != 0;
    }
}

int ox_log_reader_open(ox_log *log, const ox_log_start *start, ox_log_reader **out, ox_errbuf *eb)
{
    *out = NULL;
    ox_log_reader *r = ox_xcalloc(1, sizeof *r);
    r->log = log;
    r->fd = -1;
    atomic_fetch_add(&log->refs, 1);
    int rc = 0;
    pthread_mutex_lock(&log->mlock);
    switch (start->kind) {
    case OX_LOG_FROM_EARLIEST:
        set_pos(r, log->segs[0].first_id, OXF_SEG_HDR, log->segs[0].first_id);
        r->want_id = r->pos_id;
        break;
    case OX_LOG_FROM_LATEST:
        at_latest(r);
        break;
    case OX_LOG_FROM_MSGID:
        rc = seek_msgid(r, start->msg_id, eb);
        break;
    case OX_LOG_FROM_TIMESTAMP:
    case OX_LOG_FROM_SRCPOS: {
        target t = {start->kind, 0, start->timestamp, start->file_idx, start->offset};
        rc = seek_value(r, &t, eb); /* releases mlock */
        goto done;
    }
    default:
        rc = ox_errf(eb, OX_EINVAL, "unknown reader start kind %d", start->kind);
        break;
    }
    pthread_mutex_unlock(&log->mlock);
done:
    if (rc != 0) {
        ox_log_reader_free(r);
        return rc;
    }
    *out = r;
    return 0;
}
