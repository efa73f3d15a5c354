/*
 * ox_mysql_catalog.h - an in-memory catalog of the source's tables as the
 * binlog describes them: for each database its default character set, for
 * each table its ordered columns (name, base type, character set, ENUM/SET
 * members, place in the primary key) and its default character set.
 *
 * The catalog is what the schema history (ox_mysql_schema_hist.h) versions
 * by binlog position. It changes in two ways: whole tables and databases put
 * or dropped (the initial snapshot from information_schema, a version read
 * back from disk), and DDL statements applied in binlog order
 * (ox_cat_apply, statements read by ox_mysql_ddl.h).
 *
 * Names: database and table names compare case-sensitively (the server's
 * lower_case_table_names=0, the Linux default), except that a reference to a
 * table that does not exist under its exact name finds the one table that
 * matches ignoring case (lower_case_table_names=1/2 servers); column names
 * compare case-insensitively, as MySQL does.
 *
 * Character sets are lower-case MySQL names ("utf8mb4", "latin1",
 * "binary"); a column's charset is NULL when it is not a character type
 * (numbers, dates, JSON on MySQL, ...) and "binary" for BINARY/VARBINARY/BLOB
 * and for MariaDB's INET6/INET4/UUID (BINARY(16)/BINARY(4) in the binlog;
 * the type keyword tells the decoder to print them as SELECT does).
 * When a character column's charset is not known (a database created without
 * CHARACTER SET, before the snapshot says what the server default is), it is
 * the catalog's server default, else NULL with is_text true.
 *
 * Uncertainty: a table whose columns the catalog cannot know for sure (an
 * ALTER clause the reader could not follow, CREATE TABLE ... SELECT, CREATE
 * TABLE ... LIKE an unknown table, MariaDB system versioning with its hidden
 * row_start/row_end columns) is kept with uncertain = true; its rows
 * are then flagged rather than named by a guess.
 *
 * Journal: every put/drop records the (db, table) key it touched, so the
 * history can write just the tables a statement changed (ox_cat_journal_*).
 *
 * Thread: one thread at a time. Never logs. Aborts on OOM (ox_alloc).
 */
#ifndef OX_MYSQL_CATALOG_H
#define OX_MYSQL_CATALOG_H

#include <stdbool.h>
#include <stdint.h>

#include "ox_mysql_ddl.h"

typedef struct ox_cat ox_cat;

typedef struct ox_cat_col {
    char *name;
    char *type;    /* base type keyword, lower case ("int", "varchar", "enum") */
    char *charset; /* see above; NULL: not a character column */
    bool is_text;  /* a character type whose charset is not binary */
    bool is_unsigned;
    uint32_t nmembers; /* ENUM/SET members in order */
    char **members;
    uint32_t pkseq; /* 0: not in the primary key; k: k-th key column (1-based) */
} ox_cat_col;

typedef struct ox_cat_table {
    char *db, *name;
    char *charset; /* the table's default charset, or NULL if unknown */
    bool uncertain;
    uint32_t ncols;
    ox_cat_col *cols;
} ox_cat_table;

/* An empty catalog; free with ox_cat_free. Never fails. */
ox_cat *ox_cat_create(void);
void ox_cat_free(ox_cat *c);

/* The server's default character set (used for databases without one). */
void ox_cat_set_server_charset(ox_cat *c, const char *charset);
const char *ox_cat_server_charset(const ox_cat *c);

/* Creates or updates a database (charset NULL: the server default). */
void ox_cat_put_db(ox_cat *c, const char *db, const char *charset);
/* Forgets a database and (if with_tables) all its tables. */
void ox_cat_drop_db(ox_cat *c, const char *db, bool with_tables);
/* True and *charset (NULL if unknown) if the database is known. */
bool ox_cat_find_db(const ox_cat *c, const char *db, const char **charset);

/* Puts a deep copy of t (replacing a table of the same db.name). */
void ox_cat_put_table(ox_cat *c, const ox_cat_table *t);
void ox_cat_drop_table(ox_cat *c, const char *db, const char *table);
/* The table, or NULL; valid until the catalog next changes. */
const ox_cat_table *ox_cat_find(const ox_cat *c, const char *db, const char *table);

/* Iteration for serialisation: the i-th database / table, NULL past the end. */
const char *ox_cat_db_at(const ox_cat *c, uint32_t i, const char **charset);
const ox_cat_table *ox_cat_table_at(const ox_cat *c, uint32_t i);

/* Fills pk[] (room for t->ncols) with the primary key's column indexes in
 * key order; returns their number. */
uint32_t ox_cat_table_pk(const ox_cat_table *t, uint32_t *pk);

/* Index of the column named `name` (case-insensitive), or -1. */
int ox_cat_col_index(const ox_cat_table *t, const char *name);

/* Result of ox_cat_apply. */
enum ox_cat_effect {
    OX_CAT_NONE = 0,  /* the statement changes no table or database */
    OX_CAT_APPLIED,   /* tables/databases changed as the statement says */
    OX_CAT_UNCERTAIN, /* applied, but some table is now uncertain */
};

/*
 * Applies one statement (read by ox_mysql_ddl_parse) in binlog order.
 * Returns an enum ox_cat_effect. The keys it touched are in the journal.
 */
int ox_cat_apply(ox_cat *c, const ox_ddl_stmt *s);

/* The journal of keys touched since the last reset: table NULL for a
 * database key. Returns false past the end. */
bool ox_cat_journal_at(const ox_cat *c, uint32_t i, const char **db, const char **table);
void ox_cat_journal_reset(ox_cat *c);

/* True for the byte-string types (binary, varbinary, the blobs). */
bool ox_cat_type_is_binary(const char *type);

/* The charset implied by a collation name ("latin1_swedish_ci" -> "latin1",
 * "utf8mb4_uca1400_ai_ci" -> "utf8mb4", "binary" -> "binary"); newly
 * allocated. */
char *ox_cat_charset_of_collation(const char *collation);

#endif
