/*
 * ox_mysql_catalog.c - the in-memory catalog and how DDL changes it
 * (see ox_mysql_catalog.h).
 *
 * Storage is two flat arrays (databases, tables) searched linearly: lookups
 * happen once per TABLE_MAP whose bytes changed and once per DDL statement,
 * not per row, so a hash table would buy nothing measurable.
 */
#include "ox_mysql_catalog.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ox_alloc.h"

struct cat_db {
    char *name;
    char *charset;
};

struct jent {
    char *db, *table;
};

struct ox_cat {
    char *server_cs;
    struct cat_db *dbs;
    uint32_t ndbs, dbcap;
    ox_cat_table **tabs;
    uint32_t ntabs, tabcap;
    struct jent *journal;
    uint32_t njournal, jcap;
};

static char *dup_or_null(const char *s)
{
    return s ? ox_xstrdup(s) : NULL;
}

static void set_str(char **dst, const char *s)
{
    char *n = dup_or_null(s);
    free(*dst);
    *dst = n;
}

ox_cat *ox_cat_create(void)
{
    return ox_xcalloc(1, sizeof(ox_cat));
}

static void col_clear(ox_cat_col *col)
{
    free(col->name);
    free(col->type);
    free(col->charset);
    for (uint32_t k = 0; k < col->nmembers; k++)
        free(col->members[k]);
    free(col->members);
    memset(col, 0, sizeof *col);
}

static void col_copy(ox_cat_col *dst, const ox_cat_col *src)
{
    dst->name = dup_or_null(src->name);
    dst->type = dup_or_null(src->type);
    dst->charset = dup_or_null(src->charset);
    dst->is_text = src->is_text;
    dst->is_unsigned = src->is_unsigned;
    dst->pkseq = src->pkseq;
    dst->nmembers = src->nmembers;
    dst->members = ox_xcalloc(src->nmembers ? src->nmembers : 1, sizeof *dst->members);
    for (uint32_t k = 0; k < src->nmembers; k++)
        dst->members[k] = ox_xstrdup(src->members[k]);
}

static void table_free(ox_cat_table *t)
{
    if (!t)
        return;
    for (uint32_t i = 0; i < t->ncols; i++)
        col_clear(&t->cols[i]);
    free(t->cols);
    free(t->db);
    free(t->name);
    free(t->charset);
    free(t);
}

static ox_cat_table *table_dup(const ox_cat_table *src)
{
    ox_cat_table *t = ox_xcalloc(1, sizeof *t);
    t->db = dup_or_null(src->db);
    t->name = dup_or_null(src->name);
    t->charset = dup_or_null(src->charset);
    t->uncertain = src->uncertain;
    t->ncols = src->ncols;
    t->cols = ox_xcalloc(src->ncols ? src->ncols : 1, sizeof *t->cols);
    for (uint32_t i = 0; i < src->ncols; i++)
        col_copy(&t->cols[i], &src->cols[i]);
    return t;
}

void ox_cat_journal_reset(ox_cat *c)
{
    for (uint32_t i = 0; i < c->njournal; i++) {
        free(c->journal[i].db);
        free(c->journal[i].table);
    }
    c->njournal = 0;
}

void ox_cat_free(ox_cat *c)
{
    if (!c)
        return;
    for (uint32_t i = 0; i < c->ndbs; i++) {
        free(c->dbs[i].name);
        free(c->dbs[i].charset);
    }
    free(c->dbs);
    for (uint32_t i = 0; i < c->ntabs; i++)
        table_free(c->tabs[i]);
    free(c->tabs);
    ox_cat_journal_reset(c);
    free(c->journal);
    free(c->server_cs);
    free(c);
}

static void journal(ox_cat *c, const char *db, const char *table)
{
    for (uint32_t i = 0; i < c->njournal; i++) {
        const struct jent *j = &c->journal[i];
        if (strcmp(j->db, db) == 0 && (j->table == NULL) == (table == NULL) &&
            (!table || strcmp(j->table, table) == 0))
            return;
    }
    if (c->njournal == c->jcap) {
        c->jcap = c->jcap ? c->jcap * 2 : 8;
        c->journal = ox_xrealloc(c->journal, c->jcap * sizeof *c->journal);
    }
    c->journal[c->njournal].db = ox_xstrdup(db);
    c->journal[c->njournal].table = dup_or_null(table);
    c->njournal++;
}

