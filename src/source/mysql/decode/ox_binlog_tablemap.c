/*
 * ox_binlog_tablemap.c - TABLE_MAP_EVENT (type 19) and its optional metadata.
 *
 * Post-header: table_id (6 bytes; 4 when the post-header is 6 long) | flags u16.
 * Body: db_len u8 | db | 0 | table_len u8 | table | 0 | ncols (lenenc) |
 * column types [ncols] | meta_len (lenenc) | per-column type metadata |
 * nullable bitmap | optional metadata, a sequence of
 * type u8 | length (lenenc) | value, with types:
 *   1 SIGNEDNESS (bitmap over numeric columns, MSB first, 1 = unsigned)
 *   2 DEFAULT_CHARSET (default collation, then (char col index, collation) pairs)
 *   3 COLUMN_CHARSET (one collation per character column)
 *   4 COLUMN_NAME (lenenc string per column)
 *   5 SET_STR_VALUE / 6 ENUM_STR_VALUE (per SET/ENUM column: count, strings)
 *   7 GEOMETRY_TYPE, 8 SIMPLE_PRIMARY_KEY (column indexes),
 *   9 PRIMARY_KEY_WITH_PREFIX ((index, prefix) pairs),
 *   10/11 ENUM_AND_SET_DEFAULT/COLUMN_CHARSET, 12 COLUMN_VISIBILITY,
 *   13 VECTOR_DIMENSIONALITY.
 * Per-column type metadata: 1 byte for FLOAT/DOUBLE (size), BLOB/GEOMETRY/
 * JSON/VECTOR (length bytes), TIME2/DATETIME2/TIMESTAMP2 (fsp); 2 bytes for
 * VARCHAR/VAR_STRING (max length, LE), BIT (bits%8, bytes), NEWDECIMAL
 * (precision, scale), STRING/ENUM/SET (real type, length; the real type's
 * bits 4-5 carry bits 8-9 of CHAR lengths above 255, inverted).
 *
 * The decoder caches each table's parsed layout under its table id and
 * skips re-parsing when the next TABLE_MAP for the id has identical bytes
 * (servers re-send the map in every transaction).
 */
#include "ox_binlog_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ox_alloc.h"

static void free_names(ox_bl_col *c)
{
    for (uint32_t k = 0; k < c->nnames; k++)
        free(c->names[k]);
    free(c->names);
    free(c->name_lens);
    c->names = NULL;
    c->name_lens = NULL;
    c->nnames = 0;
}

static void table_free(ox_bl_table *t)
{
    if (t == NULL)
        return;
    for (uint32_t i = 0; i < t->ncols; i++) {
        free_names(&t->c[i]);
        free((char *)t->cols[i].name);
    }
    free(t->c);
    free(t->cols);
    free(t->pk);
    free(t->raw);
    free(t->db);
    free(t->table);
    free(t);
}

void ox_bl_tables_clear(ox_binlog_decoder *d)
{
    for (size_t i = 0; i < d->tabcap; i++) {
        table_free(d->tabs[i]);
        d->tabs[i] = NULL;
    }
    d->ntabs = 0;
}

void ox_bl_tables_forget_raw(ox_binlog_decoder *d)
{
    for (size_t i = 0; i < d->tabcap; i++)
        if (d->tabs[i])
            d->tabs[i]->rawlen = 0;
}

static size_t slot_of(const ox_binlog_decoder *d, uint64_t id)
{
    size_t mask = d->tabcap - 1;
    size_t i = (size_t)(id * 0x9e3779b97f4a7c15ull >> 20) & mask;
    while (d->tabs[i] && d->tabs[i]->id != id)
        i = (i + 1) & mask;
    return i;
}

ox_bl_table *ox_bl_table_find(ox_binlog_decoder *d, uint64_t id)
{
    if (d->tabcap == 0)
        return NULL;
    return d->tabs[slot_of(d, id)];
}

