/* test_mysql_ddl.c - the DDL reader: kinds, targets, column definitions,
 * ALTER TABLE clauses, comments, account statements, malformed input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ox_mysql_ddl.h"

static ox_ddl_stmt *P(const char *sql, const char *db)
{
    ox_ddl_stmt *s = NULL;
    assert_int_equal(ox_mysql_ddl_parse(sql, strlen(sql), db, 0, &s), 0);
    assert_non_null(s);
    return s;
}

static ox_ddl_stmt *PF(const char *sql, const char *db, unsigned flags)
{
    ox_ddl_stmt *s = NULL;
    assert_int_equal(ox_mysql_ddl_parse(sql, strlen(sql), db, flags, &s), 0);
    return s;
}

static void str_eq(const char *got, const char *want)
{
    if (want == NULL) {
        if (got != NULL)
            fail_msg("expected NULL, got \"%s\"", got);
        return;
    }
    if (got == NULL)
        fail_msg("expected \"%s\", got NULL", want);
    assert_string_equal(got, want);
}

static void target_eq(const ox_ddl_stmt *s, uint32_t i, const char *db, const char *table,
                      const char *new_db, const char *new_table)
{
    assert_true(i < s->ntargets);
    str_eq(s->targets[i].db, db);
    str_eq(s->targets[i].table, table);
    str_eq(s->targets[i].new_db, new_db);
    str_eq(s->targets[i].new_table, new_table);
}

static void test_create_table_columns(void **state)
{
    ox_ddl_stmt *s = P(
        "CREATE TABLE IF NOT EXISTS `shop`.`t` (\n"
        "  `id` int(11) unsigned NOT NULL AUTO_INCREMENT,\n"
        "  name VARCHAR(64) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin DEFAULT 'x' COMMENT 'a, "
        "(b)',\n"
        "  price DECIMAL(10,2) UNSIGNED ZEROFILL NULL DEFAULT -1.5,\n"
        "  st ENUM('a','it''s','b\\'c','x,y') NOT NULL DEFAULT 'a',\n"
        "  flags SET('r', 'w') DEFAULT NULL,\n"
        "  c CHAR(3) BINARY,\n"
        "  d DOUBLE PRECISION,\n"
        "  g INT AS (id + 1) VIRTUAL,\n"
        "  h INT GENERATED ALWAYS AS ((id * 2)) STORED,\n"
        "  ts TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6) ON UPDATE CURRENT_TIMESTAMP(6),\n"
        "  j JSON DEFAULT (json_object()),\n"
        "  geo POINT NOT NULL SRID 0,\n"
        "  b BOOLEAN, n NATIONAL VARCHAR(5), l LONG VARBINARY, ser SERIAL,\n"
        "  `we``ird` TEXT ASCII,\n"
        "  PRIMARY KEY (`id`, name(10)),\n"
        "  UNIQUE KEY uk (name), KEY k1 (price) USING BTREE, FULLTEXT INDEX ft (name),\n"
        "  CONSTRAINT fk FOREIGN KEY (id) REFERENCES o (id) ON DELETE SET NULL,\n"
        "  CONSTRAINT ck CHECK (price > 0), CHECK (id <> 0)\n"
        ") ENGINE=InnoDB AUTO_INCREMENT=5 DEFAULT CHARSET=latin1 COLLATE=latin1_swedish_ci "
        "COMMENT='t, (1)'\n"
        "/*!50100 PARTITION BY HASH (id) PARTITIONS 4 */",
        "other");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_CREATE_TABLE);
    assert_true(s->if_not_exists);
    assert_int_equal(s->ntargets, 1);
    target_eq(s, 0, "shop", "t", NULL, NULL);
    assert_int_equal(s->ncols, 17);
    ox_ddl_coldef *c = s->cols;
    str_eq(c[0].name, "id");
    str_eq(c[0].type, "int");
    str_eq(c[0].type_text, "int(11) unsigned");
    assert_true(c[0].is_unsigned && c[0].not_null && !c[0].primary_key);
    str_eq(c[1].name, "name");
    str_eq(c[1].type, "varchar");
    str_eq(c[1].charset, "utf8mb4");
    str_eq(c[1].collate, "utf8mb4_bin");
    assert_false(c[1].not_null);
    str_eq(c[2].type, "decimal");
    str_eq(c[2].type_text, "decimal(10,2) unsigned zerofill");
    assert_true(c[2].is_unsigned);
    str_eq(c[3].type, "enum");
    assert_int_equal(c[3].nmembers, 4);
    str_eq(c[3].members[0], "a");
    str_eq(c[3].members[1], "it's");
    str_eq(c[3].members[2], "b'c");
    str_eq(c[3].members[3], "x,y");
    str_eq(c[3].type_text, "enum('a','it''s','b\\'c','x,y')");
    assert_true(c[3].not_null);
    str_eq(c[4].type, "set");
    assert_int_equal(c[4].nmembers, 2);
    str_eq(c[4].members[1], "w");
    str_eq(c[5].type, "char");
    assert_true(c[5].binary_attr);
    str_eq(c[6].type, "double");
    str_eq(c[6].type_text, "double precision");
    str_eq(c[7].name, "g");
    str_eq(c[8].name, "h");
    str_eq(c[9].type, "timestamp");
    assert_true(c[9].not_null);
    str_eq(c[10].type, "json");
    str_eq(c[11].type, "point");
    str_eq(c[12].type, "tinyint");
    str_eq(c[13].type, "varchar");
    str_eq(c[13].charset, "utf8mb3");
    str_eq(c[14].type, "mediumblob");
    str_eq(c[15].type, "bigint");
    assert_true(c[15].is_unsigned && c[15].not_null);
    str_eq(c[16].name, "we`ird");
    str_eq(c[16].charset, "latin1");
    str_eq(c[12].name, "b");
    ox_mysql_ddl_free(s);
}

