/*
 * cmd_capture.c - `oxbow capture`: live binlog capture from MySQL/MariaDB,
 * one JSON change record per line on stdout (the test and benchmark entry
 * point of the live source).
 *
 * Output is transactional: the records of a transaction are held until its
 * COMMIT and dropped if the source reports a reset (connection lost mid
 * transaction), so that stdout carries every committed change exactly once
 * across reconnects. A transaction bigger than 64 MiB is streamed instead;
 * if such a transaction is reset, a line {"op":"reset"} tells the reader to
 * discard the records since the last commit.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ox_buf.h"
#include "ox_change.h"
#include "ox_cli.h"
#include "ox_render.h"
#include "ox_secret.h"
#include "ox_source.h"

#define TXN_STREAM_BYTES (64u << 20)

static int run(int argc, char **argv);

const struct ox_cmd_entry ox_cmd_capture = {
    .name = "capture",
    .summary = "capture changes live from MySQL/MariaDB or PostgreSQL, one JSON record per line",
    .usage =
        "usage: oxbow capture --host H --port P --user U [--password-file F]\n"
        "                     [--server-id N] [--heartbeat-ms N] [--limit N] [--until-end]\n"
        "                     [--from-file F --from-pos N | --from-file-idx I --from-pos N |\n"
        "                      --from-gtid G | --from-timestamp T]\n"
        "                     [--tls-ca FILE] [--tls-required] [--connect-timeout S]\n"
        "                     [--schema-dir DIR]\n"
        "       oxbow capture --type postgresql --database D --slot S [--publication P]\n"
        "                     --host H --port P --user U [--password-file F] [--limit N]\n"
        "                     [--from-file-idx I --from-pos N | --from-timestamp T]\n"
        "\n"
        "Connects as a replica, dumps the binlog and prints each change (begin, insert,\n"
        "update, delete, ddl, commit, heartbeat) as one JSON object per line\n"
        "(docs/records.md). The password is read from --password-file (first line) or\n"
        "the environment variable OX_SOURCE_PASSWORD; it is never accepted on the\n"
        "command line.\n"
        "\n"
        "  --from-file F --from-pos N  start at binlog file F, offset N (default 4)\n"
        "  --from-file-idx I           the binlog whose numeric suffix is I (checkpoint fileIdx)\n"
        "  --from-gtid G               MariaDB GTID position (0-1-42,...) or MySQL GTID set\n"
        "  --from-timestamp T          first transaction at or after T (epoch seconds)\n"
        "                              (default: the current end of the binlog)\n"
        "  --limit N                   exit after N row changes (insert/update/delete)\n"
        "  --until-end                 exit at the current end of the binlog\n"
        "  --heartbeat-ms N            server heartbeat period when idle (default 1000, 0 off)\n"
        "  --server-id N               replica server id (default 1000000000 + pid%1000000)\n"
        "  --schema-dir DIR            keep a schema history in DIR (as the store does):\n"
        "                              names, keys and ENUM/SET names as of each row's\n"
        "                              position; default: live information_schema lookups\n"
        "\n"
        "PostgreSQL (docs/pg_capture.md): streams database D through logical slot S\n"
        "(created if missing, with publication P, default S, FOR ALL TABLES); the\n"
        "slot is confirmed up to the last commit written to stdout. fileIdx/offset\n"
        "are the two 32-bit halves of an LSN. Drop the slot when done:\n"
        "SELECT pg_drop_replication_slot('S').\n"
        "\n"
        "Exit status: 0 at --limit/--until-end/SIGINT/SIGTERM, 1 on a capture error\n"
        "(printed to stderr as 'oxbow capture: OX_ECODE: message'), 2 on usage errors.\n",
    .run = run,
};

struct cap {
    ox_buf line; /* scratch for one record */
    ox_render *render;
    ox_buf txn; /* records of the open transaction */
    bool in_txn;
    bool streamed; /* part of the open transaction is already on stdout */
    uint64_t rows, limit;
    ox_source_pos written; /* the last commit on stdout */
    bool have_written;
};

#define STOP_LIMIT 1

static void out(const ox_buf *b)
{
    if (b->len)
        fwrite(b->data, 1, b->len, stdout);
}

