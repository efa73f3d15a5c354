/* cmd_checkpoint.c - `oxbow checkpoint`: parse a checkpoint and show its fields. */
#include <inttypes.h>
#include <stdio.h>

#include "ox_checkpoint.h"
#include "ox_cli.h"

static int run(int argc, char **argv);

const struct ox_cmd_entry ox_cmd_checkpoint = {
    .name = "checkpoint",
    .summary = "parse a checkpoint string and print its fields as JSON",
    .usage = "usage: oxbow checkpoint CHECKPOINT\n"
             "\n"
             "Parses dbIp:dbPort:fileIdx:offset:timestamp:msgId (fields may be empty,\n"
             "as in ::::1663049354:) and prints its fields, or a precise error.\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    if (argc != 2)
        return ox_cli_usage_error(&ox_cmd_checkpoint, "expected exactly one CHECKPOINT");
    ox_checkpoint cp;
    ox_errbuf eb;
    if (ox_checkpoint_parse(argv[1], &cp, &eb) != 0) {
        fprintf(stderr, "oxbow checkpoint: %s\n", eb.msg);
        return 1;
    }
    char ip[16], text[OX_CHECKPOINT_STRLEN];
    ox_ipv4_format(cp.db_ip, ip);
    ox_checkpoint_format(&cp, text, sizeof text);
    printf("{\"checkpoint\":\"%s\",\"dbIp\":%" PRIu32 ",\"dbIpString\":\"%s\",\"dbPort\":%u,"
           "\"fileIdx\":%" PRIu64 ",\"offset\":%" PRIu64 ",\"timestamp\":%" PRId64
           ",\"msgId\":%" PRIu64 "}\n",
           text, cp.db_ip, ip, (unsigned)cp.db_port, cp.file_idx, cp.offset, cp.timestamp,
           cp.msg_id);
    return 0;
}
