/*
 * ox_log_recover.c - what ox_log_open does to a log directory before use:
 * list the segments, recover the tail, check or rebuild the indexes. The
 * on-disk format is documented in ox_log_fmt.c and docs/format.md.
 *
 * Recovery rules (ox_log_open):
 *  - Leftover "*.tmp" files are half-made creations: removed.
 *  - The last segment is scanned record by record (CRC, msgId sequence). If
 *    the scan stops before the end of the file and a valid record follows
 *    somewhere after the stopping point, the damage is in the middle of the
 *    data: OX_ECORRUPT naming file and offset. Otherwise the bytes after the
 *    last commit record are a torn or unfinished tail and are truncated.
 *  - If the last segment holds no commit and its first record continues a
 *    transaction begun in the segment before, the segment is deleted and the
 *    previous one recovered the same way (a transaction may span segments).
 *  - Older segments are trusted if their index file is intact and sealed
 *    with the segment's size; otherwise the segment is scanned, must be
 *    entirely valid (else OX_ECORRUPT with file and offset), and its index is
 *    rebuilt. Their records' CRCs are checked again by every reader.
 *  - Segments must hold consecutive msgIds; a gap is OX_ECORRUPT.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_durable.h"
#include "ox_log_int.h"

/* 1 if `path` holds exactly `len` bytes equal to `want`. */
static int file_equals(const char *path, const uint8_t *want, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    int same = fstat(fd, &st) == 0 && (uint64_t)st.st_size == len;
    uint8_t tmp[65536];
    for (size_t at = 0; same && at < len;) {
        size_t n = len - at < sizeof tmp ? len - at : sizeof tmp;
        same = pread(fd, tmp, n, (off_t)at) == (ssize_t)n && memcmp(tmp, want + at, n) == 0;
        at += n;
    }
    close(fd);
    return same;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Lists segment msgIds (sorted) and removes leftover temporary files. */
int oxl_list_dir(ox_log *log, uint64_t **ids, size_t *n, ox_errbuf *eb)
{
    DIR *d = opendir(log->dir);
    if (d == NULL)
        return ox_errf(eb, OX_EIO, "opendir %s: %s", log->dir, strerror(errno));
    size_t cap = 0;
    *ids = NULL;
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        const char *nm = de->d_name;
        size_t l = strlen(nm);
        if (l > 4 && strcmp(nm + l - 4, ".tmp") == 0) {
            ox_durable_unlink(log->dir, nm, OX_DURABLE_NOSYNC, NULL);
            continue;
        }
        if (l != OXF_NAME_LEN || strcmp(nm + 20, ".seg") != 0 || strspn(nm, "0123456789") != 20)
            continue;
        if (*n == cap) {
            cap = cap ? cap * 2 : 64;
            uint64_t *ni = ox_xrealloc(*ids, cap * sizeof **ids);
            *ids = ni;
        }
        (*ids)[(*n)++] = strtoull(nm, NULL, 10);
    }
    closedir(d);
    if (*n > 1)
        qsort(*ids, *n, sizeof **ids, cmp_u64);
    return 0;
}

void oxl_seg_push(ox_log *log, const oxl_seg *s)
{
    if (log->nsegs == log->segcap) {
        log->segcap = log->segcap ? log->segcap * 2 : 16;
        log->segs = realloc(log->segs, log->segcap * sizeof *log->segs);
        if (log->segs == NULL)
            abort();
    }
    log->segs[log->nsegs++] = *s;
}

/* 1 if the index file `ifd` is whole and consistent with a segment of
 * `size` bytes starting at msgId `first`; fills *seal. Every entry's CRC is
 * checked, and entries must ascend. */
static int index_ok(int ifd, uint64_t first, uint64_t size, oxf_ent *seal)
{
    struct stat st;
    if (fstat(ifd, &st) != 0 || st.st_size < OXF_IDX_HDR + OXF_IDX_ENT ||
        (st.st_size - OXF_IDX_HDR) % OXF_IDX_ENT != 0)
        return 0;
    size_t len = (size_t)st.st_size;
    uint8_t *b = malloc(len);
    int ok =
        b != NULL && pread(ifd, b, len, 0) == (ssize_t)len && oxf_idx_hdr_decode(b, first) == 0;
    uint64_t prev_id = 0, prev_off = 0;
    size_t n = ok ? (len - OXF_IDX_HDR) / OXF_IDX_ENT : 0;
    for (size_t i = 0; ok && i < n; i++) {
        oxf_ent e;
        ok = oxf_ent_decode(b + OXF_IDX_HDR + i * OXF_IDX_ENT, &e) == 0 &&
             (e.kind == OXF_ENT_SEAL) == (i + 1 == n);
        if (ok && e.kind == OXF_ENT_RECORD)
            ok = e.msg_id >= first && e.msg_id > prev_id && e.seg_offset >= OXF_SEG_HDR &&
                 e.seg_offset > prev_off && e.seg_offset < size && e.txn_first <= e.msg_id;
        if (ok && e.kind == OXF_ENT_SEAL) {
            ok = e.seg_offset == size && e.msg_id + 1 >= first && e.msg_id >= prev_id;
            *seal = e;
        }
        if (ok) {
            prev_id = e.msg_id;
            prev_off = e.seg_offset;
        }
    }
    free(b);
    return ok;
}

