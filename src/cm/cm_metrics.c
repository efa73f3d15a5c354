/*
 * cm_metrics.c - GET /metrics on the CM: its own figures and every store's,
 * in the Prometheus text format (docs/operations.md lists them).
 *
 * A store's figures come from its last /v1/status as its supervisor reported
 * it (every heartbeat), labelled store, topic and host, so that one scrape of
 * the CM serves a small deployment. Families are written whole, one after the
 * other, as the format requires.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cm_api.h"
#include "cm_ops.h"
#include "ox_buf.h"
#include "ox_metrics.h"

enum val_kind { V_UP, V_DESIRED, V_STATUS, V_RESTARTS, V_JSON, V_JSON_MS, V_JSON_OPT };

static const struct store_family {
    const char *name, *type, *help;
    enum val_kind kind;
    const char *key; /* status_json key for V_JSON */
} store_families[] = {
    {"oxbow_store_up", "gauge", "1 if the store is running with status 0 (normal), else 0.", V_UP,
     NULL},
    {"oxbow_store_desired_running", "gauge",
     "1 if the store should run (not paused with crawler/clear), else 0.", V_DESIRED, NULL},
    {"oxbow_store_status_code", "gauge",
     "The store's status as in crawler/detail (0 normal, 1-11 store codes, 1001 stopped, 1002 "
     "starting, 1003 crashed, 1004 host lost, 1005 destroying, 1006 failed).",
     V_STATUS, NULL},
    {"oxbow_store_restarts_total", "counter",
     "Times the supervisor restarted the store after it exited (since the supervisor started).",
     V_RESTARTS, NULL},
    {"oxbow_store_records_captured_total", "counter",
     "Change records appended to the change log since the store started.", V_JSON, "recordsTotal"},
    {"oxbow_store_captured_bytes_total", "counter",
     "Payload bytes appended to the change log since the store started.", V_JSON, "capturedBytes"},
    {"oxbow_store_records_sent_total", "counter",
     "Records sent to subscribers since the store started.", V_JSON, "recordsSent"},
    {"oxbow_store_source_reconnects_total", "counter",
     "Times capture reconnected to the source since the store started.", V_JSON, "reconnects"},
    {"oxbow_store_source_stream_resends_total", "counter",
     "PostgreSQL: streamed transactions received again unstreamed since the store started.", V_JSON,
     "streamResends"},
    {"oxbow_store_delay_seconds", "gauge",
     "How far capture is behind the source: now minus the source time of the last event.", V_JSON,
     "delay"},
    {"oxbow_store_last_event_timestamp_seconds", "gauge",
     "Source time of the last event captured, in seconds since the epoch.", V_JSON_MS,
     "lastEventMs"},
    {"oxbow_store_log_size_bytes", "gauge", "Size of the retained change log segments.", V_JSON,
     "bytes"},
    {"oxbow_store_log_segments", "gauge", "Retained change log segments.", V_JSON, "segments"},
    {"oxbow_store_log_first_event_timestamp_seconds", "gauge",
     "Retention horizon: source time of the earliest retained record (0 when empty).", V_JSON,
     "firstTimestamp"},
    {"oxbow_store_log_last_msg_id", "gauge", "msgId of the latest record in the change log.",
     V_JSON, "lastMsgId"},
    {"oxbow_store_subscribers", "gauge", "Subscribers connected now.", V_JSON, "subscribers"},
    {"oxbow_store_filesystem_size_bytes", "gauge",
     "Size of the file system holding the store's directory.", V_JSON, "fsSize"},
    {"oxbow_store_filesystem_avail_bytes", "gauge",
     "Bytes available to the store on the file system holding its directory.", V_JSON, "fsAvail"},
    {"oxbow_source_lag_bytes", "gauge",
     "PostgreSQL: WAL bytes between the server's latest position and the flush position the "
     "store last confirmed on its replication slot (no sample for a MySQL store).",
     V_JSON_OPT, "sourceLagBytes"},
    {"oxbow_source_wal_status", "gauge",
     "PostgreSQL: the slot's wal_status (0 reserved, 1 extended, 2 unreserved, 3 lost; no "
     "sample for a MySQL store).",
     V_JSON_OPT, "sourceWalStatusCode"},
};

