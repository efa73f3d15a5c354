/* test_schema_hist.c - the schema catalog (DDL applied to it, statements
 * built by hand as the DDL reader would) and the persistent history
 * (versions by position, restart at a position, compaction, corruption). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_test_util.h"
#include "ox_binlog.h"
#include "ox_durable.h"
#include "ox_mysql_catalog.h"
#include "ox_mysql_schema.h"
#include "ox_mysql_schema_hist.h"
#include "ox_render.h"

/* ---- statements by hand ---- */

static ox_ddl_coldef coldef(const char *name, const char *type, const char *cs)
{
    ox_ddl_coldef d;
    memset(&d, 0, sizeof d);
    d.name = (char *)name;
    d.type = (char *)type;
    d.type_text = (char *)type;
    d.charset = (char *)cs;
    return d;
}

static ox_ddl_coldef enumdef(const char *name, const char *type, char **members, uint32_t n)
{
    ox_ddl_coldef d = coldef(name, type, NULL);
    d.members = members;
    d.nmembers = n;
    return d;
}

static ox_ddl_target target(const char *db, const char *table)
{
    ox_ddl_target t = {(char *)db, (char *)table, NULL, NULL};
    return t;
}

static ox_ddl_stmt stmt(int kind, ox_ddl_target *tg, uint32_t ntg)
{
    ox_ddl_stmt s;
    memset(&s, 0, sizeof s);
    s.kind = kind;
    s.parsed = true;
    s.targets = tg;
    s.ntargets = ntg;
    return s;
}

static ox_ddl_alter alter(int op)
{
    ox_ddl_alter a;
    memset(&a, 0, sizeof a);
    a.op = op;
    return a;
}

static char *xy[] = {"x", "y"};
static char *xyz[] = {"x", "y", "z"};

/* CREATE DATABASE d CHARACTER SET latin1; CREATE TABLE d.t (id INT PRIMARY
 * KEY, a VARCHAR(10), e ENUM('x','y'), bin VARBINARY(4)) */
static void create_dt(ox_cat *c)
{
    ox_ddl_target tg = target("d", NULL);
    ox_ddl_stmt s = stmt(OX_DDL_CREATE_DATABASE, &tg, 1);
    s.charset = "latin1";
    assert_int_equal(ox_cat_apply(c, &s), OX_CAT_APPLIED);

    ox_ddl_coldef cols[4] = {coldef("id", "int", NULL), coldef("a", "varchar", NULL),
                             enumdef("e", "enum", xy, 2), coldef("bin", "varbinary", NULL)};
    cols[0].primary_key = true;
    cols[0].is_unsigned = true;
    ox_ddl_target tt = target("d", "t");
    ox_ddl_stmt ct = stmt(OX_DDL_CREATE_TABLE, &tt, 1);
    ct.cols = cols;
    ct.ncols = 4;
    assert_int_equal(ox_cat_apply(c, &ct), OX_CAT_APPLIED);
}

static void assert_cols(const ox_cat_table *t, const char *const *names, uint32_t n)
{
    assert_non_null(t);
    assert_int_equal(t->ncols, n);
    for (uint32_t i = 0; i < n; i++)
        assert_string_equal(t->cols[i].name, names[i]);
}

static void test_create(void **state)
{
    ox_cat *c = ox_cat_create();
    ox_cat_set_server_charset(c, "utf8mb4");
    create_dt(c);
    const ox_cat_table *t = ox_cat_find(c, "d", "t");
    const char *names[] = {"id", "a", "e", "bin"};
    assert_cols(t, names, 4);
    assert_false(t->uncertain);
    assert_null(t->cols[0].charset);
    assert_true(t->cols[0].is_unsigned);
    assert_string_equal(t->cols[1].charset, "latin1"); /* the database's */
    assert_true(t->cols[1].is_text);
    assert_int_equal(t->cols[2].nmembers, 2);
    assert_string_equal(t->cols[2].members[1], "y");
    assert_string_equal(t->cols[3].charset, "binary");
    assert_false(t->cols[3].is_text);
    uint32_t pk[8];
    assert_int_equal(ox_cat_table_pk(t, pk), 1);
    assert_int_equal(pk[0], 0);
    /* Only t: a case variant finds it (lower_case_table_names=1 servers). */
    assert_ptr_equal(ox_cat_find(c, "d", "T"), t);
    /* t and T are two tables (lower_case_table_names=0): exact names win. */
    ox_ddl_coldef one = coldef("k", "int", NULL);
    ox_ddl_target tT = target("d", "T");
    ox_ddl_stmt cT = stmt(OX_DDL_CREATE_TABLE, &tT, 1);
    cT.cols = &one;
    cT.ncols = 1;
    assert_int_equal(ox_cat_apply(c, &cT), OX_CAT_APPLIED);
    assert_int_equal(ox_cat_find(c, "d", "T")->ncols, 1);
    assert_int_equal(ox_cat_find(c, "d", "t")->ncols, 4);
    assert_null(ox_cat_find(c, "d", "x"));
    ox_cat_free(c);
}

