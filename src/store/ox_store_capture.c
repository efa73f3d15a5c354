/*
 * ox_store_capture.c - the capture thread: source -> filters -> change log.
 *
 * This thread is the change log's only writer. Each change becomes one log
 * record (payload per ox_payload.h) as it arrives, so a transaction of any
 * size passes with one record's worth of memory:
 *
 *   BEGIN             opens the transaction; not stored.
 *   row change / DDL  appended (srcpos = the event's file index, offset,
 *                     time; opaque = the transaction's GTID), unless the
 *                     store's white/black list drops it.
 *   COMMIT            appended with OX_LOG_COMMIT; its srcpos offset is the
 *                     position *after* the transaction (next_offset), so the
 *                     log's last committed record says where to resume and
 *                     a checkpoint without msgId (fileIdx:offset) means
 *                     "after this transaction".
 *   DDL outside a transaction commits itself the same way.
 *   reset (source lost a partial transaction): ox_log_abort.
 *
 * Filtered-out transactions: when the lists drop every change of a
 * transaction, nothing would be stored and the resume position would not
 * move, so a restart would re-read the whole filtered range from the source.
 * Instead the store appends a lone COMMIT record for such an empty
 * transaction at most once per EMPTY_TXN_EVERY_MS: at most one small record
 * per second on the log, and a restart re-reads at most about a second of
 * filtered traffic. Subscribers never see these records (a COMMIT is only
 * sent to a subscriber that received a change of its transaction).
 *
 * Resume after a restart or crash: the log's last visible record is always
 * a COMMIT (visibility is per transaction), and its srcpos is where capture
 * resumes: by its MariaDB GTID when it has one and store.resume allows
 * (auto/gtid), else by fileIdx:offset. An empty log starts from
 * store.start.gtid, store.start.checkpoint, or the source's current end.
 *
 * Status: source errors set the store status (docs/store.md): unreachable
 * -> 1 (the source retries for 60 s itself, then this loop retries with
 * backoff up to 30 s, forever), purged position -> 2, refused (auth,
 * privileges, binlog format) -> 3, log failure -> 4. Silence longer than
 * the source's own dead-link limit also shows as 1 while it reconnects.
 * Delay: the source time reached, from event times, and "now" whenever a
 * heartbeat proves capture is at the source's end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ox_filter.h"
#include "ox_payload.h"
#include "ox_source.h"
#include "ox_store_priv.h"

#define EMPTY_TXN_EVERY_MS 1000
#define POLL_MS            200
#define BACKOFF_FIRST_MS   1000
#define BACKOFF_MAX_MS     30000

struct capture {
    struct ox_store *st;
    const struct ox_source_ops *ops;
    ox_source *src;
    ox_filter *white, *black;
    ox_buf payload;
    int in_txn;
    uint64_t txn_records;
    char txn_gtid[OX_LOG_OPAQUE_MAX + 1];
    int64_t last_commit_ms; /* monotonic time of the last stored COMMIT */
    int64_t last_rx_ms;     /* monotonic time of the last change or heartbeat */
    int cb_rc;              /* a log failure inside the callback */
    ox_errbuf cb_eb;
    int connected_before;
    int silent; /* status shows the source as silent */
};

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int passes(const struct capture *cap, const ox_change *c)
{
    size_t dl = c->db ? strlen(c->db) : 0, tl = c->table ? strlen(c->table) : 0;
    const char *db = c->db ? c->db : "", *t = c->table ? c->table : "";
    /* A DDL statement run without a default database cannot be attributed
     * to a db here; keeping it is the safe choice. */
    if (c->op == OX_OP_DDL && dl == 0)
        return 1;
    if (!ox_filter_empty(cap->white) && !ox_filter_match(cap->white, db, dl, t, tl))
        return 0;
    if (!ox_filter_empty(cap->black) && ox_filter_match(cap->black, db, dl, t, tl))
        return 0;
    return 1;
}