/* True when the store's last status carries `key` (figures that only some
 * source types have: a missing one is no sample, not a 0). */
static int status_has(const char *status_json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    return status_json != NULL && strstr(status_json, pat) != NULL;
}

static double store_value(const struct ox_cm *cm, const struct cm_crawler *c,
                          const struct store_family *f)
{
    const char *err;
    int status = cm_crawler_status(cm, c, &err);
    int live = strcmp(c->state, "running") == 0 && status == 0;
    switch (f->kind) {
    case V_UP:
        return live;
    case V_DESIRED:
        return c->desired == CM_RUN;
    case V_STATUS:
        return status;
    case V_RESTARTS:
        return c->restarts;
    case V_JSON:
    case V_JSON_OPT:
        return live ? cm_ops_status_num(c->status_json, f->key) : 0;
    case V_JSON_MS:
        return cm_ops_status_num(c->status_json, f->key) / 1000.0;
    }
    return 0;
}

int cm_h_metrics(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    (void)req;
    ox_buf b = OX_BUF_INIT;
    ox_metrics_family(&b, "oxbow_cm_active", "gauge",
                      "1 if crawler.active is true (the metaDB is writable, fast and in step).");
    ox_metrics_sample(&b, "oxbow_cm_active", NULL, cm_active(cm));
    ox_metrics_hist_write(cm->ops->mdb, &b, "oxbow_cm_metadb_write_duration_seconds",
                          "Duration of metaDB writes (statements and health transactions).");
    pthread_rwlock_rdlock(&cm->lock);
    ox_metrics_family(&b, "oxbow_cm_host_up", "gauge",
                      "1 if the host's supervisor reported within cm.host.lost_ms, else 0.");
    for (int i = 0; i < cm->hosts.n; i++) {
        struct cm_host *h = cm->hosts.v[i];
        const char *l[] = {"host", h->id, NULL};
        ox_metrics_sample(&b, "oxbow_cm_host_up", l, cm_host_live(cm, h));
    }
    ox_metrics_family(&b, "oxbow_cm_host_last_heartbeat_timestamp_seconds", "gauge",
                      "When the host's supervisor last reported, in seconds since the epoch.");
    for (int i = 0; i < cm->hosts.n; i++) {
        struct cm_host *h = cm->hosts.v[i];
        const char *l[] = {"host", h->id, NULL};
        ox_metrics_sample(&b, "oxbow_cm_host_last_heartbeat_timestamp_seconds", l,
                          (double)h->last_hb_ms / 1000.0);
    }
    for (size_t f = 0; f < sizeof store_families / sizeof store_families[0]; f++) {
        const struct store_family *fam = &store_families[f];
        ox_metrics_family(&b, fam->name, fam->type, fam->help);
        for (int i = 0; i < cm->crawlers.n; i++) {
            struct cm_crawler *c = cm->crawlers.v[i];
            const char *l[] = {"store", c->name, "topic", c->topic, "host", c->host_id, NULL};
            if (fam->kind == V_JSON_OPT && !status_has(c->status_json, fam->key))
                continue;
            ox_metrics_sample(&b, fam->name, l, store_value(cm, c, fam));
        }
    }
    pthread_rwlock_unlock(&cm->lock);
    ox_metrics_http_write(cm->ops->http, &b);
    json_decref(resp->body);
    resp->body = NULL;
    resp->http_status = 200;
    resp->content_type = OX_METRICS_CONTENT_TYPE;
    resp->raw_len = b.len;
    resp->raw = (char *)b.data;
    if (resp->raw == NULL)
        resp->raw = calloc(1, 1);
    return 0;
}