static void test_alter_sequence(void **state)
{
    ox_cat *c = ox_cat_create();
    create_dt(c);
    ox_ddl_target tt = target("d", "t");
    ox_ddl_alter al[8];
    /* ADD COLUMN b TEXT CHARSET utf8mb4 FIRST */
    al[0] = alter(OX_ALTER_ADD_COLUMN);
    al[0].def = coldef("b", "text", "utf8mb4");
    al[0].place = OX_DDL_PLACE_FIRST;
    /* CHANGE A aa VARCHAR(20) AFTER e (column names are case-insensitive) */
    al[1] = alter(OX_ALTER_CHANGE_COLUMN);
    al[1].column = "A";
    al[1].def = coldef("aa", "varchar", NULL);
    al[1].place = OX_DDL_PLACE_AFTER;
    al[1].after = "E";
    /* MODIFY e ENUM('x','y','z') */
    al[2] = alter(OX_ALTER_MODIFY_COLUMN);
    al[2].def = enumdef("e", "enum", xyz, 3);
    /* RENAME COLUMN bin TO raw */
    al[3] = alter(OX_ALTER_RENAME_COLUMN);
    al[3].column = "bin";
    al[3].new_name = "raw";
    ox_ddl_stmt s = stmt(OX_DDL_ALTER_TABLE, &tt, 1);
    s.alters = al;
    s.nalters = 4;
    assert_int_equal(ox_cat_apply(c, &s), OX_CAT_APPLIED);
    const ox_cat_table *t = ox_cat_find(c, "d", "t");
    const char *n1[] = {"b", "id", "e", "aa", "raw"};
    assert_cols(t, n1, 5);
    assert_string_equal(t->cols[0].charset, "utf8mb4");
    assert_string_equal(t->cols[3].charset, "latin1");
    assert_int_equal(t->cols[2].nmembers, 3);
    assert_string_equal(t->cols[2].members[2], "z");
    uint32_t pk[8];
    assert_int_equal(ox_cat_table_pk(t, pk), 1);
    assert_int_equal(pk[0], 1);

    /* DROP COLUMN id, ADD PRIMARY KEY (aa, b), CONVERT TO CHARACTER SET
     * utf8mb4, ADD COLUMN z INT AFTER b */
    al[0] = alter(OX_ALTER_DROP_COLUMN);
    al[0].column = "id";
    char *keys[] = {"aa", "B"};
    al[1] = alter(OX_ALTER_ADD_PRIMARY_KEY);
    al[1].keycols = keys;
    al[1].nkeycols = 2;
    al[2] = alter(OX_ALTER_CONVERT_CHARSET);
    al[2].charset = "utf8mb4";
    al[3] = alter(OX_ALTER_ADD_COLUMN);
    al[3].def = coldef("z", "int", NULL);
    al[3].place = OX_DDL_PLACE_AFTER;
    al[3].after = "b";
    al[4] = alter(OX_ALTER_NO_COLUMN_EFFECT);
    s.nalters = 5;
    assert_int_equal(ox_cat_apply(c, &s), OX_CAT_APPLIED);
    t = ox_cat_find(c, "d", "t");
    const char *n2[] = {"b", "z", "e", "aa", "raw"};
    assert_cols(t, n2, 5);
    assert_int_equal(ox_cat_table_pk(t, pk), 2);
    assert_int_equal(pk[0], 3);
    assert_int_equal(pk[1], 0);
    assert_string_equal(t->cols[3].charset, "utf8mb4");
    assert_string_equal(t->cols[2].charset, "utf8mb4"); /* ENUM follows */
    assert_string_equal(t->cols[4].charset, "binary");  /* byte strings stay */
    assert_string_equal(t->charset, "utf8mb4");

    /* DROP PRIMARY KEY; a new column without charset takes the table's. */
    al[0] = alter(OX_ALTER_DROP_PRIMARY_KEY);
    al[1] = alter(OX_ALTER_ADD_COLUMN);
    al[1].def = coldef("c", "char", NULL);
    s.nalters = 2;
    ox_cat_apply(c, &s);
    t = ox_cat_find(c, "d", "t");
    assert_int_equal(ox_cat_table_pk(t, pk), 0);
    assert_string_equal(t->cols[5].charset, "utf8mb4");
    ox_cat_free(c);
}