bool ox_cat_journal_at(const ox_cat *c, uint32_t i, const char **db, const char **table)
{
    if (i >= c->njournal)
        return false;
    *db = c->journal[i].db;
    *table = c->journal[i].table;
    return true;
}

void ox_cat_set_server_charset(ox_cat *c, const char *charset)
{
    set_str(&c->server_cs, charset);
}

const char *ox_cat_server_charset(const ox_cat *c)
{
    return c->server_cs;
}

static struct cat_db *find_db(const ox_cat *c, const char *db)
{
    for (uint32_t i = 0; i < c->ndbs; i++)
        if (strcmp(c->dbs[i].name, db) == 0)
            return &c->dbs[i];
    return NULL;
}

void ox_cat_put_db(ox_cat *c, const char *db, const char *charset)
{
    struct cat_db *d = find_db(c, db);
    if (!d) {
        if (c->ndbs == c->dbcap) {
            c->dbcap = c->dbcap ? c->dbcap * 2 : 8;
            c->dbs = ox_xrealloc(c->dbs, c->dbcap * sizeof *c->dbs);
        }
        d = &c->dbs[c->ndbs++];
        d->name = ox_xstrdup(db);
        d->charset = NULL;
    }
    set_str(&d->charset, charset);
    journal(c, db, NULL);
}

bool ox_cat_find_db(const ox_cat *c, const char *db, const char **charset)
{
    const struct cat_db *d = find_db(c, db);
    if (d && charset)
        *charset = d->charset;
    return d != NULL;
}

const char *ox_cat_db_at(const ox_cat *c, uint32_t i, const char **charset)
{
    if (i >= c->ndbs)
        return NULL;
    *charset = c->dbs[i].charset;
    return c->dbs[i].name;
}

const ox_cat_table *ox_cat_table_at(const ox_cat *c, uint32_t i)
{
    return i < c->ntabs ? c->tabs[i] : NULL;
}

static int find_tab(const ox_cat *c, const char *db, const char *table)
{
    for (uint32_t i = 0; i < c->ntabs; i++)
        if (strcmp(c->tabs[i]->db, db) == 0 && strcmp(c->tabs[i]->name, table) == 0)
            return (int)i;
    return -1;
}

/* The table an existing-table reference names: the exact name, else the one
 * table whose name matches ignoring case. On lower_case_table_names=0
 * servers a statement naming a table that does not exist never reaches the
 * binlog, so the fallback only serves servers with lower_case_table_names=1/2,
 * whose row events carry the lower-cased name while DDL text keeps the case
 * it was written in. */
static int find_ref(const ox_cat *c, const char *db, const char *table)
{
    int i = find_tab(c, db, table);
    if (i >= 0)
        return i;
    for (uint32_t k = 0; k < c->ntabs; k++) {
        if (strcasecmp(c->tabs[k]->db, db) != 0 || strcasecmp(c->tabs[k]->name, table) != 0)
            continue;
        if (i >= 0)
            return -1; /* ambiguous */
        i = (int)k;
    }
    return i;
}

const ox_cat_table *ox_cat_find(const ox_cat *c, const char *db, const char *table)
{
    if (!db || !table)
        return NULL;
    int i = find_ref(c, db, table);
    return i < 0 ? NULL : c->tabs[i];
}

/* Takes ownership of t. */
static void put_owned(ox_cat *c, ox_cat_table *t)
{
    journal(c, t->db, t->name);
    int i = find_tab(c, t->db, t->name);
    if (i >= 0) {
        table_free(c->tabs[i]);
        c->tabs[i] = t;
        return;
    }
    if (c->ntabs == c->tabcap) {
        c->tabcap = c->tabcap ? c->tabcap * 2 : 16;
        c->tabs = ox_xrealloc(c->tabs, c->tabcap * sizeof *c->tabs);
    }
    c->tabs[c->ntabs++] = t;
}

