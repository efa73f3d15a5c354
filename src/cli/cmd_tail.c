/* cmd_tail.c - `oxbow tail`: print a store's change records (liboxbow-client). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oxbow/client.h"
#include "ox_cli.h"

static int run(int argc, char **argv);

const struct ox_cmd_entry ox_cmd_tail = {
    .name = "tail",
    .summary = "print change records from a store",
    .usage = "usage: oxbow tail --store HOST:PORT [--checkpoint C | --timestamp T | --msg-id N |\n"
             "                  --earliest] [--filter F] [--limit N] [--format json|binary]\n"
             "                  [--idle-exit SECONDS] [--token-file FILE]\n"
             "\n"
             "Subscribes to a store and prints one JSON record per line (with its msgId\n"
             "and checkpoint) until interrupted, --limit records were printed, or no\n"
             "record arrived for --idle-exit seconds. Without a start option it follows\n"
             "new records only. --checkpoint resumes right after that record. --format\n"
             "picks the wire format (default binary, the faster; the output is the same).\n"
             "Exit status: 0 (limit, idle or end of stream), 1 on errors (the store's\n"
             "reason is printed, e.g. HTTP 410 for a start older than retention).\n",
    .run = run,
};

/* The command line, parsed. */
struct args {
    ox_client_options o;
    const char *store, *token_file;
    long long limit, idle_exit;
    int starts;
    char host[256];
    long port;
    char token[1024];
};

/* A decimal option >= min, or a usage error naming it. */
static int num_opt(const char *name, const char *v, long long min, long long *out)
{
    char *end = NULL;
    *out = strtoll(v, &end, 10);
    if (*v == '\0' || *end != '\0' || *out < min)
        return ox_cli_usage_error(&ox_cmd_tail, "bad %s \"%s\"", name, v);
    return 0;
}

/* One option with its value v into *a; 0 or the usage error's status. */
static int parse_option(const char *opt, const char *v, struct args *a)
{
    long long n = 0;
    int rc = 0;
    if (strcmp(opt, "--store") == 0) {
        a->store = v;
    } else if (strcmp(opt, "--checkpoint") == 0) {
        a->o.checkpoint = v;
        a->starts++;
    } else if (strcmp(opt, "--timestamp") == 0) {
        rc = num_opt(opt, v, 0, &n);
        a->o.timestamp = n;
        a->starts++;
    } else if (strcmp(opt, "--msg-id") == 0) {
        rc = num_opt(opt, v, 1, &n);
        a->o.msg_id = (uint64_t)n;
        a->starts++;
    } else if (strcmp(opt, "--filter") == 0) {
        a->o.filter = v;
    } else if (strcmp(opt, "--limit") == 0) {
        rc = num_opt(opt, v, 0, &a->limit);
    } else if (strcmp(opt, "--idle-exit") == 0) {
        rc = num_opt(opt, v, 0, &a->idle_exit);
    } else if (strcmp(opt, "--format") == 0) {
        if (strcmp(v, "json") != 0 && strcmp(v, "binary") != 0)
            return ox_cli_usage_error(&ox_cmd_tail, "bad --format \"%s\"", v);
        a->o.binary = strcmp(v, "binary") == 0;
    } else if (strcmp(opt, "--token-file") == 0) {
        a->token_file = v;
    } else {
        return ox_cli_usage_error(&ox_cmd_tail, "unexpected argument \"%s\"", opt);
    }
    return rc;
}

/* --store HOST:PORT into a->host and a->port. */
static int split_store(struct args *a)
{
    const char *colon = strrchr(a->store, ':');
    if (colon == NULL || colon == a->store || (size_t)(colon - a->store) >= sizeof a->host)
        return ox_cli_usage_error(&ox_cmd_tail, "bad --store \"%s\" (HOST:PORT)", a->store);
    memcpy(a->host, a->store, (size_t)(colon - a->store));
    a->host[colon - a->store] = '\0';
    char *end;
    a->port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || a->port < 1 || a->port > 65535)
        return ox_cli_usage_error(&ox_cmd_tail, "bad port in --store \"%s\"", a->store);
    return 0;
}

static int parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    ox_client_options_init(&a->o);
    a->limit = a->idle_exit = -1;
    int rc;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--earliest") == 0) {
            a->o.from_earliest = 1;
            a->starts++;
            continue;
        }
        if (i + 1 >= argc)
            return ox_cli_usage_error(&ox_cmd_tail, "unexpected argument \"%s\"", argv[i]);
        if ((rc = parse_option(argv[i], argv[i + 1], a)) != 0)
            return rc;
        i++;
    }
    if (a->store == NULL)
        return ox_cli_usage_error(&ox_cmd_tail, "--store HOST:PORT is required");
    if (a->starts > 1)
        return ox_cli_usage_error(&ox_cmd_tail, "give only one start option");
    return split_store(a);
}

/* The bearer token from --token-file (first line); 1 with the reason on
 * stderr if it cannot be read. */
static int read_token(struct args *a)
{
    if (a->token_file == NULL)
        return 0;
    FILE *f = fopen(a->token_file, "r");
    if (f == NULL || fgets(a->token, sizeof a->token, f) == NULL) {
        fprintf(stderr, "oxbow tail: cannot read %s\n", a->token_file);
        if (f)
            fclose(f);
        return 1;
    }
    fclose(f);
    a->token[strcspn(a->token, "\r\n")] = '\0';
    a->o.token = a->token;
    return 0;
}

/* Prints records until the limit, the idle time, a stop signal or the end;
 * returns the client's last code. */
static int tail_loop(ox_client *c, const struct args *a)
{
    long long printed = 0, idle_ms = 0;
    int rc = 0;
    while (!ox_cli_stop_requested() && (a->limit < 0 || printed < a->limit)) {
        ox_client_record r;
        /* Flush stdout whenever the stream has nothing buffered, so that a
         * pipe sees each record promptly without a flush per record. */
        rc = ox_client_next(c, &r, 0);
        if (rc == OX_CLIENT_TIMEOUT) {
            fflush(stdout);
            rc = ox_client_next(c, &r, 200);
        }
        if (rc == OX_CLIENT_TIMEOUT) {
            idle_ms += 200;
            if (a->idle_exit >= 0 && idle_ms >= a->idle_exit * 1000)
                break;
            fflush(stdout);
            continue;
        }
        if (rc != OX_CLIENT_RECORD)
            break;
        idle_ms = 0;
        fwrite(r.json, 1, r.json_len, stdout);
        putchar('\n');
        printed++;
    }
    return rc;
}

static int run(int argc, char **argv)
{
    struct args a;
    int rc = parse_args(argc, argv, &a);
    if (rc != 0)
        return rc;
    if (read_token(&a) != 0)
        return 1;
    ox_cli_trap_stop_signals(); /* shared: SIGINT/SIGTERM set a flag, SIGPIPE ignored */
    ox_client *c = NULL;
    if (ox_client_open(a.host, (uint16_t)a.port, &a.o, &c) != 0) {
        fprintf(stderr, "oxbow tail: %s\n", ox_client_error(c));
        ox_client_close(c);
        return 1;
    }
    rc = tail_loop(c, &a);
    fflush(stdout);
    int status = 0;
    if (rc == OX_CLIENT_ERROR) {
        fprintf(stderr, "oxbow tail: %s\n", ox_client_error(c));
        status = 1;
    }
    ox_client_close(c);
    return status;
}
