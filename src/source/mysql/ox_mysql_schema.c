/* ox_mysql_schema.c - information_schema column lookups with a per-table cache. */
#include "ox_mysql_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mysql.h>

#include "ox_alloc.h"
#include "ox_mysql_conn.h"

/* One cached table: its columns in ordinal order. */
struct table_ent {
    struct table_ent *next;
    char *db, *table;
    uint32_t ncols;
    char **names;
    bool *is_pk, *is_text;
};

struct ox_mysql_schema {
    const ox_source_config *cfg;
    MYSQL *conn;
    MYSQL_STMT *stmt;
    struct table_ent *tables;
    uint64_t lookups, hits;
    ox_errbuf err;
};

static const char COLUMNS_SQL[] =
    "SELECT COLUMN_NAME, COLUMN_KEY, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
    "WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION";

ox_mysql_schema *ox_mysql_schema_create(const ox_source_config *cfg)
{
    ox_mysql_schema *s = ox_xcalloc(1, sizeof *s);
    s->cfg = cfg;
    return s;
}

static void ent_free(struct table_ent *e)
{
    for (uint32_t i = 0; i < e->ncols; i++)
        free(e->names[i]);
    free(e->names);
    free(e->is_pk);
    free(e->is_text);
    free(e->db);
    free(e->table);
    free(e);
}

void ox_mysql_schema_disconnect(ox_mysql_schema *s)
{
    if (!s)
        return;
    if (s->stmt)
        mysql_stmt_close(s->stmt);
    s->stmt = NULL;
    if (s->conn)
        mysql_close(s->conn);
    s->conn = NULL;
}

void ox_mysql_schema_invalidate(ox_mysql_schema *s, const char *db, const char *table)
{
    struct table_ent **pp = &s->tables;
    while (*pp) {
        struct table_ent *e = *pp;
        bool match = !db || (strcmp(e->db, db) == 0 && (!table || strcmp(e->table, table) == 0));
        if (match) {
            *pp = e->next;
            ent_free(e);
        } else {
            pp = &e->next;
        }
    }
}

void ox_mysql_schema_free(ox_mysql_schema *s)
{
    if (!s)
        return;
    ox_mysql_schema_invalidate(s, NULL, NULL);
    ox_mysql_schema_disconnect(s);
    free(s);
}

const char *ox_mysql_schema_last_error(const ox_mysql_schema *s)
{
    return s->err.msg;
}

void ox_mysql_schema_counters(const ox_mysql_schema *s, uint64_t *lookups, uint64_t *hits)
{
    *lookups = s->lookups;
    *hits = s->hits;
}

static int ensure_stmt(ox_mysql_schema *s)
{
    if (s->stmt)
        return 0;
    int rc = 0;
    if (!s->conn && (rc = ox_mysql_connect(s->cfg, 30, &s->conn, &s->err)) != 0)
        return rc;
    s->stmt = mysql_stmt_init(s->conn);
    if (!s->stmt)
        return ox_errf(&s->err, OX_ENOMEM, "mysql_stmt_init failed");
    if (mysql_stmt_prepare(s->stmt, COLUMNS_SQL, sizeof COLUMNS_SQL - 1) != 0) {
        rc = ox_errf(&s->err, OX_EDB, "preparing the information_schema.COLUMNS query: %s",
                     mysql_stmt_error(s->stmt));
        ox_mysql_schema_disconnect(s);
        return rc;
    }
    return 0;
}

