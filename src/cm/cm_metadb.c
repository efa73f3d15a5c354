/* cm_metadb.c - back-end choice, migrations and the statement list (see cm_metadb.h). */
#include "cm_metadb.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

/* Migration steps by version; each runs in one transaction with its record. */
static const char *const migration_v1[] = {
    "CREATE TABLE ox_topics (name VARCHAR(64) PRIMARY KEY, db_type VARCHAR(16) NOT NULL,"
    " host VARCHAR(255) NOT NULL, port INTEGER NOT NULL, username VARCHAR(128) NOT NULL,"
    " password TEXT NOT NULL, whitelist TEXT NOT NULL, blacklist TEXT NOT NULL,"
    " next_sub_id BIGINT NOT NULL, created_ms BIGINT NOT NULL)",
    "CREATE TABLE ox_hosts (id VARCHAR(32) PRIMARY KEY, ip VARCHAR(15) NOT NULL,"
    " port INTEGER NOT NULL, last_heartbeat_ms BIGINT NOT NULL, created_ms BIGINT NOT NULL)",
    "CREATE TABLE ox_crawlers (name VARCHAR(200) PRIMARY KEY, topic VARCHAR(64) NOT NULL,"
    " sub_id BIGINT NOT NULL, host_id VARCHAR(32) NOT NULL, port INTEGER NOT NULL,"
    " role VARCHAR(16) NOT NULL, type VARCHAR(32) NOT NULL, user_data TEXT NOT NULL,"
    " checkpoint VARCHAR(96) NOT NULL, desired VARCHAR(16) NOT NULL, status INTEGER NOT NULL,"
    " err_msg TEXT NOT NULL, status_json TEXT NOT NULL, status_ms BIGINT NOT NULL,"
    " created_ms BIGINT NOT NULL)",
    "CREATE INDEX ox_crawlers_topic ON ox_crawlers(topic)",
    "CREATE TABLE ox_cm_heartbeat (id INTEGER PRIMARY KEY, cm_ms BIGINT NOT NULL,"
    " db_ms BIGINT NOT NULL)",
    NULL,
};

/* v2: supervisor credentials, one per host, stored as SHA-256 hex only. */
static const char *const migration_v2[] = {
    "CREATE TABLE ox_sv_credentials (host_id VARCHAR(32) PRIMARY KEY,"
    " token_hash CHAR(64) NOT NULL UNIQUE, created_ms BIGINT NOT NULL)",
    NULL,
};

/* Version 3: store ports are allocated by the CM and unique per host. Rows
 * that an older CM recorded with a port another crawler of the same host
 * already had (the bug this fixes) lose it (0: allocated again). */
static const char *const migration_v3[] = {
    "UPDATE ox_crawlers SET port = 0 WHERE port > 0 AND EXISTS (SELECT 1 FROM ox_crawlers o"
    " WHERE o.host_id = ox_crawlers.host_id AND o.port = ox_crawlers.port"
    " AND o.name < ox_crawlers.name)",
    "CREATE UNIQUE INDEX ox_crawlers_host_port ON ox_crawlers(host_id, port) WHERE port > 0",
    NULL,
};

/* v4: the audit log of state-changing API calls (docs/operations.md). */
static const char *const migration_v4[] = {
    "CREATE TABLE ox_audit (at_ms BIGINT NOT NULL, remote VARCHAR(64) NOT NULL,"
    " action VARCHAR(64) NOT NULL, target TEXT NOT NULL, result INTEGER NOT NULL)",
    "CREATE INDEX ox_audit_at ON ox_audit(at_ms)",
    /* topic/update's retention (store.clearer.outdated), 0 = the store's default */
    "ALTER TABLE ox_topics ADD COLUMN retention_s BIGINT NOT NULL DEFAULT 0",
    NULL,
};

/* v5: the database a PostgreSQL topic captures (dbType=postgresql). */
static const char *const migration_v5[] = {
    "ALTER TABLE ox_topics ADD COLUMN db_name VARCHAR(64) NOT NULL DEFAULT ''",
    NULL,
};

