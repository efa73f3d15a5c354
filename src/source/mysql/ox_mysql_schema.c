/* ox_mysql_schema.c - information_schema column lookups with a per-table cache. */
#include "ox_mysql_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* ---- the schema history's snapshot ---- */

#define SYS_DBS "('mysql','information_schema','performance_schema','sys')"

/* One result row: NUL-terminated strings, NULL for SQL NULL. */
typedef int (*row_fn)(void *arg, char *const *vals);

/* Runs a prepared statement without parameters that returns `ncol` text
 * columns, calling fn per row (values of any length). */
static int run_rows(MYSQL *conn, const char *sql, int ncol, row_fn fn, void *arg, ox_errbuf *eb)
{
    enum { MAXC = 8 };
    MYSQL_STMT *st = mysql_stmt_init(conn);
    MYSQL_BIND res[MAXC];
    unsigned long len[MAXC];
    my_bool isnull[MAXC], trunc[MAXC];
    char *buf[MAXC];
    size_t cap[MAXC];
    char *vals[MAXC];
    int rc = 0, f = MYSQL_NO_DATA;
    memset(res, 0, sizeof res);
    memset(len, 0, sizeof len);
    memset(isnull, 0, sizeof isnull);
    for (int i = 0; i < ncol; i++) {
        cap[i] = 256;
        buf[i] = ox_xmalloc(cap[i]);
    }
    if (!st)
        rc = ox_errf(eb, OX_ENOMEM, "mysql_stmt_init failed");
    if (rc == 0 && mysql_stmt_prepare(st, sql, strlen(sql)) != 0)
        goto dberr;
    for (int i = 0; i < ncol; i++) {
        res[i].buffer_type = MYSQL_TYPE_STRING;
        res[i].buffer = buf[i];
        res[i].buffer_length = cap[i] - 1;
        res[i].length = &len[i];
        res[i].is_null = &isnull[i];
        res[i].error = &trunc[i];
    }
    if (rc == 0 &&
        (mysql_stmt_execute(st) || mysql_stmt_bind_result(st, res) || mysql_stmt_store_result(st)))
        goto dberr;
    while (rc == 0 && ((f = mysql_stmt_fetch(st)) == 0 || f == MYSQL_DATA_TRUNCATED)) {
        for (int i = 0; i < ncol; i++) {
            if (isnull[i]) {
                vals[i] = NULL; /* the length is not set for NULL */
                continue;
            }
            if (len[i] >= cap[i]) {
                /* Longer than the buffer (a long ENUM list): fetch again. */
                cap[i] = len[i] + 1;
                buf[i] = ox_xrealloc(buf[i], cap[i]);
                res[i].buffer = buf[i];
                res[i].buffer_length = cap[i] - 1;
                if (mysql_stmt_fetch_column(st, &res[i], (unsigned)i, 0) != 0)
                    goto dberr;
                mysql_stmt_bind_result(st, res);
            }
            buf[i][len[i] < cap[i] ? len[i] : cap[i] - 1] = '\0';
            vals[i] = buf[i];
        }
        rc = fn(arg, vals);
    }
    if (rc == 0 && f != MYSQL_NO_DATA)
        goto dberr;
    goto done;
dberr:
    rc = ox_errf(eb, ox_mysql_errno_retryable(mysql_stmt_errno(st)) ? OX_ECONN : OX_EDB,
                 "schema snapshot: %s (error %u)", mysql_stmt_error(st), mysql_stmt_errno(st));
done:
    if (st)
        mysql_stmt_close(st);
    for (int i = 0; i < ncol; i++)
        free(buf[i]);
    return rc;
}

