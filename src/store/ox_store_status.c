/*
 * ox_store_status.c - the store's status: code + errMsg, delay, rates, and
 * the GET /v1/status JSON document (shape fixed in notes/store_contract.md
 * and docs/store.md).
 *
 * errMsg follows the seed: "[Fri Sep 16 10:24:07 2022] DRC_500:Store NAME
 * started successfully\n" (local time in asctime form), DRC_5xx matching the
 * status code (DRC_500 + status).
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "ox_buf.h"
#include "ox_checkpoint.h"
#include "ox_json_out.h"
#include "ox_record.h"
#include "ox_store_priv.h"

void ox_store_set_status(struct ox_store *st, int status, int level, const char *fmt, ...)
{
    char text[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char date[64];
    strftime(date, sizeof date, "%a %b %d %H:%M:%S %Y", &tm);
    pthread_mutex_lock(&st->mu);
    int changed = st->status != status || strstr(st->err_msg, text) == NULL;
    st->status = status;
    snprintf(st->err_msg, sizeof st->err_msg, "[%s] DRC_%d:%s\n", date, 500 + status, text);
    pthread_mutex_unlock(&st->mu);
    /* Repeated identical failures (retry loops) are logged at debug level. */
    ox_slog_printf(st->slog, changed ? level : 0, "DRC_%d:%s", 500 + status, text);
}

void ox_store_rate_sample(struct ox_store *st)
{
    uint64_t n = __atomic_load_n(&st->records_total, __ATOMIC_RELAXED);
    int64_t t = ox_time_mono_ms();
    pthread_mutex_lock(&st->mu);
    if (st->rate_n == OX_RATE_SAMPLES) {
        memmove(st->rate_samples, st->rate_samples + 1,
                (OX_RATE_SAMPLES - 1) * sizeof st->rate_samples[0]);
        memmove(st->rate_times, st->rate_times + 1,
                (OX_RATE_SAMPLES - 1) * sizeof st->rate_times[0]);
        st->rate_n--;
    }
    st->rate_samples[st->rate_n] = n;
    st->rate_times[st->rate_n] = t;
    st->rate_n++;
    pthread_mutex_unlock(&st->mu);
}

double ox_store_delay_s(struct ox_store *st)
{
    int64_t src_ms = __atomic_load_n(&st->src_time_ms, __ATOMIC_RELAXED);
    if (src_ms <= 0)
        return 0;
    double d = (double)(ox_time_wall_ms() - src_ms) / 1000.0;
    return d < 0 ? 0 : d;
}

static void put_checkpoint(struct ox_store *st, ox_buf *out, uint64_t msg_id,
                           const ox_log_srcpos *src)
{
    const ox_store_config *c = st->cfg;
    char ip[16], cp[OX_CHECKPOINT_STRLEN];
    ox_ipv4_format(c->source_ip, ip);
    ox_record_checkpoint(c->source_ip, c->source_port, src, msg_id, cp);
    ox_buf_printf(out,
                  "{\"checkpoint\":\"%s\",\"dataSource\":\"%s:%u\",\"dbIp\":%" PRIu32
                  ",\"dbIpString\":\"%s\",\"dbPort\":%u,\"fileIdx\":%" PRIu64
                  ",\"gmt\":null,\"msgId\":%" PRIu64 ",\"offset\":%" PRIu64
                  ",\"timestamp\":%" PRId64 "}",
                  cp, ip, (unsigned)c->source_port, c->source_ip, ip, (unsigned)c->source_port,
                  src->file_idx, msg_id, src->offset, src->timestamp);
}

