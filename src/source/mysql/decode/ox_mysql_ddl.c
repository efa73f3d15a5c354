/*
 * ox_mysql_ddl.c - the reader of DDL statements from QUERY events (the
 * contract is in ox_mysql_ddl.h).
 *
 * Two passes: a lexer turns the bytes into tokens (words, quoted
 * identifiers, strings, single punctuation bytes), dropping comments and
 * reading the content of executable comments as SQL; a reader walks the
 * token array with a cursor. Nothing recurses on the input (parentheses are
 * skipped by counting), so time and stack are linear in the statement's
 * length whatever the bytes.
 *
 * `parsed` is false when the statement starts like DDL (CREATE, ALTER, DROP,
 * RENAME, TRUNCATE) or like nothing this reader knows, and the reader could
 * not follow it: an unknown object or clause, a missing name, unbalanced
 * parentheses, an unterminated quote or comment. A statement known to act on
 * no table (DML in statement format, CREATE PROCEDURE, FLUSH, ...) is kind
 * OTHER with parsed = true and no targets.
 *
 * Allocation failures are remembered in the reader (p->oom) and reported
 * once at the end, so the reading code stays linear.
 */
#include "ox_mysql_ddl.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ */
/* Lexer                                                              */
/* ------------------------------------------------------------------ */

enum tok_type { T_EOF = 0, T_WORD, T_QIDENT, T_STRING, T_PUNCT };

typedef struct tok {
    uint8_t type;
    char quote;    /* T_QIDENT/T_STRING: the quote character */
    const char *s; /* the whole token as written (prefix and quotes included) */
    uint32_t len;
    uint32_t inner; /* T_QIDENT/T_STRING: offset of the content in s */
    uint32_t ilen;  /* ... and its length */
} tok;

typedef struct lexer {
    const unsigned char *p, *end;
    unsigned flags;
    uint32_t exec; /* depth of executable comments we are inside */
    bool bad;      /* unterminated quote or comment */
} lexer;

