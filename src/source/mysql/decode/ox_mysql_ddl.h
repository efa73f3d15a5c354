/*
 * ox_mysql_ddl.h - a reader for the MySQL/MariaDB statements a binlog carries
 * in QUERY events: what a DDL statement acts on, and what it does to columns.
 *
 * Two consumers:
 *  - routing and secrecy (the decoder and the store): the statement's kind,
 *    every table it acts on with its database resolved (a qualified name, or
 *    the session's default database from the QUERY event), and whether it is
 *    an account statement (CREATE/ALTER/DROP/RENAME USER, GRANT, REVOKE,
 *    SET PASSWORD, CREATE/DROP ROLE, SET DEFAULT ROLE, CREATE/ALTER SERVER
 *    with a password option, ...) that must never leave the source;
 *  - the schema history (ox_mysql_schema_hist): the column definitions of
 *    CREATE TABLE and the column operations of ALTER TABLE, applied in
 *    binlog order to a versioned catalog.
 *
 * The reader is a tokenizer plus a recursive-descent reader of the subset of
 * the grammar that names tables and changes columns; everything else in a
 * statement is skipped token by token. It understands backquoted and (with
 * OX_DDL_ANSI_QUOTES) double-quoted identifiers, string literals with both
 * escape styles, comments (`-- `, `#`, C comments) and executable comments
 * (`/ *!50100 ... * /`, `/ *M!100301 ... * /`), whose content is read as SQL.
 *
 * A statement the reader cannot follow is still described: kind OX_DDL_OTHER
 * (or the kind its first words give) with parsed = false, so the caller can
 * flag the record, never drop it. Account statements are recognised by their
 * first words alone, so a malformed one is still an account statement.
 *
 * Names: identifiers are returned unquoted, with doubled quote characters
 * undone; database and table names keep their case (case-sensitive on
 * Linux); column names keep their case and the caller compares them
 * case-insensitively, as MySQL does.
 *
 * Nothing here logs. Thread: a parsed statement is plain data, owned by the
 * caller, freed with ox_mysql_ddl_free.
 */
#ifndef OX_MYSQL_DDL_H
#define OX_MYSQL_DDL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ox_err.h"

enum ox_ddl_kind {
    OX_DDL_OTHER = 0, /* not a DDL statement this reader knows, or unparsable */
    OX_DDL_CREATE_TABLE,
    OX_DDL_ALTER_TABLE,
    OX_DDL_DROP_TABLE,
    OX_DDL_RENAME_TABLE,
    OX_DDL_TRUNCATE_TABLE,
    OX_DDL_CREATE_DATABASE,
    OX_DDL_ALTER_DATABASE,
    OX_DDL_DROP_DATABASE,
    OX_DDL_CREATE_INDEX,
    OX_DDL_DROP_INDEX,
    OX_DDL_CREATE_VIEW, /* also CREATE OR REPLACE VIEW */
    OX_DDL_ALTER_VIEW,
    OX_DDL_DROP_VIEW,
    OX_DDL_ACCOUNT, /* never stored, never served (see above) */
    OX_DDL_KIND_COUNT
};

/* Flags for ox_mysql_ddl_parse. */
#define OX_DDL_ANSI_QUOTES 0x1u /* sql_mode ANSI_QUOTES: "x" is an identifier */
/* Addition: sql_mode NO_BACKSLASH_ESCAPES: '\' is an ordinary character in
 * string literals. */
#define OX_DDL_NO_BACKSLASH_ESCAPES 0x2u

/* One table a statement acts on. new_db/new_table are set for a rename
 * (RENAME TABLE, ALTER TABLE ... RENAME TO), else NULL. For a database
 * statement, table is NULL. */
typedef struct ox_ddl_target {
    char *db; /* resolved: the qualifier, else the default database, else NULL */
    char *table;
    char *new_db;
    char *new_table;
} ox_ddl_target;

/* One column definition, as written in CREATE TABLE or ALTER TABLE. */
typedef struct ox_ddl_coldef {
    char *name;
    char *type;        /* the base type keyword, lower case: "int", "varchar",
                          "enum", "geometry", "double precision" -> "double" */
    char *type_text;   /* the whole type as written, normalised to lower case
                          outside quotes, e.g. "decimal(10,2) unsigned" */
    uint32_t nmembers; /* ENUM/SET members, in order, unquoted */
    char **members;
    char *charset;    /* CHARACTER SET / CHARSET / ASCII / UNICODE / BYTE on
                         the column, lower case, or NULL when not given
                         (ASCII gives "latin1", UNICODE "ucs2", BYTE "binary",
                         NATIONAL/NCHAR/NVARCHAR types "utf8mb3") */
    char *collate;    /* COLLATE on the column, lower case, or NULL */
    bool binary_attr; /* the BINARY attribute of a character type (a binary
                         collation; the column stays text) */
    bool is_unsigned;
    bool not_null;
    bool primary_key; /* PRIMARY KEY written on the column itself */
} ox_ddl_coldef;