static void test_create_table_order_and_pk(void **state)
{
    ox_ddl_stmt *s = P("create table t (a int primary key, b int, c int key)", "d");
    assert_true(s->parsed);
    target_eq(s, 0, "d", "t", NULL, NULL);
    assert_int_equal(s->ncols, 3);
    assert_true(s->cols[0].primary_key);
    assert_int_equal(s->npk, 2);
    str_eq(s->pk[0], "a");
    str_eq(s->pk[1], "c");
    ox_mysql_ddl_free(s);

    s = P("CREATE TEMPORARY TABLE x.y (a INT, b VARCHAR(3), PRIMARY KEY USING BTREE (b, a))", NULL);
    assert_true(s->parsed && s->temporary);
    target_eq(s, 0, "x", "y", NULL, NULL);
    assert_int_equal(s->npk, 2);
    str_eq(s->pk[0], "b");
    str_eq(s->pk[1], "a");
    ox_mysql_ddl_free(s);

    s = P("CREATE TABLE t (a int, b int, CONSTRAINT pk PRIMARY KEY (a(10) DESC, b))", NULL);
    assert_true(s->parsed);
    target_eq(s, 0, NULL, "t", NULL, NULL);
    assert_int_equal(s->npk, 2);
    ox_mysql_ddl_free(s);
}

