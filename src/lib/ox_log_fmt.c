/*
 * ox_log_fmt.c - the change log's on-disk format.
 *
 * A log is a directory of segment files and their index files:
 *
 *   00000000000000000001.seg   records with msgIds 1 .. N
 *   00000000000000000001.idx   its index (a cache, rebuilt from the segment)
 *   0000000000000000000N+1.seg ...
 *
 * A segment is named after the msgId of its first record, zero-padded to 20
 * digits, so a reader finds the segment of any msgId from the directory
 * listing (or, reading on, from the next msgId) without scanning. All integers
 * are fixed-width little-endian.
 *
 * Segment header, 64 bytes:
 *   0  magic "OXLOGSEG"    8  u32 version (1)   12 u32 header size (64)
 *   16 u64 first msgId     24 u64 txn_first: msgId that opened the
 *                             transaction still open where the segment starts
 *                             (== first msgId when it starts on a boundary)
 *   32 i64 created (unix)  40 20 reserved zero bytes   60 u32 CRC32C of 0..59
 *
 * Record, 48-byte header then opaque source position then payload:
 *   0  u32 magic 0x4C52584F ("OXRL")    4  u32 CRC32C of bytes 8..end of record
 *   8  u64 msgId          16 u64 source file_idx     24 u64 source offset
 *   32 i64 event timestamp 40 u32 payload length (<= 1 GiB)
 *   44 u16 flags (bit 0: commits its transaction)    46 u16 opaque length (<= 255)
 * Records follow each other without padding; msgIds inside a segment are
 * consecutive.
 *
 * Index file, 32-byte header then 56-byte entries:
 *   header: 0 magic "OXLOGIDX", 8 u32 version, 12 u32 entry size (56),
 *           16 u64 first msgId of the segment, 24 u32 zero, 28 u32 CRC32C of 0..27
 *   entry:  0 u64 msgId, 8 u64 offset in the segment, 16 i64 max timestamp,
 *           24 u64 max file_idx, 32 u64 max offset, 40 u64 txn_first,
 *           48 u32 kind (1 record, 2 seal), 52 u32 CRC32C of 0..51
 * A record entry exists for the first record of the segment and for every
 * record that starts at least 4096 bytes after the previous entry. Its
 * "max" fields are the running maximum over the records of the segment that
 * come BEFORE it (INT64_MIN / (0,0) for the first): binlog timestamps are not
 * monotonic, but running maxima are, so a binary search finds the last entry
 * before which no record reaches a timestamp T, and a scan of at most ~4 KiB
 * from there finds the first record that does. txn_first lets a reader that
 * lands inside a transaction go back to its start. The seal entry, written
 * when the segment is closed for good, holds the last msgId, the segment
 * size, the maxima over the whole segment and, in the txn_first field, the
 * offset of the last record (0 if none) so that its source position can be
 * read back without a scan. The entries depend only on the
 * segment's bytes, so an index is checked by comparing it with a rebuild.
 */
#include "ox_log_fmt.h"

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ox_crc32c.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "on-disk structs assume little-endian");

struct disk_seg_hdr {
    char magic[8];
    uint32_t version;
    uint32_t hdr_size;
    uint64_t first_id;
    uint64_t txn_first;
    int64_t created;
    uint8_t reserved[20];
    uint32_t crc;
};
_Static_assert(sizeof(struct disk_seg_hdr) == OXF_SEG_HDR, "segment header size");
_Static_assert(offsetof(struct disk_seg_hdr, crc) == 60, "segment header crc offset");

struct disk_idx_hdr {
    char magic[8];
    uint32_t version;
    uint32_t ent_size;
    uint64_t first_id;
    uint32_t zero;
    uint32_t crc;
};
_Static_assert(sizeof(struct disk_idx_hdr) == OXF_IDX_HDR, "index header size");

struct disk_ent {
    uint64_t msg_id;
    uint64_t seg_offset;
    int64_t max_ts;
    uint64_t max_fidx;
    uint64_t max_foff;
    uint64_t txn_first;
    uint32_t kind;
    uint32_t crc;
};
_Static_assert(sizeof(struct disk_ent) == OXF_IDX_ENT, "index entry size");

void oxf_seg_name(char out[OXF_NAME_LEN + 8], uint64_t first_id, const char *ext)
{
    snprintf(out, OXF_NAME_LEN + 8, "%020llu.%s", (unsigned long long)first_id, ext);
}

void oxf_seg_hdr_encode(uint8_t out[OXF_SEG_HDR], const oxf_seg_hdr *h)
{
    struct disk_seg_hdr d;
    memset(&d, 0, sizeof d);
    memcpy(d.magic, OXF_SEG_MAGIC, 8);
    d.version = OXF_VERSION;
    d.hdr_size = OXF_SEG_HDR;
    d.first_id = h->first_id;
    d.txn_first = h->txn_first;
    d.created = h->created;
    d.crc = ox_crc32c(0, &d, offsetof(struct disk_seg_hdr, crc));
    memcpy(out, &d, sizeof d);
}