uint32_t ox_mysql_schema_members(const char *ct, char ***members)
{
    *members = NULL;
    if (!ct || (strncasecmp(ct, "enum(", 5) != 0 && strncasecmp(ct, "set(", 4) != 0))
        return 0;
    const char *p = strchr(ct, '(') + 1;
    uint32_t n = 0, cap = 0;
    char **m = NULL;
    while (*p == '\'') {
        ox_buf b = {0};
        p++;
        for (;;) {
            if (*p == '\0')
                break;
            if (*p == '\'' && p[1] == '\'') {
                ox_buf_putc(&b, '\'');
                p += 2;
                continue;
            }
            if (*p == '\'') {
                p++;
                break;
            }
            ox_buf_putc(&b, (uint8_t)*p++);
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            m = ox_xrealloc(m, cap * sizeof *m);
        }
        m[n++] = ox_xstrndup(b.data ? (const char *)b.data : "", b.len);
        ox_buf_free(&b);
        if (*p == ',')
            p++;
    }
    *members = m;
    return n;
}

struct snap {
    ox_cat *cat;
    /* PRIMARY key columns, in (db, table, seq) order. */
    struct pkcol {
        char *db, *table, *col;
    } * pk;
    size_t npk, pkcap;
    /* The table being filled from COLUMNS rows. */
    ox_cat_table cur;
    uint32_t curcap;
    bool have_cur;
};

static int on_server_cs(void *arg, char *const *v)
{
    struct snap *s = arg;
    ox_cat_set_server_charset(s->cat, v[0]);
    return 0;
}

static int on_schema(void *arg, char *const *v)
{
    struct snap *s = arg;
    if (v[0])
        ox_cat_put_db(s->cat, v[0], v[1]);
    return 0;
}

static int on_table(void *arg, char *const *v)
{
    struct snap *s = arg;
    if (!v[0] || !v[1])
        return 0;
    ox_cat_table t;
    memset(&t, 0, sizeof t);
    t.db = v[0];
    t.name = v[1];
    char *cs = ox_cat_charset_of_collation(v[2]);
    t.charset = cs;
    /* MariaDB's system-versioned tables: information_schema.COLUMNS does not
     * list the implicit row_start/row_end columns that the binlog carries,
     * and the primary key gains the row end column. Flagged, not guessed. */
    t.uncertain = v[3] && strcmp(v[3], "SYSTEM VERSIONED") == 0;
    ox_cat_put_table(s->cat, &t);
    free(cs);
    return 0;
}

static int on_pk(void *arg, char *const *v)
{
    struct snap *s = arg;
    if (!v[0] || !v[1] || !v[2])
        return 0;
    if (s->npk == s->pkcap) {
        s->pkcap = s->pkcap ? s->pkcap * 2 : 64;
        s->pk = ox_xrealloc(s->pk, s->pkcap * sizeof *s->pk);
    }
    s->pk[s->npk].db = ox_xstrdup(v[0]);
    s->pk[s->npk].table = ox_xstrdup(v[1]);
    s->pk[s->npk].col = ox_xstrdup(v[2]);
    s->npk++;
    return 0;
}

static void cur_clear(struct snap *s)
{
    for (uint32_t i = 0; i < s->cur.ncols; i++) {
        ox_cat_col *c = &s->cur.cols[i];
        free(c->name);
        free(c->type);
        free(c->charset);
        for (uint32_t k = 0; k < c->nmembers; k++)
            free(c->members[k]);
        free(c->members);
    }
    free(s->cur.cols);
    free(s->cur.db);
    free(s->cur.name);
    memset(&s->cur, 0, sizeof s->cur);
    s->curcap = 0;
    s->have_cur = false;
}

/* Finishes the current table: its key, its charset, into the catalog.
 * Columns of views and of tables not listed as base tables are dropped. */
static void cur_flush(struct snap *s)
{
    if (!s->have_cur)
        return;
    const ox_cat_table *base = ox_cat_find(s->cat, s->cur.db, s->cur.name);
    if (base) {
        uint32_t seq = 0;
        for (size_t k = 0; k < s->npk; k++) {
            if (strcmp(s->pk[k].db, s->cur.db) != 0 || strcmp(s->pk[k].table, s->cur.name) != 0)
                continue;
            int i = ox_cat_col_index(&s->cur, s->pk[k].col);
            if (i >= 0)
                s->cur.cols[i].pkseq = ++seq;
        }
        s->cur.charset = base->charset;
        s->cur.uncertain = base->uncertain;
        ox_cat_put_table(s->cat, &s->cur);
        s->cur.charset = NULL;
    }
    cur_clear(s);
}