static void test_rename_drop(void **state)
{
    ox_cat *c = ox_cat_create();
    create_dt(c);
    /* RENAME TABLE d.t TO d.u */
    ox_ddl_target tg = {"d", "t", "d", "u"};
    ox_ddl_stmt s = stmt(OX_DDL_RENAME_TABLE, &tg, 1);
    assert_int_equal(ox_cat_apply(c, &s), OX_CAT_APPLIED);
    assert_null(ox_cat_find(c, "d", "t"));
    assert_non_null(ox_cat_find(c, "d", "u"));
    /* ALTER TABLE d.u RENAME TO e.v, ADD COLUMN n INT */
    ox_ddl_target at = {"d", "u", "e", "v"};
    ox_ddl_alter al[2] = {alter(OX_ALTER_RENAME_TABLE), alter(OX_ALTER_ADD_COLUMN)};
    al[1].def = coldef("n", "int", NULL);
    ox_ddl_stmt as = stmt(OX_DDL_ALTER_TABLE, &at, 1);
    as.alters = al;
    as.nalters = 2;
    ox_cat_apply(c, &as);
    assert_null(ox_cat_find(c, "d", "u"));
    const ox_cat_table *v = ox_cat_find(c, "e", "v");
    assert_non_null(v);
    assert_int_equal(v->ncols, 5);
    /* CREATE TABLE d.l LIKE e.v */
    ox_ddl_target lt = target("d", "l");
    ox_ddl_stmt ls = stmt(OX_DDL_CREATE_TABLE, &lt, 1);
    ls.like_db = "e";
    ls.like_table = "v";
    assert_int_equal(ox_cat_apply(c, &ls), OX_CAT_APPLIED);
    assert_int_equal(ox_cat_find(c, "d", "l")->ncols, 5);
    /* DROP TABLE e.v; DROP DATABASE d */
    ox_ddl_target dt = target("e", "v");
    ox_ddl_stmt ds = stmt(OX_DDL_DROP_TABLE, &dt, 1);
    ox_cat_apply(c, &ds);
    assert_null(ox_cat_find(c, "e", "v"));
    ox_ddl_target dd = target("d", NULL);
    ox_ddl_stmt dds = stmt(OX_DDL_DROP_DATABASE, &dd, 1);
    ox_cat_apply(c, &dds);
    assert_null(ox_cat_find(c, "d", "l"));
    assert_false(ox_cat_find_db(c, "d", NULL));
    ox_cat_free(c);
}

