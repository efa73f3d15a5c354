/*
 * cm_metadb.h - the CM's metadata database behind one ops table.
 *
 * Two back ends share one schema and one list of statements: SQLite (a file in
 * the CM data directory, the default) and PostgreSQL through libpq
 * (metadb.url=postgresql://...). Every statement is prepared once when the
 * database is opened (and again after a PostgreSQL reconnect); values travel
 * as bound text parameters, never spliced into SQL.
 *
 * Schema, version 1 (table ox_schema_migrations records applied versions):
 *   ox_topics(name PK, db_type, host, port, username, password, whitelist,
 *             blacklist, next_sub_id, created_ms)
 *   ox_hosts(id PK "<ip>-<port>", ip, port, last_heartbeat_ms, created_ms)
 *   ox_crawlers(name PK, topic, sub_id, host_id, port, role, type, user_data,
 *               checkpoint, desired, status, err_msg, status_json, status_ms,
 *               created_ms)
 *   ox_cm_heartbeat(id PK, cm_ms, db_ms)   one row the CM rewrites for health
 * Version 2 adds:
 *   ox_sv_credentials(host_id PK, token_hash UNIQUE, created_ms)  the SHA-256
 *             (hex) of each host's supervisor credential; never the token
 * Version 3: UNIQUE INDEX ox_crawlers_host_port ON ox_crawlers(host_id, port)
 *   WHERE port > 0: the CM allocates each store's port, unique per host.
 * Version 4 adds
 *   ox_audit(at_ms, remote, action, target, result)   state-changing API calls
 *   ox_topics.retention_s   store.clearer.outdated set by /topic/update (0 = default)
 * Version 5 adds ox_topics.db_name: the database a PostgreSQL topic captures
 * Times are milliseconds since the epoch. The password column holds the
 * source password: the metaDB is as sensitive as the sources (SQLite file is
 * created 0600).
 */
#ifndef OX_CM_METADB_H
#define OX_CM_METADB_H

#include <stdint.h>

#include "ox_err.h"

typedef struct ox_metadb ox_metadb;

/* The statements; each has a fixed parameter list documented in cm_metadb.c. */
enum ox_mdb_stmt {
    OX_MDB_BEGIN,
    OX_MDB_COMMIT,
    OX_MDB_ROLLBACK,
    OX_MDB_TOPIC_INSERT,
    OX_MDB_TOPIC_DELETE,
    OX_MDB_TOPIC_ALL,
    OX_MDB_TOPIC_SET_NEXT_SUB,
    OX_MDB_TOPIC_UPDATE,
    OX_MDB_HOST_UPSERT,
    OX_MDB_HOST_HEARTBEAT,
    OX_MDB_HOST_ALL,
    OX_MDB_CRAWLER_INSERT,
    OX_MDB_CRAWLER_SET_DESIRED,
    OX_MDB_CRAWLER_SET_STATUS,
    OX_MDB_CRAWLER_DELETE,
    OX_MDB_CRAWLER_ALL,
    OX_MDB_HEARTBEAT,
    OX_MDB_AUDIT_INSERT,
    OX_MDB_AUDIT_RECENT,
    OX_MDB_SCHEMA_VERSION,
    OX_MDB_SCHEMA_RECORD,
    OX_MDB_SVCRED_INSERT,
    OX_MDB_SVCRED_DELETE,
    OX_MDB_SVCRED_ALL,
    OX_MDB_CRAWLER_SET_PORT,
    OX_MDB_CRAWLER_SET_CHECKPOINT,
    OX_MDB_NSTMT
};

/* Called once per result row with the row's values as text (NULL for SQL
 * NULL). Return 0 to continue, non-zero to stop (the value is returned). */
typedef int (*ox_mdb_row_fn)(void *arg, int ncol, const char *const *vals);

/* The back-end interface; concrete structs embed struct ox_metadb first. */
struct ox_metadb_ops {
    const char *name; /* "sqlite" or "postgresql" */
    int (*open)(ox_metadb **out, const char *target, unsigned flags, ox_errbuf *eb);
    int (*ddl)(ox_metadb *db, const char *sql, ox_errbuf *eb);
    int (*prepare)(ox_metadb *db, int id, const char *sql, ox_errbuf *eb);
    int (*exec)(ox_metadb *db, int id, int nparams, const char *const *params, ox_mdb_row_fn fn,
                void *arg, ox_errbuf *eb);
    void (*close)(ox_metadb *db);
};

struct ox_metadb {
    const struct ox_metadb_ops *ops;
    int test_delay_ms; /* test-only: sleep before each statement */
};

extern const struct ox_metadb_ops ox_metadb_sqlite_ops;
extern const struct ox_metadb_ops ox_metadb_pg_ops;

/*
 * Opens a metaDB: `target` starting with postgresql:// or postgres:// selects
 * PostgreSQL, anything else is a SQLite file path. Applies pending migrations
 * and prepares every statement. Returns 0 with *out owned by the caller
 * (ox_metadb_close), or OX_EDB/OX_ECONN/OX_ECONFIG with detail in `eb`.
 * Never logs. The handle is not thread-safe: callers serialise access.
 */
int ox_metadb_open(const char *target, ox_metadb **out, ox_errbuf *eb);

/* ox_metadb_open for a short command next to a running CM (issuing or
 * revoking a supervisor credential): it does not take the one-CM-per-file
 * lock that the daemon's open holds (SQLite's own locking still serialises
 * the writes). */
#define OX_MDB_OPEN_NO_OWNER 0x1u
int ox_metadb_open_flags(const char *target, unsigned flags, ox_metadb **out, ox_errbuf *eb);

/* Runs statement `id` with `nparams` text parameters (NULL = SQL NULL),
 * calling fn per row if fn is non-NULL. Returns 0, the callback's non-zero
 * value, or OX_EDB/OX_ECONN with detail. Never logs. */
int ox_metadb_exec(ox_metadb *db, int id, int nparams, const char *const *params, ox_mdb_row_fn fn,
                   void *arg, ox_errbuf *eb);

/* Returns "sqlite" or "postgresql". */
const char *ox_metadb_kind(const ox_metadb *db);

/* Test-only: delay every statement by ms milliseconds (cm.test.metadb_delay_ms). */
void ox_metadb_set_test_delay(ox_metadb *db, int ms);

/* For back ends: re-prepares every statement after a reconnect. */
int ox_metadb_reprepare(ox_metadb *db, ox_errbuf *eb);

/* Closes the handle; NULL is a no-op. */
void ox_metadb_close(ox_metadb *db);

/* The schema version this build creates. */
#define OX_METADB_SCHEMA_VERSION 5

#endif