static void note_time(struct capture *cap, const ox_change *c)
{
    struct ox_store *st = cap->st;
    int64_t now = ox_store_now_ms();
    int64_t t;
    if (c->op == OX_OP_HEARTBEAT)
        t = now; /* the server idles only at its end: we are caught up */
    else if (c->timestamp > 0)
        t = c->timestamp * 1000 + 999 < now ? c->timestamp * 1000 + 999 : now;
    else
        return;
    __atomic_store_n(&st->src_time_ms, t, __ATOMIC_RELAXED);
}

static void fill_src(ox_log_srcpos *sp, const ox_change *c, uint64_t offset, const char *gtid)
{
    sp->file_idx = c->file_idx;
    sp->offset = offset;
    sp->timestamp = c->timestamp;
    size_t n = gtid ? strlen(gtid) : 0;
    if (n > OX_LOG_OPAQUE_MAX)
        n = 0; /* a GTID this long is not one we could resume by */
    sp->opaque_len = (uint16_t)n;
    memcpy(sp->opaque, gtid ? gtid : "", n);
}

static int append_op(struct capture *cap, const ox_change *c, uint32_t flags, const char *gtid,
                     int op)
{
    ox_log_srcpos sp;
    fill_src(&sp, c, (flags & OX_LOG_COMMIT) ? c->next_offset : c->offset, gtid);
    ox_buf_reset(&cap->payload);
    ox_payload_put_header(&cap->payload, c->db, c->table, op);
    ox_change_to_json(c, &cap->payload);
    if (cap->payload.len > (1u << 30)) {
        cap->cb_rc = ox_errf(&cap->cb_eb, OX_ERANGE,
                             "a change at %s offset %" PRIu64 " is larger than 1 GiB as JSON",
                             c->file ? c->file : "?", c->offset);
        return cap->cb_rc;
    }
    int rc = ox_log_append(cap->st->log, &sp, cap->payload.data, (uint32_t)cap->payload.len, flags,
                           NULL, &cap->cb_eb);
    if (rc != 0) {
        cap->cb_rc = rc;
        return rc;
    }
    __atomic_add_fetch(&cap->st->records_total, 1, __ATOMIC_RELAXED);
    if (flags & OX_LOG_COMMIT) {
        cap->last_commit_ms = ox_store_mono_ms();
        cap->txn_records = 0;
    } else {
        cap->txn_records++;
    }
    return 0;
}

static int append(struct capture *cap, const ox_change *c, uint32_t flags, const char *gtid)
{
    return append_op(cap, c, flags, gtid, c->op);
}

/* A transaction with nothing stored: keep its COMMIT now and then so that
 * the resume position advances (see the header comment). */
static int empty_commit(struct capture *cap, const ox_change *c, const char *gtid)
{
    if (ox_store_mono_ms() - cap->last_commit_ms < EMPTY_TXN_EVERY_MS)
        return 0;
    ox_change k;
    memset(&k, 0, sizeof k);
    k.op = OX_OP_COMMIT;
    k.gtid = c->gtid;
    k.xid = c->op == OX_OP_COMMIT ? c->xid : 0;
    k.file = c->file;
    k.file_idx = c->file_idx;
    k.offset = c->offset;
    k.next_offset = c->next_offset;
    k.timestamp = c->timestamp;
    k.server_id = c->server_id;
    return append_op(cap, &k, OX_LOG_COMMIT, gtid, OX_PAYLOAD_POSITION);
}

static int on_change(void *arg, const ox_change *c)
{
    struct capture *cap = arg;
    cap->last_rx_ms = ox_store_mono_ms();
    note_time(cap, c);
    switch (c->op) {
    case OX_OP_HEARTBEAT:
        return 0;
    case OX_OP_BEGIN:
        cap->in_txn = 1;
        cap->txn_records = 0;
        snprintf(cap->txn_gtid, sizeof cap->txn_gtid, "%s", c->gtid ? c->gtid : "");
        return 0;
    case OX_OP_COMMIT: {
        int had = cap->txn_records > 0;
        const char *g = c->gtid ? c->gtid : cap->txn_gtid;
        cap->in_txn = 0;
        return had ? append(cap, c, OX_LOG_COMMIT, g) : empty_commit(cap, c, g);
    }
    case OX_OP_DDL:
        if (!cap->in_txn) {
            /* A DDL statement outside BEGIN/COMMIT is its own transaction. */
            if (cap->txn_records > 0) /* defensive: never leave records open */
                ox_log_abort(cap->st->log, NULL);
            cap->txn_records = 0;
            return passes(cap, c) ? append(cap, c, OX_LOG_COMMIT, c->gtid)
                                  : empty_commit(cap, c, c->gtid);
        }
        return passes(cap, c) ? append(cap, c, 0, cap->txn_gtid) : 0;
    default:
        if (!passes(cap, c))
            return 0;
        return append(cap, c, 0, cap->in_txn ? cap->txn_gtid : c->gtid);
    }
}