static bool word_char(unsigned char c)
{
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

/* Scans a quoted run starting at the opening quote; returns the position
 * after the closing quote (or end, with lx->bad set). */
static const unsigned char *scan_quoted(lexer *lx, const unsigned char *p, bool backslash,
                                        bool *closed)
{
    char q = (char)*p++;
    *closed = true;
    while (p < lx->end) {
        if (backslash && *p == '\\') {
            p += (p + 1 < lx->end) ? 2 : 1;
            continue;
        }
        if (*p == (unsigned char)q) {
            if (p + 1 < lx->end && p[1] == (unsigned char)q) {
                p += 2;
                continue;
            }
            return p + 1;
        }
        p++;
    }
    lx->bad = true;
    *closed = false;
    return lx->end;
}

static void lex_next(lexer *lx, tok *t)
{
    memset(t, 0, sizeof *t);
    const unsigned char *p = lx->p, *end = lx->end;
    bool backslash = !(lx->flags & OX_DDL_NO_BACKSLASH_ESCAPES);
    for (;;) {
        while (p < end &&
               (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r' || *p == '\f' || *p == '\v'))
            p++;
        if (p >= end) {
            t->type = T_EOF;
            t->s = (const char *)end;
            lx->p = end;
            return;
        }
        if (lx->exec > 0 && p[0] == '*' && p + 1 < end && p[1] == '/') {
            lx->exec--;
            p += 2;
            continue;
        }
        if (p[0] == '/' && p + 1 < end && p[1] == '*') {
            const unsigned char *q = NULL;
            if (p + 2 < end && p[2] == '!')
                q = p + 3;
            else if (p + 3 < end && p[2] == 'M' && p[3] == '!')
                q = p + 4;
            if (q) {
                /* Executable comment: the version, then SQL up to the "* /". */
                for (int k = 0; k < 6 && q < end && isdigit(*q); k++)
                    q++;
                lx->exec++;
                p = q;
                continue;
            }
            q = memmem(p + 2, (size_t)(end - (p + 2)), "*/", 2);
            if (!q) {
                lx->bad = true;
                p = end;
                continue;
            }
            p = q + 2;
            continue;
        }
        if (p[0] == '#' ||
            (p[0] == '-' && p + 1 < end && p[1] == '-' && (p + 2 == end || p[2] <= ' '))) {
            while (p < end && *p != '\n')
                p++;
            continue;
        }
        break;
    }
    const unsigned char *start = p;
    t->s = (const char *)start;
    unsigned char c = *p;
    bool closed;
    if (c == '`' || (c == '"' && (lx->flags & OX_DDL_ANSI_QUOTES))) {
        p = scan_quoted(lx, p, false, &closed);
        t->type = T_QIDENT;
        t->quote = (char)c;
        t->inner = 1;
        t->ilen = (uint32_t)(p - start) - (closed ? 2 : 1);
    } else if (c == '\'' || c == '"') {
        p = scan_quoted(lx, p, backslash, &closed);
        t->type = T_STRING;
        t->quote = (char)c;
        t->inner = 1;
        t->ilen = (uint32_t)(p - start) - (closed ? 2 : 1);
    } else if (word_char(c)) {
        while (p < end && word_char(*p))
            p++;
        size_t wl = (size_t)(p - start);
        /* N'x', X'ff', B'01', _utf8mb4'x': one string literal. */
        if (p < end && *p == '\'' &&
            ((wl == 1 && strchr("NnXxBb", start[0]) != NULL) || start[0] == '_')) {
            const unsigned char *q = scan_quoted(lx, p, backslash, &closed);
            t->type = T_STRING;
            t->quote = '\'';
            t->inner = (uint32_t)wl + 1;
            t->ilen = (uint32_t)(q - p) - (closed ? 2 : 1);
            p = q;
        } else {
            t->type = T_WORD;
        }
    } else {
        p++;
        t->type = T_PUNCT;
    }
    t->len = (uint32_t)(p - start);
    lx->p = p;
}

static void lex_init(lexer *lx, const char *sql, size_t len, unsigned flags)
{
    lx->p = (const unsigned char *)sql;
    lx->end = lx->p + len;
    lx->flags = flags;
    lx->exec = 0;
    lx->bad = false;
}

static bool tok_is(const tok *t, const char *kw)
{
    size_t n = strlen(kw);
    return t->type == T_WORD && t->len == n && strncasecmp(t->s, kw, n) == 0;
}

/* ------------------------------------------------------------------ */
/* Account statements (no allocation)                                 */
/* ------------------------------------------------------------------ */

/* First words of statements that never leave the source. CREATE/ALTER/DROP
 * SERVER are all here (not only those with a PASSWORD option): a server
 * definition is connection credentials. CHANGE MASTER is not binlogged,
 * but is listed should a tool ever replay one. */
static const char *const account_stmts[][3] = {
    {"GRANT", NULL, NULL},           {"REVOKE", NULL, NULL},   {"SET", "PASSWORD", NULL},
    {"SET", "DEFAULT", "ROLE"},      {"CREATE", "USER", NULL}, {"CREATE", "ROLE", NULL},
    {"CREATE", "SERVER", NULL},      {"ALTER", "USER", NULL},  {"ALTER", "ROLE", NULL},
    {"ALTER", "SERVER", NULL},       {"DROP", "USER", NULL},   {"DROP", "ROLE", NULL},
    {"DROP", "SERVER", NULL},        {"RENAME", "USER", NULL}, {"CHANGE", "MASTER", NULL},
    {"CHANGE", "REPLICATION", NULL},
};

bool ox_mysql_ddl_is_account(const char *sql, size_t len)
{
    if (!sql)
        return false;
    lexer lx;
    /* The quoting mode does not matter: only leading words are looked at. */
    lex_init(&lx, sql, len, 0);
    tok w[3];
    int have = 1;
    lex_next(&lx, &w[0]);
    if (tok_is(&w[0], "SET")) {
        lex_next(&lx, &w[1]);
        have = 2;
        if (tok_is(&w[1], "STATEMENT")) {
            /* MariaDB: SET STATEMENT var=value, ... FOR <statement>. */
            tok x;
            do
                lex_next(&lx, &x);
            while (x.type != T_EOF && !tok_is(&x, "FOR"));
            lex_next(&lx, &w[0]);
            have = 1;
        }
    }
    for (; have < 3; have++) {
        lex_next(&lx, &w[have]);
        if (have == 1 && tok_is(&w[0], "CREATE") && tok_is(&w[1], "OR")) {
            lex_next(&lx, &w[1]); /* REPLACE */
            lex_next(&lx, &w[1]);
        }
    }
    for (size_t i = 0; i < sizeof account_stmts / sizeof account_stmts[0]; i++) {
        bool ok = true;
        for (int k = 0; k < 3 && account_stmts[i][k]; k++)
            if (!tok_is(&w[k], account_stmts[i][k])) {
                ok = false;
                break;
            }
        if (ok)
            return true;
    }
    return false;
}

/* ------------------------------------------------------------------ */
/* Reader state and helpers                                           */
/* ------------------------------------------------------------------ */

typedef struct rd {
    tok *t; /* n tokens then one T_EOF */
    size_t n, i;
    const char *defdb;
    unsigned flags;
    ox_ddl_stmt *s;
    bool oom;
    bool fail;
} rd;

static const tok *at(rd *p, size_t k)
{
    size_t j = p->i + k;
    return j < p->n ? &p->t[j] : &p->t[p->n];
}

static bool is_kw(rd *p, size_t k, const char *kw)
{
    return tok_is(at(p, k), kw);
}

static bool accept(rd *p, const char *kw)
{
    if (!is_kw(p, 0, kw))
        return false;
    p->i++;
    return true;
}

static bool is_p(rd *p, size_t k, char c)
{
    const tok *t = at(p, k);
    return t->type == T_PUNCT && t->s[0] == c;
}

static bool accept_p(rd *p, char c)
{
    if (!is_p(p, 0, c))
        return false;
    p->i++;
    return true;
}

static bool at_end(rd *p)
{
    return at(p, 0)->type == T_EOF || is_p(p, 0, ';');
}

static bool is_name(rd *p, size_t k)
{
    uint8_t ty = at(p, k)->type;
    return ty == T_WORD || ty == T_QIDENT;
}

static void advance(rd *p)
{
    if (p->i < p->n)
        p->i++;
}

static void *xalloc(rd *p, size_t n)
{
    void *r = calloc(1, n ? n : 1);
    if (!r)
        p->oom = true;
    return r;
}

/* Appends one zeroed element to *arr (capacity grows by powers of two). */
static void *grow(rd *p, void **arr, uint32_t *n, size_t size)
{
    uint32_t k = *n;
    if (k == UINT32_MAX) {
        p->oom = true;
        return NULL;
    }
    if (k == 0 || (k & (k - 1)) == 0) {
        size_t cap = k ? (size_t)k * 2 : 1;
        void *r = realloc(*arr, cap * size);
        if (!r) {
            p->oom = true;
            return NULL;
        }
        *arr = r;
    }
    void *e = (char *)*arr + (size_t)k * size;
    memset(e, 0, size);
    *n = k + 1;
    return e;
}

/* The decoded text of a token: a word as written, a quoted identifier with
 * doubled quotes undone, a string with its escapes undone. */
static char *tok_text(rd *p, const tok *t, bool lower)
{
    const char *s = t->s;
    size_t n = t->len;
    if (t->type == T_QIDENT || t->type == T_STRING) {
        s = t->s + t->inner;
        n = t->ilen;
    }
    char *r = xalloc(p, n + 1);
    if (!r)
        return NULL;
    size_t k = 0;
    bool esc = t->type == T_STRING && !(p->flags & OX_DDL_NO_BACKSLASH_ESCAPES);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if ((t->type == T_QIDENT || t->type == T_STRING) && c == t->quote && i + 1 < n &&
            s[i + 1] == t->quote) {
            r[k++] = c;
            i++;
            continue;
        }
        if (esc && c == '\\' && i + 1 < n && t->s[0] != 'x' && t->s[0] != 'X') {
            char e = s[++i];
            static const char from[] = "0ntrbZ";
            static const char to[] = "\0\n\t\r\b\032";
            const char *f = strchr(from, e);
            if (e == '%' || e == '_')
                r[k++] = '\\', r[k++] = e;
            else if (f && e)
                r[k++] = to[f - from];
            else
                r[k++] = e;
            continue;
        }
        if (c == '\0' && t->type != T_STRING)
            p->fail = true; /* no identifier holds a NUL; never route by a cut name */
        r[k++] = lower ? (char)tolower((unsigned char)c) : c;
    }
    r[k] = '\0';
    return r;
}

/* The current name token, decoded; NULL (and fail) when there is none. */
static char *take_name(rd *p)
{
    if (!is_name(p, 0)) {
        p->fail = true;
        return NULL;
    }
    char *r = tok_text(p, at(p, 0), false);
    advance(p);
    return r;
}

/* A value of CHARACTER SET / COLLATE: a name, a string or DEFAULT, lower case. */
static char *take_value_lower(rd *p)
{
    const tok *t = at(p, 0);
    if (t->type != T_WORD && t->type != T_QIDENT && t->type != T_STRING) {
        p->fail = true;
        return NULL;
    }
    char *r = tok_text(p, t, true);
    advance(p);
    return r;
}

static void set_str(char **dst, char *v)
{
    free(*dst);
    *dst = v;
}

/* [db.]name; db is NULL when not qualified. */
static bool qname(rd *p, char **db, char **name)
{
    *db = NULL;
    *name = NULL;
    if (!is_name(p, 0)) {
        p->fail = true;
        return false;
    }
    if (is_p(p, 1, '.') && is_name(p, 2)) {
        *db = take_name(p);
        advance(p);
    }
    *name = take_name(p);
    return *name != NULL;
}

static char *dup_str(rd *p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s);
    char *r = xalloc(p, n + 1);
    if (r)
        memcpy(r, s, n + 1);
    return r;
}

/* Adds a target; db NULL is resolved to the session's database. Takes
 * ownership of db and table. */
static ox_ddl_target *add_target(rd *p, char *db, char *table)
{
    if (!db)
        db = dup_str(p, p->defdb);
    ox_ddl_target *t = grow(p, (void **)&p->s->targets, &p->s->ntargets, sizeof *t);
    if (!t) {
        free(db);
        free(table);
        return NULL;
    }
    t->db = db;
    t->table = table;
    return t;
}

static bool read_target(rd *p)
{
    char *db, *name;
    if (!qname(p, &db, &name)) {
        free(db);
        free(name);
        return false;
    }
    return add_target(p, db, name) != NULL;
}

static void push_name(rd *p, char ***arr, uint32_t *n, char *v)
{
    char **e = grow(p, (void **)arr, n, sizeof *e);
    if (!e) {
        free(v);
        return;
    }
    *e = v;
}

/* At '(': skips to after the matching ')'. Unbalanced: fail, at the end. */
static void skip_group(rd *p)
{
    size_t depth = 0;
    while (p->i < p->n) {
        if (is_p(p, 0, '('))
            depth++;
        else if (is_p(p, 0, ')') && --depth == 0) {
            p->i++;
            return;
        }
        p->i++;
    }
    p->fail = true;
}

static void skip_one(rd *p)
{
    if (is_p(p, 0, '('))
        skip_group(p);
    else
        advance(p);
}

/* Skips to the ',' (or ')' when in_parens) that ends a clause, or the end. */
static void skip_clause(rd *p, bool in_parens)
{
    while (!at_end(p) && !is_p(p, 0, ',') && !(in_parens && is_p(p, 0, ')'))) {
        if (!in_parens && is_p(p, 0, ')')) {
            p->fail = true;
            advance(p);
            continue;
        }
        skip_one(p);
    }
}

static void accept_if_exists(rd *p, bool *flag)
{
    if (is_kw(p, 0, "IF") && is_kw(p, 1, "EXISTS")) {
        p->i += 2;
        if (flag)
            *flag = true;
    }
}

static void accept_if_not_exists(rd *p, bool *flag)
{
    if (is_kw(p, 0, "IF") && is_kw(p, 1, "NOT") && is_kw(p, 2, "EXISTS")) {
        p->i += 3;
        if (flag)
            *flag = true;
    }
}

/* MariaDB: WAIT n | NOWAIT after a table name. */
static void accept_wait(rd *p)
{
    if (accept(p, "NOWAIT"))
        return;
    if (is_kw(p, 0, "WAIT")) {
        p->i++;
        advance(p);
    }
}

/* [DEFAULT] CHARACTER SET|CHARSET [=] v, or [DEFAULT] COLLATE [=] v, at the
 * cursor: stores into *cs / *co and returns true. */
static bool charset_option(rd *p, char **cs, char **co)
{
    size_t k = is_kw(p, 0, "DEFAULT") ? 1 : 0;
    size_t adv;
    char **dst;
    if (is_kw(p, k, "CHARACTER") && is_kw(p, k + 1, "SET"))
        adv = k + 2, dst = cs;
    else if (is_kw(p, k, "CHARSET"))
        adv = k + 1, dst = cs;
    else if (is_kw(p, k, "COLLATE"))
        adv = k + 1, dst = co;
    else
        return false;
    p->i += adv;
    accept_p(p, '=');
    set_str(dst, take_value_lower(p));
    return true;
}

/* ------------------------------------------------------------------ */
/* Column definitions                                                 */
/* ------------------------------------------------------------------ */

enum { TF_UNSIGNED = 1, TF_NOT_NULL = 2, TF_NATIONAL = 4 };

/* Type words (up to three) and the base type they mean. Longer spellings
 * come before their prefixes. */
static const struct type_word {
    const char *w[3];
    const char *base;
    unsigned tf;
} type_words[] = {
    {{"NATIONAL", "CHARACTER", "VARYING"}, "varchar", TF_NATIONAL},
    {{"NATIONAL", "CHAR", "VARYING"}, "varchar", TF_NATIONAL},
    {{"NATIONAL", "VARCHAR", NULL}, "varchar", TF_NATIONAL},
    {{"NATIONAL", "CHARACTER", NULL}, "char", TF_NATIONAL},
    {{"NATIONAL", "CHAR", NULL}, "char", TF_NATIONAL},
    {{"NCHAR", "VARYING", NULL}, "varchar", TF_NATIONAL},
    {{"NCHAR", "VARCHAR", NULL}, "varchar", TF_NATIONAL},
    {{"NCHAR", NULL, NULL}, "char", TF_NATIONAL},
    {{"NVARCHAR", NULL, NULL}, "varchar", TF_NATIONAL},
    {{"CHARACTER", "VARYING", NULL}, "varchar", 0},
    {{"CHAR", "VARYING", NULL}, "varchar", 0},
    {{"CHARACTER", NULL, NULL}, "char", 0},
    {{"DOUBLE", "PRECISION", NULL}, "double", 0},
    {{"LONG", "VARBINARY", NULL}, "mediumblob", 0},
    {{"LONG", "VARCHAR", NULL}, "mediumtext", 0},
    {{"LONG", "CHAR", "VARYING"}, "mediumtext", 0},
    {{"LONG", NULL, NULL}, "mediumtext", 0},
    {{"SERIAL", NULL, NULL}, "bigint", TF_UNSIGNED | TF_NOT_NULL},
    {{"BOOL", NULL, NULL}, "tinyint", 0},
    {{"BOOLEAN", NULL, NULL}, "tinyint", 0},
    {{"INTEGER", NULL, NULL}, "int", 0},
    {{"INT1", NULL, NULL}, "tinyint", 0},
    {{"INT2", NULL, NULL}, "smallint", 0},
    {{"INT3", NULL, NULL}, "mediumint", 0},
    {{"MIDDLEINT", NULL, NULL}, "mediumint", 0},
    {{"INT4", NULL, NULL}, "int", 0},
    {{"INT8", NULL, NULL}, "bigint", 0},
    {{"DEC", NULL, NULL}, "decimal", 0},
    {{"NUMERIC", NULL, NULL}, "decimal", 0},
    {{"FIXED", NULL, NULL}, "decimal", 0},
    {{"REAL", NULL, NULL}, "double", 0},
    {{"FLOAT4", NULL, NULL}, "float", 0},
    {{"FLOAT8", NULL, NULL}, "double", 0},
    {{"GEOMCOLLECTION", NULL, NULL}, "geometrycollection", 0},
};

/* Words that end a column's type and attributes in ALTER TABLE. */
static bool col_stop(rd *p)
{
    return at_end(p) || is_p(p, 0, ',') || is_p(p, 0, ')') || is_kw(p, 0, "FIRST") ||
           is_kw(p, 0, "AFTER");
}

/* Renders tokens [from, to) as type_text: words lower case, quoted tokens as
 * written, no space around '(' ',' ')'. */
static char *render_tokens(rd *p, size_t from, size_t to)
{
    size_t n = 1;
    for (size_t i = from; i < to; i++)
        n += p->t[i].len + 1;
    char *r = xalloc(p, n);
    if (!r)
        return NULL;
    size_t k = 0;
    for (size_t i = from; i < to; i++) {
        const tok *t = &p->t[i];
        bool tight = t->type == T_PUNCT && strchr("(),.", t->s[0]);
        if (i > from && !tight) {
            const tok *pr = &p->t[i - 1];
            if (!(pr->type == T_PUNCT && strchr("(,.", pr->s[0])))
                r[k++] = ' ';
        }
        for (uint32_t j = 0; j < t->len; j++)
            r[k++] = t->type == T_WORD ? (char)tolower((unsigned char)t->s[j]) : t->s[j];
    }
    r[k] = '\0';
    return r;
}

static void parse_type(rd *p, ox_ddl_coldef *c)
{
    if (at(p, 0)->type != T_WORD) {
        p->fail = true;
        return;
    }
    size_t start = p->i;
    const struct type_word *tw = NULL;
    for (size_t i = 0; i < sizeof type_words / sizeof type_words[0]; i++) {
        const struct type_word *e = &type_words[i];
        bool ok = true;
        for (size_t k = 0; k < 3 && e->w[k]; k++)
            if (!is_kw(p, k, e->w[k])) {
                ok = false;
                break;
            }
        if (ok) {
            tw = e;
            break;
        }
    }
    if (tw) {
        size_t nw = 0;
        while (nw < 3 && tw->w[nw])
            nw++;
        p->i += nw;
        c->type = dup_str(p, tw->base);
        if (tw->tf & TF_UNSIGNED)
            c->is_unsigned = true;
        if (tw->tf & TF_NOT_NULL)
            c->not_null = true;
        if (tw->tf & TF_NATIONAL)
            set_str(&c->charset, dup_str(p, "utf8mb3"));
    } else {
        c->type = tok_text(p, at(p, 0), true);
        advance(p);
    }
    bool members = c->type && (strcmp(c->type, "enum") == 0 || strcmp(c->type, "set") == 0);
    if (is_p(p, 0, '(')) {
        if (members) {
            p->i++;
            while (!at_end(p) && !is_p(p, 0, ')')) {
                if (at(p, 0)->type == T_STRING) {
                    push_name(p, &c->members, &c->nmembers, tok_text(p, at(p, 0), false));
                    advance(p);
                } else {
                    p->fail = true;
                    skip_one(p);
                    continue;
                }
                if (!accept_p(p, ',') && !is_p(p, 0, ')'))
                    p->fail = true;
            }
            if (!accept_p(p, ')'))
                p->fail = true;
        } else {
            skip_group(p);
        }
    }
    for (;;) {
        if (accept(p, "UNSIGNED"))
            c->is_unsigned = true;
        else if (!accept(p, "SIGNED") && !accept(p, "ZEROFILL"))
            break;
    }
    c->type_text = render_tokens(p, start, p->i);
}

/* DEFAULT / ON UPDATE value: a literal, a word with optional arguments, or
 * a parenthesised expression. */
static void skip_value(rd *p)
{
    if (is_p(p, 0, '(')) {
        skip_group(p);
        return;
    }
    while (is_p(p, 0, '-') || is_p(p, 0, '+'))
        p->i++;
    if (col_stop(p))
        return;
    advance(p);
    if (is_p(p, 0, '('))
        skip_group(p);
}

/* A column definition: name, type, attributes, up to ',' ')' FIRST AFTER or
 * the end. */
static void parse_coldef(rd *p, ox_ddl_coldef *c)
{
    c->name = take_name(p);
    if (!c->name)
        return;
    parse_type(p, c);
    while (!col_stop(p)) {
        if (accept(p, "NOT")) {
            if (accept(p, "NULL"))
                c->not_null = true;
        } else if (accept(p, "NULL")) {
            c->not_null = false;
        } else if (accept(p, "PRIMARY")) {
            accept(p, "KEY");
            c->primary_key = true;
        } else if (accept(p, "KEY")) {
            c->primary_key = true;
        } else if (accept(p, "UNIQUE")) {
            accept(p, "KEY");
        } else if (accept(p, "DEFAULT")) {
            skip_value(p);
        } else if (accept(p, "ON")) {
            if (accept(p, "DELETE") || accept(p, "UPDATE")) {
                if (accept(p, "SET") || accept(p, "NO"))
                    advance(p); /* SET NULL|DEFAULT, NO ACTION */
                else if (!accept(p, "RESTRICT") && !accept(p, "CASCADE"))
                    skip_value(p);
            }
        } else if (is_kw(p, 0, "CHARACTER") || is_kw(p, 0, "CHARSET") || is_kw(p, 0, "COLLATE")) {
            if (!charset_option(p, &c->charset, &c->collate))
                advance(p);
        } else if (accept(p, "BINARY")) {
            c->binary_attr = true;
        } else if (accept(p, "ASCII")) {
            set_str(&c->charset, dup_str(p, "latin1"));
        } else if (accept(p, "UNICODE")) {
            set_str(&c->charset, dup_str(p, "ucs2"));
        } else if (accept(p, "BYTE")) {
            set_str(&c->charset, dup_str(p, "binary"));
        } else if (accept(p, "UNSIGNED")) {
            c->is_unsigned = true;
        } else if (accept(p, "REFERENCES")) {
            char *db, *t;
            (void)qname(p, &db, &t);
            free(db);
            free(t);
        } else if (is_kw(p, 0, "WITH") && is_kw(p, 1, "SYSTEM") && is_kw(p, 2, "VERSIONING")) {
            /* MariaDB: a versioned column makes the table system-versioned. */
            p->i += 3;
            p->s->sys_versioning = true;
        } else {
            /* COMMENT 'x', AUTO_INCREMENT, [GENERATED ALWAYS] AS (expr)
             * VIRTUAL|STORED, CHECK (expr), INVISIBLE, COLUMN_FORMAT x, ... */
            skip_one(p);
        }
    }
}

/* (key_part, ...): column names; prefix lengths, ASC/DESC and expressions
 * are skipped. At '('. */
static void key_parts(rd *p, char ***cols, uint32_t *n)
{
    if (!accept_p(p, '(')) {
        p->fail = true;
        return;
    }
    while (!at_end(p)) {
        if (is_name(p, 0)) {
            char *v = take_name(p);
            if (v && cols)
                push_name(p, cols, n, v);
            else
                free(v);
        }
        while (!at_end(p) && !is_p(p, 0, ',') && !is_p(p, 0, ')'))
            skip_one(p);
        if (accept_p(p, ')'))
            return;
        if (!accept_p(p, ','))
            break;
    }
    p->fail = true;
}

/* PRIMARY KEY [index_type] (cols) [options], at PRIMARY. */
static void primary_key(rd *p, char ***cols, uint32_t *n)
{
    accept(p, "PRIMARY");
    if (!accept(p, "KEY"))
        p->fail = true;
    while (!at_end(p) && !is_p(p, 0, '(') && !is_p(p, 0, ','))
        advance(p);
    key_parts(p, cols, n);
}

static bool is_constraint_start(rd *p)
{
    static const char *const w[] = {"CONSTRAINT", "PRIMARY", "INDEX",   "KEY",   "UNIQUE",
                                    "FULLTEXT",   "SPATIAL", "FOREIGN", "CHECK", NULL};
    for (size_t i = 0; w[i]; i++)
        if (is_kw(p, 0, w[i]))
            return true;
    return (is_kw(p, 0, "PERIOD") && is_kw(p, 1, "FOR")) ||
           (is_kw(p, 0, "SYSTEM") && is_kw(p, 1, "VERSIONING"));
}

/* [CONSTRAINT [sym]]: returns true when PRIMARY KEY follows. */
static bool skip_constraint_name(rd *p)
{
    if (accept(p, "CONSTRAINT") && is_name(p, 0) && !is_kw(p, 0, "PRIMARY") &&
        !is_kw(p, 0, "UNIQUE") && !is_kw(p, 0, "FOREIGN") && !is_kw(p, 0, "CHECK"))
        p->i++;
    return is_kw(p, 0, "PRIMARY");
}

/* ------------------------------------------------------------------ */
/* CREATE TABLE                                                       */
/* ------------------------------------------------------------------ */

static void create_defs(rd *p)
{
    ox_ddl_stmt *s = p->s;
    for (;;) {
        if (is_constraint_start(p)) {
            if (skip_constraint_name(p))
                primary_key(p, &s->pk, &s->npk);
            skip_clause(p, true);
        } else {
            ox_ddl_coldef *c = grow(p, (void **)&s->cols, &s->ncols, sizeof *c);
            if (!c)
                return;
            parse_coldef(p, c);
            if (c->primary_key && c->name)
                push_name(p, &s->pk, &s->npk, dup_str(p, c->name));
            if (!c->name || col_stop(p) == false || is_kw(p, 0, "FIRST") || is_kw(p, 0, "AFTER")) {
                p->fail = true;
                skip_clause(p, true);
            }
        }
        if (accept_p(p, ','))
            continue;
        if (accept_p(p, ')'))
            return;
        p->fail = true;
        return;
    }
}

static bool starts_select(rd *p, size_t k)
{
    return is_kw(p, k, "SELECT") || (is_kw(p, k, "WITH") && !is_kw(p, k + 1, "SYSTEM")) ||
           is_kw(p, k, "VALUES") || is_kw(p, k, "TABLE") ||
           (is_p(p, k, '(') && is_kw(p, k + 1, "SELECT"));
}

static void create_table(rd *p)
{
    ox_ddl_stmt *s = p->s;
    s->kind = OX_DDL_CREATE_TABLE;
    accept_if_not_exists(p, &s->if_not_exists);
    if (!read_target(p))
        return;
    bool paren_like = is_p(p, 0, '(') && is_kw(p, 1, "LIKE");
    if (paren_like)
        p->i++;
    if (accept(p, "LIKE")) {
        char *db, *t;
        if (qname(p, &db, &t)) {
            s->like_db = db ? db : dup_str(p, p->defdb);
            s->like_table = t;
        } else {
            free(db);
            free(t);
        }
        if (paren_like && !accept_p(p, ')'))
            p->fail = true;
        if (!at_end(p))
            p->fail = true;
        return;
    }
    if (is_p(p, 0, '(') && starts_select(p, 1)) {
        s->as_select = true;
        return;
    }
    if (accept_p(p, '('))
        create_defs(p);
    /* Table options, partitions, then maybe [IGNORE|REPLACE] [AS] SELECT. */
    while (!at_end(p)) {
        if (charset_option(p, &s->charset, &s->collate))
            continue;
        if (is_kw(p, 0, "WITH") && is_kw(p, 1, "SYSTEM") && is_kw(p, 2, "VERSIONING")) {
            s->sys_versioning = true;
            p->i += 3;
            continue;
        }
        if (is_kw(p, 0, "AS") || starts_select(p, 0) ||
            ((is_kw(p, 0, "IGNORE") || is_kw(p, 0, "REPLACE")) &&
             (is_kw(p, 1, "AS") || starts_select(p, 1)))) {
            s->as_select = true;
            return;
        }
        skip_one(p);
    }
}

/* ------------------------------------------------------------------ */
/* ALTER TABLE                                                        */
/* ------------------------------------------------------------------ */

static ox_ddl_alter *new_alter(rd *p, int op)
{
    ox_ddl_alter *a = grow(p, (void **)&p->s->alters, &p->s->nalters, sizeof *a);
    if (a)
        a->op = op;
    return a;
}

static void read_place(rd *p, ox_ddl_alter *a)
{
    if (accept(p, "FIRST")) {
        a->place = OX_DDL_PLACE_FIRST;
    } else if (accept(p, "AFTER")) {
        a->place = OX_DDL_PLACE_AFTER;
        a->after = take_name(p);
    }
}

static void alter_coldef(rd *p, int op, char *old)
{
    ox_ddl_alter *a = new_alter(p, op);
    if (!a) {
        free(old);
        return;
    }
    a->column = old;
    parse_coldef(p, &a->def);
    read_place(p, a);
}

/* Table options in ALTER TABLE, separated by spaces up to the next ','. */
static void alter_options(rd *p)
{
    char *cs = NULL, *co = NULL;
    bool any = false;
    while (!at_end(p) && !is_p(p, 0, ',')) {
        if (charset_option(p, &cs, &co)) {
            any = true;
            continue;
        }
        if (is_p(p, 0, ')')) {
            p->fail = true;
            advance(p);
            continue;
        }
        skip_one(p);
    }
    ox_ddl_alter *a = new_alter(p, any ? OX_ALTER_DEFAULT_CHARSET : OX_ALTER_NO_COLUMN_EFFECT);
    if (!a) {
        free(cs);
        free(co);
        return;
    }
    a->charset = cs;
    a->collate = co;
}

static void no_effect(rd *p)
{
    skip_clause(p, false);
    new_alter(p, OX_ALTER_NO_COLUMN_EFFECT);
}

/* ADD/DROP SYSTEM VERSIONING: the statement is understood, but the hidden
 * row_start/row_end columns it adds or removes are not modelled (see
 * OX_ALTER_UNKNOWN). */
static void versioning_unknown(rd *p)
{
    skip_clause(p, false);
    new_alter(p, OX_ALTER_UNKNOWN);
}

static void alter_add(rd *p)
{
    accept(p, "ADD");
    bool column = accept(p, "COLUMN");
    accept_if_not_exists(p, NULL);
    if (!column && is_kw(p, 0, "SYSTEM") && is_kw(p, 1, "VERSIONING")) {
        versioning_unknown(p);
        return;
    }
    if (!column && is_constraint_start(p)) {
        if (skip_constraint_name(p)) {
            ox_ddl_alter *a = new_alter(p, OX_ALTER_ADD_PRIMARY_KEY);
            primary_key(p, a ? &a->keycols : NULL, a ? &a->nkeycols : NULL);
            skip_clause(p, false);
        } else {
            no_effect(p);
        }
        return;
    }
    if (!column && is_kw(p, 0, "PARTITION")) {
        no_effect(p);
        return;
    }
    if (accept_p(p, '(')) {
        /* ADD [COLUMN] (a INT, b INT, INDEX (a)) */
        for (;;) {
            if (is_constraint_start(p)) {
                if (skip_constraint_name(p)) {
                    ox_ddl_alter *a = new_alter(p, OX_ALTER_ADD_PRIMARY_KEY);
                    primary_key(p, a ? &a->keycols : NULL, a ? &a->nkeycols : NULL);
                } else {
                    new_alter(p, OX_ALTER_NO_COLUMN_EFFECT);
                }
                skip_clause(p, true);
            } else {
                alter_coldef(p, OX_ALTER_ADD_COLUMN, NULL);
            }
            if (accept_p(p, ','))
                continue;
            if (!accept_p(p, ')'))
                p->fail = true;
            return;
        }
    }
    alter_coldef(p, OX_ALTER_ADD_COLUMN, NULL);
}

static void alter_drop(rd *p)
{
    accept(p, "DROP");
    if (is_kw(p, 0, "PRIMARY") && is_kw(p, 1, "KEY")) {
        p->i += 2;
        new_alter(p, OX_ALTER_DROP_PRIMARY_KEY);
        return;
    }
    static const char *const other[] = {"INDEX",      "KEY",       "FOREIGN", "CHECK",
                                        "CONSTRAINT", "PARTITION", "PERIOD",  NULL};
    for (size_t i = 0; other[i]; i++)
        if (is_kw(p, 0, other[i])) {
            no_effect(p);
            return;
        }
    if (is_kw(p, 0, "SYSTEM") && is_kw(p, 1, "VERSIONING")) {
        versioning_unknown(p);
        return;
    }
    accept(p, "COLUMN");
    accept_if_exists(p, NULL);
    ox_ddl_alter *a = new_alter(p, OX_ALTER_DROP_COLUMN);
    char *name = take_name(p);
    if (a)
        a->column = name;
    else
        free(name);
    if (!accept(p, "RESTRICT"))
        accept(p, "CASCADE");
}

static void alter_change(rd *p)
{
    accept(p, "CHANGE");
    accept(p, "COLUMN");
    accept_if_exists(p, NULL);
    alter_coldef(p, OX_ALTER_CHANGE_COLUMN, take_name(p));
}

static void alter_modify(rd *p)
{
    accept(p, "MODIFY");
    accept(p, "COLUMN");
    accept_if_exists(p, NULL);
    alter_coldef(p, OX_ALTER_MODIFY_COLUMN, NULL);
}

static void alter_rename(rd *p)
{
    accept(p, "RENAME");
    if (accept(p, "COLUMN")) {
        ox_ddl_alter *a = new_alter(p, OX_ALTER_RENAME_COLUMN);
        char *from = take_name(p);
        if (!accept(p, "TO"))
            p->fail = true;
        char *to = take_name(p);
        if (a) {
            a->column = from;
            a->new_name = to;
        } else {
            free(from);
            free(to);
        }
        return;
    }
    if (is_kw(p, 0, "INDEX") || is_kw(p, 0, "KEY")) {
        no_effect(p);
        return;
    }
    if (!accept(p, "TO") && !accept(p, "AS"))
        accept_p(p, '=');
    char *db, *t;
    if (!qname(p, &db, &t)) {
        free(db);
        free(t);
        return;
    }
    ox_ddl_alter *a = new_alter(p, OX_ALTER_RENAME_TABLE);
    ox_ddl_target *tg = p->s->ntargets ? &p->s->targets[0] : NULL;
    if (!a || !tg) {
        free(db);
        free(t);
        return;
    }
    set_str(&tg->new_db, db ? db : dup_str(p, p->defdb));
    set_str(&tg->new_table, t);
}

static void alter_convert(rd *p)
{
    accept(p, "CONVERT");
    if (!accept(p, "TO"))
        p->fail = true;
    char *cs = NULL, *co = NULL;
    while (charset_option(p, &cs, &co))
        ;
    ox_ddl_alter *a = new_alter(p, OX_ALTER_CONVERT_CHARSET);
    if (!a || !cs)
        p->fail = p->fail || !cs;
    if (a) {
        a->charset = cs;
        a->collate = co;
    } else {
        free(cs);
        free(co);
    }
}

static void alter_alter(rd *p)
{
    /* ALTER [COLUMN] c SET DEFAULT ..|DROP DEFAULT|SET [IN]VISIBLE,
     * ALTER INDEX|CHECK|CONSTRAINT ...: no effect on the columns' types. */
    no_effect(p);
}

/* Clause-leading words of ALTER TABLE and what each does. */
static const struct alter_word {
    const char *w;
    void (*fn)(rd *p);
} alter_words[] = {
    {"ADD", alter_add},         {"DROP", alter_drop},       {"CHANGE", alter_change},
    {"MODIFY", alter_modify},   {"RENAME", alter_rename},   {"CONVERT", alter_convert},
    {"ALTER", alter_alter},     {"DEFAULT", alter_options}, {"CHARACTER", alter_options},
    {"CHARSET", alter_options}, {"COLLATE", alter_options},
};

/* Clause-leading words with no effect on columns: table options, ALGORITHM,
 * LOCK, FORCE, ORDER BY, partition maintenance, versioning, ... */
static const char *const alter_noop_words[] = {"ENGINE",
                                               "ALGORITHM",
                                               "LOCK",
                                               "FORCE",
                                               "ORDER",
                                               "COMMENT",
                                               "AUTO_INCREMENT",
                                               "AVG_ROW_LENGTH",
                                               "CHECKSUM",
                                               "TABLE_CHECKSUM",
                                               "COMPRESSION",
                                               "CONNECTION",
                                               "DATA",
                                               "INDEX",
                                               "DELAY_KEY_WRITE",
                                               "ENCRYPTION",
                                               "ENCRYPTED",
                                               "ENCRYPTION_KEY_ID",
                                               "INSERT_METHOD",
                                               "KEY_BLOCK_SIZE",
                                               "MAX_ROWS",
                                               "MIN_ROWS",
                                               "PACK_KEYS",
                                               "PASSWORD",
                                               "ROW_FORMAT",
                                               "STATS_AUTO_RECALC",
                                               "STATS_PERSISTENT",
                                               "STATS_SAMPLE_PAGES",
                                               "TABLESPACE",
                                               "UNION",
                                               "PAGE_CHECKSUM",
                                               "PAGE_COMPRESSED",
                                               "PAGE_COMPRESSION_LEVEL",
                                               "TRANSACTIONAL",
                                               "IETF_QUOTES",
                                               "SEQUENCE",
                                               "WITH",
                                               "WITHOUT",
                                               "DISCARD",
                                               "IMPORT",
                                               "ENABLE",
                                               "DISABLE",
                                               "PARTITION",
                                               "REMOVE",
                                               "COALESCE",
                                               "REORGANIZE",
                                               "EXCHANGE",
                                               "ANALYZE",
                                               "CHECK",
                                               "OPTIMIZE",
                                               "REBUILD",
                                               "REPAIR",
                                               "TRUNCATE",
                                               "UPGRADE",
                                               "SECONDARY_ENGINE",
                                               "SECONDARY_LOAD",
                                               "SECONDARY_UNLOAD",
                                               "ENGINE_ATTRIBUTE",
                                               "SECONDARY_ENGINE_ATTRIBUTE",
                                               "AUTOEXTEND_SIZE",
                                               "STORAGE",
                                               "NOWAIT",
                                               "WAIT",
                                               "CONVERT",
                                               "START",
                                               "INCREMENT",
                                               "MINVALUE",
                                               "MAXVALUE",
                                               "NO",
                                               "CACHE",
                                               "NOCACHE",
                                               "CYCLE",
                                               "NOCYCLE",
                                               "RESTART",
                                               NULL};

/* Partition maintenance (DROP PARTITION p0, p1, PARTITION BY ...) comes
 * last in ALTER TABLE and may hold commas outside parentheses: the rest of
 * the statement is one clause. */
static bool partition_clause(rd *p)
{
    return is_kw(p, 0, "PARTITION") || (is_kw(p, 0, "CONVERT") && is_kw(p, 1, "TABLE")) ||
           is_kw(p, 1, "PARTITION") || is_kw(p, 0, "REMOVE") || is_kw(p, 0, "COALESCE") ||
           is_kw(p, 0, "REORGANIZE") || is_kw(p, 0, "EXCHANGE");
}

static void alter_clause(rd *p)
{
    if (partition_clause(p)) {
        /* MariaDB: CONVERT PARTITION p TO TABLE t2 makes a table, CONVERT
         * TABLE t2 TO PARTITION p consumes one: both are targets too. */
        if (is_kw(p, 0, "CONVERT")) {
            p->i++;
            if (accept(p, "PARTITION")) {
                advance(p);
                accept(p, "TO");
            }
            if (accept(p, "TABLE"))
                (void)read_target(p);
        }
        p->i = p->n;
        new_alter(p, OX_ALTER_NO_COLUMN_EFFECT);
        return;
    }
    if (is_kw(p, 0, "ORDER") && is_kw(p, 1, "BY")) {
        /* ORDER BY a [ASC], b: the commas belong to the clause. */
        p->i += 2;
        do {
            advance(p);
            if (!accept(p, "ASC"))
                accept(p, "DESC");
        } while (accept_p(p, ','));
        new_alter(p, OX_ALTER_NO_COLUMN_EFFECT);
        return;
    }
    for (size_t i = 0; i < sizeof alter_words / sizeof alter_words[0]; i++)
        if (is_kw(p, 0, alter_words[i].w)) {
            alter_words[i].fn(p);
            return;
        }
    for (size_t i = 0; alter_noop_words[i]; i++)
        if (is_kw(p, 0, alter_noop_words[i])) {
            alter_options(p);
            return;
        }
    p->fail = true;
    skip_clause(p, false);
    new_alter(p, OX_ALTER_UNKNOWN);
}

static void alter_table(rd *p)
{
    ox_ddl_stmt *s = p->s;
    s->kind = OX_DDL_ALTER_TABLE;
    accept_if_exists(p, &s->if_exists);
    if (!read_target(p))
        return;
    accept_wait(p);
    while (!at_end(p)) {
        size_t before = p->i;
        alter_clause(p);
        if (accept_p(p, ','))
            continue;
        if (!at_end(p) && (is_p(p, 0, ')') || p->i == before)) {
            p->fail = true;
            advance(p);
        }
    }
}

/* ------------------------------------------------------------------ */
/* Other statements                                                   */
/* ------------------------------------------------------------------ */

static void expect_end(rd *p)
{
    if (!at_end(p))
        p->fail = true;
}

static void drop_table(rd *p)
{
    ox_ddl_stmt *s = p->s;
    s->kind = OX_DDL_DROP_TABLE;
    accept_if_exists(p, &s->if_exists);
    do {
        if (!read_target(p))
            return;
        accept_wait(p);
    } while (accept_p(p, ','));
    accept_wait(p);
    if (!accept(p, "RESTRICT") && !accept(p, "CASCADE"))
        accept(p, "FORCE");
    expect_end(p);
}

static void rename_table(rd *p)
{
    ox_ddl_stmt *s = p->s;
    s->kind = OX_DDL_RENAME_TABLE;
    accept_if_exists(p, &s->if_exists);
    do {
        if (!read_target(p))
            return;
        accept_wait(p);
        if (!accept(p, "TO")) {
            p->fail = true;
            return;
        }
        char *db, *t;
        if (!qname(p, &db, &t)) {
            free(db);
            free(t);
            return;
        }
        ox_ddl_target *tg = &s->targets[s->ntargets - 1];
        tg->new_db = db ? db : dup_str(p, p->defdb);
        tg->new_table = t;
    } while (accept_p(p, ','));
    expect_end(p);
}

static void truncate_table(rd *p)
{
    p->s->kind = OX_DDL_TRUNCATE_TABLE;
    accept(p, "TABLE");
    if (!read_target(p))
        return;
    accept_wait(p);
    expect_end(p);
}

static void database_stmt(rd *p, int kind)
{
    ox_ddl_stmt *s = p->s;
    s->kind = kind;
    if (kind == OX_DDL_CREATE_DATABASE)
        accept_if_not_exists(p, &s->if_not_exists);
    if (kind == OX_DDL_DROP_DATABASE)
        accept_if_exists(p, &s->if_exists);
    static const char *const opts[] = {"DEFAULT",    "CHARACTER", "CHARSET", "COLLATE", "COMMENT",
                                       "ENCRYPTION", "READ",      "UPGRADE", NULL};
    bool named = is_name(p, 0);
    for (size_t i = 0; named && kind == OX_DDL_ALTER_DATABASE && opts[i]; i++)
        if (is_kw(p, 0, opts[i]))
            named = false;
    char *db = NULL;
    if (named)
        db = take_name(p);
    else if (kind == OX_DDL_ALTER_DATABASE)
        db = dup_str(p, p->defdb);
    else {
        p->fail = true;
        return;
    }
    ox_ddl_target *t = grow(p, (void **)&s->targets, &s->ntargets, sizeof *t);
    if (!t) {
        free(db);
        return;
    }
    t->db = db;
    if (kind == OX_DDL_DROP_DATABASE) {
        expect_end(p);
        return;
    }
    while (!at_end(p)) {
        if (!charset_option(p, &s->charset, &s->collate))
            skip_one(p);
    }
}

static void create_index(rd *p)
{
    ox_ddl_stmt *s = p->s;
    s->kind = OX_DDL_CREATE_INDEX;
    accept_if_not_exists(p, &s->if_not_exists);
    if (!is_name(p, 0)) {
        p->fail = true;
        return;
    }
    p->i++;
    while (!at_end(p) && !is_kw(p, 0, "ON"))
        skip_one(p);
    if (!accept(p, "ON")) {
        p->fail = true;
        return;
    }
    if (read_target(p) && !is_p(p, 0, '('))
        p->fail = true;
}

static void drop_index(rd *p)
{
    ox_ddl_stmt *s = p->s;
    s->kind = OX_DDL_DROP_INDEX;
    accept_if_exists(p, &s->if_exists);
    if (!is_name(p, 0)) {
        p->fail = true;
        return;
    }
    p->i++;
    if (!accept(p, "ON")) {
        p->fail = true;
        return;
    }
    (void)read_target(p);
}

static void view_stmt(rd *p, int kind)
{
    ox_ddl_stmt *s = p->s;
    s->kind = kind;
    if (kind == OX_DDL_DROP_VIEW) {
        accept_if_exists(p, &s->if_exists);
        do {
            if (!read_target(p))
                return;
        } while (accept_p(p, ','));
        if (!accept(p, "RESTRICT"))
            accept(p, "CASCADE");
        expect_end(p);
        return;
    }
    accept_if_not_exists(p, &s->if_not_exists);
    if (!read_target(p))
        return;
    if (is_p(p, 0, '('))
        skip_group(p);
    if (!accept(p, "AS"))
        p->fail = true;
}

/* ALGORITHM=x, DEFINER=user, SQL SECURITY x, before VIEW/TRIGGER/... */
static void skip_object_prefixes(rd *p, ox_ddl_stmt *s)
{
    for (;;) {
        if (accept(p, "TEMPORARY")) {
            s->temporary = true;
        } else if (is_kw(p, 0, "ALGORITHM") && is_p(p, 1, '=')) {
            p->i += 2;
            advance(p);
        } else if (is_kw(p, 0, "DEFINER") && is_p(p, 1, '=')) {
            p->i += 2;
            if (accept(p, "CURRENT_USER")) {
                if (is_p(p, 0, '('))
                    skip_group(p);
            } else {
                advance(p);
                if (accept_p(p, '@'))
                    advance(p);
            }
        } else if (is_kw(p, 0, "SQL") && is_kw(p, 1, "SECURITY")) {
            p->i += 2;
            advance(p);
        } else if (accept(p, "ONLINE") || accept(p, "OFFLINE") || accept(p, "IGNORE") ||
                   accept(p, "UNIQUE") || accept(p, "FULLTEXT") || accept(p, "SPATIAL") ||
                   accept(p, "AGGREGATE")) {
            /* modifiers that do not change what is acted on */
        } else {
            return;
        }
    }
}

/* Objects that are not tables (kind OTHER, parsed). They are routed by
 * the database they live in: the target is (db, no table), db from a
 * qualified name or the session's. Two name tables: a SEQUENCE is a table
 * in MariaDB, and CREATE TRIGGER names the table it is ON. */
enum { OBJ_NONE, OBJ_DB, OBJ_SEQUENCE, OBJ_TRIGGER };

static const struct other_obj {
    const char *w;
    int how;
} other_objects[] = {
    {"FUNCTION", OBJ_DB},     {"PROCEDURE", OBJ_DB},    {"EVENT", OBJ_DB},
    {"PACKAGE", OBJ_DB},      {"SYNONYM", OBJ_DB},      {"SEQUENCE", OBJ_SEQUENCE},
    {"TRIGGER", OBJ_TRIGGER}, {"TABLESPACE", OBJ_NONE}, {"LOGFILE", OBJ_NONE},
    {"RESOURCE", OBJ_NONE},   {"UNDO", OBJ_NONE},       {"INSTANCE", OBJ_NONE},
    {"PLUGIN", OBJ_NONE},
};

static void other_names(rd *p, int how)
{
    accept_if_not_exists(p, NULL);
    accept_if_exists(p, NULL);
    char *db = NULL, *name = NULL;
    if (how == OBJ_NONE || !is_name(p, 0))
        return;
    if (how == OBJ_SEQUENCE) {
        do {
            /* add_target took the previous pair: never free it again. */
            db = name = NULL;
            if (!is_name(p, 0) || !qname(p, &db, &name)) {
                free(db);
                free(name);
                return;
            }
            add_target(p, db, name);
        } while (accept_p(p, ','));
        return;
    }
    if (!qname(p, &db, &name)) {
        free(db);
        free(name);
        return;
    }
    free(name);
    if (how == OBJ_TRIGGER) {
        while (!at_end(p) && !is_kw(p, 0, "ON"))
            skip_one(p);
        char *tdb = NULL, *t = NULL;
        if (accept(p, "ON") && is_name(p, 0) && qname(p, &tdb, &t)) {
            add_target(p, tdb ? tdb : db, t);
            if (tdb)
                free(db);
            return;
        }
        free(tdb);
        free(t);
    }
    add_target(p, db, NULL);
}

static bool other_object(rd *p)
{
    for (size_t i = 0; i < sizeof other_objects / sizeof other_objects[0]; i++)
        if (is_kw(p, 0, other_objects[i].w)) {
            p->s->kind = OX_DDL_OTHER;
            p->i++;
            if (strcmp(other_objects[i].w, "PACKAGE") == 0 && is_kw(p, 0, "BODY") &&
                (is_name(p, 1) || is_kw(p, 1, "IF")))
                p->i++; /* PACKAGE BODY name */
            other_names(p, other_objects[i].how);
            p->i = p->n;
            return true;
        }
    if (is_kw(p, 0, "SPATIAL") && is_kw(p, 1, "REFERENCE")) {
        p->i = p->n;
        return true;
    }
    return false;
}

static void stmt_create(rd *p)
{
    ox_ddl_stmt *s = p->s;
    if (is_kw(p, 0, "OR") && is_kw(p, 1, "REPLACE"))
        p->i += 2;
    skip_object_prefixes(p, s);
    if (accept(p, "TABLE"))
        create_table(p);
    else if (accept(p, "DATABASE") || accept(p, "SCHEMA"))
        database_stmt(p, OX_DDL_CREATE_DATABASE);
    else if (accept(p, "INDEX"))
        create_index(p);
    else if (accept(p, "VIEW"))
        view_stmt(p, OX_DDL_CREATE_VIEW);
    else if (!other_object(p))
        p->fail = true;
}

static void stmt_alter(rd *p)
{
    ox_ddl_stmt *s = p->s;
    skip_object_prefixes(p, s);
    if (accept(p, "TABLE"))
        alter_table(p);
    else if (accept(p, "DATABASE") || accept(p, "SCHEMA"))
        database_stmt(p, OX_DDL_ALTER_DATABASE);
    else if (accept(p, "VIEW"))
        view_stmt(p, OX_DDL_ALTER_VIEW);
    else if (!other_object(p))
        p->fail = true;
}

static void stmt_drop(rd *p)
{
    ox_ddl_stmt *s = p->s;
    skip_object_prefixes(p, s);
    if (accept(p, "TABLE") || accept(p, "TABLES"))
        drop_table(p);
    else if (accept(p, "DATABASE") || accept(p, "SCHEMA"))
        database_stmt(p, OX_DDL_DROP_DATABASE);
    else if (accept(p, "INDEX"))
        drop_index(p);
    else if (accept(p, "VIEW"))
        view_stmt(p, OX_DDL_DROP_VIEW);
    else if (!other_object(p))
        p->fail = true;
}

static void stmt_rename(rd *p)
{
    if (accept(p, "TABLE") || accept(p, "TABLES"))
        rename_table(p);
    else
        p->fail = true;
}

static void stmt_truncate(rd *p)
{
    truncate_table(p);
}

static void dispatch(rd *p);

static void stmt_set(rd *p)
{
    /* MariaDB: SET STATEMENT var=value, ... FOR <statement>. */
    if (accept(p, "STATEMENT")) {
        while (!at_end(p) && !is_kw(p, 0, "FOR"))
            skip_one(p);
        if (accept(p, "FOR")) {
            dispatch(p);
            return;
        }
        p->fail = true;
    }
    p->i = p->n; /* SET var = ...: acts on no table */
}

/* Known statements that act on no table (kind OTHER, parsed). */
static void stmt_known_other(rd *p)
{
    p->i = p->n;
}

static const struct stmt_word {
    const char *w;
    void (*fn)(rd *p);
} stmt_words[] = {
    {"CREATE", stmt_create},
    {"ALTER", stmt_alter},
    {"DROP", stmt_drop},
    {"RENAME", stmt_rename},
    {"TRUNCATE", stmt_truncate},
    {"SET", stmt_set},
    {"INSERT", stmt_known_other},
    {"UPDATE", stmt_known_other},
    {"DELETE", stmt_known_other},
    {"REPLACE", stmt_known_other},
    {"LOAD", stmt_known_other},
    {"CALL", stmt_known_other},
    {"DO", stmt_known_other},
    {"SELECT", stmt_known_other},
    {"WITH", stmt_known_other},
    {"VALUES", stmt_known_other},
    {"FLUSH", stmt_known_other},
    {"ANALYZE", stmt_known_other},
    {"OPTIMIZE", stmt_known_other},
    {"REPAIR", stmt_known_other},
    {"CHECK", stmt_known_other},
    {"CHECKSUM", stmt_known_other},
    {"INSTALL", stmt_known_other},
    {"UNINSTALL", stmt_known_other},
    {"BEGIN", stmt_known_other},
    {"COMMIT", stmt_known_other},
    {"ROLLBACK", stmt_known_other},
    {"SAVEPOINT", stmt_known_other},
    {"RELEASE", stmt_known_other},
    {"XA", stmt_known_other},
    {"LOCK", stmt_known_other},
    {"UNLOCK", stmt_known_other},
    {"HANDLER", stmt_known_other},
    {"USE", stmt_known_other},
    {"PURGE", stmt_known_other},
    {"RESET", stmt_known_other},
    {"START", stmt_known_other},
    {"STOP", stmt_known_other},
    {"EXECUTE", stmt_known_other},
    {"PREPARE", stmt_known_other},
    {"DEALLOCATE", stmt_known_other},
    {"CACHE", stmt_known_other},
    {"BACKUP", stmt_known_other},
    {"SIGNAL", stmt_known_other},
    {"SHOW", stmt_known_other},
    {"KILL", stmt_known_other},
    {"HELP", stmt_known_other},
    {"IMPORT", stmt_known_other},
};

/* True when the first words make a statement that acts on no table. */
static bool known_other(const char *sql, size_t len)
{
    lexer lx;
    tok w0, w1;
    lex_init(&lx, sql, len, 0);
    lex_next(&lx, &w0);
    if (tok_is(&w0, "SET")) {
        lex_next(&lx, &w1);
        return !tok_is(&w1, "STATEMENT");
    }
    for (size_t i = 0; i < sizeof stmt_words / sizeof stmt_words[0]; i++)
        if (tok_is(&w0, stmt_words[i].w))
            return stmt_words[i].fn == stmt_known_other;
    return false;
}

static void dispatch(rd *p)
{
    for (size_t i = 0; i < sizeof stmt_words / sizeof stmt_words[0]; i++)
        if (is_kw(p, 0, stmt_words[i].w)) {
            p->i++;
            stmt_words[i].fn(p);
            return;
        }
    p->fail = true; /* nothing this reader knows */
}

/* ------------------------------------------------------------------ */
/* Entry points                                                       */
/* ------------------------------------------------------------------ */

static void coldef_free(ox_ddl_coldef *c)
{
    free(c->name);
    free(c->type);
    free(c->type_text);
    for (uint32_t i = 0; i < c->nmembers; i++)
        free(c->members[i]);
    free(c->members);
    free(c->charset);
    free(c->collate);
}

void ox_mysql_ddl_free(ox_ddl_stmt *s)
{
    if (!s)
        return;
    for (uint32_t i = 0; i < s->ntargets; i++) {
        free(s->targets[i].db);
        free(s->targets[i].table);
        free(s->targets[i].new_db);
        free(s->targets[i].new_table);
    }
    free(s->targets);
    for (uint32_t i = 0; i < s->ncols; i++)
        coldef_free(&s->cols[i]);
    free(s->cols);
    for (uint32_t i = 0; i < s->npk; i++)
        free(s->pk[i]);
    free(s->pk);
    free(s->charset);
    free(s->collate);
    free(s->like_db);
    free(s->like_table);
    for (uint32_t i = 0; i < s->nalters; i++) {
        ox_ddl_alter *a = &s->alters[i];
        free(a->column);
        free(a->new_name);
        coldef_free(&a->def);
        free(a->after);
        for (uint32_t k = 0; k < a->nkeycols; k++)
            free(a->keycols[k]);
        free(a->keycols);
        free(a->charset);
        free(a->collate);
    }
    free(s->alters);
    free(s);
}

int ox_mysql_ddl_parse(const char *sql, size_t len, const char *default_db, unsigned flags,
                       ox_ddl_stmt **out)
{
    *out = NULL;
    ox_ddl_stmt *s = calloc(1, sizeof *s);
    if (!s)
        return OX_ENOMEM;
    if (!sql)
        len = 0;
    if (len && ox_mysql_ddl_is_account(sql, len)) {
        /* Nothing of an account statement is read further. */
        s->kind = OX_DDL_ACCOUNT;
        s->parsed = true;
        *out = s;
        return 0;
    }
    if (known_other(sql, len)) {
        /* DML in statement format and the like: not tokenized at all (a
         * multi-megabyte INSERT costs one word of reading). */
        s->parsed = true;
        *out = s;
        return 0;
    }
    rd p = {.defdb = default_db && default_db[0] ? default_db : NULL, .flags = flags, .s = s};
    lexer lx;
    lex_init(&lx, sql ? sql : "", len, flags);
    size_t cap = 0;
    for (;;) {
        if (p.n == cap) {
            size_t nc = cap ? cap * 2 : 64;
            tok *nt = realloc(p.t, nc * sizeof *nt);
            if (!nt) {
                free(p.t);
                ox_mysql_ddl_free(s);
                return OX_ENOMEM;
            }
            p.t = nt;
            cap = nc;
        }
        lex_next(&lx, &p.t[p.n]);
        if (p.t[p.n].type == T_EOF)
            break;
        p.n++;
    }
    dispatch(&p);
    free(p.t);
    if (p.oom) {
        ox_mysql_ddl_free(s);
        return OX_ENOMEM;
    }
    s->parsed = !p.fail && !lx.bad;
    *out = s;
    return 0;
}

static const char *const kind_names[OX_DDL_KIND_COUNT] = {
    [OX_DDL_OTHER] = "other",
    [OX_DDL_CREATE_TABLE] = "create_table",
    [OX_DDL_ALTER_TABLE] = "alter_table",
    [OX_DDL_DROP_TABLE] = "drop_table",
    [OX_DDL_RENAME_TABLE] = "rename_table",
    [OX_DDL_TRUNCATE_TABLE] = "truncate_table",
    [OX_DDL_CREATE_DATABASE] = "create_database",
    [OX_DDL_ALTER_DATABASE] = "alter_database",
    [OX_DDL_DROP_DATABASE] = "drop_database",
    [OX_DDL_CREATE_INDEX] = "create_index",
    [OX_DDL_DROP_INDEX] = "drop_index",
    [OX_DDL_CREATE_VIEW] = "create_view",
    [OX_DDL_ALTER_VIEW] = "alter_view",
    [OX_DDL_DROP_VIEW] = "drop_view",
    [OX_DDL_ACCOUNT] = "account",
};

const char *ox_ddl_kind_name(int kind)
{
    if (kind < 0 || kind >= OX_DDL_KIND_COUNT)
        return "other";
    return kind_names[kind];
}

/* ------------------------------------------------------------------ */
/* Redaction                                                          */
/* ------------------------------------------------------------------ */

#define REDACTED "'<redacted>'"

/* Appends n bytes to *r (capacity doubling); false on allocation failure. */
static bool put_bytes(char **r, size_t *rl, size_t *cap, const char *p, size_t n)
{
    if (*cap - *rl < n + 1) {
        size_t nc = *cap ? *cap : 256;
        while (nc - *rl < n + 1)
            nc *= 2;
        char *nr = realloc(*r, nc);
        if (!nr)
            return false;
        *r = nr;
        *cap = nc;
    }
    memcpy(*r + *rl, p, n);
    *rl += n;
    (*r)[*rl] = '\0';
    return true;
}

int ox_mysql_ddl_redact(const char *sql, size_t len, unsigned flags, char **out, size_t *out_len)
{
    *out = NULL;
    if (out_len)
        *out_len = 0;
    if (!sql)
        return 0;
    lexer lx;
    lex_init(&lx, sql, len, flags);
    char *r = NULL;
    size_t rl = 0, cap = 0, copied = 0; /* copied: bytes of sql already in r */
    /* 0 nothing; 1 after CONNECTION/PASSWORD/OLD_PASSWORD; 2 after '=' or '(' */
    int state = 0;
    for (;;) {
        tok t;
        lex_next(&lx, &t);
        if (t.type == T_EOF)
            break;
        if (t.type == T_STRING && state > 0) {
            size_t at = (size_t)(t.s - sql);
            if (!put_bytes(&r, &rl, &cap, sql + copied, at - copied) ||
                !put_bytes(&r, &rl, &cap, REDACTED, sizeof REDACTED - 1)) {
                free(r);
                return OX_ENOMEM;
            }
            copied = at + t.len;
            state = 0;
        } else if (tok_is(&t, "CONNECTION") || tok_is(&t, "PASSWORD") ||
                   tok_is(&t, "OLD_PASSWORD")) {
            state = 1;
        } else if (state == 1 && t.type == T_PUNCT && (t.s[0] == '=' || t.s[0] == '(')) {
            state = 2;
        } else {
            state = 0;
        }
    }
    if (!r)
        return 0;
    if (!put_bytes(&r, &rl, &cap, sql + copied, len - copied)) {
        free(r);
        return OX_ENOMEM;
    }
    *out = r;
    if (out_len)
        *out_len = rl;
    return 0;
}