static void table_put(ox_binlog_decoder *d, ox_bl_table *t)
{
    if ((d->ntabs + 1) * 2 > d->tabcap) {
        size_t oldcap = d->tabcap;
        ox_bl_table **old = d->tabs;
        d->tabcap = oldcap ? oldcap * 2 : 64;
        d->tabs = ox_xcalloc(d->tabcap, sizeof *d->tabs);
        for (size_t i = 0; i < oldcap; i++)
            if (old[i])
                d->tabs[slot_of(d, old[i]->id)] = old[i];
        free(old);
    }
    size_t s = slot_of(d, t->id);
    if (d->tabs[s])
        table_free(d->tabs[s]);
    else
        d->ntabs++;
    d->tabs[s] = t;
}

int ox_bl_col_layout(ox_bl_col *c, uint8_t type, const uint8_t *m, size_t metalen)
{
    c->type = c->real = type;
    switch (type) {
    case OX_MT_TINY:
        c->dk = DK_INT8;
        return 0;
    case OX_MT_SHORT:
        c->dk = DK_INT16;
        return 0;
    case OX_MT_INT24:
        c->dk = DK_INT24;
        return 0;
    case OX_MT_LONG:
        c->dk = DK_INT32;
        return 0;
    case OX_MT_LONGLONG:
        c->dk = DK_INT64;
        return 0;
    case OX_MT_YEAR:
        c->dk = DK_YEAR;
        return 0;
    case OX_MT_DATE:
    case OX_MT_NEWDATE:
        c->dk = DK_DATE;
        return 0;
    case OX_MT_TIME:
        c->dk = DK_TIME;
        return 0;
    case OX_MT_DATETIME:
        c->dk = DK_DATETIME;
        return 0;
    case OX_MT_TIMESTAMP:
        c->dk = DK_TIMESTAMP;
        return 0;
    case OX_MT_NULL:
        c->dk = DK_NONE;
        return 0;
    case OX_MT_FLOAT:
    case OX_MT_DOUBLE:
        if (metalen < 1)
            return -1;
        c->dk = m[0] == 4 ? DK_FLOAT : DK_DOUBLE;
        return 1;
    case OX_MT_TIME2:
    case OX_MT_DATETIME2:
    case OX_MT_TIMESTAMP2:
        if (metalen < 1)
            return -1;
        c->fsp = m[0] > 6 ? 6 : m[0];
        c->dk = type == OX_MT_TIME2       ? DK_TIME2
                : type == OX_MT_DATETIME2 ? DK_DATETIME2
                                          : DK_TIMESTAMP2;
        return 1;
    case OX_MT_TINY_BLOB:
    case OX_MT_MEDIUM_BLOB:
    case OX_MT_LONG_BLOB:
    case OX_MT_BLOB:
    case OX_MT_GEOMETRY:
    case OX_MT_JSON:
    case OX_MT_VECTOR:
        if (metalen < 1)
            return -1;
        c->len_bytes = m[0];
        if (c->len_bytes < 1 || c->len_bytes > 4)
            return -1;
        c->dk = type == OX_MT_GEOMETRY ? DK_GEOMETRY
                : type == OX_MT_JSON   ? DK_JSON
                : type == OX_MT_VECTOR ? DK_VECTOR
                                       : DK_BLOB;
        return 1;
    case OX_MT_VARCHAR:
    case OX_MT_VAR_STRING:
        if (metalen < 2)
            return -1;
        c->max_len = (uint32_t)(m[0] | m[1] << 8);
        c->len_bytes = c->max_len > 255 ? 2 : 1;
        c->dk = DK_VARSTR;
        return 2;
    case OX_MT_BIT:
        if (metalen < 2)
            return -1;
        c->max_len = (uint32_t)m[1] * 8 + m[0]; /* bits */
        c->len_bytes = (uint8_t)(m[1] + (m[0] ? 1 : 0));
        if (c->len_bytes > 8)
            return -1;
        c->dk = DK_BIT;
        return 2;
    case OX_MT_NEWDECIMAL:
        if (metalen < 2)
            return -1;
        c->prec = m[0];
        c->scale = m[1];
        if (c->prec == 0 || c->prec > 65 || c->scale > 30 || c->scale > c->prec)
            return -1;
        c->dk = DK_NEWDECIMAL;
        return 2;
    case OX_MT_STRING:
    case OX_MT_ENUM:
    case OX_MT_SET: {
        if (metalen < 2)
            return -1;
        uint8_t real = m[0];
        uint32_t len = m[1];
        if ((real & 0x30) != 0x30) {
            len |= (uint32_t)((real & 0x30) ^ 0x30) << 4;
            real |= 0x30;
        }
        c->real = real;
        if (real == OX_MT_ENUM || real == OX_MT_SET) {
            c->len_bytes = m[1];
            if (c->len_bytes < 1 || c->len_bytes > 8 || (real == OX_MT_ENUM && c->len_bytes > 2))
                return -1;
            c->dk = real == OX_MT_ENUM ? DK_ENUM : DK_SET;
        } else {
            c->max_len = len;
            c->len_bytes = len > 255 ? 2 : 1;
            c->dk = DK_VARSTR;
        }
        return 2;
    }
    default:
        /* Old DECIMAL, TYPED_ARRAY and unknown types: decoding a row with
         * them fails as unsupported, mapping the table does not. */
        c->dk = DK_NONE;
        return -2;
    }
}

