/*
 * ox_record.h - the one owner of what a stored and a served record looks
 * like: the change-log payload, the JSON envelope a subscriber sees, and the
 * binary stream's frames. The store writes these bytes, the client reads
 * them; neither encodes them by hand (docs/protocol.md is the reference).
 *
 * Payload (a change-log record's bytes; all name lengths are single bytes):
 *
 *     u8  db_len      then db_len bytes of the schema name (may be 0)
 *     u8  table_len   then table_len bytes of the table name (may be 0)
 *     u8  op          enum ox_op (insert=1 ... commit=6), or OX_PAYLOAD_POSITION;
 *                     OR-ed with OX_PAYLOAD_NAMES when a name list follows
 *     [only with OX_PAYLOAD_NAMES:
 *      u16 n          little-endian, then n times:
 *        u8 db_len, db bytes, u8 table_len, table bytes]
 *     ... the change's JSON object, to the end
 *
 * The db/table prefix lets a subscriber filter without parsing JSON, and the
 * JSON object is served as is: the JSON stream splices msgId and checkpoint
 * in front of its first member, with no re-encoding. Names longer than 255
 * bytes (MySQL allows 64 characters) are cut at 255 bytes.
 *
 * The name list (added with DDL routing; records written before it never
 * have the bit, so every older log reads the same) carries the other names a
 * DDL statement acts on: its further tables (DROP TABLE a, b; RENAME TABLE
 * a TO b, c TO d) and the new names of a rename, in statement order. The
 * header's db/table are the first target's. At most 65535 names are listed;
 * a statement naming more lists the first 65535.
 *
 * JSON envelope (format=json, one line per record):
 *
 *     {"msgId":N,"checkpoint":"ip:port:fileIdx:offset:ts:N", ...the object's members}
 *
 *   An error ending a stream is {"isSuccess":false,"errMsg":"..."}.
 *
 * Binary stream (format=binary): the 8 bytes "OXBSTRM1", then frames,
 * little-endian, laid out as struct ox_record_frame below:
 *
 *     u32 len        bytes after this field (36 + payload length)
 *     u8  kind       0 record, 1 keepalive, 2 error (payload = error JSON)
 *     u8  flags      bit 0: the record commits its transaction
 *     u16 reserved   0
 *     u64 msgId, u64 fileIdx, u64 offset, i64 timestamp
 *     payload        the stored payload (above)
 *
 * Nothing here logs; everything is thread-safe for distinct buffers.
 */
#ifndef OX_RECORD_H
#define OX_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ox_buf.h"
#include "ox_change.h"
#include "ox_checkpoint.h"
#include "ox_log.h"

/* The op of a COMMIT record the store keeps only to advance the resume
 * position past a transaction its white/black lists emptied (or past an
 * account statement, which is never stored); such records are never sent
 * to subscribers. Its JSON is an ordinary commit object. */
#define OX_PAYLOAD_POSITION 0x86

/* Bit of the op byte: a name list follows the op (see above). */
#define OX_PAYLOAD_NAMES 0x40

typedef struct ox_payload_view {
    const char *db;
    uint8_t db_len;
    const char *table;
    uint8_t table_len;
    uint8_t op;           /* without OX_PAYLOAD_NAMES */
    uint16_t nnames;      /* names in the list (0 without one) */
    const uint8_t *names; /* the raw list (n times u8 len, db, u8 len, table) */
    const char *json;     /* not NUL-terminated */
    uint32_t json_len;
} ox_payload_view;

/* Appends the payload header for (db, table, op) to out. NULL names count
 * as empty. */
void ox_record_put_header(ox_buf *out, const char *db, const char *table, int op);

/* Appends the header for c: db/table, op, and for a DDL record with
 * several names (ntargets > 1 or a rename) the name list. */
void ox_record_put_change_header(ox_buf *out, const ox_change *c, int op);

/* Splits a payload; OX_ECORRUPT if the header overruns `len`. Views point
 * into p. */
int ox_record_decode(const uint8_t *p, uint32_t len, ox_payload_view *v);

/* Calls fn for the header name and every listed name until it returns
 * true; returns whether one did. */
bool ox_record_any_name(const ox_payload_view *v,
                        bool (*fn)(void *arg, const char *db, size_t dl, const char *t, size_t tl),
                        void *arg);

/* Writes a record's checkpoint (every field present) into buf; returns its
 * length. */
size_t ox_record_checkpoint(uint32_t ip, uint16_t port, const ox_log_srcpos *src, uint64_t msg_id,
                            char buf[OX_CHECKPOINT_STRLEN]);

/*
 * The JSON envelope: appends {"msgId":N,"checkpoint":"<cp>" and the
 * separator to head, and sets *rest and *rest_len to the bytes of the stored
 * object `json` that complete the line (its members and closing brace;
 * NULL/0 when json is not an object, in which case head is closed). The
 * caller sends head, then rest, so the object is never copied.
 */
void ox_record_json_head(ox_buf *head, uint64_t msg_id, const char *cp, size_t cp_len,
                         const char *json, size_t json_len, const char **rest, size_t *rest_len);

/* Appends {"isSuccess":false,"errMsg":<text>} (no newline). */
void ox_record_json_error(ox_buf *out, const char *text);

/* A served JSON line, as ox_record_json_parse reads it. */
typedef struct ox_record_env {
    int error; /* the line is an error object (nothing else set) */
    uint64_t msg_id;
    const char *checkpoint; /* into the line, not NUL-terminated */
    size_t checkpoint_len;
    uint64_t file_idx, offset;
    int64_t timestamp;
    int commit; /* the record is a commit ("op":"commit") */
} ox_record_env;

/* Reads the envelope of one line (without its newline). Returns 0, or
 * OX_EINVAL with a reason in eb. */
int ox_record_json_parse(const uint8_t *s, size_t len, ox_record_env *env, ox_errbuf *eb);

/* The binary stream's preamble. */
#define OX_RECORD_MAGIC     "OXBSTRM1"
#define OX_RECORD_MAGIC_LEN 8

enum ox_record_kind {
    OX_RECORD_KIND_RECORD = 0,
    OX_RECORD_KIND_KEEPALIVE = 1,
    OX_RECORD_KIND_ERROR = 2,
};

/* flags bit: the record commits its transaction (OX_LOG_COMMIT). */
#define OX_RECORD_FLAG_COMMIT 1u

/* A frame header: on the wire each field little-endian at its offset here
 * (asserted in ox_record.c); in memory, host order. */
typedef struct ox_record_frame {
    uint32_t len; /* bytes after this field: OX_RECORD_FRAME_HDR - 4 + payload */
    uint8_t kind; /* enum ox_record_kind */
    uint8_t flags;
    uint16_t reserved;
    uint64_t msg_id;
    uint64_t file_idx;
    uint64_t offset;
    int64_t timestamp;
} ox_record_frame;

#define OX_RECORD_FRAME_HDR 40

/* Writes the header of a frame of `kind` carrying `payload_len` bytes; rec
 * (may be NULL: keepalive, error) gives msgId, position and commit flag. */
void ox_record_frame_put(uint8_t h[OX_RECORD_FRAME_HDR], int kind, const ox_log_record *rec,
                         size_t payload_len);

/* Reads a frame header; OX_ECORRUPT if len is below the header's size or
 * the kind is unknown. */
int ox_record_frame_get(const uint8_t h[OX_RECORD_FRAME_HDR], ox_record_frame *f);

#endif
