/*
 * ox_store_sub.c - GET /v1/subscribe: one streaming response per subscriber.
 *
 * Each subscriber owns an ox_log_reader and runs in its own MHD connection
 * thread: the content callback below blocks in ox_log_reader_next (at most
 * 250 ms at a time, so that shutdown and dead peers are noticed) and fills
 * MHD's buffer with as many records as fit. A slow peer only fills its own
 * socket; the capture thread and the other subscribers never wait for it.
 *
 * Wire formats (docs/protocol.md is the reference):
 *
 * format=json (Content-Type application/x-ndjson): one JSON object per line,
 *     {"msgId":N,"checkpoint":"ip:port:fileIdx:offset:ts:N", ...the record}
 *   An empty line is a keepalive (sent after KEEPALIVE_MS without data). A
 *   final line {"isSuccess":false,"errMsg":"..."} reports why the store
 *   ended the stream (retention overtook the reader, a corrupt record).
 *
 * format=binary (Content-Type application/octet-stream): the 8 bytes
 *   "OXBSTRM1", then frames of a 40-byte header and the stored payload.
 *
 * Both formats' bytes are encoded by src/lib/ox_record.h, which the client
 * decodes with; this file only decides what to send and when.
 *
 * Transactions: row and DDL records pass the subscriber's filter or not; a
 * COMMIT record is sent only if the subscriber received a record of its
 * transaction (or resumed inside it), so filtered-out transactions cost
 * nothing on the wire; position-only COMMITs (OX_PAYLOAD_POSITION) are
 * never sent.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "ox_alloc.h"
#include "ox_buf.h"
#include "ox_json_out.h"
#include "ox_payload.h"
#include "ox_record.h"
#include "ox_metrics.h"
#include "ox_store_priv.h"
#include "ox_sub_query.h"

#define KEEPALIVE_MS 3000
#define WAIT_MS      250
#define BLOCK_BYTES  (128 * 1024)

struct sub {
    struct ox_store *st;
    ox_log_reader *r;
    ox_sub_query q;
    uint64_t id;
    /* The staged output: head bytes, then body (pointing into the reader's
     * record, valid until the next ox_log_reader_next), then tail. */
    ox_buf head;
    size_t head_off;
    const uint8_t *body;
    size_t body_len, body_off;
    const char *tail;
    size_t tail_len, tail_off;
    int in_txn; /* delivered (or resumed inside) the current transaction */
    int ended;  /* stop after draining the staged bytes */
    int64_t last_out_ms;
    uint64_t sent;           /* atomic: read by GET /metrics */
    struct sub *next, *prev; /* st->subs, under st->mu */
    char peer[64];           /* set before it is listed */
    int64_t since_ms;
    uint64_t pos; /* atomic: msgId of the last record read (sent or filtered out) */
};

static size_t take(uint8_t *dst, size_t room, const uint8_t *src, size_t len, size_t *off)
{
    size_t n = len - *off;
    if (n > room)
        n = room;
    memcpy(dst, src + *off, n);
    *off += n;
    return n;
}

/* Copies staged bytes into buf; returns bytes written. */
static size_t drain(struct sub *s, uint8_t *buf, size_t room)
{
    size_t n = 0;
    if (s->head_off < s->head.len)
        n += take(buf, room, s->head.data, s->head.len, &s->head_off);
    if (s->head_off == s->head.len && s->body_off < s->body_len)
        n += take(buf + n, room - n, s->body, s->body_len, &s->body_off);
    if (s->head_off == s->head.len && s->body_off == s->body_len && s->tail_off < s->tail_len)
        n += take(buf + n, room - n, (const uint8_t *)s->tail, s->tail_len, &s->tail_off);
    return n;
}

static int staged_empty(const struct sub *s)
{
    return s->head_off == s->head.len && s->body_off == s->body_len && s->tail_off == s->tail_len;
}

static void stage_reset(struct sub *s)
{
    ox_buf_reset(&s->head);
    s->head_off = 0;
    s->body = NULL;
    s->body_len = s->body_off = 0;
    s->tail = NULL;
    s->tail_len = s->tail_off = 0;
}

static void stage_bin(struct sub *s, int kind, const ox_log_record *rec, const uint8_t *payload,
                      size_t len)
{
    ox_buf_grow(&s->head, OX_RECORD_FRAME_HDR);
    ox_record_frame_put(s->head.data + s->head.len, kind, rec, len);
    s->head.len += OX_RECORD_FRAME_HDR;
    s->body = payload;
    s->body_len = len;
}