static void on_reset(void *arg)
{
    struct capture *cap = arg;
    ox_errbuf eb;
    if (ox_log_abort(cap->st->log, &eb) != 0)
        ox_slog_printf(cap->st->slog, OX_LL_ERROR, "capture: aborting a partial transaction: %s",
                       eb.msg);
    else
        ox_slog_printf(
            cap->st->slog, OX_LL_WARN,
            "capture: source connection lost inside a transaction; discarded its %" PRIu64
            " stored records, resuming after the last complete one",
            cap->txn_records);
    cap->in_txn = 0;
    cap->txn_records = 0;
}

static int mariadb_gtid(const uint8_t *s, size_t n)
{
    int dashes = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '-')
            dashes++;
        else if (s[i] < '0' || s[i] > '9')
            return 0;
    }
    return dashes == 2;
}

/* Chooses where to start capture; fills *from (gtid points into buf). */
static void resume_point(struct capture *cap, ox_source_start *from, char *buf, size_t cap_len,
                         char *why, size_t why_len)
{
    struct ox_store *st = cap->st;
    const ox_store_config *c = st->cfg;
    ox_log_info info;
    memset(from, 0, sizeof *from);
    ox_log_info_get(st->log, &info);
    if (info.last_msg_id > 0) {
        const ox_log_srcpos *s = &info.last_src;
        if (c->resume_mode != OX_RESUME_FILEPOS && s->opaque_len > 0 &&
            mariadb_gtid(s->opaque, s->opaque_len) && s->opaque_len < cap_len) {
            memcpy(buf, s->opaque, s->opaque_len);
            buf[s->opaque_len] = '\0';
            from->kind = OX_SOURCE_FROM_GTID;
            from->gtid = buf;
            snprintf(why, why_len, "after GTID %.100s (msgId %" PRIu64 ")", buf, info.last_msg_id);
        } else {
            from->kind = OX_SOURCE_FROM_FILEPOS;
            from->file_idx = s->file_idx;
            from->offset = s->offset;
            snprintf(why, why_len,
                     "at file index %" PRIu64 " offset %" PRIu64 " (after msgId %" PRIu64 ")",
                     s->file_idx, s->offset, info.last_msg_id);
        }
        return;
    }
    if (c->start_gtid != NULL) {
        from->kind = OX_SOURCE_FROM_GTID;
        from->gtid = c->start_gtid;
        snprintf(why, why_len, "at configured GTID %s", c->start_gtid);
    } else if (c->has_start && (c->start.present & (OX_CP_FILEIDX | OX_CP_OFFSET)) ==
                                   (OX_CP_FILEIDX | OX_CP_OFFSET)) {
        from->kind = OX_SOURCE_FROM_FILEPOS;
        from->file_idx = c->start.file_idx;
        from->offset = c->start.offset;
        snprintf(why, why_len, "at configured file index %" PRIu64 " offset %" PRIu64,
                 c->start.file_idx, c->start.offset);
    } else if (c->has_start) {
        from->kind = OX_SOURCE_FROM_TIMESTAMP;
        from->timestamp = c->start.timestamp;
        snprintf(why, why_len, "at configured timestamp %" PRId64, c->start.timestamp);
    } else {
        from->kind = OX_SOURCE_FROM_NOW;
        snprintf(why, why_len, "at the source's current end (empty log)");
    }
}

static int status_for(int rc)
{
    switch (rc) {
    case OX_EGONE:
        return OX_ST_SOURCE_LOST;
    case OX_EAUTH:
    case OX_EPERM:
    case OX_ECONFIG:
    case OX_EUNSUPP:
        return OX_ST_SOURCE_REFUSED;
    default:
        return OX_ST_SOURCE_DOWN;
    }
}