/* The columns the SIGNEDNESS bitmap has a bit for. MariaDB gives YEAR one
 * too (its field is an unsigned TINYINT underneath); MySQL does not. BIT is
 * never counted. */
static bool is_numeric(const ox_bl_col *c, bool mariadb)
{
    switch (c->real) {
    case OX_MT_TINY:
    case OX_MT_SHORT:
    case OX_MT_INT24:
    case OX_MT_LONG:
    case OX_MT_LONGLONG:
    case OX_MT_NEWDECIMAL:
    case OX_MT_FLOAT:
    case OX_MT_DOUBLE:
    case OX_MT_DECIMAL:
        return true;
    case OX_MT_YEAR:
        return mariadb;
    default:
        return false;
    }
}

/*
 * Which charset list of the optional metadata a column belongs to. The
 * server writes DEFAULT_CHARSET/COLUMN_CHARSET entries for the columns
 * whose binlog type is STRING, VAR_STRING, VARCHAR or BLOB (ENUM and SET,
 * binlog type STRING with the real type in the metadata, go to the
 * ENUM_AND_SET lists instead). MariaDB also gives GEOMETRY an entry (its
 * field is a BLOB underneath, charset binary); MySQL does not. Counting a
 * column the server skipped, or the reverse, shifts every later string
 * column's charset: the class must follow the server exactly.
 */
enum { CSC_NONE = 0, CSC_CHAR, CSC_ENUM_SET };

static uint8_t charset_class(const ox_bl_col *c, bool mariadb)
{
    switch (c->real) {
    case OX_MT_STRING:
    case OX_MT_VAR_STRING:
    case OX_MT_VARCHAR:
    case OX_MT_BLOB:
    case OX_MT_TINY_BLOB:
    case OX_MT_MEDIUM_BLOB:
    case OX_MT_LONG_BLOB:
        return CSC_CHAR;
    case OX_MT_GEOMETRY:
        return mariadb ? CSC_CHAR : CSC_NONE;
    case OX_MT_ENUM:
    case OX_MT_SET:
        return CSC_ENUM_SET;
    default:
        return CSC_NONE;
    }
}

static bool is_enum_set(const ox_bl_col *c)
{
    return c->real == OX_MT_ENUM || c->real == OX_MT_SET;
}