static void stage_error(struct sub *s, const char *text)
{
    stage_reset(s);
    ox_buf msg = OX_BUF_INIT;
    ox_record_json_error(&msg, text);
    if (s->q.format == OX_SUB_BINARY) {
        stage_bin(s, OX_RECORD_KIND_ERROR, NULL, NULL, 0);
        ox_buf_put(&s->head, msg.data, msg.len);
        s->body = NULL;
        s->body_len = 0;
    } else {
        ox_buf_put(&s->head, msg.data, msg.len);
        ox_buf_putc(&s->head, '\n');
    }
    ox_buf_free(&msg);
    s->ended = 1;
}

static void stage_keepalive(struct sub *s)
{
    stage_reset(s);
    if (s->q.format == OX_SUB_BINARY)
        stage_bin(s, OX_RECORD_KIND_KEEPALIVE, NULL, NULL, 0);
    else
        ox_buf_putc(&s->head, '\n');
}

/* Decides whether `rec` goes to this subscriber and stages it. Returns 1 if
 * staged, 0 if skipped, -1 on a corrupt payload (error staged). */
static int stage_record(struct sub *s, const ox_log_record *rec)
{
    ox_payload_view v;
    if (ox_record_decode(rec->payload, rec->payload_len, &v) != 0) {
        char text[128];
        snprintf(text, sizeof text, "record %" PRIu64 ": corrupt payload header", rec->msg_id);
        stage_error(s, text);
        return -1;
    }
    int commit = (rec->flags & OX_LOG_COMMIT) != 0;
    int send;
    if (v.op == OX_OP_COMMIT)
        send = s->in_txn;
    else if (v.op == OX_PAYLOAD_POSITION)
        send = 0;
    else
        send = s->q.filter == NULL || ox_payload_match(&v, s->q.filter);
    s->in_txn = commit ? 0 : (s->in_txn || send);
    if (!send)
        return 0;
    stage_reset(s);
    if (s->q.format == OX_SUB_BINARY) {
        stage_bin(s, OX_RECORD_KIND_RECORD, rec, rec->payload, rec->payload_len);
        return 1;
    }
    char cp[OX_CHECKPOINT_STRLEN];
    const ox_store_config *c = s->st->cfg;
    size_t cl = ox_record_checkpoint(c->source_ip, c->source_port, &rec->src, rec->msg_id, cp);
    const char *rest;
    ox_record_json_head(&s->head, rec->msg_id, cp, cl, v.json, v.json_len, &rest, &s->body_len);
    s->body = (const uint8_t *)rest;
    s->tail = "\n";
    s->tail_len = 1;
    return 1;
}

static ssize_t on_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct sub *s = cls;
    struct ox_store *st = s->st;
    size_t n = 0;
    for (;;) {
        n += drain(s, (uint8_t *)buf + n, max - n);
        if (n == max || !staged_empty(s))
            return (ssize_t)n;
        if (s->ended)
            return n ? (ssize_t)n : MHD_CONTENT_READER_END_OF_STREAM;
        if (*st->stop || __atomic_load_n(&st->stopping, __ATOMIC_RELAXED)) {
            s->ended = 1;
            continue;
        }
        ox_log_record rec;
        ox_errbuf eb;
        int rc = ox_log_reader_next(s->r, &rec, n ? 0 : WAIT_MS, &eb);
        if (rc == 0) {
            __atomic_store_n(&s->pos, rec.msg_id, __ATOMIC_RELAXED);
            if (stage_record(s, &rec) != 0) {
                __atomic_add_fetch(&s->sent, 1, __ATOMIC_RELAXED);
                __atomic_add_fetch(&s->st->served_total, 1, __ATOMIC_RELAXED);
                s->last_out_ms = ox_time_mono_ms();
            }
            continue;
        }
        if (rc == OX_EAGAIN) {
            if (n)
                return (ssize_t)n;
            int64_t now = ox_time_mono_ms();
            if (now - s->last_out_ms >= KEEPALIVE_MS) {
                stage_keepalive(s);
                s->last_out_ms = now;
            }
            continue;
        }
        if (rc == OX_ECLOSED) {
            s->ended = 1;
            continue;
        }
        char text[700];
        if (rc == OX_EGONE)
            snprintf(text, sizeof text,
                     "Invalid start time, shall within store's data keep time: retention removed "
                     "records before this subscriber read them (%s)",
                     eb.msg);
        else
            snprintf(text, sizeof text, "reading the change log failed: %s: %s", ox_strerror(rc),
                     eb.msg);
        ox_slog_printf(st->slog, OX_LL_WARN, "subscriber %" PRIu64 ": %s", s->id, text);
        stage_error(s, text);
    }
}