void ox_cat_put_table(ox_cat *c, const ox_cat_table *t)
{
    put_owned(c, table_dup(t));
}

void ox_cat_drop_table(ox_cat *c, const char *db, const char *table)
{
    int i = find_ref(c, db, table);
    if (i < 0) {
        journal(c, db, table);
        return;
    }
    journal(c, c->tabs[i]->db, c->tabs[i]->name);
    table_free(c->tabs[i]);
    c->tabs[i] = c->tabs[--c->ntabs];
}

void ox_cat_drop_db(ox_cat *c, const char *db, bool with_tables)
{
    if (with_tables) {
        for (uint32_t i = c->ntabs; i-- > 0;)
            if (strcmp(c->tabs[i]->db, db) == 0)
                ox_cat_drop_table(c, db, c->tabs[i]->name);
    }
    journal(c, db, NULL);
    struct cat_db *d = find_db(c, db);
    if (!d)
        return;
    free(d->name);
    free(d->charset);
    *d = c->dbs[--c->ndbs];
}

uint32_t ox_cat_table_pk(const ox_cat_table *t, uint32_t *pk)
{
    uint32_t n = 0;
    for (uint32_t k = 1; k <= t->ncols; k++) {
        bool found = false;
        for (uint32_t i = 0; i < t->ncols && !found; i++) {
            if (t->cols[i].pkseq == k) {
                pk[n++] = i;
                found = true;
            }
        }
        if (!found)
            break;
    }
    return n;
}

int ox_cat_col_index(const ox_cat_table *t, const char *name)
{
    if (!name)
        return -1;
    for (uint32_t i = 0; i < t->ncols; i++)
        if (strcasecmp(t->cols[i].name, name) == 0)
            return (int)i;
    return -1;
}

char *ox_cat_charset_of_collation(const char *collation)
{
    if (!collation)
        return NULL;
    const char *u = strchr(collation, '_');
    return ox_xstrndup(collation, u ? (size_t)(u - collation) : strlen(collation));
}

/* Charset spellings the reader passes through (ASCII, UNICODE, BYTE, the
 * utf8 alias) -> the server's names. */
static char *norm_charset(const char *cs, const char *collate)
{
    if (!cs)
        return ox_cat_charset_of_collation(collate);
    if (strcasecmp(cs, "unicode") == 0)
        return ox_xstrdup("ucs2");
    if (strcasecmp(cs, "byte") == 0)
        return ox_xstrdup("binary");
    if (strcasecmp(cs, "utf8") == 0)
        return ox_xstrdup("utf8mb3");
    char *r = ox_xstrdup(cs);
    for (char *p = r; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    return r;
}

static bool in_list(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcasecmp(s, *list) == 0)
            return true;
    return false;
}

/* Character types: their charset is the column's, else the table's. */
static const char *const TEXT_TYPES[] = {
    "char",      "varchar",      "tinytext", "text",     "mediumtext", "longtext",
    "enum",      "set",          "nchar",    "nvarchar", "national",   "long",
    "character", "long varchar", "varchar2", "clob",     NULL,
};
/* Byte-string types: charset binary. */
static const char *const BINARY_TYPES[] = {
    "binary",
    "varbinary",
    "tinyblob",
    "blob",
    "mediumblob",
    "longblob",
    "long varbinary",
    "raw",
    "char byte",
    /* MariaDB's fixed-size binary types: BINARY(16)/BINARY(4) in the binlog
     * (the decoder renders them as text from the column's type). */
    "inet6",
    "inet4",
    "uuid",
    NULL,
};
/* NCHAR/NATIONAL types are utf8mb3 whatever the table says. */
static const char *const NATIONAL_TYPES[] = {"nchar", "nvarchar", "national", NULL};

bool ox_cat_type_is_binary(const char *type)
{
    return type && in_list(type, BINARY_TYPES);
}