static bool is_text_class(const ox_bl_col *c)
{
    switch (c->real) {
    case OX_MT_STRING:
    case OX_MT_VAR_STRING:
    case OX_MT_VARCHAR:
    case OX_MT_BLOB:
    case OX_MT_TINY_BLOB:
    case OX_MT_MEDIUM_BLOB:
    case OX_MT_LONG_BLOB:
        return true;
    default:
        return false;
    }
}

/* Maps a collation id to the character set class that decides rendering. */
static uint8_t cs_of_collation(uint64_t id)
{
    switch (id) {
    case 63:
        return CS_BINARY;
    case 5:
    case 8:
    case 15:
    case 31:
    case 47:
    case 48:
    case 49:
    case 94:
        return CS_LATIN1;
    case 33:
    case 83:
    case 76:
    case 223:
    case 45:
    case 46:
    case 11: /* ascii */
    case 65:
        return CS_UTF8;
    case 35:
    case 90:
    case 159:
        return CS_UCS2;
    case 54:
    case 55:
        return CS_UTF16;
    case 56:
    case 62:
        return CS_UTF16LE;
    case 60:
    case 61:
        return CS_UTF32;
    }
    if ((id >= 192 && id <= 215) || (id >= 224 && id <= 247) || (id >= 255 && id <= 323))
        return CS_UTF8; /* utf8mb3/utf8mb4 UCA and 0900 collations */
    if (id >= 128 && id <= 151)
        return CS_UCS2;
    if (id >= 101 && id <= 124)
        return CS_UTF16;
    if (id >= 160 && id <= 183)
        return CS_UTF32;
    return CS_UNKNOWN;
}

/* Applies a DEFAULT_CHARSET-style field to the columns of class csc. */
static bool apply_default_cs(ox_bl_table *t, ox_rd *r, uint8_t csc)
{
    uint64_t def, idx, coll;
    if (!rd_lenenc(r, &def))
        return false;
    for (uint32_t i = 0; i < t->ncols; i++)
        if (t->c[i].csc == csc)
            t->c[i].cs = cs_of_collation(def);
    while (r->p < r->end) {
        if (!rd_lenenc(r, &idx) || !rd_lenenc(r, &coll))
            return false;
        uint64_t k = 0;
        for (uint32_t i = 0; i < t->ncols; i++) {
            if (t->c[i].csc != csc)
                continue;
            if (k++ == idx) {
                t->c[i].cs = cs_of_collation(coll);
                break;
            }
        }
    }
    return true;
}

static bool apply_column_cs(ox_bl_table *t, ox_rd *r, uint8_t csc)
{
    for (uint32_t i = 0; i < t->ncols && r->p < r->end; i++) {
        if (t->c[i].csc != csc)
            continue;
        uint64_t coll;
        if (!rd_lenenc(r, &coll))
            return false;
        t->c[i].cs = cs_of_collation(coll);
    }
    return true;
}

static bool apply_str_values(ox_bl_table *t, ox_rd *r, uint8_t real)
{
    for (uint32_t i = 0; i < t->ncols && r->p < r->end; i++) {
        ox_bl_col *c = &t->c[i];
        if (c->real != real)
            continue;
        uint64_t cnt, len;
        if (!rd_lenenc(r, &cnt) || cnt > rd_left(r))
            return false;
        free_names(c); /* a repeated field replaces the earlier one */
        c->names = ox_xcalloc(cnt ? cnt : 1, sizeof *c->names);
        c->name_lens = ox_xcalloc(cnt ? cnt : 1, sizeof *c->name_lens);
        c->nnames = (uint32_t)cnt;
        for (uint64_t k = 0; k < cnt; k++) {
            if (!rd_lenenc(r, &len) || len > rd_left(r))
                return false;
            c->names[k] = ox_xstrndup((const char *)r->p, len);
            c->name_lens[k] = (uint32_t)len;
            r->p += len;
        }
    }
    return true;
}

