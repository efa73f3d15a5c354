/* cmd_schema.c - `oxbow schema`: what a schema history says the source's
 * tables were at a binlog position (read only; safe on a running store). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ox_cli.h"
#include "ox_json_out.h"
#include "ox_mysql_schema_hist.h"

static int run(int argc, char **argv);

const struct ox_cmd_entry ox_cmd_schema = {
    .name = "schema",
    .summary = "print the tables a schema history knows at a binlog position, as JSON",
    .usage = "usage: oxbow schema DIR [FILEIDX:OFFSET]\n"
             "\n"
             "DIR is a schema history directory (a store's <store.dir>/schema, or the\n"
             "--schema-dir of oxbow capture). Prints the databases and tables in force\n"
             "before the event at FILEIDX:OFFSET (default: after the last version) as one\n"
             "JSON object: per table its columns (name, type, charset, unsigned, ENUM/SET\n"
             "members), its primary key in key order, and \"uncertain\" when the history\n"
             "could not follow a statement on it. Never changes the history.\n",
    .run = run,
};

static void put_str(ox_buf *b, const char *s)
{
    if (s)
        ox_json_str(b, s, strlen(s));
    else
        OX_JSON_LIT(b, "null");
}

static void put_table(ox_buf *b, const ox_cat_table *t)
{
    OX_JSON_LIT(b, "{\"db\":");
    put_str(b, t->db);
    OX_JSON_LIT(b, ",\"table\":");
    put_str(b, t->name);
    OX_JSON_LIT(b, ",\"charset\":");
    put_str(b, t->charset);
    if (t->uncertain)
        OX_JSON_LIT(b, ",\"uncertain\":true");
    OX_JSON_LIT(b, ",\"columns\":[");
    for (uint32_t i = 0; i < t->ncols; i++) {
        const ox_cat_col *c = &t->cols[i];
        if (i)
            ox_buf_putc(b, ',');
        OX_JSON_LIT(b, "{\"name\":");
        put_str(b, c->name);
        OX_JSON_LIT(b, ",\"type\":");
        put_str(b, c->type);
        if (c->charset) {
            OX_JSON_LIT(b, ",\"charset\":");
            put_str(b, c->charset);
        }
        if (c->is_unsigned)
            OX_JSON_LIT(b, ",\"unsigned\":true");
        if (c->nmembers) {
            OX_JSON_LIT(b, ",\"members\":[");
            for (uint32_t k = 0; k < c->nmembers; k++) {
                if (k)
                    ox_buf_putc(b, ',');
                put_str(b, c->members[k]);
            }
            ox_buf_putc(b, ']');
        }
        ox_buf_putc(b, '}');
    }
    OX_JSON_LIT(b, "],\"pk\":[");
    uint32_t *pk = calloc(t->ncols + 1, sizeof *pk);
    uint32_t npk = pk ? ox_cat_table_pk(t, pk) : 0;
    for (uint32_t k = 0; k < npk; k++) {
        if (k)
            ox_buf_putc(b, ',');
        put_str(b, t->cols[pk[k]].name);
    }
    free(pk);
    OX_JSON_LIT(b, "]}");
}

static int run(int argc, char **argv)
{
    if (argc < 2 || argc > 3)
        return ox_cli_usage_error(&ox_cmd_schema, "expected DIR [FILEIDX:OFFSET]");
    uint64_t fi = UINT64_MAX, off = UINT64_MAX;
    if (argc == 3) {
        char *end = NULL;
        fi = strtoull(argv[2], &end, 10);
        if (end == argv[2] || *end != ':')
            return ox_cli_usage_error(&ox_cmd_schema, "bad position '%s'", argv[2]);
        const char *o = end + 1;
        off = strtoull(o, &end, 10);
        if (end == o || *end != '\0')
            return ox_cli_usage_error(&ox_cmd_schema, "bad position '%s'", argv[2]);
    }
    ox_schema_hist *h = NULL;
    ox_errbuf eb;
    int rc = ox_schema_hist_open(argv[1], OX_SCHEMA_HIST_RDONLY, &h, &eb);
    if (rc == 0)
        rc = ox_schema_hist_start(h, fi, off, &eb);
    if (rc != 0) {
        fprintf(stderr, "oxbow schema: %s: %s\n", ox_errname(rc), eb.msg);
        ox_schema_hist_close(h);
        return 1;
    }
    const ox_cat *c = ox_schema_hist_catalog(h);
    ox_buf b = OX_BUF_INIT;
    OX_JSON_LIT(&b, "{\"records\":");
    ox_json_u64(&b, ox_schema_hist_records(h));
    OX_JSON_LIT(&b, ",\"serverCharset\":");
    put_str(&b, ox_cat_server_charset(c));
    OX_JSON_LIT(&b, ",\"databases\":[");
    const char *db, *cs;
    for (uint32_t i = 0; (db = ox_cat_db_at(c, i, &cs)) != NULL; i++) {
        if (i)
            ox_buf_putc(&b, ',');
        OX_JSON_LIT(&b, "{\"db\":");
        put_str(&b, db);
        OX_JSON_LIT(&b, ",\"charset\":");
        put_str(&b, cs);
        ox_buf_putc(&b, '}');
    }
    OX_JSON_LIT(&b, "],\"tables\":[");
    const ox_cat_table *t;
    for (uint32_t i = 0; (t = ox_cat_table_at(c, i)) != NULL; i++) {
        if (i)
            ox_buf_putc(&b, ',');
        put_table(&b, t);
    }
    OX_JSON_LIT(&b, "]}\n");
    fwrite(b.data, 1, b.len, stdout);
    ox_buf_free(&b);
    ox_schema_hist_close(h);
    return 0;
}