/* Runs the prepared query for db.table into a new cache entry. */
static int load_table(ox_mysql_schema *s, const char *db, const char *table, struct table_ent **out)
{
    *out = NULL;
    MYSQL_BIND par[2];
    memset(par, 0, sizeof par);
    unsigned long dlen = strlen(db), tlen = strlen(table);
    par[0].buffer_type = MYSQL_TYPE_STRING;
    par[0].buffer = (void *)db;
    par[0].buffer_length = dlen;
    par[0].length = &dlen;
    par[1].buffer_type = MYSQL_TYPE_STRING;
    par[1].buffer = (void *)table;
    par[1].buffer_length = tlen;
    par[1].length = &tlen;

    char name[256], key[16], cs[64];
    unsigned long len[3] = {0, 0, 0};
    my_bool isnull[3] = {0, 0, 0}, trunc[3] = {0, 0, 0};
    MYSQL_BIND res[3];
    memset(res, 0, sizeof res);
    char *bufs[3] = {name, key, cs};
    size_t caps[3] = {sizeof name, sizeof key, sizeof cs};
    for (int i = 0; i < 3; i++) {
        res[i].buffer_type = MYSQL_TYPE_STRING;
        res[i].buffer = bufs[i];
        res[i].buffer_length = caps[i];
        res[i].length = &len[i];
        res[i].is_null = &isnull[i];
        res[i].error = &trunc[i];
    }
    if (mysql_stmt_bind_param(s->stmt, par) || mysql_stmt_execute(s->stmt) ||
        mysql_stmt_bind_result(s->stmt, res) || mysql_stmt_store_result(s->stmt)) {
        unsigned int no = mysql_stmt_errno(s->stmt);
        int rc = ox_mysql_errno_retryable(no) ? OX_ECONN : OX_EDB;
        ox_errf(&s->err, rc, "reading information_schema.COLUMNS for %s.%s: %s (error %u)", db,
                table, mysql_stmt_error(s->stmt), no);
        return rc;
    }
    struct table_ent *e = ox_xcalloc(1, sizeof *e);
    e->db = ox_xstrdup(db);
    e->table = ox_xstrdup(table);
    uint32_t cap = 0;
    int f;
    while ((f = mysql_stmt_fetch(s->stmt)) == 0 || f == MYSQL_DATA_TRUNCATED) {
        if (e->ncols == cap) {
            cap = cap ? cap * 2 : 16;
            e->names = ox_xrealloc(e->names, cap * sizeof *e->names);
            e->is_pk = ox_xrealloc(e->is_pk, cap * sizeof *e->is_pk);
            e->is_text = ox_xrealloc(e->is_text, cap * sizeof *e->is_text);
        }
        uint32_t i = e->ncols++;
        size_t nl = len[0] < sizeof name ? len[0] : sizeof name;
        e->names[i] = ox_xstrndup(name, isnull[0] ? 0 : nl);
        e->is_pk[i] = !isnull[1] && len[1] == 3 && memcmp(key, "PRI", 3) == 0;
        /* Binary strings have no character set (NULL) or the "binary" one. */
        e->is_text[i] = !isnull[2] && !(len[2] == 6 && memcmp(cs, "binary", 6) == 0);
    }
    mysql_stmt_free_result(s->stmt);
    *out = e;
    return 0;
}

int ox_mysql_schema_columns(void *arg, const char *db, const char *table, uint32_t ncols,
                            char **names, bool *is_pk, bool *is_text)
{
    ox_mysql_schema *s = arg;
    if (!db || !table)
        return OX_ENOENT;
    struct table_ent *e = NULL;
    for (struct table_ent *t = s->tables; t; t = t->next) {
        if (strcmp(t->db, db) == 0 && strcmp(t->table, table) == 0) {
            e = t;
            s->hits++;
            break;
        }
    }
    if (!e) {
        int rc = 0;
        /* One retry: the schema connection may have been dropped by a server
         * restart since the last lookup. */
        for (int attempt = 0; attempt < 2; attempt++) {
            if ((rc = ensure_stmt(s)) == 0 && (rc = load_table(s, db, table, &e)) == 0)
                break;
            ox_mysql_schema_disconnect(s);
            if (rc != OX_ECONN)
                break;
        }
        if (rc != 0)
            return rc;
        s->lookups++;
        e->next = s->tables;
        s->tables = e;
    }
    /* A table we cannot see (dropped since, or no privilege on it) or whose
     * current shape differs from the event's: positional names. */
    if (e->ncols == 0 || e->ncols != ncols)
        return OX_ENOENT;
    for (uint32_t i = 0; i < ncols; i++) {
        names[i] = e->names[i];
        is_pk[i] = e->is_pk[i];
        is_text[i] = e->is_text[i];
    }
    return 0;
}