/* Loads a sealed (non-tail) segment from its index, or rebuilds the index. */
int oxl_load_sealed(ox_log *log, uint64_t first, ox_log_recovery *rec, ox_errbuf *eb)
{
    char sp[PATH_MAX], ip[PATH_MAX];
    oxl_path(log, first, "seg", sp, sizeof sp);
    oxl_path(log, first, "idx", ip, sizeof ip);
    int sfd = open(sp, O_RDONLY | O_CLOEXEC);
    if (sfd < 0)
        return ox_errf(eb, OX_EIO, "open %s: %s", sp, strerror(errno));
    struct stat st;
    uint8_t hb[OXF_SEG_HDR];
    oxf_seg_hdr h;
    const char *why = "short read";
    int rc = 0;
    if (fstat(sfd, &st) != 0 || pread(sfd, hb, sizeof hb, 0) != (ssize_t)sizeof hb ||
        oxf_seg_hdr_decode(hb, sizeof hb, &h, &why) != 0)
        rc = ox_errf(eb, OX_ECORRUPT, "%s offset 0: %s", sp, why);
    else if (h.first_id != first)
        rc = ox_errf(eb, OX_ECORRUPT, "%s offset 16: first msgId does not match the name", sp);
    close(sfd);
    if (rc != 0)
        return rc;
    int ifd = open(ip, O_RDONLY | O_CLOEXEC);
    oxf_ent seal;
    memset(&seal, 0, sizeof seal);
    if (ifd >= 0) {
        int ok = index_ok(ifd, first, (uint64_t)st.st_size, &seal);
        close(ifd);
        if (ok) {
            oxl_seg_push(log, &(oxl_seg){first, seal.msg_id, seal.seg_offset, seal.max_ts,
                                         seal.max_fidx, seal.max_foff, 1});
            return 0;
        }
    }
    /* Missing or bad index: scan the segment, which must be whole. */
    int fd = open(sp, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return ox_errf(eb, OX_EIO, "open %s: %s", sp, strerror(errno));
    oxf_scan sc;
    memset(&sc, 0, sizeof sc);
    rc = oxf_scan_segment(fd, sp, &sc, eb);
    close(fd);
    if (rc == 0 && sc.hdr.first_id != first)
        rc = ox_errf(eb, OX_ECORRUPT, "%s offset 16: first msgId does not match the name", sp);
    if (rc == 0 && sc.end_valid != sc.file_size)
        rc = ox_errf(eb, OX_ECORRUPT, "%s offset %llu: %s", sp,
                     (unsigned long long)(sc.bad ? sc.bad_off : sc.end_valid),
                     sc.bad ? sc.bad_why : "truncated record");
    if (rc == 0) {
        oxf_ent seal;
        oxf_idx_seal(&sc.idx, sc.last_id, sc.file_size, sc.last_off, &seal);
        rc = oxl_write_index(log, first, &sc.idx, &seal, eb);
        if (rc == 0) {
            rec->rebuilt_indexes++;
            oxl_seg_push(log, &(oxl_seg){first, sc.last_id, sc.file_size, sc.idx.max_ts,
                                         sc.idx.max_fidx, sc.idx.max_foff, 1});
        }
    }
    ox_buf_free(&sc.idx.entries);
    ox_buf_free(&sc.idx_commit.entries);
    return rc;
}

static int remove_segment_files(ox_log *log, uint64_t first, ox_errbuf *eb)
{
    char name[OXF_NAME_LEN + 8];
    oxf_seg_name(name, first, "idx");
    int rc = ox_durable_unlink(log->dir, name, OX_DURABLE_NOSYNC, eb);
    oxf_seg_name(name, first, "seg");
    if (rc == 0)
        rc = ox_durable_unlink(log->dir, name, log->dflags, eb);
    return rc;
}

/* Recovers the tail: ids[0..*n) are the segments; may drop trailing ones. */
int oxl_recover_tail(ox_log *log, uint64_t *ids, size_t *n, ox_log_recovery *rec,
                     ox_log_srcpos *tail_commit_src, int *have_commit_src, ox_errbuf *eb)
{
    for (;;) {
        uint64_t first = ids[*n - 1];
        char sp[PATH_MAX];
        oxl_path(log, first, "seg", sp, sizeof sp);
        int fd = open(sp, O_RDWR | O_CLOEXEC);
        if (fd < 0)
            return ox_errf(eb, OX_EIO, "open %s: %s", sp, strerror(errno));
        oxf_scan sc;
        memset(&sc, 0, sizeof sc);
        int rc = oxf_scan_segment(fd, sp, &sc, eb);
        if (rc == 0 && sc.hdr.first_id != first)
            rc = ox_errf(eb, OX_ECORRUPT, "%s offset 16: first msgId does not match the name", sp);
        if (rc == 0 && sc.end_valid < sc.file_size &&
            oxf_valid_record_after(fd, sc.end_valid, sc.file_size))
            rc = ox_errf(eb, OX_ECORRUPT, "%s offset %llu: %s, followed by valid records", sp,
                         (unsigned long long)(sc.bad ? sc.bad_off : sc.end_valid),
                         sc.bad ? sc.bad_why : "truncated record");
        if (rc != 0)
            goto done;
        if (sc.commit_end == 0 && sc.hdr.txn_first != sc.hdr.first_id && *n > 1) {
            /* Only a piece of a transaction begun earlier: drop the segment. */
            rec->dropped_bytes += sc.file_size - OXF_SEG_HDR;
            rec->dropped_records += sc.n_valid;
            close(fd);
            fd = -1;
            rc = remove_segment_files(log, first, eb);
            ox_buf_free(&sc.idx.entries);
            ox_buf_free(&sc.idx_commit.entries);
            if (rc != 0)
                return rc;
            (*n)--;
            continue;
        }
        uint64_t keep = sc.commit_end ? sc.commit_end : OXF_SEG_HDR;
        uint64_t kept = sc.commit_end ? sc.commit_n : 0;
        if (keep < sc.file_size) {
            rec->dropped_bytes += sc.file_size - keep;
            rec->dropped_records += sc.n_valid - kept;
            rc = ox_durable_truncate(fd, keep, log->dflags, sp, eb);
            if (rc != 0)
                goto done;
        }
        if (kept == 0 && sc.hdr.txn_first != first) {
            /* The transaction it continued is gone: start afresh on a boundary. */
            uint8_t hb[OXF_SEG_HDR];
            sc.hdr.txn_first = first;
            oxf_seg_hdr_encode(hb, &sc.hdr);
            char name[OXF_NAME_LEN + 8];
            oxf_seg_name(name, first, "seg");
            close(fd);
            fd = -1;
            rc = ox_durable_create(log->dir, name, hb, sizeof hb, log->dflags, &fd, eb);
            if (rc != 0)
                goto done;
        }
        oxf_idxstate *is = &sc.idx;
        if (sc.commit_end) {
            ox_buf entries = sc.idx.entries;
            sc.idx = sc.idx_commit;
            sc.idx.entries = entries;
            sc.idx.entries.len = sc.commit_entries;
        } else {
            oxf_idx_init(&sc.idx, &sc.hdr);
        }
        /* The tail's index must equal a rebuild; rewrite it if not. */
        size_t ilen = OXF_IDX_HDR + is->entries.len;
        uint8_t *want = ox_xmalloc(ilen);
        oxf_idx_hdr_encode(want, first);
        if (is->entries.len)
            memcpy(want + OXF_IDX_HDR, is->entries.data, is->entries.len);
        char ip[PATH_MAX];
        oxl_path(log, first, "idx", ip, sizeof ip);
        if (!file_equals(ip, want, ilen)) {
            rc = oxl_write_index(log, first, is, NULL, eb);
            rec->rebuilt_indexes++;
        }
        free(want);
        if (rc != 0)
            goto done;
        log->fd = fd;
        fd = -1;
        snprintf(log->tail_path, sizeof log->tail_path, "%s", sp);
        log->tail_first = first;
        log->tail_size = keep;
        log->buf_off = keep;
        log->last_rec_off = sc.commit_end ? sc.commit_rec_off : 0;
        log->idx = *is;
        is->entries = (ox_buf)OX_BUF_INIT;
        atomic_store(&log->next_id, first + kept);
        *have_commit_src = sc.commit_end != 0;
        if (sc.commit_end)
            *tail_commit_src = sc.commit_src;
    done:
        if (fd >= 0)
            close(fd);
        ox_buf_free(&sc.idx.entries);
        ox_buf_free(&sc.idx_commit.entries);
        return rc;
    }
}
