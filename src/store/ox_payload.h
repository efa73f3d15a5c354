/*
 * ox_payload.h - what the store puts in a change-log record's payload.
 *
 * Layout (all name lengths are single bytes):
 *
 *     u8  db_len      then db_len bytes of the schema name (may be 0)
 *     u8  table_len   then table_len bytes of the table name (may be 0)
 *     u8  op          enum ox_op (insert=1 ... commit=6), or OX_PAYLOAD_POSITION;
 *                     OR-ed with OX_PAYLOAD_NAMES when a name list follows
 *     [only with OX_PAYLOAD_NAMES:
 *      u16 n          little-endian, then n times:
 *        u8 db_len, db bytes, u8 table_len, table bytes]
 *     ... the change's JSON object (ox_change_to_json), to the end
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
 * header's db/table are the first target's. A record matches a filter when
 * its header name or any listed name does (ox_payload_match). At most 65535
 * names are listed; a statement naming more lists the first 65535.
 * Nothing here logs.
 */
#ifndef OX_PAYLOAD_H
#define OX_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "ox_buf.h"
#include "ox_change.h"
#include "ox_err.h"
#include "ox_filter.h"

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

/* Appends the header for (db, table, op) to out. NULL names count as empty. */
void ox_payload_put_header(ox_buf *out, const char *db, const char *table, int op);

/* Appends the header for c: db/table, op, and for a DDL record with
 * several names (ntargets > 1 or a rename) the name list. */
void ox_payload_put_change_header(ox_buf *out, const ox_change *c, int op);

/* Appends header + JSON of `c` to out (ox_payload_put_change_header +
 * ox_change_to_json). */
void ox_payload_encode(ox_buf *out, const ox_change *c);

/* Splits a payload; OX_ECORRUPT if the header overruns `len`. Views point into p. */
int ox_payload_decode(const uint8_t *p, uint32_t len, ox_payload_view *v);

/* Calls fn for the header name and every listed name until it returns
 * true; returns whether one did. */
bool ox_payload_any_name(const ox_payload_view *v,
                         bool (*fn)(void *arg, const char *db, size_t dl, const char *t, size_t tl),
                         void *arg);

/* The same names for a change before it is stored: (db, table) (NULL as
 * ""), then what the name list would hold. Calls fn until it returns true;
 * returns whether one did. */
bool ox_payload_change_any_name(const ox_change *c,
                                bool (*fn)(void *arg, const char *db, size_t dl, const char *t,
                                           size_t tl),
                                void *arg);

/* True if f matches the header name or any listed name. */
bool ox_payload_match(const ox_payload_view *v, const ox_filter *f);

#endif
