/*
 * bench_log.c - change log throughput: appends with group commit, reads.
 *
 * usage: bench_log write DIR NRECORDS [PAYLOAD_BYTES]
 *        bench_log read  DIR NRECORDS
 *
 * write: a fresh log in DIR with fsync policy INTERVAL (10 ms); NRECORDS
 * records of PAYLOAD_BYTES (default 200), each its own transaction, as one
 * capture thread would append them; then a final sync and close.
 * read: one reader from the earliest record to the last, checking the count.
 *        bench_log time OUT CMD [ARGS...]
 *
 * Prints one line: "<mode> records=N bytes=B seconds=S cpu_seconds=C
 * maxrss_kb=K", where B is the size of the segment files (what dd and cat
 * are measured on). The time mode runs CMD with stdout on OUT and prints
 * "time seconds=S" (wall clock from fork to exit), so that dd and cat are
 * timed as precisely as the log.
 */
#include <dirent.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

#include "ox_log.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static unsigned long long seg_bytes(const char *dir)
{
    DIR *d = opendir(dir);
    unsigned long long total = 0;
    struct dirent *de;
    char p[4096];
    while (d != NULL && (de = readdir(d)) != NULL) {
        size_t l = strlen(de->d_name);
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        if (l > 4 && strcmp(de->d_name + l - 4, ".seg") == 0 && stat(p, &st) == 0)
            total += (unsigned long long)st.st_size;
    }
    if (d != NULL)
        closedir(d);
    return total;
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static int do_write(const char *dir, unsigned long long n, unsigned len)
{
    ox_log_options o;
    ox_log_options_default(&o);
    o.fsync_policy = OX_LOG_FSYNC_INTERVAL;
    o.fsync_interval_ms = 10;
    ox_log *log;
    ox_errbuf eb;
    unsigned char *payload = malloc(len);
    for (unsigned i = 0; i < len; i++)
        payload[i] = (unsigned char)(i * 31 + 7);
    double t0 = now_s(), c0 = cpu_s();
    if (ox_log_open(dir, &o, &log, NULL, &eb) != 0) {
        fprintf(stderr, "open: %s\n", eb.msg);
        return 1;
    }
    ox_log_srcpos src;
    memset(&src, 0, sizeof src);
    src.file_idx = 42;
    for (unsigned long long i = 0; i < n; i++) {
        src.offset = 4 + i * 300;
        src.timestamp = 1700000000 + (int64_t)(i / 10000);
        if (ox_log_append(log, &src, payload, len, OX_LOG_COMMIT, NULL, &eb) != 0) {
            fprintf(stderr, "append: %s\n", eb.msg);
            return 1;
        }
    }
    if (ox_log_sync(log, &eb) != 0 || ox_log_close(log) != 0) {
        fprintf(stderr, "sync/close failed\n");
        return 1;
    }
    double t = now_s() - t0, c = cpu_s() - c0;
    printf("write records=%llu bytes=%llu seconds=%.4f cpu_seconds=%.4f maxrss_kb=%ld\n", n,
           seg_bytes(dir), t, c, maxrss_kb());
    free(payload);
    return 0;
}

static int do_read(const char *dir, unsigned long long n)
{
    ox_log_options o;
    ox_log_options_default(&o);
    ox_log *log;
    ox_errbuf eb;
    if (ox_log_open(dir, &o, &log, NULL, &eb) != 0) {
        fprintf(stderr, "open: %s\n", eb.msg);
        return 1;
    }
    ox_log_start st = {OX_LOG_FROM_EARLIEST, 0, 0, 0, 0};
    ox_log_reader *r;
    if (ox_log_reader_open(log, &st, &r, &eb) != 0) {
        fprintf(stderr, "reader: %s\n", eb.msg);
        return 1;
    }
    ox_log_record rec;
    unsigned long long got = 0, sum = 0;
    double t0 = now_s(), c0 = cpu_s();
    int rc;
    while ((rc = ox_log_reader_next(r, &rec, 0, &eb)) == 0) {
        got++;
        sum += rec.payload_len + rec.payload[0];
    }
    double t = now_s() - t0, c = cpu_s() - c0;
    if (rc != OX_EAGAIN || got != n) {
        fprintf(stderr, "read %llu of %llu records: %s\n", got, n, eb.msg);
        return 1;
    }
    printf("read records=%llu bytes=%llu seconds=%.4f cpu_seconds=%.4f maxrss_kb=%ld "
           "checksum=%llu\n",
           got, seg_bytes(dir), t, c, maxrss_kb(), sum);
    ox_log_reader_free(r);
    ox_log_close(log);
    return 0;
}

static int do_time(const char *out, char **argv)
{
    double t0 = now_s();
    pid_t pid = fork();
    if (pid < 0)
        return 1;
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    int st;
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        fprintf(stderr, "%s failed\n", argv[0]);
        return 1;
    }
    printf("time seconds=%.4f\n", now_s() - t0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 4 && strcmp(argv[1], "time") == 0)
        return do_time(argv[2], argv + 3);
    if (argc < 4) {
        fprintf(stderr, "usage: %s write|read DIR NRECORDS [PAYLOAD_BYTES]\n", argv[0]);
        return 2;
    }
    unsigned long long n = strtoull(argv[3], NULL, 10);
    if (strcmp(argv[1], "write") == 0)
        return do_write(argv[2], n, argc > 4 ? (unsigned)strtoul(argv[4], NULL, 10) : 200);
    if (strcmp(argv[1], "read") == 0)
        return do_read(argv[2], n);
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    return 2;
}
