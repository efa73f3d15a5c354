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
    .usage =
        "usage: oxbow tail --store HOST:PORT [--checkpoint C | --timestamp T | --msg-id N |\n"
        "                  --earliest] [--filter F] [--limit N] [--format json|binary]\n"
        "                  [--idle-exit SECONDS] [--token-file FILE]\n"
        "       oxbow tail --reconnect [--store URL]... [--cm URL --crawler NAME\n"
        "                  [--cm-token-file FILE]] [--give-up SECONDS] [start and options above]\n"
        "\n"
        "Subscribes to a store and prints one JSON record per line (with its msgId\n"
        "and checkpoint) until interrupted, --limit records were printed, or no\n"
        "record arrived for --idle-exit seconds. Without a start option it follows\n"
        "new records only. --checkpoint resumes right after that record. --format\n"
        "picks the wire format (default binary, the faster; the output is the same).\n"
        "Exit status: 0 (limit, idle or end of stream), 1 on errors (the store's\n"
        "reason is printed, e.g. HTTP 410 for a start older than retention).\n"
        "\n"
        "--reconnect: when the store goes away (killed, restarted, moved, 5xx),\n"
        "reconnect by itself and resume after the last printed record, so every\n"
        "record is printed once and in order; one line on stderr per reconnect.\n"
        "Where: the crawler's current host and port from the CM (--cm URL, several\n"
        "separated by ',', with --crawler NAME, the name crawler/detail takes), then\n"
        "each --store URL (http://HOST:PORT, repeatable) in turn. Waits between\n"
        "rounds grow from 0.2 s to 5 s. --give-up: fail after that many seconds\n"
        "without a store (default: never). A final answer (e.g. HTTP 410) still\n"
        "ends with status 1. Without a start option it starts at the latest record.\n",
    .run = run,
};

static void on_reconnect(void *arg, const char *line)
{
    (void)arg;
    fflush(stdout);
    fprintf(stderr, "oxbow tail: %s\n", line);
}

/* Reads the first line of path into buf; 0 or -1 (printed). */
static int read_token(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL || fgets(buf, (int)len, f) == NULL) {
        fprintf(stderr, "oxbow tail: cannot read %s\n", path);
        if (f)
            fclose(f);
        return -1;
    }
    fclose(f);
    buf[strcspn(buf, "\r\n")] = '\0';
    return 0;
}

/* --store HOST:PORT without --reconnect. */
static int parse_store(const char *store, char *host, size_t hostlen, long *port)
{
    if (store == NULL)
        return ox_cli_usage_error(&ox_cmd_tail, "--store HOST:PORT is required");
    const char *colon = strrchr(store, ':');
    if (colon == NULL || colon == store || (size_t)(colon - store) >= hostlen)
        return ox_cli_usage_error(&ox_cmd_tail, "bad --store \"%s\" (HOST:PORT)", store);
    memcpy(host, store, (size_t)(colon - store));
    host[colon - store] = '\0';
    char *end;
    *port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || *port < 1 || *port > 65535)
        return ox_cli_usage_error(&ox_cmd_tail, "bad port in --store \"%s\"", store);
    return 0;
}

/* The reconnect options make sense together only. */
static int check_reconnect(int reconnect, const ox_client_reconnect *rcfg,
                           const char *cm_token_file)
{
    if (!reconnect && (rcfg->cm_url != NULL || rcfg->crawler != NULL || rcfg->give_up_ms > 0 ||
                       cm_token_file != NULL || rcfg->n_stores > 1))
        return ox_cli_usage_error(
            &ox_cmd_tail, "--cm, --crawler, --give-up and a second --store need --reconnect");
    if (reconnect && rcfg->n_stores == 0 && rcfg->cm_url == NULL)
        return ox_cli_usage_error(&ox_cmd_tail, "--reconnect needs --store URL or --cm URL");
    if ((rcfg->cm_url == NULL) != (rcfg->crawler == NULL))
        return ox_cli_usage_error(&ox_cmd_tail, "--cm and --crawler go together");
    return 0;
}

/* Prints records until interrupted, the limit, idle_exit or an end;
 * returns the exit status. */
static int follow(ox_client *c, long long limit, long long idle_exit)
{
    long long printed = 0, idle_ms = 0;
    int rc = 0, status = 0;
    while (!ox_cli_stop_requested() && (limit < 0 || printed < limit)) {
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
    return status;
}

#define OX_TAIL_MAX_STORES 16

static int run(int argc, char **argv)
{
    const char *store = NULL, *token_file = NULL, *cm_token_file = NULL;
    const char *stores[OX_TAIL_MAX_STORES];
    ox_client_reconnect rcfg;
    ox_client_reconnect_init(&rcfg);
    rcfg.stores = stores;
    rcfg.on_reconnect = on_reconnect;
    int reconnect = 0;
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
        if (strcmp(a, "--reconnect") == 0) {
            reconnect = 1;
            continue;
        }
        if (v == NULL)
            return ox_cli_usage_error(&ox_cmd_tail, "unexpected argument \"%s\"", a);
        char *end = NULL;
        if (strcmp(a, "--store") == 0) {
            if (rcfg.n_stores == OX_TAIL_MAX_STORES)
                return ox_cli_usage_error(&ox_cmd_tail, "at most %d --store", OX_TAIL_MAX_STORES);
            store = stores[rcfg.n_stores++] = v;
        } else if (strcmp(a, "--cm") == 0) {
            rcfg.cm_url = v;
        } else if (strcmp(a, "--crawler") == 0) {
            rcfg.crawler = v;
        } else if (strcmp(a, "--cm-token-file") == 0) {
            cm_token_file = v;
        } else if (strcmp(a, "--give-up") == 0) {
            long long g = strtoll(v, &end, 10);
            if (*v == '\0' || *end != '\0' || g <= 0)
                return ox_cli_usage_error(&ox_cmd_tail, "bad --give-up \"%s\"", v);
            rcfg.give_up_ms = g * 1000;
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
    if (starts > 1)
        return ox_cli_usage_error(&ox_cmd_tail, "give only one start option");
    int bad = check_reconnect(reconnect, &rcfg, cm_token_file);
    if (bad != 0)
        return bad;
    char host[256];
    long port = 0;
    if (!reconnect && (bad = parse_store(store, host, sizeof host, &port)) != 0)
        return bad;
    char token[1024], cm_token[1024];
    if (token_file != NULL) {
        if (read_token(token_file, token, sizeof token) != 0)
            return 1;
        o.token = token;
    }
    if (cm_token_file != NULL) {
        if (read_token(cm_token_file, cm_token, sizeof cm_token) != 0)
            return 1;
        rcfg.cm_token = cm_token;
    }
    /* Shared with the other commands: SIGINT/SIGTERM set a flag. */
    ox_cli_trap_stop_signals();
    ox_client *c = NULL;
    int orc = reconnect ? ox_client_open_reconnect(&rcfg, &o, &c)
                        : ox_client_open(host, (uint16_t)port, &o, &c);
    if (orc != 0) {
        fprintf(stderr, "oxbow tail: %s\n", ox_client_error(c));
        ox_client_close(c);
        return 1;
    }
    int status = follow(c, limit, idle_exit);
    ox_client_close(c);
    return status;
}
