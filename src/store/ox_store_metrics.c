/*
 * ox_store_metrics.c - GET /metrics on the store: its figures in the
 * Prometheus text format (names and units in docs/operations.md).
 *
 * Counters count since the store process started (Prometheus handles the
 * reset on restart); gauges read the change log and the capture state now.
 * No label names the store: the scrape target does, and the CM's /metrics
 * republishes the same figures with store, topic and host labels.
 */
#include <microhttpd.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>

#include "ox_buf.h"
#include "ox_log.h"
#include "ox_metrics.h"
#include "ox_store_priv.h"

static void one(ox_buf *b, const char *name, const char *type, const char *help, double v)
{
    ox_metrics_family(b, name, type, help);
    ox_metrics_sample(b, name, NULL, v);
}

static double ld(uint64_t *p)
{
    return (double)__atomic_load_n(p, __ATOMIC_RELAXED);
}

int ox_store_metrics_handle(struct ox_store *st, struct MHD_Connection *conn)
{
    ox_log_info info;
    memset(&info, 0, sizeof info);
    if (st->log != NULL)
        ox_log_info_get(st->log, &info);
    pthread_mutex_lock(&st->mu);
    int status = st->status;
    pthread_mutex_unlock(&st->mu);
    int64_t src_ms = __atomic_load_n(&st->src_time_ms, __ATOMIC_RELAXED);
    double delay = ox_store_delay_s(st);
    ox_buf b = OX_BUF_INIT;
    const char *labels[] = {"store", st->cfg->name, NULL};
    ox_metrics_family(&b, "oxbow_store_info", "gauge", "Always 1; the store's name as a label.");
    ox_metrics_sample(&b, "oxbow_store_info", labels, 1);
    one(&b, "oxbow_store_status_code", "gauge",
        "The store's status code (0 normal; 1 source down; 2 position purged; 3 refused; 4 log "
        "failed; 5 stopping; 6-11 PostgreSQL faults, docs/store.md).",
        status);
    one(&b, "oxbow_store_start_time_seconds", "gauge",
        "When the store process started, in seconds since the epoch.", (double)st->start_ms / 1e3);
    one(&b, "oxbow_store_records_captured_total", "counter",
        "Change records appended to the change log since the store started.",
        ld(&st->records_total));
    one(&b, "oxbow_store_captured_bytes_total", "counter",
        "Payload bytes appended to the change log since the store started.", ld(&st->bytes_total));
    one(&b, "oxbow_store_records_sent_total", "counter",
        "Records sent to subscribers (all of them) since the store started.",
        ld(&st->served_total));
    ox_store_sub_metrics(st, &b);
    one(&b, "oxbow_store_delay_seconds", "gauge",
        "How far capture is behind the source: now minus the source time of the last event.",
        delay);
    one(&b, "oxbow_store_last_event_timestamp_seconds", "gauge",
        "Source time of the last event captured, in seconds since the epoch.",
        (double)src_ms / 1e3);
    one(&b, "oxbow_store_log_size_bytes", "gauge", "Size of the retained change log segments.",
        (double)info.bytes);
    one(&b, "oxbow_store_log_segments", "gauge", "Retained change log segments.",
        (double)info.segments);
    one(&b, "oxbow_store_log_first_event_timestamp_seconds", "gauge",
        "Retention horizon: source time of the earliest retained record (0 when empty).",
        info.first_msg_id ? (double)info.first_src.timestamp : 0);
    one(&b, "oxbow_store_log_last_msg_id", "gauge", "msgId of the latest record in the change log.",
        (double)info.last_msg_id);
    one(&b, "oxbow_store_subscribers", "gauge", "Subscribers connected now.",
        (double)__atomic_load_n(&st->subscribers, __ATOMIC_RELAXED));
    one(&b, "oxbow_store_source_reconnects_total", "counter",
        "Times capture reconnected to the source since the store started.", ld(&st->reconnects));
    one(&b, "oxbow_store_source_stream_resends_total", "counter",
        "PostgreSQL: streamed transactions received again unstreamed since the store started.",
        ld(&st->stream_resends));
    /* PostgreSQL only: a MySQL store has no slot and writes no sample. */
    int64_t lag = __atomic_load_n(&st->source_lag_bytes, __ATOMIC_RELAXED);
    if (lag >= 0)
        one(&b, "oxbow_source_lag_bytes", "gauge",
            "PostgreSQL: WAL bytes between the server's latest position and the flush position "
            "the store last confirmed on its replication slot.",
            (double)lag);
    int ws = __atomic_load_n(&st->source_wal_status, __ATOMIC_RELAXED);
    if (ws >= 0)
        one(&b, "oxbow_source_wal_status", "gauge",
            "PostgreSQL: the slot's wal_status (0 reserved, 1 extended, 2 unreserved, 3 lost).",
            ws);
    struct statvfs vfs;
    if (statvfs(st->cfg->dir, &vfs) == 0) {
        one(&b, "oxbow_store_filesystem_size_bytes", "gauge",
            "Size of the file system holding the store's directory.",
            (double)vfs.f_blocks * (double)vfs.f_frsize);
        one(&b, "oxbow_store_filesystem_avail_bytes", "gauge",
            "Bytes available to the store on the file system holding its directory.",
            (double)vfs.f_bavail * (double)vfs.f_frsize);
    }
    ox_metrics_http_write(st->http_counts, &b);
    struct MHD_Response *r = MHD_create_response_from_buffer(b.len, b.data, MHD_RESPMEM_MUST_COPY);
    ox_buf_free(&b);
    if (r == NULL)
        return MHD_NO;
    MHD_add_response_header(r, "Content-Type", OX_METRICS_CONTENT_TYPE);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    int ret = MHD_queue_response(conn, MHD_HTTP_OK, r);
    MHD_destroy_response(r);
    return ret;
}