static bool parse_optional(ox_bl_table *t, ox_rd *r, bool mariadb)
{
    while (r->p < r->end) {
        uint8_t type = *r->p++;
        uint64_t len;
        if (!rd_lenenc(r, &len) || len > rd_left(r))
            return false;
        ox_rd v = {r->p, r->p + len};
        r->p += len;
        switch (type) {
        case 1: { /* SIGNEDNESS */
            uint32_t k = 0;
            for (uint32_t i = 0; i < t->ncols; i++) {
                if (!is_numeric(&t->c[i], mariadb))
                    continue;
                if (k / 8 < len)
                    t->c[i].unsig = (v.p[k / 8] >> (7 - k % 8)) & 1;
                k++;
            }
            break;
        }
        case 2:
            if (!apply_default_cs(t, &v, CSC_CHAR))
                return false;
            break;
        case 3:
            if (!apply_column_cs(t, &v, CSC_CHAR))
                return false;
            break;
        case 4: /* COLUMN_NAME */
            for (uint32_t i = 0; i < t->ncols && v.p < v.end; i++) {
                uint64_t n;
                if (!rd_lenenc(&v, &n) || n > rd_left(&v))
                    return false;
                free((char *)t->cols[i].name);
                t->cols[i].name = ox_xstrndup((const char *)v.p, n);
                v.p += n;
            }
            break;
        case 5:
            if (!apply_str_values(t, &v, OX_MT_SET))
                return false;
            break;
        case 6:
            if (!apply_str_values(t, &v, OX_MT_ENUM))
                return false;
            break;
        case 8:   /* SIMPLE_PRIMARY_KEY */
        case 9: { /* PRIMARY_KEY_WITH_PREFIX */
            free(t->pk);
            t->pk = ox_xcalloc(t->ncols ? t->ncols : 1, sizeof *t->pk);
            t->npk = 0;
            while (v.p < v.end && t->npk < t->ncols) {
                uint64_t idx, prefix;
                if (!rd_lenenc(&v, &idx) || idx >= t->ncols)
                    return false;
                if (type == 9 && !rd_lenenc(&v, &prefix))
                    return false;
                t->pk[t->npk++] = (uint32_t)idx;
                t->cols[idx].is_pk = true;
            }
            break;
        }
        case 10:
            if (!apply_default_cs(t, &v, CSC_ENUM_SET))
                return false;
            break;
        case 11:
            if (!apply_column_cs(t, &v, CSC_ENUM_SET))
                return false;
            break;
        default: /* GEOMETRY_TYPE, COLUMN_VISIBILITY, VECTOR_DIMENSIONALITY, future */
            break;
        }
    }
    return true;
}

/* ENUM/SET names are written in the column's charset (ENUM_AND_SET_*
 * metadata, which follows the names): convert them to UTF-8 once here, as
 * values of text columns are converted per row. */
static void convert_names(ox_bl_table *t)
{
    ox_buf tmp = {0};
    for (uint32_t i = 0; i < t->ncols; i++) {
        ox_bl_col *c = &t->c[i];
        if (c->nnames == 0 || c->cs == CS_UTF8 || c->cs == CS_UNKNOWN || c->cs == CS_BINARY)
            continue;
        for (uint32_t k = 0; k < c->nnames; k++) {
            ox_buf_reset(&tmp);
            if (!ox_bl_to_utf8(c->cs, (const uint8_t *)c->names[k], c->name_lens[k], &tmp))
                continue; /* not convertible: the bytes stay as they are */
            free(c->names[k]);
            c->names[k] = ox_xstrndup((const char *)tmp.data, tmp.len);
            c->name_lens[k] = (uint32_t)tmp.len;
        }
    }
    ox_buf_free(&tmp);
}

/* BINARY(n): the row image drops trailing 0x00 bytes (as CHAR drops
 * trailing spaces), SELECT shows all n bytes. CHAR(n) text stays stripped,
 * as SELECT shows it. */
