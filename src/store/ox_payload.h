/*
 * ox_payload.h - what the store puts in a change-log record's payload.
 *
 * Layout (all lengths are single bytes, so the header is at most 513 bytes):
 *
 *     u8  db_len      then db_len bytes of the schema name (may be 0)
 *     u8  table_len   then table_len bytes of the table name (may be 0)
 *     u8  op          enum ox_op (insert=1 ... commit=6), or OX_PAYLOAD_POSITION
 *     ... the change's JSON object (ox_change_to_json), to the end
 *
 * The db/table prefix lets a subscriber filter without parsing JSON, and the
 * JSON object is served as is: the JSON stream splices msgId and checkpoint
 * in front of its first member, with no re-encoding. Names longer than 255
 * bytes (MySQL allows 64 characters) are cut at 255 bytes. Nothing here logs.
 */
#ifndef OX_PAYLOAD_H
#define OX_PAYLOAD_H

#include <stdint.h>

#include "ox_buf.h"
#include "ox_change.h"
#include "ox_err.h"

/* The op of a COMMIT record the store keeps only to advance the resume
 * position past a transaction its white/black lists emptied; such records
 * are never sent to subscribers. Its JSON is an ordinary commit object. */
#define OX_PAYLOAD_POSITION 0x86

typedef struct ox_payload_view {
    const char *db;
    uint8_t db_len;
    const char *table;
    uint8_t table_len;
    uint8_t op;
    const char *json; /* not NUL-terminated */
    uint32_t json_len;
} ox_payload_view;

/* Appends the header for (db, table, op) to out. NULL names count as empty. */
void ox_payload_put_header(ox_buf *out, const char *db, const char *table, int op);

/* Appends header + JSON of `c` to out (ox_payload_put_header + ox_change_to_json). */
void ox_payload_encode(ox_buf *out, const ox_change *c);

/* Splits a payload; OX_ECORRUPT if the header overruns `len`. Views point into p. */
int ox_payload_decode(const uint8_t *p, uint32_t len, ox_payload_view *v);

#endif
