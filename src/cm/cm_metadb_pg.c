/*
 * cm_metadb_pg.c - the PostgreSQL metaDB back end (libpq, loaded on first use:
 * ox_pq.h).
 *
 * Statements are server-side prepared under the names "ox1".."oxN". When the
 * connection breaks, the next statement resets it (PQreset) and prepares every
 * statement again, so the CM recovers by itself once the server is back; the
 * failing statement itself returns OX_ECONN.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_metadb.h"
#include "ox_pq.h"

struct mdb_pg {
    struct ox_metadb base;
    PGconn *conn;
    int prepared[OX_MDB_NSTMT];
    int in_reprepare;
};

static int pg_open(ox_metadb **out, const char *url, unsigned flags, ox_errbuf *eb)
{
    int lrc = ox_pq_load(eb);
    if (lrc != 0)
        return lrc;
    struct mdb_pg *p = calloc(1, sizeof *p);
    if (p == NULL)
        return ox_errf(eb, OX_ENOMEM, "out of memory");
    p->base.ops = &ox_metadb_pg_ops;
    /* Defaults first so that the URL may override them: a bounded connect,
     * and server-side limits so that a blocked statement (a lock, a slow
     * trigger) fails instead of holding the CM's metaDB lock forever. */
    const char *const keys[] = {"connect_timeout", "options", "dbname", NULL};
    const char *const vals[] = {"3", "-c statement_timeout=10000 -c lock_timeout=5000", url, NULL};
    p->conn = PQconnectdbParams(keys, vals, 1);
    if (p->conn == NULL || PQstatus(p->conn) != CONNECTION_OK) {
        /* libpq's message never contains the password. */
        int rc = ox_errf(eb, OX_ECONN, "postgresql connect: %s",
                         p->conn ? PQerrorMessage(p->conn) : "out of memory");
        PQfinish(p->conn);
        free(p);
        return rc;
    }
    PGresult *r = PQexec(p->conn, "SET client_min_messages = warning");
    PQclear(r);
    *out = &p->base;
    return 0;
}

static int pg_result_ok(PGresult *r)
{
    ExecStatusType t = PQresultStatus(r);
    return t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK;
}

static int pg_fail(struct mdb_pg *p, PGresult *r, const char *what, ox_errbuf *eb)
{
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(p->conn);
    if (msg == NULL || *msg == '\0')
        msg = PQerrorMessage(p->conn);
    int code = PQstatus(p->conn) == CONNECTION_OK ? OX_EDB : OX_ECONN;
    int rc = ox_errf(eb, code, "postgresql %s: %.400s", what, msg);
    /* Drop the trailing newline libpq adds. */
    size_t n = strlen(eb ? eb->msg : "");
    if (eb && n > 0 && eb->msg[n - 1] == '\n')
        eb->msg[n - 1] = '\0';
    PQclear(r);
    return rc;
}

static int pg_ddl(ox_metadb *db, const char *sql, ox_errbuf *eb)
{
    struct mdb_pg *p = (struct mdb_pg *)db;
    /* Extended protocol, no parameters: DDL never carries values. */
    PGresult *r = PQexecParams(p->conn, sql, 0, NULL, NULL, NULL, NULL, 0);
    if (!pg_result_ok(r))
        return pg_fail(p, r, "ddl", eb);
    PQclear(r);
    return 0;
}

static int pg_prepare(ox_metadb *db, int id, const char *sql, ox_errbuf *eb)
{
    struct mdb_pg *p = (struct mdb_pg *)db;
    if (p->prepared[id])
        return 0;
    char name[16];
    snprintf(name, sizeof name, "ox%d", id);
    PGresult *r = PQprepare(p->conn, name, sql, 0, NULL);
    if (!pg_result_ok(r))
        return pg_fail(p, r, "prepare", eb);
    PQclear(r);
    p->prepared[id] = 1;
    return 0;
}

static int pg_reconnect(struct mdb_pg *p, ox_errbuf *eb)
{
    PQreset(p->conn);
    if (PQstatus(p->conn) != CONNECTION_OK)
        return ox_errf(eb, OX_ECONN, "postgresql reconnect failed");
    memset(p->prepared, 0, sizeof p->prepared);
    PGresult *r = PQexec(p->conn, "SET client_min_messages = warning");
    PQclear(r);
    return ox_metadb_reprepare(&p->base, eb);
}

static int pg_exec(ox_metadb *db, int id, int nparams, const char *const *params, ox_mdb_row_fn fn,
                   void *arg, ox_errbuf *eb)
{
    struct mdb_pg *p = (struct mdb_pg *)db;
    if (PQstatus(p->conn) != CONNECTION_OK) {
        int rc = pg_reconnect(p, eb);
        if (rc != 0)
            return rc;
    }
    if (!p->prepared[id])
        return ox_errf(eb, OX_EDB, "postgresql statement %d not prepared", id);
    char name[16];
    snprintf(name, sizeof name, "ox%d", id);
    PGresult *r = PQexecPrepared(p->conn, name, nparams, params, NULL, NULL, 0);
    if (!pg_result_ok(r))
        return pg_fail(p, r, "exec", eb);
    int ret = 0;
    if (fn != NULL && PQresultStatus(r) == PGRES_TUPLES_OK) {
        int rows = PQntuples(r), n = PQnfields(r);
        if (n > 32)
            n = 32;
        for (int i = 0; i < rows && ret == 0; i++) {
            const char *vals[32];
            for (int c = 0; c < n; c++)
                vals[c] = PQgetisnull(r, i, c) ? NULL : PQgetvalue(r, i, c);
            ret = fn(arg, n, vals);
        }
    }
    PQclear(r);
    return ret;
}

static void pg_close(ox_metadb *db)
{
    struct mdb_pg *p = (struct mdb_pg *)db;
    PQfinish(p->conn);
    free(p);
}

const struct ox_metadb_ops ox_metadb_pg_ops = {
    .name = "postgresql",
    .open = pg_open,
    .ddl = pg_ddl,
    .prepare = pg_prepare,
    .exec = pg_exec,
    .close = pg_close,
};