/* Where ALTER TABLE ADD/CHANGE/MODIFY puts a column. */
enum ox_ddl_place {
    OX_DDL_PLACE_DEFAULT = 0, /* ADD: at the end; CHANGE/MODIFY: where it is */
    OX_DDL_PLACE_FIRST,
    OX_DDL_PLACE_AFTER, /* after the column named in `after` */
};

enum ox_ddl_alter_op {
    OX_ALTER_ADD_COLUMN = 1,   /* def, place, after */
    OX_ALTER_DROP_COLUMN,      /* column */
    OX_ALTER_CHANGE_COLUMN,    /* column (old name), def (new name and type), place */
    OX_ALTER_MODIFY_COLUMN,    /* def (same name), place */
    OX_ALTER_RENAME_COLUMN,    /* column -> new_name */
    OX_ALTER_ADD_PRIMARY_KEY,  /* nkeycols/keycols */
    OX_ALTER_DROP_PRIMARY_KEY, /* - */
    OX_ALTER_CONVERT_CHARSET,  /* charset, collate: CONVERT TO CHARACTER SET */
    OX_ALTER_DEFAULT_CHARSET,  /* charset, collate: [DEFAULT] CHARACTER SET = */
    OX_ALTER_RENAME_TABLE,     /* the target's new_db/new_table */
    OX_ALTER_NO_COLUMN_EFFECT, /* indexes, defaults, engine, comments, ... */
    OX_ALTER_UNKNOWN,          /* a clause the reader could not follow, or one
                                  whose column effect is not modelled: MariaDB's
                                  ADD/DROP SYSTEM VERSIONING, which add/remove
                                  the hidden row_start/row_end columns */
};

typedef struct ox_ddl_alter {
    int op; /* enum ox_ddl_alter_op */
    char *column;
    char *new_name;
    ox_ddl_coldef def;
    int place; /* enum ox_ddl_place */
    char *after;
    uint32_t nkeycols;
    char **keycols;
    char *charset;
    char *collate;
} ox_ddl_alter;

typedef struct ox_ddl_stmt {
    int kind;       /* enum ox_ddl_kind */
    bool parsed;    /* false: the reader could not follow the statement */
    bool temporary; /* CREATE/DROP TEMPORARY TABLE */
    bool if_exists; /* DROP ... IF EXISTS */
    bool if_not_exists;
    uint32_t ntargets; /* tables (or the database) acted on, in statement order */
    ox_ddl_target *targets;

    /* CREATE TABLE t (...): columns in order, the PRIMARY KEY columns (from a
     * table constraint or a column's PRIMARY KEY), the table's default
     * charset/collation if given. CREATE TABLE t LIKE s: like_db/like_table.
     * CREATE TABLE t ... SELECT: as_select (the columns are partly unknown). */
    uint32_t ncols;
    ox_ddl_coldef *cols;
    uint32_t npk;
    char **pk;
    char *charset;
    char *collate;
    char *like_db;
    char *like_table;
    bool as_select;
    /* Addition: CREATE TABLE ... WITH SYSTEM VERSIONING, or a column WITH
     * SYSTEM VERSIONING in CREATE/ALTER TABLE (MariaDB; either makes the
     * table system-versioned): the binlog carries row_start/row_end columns
     * the definition does not name (unless it names them) and the primary
     * key gains the row end column. */
    bool sys_versioning;

    /* ALTER TABLE: its clauses in order. */
    uint32_t nalters;
    ox_ddl_alter *alters;
} ox_ddl_stmt;

/*
 * Reads one statement of `len` bytes (need not be NUL-terminated).
 * default_db is the session's database from the QUERY event, or NULL.
 * Returns 0 and *out (owned by the caller) for every input, parsed or not;
 * OX_ENOMEM only if allocation fails. Never logs.
 */
int ox_mysql_ddl_parse(const char *sql, size_t len, const char *default_db, unsigned flags,
                       ox_ddl_stmt **out);

/* Frees a statement and everything in it. NULL is a no-op. */
void ox_mysql_ddl_free(ox_ddl_stmt *s);

/* "create_table", "alter_table", ... "account", "other" (docs/records.md). */
const char *ox_ddl_kind_name(int kind);

/* True for account statements, by their first words alone (cheap: no
 * allocation); the decoder calls it on every QUERY it would deliver. */
bool ox_mysql_ddl_is_account(const char *sql, size_t len);

/*
 * Addition: hides secrets that statements other than account statements
 * carry. Every string literal that follows CONNECTION [=] or PASSWORD [=]
 * (the FEDERATED connection string 'mysql://user:password@host/db/t', the
 * PASSWORD table option, `SET password = '...'` in statement-based DML) or
 * is the argument of PASSWORD(...) / OLD_PASSWORD(...) is replaced by
 * '<redacted>'. Returns 0 with *out NULL when nothing is hidden (use the
 * text as it is), 0 with *out a NUL-terminated malloc'ed copy (the caller
 * frees it) and *out_len its length, or OX_ENOMEM. Never logs.
 */
int ox_mysql_ddl_redact(const char *sql, size_t len, unsigned flags, char **out, size_t *out_len);

#endif