static void set_padding(ox_bl_table *t)
{
    for (uint32_t i = 0; i < t->ncols; i++) {
        ox_bl_col *c = &t->c[i];
        c->pad = c->real == OX_MT_STRING && c->dk == DK_VARSTR && c->cs == CS_BINARY;
    }
}

/* Without COLUMN_NAME metadata: ask the schema hook, if any. */
static int ask_hook(ox_binlog_decoder *d, ox_bl_table *t, ox_errbuf *eb)
{
    uint32_t n = t->ncols;
    char **names = ox_xcalloc(n ? n : 1, sizeof *names);
    bool *is_pk = ox_xcalloc(n ? n : 1, sizeof *is_pk);
    bool *is_text = ox_xcalloc(n ? n : 1, sizeof *is_text);
    int rc = d->columns_fn(d->columns_arg, t->db, t->table, n, names, is_pk, is_text);
    if (rc == 0) {
        for (uint32_t i = 0; i < n; i++) {
            if (names[i]) {
                free((char *)t->cols[i].name);
                t->cols[i].name = ox_xstrdup(names[i]);
            }
            if (is_pk[i] && !t->npk)
                t->cols[i].is_pk = true;
            if (t->c[i].cs == CS_UNKNOWN && is_text_class(&t->c[i]))
                t->c[i].cs = is_text[i] ? CS_UTF8 : CS_BINARY;
        }
        set_padding(t);
    } else if (rc == OX_ENOENT) {
        rc = 0;
    } else {
        ox_bl_err(d, eb, rc, "schema lookup for %s.%s failed", t->db, t->table);
    }
    free(names);
    free(is_pk);
    free(is_text);
    return rc;
}

/* Charset name (the history's) -> the class that decides rendering. */
static uint8_t cs_of_name(const char *cs)
{
    static const struct {
        const char *name;
        uint8_t cs;
    } map[] = {
        {"binary", CS_BINARY},   {"latin1", CS_LATIN1}, {"utf8mb4", CS_UTF8}, {"utf8mb3", CS_UTF8},
        {"utf8", CS_UTF8},       {"ascii", CS_UTF8},    {"ucs2", CS_UCS2},    {"utf16", CS_UTF16},
        {"utf16le", CS_UTF16LE}, {"utf32", CS_UTF32},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, cs) == 0)
            return map[i].cs;
    return CS_UNKNOWN;
}

/* Does the history's column fit the map's? A character column must be one
 * there too, an ENUM/SET must have members; MySQL's JSON and GEOMETRY are
 * their own types in the map whatever the history says. */
static bool col_fits(const ox_bl_col *c, const ox_binlog_colinfo *ci)
{
    if (is_enum_set(c))
        return ci->nmembers > 0;
    if (ci->nmembers > 0)
        return false;
    if (is_text_class(c))
        return ci->charset != NULL;
    return ci->charset == NULL || c->real == OX_MT_JSON || c->real == OX_MT_GEOMETRY;
}

/* MariaDB's INET6/INET4/UUID, which the map calls BINARY(16)/BINARY(4):
 * the history's type keyword decides (see ox_binlog_value.c). */
static uint8_t fbt_of(const ox_bl_col *c, const char *type)
{
    static const struct {
        const char *type;
        uint8_t fbt;
        uint32_t len;
    } map[] = {{"inet6", FBT_INET6, 16}, {"inet4", FBT_INET4, 4}, {"uuid", FBT_UUID, 16}};
    if (!type || c->real != OX_MT_STRING || c->dk != DK_VARSTR ||
        (c->cs != CS_BINARY && c->cs != CS_UNKNOWN))
        return FBT_NONE;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].type, type) == 0 && c->max_len == map[i].len)
            return map[i].fbt;
    return FBT_NONE;
}

/* The schema history's hook: names the columns of a map without
 * COLUMN_NAME metadata, or cross-checks a map with it. */