static int connect_source(struct capture *cap, ox_errbuf *eb)
{
    struct ox_store *st = cap->st;
    const ox_store_config *c = st->cfg;
    ox_source_config sc;
    memset(&sc, 0, sizeof sc);
    sc.host = c->source_host;
    sc.port = c->source_port;
    sc.user = c->source_user;
    sc.password = c->source_password;
    sc.server_id = c->server_id;
    sc.heartbeat_ms = c->heartbeat_ms;
    sc.connect_timeout_s = c->connect_timeout_s;
    sc.database = c->source_database;
    sc.slot = c->source_slot;
    sc.publication = c->source_publication;
    sc.name = c->name;
    sc.whitelist = c->whitelist;
    int rc = cap->ops->open(&sc, &cap->src, eb);
    if (rc != 0)
        return rc;
    ox_source_start from;
    char gtid[OX_LOG_OPAQUE_MAX + 1], why[320];
    resume_point(cap, &from, gtid, sizeof gtid, why, sizeof why);
    rc = cap->ops->start(cap->src, &from, eb);
    if (rc != 0) {
        cap->ops->close(cap->src);
        cap->src = NULL;
        return rc;
    }
    ox_slog_printf(st->slog, OX_LL_INFO, "capture: connected to %s:%u, reading %s", c->source_host,
                   (unsigned)c->source_port, why);
    return 0;
}

/* Tells a source that confirms positions to its server (PostgreSQL) what
 * the log now holds durably: the srcpos of its last committed record. */
static void confirm_durable(struct capture *cap)
{
    if (cap->src == NULL || cap->ops->confirm == NULL)
        return;
    ox_log_info info;
    ox_log_info_get(cap->st->log, &info);
    if (info.last_msg_id == 0)
        return;
    ox_source_pos pos = {.file_idx = info.last_src.file_idx,
                         .offset = info.last_src.offset,
                         .timestamp = info.last_src.timestamp};
    cap->ops->confirm(cap->src, &pos);
}

static void drop_source(struct capture *cap)
{
    ox_errbuf eb;
    if (ox_log_abort(cap->st->log, &eb) != 0)
        ox_slog_printf(cap->st->slog, OX_LL_ERROR, "capture: abort: %s", eb.msg);
    cap->in_txn = 0;
    cap->txn_records = 0;
    if (cap->src != NULL)
        cap->ops->close(cap->src);
    cap->src = NULL;
}

static void retain(struct ox_store *st)
{
    uint32_t segs = 0;
    uint64_t bytes = 0;
    ox_errbuf eb;
    int rc = ox_log_retain(st->log, (int64_t)time(NULL), &segs, &bytes, &eb);
    if (rc != 0)
        ox_slog_printf(st->slog, OX_LL_ERROR, "retention: %s: %s", ox_strerror(rc), eb.msg);
    else if (segs > 0)
        ox_slog_printf(st->slog, OX_LL_INFO,
                       "retention: removed %" PRIu32 " segments, %" PRIu64 " bytes", segs, bytes);
}

