/*
 * ox_log_int.h - the change log's shared state (internal to ox_log*.c).
 *
 * Locks: `wlock` guards the writer's buffers, file descriptor and commit
 * position against the flusher thread; `mlock` guards what readers and status
 * callers look at (segment table, visible position, the tail's in-memory
 * index). Order: wlock before mlock. Readers never take wlock.
 */
#ifndef OX_LOG_INT_H
#define OX_LOG_INT_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ox_log.h"
#include "ox_log_fmt.h"

/* One segment as the segment table knows it. */
typedef struct oxl_seg {
    uint64_t first_id;
    uint64_t last_id; /* first_id - 1 while empty */
    uint64_t size;    /* bytes; final once sealed */
    int64_t max_ts;   /* newest event timestamp in it (INT64_MIN if empty) */
    uint64_t max_fidx, max_foff;
    int sealed;
} oxl_seg;

struct ox_log {
    char *dir;
    ox_log_options opt;
    unsigned dflags; /* OX_DURABLE_NOSYNC under fsync policy "none" */

    /* Writer state: the writer thread, and the flusher under wlock. */
    pthread_mutex_t wlock;
    pthread_cond_t wcond; /* flusher wake-ups and flusher I/O completion */
    int fd;               /* the tail segment, read-write */
    char tail_path[PATH_MAX];
    uint64_t tail_first;
    uint64_t tail_size; /* logical size, including buffered bytes */
    uint64_t last_rec_off;
    uint8_t *buf, *spare; /* write buffer and the flusher's swap partner */
    size_t buf_len, buf_cap;
    uint64_t buf_off; /* file offset of buf[0] */
    _Atomic uint64_t next_id;
    int txn_open;
    uint64_t txn_first_id, txn_seg, txn_off;
    oxf_idxstate txn_idx; /* tail index scalars at transaction start */
    size_t txn_idx_len;
    uint64_t txn_last_rec_off;
    oxf_idxstate idx;            /* tail index; entries also read by readers under mlock */
    uint64_t c_seg, c_off, c_id; /* last appended commit (maybe not durable yet) */
    ox_log_srcpos c_src;
    int pending;        /* committed data the flusher has not synced */
    _Atomic int failed; /* sticky OX_E* after an I/O error, until reopen */
    char fail_msg[512];
    int flusher_on, flusher_stop, fl_writing, fl_busy;
    pthread_t flusher;

    /* Shared state: mlock. */
    pthread_mutex_t mlock;
    pthread_cond_t rcond; /* readers wait here for visibility */
    oxl_seg *segs;
    size_t nsegs, segcap;
    uint64_t vis_seg, vis_off, vis_id; /* end of the last visible transaction */
    ox_log_srcpos vis_src;
    ox_log_srcpos first_src;
    int first_src_ok;                /* first_src read from the first retained record */
    _Atomic uint64_t first_retained; /* first msgId of the first segment */
    _Atomic int closed;
    _Atomic int refs; /* the handle plus one per reader; the last frees */
};

/* ox_log.c */
oxl_seg *oxl_seg_find(ox_log *log, uint64_t first_id); /* mlock held */
size_t oxl_seg_index_of(ox_log *log, uint64_t msg_id); /* mlock held; segment holding msg_id */
void oxl_release(ox_log *log);                         /* drops a reference; the last one frees */
void oxl_path(const ox_log *log, uint64_t first_id, const char *ext, char *out, size_t n);
int oxl_write_index(ox_log *log, uint64_t first_id, const oxf_idxstate *s, const oxf_ent *seal,
                    ox_errbuf *eb);

/* ox_log_recover.c */
int oxl_list_dir(ox_log *log, uint64_t **ids, size_t *n, ox_errbuf *eb);
void oxl_seg_push(ox_log *log, const oxl_seg *s); /* before readers exist */
int oxl_load_sealed(ox_log *log, uint64_t first, ox_log_recovery *rec, ox_errbuf *eb);
int oxl_recover_tail(ox_log *log, uint64_t *ids, size_t *n, ox_log_recovery *rec,
                     ox_log_srcpos *tail_commit_src, int *have_commit_src, ox_errbuf *eb);

/* ox_log_write.c */
int oxl_create_segment(ox_log *log, uint64_t first_id, uint64_t txn_first, ox_errbuf *eb);
int oxl_flusher_start(ox_log *log);
void oxl_flusher_stop(ox_log *log);
int oxl_sync_now(ox_log *log, ox_errbuf *eb);
void oxl_publish(ox_log *log, uint64_t seg, uint64_t off, uint64_t id, const ox_log_srcpos *src);
void oxl_fail(ox_log *log, int rc, const ox_errbuf *detail);

#endif