static void on_free(void *cls)
{
    struct sub *s = cls;
    ox_slog_printf(s->st->slog, OX_LL_INFO,
                   "subscriber %" PRIu64 " closed after %" PRIu64 " records", s->id, s->sent);
    pthread_mutex_lock(&s->st->mu);
    if (s->prev)
        s->prev->next = s->next;
    else if (s->st->subs == s)
        s->st->subs = s->next;
    if (s->next)
        s->next->prev = s->prev;
    pthread_mutex_unlock(&s->st->mu);
    ox_log_reader_free(s->r);
    ox_sub_query_free(&s->q);
    ox_buf_free(&s->head);
    __atomic_sub_fetch(&s->st->subscribers, 1, __ATOMIC_RELAXED);
    free(s);
}

struct args_ctx {
    ox_sub_query *q;
    int rc;
    ox_errbuf eb;
};

static enum MHD_Result on_arg(void *cls, enum MHD_ValueKind kind, const char *key,
                              const char *value)
{
    struct args_ctx *a = cls;
    if (a->rc != 0)
        return MHD_NO;
    a->rc = ox_sub_query_add(a->q, key, value ? value : "", &a->eb);
    return a->rc == 0 ? MHD_YES : MHD_NO;
}

/* True if a msgId start lands inside a transaction (the record before it
 * does not commit): the subscriber then gets that transaction's COMMIT even
 * if its filter matches none of the remaining records. */
static int starts_inside_txn(struct ox_store *st, const ox_log_start *start)
{
    if (start->kind != OX_LOG_FROM_MSGID || start->msg_id <= 1)
        return 0;
    ox_log_start prev = {.kind = OX_LOG_FROM_MSGID, .msg_id = start->msg_id - 1};
    ox_log_reader *r = NULL;
    ox_errbuf eb;
    int inside = 0;
    if (ox_log_reader_open(st->log, &prev, &r, &eb) == 0) {
        ox_log_record rec;
        if (ox_log_reader_next(r, &rec, 0, &eb) == 0 && rec.msg_id == prev.msg_id)
            inside = !(rec.flags & OX_LOG_COMMIT);
        ox_log_reader_free(r);
    }
    return inside;
}

