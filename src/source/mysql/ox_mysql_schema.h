/*
 * ox_mysql_schema.h - column names from information_schema, cached per table
 * (`oxbow capture` without a schema history), and the schema history's
 * initial snapshot (ox_mysql_schema_snapshot, below).
 *
 * When the server writes TABLE_MAP events without column metadata
 * (binlog_row_metadata=MINIMAL), live capture reads each table's columns from
 * information_schema.COLUMNS (ordinal position, name, COLUMN_KEY='PRI',
 * character set) over a second connection, with a prepared statement, the
 * first time it sees the table; the answer is cached until a DDL statement
 * invalidates it.
 *
 * Caveat: information_schema describes the table as it is NOW. While capture
 * catches up over events older than a later ALTER TABLE, the current column
 * list may not describe the event's row. A different column count is
 * detected and answered with OX_ENOENT, so the decoder names columns by
 * position ("@1", ...) instead of mislabelling them; a same-count change
 * (e.g. a rename, or a drop plus an add) cannot be detected this way.
 *
 * Thread: one thread at a time. Never logs.
 */
#ifndef OX_MYSQL_SCHEMA_H
#define OX_MYSQL_SCHEMA_H

#include <stdbool.h>
#include <stdint.h>

#include <mysql.h>

#include "ox_err.h"
#include "ox_mysql_catalog.h"
#include "ox_source.h"

typedef struct ox_mysql_schema ox_mysql_schema;

/* Creates an empty cache that connects lazily with cfg (which must outlive
 * it). Never fails (aborts on OOM). */
ox_mysql_schema *ox_mysql_schema_create(const ox_source_config *cfg);

/* Closes the connection and frees the cache. NULL is a no-op. */
void ox_mysql_schema_free(ox_mysql_schema *s);

/*
 * An ox_binlog_columns_fn (arg = the ox_mysql_schema): fills names (pointers
 * into the cache, valid until the next invalidation), is_pk and is_text for
 * db.table. Returns 0, OX_ENOENT (table unknown now or column count differs
 * from ncols: positional names), or an OX_E* code for connection/privilege
 * failures, with the message kept for ox_mysql_schema_last_error().
 */
int ox_mysql_schema_columns(void *arg, const char *db, const char *table, uint32_t ncols,
                            char **names, bool *is_pk, bool *is_text);

/* Text of the last error ox_mysql_schema_columns returned ("" if none). */
const char *ox_mysql_schema_last_error(const ox_mysql_schema *s);

/* Forgets cached tables: one table, a whole database (table == NULL), or
 * everything (db == NULL). */
void ox_mysql_schema_invalidate(ox_mysql_schema *s, const char *db, const char *table);

/* Counters for tests: information_schema lookups done and cache hits. */
void ox_mysql_schema_counters(const ox_mysql_schema *s, uint64_t *lookups, uint64_t *hits);

/* Closes the schema connection (it reconnects on the next lookup). */
void ox_mysql_schema_disconnect(ox_mysql_schema *s);

/*
 * The schema history's initial snapshot: reads, over `conn` (an ordinary
 * connection, not in dump mode), the server's default charset,
 * information_schema.SCHEMATA (default charsets), TABLES (base tables and
 * their default collation; MariaDB's SYSTEM VERSIONED tables are put
 * uncertain, since COLUMNS does not list their hidden row_start/row_end),
 * COLUMNS (names in ordinal order, DATA_TYPE,
 * COLUMN_TYPE for ENUM/SET members and UNSIGNED, CHARACTER_SET_NAME) and
 * STATISTICS (PRIMARY key columns by SEQ_IN_INDEX) of every database but
 * the server's own (mysql, information_schema, performance_schema, sys).
 * All statements are prepared. Returns 0 and *out (owned by the caller), or
 * an OX_E* code with eb. Never logs.
 */
int ox_mysql_schema_snapshot(MYSQL *conn, ox_cat **out, ox_errbuf *eb);

/* Parses the members of an ENUM/SET COLUMN_TYPE ("enum('a','it''s')");
 * returns their number and *members (owned by the caller, each
 * NUL-terminated). Returns 0 members for anything else. */
uint32_t ox_mysql_schema_members(const char *column_type, char ***members);

#endif