void ox_store_status_json(struct ox_store *st, ox_buf *out)
{
    const ox_store_config *c = st->cfg;
    ox_log_info info;
    memset(&info, 0, sizeof info);
    if (st->log != NULL)
        ox_log_info_get(st->log, &info);
    char ip[16];
    ox_ipv4_format(c->source_ip, ip);
    pthread_mutex_lock(&st->mu);
    int status = st->status;
    char msg[sizeof st->err_msg];
    memcpy(msg, st->err_msg, sizeof msg);
    double rate = 0;
    if (st->rate_n >= 2) {
        int a = 0, b = st->rate_n - 1;
        int64_t dt = st->rate_times[b] - st->rate_times[a];
        if (dt > 0)
            rate = (double)(st->rate_samples[b] - st->rate_samples[a]) * 1000.0 / (double)dt;
    }
    pthread_mutex_unlock(&st->mu);
    int64_t src_ms = __atomic_load_n(&st->src_time_ms, __ATOMIC_RELAXED);
    double delay = ox_store_delay_s(st);
    OX_JSON_LIT(out, "{\"name\":");
    ox_json_str(out, c->name, strlen(c->name));
    ox_buf_printf(out, ",\"status\":%d,\"errMsg\":", status);
    ox_json_str(out, msg, strlen(msg));
    ox_buf_printf(out,
                  ",\"pid\":%d,\"port\":%u,\"datasource\":\"%s:%u\",\"dbIp\":%" PRIu32
                  ",\"dbIpString\":\"%s\",\"dbPort\":%u,\"checkpoints\":[",
                  (int)getpid(), (unsigned)c->port, ip, (unsigned)c->source_port, c->source_ip, ip,
                  (unsigned)c->source_port);
    if (info.last_msg_id > 0) {
        put_checkpoint(st, out, info.first_msg_id, &info.first_src);
        ox_buf_putc(out, ',');
        put_checkpoint(st, out, info.last_msg_id, &info.last_src);
    }
    ox_buf_printf(out,
                  "],\"delay\":%.3f,\"recordsPerSec\":%.1f,\"bytes\":%" PRIu64
                  ",\"subscribers\":%d,\"lastMsgId\":%" PRIu64 ",\"schemaMismatches\":%" PRIu64
                  ",\"schemaUnknown\":%" PRIu64,
                  delay, rate, info.bytes, __atomic_load_n(&st->subscribers, __ATOMIC_RELAXED),
                  info.last_msg_id, __atomic_load_n(&st->schema_mismatches, __ATOMIC_RELAXED),
                  __atomic_load_n(&st->schema_unknown, __ATOMIC_RELAXED));
    /* Counters since the store started and log figures, for GET /metrics on
     * the CM (docs/operations.md). */
    ox_buf_printf(out,
                  ",\"recordsTotal\":%" PRIu64 ",\"capturedBytes\":%" PRIu64
                  ",\"recordsSent\":%" PRIu64 ",\"reconnects\":%" PRIu64 ",\"segments\":%" PRIu32
                  ",\"firstTimestamp\":%" PRId64 ",\"lastEventMs\":%" PRId64
                  ",\"startMs\":%" PRId64,
                  __atomic_load_n(&st->records_total, __ATOMIC_RELAXED),
                  __atomic_load_n(&st->bytes_total, __ATOMIC_RELAXED),
                  __atomic_load_n(&st->served_total, __ATOMIC_RELAXED),
                  __atomic_load_n(&st->reconnects, __ATOMIC_RELAXED), info.segments,
                  info.first_msg_id ? info.first_src.timestamp : (int64_t)0, src_ms, st->start_ms);
    /* The file system of the store's directory, for the disk alert. */
    struct statvfs vfs;
    uint64_t fs_size = 0, fs_avail = 0;
    if (statvfs(c->dir, &vfs) == 0) {
        fs_size = (uint64_t)vfs.f_blocks * vfs.f_frsize;
        fs_avail = (uint64_t)vfs.f_bavail * vfs.f_frsize;
    }
    ox_buf_printf(out, ",\"fsSize\":%" PRIu64 ",\"fsAvail\":%" PRIu64, fs_size, fs_avail);
    ox_store_sub_status_json(st, out, info.last_msg_id);
    /* PostgreSQL: WAL the store's slot keeps on the source (docs/pg_capture.md). */
    int64_t lag = __atomic_load_n(&st->source_lag_bytes, __ATOMIC_RELAXED);
    if (lag >= 0)
        ox_buf_printf(out, ",\"sourceLagBytes\":%" PRId64, lag);
    int ws = __atomic_load_n(&st->source_wal_status, __ATOMIC_RELAXED);
    if (ws >= 0)
        ox_buf_printf(out, ",\"sourceWalStatus\":\"%s\",\"sourceWalStatusCode\":%d",
                      ox_store_wal_status_names[ws], ws);
    OX_JSON_LIT(out, "}\n");
}