int oxf_seg_hdr_decode(const uint8_t *p, size_t len, oxf_seg_hdr *h, const char **why)
{
    struct disk_seg_hdr d;
    if (len < sizeof d) {
        *why = "segment shorter than its header";
        return OX_ECORRUPT;
    }
    memcpy(&d, p, sizeof d);
    if (memcmp(d.magic, OXF_SEG_MAGIC, 8) != 0) {
        *why = "bad segment magic";
        return OX_ECORRUPT;
    }
    if (d.crc != ox_crc32c(0, &d, offsetof(struct disk_seg_hdr, crc))) {
        *why = "bad segment header crc";
        return OX_ECORRUPT;
    }
    if (d.version != OXF_VERSION || d.hdr_size != OXF_SEG_HDR) {
        *why = "unsupported segment version";
        return OX_ECORRUPT;
    }
    if (d.first_id == 0 || d.txn_first == 0 || d.txn_first > d.first_id) {
        *why = "bad msgIds in segment header";
        return OX_ECORRUPT;
    }
    h->first_id = d.first_id;
    h->txn_first = d.txn_first;
    h->created = d.created;
    return 0;
}

void oxf_rec_encode(uint8_t out[OXF_REC_HDR], uint64_t msg_id, const ox_log_srcpos *src,
                    uint32_t payload_len, uint16_t flags, const void *payload)
{
    struct oxf_disk_rec d;
    d.magic = OXF_REC_MAGIC;
    d.crc = 0;
    d.msg_id = msg_id;
    d.file_idx = src->file_idx;
    d.src_offset = src->offset;
    d.timestamp = src->timestamp;
    d.payload_len = payload_len;
    d.flags = flags;
    d.opaque_len = src->opaque_len;
    uint32_t c = ox_crc32c(0, (const uint8_t *)&d + 8, OXF_REC_HDR - 8);
    c = ox_crc32c(c, src->opaque, src->opaque_len);
    d.crc = ox_crc32c(c, payload, payload_len);
    memcpy(out, &d, sizeof d);
}

int oxf_rec_parse(const uint8_t *p, size_t avail, oxf_rec *r, size_t *need, const char **why)
{
    int rc = oxf_rec_parse_hdr(p, avail, r, need, why);
    if (rc != 0)
        return rc;
    if (ox_crc32c(0, p + 8, *need - 8) != r->crc) {
        *why = "bad record crc";
        return -1;
    }
    return 0;
}

void oxf_ent_encode(uint8_t out[OXF_IDX_ENT], const oxf_ent *e)
{
    struct disk_ent d = {e->msg_id,   e->seg_offset, e->max_ts, e->max_fidx,
                         e->max_foff, e->txn_first,  e->kind,   0};
    d.crc = ox_crc32c(0, &d, offsetof(struct disk_ent, crc));
    memcpy(out, &d, sizeof d);
}

int oxf_ent_decode(const uint8_t *p, oxf_ent *e)
{
    struct disk_ent d;
    memcpy(&d, p, sizeof d);
    if (d.crc != ox_crc32c(0, &d, offsetof(struct disk_ent, crc)))
        return OX_ECORRUPT;
    if (d.kind != OXF_ENT_RECORD && d.kind != OXF_ENT_SEAL)
        return OX_ECORRUPT;
    e->msg_id = d.msg_id;
    e->seg_offset = d.seg_offset;
    e->max_ts = d.max_ts;
    e->max_fidx = d.max_fidx;
    e->max_foff = d.max_foff;
    e->txn_first = d.txn_first;
    e->kind = d.kind;
    return 0;
}

void oxf_idx_hdr_encode(uint8_t out[OXF_IDX_HDR], uint64_t first_id)
{
    struct disk_idx_hdr d;
    memset(&d, 0, sizeof d);
    memcpy(d.magic, OXF_IDX_MAGIC, 8);
    d.version = OXF_VERSION;
    d.ent_size = OXF_IDX_ENT;
    d.first_id = first_id;
    d.crc = ox_crc32c(0, &d, offsetof(struct disk_idx_hdr, crc));
    memcpy(out, &d, sizeof d);
}

int oxf_idx_hdr_decode(const uint8_t *p, uint64_t first_id)
{
    struct disk_idx_hdr d;
    memcpy(&d, p, sizeof d);
    if (memcmp(d.magic, OXF_IDX_MAGIC, 8) != 0 || d.version != OXF_VERSION ||
        d.ent_size != OXF_IDX_ENT || d.first_id != first_id ||
        d.crc != ox_crc32c(0, &d, offsetof(struct disk_idx_hdr, crc)))
        return OX_ECORRUPT;
    return 0;
}

