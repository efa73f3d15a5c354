/*
 * ox_log_fmt.h - on-disk structures of the change log (internal to ox_log*.c).
 *
 * The format itself is described in ox_log_fmt.c and docs/format.md. This
 * header exposes encoders and validating decoders, the deterministic index
 * builder shared by the writer and by recovery, and a segment scanner.
 */
#ifndef OX_LOG_FMT_H
#define OX_LOG_FMT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ox_le.h"
#include "ox_buf.h"
#include "ox_err.h"
#include "ox_log.h"

#define OXF_SEG_MAGIC   "OXLOGSEG"
#define OXF_IDX_MAGIC   "OXLOGIDX"
#define OXF_VERSION     1u
#define OXF_SEG_HDR     64u
#define OXF_REC_HDR     48u
#define OXF_IDX_HDR     32u
#define OXF_IDX_ENT     56u
#define OXF_REC_MAGIC   0x4C52584Fu /* "OXRL" little-endian */
#define OXF_MAX_PAYLOAD (1u << 30)
#define OXF_IDX_EVERY   4096u /* an index entry at least every this many bytes */
#define OXF_ENT_RECORD  1u
#define OXF_ENT_SEAL    2u
#define OXF_NAME_LEN    24 /* 20 digits + ".seg" */

/* Segment file header, decoded. */
typedef struct oxf_seg_hdr {
    uint64_t first_id;  /* msgId of the first record in the segment */
    uint64_t txn_first; /* msgId that opened the transaction open at the segment start */
    int64_t created;
} oxf_seg_hdr;

/* Record header, decoded; opaque and payload follow it in the file. */
typedef struct oxf_rec {
    uint32_t crc;
    uint64_t msg_id;
    uint64_t file_idx;
    uint64_t src_offset;
    int64_t timestamp;
    uint32_t payload_len;
    uint16_t flags;
    uint16_t opaque_len;
} oxf_rec;

/* One index entry (also used for the seal, kind OXF_ENT_SEAL). */
typedef struct oxf_ent {
    uint64_t msg_id;
    uint64_t seg_offset;
    int64_t max_ts;    /* running maximum of timestamps before this record */
    uint64_t max_fidx; /* running maximum of (file_idx, offset) before it */
    uint64_t max_foff;
    uint64_t txn_first; /* msgId that opened this record's transaction */
    uint32_t kind;
} oxf_ent;

/* Running state of the deterministic index builder for one segment. */
typedef struct oxf_idxstate {
    uint64_t last_entry_off; /* 0: no entry yet */
    int64_t max_ts;
    uint64_t max_fidx, max_foff;
    uint64_t txn_first;
    int in_txn;
    ox_buf entries; /* encoded entries (OXF_IDX_ENT bytes each), no file header */
} oxf_idxstate;

void oxf_seg_name(char out[OXF_NAME_LEN + 8], uint64_t first_id, const char *ext);
void oxf_seg_hdr_encode(uint8_t out[OXF_SEG_HDR], const oxf_seg_hdr *h);
/* Returns 0 or OX_ECORRUPT with the reason in *why. */
int oxf_seg_hdr_decode(const uint8_t *p, size_t len, oxf_seg_hdr *h, const char **why);

/* Encodes the record header with its CRC over header, opaque and payload. */
void oxf_rec_encode(uint8_t out[OXF_REC_HDR], uint64_t msg_id, const ox_log_srcpos *src,
                    uint32_t payload_len, uint16_t flags, const void *payload);

/* Parses the record at p (avail bytes): 0 complete and valid, 1 incomplete
 * (needs *need bytes in total), -1 invalid (reason in *why). Checks the CRC. */
int oxf_rec_parse(const uint8_t *p, size_t avail, oxf_rec *r, size_t *need, const char **why);

/* The record header as stored (little-endian hosts; see ox_log_fmt.c). */
struct oxf_disk_rec {
    uint32_t magic;
    uint32_t crc;
    uint64_t msg_id;
    uint64_t file_idx;
    uint64_t src_offset;
    int64_t timestamp;
    uint32_t payload_len;
    uint16_t flags;
    uint16_t opaque_len;
};
_Static_assert(sizeof(struct oxf_disk_rec) == OXF_REC_HDR, "record header size");
_Static_assert(offsetof(struct oxf_disk_rec, opaque_len) == 46, "record header layout");

/* Little-endian field access: ox_le.h. */

/* Like oxf_rec_parse but without the CRC check: returns 0 with the stored
 * CRC in r->crc, 1 incomplete, -1 invalid header. Inline: readers call it
 * for every record. Each field is loaded straight from the record (offsets
 * of struct oxf_disk_rec): copying the header to the stack first and reading
 * fields back made loads straddle the copy's wide stores, which the CPU
 * cannot forward (a measured stall on the read path). */
