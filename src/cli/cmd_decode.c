/*
 * cmd_decode.c - `oxbow decode`: binlog files to one JSON change per line.
 *
 * The offline face of the MySQL/MariaDB decoder and the decode benchmark's
 * entry point: output is built in one buffer and written with large
 * write(2) calls, never through stdio per value.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ox_binlog.h"
#include "ox_buf.h"
#include "ox_change.h"
#include "ox_cli.h"
#include "ox_render.h"

static int run(int argc, char **argv);

const struct ox_cmd_entry ox_cmd_decode = {
    .name = "decode",
    .summary = "decode MySQL/MariaDB binlog files to JSON change records",
    .usage = "usage: oxbow decode [--format json] [--no-verify-checksum] [--progress] FILE...\n"
             "\n"
             "Decodes binlog or relay-log files (a .gz file is read through zlib) and\n"
             "prints one JSON change record per line on stdout: begin, insert, update,\n"
             "delete, ddl and commit records with their positions (docs/records.md).\n"
             "\n"
             "  --format json          the output format (the only one)\n"
             "  --no-verify-checksum   do not verify event CRC32 checksums\n"
             "  --progress             report progress on stderr\n"
             "\n"
             "Exit status: 0 when every file decoded, 1 on the first error (named with\n"
             "its file and byte offset on stderr), 2 on bad usage.\n",
    .run = run,
};

#define FLUSH_AT (1u << 20)

typedef struct out_ctx {
    ox_buf buf;
    ox_render *render;
    int err; /* errno of a failed write */
    bool progress;
    uint64_t records;
    uint64_t next_report;
    const char *path;
} out_ctx;

static int flush_out(out_ctx *o)
{
    size_t off = 0;
    while (off < o->buf.len) {
        ssize_t w = write(STDOUT_FILENO, o->buf.data + off, o->buf.len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            o->err = errno;
            return -1;
        }
        off += (size_t)w;
    }
    o->buf.len = 0;
    return 0;
}

static int on_change(void *arg, const ox_change *c)
{
    out_ctx *o = arg;
    ox_render_json(o->render, c, &o->buf);
    ox_buf_putc(&o->buf, '\n');
    o->records++;
    if (o->buf.len >= FLUSH_AT && flush_out(o) != 0)
        return 1;
    if (o->progress && o->records >= o->next_report) {
        fprintf(stderr, "oxbow decode: %s: offset %" PRIu64 ", %" PRIu64 " records\n", o->path,
                c->offset, o->records);
        o->next_report = o->records + 100000;
    }
    return 0;
}

static int run(int argc, char **argv)
{
    bool verify = true, progress = false;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--format") == 0) {
            if (i + 1 >= argc || strcmp(argv[i + 1], "json") != 0)
                return ox_cli_usage_error(&ox_cmd_decode, "--format must be json");
            i++;
        } else if (strcmp(argv[i], "--format=json") == 0) {
            continue;
        } else if (strcmp(argv[i], "--no-verify-checksum") == 0) {
            verify = false;
        } else if (strcmp(argv[i], "--progress") == 0) {
            progress = true;
        } else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return ox_cli_usage_error(&ox_cmd_decode, "unknown option %s", argv[i]);
        } else {
            break;
        }
    }
    if (i >= argc)
        return ox_cli_usage_error(&ox_cmd_decode, "no FILE given");
    ox_binlog_decoder *d = NULL;
    if (ox_binlog_decoder_create(&d) != 0) {
        fprintf(stderr, "oxbow decode: out of memory\n");
        return 1;
    }
    ox_binlog_decoder_set_verify(d, verify);
    out_ctx o = {.progress = progress, .next_report = 100000, .render = ox_render_create()};
    ox_buf_grow(&o.buf, FLUSH_AT + 65536);
    int status = 0;
    for (; i < argc; i++) {
        ox_errbuf eb = {{0}};
        o.path = argv[i];
        int rc = ox_binlog_decode_file(d, argv[i], on_change, &o, &eb);
        if (rc != 0) {
            flush_out(&o);
            if (o.err)
                fprintf(stderr, "oxbow decode: write to stdout: %s\n", strerror(o.err));
            else
                fprintf(stderr, "oxbow decode: %s\n", eb.msg);
            status = 1;
            break;
        }
    }
    if (status == 0 && flush_out(&o) != 0) {
        fprintf(stderr, "oxbow decode: write to stdout: %s\n", strerror(o.err));
        status = 1;
    }
    if (progress && status == 0)
        fprintf(stderr, "oxbow decode: done, %" PRIu64 " records\n", o.records);
    ox_buf_free(&o.buf);
    ox_render_free(o.render);
    ox_binlog_decoder_free(d);
    return status;
}