static void test_create_table_like_select(void **state)
{
    ox_ddl_stmt *s = P("CREATE TABLE t2 LIKE shop.t1", "d");
    assert_true(s->parsed);
    target_eq(s, 0, "d", "t2", NULL, NULL);
    str_eq(s->like_db, "shop");
    str_eq(s->like_table, "t1");
    ox_mysql_ddl_free(s);

    s = P("CREATE TABLE t2 (LIKE t1)", "d");
    assert_true(s->parsed);
    str_eq(s->like_db, "d");
    str_eq(s->like_table, "t1");
    ox_mysql_ddl_free(s);

    s = P("CREATE TABLE t3 (x INT) ENGINE=InnoDB AS SELECT a, b FROM t1", "d");
    assert_true(s->parsed && s->as_select);
    assert_int_equal(s->ncols, 1);
    ox_mysql_ddl_free(s);

    s = P("CREATE TABLE t3 SELECT 1 AS a", "d");
    assert_true(s->parsed && s->as_select);
    ox_mysql_ddl_free(s);

    s = P("CREATE OR REPLACE TABLE t4 (a INT) WITH SYSTEM VERSIONING", "d");
    assert_true(s->parsed);
    assert_false(s->as_select);
    ox_mysql_ddl_free(s);

    s = P("CREATE TABLE p (a INT) PARTITION BY RANGE (a) (PARTITION p0 VALUES LESS THAN (10), "
          "PARTITION p1 VALUES LESS THAN MAXVALUE) DEFAULT CHARSET utf8mb4",
          "d");
    assert_true(s->parsed);
    str_eq(s->charset, "utf8mb4");
    ox_mysql_ddl_free(s);
}

static void test_alter_table(void **state)
{
    ox_ddl_stmt *s =
        P("ALTER TABLE t ADD COLUMN g INT NOT NULL DEFAULT 0 AFTER b, ADD h VARCHAR(3) FIRST, "
          "ADD COLUMN (i INT, j INT), DROP COLUMN IF EXISTS k, DROP l, "
          "CHANGE m mm BIGINT UNSIGNED AFTER a, MODIFY COLUMN n TEXT CHARACTER SET latin1, "
          "RENAME COLUMN o TO oo, ADD PRIMARY KEY (a, b), DROP PRIMARY KEY, "
          "CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin, DEFAULT CHARACTER SET = latin1, "
          "ADD INDEX ix (a), ADD UNIQUE KEY (b), ADD FULLTEXT (n), "
          "ADD CONSTRAINT fk FOREIGN KEY (a) REFERENCES x (a), ALTER COLUMN a SET DEFAULT 3, "
          "ALTER b DROP DEFAULT, ENGINE=InnoDB, ALGORITHM=INPLACE, LOCK=NONE, FORCE, "
          "RENAME TO u",
          "d");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_ALTER_TABLE);
    target_eq(s, 0, "d", "t", "d", "u");
    int want[] = {OX_ALTER_ADD_COLUMN,       OX_ALTER_ADD_COLUMN,       OX_ALTER_ADD_COLUMN,
                  OX_ALTER_ADD_COLUMN,       OX_ALTER_DROP_COLUMN,      OX_ALTER_DROP_COLUMN,
                  OX_ALTER_CHANGE_COLUMN,    OX_ALTER_MODIFY_COLUMN,    OX_ALTER_RENAME_COLUMN,
                  OX_ALTER_ADD_PRIMARY_KEY,  OX_ALTER_DROP_PRIMARY_KEY, OX_ALTER_CONVERT_CHARSET,
                  OX_ALTER_DEFAULT_CHARSET,  OX_ALTER_NO_COLUMN_EFFECT, OX_ALTER_NO_COLUMN_EFFECT,
                  OX_ALTER_NO_COLUMN_EFFECT, OX_ALTER_NO_COLUMN_EFFECT, OX_ALTER_NO_COLUMN_EFFECT,
                  OX_ALTER_NO_COLUMN_EFFECT, OX_ALTER_NO_COLUMN_EFFECT, OX_ALTER_NO_COLUMN_EFFECT,
                  OX_ALTER_NO_COLUMN_EFFECT, OX_ALTER_NO_COLUMN_EFFECT, OX_ALTER_RENAME_TABLE};
    assert_int_equal(s->nalters, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < s->nalters; i++)
        if (s->alters[i].op != want[i])
            fail_msg("clause %zu: op %d, want %d", i, s->alters[i].op, want[i]);
    ox_ddl_alter *a = s->alters;
    str_eq(a[0].def.name, "g");
    str_eq(a[0].def.type, "int");
    assert_true(a[0].def.not_null);
    assert_int_equal(a[0].place, OX_DDL_PLACE_AFTER);
    str_eq(a[0].after, "b");
    str_eq(a[1].def.name, "h");
    assert_int_equal(a[1].place, OX_DDL_PLACE_FIRST);
    str_eq(a[2].def.name, "i");
    str_eq(a[3].def.name, "j");
    assert_int_equal(a[3].place, OX_DDL_PLACE_DEFAULT);
    str_eq(a[4].column, "k");
    str_eq(a[5].column, "l");
    str_eq(a[6].column, "m");
    str_eq(a[6].def.name, "mm");
    str_eq(a[6].def.type, "bigint");
    assert_true(a[6].def.is_unsigned);
    str_eq(a[6].after, "a");
    str_eq(a[7].def.name, "n");
    str_eq(a[7].def.charset, "latin1");
    str_eq(a[8].column, "o");
    str_eq(a[8].new_name, "oo");
    assert_int_equal(a[9].nkeycols, 2);
    str_eq(a[9].keycols[1], "b");
    str_eq(a[11].charset, "utf8mb4");
    str_eq(a[11].collate, "utf8mb4_bin");
    str_eq(a[12].charset, "latin1");
    ox_mysql_ddl_free(s);
}