static void test_uncertain(void **state)
{
    ox_cat *c = ox_cat_create();
    create_dt(c);
    ox_ddl_target tt = target("d", "t");
    ox_ddl_alter al[1] = {alter(OX_ALTER_UNKNOWN)};
    ox_ddl_stmt s = stmt(OX_DDL_ALTER_TABLE, &tt, 1);
    s.alters = al;
    s.nalters = 1;
    assert_int_equal(ox_cat_apply(c, &s), OX_CAT_UNCERTAIN);
    assert_true(ox_cat_find(c, "d", "t")->uncertain);
    /* CREATE TABLE ... SELECT, and an unparsed ALTER. */
    ox_ddl_target st = target("d", "s");
    ox_ddl_stmt cs = stmt(OX_DDL_CREATE_TABLE, &st, 1);
    ox_ddl_coldef one = coldef("k", "int", NULL);
    cs.cols = &one;
    cs.ncols = 1;
    cs.as_select = true;
    assert_int_equal(ox_cat_apply(c, &cs), OX_CAT_UNCERTAIN);
    assert_true(ox_cat_find(c, "d", "s")->uncertain);
    ox_ddl_target xt = target("d", "x");
    ox_ddl_stmt xs = stmt(OX_DDL_ALTER_TABLE, &xt, 1);
    xs.parsed = false;
    assert_int_equal(ox_cat_apply(c, &xs), OX_CAT_UNCERTAIN);
    assert_true(ox_cat_find(c, "d", "x")->uncertain);
    /* A CREATE TABLE replaces the uncertain entry with a certain one. */
    ox_ddl_target dt = target("d", "x");
    ox_ddl_stmt ds = stmt(OX_DDL_DROP_TABLE, &dt, 1);
    ox_cat_apply(c, &ds);
    ox_ddl_stmt cx = stmt(OX_DDL_CREATE_TABLE, &dt, 1);
    cx.cols = &one;
    cx.ncols = 1;
    assert_int_equal(ox_cat_apply(c, &cx), OX_CAT_APPLIED);
    assert_false(ox_cat_find(c, "d", "x")->uncertain);
    ox_cat_free(c);
}

static void test_members(void **state)
{
    char **m = NULL;
    uint32_t n = ox_mysql_schema_members("enum('a','it''s','','x,y')", &m);
    assert_int_equal(n, 4);
    assert_string_equal(m[0], "a");
    assert_string_equal(m[1], "it's");
    assert_string_equal(m[2], "");
    assert_string_equal(m[3], "x,y");
    for (uint32_t i = 0; i < n; i++)
        free(m[i]);
    free(m);
    assert_int_equal(ox_mysql_schema_members("int(11)", &m), 0);
}

/* ---- statements read by the DDL reader ---- */

static void run_sql(ox_cat *c, const char *db, const char *sql, int want)
{
    ox_ddl_stmt *s = NULL;
    assert_int_equal(ox_mysql_ddl_parse(sql, strlen(sql), db, 0, &s), 0);
    int eff = ox_cat_apply(c, s);
    if (eff != want)
        fail_msg("%s: effect %d, want %d", sql, eff, want);
    ox_mysql_ddl_free(s);
}

static void test_with_reader(void **state)
{
    ox_cat *c = ox_cat_create();
    ox_cat_set_server_charset(c, "utf8mb4");
    run_sql(c, NULL, "CREATE DATABASE `w` DEFAULT CHARACTER SET latin1", OX_CAT_APPLIED);
    run_sql(c, "w",
            "CREATE TABLE t (a INT NOT NULL, b VARCHAR(10), e ENUM('x','y''s') CHARACTER SET "
            "utf8mb4, s SET('p','q'), v VARBINARY(3), PRIMARY KEY (b, a)) ENGINE=InnoDB",
            OX_CAT_APPLIED);
    const ox_cat_table *t = ox_cat_find(c, "w", "t");
    const char *n1[] = {"a", "b", "e", "s", "v"};
    assert_cols(t, n1, 5);
    assert_string_equal(t->cols[1].charset, "latin1");
    assert_string_equal(t->cols[2].charset, "utf8mb4");
    assert_string_equal(t->cols[2].members[1], "y's");
    assert_string_equal(t->cols[4].charset, "binary");
    uint32_t pk[8];
    assert_int_equal(ox_cat_table_pk(t, pk), 2);
    assert_int_equal(pk[0], 1);
    assert_int_equal(pk[1], 0);
    run_sql(c, "w",
            "ALTER TABLE t ADD COLUMN f INT FIRST, CHANGE COLUMN b bb VARCHAR(20) AFTER s, "
            "RENAME COLUMN v TO vv, ADD INDEX (a), MODIFY e ENUM('x','y''s','z')",
            OX_CAT_APPLIED);
    t = ox_cat_find(c, "w", "t");
    const char *n2[] = {"f", "a", "e", "s", "bb", "vv"};
    assert_cols(t, n2, 6);
    assert_int_equal(t->cols[2].nmembers, 3);
    run_sql(c, "w", "ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4", OX_CAT_APPLIED);
    assert_string_equal(ox_cat_find(c, "w", "t")->cols[4].charset, "utf8mb4");
    run_sql(c, "w", "RENAME TABLE t TO u, u TO w.t2", OX_CAT_APPLIED);
    assert_non_null(ox_cat_find(c, "w", "t2"));
    run_sql(c, "w", "ALTER DATABASE w CHARACTER SET utf8mb3", OX_CAT_APPLIED);
    run_sql(c, "w", "CREATE TABLE n (x TEXT)", OX_CAT_APPLIED);
    assert_string_equal(ox_cat_find(c, "w", "n")->cols[0].charset, "utf8mb3");
    run_sql(c, "w", "DROP TABLE `t2` /* generated by server */", OX_CAT_APPLIED);
    assert_null(ox_cat_find(c, "w", "t2"));
    run_sql(c, "w", "INSERT INTO n VALUES ('a')", OX_CAT_NONE);
    /* IF [NOT] EXISTS clauses that found nothing to do. */
    run_sql(c, "w", "ALTER TABLE n ADD COLUMN IF NOT EXISTS x INT, DROP COLUMN IF EXISTS zz",
            OX_CAT_APPLIED);
    const char *n3[] = {"x"};
    assert_cols(ox_cat_find(c, "w", "n"), n3, 1);
    ox_cat_free(c);
}