/* db, table, column, DATA_TYPE, COLUMN_TYPE, CHARACTER_SET_NAME */
static int on_column(void *arg, char *const *v)
{
    struct snap *s = arg;
    if (!v[0] || !v[1] || !v[2])
        return 0;
    if (s->have_cur && (strcmp(s->cur.db, v[0]) != 0 || strcmp(s->cur.name, v[1]) != 0))
        cur_flush(s);
    if (!s->have_cur) {
        s->cur.db = ox_xstrdup(v[0]);
        s->cur.name = ox_xstrdup(v[1]);
        s->have_cur = true;
    }
    if (s->cur.ncols == s->curcap) {
        s->curcap = s->curcap ? s->curcap * 2 : 16;
        s->cur.cols = ox_xrealloc(s->cur.cols, s->curcap * sizeof *s->cur.cols);
    }
    ox_cat_col *c = &s->cur.cols[s->cur.ncols++];
    memset(c, 0, sizeof *c);
    c->name = ox_xstrdup(v[2]);
    c->type = ox_xstrdup(v[3] ? v[3] : "");
    for (char *p = c->type; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    if (ox_cat_type_is_binary(c->type))
        c->charset = ox_xstrdup("binary");
    else if (v[5])
        c->charset = ox_xstrdup(v[5]);
    c->is_text = c->charset && strcmp(c->charset, "binary") != 0;
    c->is_unsigned = v[4] && strstr(v[4], "unsigned") != NULL;
    c->nmembers = ox_mysql_schema_members(v[4], &c->members);
    return 0;
}

int ox_mysql_schema_snapshot(MYSQL *conn, ox_cat **out, ox_errbuf *eb)
{
    struct snap s;
    memset(&s, 0, sizeof s);
    s.cat = ox_cat_create();
    *out = NULL;
    int rc;
    if ((rc = run_rows(conn, "SELECT @@global.character_set_server", 1, on_server_cs, &s, eb)) !=
            0 ||
        (rc = run_rows(conn,
                       "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME FROM "
                       "information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN " SYS_DBS,
                       2, on_schema, &s, eb)) != 0 ||
        (rc = run_rows(conn,
                       "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_COLLATION, TABLE_TYPE FROM "
                       "information_schema.TABLES WHERE TABLE_TYPE IN ('BASE TABLE', "
                       "'SYSTEM VERSIONED') AND TABLE_SCHEMA NOT IN " SYS_DBS,
                       4, on_table, &s, eb)) != 0 ||
        (rc = run_rows(conn,
                       "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME FROM "
                       "information_schema.STATISTICS WHERE INDEX_NAME = 'PRIMARY' AND "
                       "TABLE_SCHEMA NOT IN " SYS_DBS
                       " ORDER BY BINARY TABLE_SCHEMA, BINARY TABLE_NAME, SEQ_IN_INDEX",
                       3, on_pk, &s, eb)) != 0 ||
        (rc = run_rows(conn,
                       "SELECT TABLE_SCHEMA, TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, "
                       "CHARACTER_SET_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA "
                       "NOT IN " SYS_DBS
                       " ORDER BY BINARY TABLE_SCHEMA, BINARY TABLE_NAME, ORDINAL_POSITION",
                       6, on_column, &s, eb)) != 0)
        goto done;
    cur_flush(&s);
    ox_cat_journal_reset(s.cat);
    *out = s.cat;
    s.cat = NULL;
done:
    cur_clear(&s);
    for (size_t k = 0; k < s.npk; k++) {
        free(s.pk[k].db);
        free(s.pk[k].table);
        free(s.pk[k].col);
    }
    free(s.pk);
    ox_cat_free(s.cat);
    return rc;
}