static int on_change(void *arg, const ox_change *c)
{
    struct cap *k = arg;
    ox_buf_reset(&k->line);
    ox_render_json(k->render, c, &k->line);
    ox_buf_putc(&k->line, '\n');
    if (c->op == OX_OP_BEGIN) {
        k->in_txn = true;
        k->streamed = false;
        ox_buf_reset(&k->txn);
    }
    if (k->in_txn) {
        ox_buf_put(&k->txn, k->line.data, k->line.len);
        if (k->txn.len >= TXN_STREAM_BYTES) {
            out(&k->txn);
            ox_buf_reset(&k->txn);
            k->streamed = true;
        }
    } else {
        out(&k->line);
    }
    if (c->op == OX_OP_COMMIT) {
        out(&k->txn);
        ox_buf_reset(&k->txn);
        k->in_txn = false;
        k->written.file_idx = c->file_idx;
        k->written.offset = c->next_offset;
        k->written.timestamp = c->timestamp;
        k->have_written = true;
    }
    if (c->op == OX_OP_INSERT || c->op == OX_OP_UPDATE || c->op == OX_OP_DELETE) {
        if (k->limit && ++k->rows >= k->limit) {
            out(&k->txn);
            ox_buf_reset(&k->txn);
            return STOP_LIMIT;
        }
    }
    return 0;
}

static void on_reset(void *arg)
{
    struct cap *k = arg;
    fprintf(stderr,
            "oxbow capture: connection lost inside a transaction: discarded its %zu "
            "buffered bytes\n",
            k->txn.len);
    if (k->streamed)
        fputs("{\"op\":\"reset\"}\n", stdout);
    ox_buf_reset(&k->txn);
    k->in_txn = false;
    k->streamed = false;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || !*s || *end || *s == '-' || v > max)
        return -1;
    *out = v;
    return 0;
}

/* Reads the password file; NULL with the reason on stderr on failure. */
static char *read_password_file(const char *path)
{
    char *pw = NULL;
    ox_errbuf eb;
    if (ox_secret_read_file("--password-file", path, &pw, &eb) != 0) {
        fprintf(stderr, "oxbow capture: %s\n", eb.msg);
        return NULL;
    }
    return pw;
}

enum {
    O_HOST = 1,
    O_PORT,
    O_USER,
    O_PWFILE,
    O_SID,
    O_FILE,
    O_POS,
    O_GTID,
    O_TS,
    O_LIMIT,
    O_HB,
    O_END,
    O_CA,
    O_TLSREQ,
    O_CT,
    O_PASSWORD,
    O_FIDX,
    O_SCHEMA,
    O_TYPE,
    O_DB,
    O_SLOT,
    O_PUB,
};

static const struct option opts[] = {
    {"host", required_argument, NULL, O_HOST},
    {"port", required_argument, NULL, O_PORT},
    {"user", required_argument, NULL, O_USER},
    {"password-file", required_argument, NULL, O_PWFILE},
    {"password", required_argument, NULL, O_PASSWORD},
    {"server-id", required_argument, NULL, O_SID},
    {"from-file", required_argument, NULL, O_FILE},
    {"from-pos", required_argument, NULL, O_POS},
    {"from-file-idx", required_argument, NULL, O_FIDX},
    {"from-gtid", required_argument, NULL, O_GTID},
    {"from-timestamp", required_argument, NULL, O_TS},
    {"limit", required_argument, NULL, O_LIMIT},
    {"heartbeat-ms", required_argument, NULL, O_HB},
    {"until-end", no_argument, NULL, O_END},
    {"tls-ca", required_argument, NULL, O_CA},
    {"tls-required", no_argument, NULL, O_TLSREQ},
    {"connect-timeout", required_argument, NULL, O_CT},
    {"schema-dir", required_argument, NULL, O_SCHEMA},
    {"type", required_argument, NULL, O_TYPE},
    {"database", required_argument, NULL, O_DB},
    {"slot", required_argument, NULL, O_SLOT},
    {"publication", required_argument, NULL, O_PUB},
    {NULL, 0, NULL, 0},
};

/* The command line, parsed. */
struct args {
    ox_source_config cfg;
    ox_source_start from;
    const char *pwfile, *type;
    bool have_pos, have_port;
    uint64_t limit;
    int nstart; /* start options given */
};

/* A number option in [min, max], or a usage error naming it. */
static int num_opt(const char *name, const char *arg, uint64_t min, uint64_t max, uint64_t *v)
{
    if (parse_u64(arg, max, v) || *v < min)
        return ox_cli_usage_error(&ox_cmd_capture, "bad --%s '%s'", name, arg);
    return 0;
}