int ox_store_sub_handle(struct ox_store *st, struct MHD_Connection *conn)
{
    struct args_ctx a;
    ox_sub_query q;
    ox_sub_query_init(&q);
    a.q = &q;
    a.rc = 0;
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, on_arg, &a);
    if (a.rc != 0) {
        ox_sub_query_free(&q);
        return ox_store_http_error(conn, MHD_HTTP_BAD_REQUEST, "%s", a.eb.msg);
    }
    if (__atomic_add_fetch(&st->subscribers, 1, __ATOMIC_RELAXED) > st->cfg->max_subscribers) {
        __atomic_sub_fetch(&st->subscribers, 1, __ATOMIC_RELAXED);
        ox_sub_query_free(&q);
        return ox_store_http_error(conn, MHD_HTTP_SERVICE_UNAVAILABLE,
                                   "too many subscribers (store.max_subscribers=%d)",
                                   st->cfg->max_subscribers);
    }
    ox_log_reader *r = NULL;
    ox_errbuf eb;
    int rc = 0;
    if (q.start.kind == OX_LOG_FROM_TIMESTAMP) {
        /* A time before the first record the store has may have changes the
         * store never captured (it started later, or retention removed
         * them): starting at its first record would skip them silently. */
        ox_log_info fi;
        ox_log_info_get(st->log, &fi);
        if (fi.first_msg_id > 0 && q.start.timestamp < fi.first_src.timestamp)
            rc = ox_errf(&eb, OX_EGONE, "timestamp %" PRId64 " is before the store's first record",
                         q.start.timestamp);
    }
    if (rc == 0)
        rc = ox_log_reader_open(st->log, &q.start, &r, &eb);
    if (rc != 0) {
        __atomic_sub_fetch(&st->subscribers, 1, __ATOMIC_RELAXED);
        ox_sub_query_free(&q);
        if (rc == OX_EGONE) {
            ox_log_info info;
            ox_log_info_get(st->log, &info);
            return ox_store_http_error(
                conn, MHD_HTTP_GONE,
                "Invalid start time, shall within store's data keep time: the earliest retained "
                "record is msgId %" PRIu64 " at timestamp %" PRId64 " (%s)",
                info.first_msg_id, info.first_src.timestamp, eb.msg);
        }
        if (rc == OX_EINVAL || rc == OX_ERANGE)
            return ox_store_http_error(conn, MHD_HTTP_BAD_REQUEST, "bad start position: %s",
                                       eb.msg);
        ox_slog_printf(st->slog, OX_LL_ERROR, "subscribe: opening a log reader: %s: %s",
                       ox_strerror(rc), eb.msg);
        return ox_store_http_error(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, "%s: %s", ox_strerror(rc),
                                   eb.msg);
    }
    struct sub *s = ox_xcalloc(1, sizeof *s);
    s->st = st;
    s->r = r;
    s->q = q;
    s->in_txn = starts_inside_txn(st, &q.start);
    s->id = __atomic_add_fetch(&st->sub_seq, 1, __ATOMIC_RELAXED);
    s->last_out_ms = ox_time_mono_ms();
    if (q.format == OX_SUB_BINARY)
        ox_buf_put(&s->head, OX_RECORD_MAGIC, OX_RECORD_MAGIC_LEN);
    struct MHD_Response *resp =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_BYTES, on_read, s, on_free);
    if (resp == NULL) {
        on_free(s);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type",
                            q.format == OX_SUB_BINARY ? "application/octet-stream"
                                                      : "application/x-ndjson");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    char ds[32];
    ox_ipv4_format(st->cfg->source_ip, ds);
    snprintf(ds + strlen(ds), sizeof ds - strlen(ds), ":%u", (unsigned)st->cfg->source_port);
    MHD_add_response_header(resp, "X-Oxbow-Datasource", ds);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    char peer[64] = "?";
    if (ci != NULL && ci->client_addr != NULL && ci->client_addr->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ci->client_addr;
        ox_ipv4_format(ntohl(in->sin_addr.s_addr), peer);
        snprintf(peer + strlen(peer), sizeof peer - strlen(peer), ":%u",
                 (unsigned)ntohs(in->sin_port));
    }
    ox_slog_printf(st->slog, OX_LL_INFO,
                   "subscriber %" PRIu64 " from %s: start kind %d, format %s, filter %s", s->id,
                   peer, q.start.kind, q.format == OX_SUB_BINARY ? "binary" : "json",
                   q.filter ? "yes" : "none");
    snprintf(s->peer, sizeof s->peer, "%s", peer);
    s->since_ms = ox_time_wall_ms();
    pthread_mutex_lock(&st->mu);
    s->next = st->subs;
    if (st->subs)
        st->subs->prev = s;
    st->subs = s;
    pthread_mutex_unlock(&st->mu);
    int ret = MHD_queue_response(conn, MHD_HTTP_OK, resp);
    MHD_destroy_response(resp);
    return ret;
}

void ox_store_sub_metrics(struct ox_store *st, ox_buf *out)
{
    ox_metrics_family(out, "oxbow_store_subscriber_records_sent_total", "counter",
                      "Records sent to each connected subscriber since it connected.");
    pthread_mutex_lock(&st->mu);
    for (struct sub *s = st->subs; s; s = s->next) {
        char id[24];
        snprintf(id, sizeof id, "%" PRIu64, s->id);
        const char *labels[] = {"subscriber", id, NULL};
        ox_metrics_sample(out, "oxbow_store_subscriber_records_sent_total", labels,
                          (double)__atomic_load_n(&s->sent, __ATOMIC_RELAXED));
    }
    pthread_mutex_unlock(&st->mu);
}

void ox_store_sub_status_json(struct ox_store *st, ox_buf *out, uint64_t last_msg_id)
{
    OX_JSON_LIT(out, ",\"subscriberList\":[");
    int n = 0;
    pthread_mutex_lock(&st->mu);
    /* At most 100: the list travels in every supervisor report. */
    for (struct sub *s = st->subs; s && n < 100; s = s->next, n++) {
        uint64_t pos = __atomic_load_n(&s->pos, __ATOMIC_RELAXED);
        if (n)
            ox_buf_putc(out, ',');
        ox_buf_printf(out, "{\"id\":%" PRIu64 ",\"peer\":", s->id);
        ox_json_str(out, s->peer, strlen(s->peer));
        ox_buf_printf(out,
                      ",\"since\":%" PRId64 ",\"position\":%" PRIu64 ",\"sent\":%" PRIu64
                      ",\"lagRecords\":%" PRIu64 "}",
                      s->since_ms, pos, __atomic_load_n(&s->sent, __ATOMIC_RELAXED),
                      last_msg_id > pos ? last_msg_id - pos : 0);
    }
    pthread_mutex_unlock(&st->mu);
    ox_buf_putc(out, ']');
}