static void test_alter_table_misc(void **state)
{
    ox_ddl_stmt *s = P("ALTER ONLINE IGNORE TABLE IF EXISTS db1.t ENGINE=InnoDB DEFAULT "
                       "CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci",
                       NULL);
    assert_true(s->parsed);
    target_eq(s, 0, "db1", "t", NULL, NULL);
    assert_int_equal(s->nalters, 1);
    assert_int_equal(s->alters[0].op, OX_ALTER_DEFAULT_CHARSET);
    str_eq(s->alters[0].charset, "utf8mb4");
    str_eq(s->alters[0].collate, "utf8mb4_general_ci");
    ox_mysql_ddl_free(s);

    s = P("ALTER TABLE t DROP PARTITION p0, p1", "d");
    assert_true(s->parsed);
    ox_mysql_ddl_free(s);

    s = P("ALTER TABLE t ADD COLUMN x INT, ORDER BY a, b DESC", "d");
    assert_true(s->parsed);
    assert_int_equal(s->nalters, 2);
    ox_mysql_ddl_free(s);

    s = P("ALTER TABLE t RENAME other.u", "d");
    assert_true(s->parsed);
    target_eq(s, 0, "d", "t", "other", "u");
    ox_mysql_ddl_free(s);

    s = P("ALTER TABLE t FROBNICATE x, ADD COLUMN y INT", "d");
    assert_false(s->parsed);
    assert_int_equal(s->kind, OX_DDL_ALTER_TABLE);
    target_eq(s, 0, "d", "t", NULL, NULL);
    assert_int_equal(s->alters[0].op, OX_ALTER_UNKNOWN);
    assert_int_equal(s->alters[1].op, OX_ALTER_ADD_COLUMN);
    ox_mysql_ddl_free(s);

    /* MariaDB system versioning: understood, column effect not modelled. */
    s = P("ALTER TABLE t ADD COLUMN z INT, ADD SYSTEM VERSIONING", "d");
    assert_true(s->parsed);
    assert_int_equal(s->nalters, 2);
    assert_int_equal(s->alters[0].op, OX_ALTER_ADD_COLUMN);
    assert_int_equal(s->alters[1].op, OX_ALTER_UNKNOWN);
    ox_mysql_ddl_free(s);
    s = P("ALTER TABLE t DROP SYSTEM VERSIONING", "d");
    assert_true(s->parsed);
    assert_int_equal(s->alters[0].op, OX_ALTER_UNKNOWN);
    ox_mysql_ddl_free(s);
    s = P("ALTER TABLE t ADD PERIOD FOR SYSTEM_TIME(s, e), DROP PERIOD FOR p", "d");
    assert_true(s->parsed);
    assert_int_equal(s->alters[0].op, OX_ALTER_NO_COLUMN_EFFECT);
    assert_int_equal(s->alters[1].op, OX_ALTER_NO_COLUMN_EFFECT);
    ox_mysql_ddl_free(s);
    s = P("CREATE TABLE v (id INT PRIMARY KEY, x INT WITHOUT SYSTEM VERSIONING) ENGINE=InnoDB "
          "WITH SYSTEM VERSIONING PARTITION BY SYSTEM_TIME",
          "d");
    assert_true(s->parsed);
    assert_true(s->sys_versioning);
    assert_false(s->as_select);
    assert_int_equal(s->ncols, 2);
    ox_mysql_ddl_free(s);
    /* A versioned column makes the table versioned (MariaDB 10.11). */
    s = P("CREATE TABLE v (id INT PRIMARY KEY, x INT WITH SYSTEM VERSIONING, y INT)", "d");
    assert_true(s->parsed);
    assert_true(s->sys_versioning);
    assert_int_equal(s->ncols, 3);
    ox_mysql_ddl_free(s);
    s = P("ALTER TABLE v MODIFY x INT WITH SYSTEM VERSIONING", "d");
    assert_true(s->parsed);
    assert_true(s->sys_versioning);
    assert_int_equal(s->alters[0].op, OX_ALTER_MODIFY_COLUMN);
    ox_mysql_ddl_free(s);
    s = P("ALTER TABLE v MODIFY x INT WITHOUT SYSTEM VERSIONING", "d");
    assert_true(s->parsed);
    assert_false(s->sys_versioning);
    ox_mysql_ddl_free(s);
}

