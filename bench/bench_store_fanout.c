/*
 * bench_store_fanout.c - records/s from a running store to N subscribers.
 *
 *     bench_store_fanout PORT NSUBS RECORDS json|binary [rows]
 *
 * Starts NSUBS threads; each subscribes from the earliest record through
 * liboxbow-client (compiled in from src/client, since bench programs link
 * the core library only) and reads RECORDS records (with "rows": RECORDS
 * row changes, not counting commit records). A store that is not up yet is
 * retried for 30 s (catch-up runs start both at once). Prints one line:
 * "subs=N format=F records=R seconds=S rec_per_s_each=X rec_per_s_total=Y".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../src/client/ox_client.c"
#include "../src/client/ox_client_parse.c"
#include "../src/client/ox_client_ep.c"
#include "../src/client/ox_client_retry.c"

struct job {
    uint16_t port;
    uint64_t want;
    int binary;
    int rows_only;
    uint64_t got;
    double secs;
    int failed;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run(void *arg)
{
    struct job *j = arg;
    ox_client_options o;
    ox_client_options_init(&o);
    o.from_earliest = 1;
    o.binary = j->binary;
    ox_client *c = NULL;
    double t0 = now_s();
    while (ox_client_open("127.0.0.1", j->port, &o, &c) != 0) {
        if (now_s() - t0 > 30) {
            fprintf(stderr, "open: %s\n", ox_client_error(c));
            j->failed = 1;
            ox_client_close(c);
            return NULL;
        }
        ox_client_close(c);
        c = NULL;
        struct timespec ts = {0, 2000000};
        nanosleep(&ts, NULL);
    }
    ox_client_record r;
    while (j->got < j->want) {
        int rc = ox_client_next(c, &r, 10000);
        if (rc != OX_CLIENT_RECORD) {
            fprintf(stderr, "next: %d %s\n", rc, ox_client_error(c));
            j->failed = 1;
            break;
        }
        if (j->rows_only && memmem(r.json, r.json_len, "\"op\":\"commit\"", 13) != NULL)
            continue;
        j->got++;
    }
    j->secs = now_s() - t0;
    ox_client_close(c);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: %s PORT NSUBS RECORDS json|binary [rows]\n", argv[0]);
        return 2;
    }
    int n = atoi(argv[2]);
    struct job *jobs = calloc((size_t)n, sizeof *jobs);
    pthread_t *th = calloc((size_t)n, sizeof *th);
    double t0 = now_s();
    for (int i = 0; i < n; i++) {
        jobs[i].port = (uint16_t)atoi(argv[1]);
        jobs[i].want = strtoull(argv[3], NULL, 10);
        jobs[i].binary = strcmp(argv[4], "binary") == 0;
        jobs[i].rows_only = argc == 6 && strcmp(argv[5], "rows") == 0;
        pthread_create(&th[i], NULL, run, &jobs[i]);
    }
    int failed = 0;
    uint64_t total = 0;
    for (int i = 0; i < n; i++) {
        pthread_join(th[i], NULL);
        failed |= jobs[i].failed;
        total += jobs[i].got;
    }
    double secs = now_s() - t0;
    printf("subs=%d format=%s records=%llu seconds=%.3f rec_per_s_each=%.0f rec_per_s_total=%.0f\n",
           n, argv[4], (unsigned long long)total, secs, (double)total / n / secs,
           (double)total / secs);
    free(jobs);
    free(th);
    return failed;
}