/* MariaDB system versioning adds hidden row_start/row_end columns that the
 * binlog carries: the catalog flags the table (an UNKNOWN clause, not a
 * column count that happens to differ), other tables keep their columns. */
static void test_system_versioning(void **state)
{
    (void)state;
    ox_cat *c = ox_cat_create();
    ox_cat_set_server_charset(c, "utf8mb4");
    run_sql(c, NULL, "CREATE DATABASE w", OX_CAT_APPLIED);
    run_sql(c, "w", "CREATE TABLE a (id INT PRIMARY KEY, x INT)", OX_CAT_APPLIED);
    run_sql(c, "w", "CREATE TABLE b (id INT PRIMARY KEY, x INT)", OX_CAT_APPLIED);
    run_sql(c, "w", "ALTER TABLE a ADD SYSTEM VERSIONING", OX_CAT_UNCERTAIN);
    assert_true(ox_cat_find(c, "w", "a")->uncertain);
    assert_false(ox_cat_find(c, "w", "b")->uncertain);
    run_sql(c, "w", "ALTER TABLE b DROP SYSTEM VERSIONING", OX_CAT_UNCERTAIN);
    run_sql(c, "w", "CREATE TABLE v (id INT PRIMARY KEY, x INT) WITH SYSTEM VERSIONING",
            OX_CAT_UNCERTAIN);
    run_sql(c, "w",
            "CREATE TABLE v2 (id INT PRIMARY KEY, rs TIMESTAMP(6) GENERATED ALWAYS AS ROW START, "
            "re TIMESTAMP(6) GENERATED ALWAYS AS ROW END, PERIOD FOR SYSTEM_TIME(rs, re)) "
            "ENGINE=InnoDB WITH SYSTEM VERSIONING",
            OX_CAT_UNCERTAIN);
    run_sql(c, "w", "CREATE TABLE vc (id INT PRIMARY KEY, x INT WITH SYSTEM VERSIONING)",
            OX_CAT_UNCERTAIN);
    run_sql(c, "w", "CREATE TABLE m (id INT PRIMARY KEY, x INT)", OX_CAT_APPLIED);
    run_sql(c, "w", "ALTER TABLE m MODIFY x INT WITH SYSTEM VERSIONING", OX_CAT_UNCERTAIN);
    /* A column WITHOUT SYSTEM VERSIONING, and periods alone, change nothing
     * hidden. */
    run_sql(c, "w", "CREATE TABLE n (id INT PRIMARY KEY, x INT WITHOUT SYSTEM VERSIONING)",
            OX_CAT_APPLIED);
    run_sql(c, "w",
            "CREATE TABLE p (id INT, s DATE, e DATE, PERIOD FOR app(s, e), PRIMARY KEY (id))",
            OX_CAT_APPLIED);
    run_sql(c, "w", "ALTER TABLE p DROP PERIOD FOR app", OX_CAT_APPLIED);
    const char *np[] = {"id", "s", "e"};
    assert_cols(ox_cat_find(c, "w", "p"), np, 3);
    /* INET6/INET4/UUID are BINARY(n) in the binlog: charset binary, and the
     * type is kept for the decoder. */
    run_sql(c, "w", "CREATE TABLE f (id INT PRIMARY KEY, i INET6, u UUID, i4 INET4)",
            OX_CAT_APPLIED);
    const ox_cat_table *f = ox_cat_find(c, "w", "f");
    assert_string_equal(f->cols[1].type, "inet6");
    assert_string_equal(f->cols[1].charset, "binary");
    assert_string_equal(f->cols[2].type, "uuid");
    assert_string_equal(f->cols[2].charset, "binary");
    assert_string_equal(f->cols[3].type, "inet4");
    assert_false(f->cols[3].is_text);
    ox_cat_free(c);
}