static int ask_schema(ox_binlog_decoder *d, ox_bl_table *t, ox_errbuf *eb)
{
    bool full = t->ncols && t->cols[0].name != NULL;
    ox_binlog_tableinfo info;
    memset(&info, 0, sizeof info);
    int rc = d->schema_fn(d->schema_arg, t->db, t->table, &info);
    if (rc != 0 && rc != OX_ENOENT)
        return ox_bl_err(d, eb, rc, "schema history lookup for %s.%s failed", t->db, t->table);
    bool fits = rc == 0 && info.ncols == t->ncols;
    for (uint32_t i = 0; fits && i < t->ncols; i++)
        fits = col_fits(&t->c[i], &info.cols[i]) && info.cols[i].name;
    if (full) {
        bool same = fits;
        for (uint32_t i = 0; same && i < t->ncols; i++)
            same = strcasecmp(t->cols[i].name, info.cols[i].name) == 0;
        if (rc == 0 && !same)
            d->stats.schema_mismatches++; /* a table the history does not know is no mismatch */
        for (uint32_t i = 0; same && i < t->ncols; i++)
            t->c[i].fbt = fbt_of(&t->c[i], info.cols[i].type);
        return 0;
    }
    if (!fits) {
        t->schema = OX_SCHEMA_UNKNOWN;
        d->stats.schema_unknown++;
        return 0;
    }
    for (uint32_t i = 0; i < t->ncols; i++) {
        const ox_binlog_colinfo *ci = &info.cols[i];
        ox_bl_col *c = &t->c[i];
        free((char *)t->cols[i].name);
        t->cols[i].name = ox_xstrdup(ci->name);
        if (ci->is_unsigned && is_numeric(c, d->mariadb))
            c->unsig = t->cols[i].is_unsigned = true;
        if (c->cs == CS_UNKNOWN && ci->charset && (is_text_class(c) || is_enum_set(c)))
            c->cs = cs_of_name(ci->charset);
        c->fbt = fbt_of(c, ci->type);
        if (is_enum_set(c) && c->nnames == 0) {
            c->names = ox_xcalloc(ci->nmembers, sizeof *c->names);
            c->name_lens = ox_xcalloc(ci->nmembers, sizeof *c->name_lens);
            c->nnames = ci->nmembers;
            for (uint32_t k = 0; k < ci->nmembers; k++) {
                c->names[k] = ox_xstrdup(ci->members[k]);
                c->name_lens[k] = (uint32_t)strlen(ci->members[k]);
            }
        }
    }
    if (t->npk == 0 && info.npk > 0) {
        free(t->pk);
        t->pk = ox_xcalloc(info.npk, sizeof *t->pk);
        for (uint32_t k = 0; k < info.npk; k++) {
            if (info.pk[k] >= t->ncols)
                continue;
            t->pk[t->npk++] = info.pk[k];
            t->cols[info.pk[k]].is_pk = true;
        }
    }
    return 0;
}