static const char *const *const migrations[] = {NULL,         migration_v1, migration_v2,
                                                   migration_v3, migration_v4, migration_v5};

/* Statement text; PostgreSQL and SQLite share it except where the dialect
 * differs (pg_sql non-NULL). Parameters are $1..$n in both. */
struct stmt_def {
    const char *sql;
    const char *pg_sql;
};

static const struct stmt_def stmts[OX_MDB_NSTMT] = {
    [OX_MDB_BEGIN] = {"BEGIN", NULL},
    [OX_MDB_COMMIT] = {"COMMIT", NULL},
    [OX_MDB_ROLLBACK] = {"ROLLBACK", NULL},
    /* name, db_type, host, port, username, password, whitelist, blacklist,
     * next_sub_id, created_ms, db_name */
    [OX_MDB_TOPIC_INSERT] = {"INSERT INTO ox_topics (name, db_type, host, port, username,"
                             " password, whitelist, blacklist, next_sub_id, created_ms, db_name)"
                             " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                             NULL},
    [OX_MDB_TOPIC_DELETE] = {"DELETE FROM ox_topics WHERE name = $1", NULL},
    [OX_MDB_TOPIC_ALL] = {"SELECT name, db_type, host, port, username, password, whitelist,"
                          " blacklist, next_sub_id, created_ms, retention_s, db_name"
                          " FROM ox_topics ORDER BY name",
                          NULL},
    /* name, password, whitelist, blacklist, retention_s */
    [OX_MDB_TOPIC_UPDATE] = {"UPDATE ox_topics SET password = $2, whitelist = $3, blacklist = $4,"
                             " retention_s = $5 WHERE name = $1",
                             NULL},
    [OX_MDB_TOPIC_SET_NEXT_SUB] = {"UPDATE ox_topics SET next_sub_id = $2 WHERE name = $1", NULL},
    /* id, ip, port, last_heartbeat_ms */
    [OX_MDB_HOST_UPSERT] = {"INSERT INTO ox_hosts (id, ip, port, last_heartbeat_ms, created_ms)"
                            " VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO UPDATE SET"
                            " last_heartbeat_ms = excluded.last_heartbeat_ms",
                            NULL},
    [OX_MDB_HOST_HEARTBEAT] = {"UPDATE ox_hosts SET last_heartbeat_ms = $2 WHERE id = $1", NULL},
    [OX_MDB_HOST_ALL] = {"SELECT id, ip, port, last_heartbeat_ms FROM ox_hosts ORDER BY id", NULL},
    /* name, topic, sub_id, host_id, port, role, type, user_data, checkpoint,
     * desired, status, err_msg, status_json, status_ms, created_ms */
    [OX_MDB_CRAWLER_INSERT] = {"INSERT INTO ox_crawlers (name, topic, sub_id, host_id, port, role,"
                               " type, user_data, checkpoint, desired, status, err_msg,"
                               " status_json, status_ms, created_ms) VALUES ($1, $2, $3, $4, $5,"
                               " $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
                               NULL},
    [OX_MDB_CRAWLER_SET_DESIRED] = {"UPDATE ox_crawlers SET desired = $2 WHERE name = $1", NULL},
    /* name, port, status, err_msg, status_json, status_ms */
    [OX_MDB_CRAWLER_SET_STATUS] = {"UPDATE ox_crawlers SET port = $2, status = $3, err_msg = $4,"
                                   " status_json = $5, status_ms = $6 WHERE name = $1",
                                   NULL},
    [OX_MDB_CRAWLER_DELETE] = {"DELETE FROM ox_crawlers WHERE name = $1", NULL},
    [OX_MDB_CRAWLER_ALL] = {"SELECT name, topic, sub_id, host_id, port, role, type, user_data,"
                            " checkpoint, desired, status, err_msg, status_json, status_ms,"
                            " created_ms FROM ox_crawlers ORDER BY name",
                            NULL},
    /* cm_ms; returns the database's own clock in ms. */
    [OX_MDB_HEARTBEAT] = {"INSERT INTO ox_cm_heartbeat (id, cm_ms, db_ms) VALUES (1, $1,"
                          " CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER))"
                          " ON CONFLICT (id) DO UPDATE SET cm_ms = excluded.cm_ms,"
                          " db_ms = excluded.db_ms RETURNING db_ms",
                          "INSERT INTO ox_cm_heartbeat (id, cm_ms, db_ms) VALUES (1, $1,"
                          " (extract(epoch from clock_timestamp()) * 1000)::bigint)"
                          " ON CONFLICT (id) DO UPDATE SET cm_ms = excluded.cm_ms,"
                          " db_ms = excluded.db_ms RETURNING db_ms"},
    /* at_ms, remote, action, target, result */
    [OX_MDB_AUDIT_INSERT] = {"INSERT INTO ox_audit (at_ms, remote, action, target, result)"
                             " VALUES ($1, $2, $3, $4, $5)",
                             NULL},
    /* limit; newest first */
    [OX_MDB_AUDIT_RECENT] = {"SELECT at_ms, remote, action, target, result FROM ox_audit"
                             " ORDER BY at_ms DESC LIMIT $1",
                             "SELECT at_ms, remote, action, target, result FROM ox_audit"
                             " ORDER BY at_ms DESC LIMIT $1::bigint"},
    [OX_MDB_SCHEMA_VERSION] = {"SELECT COALESCE(MAX(version), 0) FROM ox_schema_migrations", NULL},
    [OX_MDB_SCHEMA_RECORD] = {"INSERT INTO ox_schema_migrations (version, applied_ms)"
                              " VALUES ($1, $2)",
                              NULL},
    /* host_id, token_hash, created_ms; fails if the host has one already. */
    [OX_MDB_SVCRED_INSERT] = {"INSERT INTO ox_sv_credentials (host_id, token_hash, created_ms)"
                              " VALUES ($1, $2, $3)",
                              NULL},
    [OX_MDB_SVCRED_DELETE] = {"DELETE FROM ox_sv_credentials WHERE host_id = $1 RETURNING host_id",
                              NULL},
    [OX_MDB_SVCRED_ALL] = {"SELECT host_id, token_hash FROM ox_sv_credentials ORDER BY host_id",
                           NULL},
    /* name, port */
    [OX_MDB_CRAWLER_SET_PORT] = {"UPDATE ox_crawlers SET port = $2 WHERE name = $1", NULL},
    /* name, checkpoint (crawler/reposition) */
    [OX_MDB_CRAWLER_SET_CHECKPOINT] = {"UPDATE ox_crawlers SET checkpoint = $2 WHERE name = $1",
                                       NULL},
};

static const char *stmt_sql(const ox_metadb *db, int id)
{
    if (db->ops == &ox_metadb_pg_ops && stmts[id].pg_sql != NULL)
        return stmts[id].pg_sql;
    return stmts[id].sql;
}

static int prepare_range(ox_metadb *db, int from, int to, ox_errbuf *eb)
{
    for (int id = from; id < to; id++) {
        int rc = db->ops->prepare(db, id, stmt_sql(db, id), eb);
        if (rc != 0)
            return rc;
    }
    return 0;
}

static int read_int(void *arg, int ncol, const char *const *vals)
{
    *(long long *)arg = (ncol > 0 && vals[0]) ? strtoll(vals[0], NULL, 10) : 0;
    return 0;
}

static int migrate(ox_metadb *db, ox_errbuf *eb)
{
    int rc = db->ops->ddl(db,
                          "CREATE TABLE IF NOT EXISTS ox_schema_migrations"
                          " (version INTEGER PRIMARY KEY, applied_ms BIGINT NOT NULL)",
                          eb);
    if (rc != 0)
        return rc;
    /* Statements that exist before any migration: transactions and schema. */
    static const int early[] = {OX_MDB_BEGIN, OX_MDB_COMMIT, OX_MDB_ROLLBACK, OX_MDB_SCHEMA_VERSION,
                                OX_MDB_SCHEMA_RECORD};
    for (size_t i = 0; i < sizeof early / sizeof early[0]; i++)
        if ((rc = prepare_range(db, early[i], early[i] + 1, eb)) != 0)
            return rc;
    long long have = 0;
    if ((rc = ox_metadb_exec(db, OX_MDB_SCHEMA_VERSION, 0, NULL, read_int, &have, eb)) != 0)
        return rc;
    if (have > OX_METADB_SCHEMA_VERSION)
        return ox_errf(eb, OX_ECONFIG, "metaDB schema version %lld is newer than this build (%d)",
                       have, OX_METADB_SCHEMA_VERSION);
    for (long long v = have + 1; v <= OX_METADB_SCHEMA_VERSION; v++) {
        if ((rc = ox_metadb_exec(db, OX_MDB_BEGIN, 0, NULL, NULL, NULL, eb)) != 0)
            return rc;
        for (int i = 0; rc == 0 && migrations[v][i] != NULL; i++)
            rc = db->ops->ddl(db, migrations[v][i], eb);
        if (rc == 0) {
            char vs[24], ms[24];
            struct timeval tv;
            gettimeofday(&tv, NULL);
            snprintf(vs, sizeof vs, "%lld", v);
            snprintf(ms, sizeof ms, "%lld", (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000);
            const char *p[2] = {vs, ms};
            rc = ox_metadb_exec(db, OX_MDB_SCHEMA_RECORD, 2, p, NULL, NULL, eb);
        }
        if (rc == 0)
            rc = ox_metadb_exec(db, OX_MDB_COMMIT, 0, NULL, NULL, NULL, eb);
        if (rc != 0) {
            ox_errbuf ignore;
            ox_metadb_exec(db, OX_MDB_ROLLBACK, 0, NULL, NULL, NULL, &ignore);
            return rc;
        }
    }
    return 0;
}

int ox_metadb_open(const char *target, ox_metadb **out, ox_errbuf *eb)
{
    return ox_metadb_open_flags(target, 0, out, eb);
}

int ox_metadb_open_flags(const char *target, unsigned flags, ox_metadb **out, ox_errbuf *eb)
{
    const struct ox_metadb_ops *ops = &ox_metadb_sqlite_ops;
    if (strncmp(target, "postgresql://", 13) == 0 || strncmp(target, "postgres://", 11) == 0)
        ops = &ox_metadb_pg_ops;
    ox_metadb *db = NULL;
    int rc = ops->open(&db, target, flags, eb);
    if (rc != 0)
        return rc;
    db->ops = ops;
    db->test_delay_ms = 0;
    if ((rc = migrate(db, eb)) != 0)
        goto fail;
    for (int id = 0; id < OX_MDB_NSTMT; id++) {
        if (id == OX_MDB_BEGIN || id == OX_MDB_COMMIT || id == OX_MDB_ROLLBACK ||
            id == OX_MDB_SCHEMA_VERSION || id == OX_MDB_SCHEMA_RECORD)
            continue;
        if ((rc = prepare_range(db, id, id + 1, eb)) != 0)
            goto fail;
    }
    *out = db;
    return 0;
fail:
    ops->close(db);
    return rc;
}

int ox_metadb_reprepare(ox_metadb *db, ox_errbuf *eb)
{
    return prepare_range(db, 0, OX_MDB_NSTMT, eb);
}

int ox_metadb_exec(ox_metadb *db, int id, int nparams, const char *const *params, ox_mdb_row_fn fn,
                   void *arg, ox_errbuf *eb)
{
    if (db->test_delay_ms > 0 && id != OX_MDB_ROLLBACK) {
        struct timespec ts = {db->test_delay_ms / 1000,
                              (long)(db->test_delay_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    return db->ops->exec(db, id, nparams, params, fn, arg, eb);
}

const char *ox_metadb_kind(const ox_metadb *db)
{
    return db->ops->name;
}

void ox_metadb_set_test_delay(ox_metadb *db, int ms)
{
    db->test_delay_ms = ms;
}

void ox_metadb_close(ox_metadb *db)
{
    if (db != NULL)
        db->ops->close(db);
}
