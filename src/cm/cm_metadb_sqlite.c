/*
 * cm_metadb_sqlite.c - the SQLite metaDB back end (one file, 0600).
 *
 * The database uses a rollback journal (journal_mode=DELETE,
 * synchronous=FULL), not WAL: WAL keeps its index in an mmapped <file>-shm,
 * and a -shm that another process truncates, or a file system that cannot
 * map it, kills the whole CM with SIGBUS, and with it the in-process
 * supervisor's stores. A rollback journal has no shared memory; the CM is
 * the only writer and its readers use the in-memory registry, so nothing is
 * lost by it, and `sqlite3 .backup` still reads a consistent copy while the
 * CM runs. An older metaDB in WAL mode is converted at open with exclusive
 * locking (which keeps the WAL index in heap memory), so even that never
 * maps the -shm. One CM per file: the open takes flock(LOCK_EX) on the
 * database file and holds it until close (a credential command opens
 * without it, OX_MDB_OPEN_NO_OWNER).
 */
#include <fcntl.h>
#include <errno.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cm_metadb.h"

struct mdb_sqlite {
    struct ox_metadb base;
    sqlite3 *db;
    int lock_fd; /* flock(LOCK_EX) held while open */
    sqlite3_stmt *st[OX_MDB_NSTMT];
};

static int sq_err(struct mdb_sqlite *s, ox_errbuf *eb, const char *what)
{
    return ox_errf(eb, OX_EDB, "sqlite %s: %s", what, sqlite3_errmsg(s->db));
}

static int sq_open(ox_metadb **out, const char *path, unsigned flags, ox_errbuf *eb)
{
    /* Create the file 0600 first: it holds source passwords. */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return ox_errf(eb, OX_EIO, "open metaDB %s failed: %s", path, strerror(errno));
    if (!(flags & OX_MDB_OPEN_NO_OWNER) && flock(fd, LOCK_EX | LOCK_NB) != 0) {
        int e = errno;
        close(fd);
        return e == EWOULDBLOCK
                   ? ox_errf(eb, OX_EDB,
                             "metaDB %s is in use by another process (another CM on the same "
                             "file?)",
                             path)
                   : ox_errf(eb, OX_EIO, "flock metaDB %s: %s", path, strerror(e));
    }
    struct mdb_sqlite *s = calloc(1, sizeof *s);
    if (s == NULL) {
        close(fd);
        return ox_errf(eb, OX_ENOMEM, "out of memory");
    }
    s->base.ops = &ox_metadb_sqlite_ops;
    s->lock_fd = fd;
    int rc = 0;
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        rc = ox_errf(eb, OX_EDB, "sqlite open %s: %s", path,
                     s->db ? sqlite3_errmsg(s->db) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(s->db, 5000);
    /* Exclusive locking before the first read, so that converting an old WAL
     * database never maps its -shm; back to normal locking afterwards so that
     * backups can read the file (see the header comment). */
    static const char *const pragmas[] = {
        "PRAGMA locking_mode=EXCLUSIVE", "PRAGMA journal_mode=DELETE",
        "PRAGMA locking_mode=NORMAL",    "PRAGMA synchronous=FULL",
        "PRAGMA foreign_keys=ON",        "SELECT count(*) FROM sqlite_master"};
    for (size_t i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++) {
        if (sqlite3_exec(s->db, pragmas[i], NULL, NULL, NULL) != SQLITE_OK) {
            rc =
                ox_errf(eb, OX_EDB, "sqlite %s on %s: %s", pragmas[i], path, sqlite3_errmsg(s->db));
            goto fail;
        }
    }
    *out = &s->base;
    return 0;
fail:
    sqlite3_close(s->db);
    close(s->lock_fd);
    free(s);
    return rc;
}

static int sq_ddl(ox_metadb *db, const char *sql, ox_errbuf *eb)
{
    struct mdb_sqlite *s = (struct mdb_sqlite *)db;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sq_err(s, eb, "prepare ddl");
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        return sq_err(s, eb, "ddl");
    return 0;
}

static int sq_prepare(ox_metadb *db, int id, const char *sql, ox_errbuf *eb)
{
    struct mdb_sqlite *s = (struct mdb_sqlite *)db;
    if (s->st[id] != NULL)
        return 0;
    if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[id], NULL) !=
        SQLITE_OK)
        return sq_err(s, eb, "prepare");
    return 0;
}

static int sq_exec(ox_metadb *db, int id, int nparams, const char *const *params, ox_mdb_row_fn fn,
                   void *arg, ox_errbuf *eb)
{
    struct mdb_sqlite *s = (struct mdb_sqlite *)db;
    sqlite3_stmt *st = s->st[id];
    if (st == NULL)
        return ox_errf(eb, OX_EDB, "sqlite statement %d not prepared", id);
    int ret = 0;
    for (int i = 0; i < nparams; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int idx = sqlite3_bind_parameter_index(st, name);
        if (idx == 0)
            continue;
        int rc = params[i] ? sqlite3_bind_text(st, idx, params[i], -1, SQLITE_STATIC)
                           : sqlite3_bind_null(st, idx);
        if (rc != SQLITE_OK) {
            ret = sq_err(s, eb, "bind");
            goto done;
        }
    }
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            ret = sq_err(s, eb, "step");
            goto done;
        }
        if (fn == NULL)
            continue;
        int n = sqlite3_column_count(st);
        const char *vals[32];
        if (n > 32)
            n = 32;
        for (int c = 0; c < n; c++)
            vals[c] = (const char *)sqlite3_column_text(st, c);
        int r = fn(arg, n, vals);
        if (r != 0) {
            ret = r;
            break;
        }
    }
done:
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return ret;
}

static void sq_close(ox_metadb *db)
{
    struct mdb_sqlite *s = (struct mdb_sqlite *)db;
    for (int i = 0; i < OX_MDB_NSTMT; i++)
        sqlite3_finalize(s->st[i]);
    sqlite3_close(s->db);
    close(s->lock_fd);
    free(s);
}

const struct ox_metadb_ops ox_metadb_sqlite_ops = {
    .name = "sqlite",
    .open = sq_open,
    .ddl = sq_ddl,
    .prepare = sq_prepare,
    .exec = sq_exec,
    .close = sq_close,
};