/* Builds a catalog column from a column definition; table_cs is the
 * table's (or database's, or server's) default charset. */
static void col_from_def(ox_cat_col *col, const ox_ddl_coldef *d, const char *table_cs)
{
    memset(col, 0, sizeof *col);
    col->name = ox_xstrdup(d->name ? d->name : "");
    col->type = ox_xstrdup(d->type ? d->type : "");
    const char *ty = col->type;
    if (in_list(ty, BINARY_TYPES)) {
        col->charset = ox_xstrdup("binary");
    } else if (strcasecmp(ty, "json") == 0) {
        /* MariaDB's JSON is LONGTEXT utf8mb4_bin (MySQL's has its own type,
         * for which the charset is never asked). */
        col->charset = ox_xstrdup("utf8mb4");
        col->is_text = true;
    } else if (in_list(ty, TEXT_TYPES)) {
        if (d->charset || d->collate)
            col->charset = norm_charset(d->charset, d->collate);
        else if (in_list(ty, NATIONAL_TYPES))
            col->charset = ox_xstrdup("utf8mb3");
        else
            col->charset = dup_or_null(table_cs);
        col->is_text = !(col->charset && strcmp(col->charset, "binary") == 0);
    }
    col->is_unsigned = d->is_unsigned;
    col->nmembers = d->nmembers;
    col->members = ox_xcalloc(d->nmembers ? d->nmembers : 1, sizeof *col->members);
    for (uint32_t k = 0; k < d->nmembers; k++)
        col->members[k] = ox_xstrdup(d->members[k] ? d->members[k] : "");
}

/* The default charset for new columns of table t in database db. */
static const char *default_cs(const ox_cat *c, const char *db, const char *table_cs)
{
    if (table_cs)
        return table_cs;
    const char *dcs = NULL;
    if (db && ox_cat_find_db(c, db, &dcs) && dcs)
        return dcs;
    return c->server_cs;
}

static void set_pk(ox_cat_table *t, char *const *names, uint32_t n)
{
    for (uint32_t i = 0; i < t->ncols; i++)
        t->cols[i].pkseq = 0;
    uint32_t seq = 0;
    for (uint32_t k = 0; k < n; k++) {
        int i = ox_cat_col_index(t, names[k]);
        if (i < 0) {
            t->uncertain = true;
            continue;
        }
        if (t->cols[i].pkseq == 0)
            t->cols[i].pkseq = ++seq;
    }
}

/* Inserts col (moved in) at index `at`, shifting the rest. */
static void insert_col(ox_cat_table *t, uint32_t at, ox_cat_col *col)
{
    t->cols = ox_xrealloc(t->cols, (t->ncols + 1) * sizeof *t->cols);
    memmove(&t->cols[at + 1], &t->cols[at], (t->ncols - at) * sizeof *t->cols);
    t->cols[at] = *col;
    t->ncols++;
}

/* Removes column i (its storage moved out into *out when not NULL). */
static void remove_col(ox_cat_table *t, uint32_t i, ox_cat_col *out)
{
    if (out)
        *out = t->cols[i];
    else
        col_clear(&t->cols[i]);
    memmove(&t->cols[i], &t->cols[i + 1], (t->ncols - i - 1) * sizeof *t->cols);
    t->ncols--;
}

/* Where to put a column (after `self` was taken out): FIRST, AFTER x, or
 * `dflt`. Returns false when the AFTER column does not exist. */
static bool place_of(const ox_cat_table *t, int place, const char *after, uint32_t dflt,
                     uint32_t *at)
{
    if (place == OX_DDL_PLACE_FIRST) {
        *at = 0;
        return true;
    }
    if (place == OX_DDL_PLACE_AFTER) {
        int i = ox_cat_col_index(t, after);
        if (i < 0)
            return false;
        *at = (uint32_t)i + 1;
        return true;
    }
    *at = dflt > t->ncols ? t->ncols : dflt;
    return true;
}