void oxf_idx_init(oxf_idxstate *s, const oxf_seg_hdr *h)
{
    s->last_entry_off = 0;
    s->max_ts = INT64_MIN;
    s->max_fidx = 0;
    s->max_foff = 0;
    s->txn_first = h->txn_first;
    s->in_txn = h->txn_first != h->first_id;
    ox_buf_reset(&s->entries);
}

void oxf_idx_note(oxf_idxstate *s, uint64_t off, const oxf_rec *r)
{
    if (!s->in_txn) {
        s->txn_first = r->msg_id;
        s->in_txn = 1;
    }
    if (s->last_entry_off == 0 || off >= s->last_entry_off + OXF_IDX_EVERY) {
        oxf_ent e = {r->msg_id,   off,          s->max_ts,     s->max_fidx,
                     s->max_foff, s->txn_first, OXF_ENT_RECORD};
        uint8_t enc[OXF_IDX_ENT];
        oxf_ent_encode(enc, &e);
        ox_buf_put(&s->entries, enc, sizeof enc);
        s->last_entry_off = off;
    }
    if (r->timestamp > s->max_ts)
        s->max_ts = r->timestamp;
    if (r->file_idx > s->max_fidx || (r->file_idx == s->max_fidx && r->src_offset > s->max_foff)) {
        s->max_fidx = r->file_idx;
        s->max_foff = r->src_offset;
    }
    if (r->flags & OX_LOG_COMMIT)
        s->in_txn = 0;
}

void oxf_idx_seal(const oxf_idxstate *s, uint64_t last_id, uint64_t size, uint64_t last_off,
                  oxf_ent *e)
{
    e->msg_id = last_id;
    e->seg_offset = size;
    e->max_ts = s->max_ts;
    e->max_fidx = s->max_fidx;
    e->max_foff = s->max_foff;
    e->txn_first = last_off;
    e->kind = OXF_ENT_SEAL;
}

static void fill_src(ox_log_srcpos *sp, const oxf_rec *r, const uint8_t *p)
{
    memset(sp, 0, sizeof *sp);
    sp->file_idx = r->file_idx;
    sp->offset = r->src_offset;
    sp->timestamp = r->timestamp;
    sp->opaque_len = r->opaque_len;
    memcpy(sp->opaque, p + OXF_REC_HDR, r->opaque_len);
}

/* Scans read a segment in chunks of up to 1 MiB; a small segment (or the
 * small rest of one) needs no more than its size. */
static size_t scan_cap(uint64_t bytes)
{
    if (bytes >= (1u << 20))
        return 1u << 20;
    return bytes > 4096 ? (size_t)bytes : 4096;
}

