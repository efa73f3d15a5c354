/* fuzz_mysql_ddl.c - the DDL reader (QUERY event text from the source).
 *
 * The first byte picks the flags (ANSI_QUOTES, NO_BACKSLASH_ESCAPES) and
 * whether a default database is given; the rest is the statement. Checks the
 * invariants callers rely on, besides no crash, no leak, bounded time. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ox_assert.h"
#include "ox_mysql_ddl.h"

static void check_str(const char *s)
{
    if (s)
        (void)strlen(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned flags = data[0] & 3u;
    const char *db = (data[0] & 4u) ? "defdb" : NULL;
    const char *sql = (const char *)data + 1;
    size_t len = size - 1;
    ox_ddl_stmt *s = NULL;
    if (ox_mysql_ddl_parse(sql, len, db, flags, &s) != 0) {
        ox_assert(s == NULL);
        return 0;
    }
    ox_assert(s != NULL);
    ox_assert(s->kind >= 0 && s->kind < OX_DDL_KIND_COUNT);
    ox_assert(ox_ddl_kind_name(s->kind) != NULL);
    /* An account statement is recognised by its first words alone, and
     * nothing of it is kept. */
    ox_assert((s->kind == OX_DDL_ACCOUNT) == ox_mysql_ddl_is_account(sql, len));
    if (s->kind == OX_DDL_ACCOUNT)
        ox_assert(s->ntargets == 0 && s->ncols == 0 && s->nalters == 0);
    for (uint32_t i = 0; i < s->ntargets; i++) {
        const ox_ddl_target *t = &s->targets[i];
        check_str(t->db);
        check_str(t->table);
        check_str(t->new_db);
        check_str(t->new_table);
        /* A parsed table statement names its table (OTHER may name only a
         * database: CREATE PROCEDURE db.p); the database is
         * resolved whenever a default was given. */
        if (s->parsed && s->kind != OX_DDL_CREATE_DATABASE && s->kind != OX_DDL_ALTER_DATABASE &&
            s->kind != OX_DDL_DROP_DATABASE && s->kind != OX_DDL_OTHER)
            ox_assert(t->table != NULL);
        if (db && (s->parsed || t->table))
            ox_assert(t->db != NULL || s->kind == OX_DDL_ALTER_DATABASE);
    }
    for (uint32_t i = 0; i < s->ncols; i++) {
        check_str(s->cols[i].name);
        check_str(s->cols[i].type_text);
        for (uint32_t k = 0; k < s->cols[i].nmembers; k++)
            check_str(s->cols[i].members[k]);
    }
    for (uint32_t i = 0; i < s->nalters; i++) {
        const ox_ddl_alter *a = &s->alters[i];
        ox_assert(a->op >= OX_ALTER_ADD_COLUMN && a->op <= OX_ALTER_UNKNOWN);
        check_str(a->column);
        check_str(a->def.name);
        check_str(a->after);
    }
    ox_mysql_ddl_free(s);
    /* Redaction: the copy is complete and NUL-terminated. */
    char *red = NULL;
    size_t rl = 0;
    if (ox_mysql_ddl_redact(sql, len, flags, &red, &rl) == 0 && red) {
        ox_assert(strlen(red) <= rl && red[rl] == '\0');
        free(red);
    }
    return 0;
}