int ox_bl_table_map(ox_binlog_decoder *d, const uint8_t *b, size_t n, ox_errbuf *eb)
{
    size_t post = d->post_len[OX_EV_TABLE_MAP - 1] ? d->post_len[OX_EV_TABLE_MAP - 1] : 8;
    /* The length comes from the stream's FORMAT_DESCRIPTION: a table id of 4
     * or 6 bytes, then 2 bytes of flags. */
    if (post != 6 && post != 8)
        return ox_bl_err(d, eb, OX_EUNSUPP, "TABLE_MAP post-header length %zu", post);
    if (n < post)
        return ox_bl_err(d, eb, OX_ETRUNC, "TABLE_MAP event truncated");
    uint64_t id = post == 6 ? le_n(b, 4) : le_n(b, 6);
    ox_bl_table *old = ox_bl_table_find(d, id);
    if (old && old->rawlen == n && memcmp(old->raw, b, n) == 0)
        return 0; /* the same map again */

    ox_rd r = {b + post, b + n};
    ox_bl_table *t = ox_xcalloc(1, sizeof *t);
    t->id = id;
    uint64_t ncols, metalen;
    if (rd_left(&r) < 1 || rd_left(&r) < (size_t)r.p[0] + 2)
        goto trunc;
    t->db = ox_xstrndup((const char *)r.p + 1, r.p[0]);
    r.p += r.p[0] + 2;
    if (rd_left(&r) < 1 || rd_left(&r) < (size_t)r.p[0] + 2)
        goto trunc;
    t->table = ox_xstrndup((const char *)r.p + 1, r.p[0]);
    r.p += r.p[0] + 2;
    if (!rd_lenenc(&r, &ncols) || ncols > rd_left(&r) || ncols > 4096)
        goto trunc;
    t->ncols = (uint32_t)ncols;
    t->c = ox_xcalloc(ncols ? ncols : 1, sizeof *t->c);
    t->cols = ox_xcalloc(ncols ? ncols : 1, sizeof *t->cols);
    const uint8_t *types = r.p;
    r.p += ncols;
    if (r.p == r.end && ncols > 0) {
        /* MySQL 5.1.0-5.1.17 (pre-GA) wrote no column metadata and no NULL
         * bitmap: string lengths, DECIMAL precision etc. are unknown. */
        table_free(t);
        return ox_bl_err(d, eb, OX_EUNSUPP,
                         "TABLE_MAP without column metadata (MySQL 5.1.0-5.1.17 pre-GA format, "
                         "server %s) is not supported",
                         d->server_version[0] ? d->server_version : "unknown");
    }
    if (!rd_lenenc(&r, &metalen) || metalen > rd_left(&r))
        goto trunc;
    const uint8_t *meta = r.p, *mend = r.p + metalen;
    r.p += metalen;
    for (uint32_t i = 0; i < t->ncols; i++) {
        int used = ox_bl_col_layout(&t->c[i], types[i], meta, (size_t)(mend - meta));
        if (used == -1)
            goto corrupt;
        if (used > 0)
            meta += used;
        if (t->c[i].dk == DK_JSON)
            t->njson++;
        t->c[i].csc = charset_class(&t->c[i], d->mariadb);
    }
    size_t nullbytes = (t->ncols + 7) / 8;
    if (rd_left(&r) < nullbytes)
        goto trunc;
    r.p += nullbytes;
    if (!parse_optional(t, &r, d->mariadb))
        goto corrupt;
    convert_names(t);
    set_padding(t);
    for (uint32_t i = 0; i < t->ncols; i++) {
        t->cols[i].type = t->c[i].real;
        t->cols[i].is_unsigned = t->c[i].unsig;
        /* ox_column.meta: (precision << 8 | scale) for DECIMAL, the max
         * length (bytes, or bits for BIT) for strings, else 0. */
        t->cols[i].meta =
            (uint16_t)(t->c[i].dk == DK_NEWDECIMAL ? (uint32_t)(t->c[i].prec << 8 | t->c[i].scale)
                                                   : t->c[i].max_len);
    }
    if (d->schema_fn && t->ncols) {
        int rc = ask_schema(d, t, eb);
        if (rc != 0) {
            table_free(t);
            return rc;
        }
        set_padding(t); /* the history may have named a BINARY column's charset */
    } else if (d->columns_fn && t->ncols && t->cols[0].name == NULL) {
        int rc = ask_hook(d, t, eb);
        if (rc != 0) {
            table_free(t);
            return rc;
        }
    }
    /* Names, key and schema state are final: one version for this shape. */
    t->version = ox_change_version_new();
    t->raw = ox_xmalloc(n);
    memcpy(t->raw, b, n);
    t->rawlen = n;
    table_put(d, t);
    return 0;
trunc:
    table_free(t);
    return ox_bl_err(d, eb, OX_ETRUNC, "TABLE_MAP event truncated");
corrupt:
    table_free(t);
    return ox_bl_err(d, eb, OX_ECORRUPT, "TABLE_MAP event has bad column metadata");
}