static void test_other_table_statements(void **state)
{
    ox_ddl_stmt *s = P("RENAME TABLE a TO b, x.c TO y.d", "db");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_RENAME_TABLE);
    assert_int_equal(s->ntargets, 2);
    target_eq(s, 0, "db", "a", "db", "b");
    target_eq(s, 1, "x", "c", "y", "d");
    ox_mysql_ddl_free(s);

    s = P("DROP TEMPORARY TABLE IF EXISTS a, b.c /* generated by server */", NULL);
    assert_true(s->parsed && s->temporary && s->if_exists);
    assert_int_equal(s->kind, OX_DDL_DROP_TABLE);
    assert_int_equal(s->ntargets, 2);
    target_eq(s, 0, NULL, "a", NULL, NULL);
    target_eq(s, 1, "b", "c", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("TRUNCATE shop.t", "x");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_TRUNCATE_TABLE);
    target_eq(s, 0, "shop", "t", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("truncate table t;", "x");
    assert_true(s->parsed);
    target_eq(s, 0, "x", "t", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("CREATE UNIQUE INDEX ix USING BTREE ON s.t (a(3), b)", "x");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_CREATE_INDEX);
    target_eq(s, 0, "s", "t", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("DROP INDEX `ix` ON t ALGORITHM=INPLACE", "x");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_DROP_INDEX);
    target_eq(s, 0, "x", "t", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("CREATE OR REPLACE ALGORITHM=MERGE DEFINER=`root`@`localhost` SQL SECURITY DEFINER "
          "VIEW v1 (a) AS SELECT 1",
          "x");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_CREATE_VIEW);
    target_eq(s, 0, "x", "v1", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("/*!50001 CREATE ALGORITHM=UNDEFINED */ /*!50013 DEFINER='root'@'%' SQL SECURITY "
          "DEFINER */ /*!50001 VIEW `s`.`v` AS select 1 AS `1` */",
          NULL);
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_CREATE_VIEW);
    target_eq(s, 0, "s", "v", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("ALTER DEFINER=CURRENT_USER() VIEW v AS SELECT 2", "x");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_ALTER_VIEW);
    ox_mysql_ddl_free(s);

    s = P("DROP VIEW IF EXISTS v1, s.v2 CASCADE", "x");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_DROP_VIEW);
    assert_int_equal(s->ntargets, 2);
    target_eq(s, 1, "s", "v2", NULL, NULL);
    ox_mysql_ddl_free(s);
}