/* The start position options. */
static int start_option(int o, const char *arg, struct args *a)
{
    uint64_t v = 0;
    int rc = 0;
    switch (o) {
    case O_FILE:
        a->from.kind = OX_SOURCE_FROM_FILEPOS;
        a->from.file = arg;
        break;
    case O_FIDX:
        if ((rc = num_opt("from-file-idx", arg, 0, UINT64_MAX - 1, &v)) != 0)
            return rc;
        a->from.kind = OX_SOURCE_FROM_FILEPOS;
        a->from.file = NULL;
        a->from.file_idx = v;
        break;
    case O_GTID:
        a->from.kind = OX_SOURCE_FROM_GTID;
        a->from.gtid = arg;
        break;
    case O_TS:
        if ((rc = num_opt("from-timestamp", arg, 0, INT64_MAX, &v)) != 0)
            return rc;
        a->from.kind = OX_SOURCE_FROM_TIMESTAMP;
        a->from.timestamp = (int64_t)v;
        break;
    }
    a->nstart++;
    return 0;
}

/* One option into *a; 0 or the usage error's exit status. */
static int parse_option(int o, const char *arg, struct args *a)
{
    const struct ox_cmd_entry *e = &ox_cmd_capture;
    ox_source_config *c = &a->cfg;
    uint64_t v = 0;
    int rc = 0;
    switch (o) {
    case O_HOST:
        c->host = arg;
        break;
    case O_TYPE:
        a->type = arg;
        break;
    case O_DB:
        c->database = arg;
        break;
    case O_SLOT:
        c->slot = arg;
        break;
    case O_PUB:
        c->publication = arg;
        break;
    case O_USER:
        c->user = arg;
        break;
    case O_PWFILE:
        a->pwfile = arg;
        break;
    case O_END:
        c->until_end = 1;
        break;
    case O_CA:
        c->tls_ca = arg;
        break;
    case O_TLSREQ:
        c->tls_required = 1;
        break;
    case O_SCHEMA:
        c->schema_dir = arg;
        break;
    case O_FILE:
    case O_FIDX:
    case O_GTID:
    case O_TS:
        return start_option(o, arg, a);
    case O_PORT:
        if ((rc = num_opt("port", arg, 1, 65535, &v)) == 0) {
            c->port = (uint16_t)v;
            a->have_port = true;
        }
        break;
    case O_SID:
        if ((rc = num_opt("server-id", arg, 1, UINT32_MAX, &v)) == 0)
            c->server_id = (uint32_t)v;
        break;
    case O_POS:
        if ((rc = num_opt("from-pos", arg, 0, UINT32_MAX, &v)) == 0) {
            a->from.offset = v;
            a->have_pos = true;
        }
        break;
    case O_LIMIT:
        rc = num_opt("limit", arg, 1, UINT64_MAX, &a->limit);
        break;
    case O_HB:
        if ((rc = num_opt("heartbeat-ms", arg, 0, 3600000, &v)) == 0)
            c->heartbeat_ms = (int)v;
        break;
    case O_CT:
        if ((rc = num_opt("connect-timeout", arg, 1, 3600, &v)) == 0)
            c->connect_timeout_s = (int)v;
        break;
    case O_PASSWORD:
        return ox_cli_usage_error(e, "--password is not accepted on the command line; use "
                                     "--password-file or OX_SOURCE_PASSWORD");
    default:
        return ox_cli_usage_error(e, "unknown option");
    }
    return rc;
}

/* Checks the options together; fills the PostgreSQL defaults. */
static int check_args(struct args *a)
{
    const struct ox_cmd_entry *e = &ox_cmd_capture;
    ox_source_config *c = &a->cfg;
    if (!c->user)
        return ox_cli_usage_error(e, "--user is required");
    if (a->nstart > 1)
        return ox_cli_usage_error(
            e, "give only one of --from-file, --from-file-idx, --from-gtid, --from-timestamp");
    if (a->have_pos && a->from.kind != OX_SOURCE_FROM_FILEPOS)
        return ox_cli_usage_error(e, "--from-pos needs --from-file");
    bool pg = strcmp(a->type, "postgresql") == 0;
    if (!pg && strcmp(a->type, "mysql") != 0)
        return ox_cli_usage_error(e, "--type must be mysql or postgresql");
    if (!pg) {
        if (c->database || c->slot || c->publication)
            return ox_cli_usage_error(
                e, "--database, --slot and --publication need --type postgresql");
        return 0;
    }
    if (!c->database || !c->slot)
        return ox_cli_usage_error(e, "--type postgresql needs --database and --slot");
    if (c->until_end || a->from.kind == OX_SOURCE_FROM_GTID || a->from.file)
        return ox_cli_usage_error(e, "--until-end, --from-gtid and --from-file are MySQL "
                                     "options");
    if (!a->have_port)
        c->port = 5432;
    if (!c->publication)
        c->publication = c->slot;
    return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->cfg.host = "127.0.0.1";
    a->cfg.port = 3306;
    a->cfg.heartbeat_ms = 1000;
    a->cfg.connect_timeout_s = 10;
    a->from.kind = OX_SOURCE_FROM_NOW;
    a->type = "mysql";
    optind = 1;
    int o, rc;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1)
        if ((rc = parse_option(o, optarg, a)) != 0)
            return rc;
    if (optind != argc)
        return ox_cli_usage_error(&ox_cmd_capture, "unexpected argument '%s'", argv[optind]);
    return check_args(a);
}

