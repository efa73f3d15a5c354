/*
 * ox_payload.h - the store's side of a change-log record's payload: encoding
 * a change (header + rendered JSON) and matching names against a filter.
 * The payload layout itself is owned by src/lib/ox_record.h. Nothing here
 * logs.
 */
#ifndef OX_PAYLOAD_H
#define OX_PAYLOAD_H

#include <stdbool.h>
#include <stdint.h>

#include "ox_buf.h"
#include "ox_change.h"
#include "ox_err.h"
#include "ox_filter.h"
#include "ox_record.h"

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