/* CHANGE/MODIFY: replaces column `old` with def, possibly moving it. */
static void change_col(const ox_cat *c, ox_cat_table *t, const char *old, const ox_ddl_alter *a)
{
    int i = ox_cat_col_index(t, old);
    if (i < 0) {
        t->uncertain = true;
        return;
    }
    ox_cat_col taken;
    remove_col(t, (uint32_t)i, &taken);
    ox_cat_col col;
    col_from_def(&col, &a->def, default_cs(c, t->db, t->charset));
    col.pkseq = taken.pkseq;
    if (a->def.primary_key && col.pkseq == 0)
        col.pkseq = 1; /* MODIFY c INT PRIMARY KEY on a table without a key */
    col_clear(&taken);
    uint32_t at;
    if (!place_of(t, a->place, a->after, (uint32_t)i, &at)) {
        t->uncertain = true;
        at = (uint32_t)i;
    }
    insert_col(t, at, &col);
}

static void drop_col(ox_cat_table *t, const char *name)
{
    int i = ox_cat_col_index(t, name);
    if (i < 0)
        return; /* DROP COLUMN IF EXISTS (the server logged it, so it ran) */
    uint32_t seq = t->cols[i].pkseq;
    remove_col(t, (uint32_t)i, NULL);
    if (seq == 0)
        return;
    for (uint32_t k = 0; k < t->ncols; k++)
        if (t->cols[k].pkseq > seq)
            t->cols[k].pkseq--;
}

static void convert_charset(ox_cat_table *t, const ox_ddl_alter *a)
{
    char *cs = norm_charset(a->charset, a->collate);
    if (!cs)
        return;
    for (uint32_t i = 0; i < t->ncols; i++) {
        ox_cat_col *col = &t->cols[i];
        /* Character columns follow; byte strings stay binary. */
        if (!in_list(col->type, TEXT_TYPES))
            continue;
        set_str(&col->charset, cs);
        col->is_text = strcmp(cs, "binary") != 0;
    }
    free(t->charset);
    t->charset = cs;
}

/* Applies one ALTER clause to t (a private copy). */
static void alter_one(const ox_cat *c, ox_cat_table *t, const ox_ddl_alter *a)
{
    switch (a->op) {
    case OX_ALTER_ADD_COLUMN: {
        /* The server refuses a duplicate name unless the clause said IF NOT
         * EXISTS, which then does nothing: either way, no new column. */
        if (ox_cat_col_index(t, a->def.name) >= 0)
            break;
        ox_cat_col col;
        col_from_def(&col, &a->def, default_cs(c, t->db, t->charset));
        uint32_t at;
        if (!place_of(t, a->place, a->after, t->ncols, &at)) {
            t->uncertain = true;
            at = t->ncols;
        }
        if (a->def.primary_key) {
            for (uint32_t i = 0; i < t->ncols; i++)
                t->cols[i].pkseq = 0;
            col.pkseq = 1;
        }
        insert_col(t, at, &col);
        break;
    }
    case OX_ALTER_DROP_COLUMN:
        drop_col(t, a->column);
        break;
    case OX_ALTER_CHANGE_COLUMN:
        change_col(c, t, a->column, a);
        break;
    case OX_ALTER_MODIFY_COLUMN:
        change_col(c, t, a->def.name, a);
        break;
    case OX_ALTER_RENAME_COLUMN: {
        int i = ox_cat_col_index(t, a->column);
        if (i < 0 || !a->new_name) {
            t->uncertain = true;
            break;
        }
        set_str(&t->cols[i].name, a->new_name);
        break;
    }
    case OX_ALTER_ADD_PRIMARY_KEY:
        set_pk(t, a->keycols, a->nkeycols);
        break;
    case OX_ALTER_DROP_PRIMARY_KEY:
        for (uint32_t i = 0; i < t->ncols; i++)
            t->cols[i].pkseq = 0;
        break;
    case OX_ALTER_CONVERT_CHARSET:
        convert_charset(t, a);
        break;
    case OX_ALTER_DEFAULT_CHARSET: {
        char *cs = norm_charset(a->charset, a->collate);
        if (cs) {
            free(t->charset);
            t->charset = cs;
        }
        break;
    }
    case OX_ALTER_RENAME_TABLE:
    case OX_ALTER_NO_COLUMN_EFFECT:
        break; /* the rename is applied after the clauses, as the server does */
    default:   /* OX_ALTER_UNKNOWN and anything newer */
        t->uncertain = true;
        break;
    }
}

