/*
 * ox_filter.h - db.table patterns ("db.t,db2.*,*.audit_*").
 *
 * A list is comma-separated; each pattern is DB.TABLE split at its first
 * '.', where '*' matches any run of characters (also none) and everything
 * else matches itself, case-sensitively (MySQL on Linux). A pattern without
 * '.' means DB.* . Whitespace around patterns is ignored; an empty list is an
 * empty filter (callers decide what empty means: the store's whitelist and
 * a subscriber's filter treat it as "everything"). A DDL statement without a
 * table is matched with table "", which "db.*" matches. A db containing a
 * '.' (PostgreSQL "database.schema") is also matched by a pattern as a whole
 * against "database.schema.table" ("shop.public.t", "shop.public.*",
 * "shop.*") or against the db alone ("shop.public" = that schema's tables).
 * Nothing here logs; a
 * parsed filter is read-only and may be shared between threads.
 */
#ifndef OX_FILTER_H
#define OX_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "ox_err.h"

typedef struct ox_filter ox_filter;

/* At most this many patterns, each at most 255 bytes. */
#define OX_FILTER_MAX_PATTERNS 1024

/*
 * Parses `list`. Returns 0 and *out (free with ox_filter_free), or OX_EINVAL
 * naming the offending pattern (empty, too long, too many, control byte).
 */
int ox_filter_parse(const char *list, ox_filter **out, ox_errbuf *eb);

void ox_filter_free(ox_filter *f);

/* True if the list had no patterns. */
bool ox_filter_empty(const ox_filter *f);

/* True if any pattern matches db.table (lengths given; db/table need no NUL). */
bool ox_filter_match(const ox_filter *f, const char *db, size_t db_len, const char *table,
                     size_t table_len);

#endif
