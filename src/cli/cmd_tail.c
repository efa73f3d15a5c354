/* cmd_tail.c - `oxbow tail`: print a store's change records (liboxbow-client). */
#include <inttypes.h>
#include <signal.h>
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

static volatile sig_atomic_t interrupted;

static void on_int(int sig)
{
    interrupted = 1;
}

static int run(int argc, char **argv)
{
    const char *store = NULL, *token_file = NULL;
    ox_client_options o;
    ox_client_options_init(&o);
    long long limit = -1, idle_exit = -1;
    int starts = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--earliest") == 0) {
            o.from_earliest = 1;
            starts++;
            continue;
        }
        if (v == NULL)
            return ox_cli_usage_error(&ox_cmd_tail, "unexpected argument \"%s\"", a);
        char *end = NULL;
        if (strcmp(a, "--store") == 0) {
            store = v;
        } else if (strcmp(a, "--checkpoint") == 0) {
            o.checkpoint = v;
            starts++;
        } else if (strcmp(a, "--timestamp") == 0) {
            o.timestamp = strtoll(v, &end, 10);
            if (*v == '\0' || *end != '\0' || o.timestamp < 0)
                return ox_cli_usage_error(&ox_cmd_tail, "bad --timestamp \"%s\"", v);
            starts++;
        } else if (strcmp(a, "--msg-id") == 0) {
            o.msg_id = strtoull(v, &end, 10);
            if (*v == '\0' || *end != '\0' || o.msg_id == 0)
                return ox_cli_usage_error(&ox_cmd_tail, "bad --msg-id \"%s\"", v);
            starts++;
        } else if (strcmp(a, "--filter") == 0) {
            o.filter = v;
        } else if (strcmp(a, "--limit") == 0) {
            limit = strtoll(v, &end, 10);
            if (*v == '\0' || *end != '\0' || limit < 0)
                return ox_cli_usage_error(&ox_cmd_tail, "bad --limit \"%s\"", v);
        } else if (strcmp(a, "--idle-exit") == 0) {
            idle_exit = strtoll(v, &end, 10);
            if (*v == '\0' || *end != '\0' || idle_exit < 0)
                return ox_cli_usage_error(&ox_cmd_tail, "bad --idle-exit \"%s\"", v);
        } else if (strcmp(a, "--format") == 0) {
            if (strcmp(v, "json") == 0)
                o.binary = 0;
            else if (strcmp(v, "binary") == 0)
                o.binary = 1;
            else
                return ox_cli_usage_error(&ox_cmd_tail, "bad --format \"%s\"", v);
        } else if (strcmp(a, "--token-file") == 0) {
            token_file = v;
        } else {
            return ox_cli_usage_error(&ox_cmd_tail, "unexpected argument \"%s\"", a);
        }
        i++;
    }
    if (store == NULL)
        return ox_cli_usage_error(&ox_cmd_tail, "--store HOST:PORT is required");
    if (starts > 1)
        return ox_cli_usage_error(&ox_cmd_tail, "give only one start option");
    const char *colon = strrchr(store, ':');
    char host[256];
    if (colon == NULL || colon == store || (size_t)(colon - store) >= sizeof host)
        return ox_cli_usage_error(&ox_cmd_tail, "bad --store \"%s\" (HOST:PORT)", store);
    memcpy(host, store, (size_t)(colon - store));
    host[colon - store] = '\0';
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 1 || port > 65535)
        return ox_cli_usage_error(&ox_cmd_tail, "bad port in --store \"%s\"", store);
    char token[1024];
    if (token_file != NULL) {
        FILE *f = fopen(token_file, "r");
        if (f == NULL || fgets(token, sizeof token, f) == NULL) {
            fprintf(stderr, "oxbow tail: cannot read %s\n", token_file);
            if (f)
                fclose(f);
            return 1;
        }
        fclose(f);
        token[strcspn(token, "\r\n")] = '\0';
        o.token = token;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_int;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);

    ox_client *c = NULL;
    if (ox_client_open(host, (uint16_t)port, &o, &c) != 0) {
        fprintf(stderr, "oxbow tail: %s\n", ox_client_error(c));
        ox_client_close(c);
        return 1;
    }
    long long printed = 0, idle_ms = 0;
    int rc = 0, status = 0;
    while (!interrupted && (limit < 0 || printed < limit)) {
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
            if (idle_exit >= 0 && idle_ms >= idle_exit * 1000)
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
    fflush(stdout);
    if (rc == OX_CLIENT_ERROR) {
        fprintf(stderr, "oxbow tail: %s\n", ox_client_error(c));
        status = 1;
    }
    ox_client_close(c);
    return status;
}