static inline int oxf_rec_parse_hdr(const uint8_t *p, size_t avail, oxf_rec *r, size_t *need,
                                    const char **why)
{
    if (avail < OXF_REC_HDR) {
        *need = OXF_REC_HDR;
        return 1;
    }
    uint32_t payload_len = ox_le32(p + offsetof(struct oxf_disk_rec, payload_len));
    uint16_t flags = ox_le16(p + offsetof(struct oxf_disk_rec, flags));
    uint16_t opaque_len = ox_le16(p + offsetof(struct oxf_disk_rec, opaque_len));
    if (ox_le32(p) != OXF_REC_MAGIC) {
        *why = "bad record magic";
        return -1;
    }
    if (payload_len > OXF_MAX_PAYLOAD || opaque_len > OX_LOG_OPAQUE_MAX ||
        (flags & ~(uint16_t)OX_LOG_COMMIT) != 0) {
        *why = "bad record lengths or flags";
        return -1;
    }
    r->crc = ox_le32(p + offsetof(struct oxf_disk_rec, crc));
    r->msg_id = ox_le64(p + offsetof(struct oxf_disk_rec, msg_id));
    r->file_idx = ox_le64(p + offsetof(struct oxf_disk_rec, file_idx));
    r->src_offset = ox_le64(p + offsetof(struct oxf_disk_rec, src_offset));
    r->timestamp = (int64_t)ox_le64(p + offsetof(struct oxf_disk_rec, timestamp));
    r->payload_len = payload_len;
    r->flags = flags;
    r->opaque_len = opaque_len;
    *need = (size_t)OXF_REC_HDR + opaque_len + payload_len;
    return avail < *need ? 1 : 0;
}

void oxf_ent_encode(uint8_t out[OXF_IDX_ENT], const oxf_ent *e);
int oxf_ent_decode(const uint8_t *p, oxf_ent *e);
void oxf_idx_hdr_encode(uint8_t out[OXF_IDX_HDR], uint64_t first_id);
int oxf_idx_hdr_decode(const uint8_t *p, uint64_t first_id);

void oxf_idx_init(oxf_idxstate *s, const oxf_seg_hdr *h);
/* Notes the record at offset `off`; adds an entry if the rule says so. */
void oxf_idx_note(oxf_idxstate *s, uint64_t off, const oxf_rec *r);
/* The seal entry describing the whole segment (txn_first holds last_off). */
void oxf_idx_seal(const oxf_idxstate *s, uint64_t last_id, uint64_t size, uint64_t last_off,
                  oxf_ent *e);
/* Reads the record header and opaque position at `off` (CRC not checked). */
int oxf_read_src(int fd, uint64_t off, uint64_t *msg_id, ox_log_srcpos *src);

/* What a scan of one segment file found. */
typedef struct oxf_scan {
    oxf_seg_hdr hdr;
    uint64_t file_size;
    uint64_t end_valid;      /* offset after the last valid record */
    uint64_t n_valid;        /* valid records */
    uint64_t last_id;        /* msgId of the last valid record (first_id - 1 if none) */
    uint64_t commit_end;     /* offset after the last valid commit record, 0 if none */
    uint64_t commit_id;      /* its msgId */
    uint64_t commit_n;       /* valid records up to and including it */
    uint64_t last_off;       /* offset of the last valid record, 0 if none */
    uint64_t commit_rec_off; /* offset of the last valid commit record, 0 if none */
    ox_log_srcpos commit_src;
    int has_first;
    ox_log_srcpos first_src; /* of the first record */
    int bad;                 /* stopped at an invalid record (not just a short tail) */
    uint64_t bad_off;
    const char *bad_why;
    oxf_idxstate idx;        /* index of the valid records */
    oxf_idxstate idx_commit; /* index scalars right after the last commit; its
                              * entries are idx.entries cut to commit_entries */
    size_t commit_entries;
} oxf_scan;

/* Scans the segment open as fd (named path, for errors): header, then every
 * record with CRC and msgId continuity, building the index. Invalid bytes end
 * the scan (s->bad); only an unreadable file or bad header is an error. The
 * caller frees s->idx.entries. */
int oxf_scan_segment(int fd, const char *path, oxf_scan *s, ox_errbuf *eb);

/* 1 if a valid record starts anywhere in (from, size) of fd, else 0. */
int oxf_valid_record_after(int fd, uint64_t from, uint64_t size);

#endif