static void test_database_statements(void **state)
{
    ox_ddl_stmt *s = P("CREATE DATABASE IF NOT EXISTS `shop` DEFAULT CHARACTER SET utf8mb4 "
                       "COLLATE utf8mb4_bin",
                       "x");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_CREATE_DATABASE);
    target_eq(s, 0, "shop", NULL, NULL, NULL);
    str_eq(s->charset, "utf8mb4");
    str_eq(s->collate, "utf8mb4_bin");
    ox_mysql_ddl_free(s);

    s = P("ALTER SCHEMA CHARACTER SET = latin1", "cur");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_ALTER_DATABASE);
    target_eq(s, 0, "cur", NULL, NULL, NULL);
    str_eq(s->charset, "latin1");
    ox_mysql_ddl_free(s);

    s = P("DROP SCHEMA IF EXISTS shop", NULL);
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_DROP_DATABASE);
    target_eq(s, 0, "shop", NULL, NULL, NULL);
    ox_mysql_ddl_free(s);
}

static void test_comments_and_quotes(void **state)
{
    ox_ddl_stmt *s = P("# leading\n-- another\n/* c */ ALTER /*M!100301 ONLINE */ TABLE "
                       "`a``b`.\"t\" ADD c INT -- end",
                       NULL);
    assert_false(s->parsed); /* "t" is a string without ANSI_QUOTES */
    ox_mysql_ddl_free(s);

    s = PF("ALTER TABLE \"a\"\"b\".\"t\" ADD c INT", NULL, OX_DDL_ANSI_QUOTES);
    assert_true(s->parsed);
    target_eq(s, 0, "a\"b", "t", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("ALTER TABLE `a``b`.t ADD `c` INT COMMENT 'x\\'y', ADD d INT", NULL);
    assert_true(s->parsed);
    target_eq(s, 0, "a`b", "t", NULL, NULL);
    assert_int_equal(s->nalters, 2);
    ox_mysql_ddl_free(s);

    s = PF("CREATE TABLE t (e ENUM('a\\','b'))", NULL, OX_DDL_NO_BACKSLASH_ESCAPES);
    assert_true(s->parsed);
    assert_int_equal(s->cols[0].nmembers, 2);
    str_eq(s->cols[0].members[0], "a\\");
    ox_mysql_ddl_free(s);

    s = P("CREATE TABLE t (a INT /* unterminated", NULL);
    assert_false(s->parsed);
    assert_int_equal(s->kind, OX_DDL_CREATE_TABLE);
    ox_mysql_ddl_free(s);

    s = P("SET STATEMENT max_statement_time=60 FOR ALTER TABLE t ADD x INT", "d");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_ALTER_TABLE);
    target_eq(s, 0, "d", "t", NULL, NULL);
    ox_mysql_ddl_free(s);
}