/* ---- the decoder with a catalog (as the source wires it) ---- */

#define DATA OX_SOURCE_DIR "/tests/data/binlog/"

typedef struct dec_ctx {
    ox_cat *cat;
    ox_buf out;
    ox_binlog_colinfo ci[64];
    uint32_t pk[64];
} dec_ctx;

static int dec_schema(void *arg, const char *db, const char *table, ox_binlog_tableinfo *info)
{
    dec_ctx *k = arg;
    const ox_cat_table *t = ox_cat_find(k->cat, db, table);
    if (!t || t->uncertain || t->ncols > 64)
        return OX_ENOENT;
    for (uint32_t i = 0; i < t->ncols; i++)
        k->ci[i] = (ox_binlog_colinfo){.name = t->cols[i].name,
                                       .charset = t->cols[i].charset,
                                       .is_unsigned = t->cols[i].is_unsigned,
                                       .nmembers = t->cols[i].nmembers,
                                       .members = t->cols[i].members};
    info->ncols = t->ncols;
    info->cols = k->ci;
    info->npk = ox_cat_table_pk(t, k->pk);
    info->pk = k->pk;
    return 0;
}

static int dec_change(void *arg, const ox_change *c)
{
    dec_ctx *k = arg;
    if (c->op == OX_OP_DDL && c->ddl_stmt)
        ox_cat_apply(k->cat, c->ddl_stmt);
    ox_render_json(NULL, c, &k->out);
    ox_buf_putc(&k->out, '\n');
    return 0;
}

/* MySQL 5.7 writes no row metadata at all: names, key, ENUM/SET names and
 * binary vs text come from the DDL in the same binlog. The server ran with
 * lower_case_table_names=1 (rows name `mysqlcdc`, the DDL `MySqlCdc`). */
static void test_decoder_minimal(void **state)
{
    dec_ctx k;
    memset(&k, 0, sizeof k);
    k.cat = ox_cat_create();
    ox_binlog_decoder *d = NULL;
    assert_int_equal(ox_binlog_decoder_create(&d), 0);
    ox_binlog_decoder_set_schema_fn(d, dec_schema, &k);
    ox_errbuf eb;
    assert_int_equal(
        ox_binlog_decode_file(d, DATA "mysql57-23-all-types.binlog", dec_change, &k, &eb), 0);
    ox_binlog_stats st;
    ox_binlog_decoder_stats(d, &st);
    assert_int_equal(st.schema_unknown, 0);
    ox_binlog_decoder_free(d);
    ox_buf_putc(&k.out, '\0');
    const char *t = (const char *)k.out.data;
    if (!strstr(t, "\"pk\":[\"Id\"],\"after\":{\"Id\":11,\"TinyColumn\":121,") ||
        !strstr(t, "\"VarstringColumn\":{\"base64\":\"EjRWRTRFRTQ=\"}") ||
        !strstr(t, "\"EnumColumn\":\"Medium\",\"SetColumn\":\"Red\"") || strstr(t, "\"@1\""))
        fail_msg("%s", t);
    ox_buf_free(&k.out);
    ox_cat_free(k.cat);
}