/* Marks db.table uncertain, creating an empty entry if it is unknown. */
static void mark_uncertain(ox_cat *c, const char *db, const char *table)
{
    if (!db || !table)
        return;
    const ox_cat_table *old = ox_cat_find(c, db, table);
    ox_cat_table *t;
    if (old) {
        t = table_dup(old);
    } else {
        t = ox_xcalloc(1, sizeof *t);
        t->db = ox_xstrdup(db);
        t->name = ox_xstrdup(table);
        t->cols = ox_xcalloc(1, sizeof *t->cols);
    }
    t->uncertain = true;
    put_owned(c, t);
}

static void rename_table(ox_cat *c, const char *db, const char *table, const char *new_db,
                         const char *new_table)
{
    const ox_cat_table *old = ox_cat_find(c, db, table);
    if (!new_table)
        return;
    if (!new_db)
        new_db = db;
    if (!old) {
        /* Unknown before, still unknown: make sure nothing stale answers for
         * the new name (that exact name only). */
        int i = new_db ? find_tab(c, new_db, new_table) : -1;
        if (i >= 0)
            ox_cat_drop_table(c, new_db, new_table);
        return;
    }
    ox_cat_table *t = table_dup(old);
    ox_cat_drop_table(c, t->db, t->name);
    set_str(&t->db, new_db);
    set_str(&t->name, new_table);
    put_owned(c, t);
}

static int create_table(ox_cat *c, const ox_ddl_stmt *s)
{
    const ox_ddl_target *tg = &s->targets[0];
    if (!tg->db || !tg->table)
        return OX_CAT_NONE;
    if (s->if_not_exists && ox_cat_find(c, tg->db, tg->table))
        return OX_CAT_NONE;
    if (s->like_table) {
        const char *ldb = s->like_db ? s->like_db : tg->db;
        const ox_cat_table *src = ldb ? ox_cat_find(c, ldb, s->like_table) : NULL;
        if (!src) {
            mark_uncertain(c, tg->db, tg->table);
            return OX_CAT_UNCERTAIN;
        }
        ox_cat_table *t = table_dup(src);
        set_str(&t->db, tg->db);
        set_str(&t->name, tg->table);
        put_owned(c, t);
        return t->uncertain ? OX_CAT_UNCERTAIN : OX_CAT_APPLIED;
    }
    ox_cat_table *t = ox_xcalloc(1, sizeof *t);
    t->db = ox_xstrdup(tg->db);
    t->name = ox_xstrdup(tg->table);
    t->charset = norm_charset(s->charset, s->collate);
    if (!t->charset)
        t->charset = dup_or_null(default_cs(c, tg->db, NULL));
    t->ncols = s->ncols;
    t->cols = ox_xcalloc(s->ncols ? s->ncols : 1, sizeof *t->cols);
    for (uint32_t i = 0; i < s->ncols; i++)
        col_from_def(&t->cols[i], &s->cols[i], t->charset);
    if (s->npk) {
        set_pk(t, s->pk, s->npk);
    } else {
        for (uint32_t i = 0; i < s->ncols; i++)
            if (s->cols[i].primary_key) {
                t->cols[i].pkseq = 1;
                break;
            }
    }
    /* CREATE ... SELECT adds the selected columns after the defined ones:
     * which ones, only the server knows. */
    if (s->as_select || s->ncols == 0)
        t->uncertain = true;
    /* WITH SYSTEM VERSIONING: hidden columns and a longer primary key (see
     * ox_ddl_stmt.sys_versioning). */
    if (s->sys_versioning)
        t->uncertain = true;
    put_owned(c, t);
    return t->uncertain ? OX_CAT_UNCERTAIN : OX_CAT_APPLIED;
}