/* What the source reports about its link, once per change, on stderr. */
struct link_note {
    bool down;
    uint64_t reconnects;
};

static void note_link(const struct ox_source_ops *ops, ox_source *src, struct link_note *n)
{
    if (ops->state == NULL)
        return;
    ox_source_state ls = {0};
    ox_errbuf why = {{0}};
    ops->state(src, &ls, &why);
    if (ls.down && !n->down)
        fprintf(stderr, "oxbow capture: source link down: %s; reconnecting\n", why.msg);
    if (ls.reconnects != n->reconnects)
        fprintf(stderr, "oxbow capture: reconnected (%" PRIu64 ")\n", ls.reconnects);
    n->down = ls.down;
    n->reconnects = ls.reconnects;
}

/* Polls until an error, the limit or a stop signal; returns the last code. */
static int capture_loop(const struct ox_source_ops *ops, ox_source *src, struct cap *k,
                        ox_errbuf *eb)
{
    struct link_note link = {0};
    int rc = 0;
    while (rc == 0 && !ox_cli_stop_requested()) {
        rc = ops->poll(src, on_change, on_reset, k, 200, eb);
        if (rc == OX_EAGAIN)
            rc = 0;
        if (fflush(stdout) != 0) {
            rc = ox_errf(eb, OX_EIO, "writing stdout: %s", strerror(errno));
            break;
        }
        /* What reached stdout may be recycled by the server (PostgreSQL). */
        if (ops->confirm != NULL && k->have_written)
            ops->confirm(src, &k->written);
        note_link(ops, src, &link);
    }
    return rc;
}

static int run(int argc, char **argv)
{
    struct args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    char *password = NULL;
    if (a.pwfile) {
        if ((password = read_password_file(a.pwfile)) == NULL)
            return 1;
    } else if (getenv("OX_SOURCE_PASSWORD")) {
        password = strdup(getenv("OX_SOURCE_PASSWORD"));
    }
    a.cfg.password = password;
    /* Shared with the other commands: SIGINT/SIGTERM set a flag; a closed
     * stdout is an error of fflush, not a SIGPIPE. */
    ox_cli_trap_stop_signals();
    static char obuf[1 << 16];
    setvbuf(stdout, obuf, _IOFBF, sizeof obuf);

    const struct ox_source_ops *ops = ox_source_find(a.type);
    ox_source *src = NULL;
    ox_errbuf eb = {{0}};
    struct cap k = {
        .line = OX_BUF_INIT, .txn = OX_BUF_INIT, .limit = a.limit, .render = ox_render_create()};
    rc = ops->open(&a.cfg, &src, &eb);
    if (rc == 0)
        rc = ops->start(src, &a.from, &eb);
    if (rc == 0)
        rc = capture_loop(ops, src, &k, &eb);
    fflush(stdout);
    int status = 0;
    if (!(rc == STOP_LIMIT || (rc == OX_ECLOSED && a.cfg.until_end) ||
          (rc == 0 && ox_cli_stop_requested()))) {
        status = 1;
        fprintf(stderr, "oxbow capture: %s: %s\n", ox_errname(rc),
                eb.msg[0] ? eb.msg : ox_strerror(rc));
    }
    if (src)
        ops->close(src);
    ox_buf_free(&k.line);
    ox_render_free(k.render);
    ox_buf_free(&k.txn);
    if (password) {
        memset(password, 0, strlen(password));
        free(password);
    }
    return status;
}