int oxf_scan_segment(int fd, const char *path, oxf_scan *s, ox_errbuf *eb)
{
    uint8_t hb[OXF_SEG_HDR];
    const char *why = NULL;
    off_t end = lseek(fd, 0, SEEK_END);
    if (end < 0)
        return ox_errf(eb, OX_EIO, "%s: cannot size", path);
    s->file_size = (uint64_t)end;
    ssize_t n = pread(fd, hb, sizeof hb, 0);
    if (n < 0)
        return ox_errf(eb, OX_EIO, "%s: read failed", path);
    int rc = oxf_seg_hdr_decode(hb, (size_t)n, &s->hdr, &why);
    if (rc != 0)
        return ox_errf(eb, rc, "%s offset 0: %s", path, why);
    oxf_idx_init(&s->idx, &s->hdr);
    oxf_idx_init(&s->idx_commit, &s->hdr);
    s->commit_entries = 0;
    s->end_valid = OXF_SEG_HDR;
    s->n_valid = 0;
    s->last_id = s->hdr.first_id - 1;
    s->commit_end = 0;
    s->commit_id = 0;
    s->commit_n = 0;
    s->last_off = 0;
    s->commit_rec_off = 0;
    s->has_first = 0;
    s->bad = 0;
    s->bad_off = 0;
    s->bad_why = NULL;
    size_t cap = scan_cap(s->file_size), have = 0;
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return ox_errf(eb, OX_ENOMEM, "%s: no memory for scan", path);
    uint64_t buf_off = OXF_SEG_HDR; /* file offset of buf[0] */
    size_t pos = 0;
    rc = 0;
    for (;;) {
        oxf_rec r;
        size_t need = 0;
        int pr = oxf_rec_parse(buf + pos, have - pos, &r, &need, &why);
        if (pr == 0 && r.msg_id != s->last_id + 1) {
            pr = -1;
            why = "msgId out of sequence";
        }
        if (pr == 0) {
            uint64_t off = buf_off + pos;
            oxf_idx_note(&s->idx, off, &r);
            if (!s->has_first) {
                fill_src(&s->first_src, &r, buf + pos);
                s->has_first = 1;
            }
            s->n_valid++;
            s->last_id = r.msg_id;
            s->last_off = off;
            s->end_valid = off + need;
            if (r.flags & OX_LOG_COMMIT) {
                s->commit_end = s->end_valid;
                s->commit_id = r.msg_id;
                s->commit_n = s->n_valid;
                s->commit_rec_off = off;
                fill_src(&s->commit_src, &r, buf + pos);
                s->idx_commit = s->idx;
                s->idx_commit.entries = (ox_buf)OX_BUF_INIT;
                s->commit_entries = s->idx.entries.len;
            }
            pos += need;
            continue;
        }
        if (pr < 0) {
            s->bad = 1;
            s->bad_off = buf_off + pos;
            s->bad_why = why;
            break;
        }
        /* Incomplete in the buffer: read more, unless the file ends first. */
        uint64_t at = buf_off + pos;
        if (at + need > s->file_size)
            break; /* a short (torn) tail, or nothing left */
        memmove(buf, buf + pos, have - pos);
        have -= pos;
        buf_off = at;
        pos = 0;
        if (need > cap) {
            uint8_t *nb = realloc(buf, need);
            if (nb == NULL) {
                rc = ox_errf(eb, OX_ENOMEM, "%s offset %llu: no memory", path,
                             (unsigned long long)at);
                break;
            }
            buf = nb;
            cap = need;
        }
        uint64_t want = s->file_size - (buf_off + have);
        if (want > cap - have)
            want = cap - have;
        ssize_t got = pread(fd, buf + have, (size_t)want, (off_t)(buf_off + have));
        if (got <= 0) {
            rc = ox_errf(eb, OX_EIO, "%s offset %llu: read failed", path,
                         (unsigned long long)(buf_off + have));
            break;
        }
        have += (size_t)got;
    }
    free(buf);
    return rc;
}

int oxf_valid_record_after(int fd, uint64_t from, uint64_t size)
{
    size_t cap = scan_cap(size > from ? size - from : 0);
    uint8_t *buf = malloc(cap);
    if (buf == NULL)
        return 1; /* cannot tell: assume the worst (corruption, not a torn tail) */
    int found = 0;
    for (uint64_t base = from + 1; base + OXF_REC_HDR <= size && !found;) {
        size_t want = size - base < cap ? (size_t)(size - base) : cap;
        ssize_t got = pread(fd, buf, want, (off_t)base);
        if (got < (ssize_t)OXF_REC_HDR)
            break;
        for (size_t i = 0; i + OXF_REC_HDR <= (size_t)got; i++) {
            if (ox_le32(buf + i) != OXF_REC_MAGIC)
                continue;
            uint32_t plen = ox_le32(buf + i + 40);
            uint16_t olen = ox_le16(buf + i + 46);
            if (plen > OXF_MAX_PAYLOAD || olen > OX_LOG_OPAQUE_MAX)
                continue;
            uint64_t rsize = (uint64_t)OXF_REC_HDR + olen + plen;
            if (base + i + rsize > size)
                continue;
            uint8_t *rb = malloc(rsize);
            if (rb == NULL) {
                found = 1;
                break;
            }
            oxf_rec r;
            size_t need;
            const char *why;
            if (pread(fd, rb, rsize, (off_t)(base + i)) == (ssize_t)rsize &&
                oxf_rec_parse(rb, rsize, &r, &need, &why) == 0)
                found = 1;
            free(rb);
            if (found)
                break;
        }
        base += (uint64_t)got - OXF_REC_HDR + 1;
    }
    free(buf);
    return found;
}

int oxf_read_src(int fd, uint64_t off, uint64_t *msg_id, ox_log_srcpos *src)
{
    uint8_t b[OXF_REC_HDR + OX_LOG_OPAQUE_MAX];
    ssize_t n = pread(fd, b, sizeof b, (off_t)off);
    if (n < (ssize_t)OXF_REC_HDR || ox_le32(b) != OXF_REC_MAGIC)
        return OX_ECORRUPT;
    uint16_t olen = ox_le16(b + 46);
    if (olen > OX_LOG_OPAQUE_MAX || n < (ssize_t)(OXF_REC_HDR + olen))
        return OX_ECORRUPT;
    memset(src, 0, sizeof *src);
    *msg_id = ox_le64(b + 8);
    src->file_idx = ox_le64(b + 16);
    src->offset = ox_le64(b + 24);
    src->timestamp = (int64_t)ox_le64(b + 32);
    src->opaque_len = olen;
    memcpy(src->opaque, b + OXF_REC_HDR, olen);
    return 0;
}