void *ox_store_capture_main(void *arg)
{
    struct ox_store *st = arg;
    const ox_store_config *c = st->cfg;
    struct capture cap;
    memset(&cap, 0, sizeof cap);
    cap.st = st;
    cap.ops = ox_source_find(c->source_type);
    ox_errbuf eb;
    /* The lists were validated when the configuration was loaded. */
    (void)ox_filter_parse(c->whitelist, &cap.white, &eb);
    (void)ox_filter_parse(c->blacklist, &cap.black, &eb);
    int64_t backoff = BACKOFF_FIRST_MS, next_try = 0, last_retain = 0;
    int64_t silence_limit =
        3 * (int64_t)c->heartbeat_ms < 5000 ? 5000 : 3 * (int64_t)c->heartbeat_ms;
    while (!*st->stop) {
        int64_t now = ox_store_mono_ms();
        if (now - last_retain >= 1000) {
            retain(st);
            last_retain = now;
        }
        if (cap.src == NULL) {
            if (cap.ops == NULL) {
                ox_store_set_status(st, OX_ST_SOURCE_REFUSED, OX_LL_ERROR,
                                    "Store %s: no source back end \"%s\"", c->short_name,
                                    c->source_type);
                sleep_ms(POLL_MS);
                continue;
            }
            if (now < next_try) {
                sleep_ms(next_try - now < POLL_MS ? next_try - now : POLL_MS);
                continue;
            }
            int rc = connect_source(&cap, &eb);
            if (rc != 0) {
                ox_store_set_status(st, status_for(rc), OX_LL_ERROR,
                                    "Store %s: source %s:%u: %s (%s); retrying in %" PRId64 " s",
                                    c->short_name, c->source_host, (unsigned)c->source_port,
                                    ox_strerror(rc), eb.msg, backoff / 1000);
                next_try = ox_store_mono_ms() + backoff;
                backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
                continue;
            }
            backoff = BACKOFF_FIRST_MS;
            cap.last_rx_ms = ox_store_mono_ms();
            cap.silent = 0;
            ox_store_set_status(st, OX_ST_NORMAL, OX_LL_INFO,
                                cap.connected_before ? "Store %s reconnected to source"
                                                     : "Store %s started successfully",
                                c->short_name);
            cap.connected_before = 1;
        }
        int rc = cap.ops->poll(cap.src, on_change, on_reset, &cap, POLL_MS, &eb);
        uint64_t lag;
        if (cap.ops->lag != NULL && cap.ops->lag(cap.src, &lag) == 0)
            __atomic_store_n(&st->source_lag_bytes, (int64_t)lag, __ATOMIC_RELAXED);
        if (rc == 0 || rc == OX_EAGAIN) {
            /* Nothing more pending (or a batch done): make it visible now. */
            int sr = ox_log_sync(st->log, &eb);
            if (sr != 0) {
                cap.cb_rc = sr;
                cap.cb_eb = eb;
            } else {
                confirm_durable(&cap);
            }
        }
        if (cap.cb_rc != 0) {
            ox_store_set_status(
                st, OX_ST_LOG_FAILED, OX_LL_ERROR,
                "Store %s: writing the change log failed: %s: %s; retrying in %" PRId64 " s",
                c->short_name, ox_strerror(cap.cb_rc), cap.cb_eb.msg, backoff / 1000);
            cap.cb_rc = 0;
            drop_source(&cap);
            next_try = ox_store_mono_ms() + backoff;
            backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
            continue;
        }
        now = ox_store_mono_ms();
        if (rc == 0) {
            if (cap.silent) {
                cap.silent = 0;
                ox_store_set_status(st, OX_ST_NORMAL, OX_LL_INFO, "Store %s reconnected to source",
                                    c->short_name);
            }
            continue;
        }
        if (rc == OX_EAGAIN) {
            if (!cap.silent && now - cap.last_rx_ms > silence_limit) {
                cap.silent = 1;
                ox_store_set_status(st, OX_ST_SOURCE_DOWN, OX_LL_WARN,
                                    "Store %s: nothing from source %s:%u for %" PRId64
                                    " s; reconnecting",
                                    c->short_name, c->source_host, (unsigned)c->source_port,
                                    (now - cap.last_rx_ms) / 1000);
            }
            continue;
        }
        ox_store_set_status(st, status_for(rc), OX_LL_ERROR,
                            "Store %s: source %s:%u: %s (%s); retrying in %" PRId64 " s",
                            c->short_name, c->source_host, (unsigned)c->source_port,
                            ox_strerror(rc), eb.msg, backoff / 1000);
        drop_source(&cap);
        next_try = now + backoff;
        backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
    }
    /* Clean stop: a partial transaction is discarded (the source resends it
     * after restart); everything committed becomes durable. */
    drop_source(&cap);
    if (ox_log_sync(st->log, &eb) != 0)
        ox_slog_printf(st->slog, OX_LL_ERROR, "capture: final sync: %s", eb.msg);
    ox_filter_free(cap.white);
    ox_filter_free(cap.black);
    ox_buf_free(&cap.payload);
    return NULL;
}