/* ---- the history ---- */

static char dir[256];
static char sdir[300];

static int setup(void **state)
{
    ltu_mkdtemp(dir, "hist");
    snprintf(sdir, sizeof sdir, "%s/schema", dir);
    return 0;
}

static int teardown(void **state)
{
    ltu_rmrf(dir);
    return 0;
}

/* ALTER TABLE d.t ADD COLUMN <name> INT */
static void add_col(ox_schema_hist *h, uint64_t fi, uint64_t off, const char *name)
{
    ox_ddl_target tt = target("d", "t");
    ox_ddl_alter al = alter(OX_ALTER_ADD_COLUMN);
    al.def = coldef(name, "int", NULL);
    ox_ddl_stmt s = stmt(OX_DDL_ALTER_TABLE, &tt, 1);
    s.alters = &al;
    s.nalters = 1;
    ox_errbuf eb;
    assert_int_equal(ox_schema_hist_apply(h, fi, off, &s, NULL, &eb), 0);
}

static ox_schema_hist *open_at(uint64_t fi, uint64_t off)
{
    ox_schema_hist *h = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_schema_hist_open(sdir, OX_DURABLE_NOSYNC, &h, &eb), 0);
    assert_int_equal(ox_schema_hist_start(h, fi, off, &eb), 0);
    return h;
}

static uint32_t ncols_of(ox_schema_hist *h)
{
    const ox_cat_table *t = ox_cat_find(ox_schema_hist_catalog(h), "d", "t");
    return t ? t->ncols : 0;
}

/* A fresh history with a snapshot of create_dt() at 1:4. */
static void make_history(void)
{
    ox_schema_hist *h = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_schema_hist_open(sdir, OX_DURABLE_NOSYNC, &h, &eb), 0);
    assert_true(ox_schema_hist_empty(h));
    ox_cat *c = ox_cat_create();
    ox_cat_set_server_charset(c, "utf8mb4");
    create_dt(c);
    assert_int_equal(ox_schema_hist_snapshot(h, 1, 4, c, &eb), 0);
    assert_false(ox_schema_hist_empty(h));
    ox_schema_hist_close(h);
}

static long file_size(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 ? (long)st.st_size : -1;
}

static void test_hist_positions(void **state)
{
    make_history();
    ox_schema_hist *h = open_at(1, 4);
    assert_int_equal(ncols_of(h), 4);
    add_col(h, 1, 100, "c5");
    add_col(h, 1, 200, "c6");
    add_col(h, 2, 50, "c7");
    assert_int_equal(ncols_of(h), 7);
    assert_int_equal(ox_schema_hist_records(h), 4);
    ox_schema_hist_close(h);

    /* Read only (oxbow schema): the state at 1:200, the file untouched. */
    char path[400];
    snprintf(path, sizeof path, "%s/history", sdir);
    long before = file_size(path);
    ox_schema_hist *ro = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_schema_hist_open(sdir, OX_SCHEMA_HIST_RDONLY, &ro, &eb), 0);
    assert_int_equal(ox_schema_hist_start(ro, 1, 200, &eb), 0);
    assert_int_equal(ncols_of(ro), 5);
    ox_ddl_target tt = target("d", "t");
    ox_ddl_stmt ds = stmt(OX_DDL_DROP_TABLE, &tt, 1);
    assert_int_not_equal(ox_schema_hist_apply(ro, 3, 0, &ds, NULL, &eb), 0);
    ox_schema_hist_close(ro);
    assert_int_equal(file_size(path), before);

    /* Restart after 1:100 but before 1:200: the later versions are gone. */
    h = open_at(1, 200);
    assert_int_equal(ncols_of(h), 5);
    assert_int_equal(ox_schema_hist_records(h), 2);
    /* The stream delivers a different DDL at 1:200 this time. */
    add_col(h, 1, 200, "other");
    ox_schema_hist_close(h);

    h = open_at(9, 0);
    assert_int_equal(ncols_of(h), 6);
    const ox_cat_table *t = ox_cat_find(ox_schema_hist_catalog(h), "d", "t");
    assert_string_equal(t->cols[5].name, "other");
    assert_string_equal(t->cols[1].charset, "latin1");
    assert_string_equal(ox_cat_server_charset(ox_schema_hist_catalog(h)), "utf8mb4");
    ox_schema_hist_close(h);

    /* Before the snapshot: the snapshot is all there is. */
    h = open_at(0, 0);
    assert_int_equal(ncols_of(h), 4);
    ox_schema_hist_close(h);
}