static int alter_table(ox_cat *c, const ox_ddl_stmt *s)
{
    const ox_ddl_target *tg = &s->targets[0];
    if (!tg->db || !tg->table)
        return OX_CAT_NONE;
    const ox_cat_table *old = ox_cat_find(c, tg->db, tg->table);
    if (!old) {
        /* A table we never knew stays unknown, under its new name too. */
        rename_table(c, tg->db, tg->table, tg->new_db, tg->new_table);
        return OX_CAT_NONE;
    }
    ox_cat_table *t = table_dup(old);
    for (uint32_t k = 0; k < s->nalters; k++)
        alter_one(c, t, &s->alters[k]);
    if (s->sys_versioning) /* a column WITH SYSTEM VERSIONING: see create_table */
        t->uncertain = true;
    bool unc = t->uncertain;
    put_owned(c, t);
    if (tg->new_table)
        rename_table(c, tg->db, tg->table, tg->new_db, tg->new_table);
    return unc ? OX_CAT_UNCERTAIN : OX_CAT_APPLIED;
}

static int unparsed(ox_cat *c, const ox_ddl_stmt *s)
{
    int eff = OX_CAT_NONE;
    switch (s->kind) {
    case OX_DDL_CREATE_TABLE:
    case OX_DDL_ALTER_TABLE:
    case OX_DDL_RENAME_TABLE:
    case OX_DDL_DROP_TABLE:
        for (uint32_t k = 0; k < s->ntargets; k++) {
            const ox_ddl_target *tg = &s->targets[k];
            mark_uncertain(c, tg->db, tg->table);
            mark_uncertain(c, tg->new_db ? tg->new_db : tg->db, tg->new_table);
            eff = OX_CAT_UNCERTAIN;
        }
        break;
    default:
        break;
    }
    return eff;
}

int ox_cat_apply(ox_cat *c, const ox_ddl_stmt *s)
{
    if (!s || s->temporary)
        return OX_CAT_NONE; /* temporary tables never reach the row log */
    if (!s->parsed)
        return unparsed(c, s);
    if (s->ntargets == 0)
        return OX_CAT_NONE;
    switch (s->kind) {
    case OX_DDL_CREATE_TABLE:
        return create_table(c, s);
    case OX_DDL_ALTER_TABLE:
        return alter_table(c, s);
    case OX_DDL_RENAME_TABLE:
        for (uint32_t k = 0; k < s->ntargets; k++) {
            const ox_ddl_target *tg = &s->targets[k];
            if (tg->db && tg->table)
                rename_table(c, tg->db, tg->table, tg->new_db, tg->new_table);
        }
        return OX_CAT_APPLIED;
    case OX_DDL_DROP_TABLE:
        for (uint32_t k = 0; k < s->ntargets; k++)
            if (s->targets[k].db && s->targets[k].table)
                ox_cat_drop_table(c, s->targets[k].db, s->targets[k].table);
        return OX_CAT_APPLIED;
    case OX_DDL_CREATE_DATABASE: {
        const char *db = s->targets[0].db;
        if (!db || (s->if_not_exists && ox_cat_find_db(c, db, NULL)))
            return OX_CAT_NONE;
        char *cs = norm_charset(s->charset, s->collate);
        ox_cat_put_db(c, db, cs);
        free(cs);
        return OX_CAT_APPLIED;
    }
    case OX_DDL_ALTER_DATABASE: {
        const char *db = s->targets[0].db;
        char *cs = norm_charset(s->charset, s->collate);
        if (!db || !cs) {
            free(cs);
            return OX_CAT_NONE;
        }
        ox_cat_put_db(c, db, cs);
        free(cs);
        return OX_CAT_APPLIED;
    }
    case OX_DDL_DROP_DATABASE:
        if (!s->targets[0].db)
            return OX_CAT_NONE;
        ox_cat_drop_db(c, s->targets[0].db, true);
        return OX_CAT_APPLIED;
    default:
        return OX_CAT_NONE;
    }
}