static void test_account(void **state)
{
    static const char *const acc[] = {
        "CREATE USER 'ox'@'%' IDENTIFIED BY 'pw'",
        "create or replace user x IDENTIFIED BY 'pw'",
        "ALTER USER 'ox'@'%' IDENTIFIED BY 'pw'",
        "SET PASSWORD FOR 'ox'@'%' = PASSWORD('pw')",
        "GRANT ALL ON *.* TO 'ox'@'%' IDENTIFIED BY 'pw'",
        "REVOKE ALL ON *.* FROM x",
        "DROP USER x",
        "RENAME USER a TO b",
        "CREATE ROLE r",
        "SET DEFAULT ROLE r FOR x",
        "CREATE SERVER s FOREIGN DATA WRAPPER mysql OPTIONS (PASSWORD 'pw')",
        "ALTER SERVER s OPTIONS (PASSWORD 'pw')",
        "/*!80000 CREATE USER x IDENTIFIED BY 'pw' */",
        "  /* c */ grant select on t to x",
        "SET STATEMENT max_statement_time=1 FOR CREATE USER x IDENTIFIED BY 'pw'",
    };
    for (size_t i = 0; i < sizeof acc / sizeof acc[0]; i++) {
        if (!ox_mysql_ddl_is_account(acc[i], strlen(acc[i])))
            fail_msg("not an account statement: %s", acc[i]);
        ox_ddl_stmt *s = P(acc[i], "d");
        assert_int_equal(s->kind, OX_DDL_ACCOUNT);
        assert_int_equal(s->ntargets, 0);
        ox_mysql_ddl_free(s);
    }
    static const char *const not_acc[] = {"CREATE TABLE user (a int)", "SET @x = 1",
                                          "ALTER TABLE users ADD password INT", "", "GRANTS"};
    for (size_t i = 0; i < sizeof not_acc / sizeof not_acc[0]; i++)
        if (ox_mysql_ddl_is_account(not_acc[i], strlen(not_acc[i])))
            fail_msg("wrongly an account statement: %s", not_acc[i]);
    assert_false(ox_mysql_ddl_is_account(NULL, 0));
}

static void test_other_and_unparsed(void **state)
{
    ox_ddl_stmt *s = P("INSERT INTO t VALUES (1)", "d");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_OTHER);
    assert_int_equal(s->ntargets, 0);
    ox_mysql_ddl_free(s);

    s = P("CREATE FROB x", "d");
    assert_false(s->parsed);
    assert_int_equal(s->kind, OX_DDL_OTHER);
    ox_mysql_ddl_free(s);

    s = P("CREATE TABLE", "d");
    assert_false(s->parsed);
    assert_int_equal(s->kind, OX_DDL_CREATE_TABLE);
    ox_mysql_ddl_free(s);

    s = P("RENAME TABLE a TO", "d");
    assert_false(s->parsed);
    ox_mysql_ddl_free(s);

    s = P("\x01\x02 garbage", "d");
    assert_false(s->parsed);
    assert_int_equal(s->kind, OX_DDL_OTHER);
    ox_mysql_ddl_free(s);

    const char nul[] = "DROP TABLE `a\0b`";
    assert_int_equal(ox_mysql_ddl_parse(nul, sizeof nul - 1, NULL, 0, &s), 0);
    assert_false(s->parsed);
    ox_mysql_ddl_free(s);

    /* Not NUL-terminated: the reader stops at len. */
    assert_int_equal(ox_mysql_ddl_parse("DROP TABLE abcdef", 12, NULL, 0, &s), 0);
    assert_true(s->parsed);
    target_eq(s, 0, NULL, "a", NULL, NULL);
    ox_mysql_ddl_free(s);

    str_eq(ox_ddl_kind_name(OX_DDL_ALTER_TABLE), "alter_table");
    str_eq(ox_ddl_kind_name(OX_DDL_ACCOUNT), "account");
    str_eq(ox_ddl_kind_name(99), "other");
    ox_mysql_ddl_free(NULL);
}