static void test_hist_drop_db_persists(void **state)
{
    make_history();
    ox_schema_hist *h = open_at(1, 4);
    ox_ddl_target dd = target("d", NULL);
    ox_ddl_stmt s = stmt(OX_DDL_DROP_DATABASE, &dd, 1);
    ox_errbuf eb;
    assert_int_equal(ox_schema_hist_apply(h, 1, 10, &s, NULL, &eb), 0);
    ox_schema_hist_close(h);
    h = open_at(1, 11);
    assert_null(ox_cat_find(ox_schema_hist_catalog(h), "d", "t"));
    assert_false(ox_cat_find_db(ox_schema_hist_catalog(h), "d", NULL));
    ox_schema_hist_close(h);
}

static void test_hist_compaction(void **state)
{
    make_history();
    ox_schema_hist *h = open_at(1, 4);
    char name[32];
    for (int i = 0; i < OX_SCHEMA_HIST_COMPACT + 10; i++) {
        snprintf(name, sizeof name, "k%d", i);
        add_col(h, 1, 100 + (uint64_t)i, name);
    }
    ox_schema_hist_close(h);
    h = open_at(1, 100000);
    assert_int_equal(ncols_of(h), 4 + OX_SCHEMA_HIST_COMPACT + 10);
    assert_int_equal(ox_schema_hist_records(h), 1);
    ox_schema_hist_close(h);
    h = open_at(1, 100000);
    assert_int_equal(ncols_of(h), 4 + OX_SCHEMA_HIST_COMPACT + 10);
    ox_schema_hist_close(h);
}

static void flip_byte(const char *p, long off)
{
    int fd = open(p, O_RDWR);
    uint8_t b;
    assert_int_equal(pread(fd, &b, 1, off), 1);
    b ^= 0x40;
    assert_int_equal(pwrite(fd, &b, 1, off), 1);
    close(fd);
}

static void test_hist_corruption(void **state)
{
    make_history();
    ox_schema_hist *h = open_at(1, 4);
    add_col(h, 1, 100, "c5");
    add_col(h, 1, 200, "c6");
    ox_schema_hist_close(h);
    char path[400];
    snprintf(path, sizeof path, "%s/history", sdir);
    long size = file_size(path);

    /* A torn last record (crash while appending) is cut off. */
    assert_int_equal(truncate(path, size - 3), 0);
    h = open_at(9, 0);
    assert_int_equal(ncols_of(h), 5);
    ox_schema_hist_close(h);
    assert_true(file_size(path) < size - 3);

    /* A bad CRC in a record that is not the last: corrupt, never guessed. */
    flip_byte(path, 16 + 8 + 30);
    ox_schema_hist *bad = NULL;
    ox_errbuf eb;
    assert_int_equal(ox_schema_hist_open(sdir, OX_DURABLE_NOSYNC, &bad, &eb), OX_ECORRUPT);
    assert_null(bad);
    assert_non_null(strstr(eb.msg, "checksum"));
    flip_byte(path, 16 + 8 + 30);

    /* A bad header. */
    flip_byte(path, 2);
    assert_int_equal(ox_schema_hist_open(sdir, OX_DURABLE_NOSYNC, &bad, &eb), OX_ECORRUPT);
    flip_byte(path, 2);
    h = open_at(9, 0);
    assert_int_equal(ncols_of(h), 5);
    ox_schema_hist_close(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_alter_sequence),
        cmocka_unit_test(test_rename_drop),
        cmocka_unit_test(test_uncertain),
        cmocka_unit_test(test_members),
        cmocka_unit_test(test_with_reader),
        cmocka_unit_test(test_system_versioning),
        cmocka_unit_test(test_decoder_minimal),
        cmocka_unit_test_setup_teardown(test_hist_positions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hist_drop_db_persists, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hist_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hist_corruption, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
