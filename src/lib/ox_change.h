/*
 * ox_change.h - the change record, shared by every source.
 *
 * A source decodes its change stream into ox_change records: one per row
 * change, DDL statement, transaction boundary or heartbeat. A record is a
 * view: every pointer in it points into memory owned by the decoder and is
 * valid only during the callback that received it. A record carries no output
 * format: ox_render.h renders it as one JSON object (docs/records.md
 * documents every field and how each column type is represented), and the
 * store keeps that JSON as its log payload.
 */
#ifndef OX_CHANGE_H
#define OX_CHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "ox_buf.h"

enum ox_op {
    OX_OP_INSERT = 1,
    OX_OP_UPDATE = 2,
    OX_OP_DELETE = 3,
    OX_OP_DDL = 4,
    OX_OP_BEGIN = 5,
    OX_OP_COMMIT = 6,
    OX_OP_HEARTBEAT = 7,
    /* Addition (PostgreSQL): a logical decoding message
     * (pg_logical_emit_message); docs/records.md, "Logical messages". */
    OX_OP_MESSAGE = 8,
};

/* How a value is represented (not the source column type, which is in
 * ox_column.type). */
enum ox_value_kind {
    OX_VAL_MISSING = 0, /* column absent from a partial row image */
    OX_VAL_NULL,
    OX_VAL_INT,     /* i */
    OX_VAL_UINT,    /* u */
    OX_VAL_FLOAT,   /* d, from a 4-byte FLOAT (printed with float precision) */
    OX_VAL_DOUBLE,  /* d */
    OX_VAL_DECIMAL, /* s/len: exact decimal text, e.g. "-12.3400" */
    OX_VAL_TEXT,    /* s/len: UTF-8 text */
    OX_VAL_BYTES,   /* s/len: binary, rendered as base64 */
    OX_VAL_TIME,    /* s/len: formatted temporal text (see docs/records.md) */
    OX_VAL_JSON,    /* s/len: JSON text, embedded as a JSON value */
    /* Addition (decoder): s/len is a JSON array of diff operations for a
     * JSON column updated in place (MySQL PARTIAL_UPDATE_ROWS), rendered as
     * {"$jsonDiff":[...]}; see docs/records.md. */
    OX_VAL_JSON_DIFF,
};

typedef struct ox_value {
    uint8_t kind; /* enum ox_value_kind */
    uint32_t len;
    union {
        int64_t i;
        uint64_t u;
        double d;
        const char *s;
    } v;
} ox_value;

typedef struct ox_column {
    const char *name; /* NULL when unknown (then rendered "@N", 1-based) */
    uint8_t type;     /* source column type code (MySQL MYSQL_TYPE_*) */
    uint16_t meta;    /* type metadata from the source */
    bool is_unsigned;
    bool is_pk;
} ox_column;

/* Addition (DDL records): one table a statement acts on. new_db/new_table
 * are set for a rename; table is NULL for a database statement. */
typedef struct ox_change_target {
    const char *db;
    const char *table;
    const char *new_db;
    const char *new_table;
} ox_change_target;

typedef struct ox_change {
    uint8_t op;        /* enum ox_op */
    const char *db;    /* NULL for BEGIN/COMMIT/HEARTBEAT */
    const char *table; /* NULL for DDL without a table, BEGIN, ... */
    uint32_t ncols;
    const ox_column *cols;  /* ncols entries */
    const ox_value *before; /* ncols entries for UPDATE/DELETE, else NULL */
    const ox_value *after;  /* ncols entries for INSERT/UPDATE, else NULL */
    const char *gtid;       /* transaction GTID text, or NULL */
    uint64_t xid;           /* COMMIT: the XID if the source has one, else 0 */
    const char *sql;        /* DDL text; for rows, the original SQL if the source logged it */
    const char *file;       /* source log file name ("mysql-bin.000003"), or NULL */
    uint64_t file_idx;      /* numeric suffix of `file`: the checkpoint's fileIdx */
    uint64_t offset;        /* byte offset of the event that carried this change */
    uint64_t next_offset;   /* where the next event starts: resume point after a COMMIT */
    int64_t timestamp;      /* event time, seconds since the epoch */
    uint32_t server_id;
    /* Addition (decoder): primary-key columns as indexes into cols, in key
     * order. npk == 0 means "use cols[].is_pk in column order" (the JSON
     * "pk" array is omitted when neither gives a key). */
    uint32_t npk;
    const uint32_t *pk;
    /* Addition (renderer caches): nonzero when the source vouches that
     * every record carrying this value has the same db, table, cols (names,
     * key flags), npk/pk and schema, so that a renderer may cache what it
     * derives from them (ox_render.h). Take values from
     * ox_change_version_new(), once per table shape: they are unique in
     * the process, across sources and decoders. 0: no such promise. */
    uint64_t table_version;
    /* Addition (renderer caches): nonzero when the source vouches that
     * every record carrying this value has the same op class, gtid, file,
     * file_idx, offset, next_offset, timestamp and server_id (the rows of
     * one source event); from ox_change_version_new(). 0: no promise. */
    uint64_t event_version;
    /* Addition (decoder, DDL records; docs/records.md): what the statement
     * acts on. ddl_kind is "create_table", "alter_table", ... "account",
     * "other", or NULL when the source does not classify statements (then
     * none of these fields is rendered). db/table above are those of the
     * first target; targets lists every target (ntargets >= 1 when there
     * are any), session_db the session's default database (NULL if none),
     * ddl_unparsed that the reader could not follow the statement. An
     * "account" record carries no sql. Contract for every source: a
     * statement that can carry a credential (account statements) is
     * delivered as kind "account" without its text; the store relies on
     * it and never reads SQL itself. */
    const char *ddl_kind;
    bool ddl_unparsed;
    const char *session_db;
    uint32_t ntargets;
    const ox_change_target *targets;
    /* Addition (schema history): OX_SCHEMA_UNKNOWN when the column names
     * (and the key, charsets, ENUM/SET members) of a row record could not be
     * established for the row's binlog position; rendered as
     * `,"schema":"unknown"` after "pk", and the columns are named "@1"..
     * (docs/records.md). 0 (OX_SCHEMA_KNOWN) otherwise: nothing rendered. */
    uint8_t schema;
    /* Addition (schema history): for a ddl record from the MySQL decoder,
     * the statement as its DDL reader read it (an ox_ddl_stmt, with the
     * session's database and sql_mode applied), so that the schema history
     * does not read it a second time; NULL otherwise. Never rendered. */
    const struct ox_ddl_stmt *ddl_stmt;
    /* Addition (PostgreSQL logical messages, OX_OP_MESSAGE; docs/records.md,
     * "Logical messages"): `table` holds the message's prefix (the name the
     * lists match as db.prefix), these its content bytes and whether it was
     * sent inside a transaction. Unused by other ops. */
    const uint8_t *message;
    uint32_t message_len;
    bool message_transactional;
} ox_change;

enum ox_schema_state {
    OX_SCHEMA_KNOWN = 0,
    OX_SCHEMA_UNKNOWN = 1,
};

/* A new table_version or event_version (see ox_change): unique in the
 * process, never 0. Thread-safe. */
uint64_t ox_change_version_new(void);

/* "insert", "update", ... for an enum ox_op; "unknown" otherwise. */
const char *ox_op_name(int op);

#endif