static void test_other_objects(void **state)
{
    ox_ddl_stmt *s = P("CREATE DEFINER=`root`@`%` PROCEDURE shop.p() BEGIN SELECT 1; END", "d");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_OTHER);
    target_eq(s, 0, "shop", NULL, NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("DROP FUNCTION IF EXISTS f", "d");
    assert_true(s->parsed);
    target_eq(s, 0, "d", NULL, NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("CREATE OR REPLACE SEQUENCE IF NOT EXISTS s1 START WITH 1", "d");
    assert_true(s->parsed);
    assert_int_equal(s->kind, OX_DDL_OTHER);
    target_eq(s, 0, "d", "s1", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("DROP SEQUENCE a, x.b", "d");
    assert_int_equal(s->ntargets, 2);
    target_eq(s, 1, "x", "b", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("CREATE TRIGGER x.trg BEFORE INSERT ON t FOR EACH ROW SET NEW.a = 1", "d");
    assert_true(s->parsed);
    target_eq(s, 0, "x", "t", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("CREATE TRIGGER trg AFTER UPDATE ON y.t FOR EACH ROW SET @a = 1", "d");
    target_eq(s, 0, "y", "t", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("CREATE PACKAGE BODY pk AS BEGIN END", "d");
    assert_true(s->parsed);
    target_eq(s, 0, "d", NULL, NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("CREATE FUNCTION body RETURNS INTEGER SONAME 'x.so'", "d");
    target_eq(s, 0, "d", NULL, NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("ALTER TABLE p CONVERT PARTITION p0 TO TABLE q.arch", "d");
    assert_true(s->parsed);
    assert_int_equal(s->ntargets, 2);
    target_eq(s, 0, "d", "p", NULL, NULL);
    target_eq(s, 1, "q", "arch", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("ALTER TABLE p CONVERT TABLE arch TO PARTITION p0 VALUES LESS THAN (10)", "d");
    assert_true(s->parsed);
    target_eq(s, 1, "d", "arch", NULL, NULL);
    ox_mysql_ddl_free(s);

    s = P("CREATE TABLESPACE ts ADD DATAFILE 'x'", "d");
    assert_true(s->parsed);
    assert_int_equal(s->ntargets, 0);
    ox_mysql_ddl_free(s);
}

static void redact_eq(const char *in, const char *want)
{
    char *out = NULL;
    size_t n = 0;
    assert_int_equal(ox_mysql_ddl_redact(in, strlen(in), 0, &out, &n), 0);
    if (!want) {
        if (out)
            fail_msg("redacted \"%s\" to \"%s\"", in, out);
        return;
    }
    assert_non_null(out);
    assert_string_equal(out, want);
    assert_int_equal(n, strlen(want));
    free(out);
}

static void test_redact(void **state)
{
    redact_eq("CREATE TABLE f (id INT) ENGINE=FEDERATED "
              "CONNECTION='mysql://u:pw@h:3306/db/t' COMMENT 'c'",
              "CREATE TABLE f (id INT) ENGINE=FEDERATED CONNECTION='<redacted>' COMMENT 'c'");
    redact_eq("ALTER TABLE t CONNECTION = \"mysql://u:p\\\"w@h/d/t\", PASSWORD 'x'",
              "ALTER TABLE t CONNECTION = '<redacted>', PASSWORD '<redacted>'");
    redact_eq("/*!50000 CREATE TABLE t (a int) connection='x' */",
              "/*!50000 CREATE TABLE t (a int) connection='<redacted>' */");
    redact_eq("UPDATE u SET password = 'secret', name = 'n' WHERE x = PASSWORD('y')",
              "UPDATE u SET password = '<redacted>', name = 'n' WHERE x = PASSWORD('<redacted>')");
    redact_eq("CREATE TABLE t (password VARCHAR(10) COMMENT 'pw')", NULL);
    redact_eq("CREATE TABLE t (a INT) COMMENT 'CONNECTION=''x'''", NULL);
    redact_eq("", NULL);
    char *out = (char *)1;
    assert_int_equal(ox_mysql_ddl_redact(NULL, 0, 0, &out, NULL), 0);
    assert_null(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_table_columns),
        cmocka_unit_test(test_create_table_order_and_pk),
        cmocka_unit_test(test_create_table_like_select),
        cmocka_unit_test(test_alter_table),
        cmocka_unit_test(test_alter_table_misc),
        cmocka_unit_test(test_other_table_statements),
        cmocka_unit_test(test_database_statements),
        cmocka_unit_test(test_comments_and_quotes),
        cmocka_unit_test(test_account),
        cmocka_unit_test(test_other_and_unparsed),
        cmocka_unit_test(test_other_objects),
        cmocka_unit_test(test_redact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
