/*
 * ox_store_capture.c - the capture thread: source -> filters -> change log.
 *
 * This thread is the change log's only writer. Each change becomes one log
 * record (payload per ox_record.h) as it arrives, so a transaction of any
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
 * Status: source errors set the store status (docs/store.md): a link the
 * source reports down (ops->state; the source alone decides liveness and
 * reconnects by itself) -> 1 or the back end's own fault status; an error
 * the source returns makes this loop close it and open it again with
 * ox_time.h's backoff (1 s doubling to 30 s, forever): purged position
 * -> 2, refused (auth, privileges, binlog format) -> 3, log failure -> 4.
 * A full disk is
 * retried with the same backoff: ox_log_retry cuts the log back to its last
 * durable transaction and capture re-reads the source from there, so
 * nothing is lost or stored twice; the status stays 4 until a transaction
 * is durable again (or capture is idle at the source's end with room on the
 * disk). Other log failures need a restart.
 * Delay: the source time reached, from event times, and "now" whenever a
 * heartbeat proves capture is at the source's end.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>

#include "ox_filter.h"
#include "ox_payload.h"
#include "ox_render.h"
#include "ox_source.h"
#include "ox_store_priv.h"

#define EMPTY_TXN_EVERY_MS 1000
#define POLL_MS            200
/* Re-opening the source after an error it did not retry itself (refused,
 * purged; a lost link the source retries on its own) or after a log
 * failure: ox_time.h's backoff. */
#define RETRY_FIRST_MS 1000
#define RETRY_MAX_MS   30000

struct capture {
    struct ox_store *st;
    const struct ox_source_ops *ops;
    ox_source *src;
    ox_filter *white, *black;
    ox_buf payload;
    ox_render *render; /* the JSON of every stored record */
    int in_txn;
    uint64_t txn_records;
    char txn_gtid[OX_LOG_OPAQUE_MAX + 1];
    int64_t last_commit_ms; /* monotonic time of the last stored COMMIT */
    int64_t noted_ts;       /* the event time note_time last stored unclamped */
    int cb_rc;              /* a log failure inside the callback */
    ox_errbuf cb_eb;
    int connected_before;
    int silent;               /* status shows the source's link as down */
    uint64_t reconnects_seen; /* the source's own reconnects, counted */
    uint64_t resends_seen;    /* the source's resends (ox_source_state), counted */
    ox_backoff retry;         /* re-opening the source */
    int64_t next_try;         /* monotonic: the next attempt to open it */
    int log_failed;           /* status shows a log failure (4) until a write succeeds */
    uint64_t commits;         /* COMMIT records appended (not necessarily durable yet) */
    uint64_t commits_at_connect;
    ox_source_fault connect_fault; /* of the last failed connect_source() */
    /* Schema history counters of the sources dropped before this one (a
     * source's own counters start at 0). */
    uint64_t mismatches_base, unknown_base;
};

/* Publishes the source's schema history counters for /v1/status. */
static void publish_schema_counters(struct capture *cap)
{
    if (cap->src == NULL || cap->ops->schema_counters == NULL)
        return;
    uint64_t mismatches = 0, unknown = 0;
    cap->ops->schema_counters(cap->src, &mismatches, &unknown);
    __atomic_store_n(&cap->st->schema_mismatches, cap->mismatches_base + mismatches,
                     __ATOMIC_RELAXED);
    __atomic_store_n(&cap->st->schema_unknown, cap->unknown_base + unknown, __ATOMIC_RELAXED);
}

/* A name is captured when the whitelist (if any) matches it and the
 * blacklist does not: the blacklist wins for that name. A record is kept
 * when any of its names is captured (a DDL statement has several: every
 * table it acts on, old and new names of a rename; docs/store.md). The
 * lists apply to every record: a record without a db is matched as "". */
static bool name_captured(void *arg, const char *db, size_t dl, const char *t, size_t tl)
{
    const struct capture *cap = arg;
    if (!ox_filter_empty(cap->white) && !ox_filter_match(cap->white, db, dl, t, tl))
        return false;
    if (!ox_filter_empty(cap->black) && ox_filter_match(cap->black, db, dl, t, tl))
        return false;
    return true;
}

static int passes(const struct capture *cap, const ox_change *c)
{
    return ox_payload_change_any_name(c, name_captured, (void *)cap);
}

/* Account statements (CREATE/ALTER USER, GRANT, SET PASSWORD, ...) are
 * never stored. Classifying them is the source's job (ox_change.h: kind
 * "account", delivered without text), so the store needs no SQL reader. */
static bool is_account(const ox_change *c)
{
    return c->ddl_kind && strcmp(c->ddl_kind, "account") == 0;
}

/* A DDL record the lists drop: a statement the reader could not follow is
 * not dropped silently (its text is not logged: it may hold anything). */
static void note_dropped_ddl(struct capture *cap, const ox_change *c)
{
    if (!c->ddl_unparsed)
        return;
    ox_slog_printf(cap->st->slog, OX_LL_WARN,
                   "capture: a DDL statement the reader could not follow (%s offset %" PRIu64
                   ", session db %s) matches no captured table and was not stored",
                   c->file ? c->file : "?", c->offset, c->session_db ? c->session_db : "(none)");
}

static void note_time(struct capture *cap, const ox_change *c)
{
    struct ox_store *st = cap->st;
    /* The rows of a transaction share its time: once stored unclamped, the
     * same time would be stored again (the clock is not read per row). */
    if (c->op != OX_OP_HEARTBEAT && c->timestamp > 0 && c->timestamp == cap->noted_ts)
        return;
    int64_t now = ox_time_wall_ms();
    int64_t t;
    cap->noted_ts = 0;
    if (c->op == OX_OP_HEARTBEAT) {
        t = now; /* the server idles only at its end: we are caught up */
    } else if (c->timestamp > 0) {
        t = c->timestamp * 1000 + 999 < now ? c->timestamp * 1000 + 999 : now;
        if (t != now)
            cap->noted_ts = c->timestamp;
    } else {
        return;
    }
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
    ox_record_put_change_header(&cap->payload, c, op);
    ox_render_json(cap->render, c, &cap->payload);
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
    __atomic_add_fetch(&cap->st->bytes_total, (uint64_t)cap->payload.len, __ATOMIC_RELAXED);
    if (flags & OX_LOG_COMMIT) {
        cap->commits++;
        cap->last_commit_ms = ox_time_mono_ms();
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
    if (ox_time_mono_ms() - cap->last_commit_ms < EMPTY_TXN_EVERY_MS)
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
    case OX_OP_DDL: {
        if (c->schema == OX_SCHEMA_UNKNOWN)
            ox_slog_printf(cap->st->slog, OX_LL_WARN,
                           "capture: the schema history could not follow a DDL statement on "
                           "%s.%s (%s offset %" PRIu64 "): its rows carry \"schema\":\"unknown\" "
                           "unless the table map names them (docs/mysql_capture.md)",
                           c->db ? c->db : "?", c->table ? c->table : "?", c->file ? c->file : "?",
                           c->offset);
        int keep = !is_account(c) && passes(cap, c);
        if (!keep && !is_account(c))
            note_dropped_ddl(cap, c);
        if (!cap->in_txn) {
            /* A DDL statement outside BEGIN/COMMIT is its own transaction. */
            if (cap->txn_records > 0) /* defensive: never leave records open */
                ox_log_abort(cap->st->log, NULL);
            cap->txn_records = 0;
            return keep ? append(cap, c, OX_LOG_COMMIT, c->gtid) : empty_commit(cap, c, c->gtid);
        }
        return keep ? append(cap, c, 0, cap->txn_gtid) : 0;
    }
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
    /* Repositioned (ox_store_repos.c) and nothing captured since: the
     * configured start, not the end of the log. */
    int moved = st->repos_active && info.last_msg_id == st->repos_base;
    if (info.last_msg_id > 0 && !moved) {
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
        snprintf(why, why_len, "at configured GTID %s%s", c->start_gtid,
                 moved ? " (repositioned)" : "");
    } else if (c->has_start && (c->start.present & (OX_CP_FILEIDX | OX_CP_OFFSET)) ==
                                   (OX_CP_FILEIDX | OX_CP_OFFSET)) {
        from->kind = OX_SOURCE_FROM_FILEPOS;
        from->file_idx = c->start.file_idx;
        from->offset = c->start.offset;
        snprintf(why, why_len, "at configured file index %" PRIu64 " offset %" PRIu64 "%s",
                 c->start.file_idx, c->start.offset, moved ? " (repositioned)" : "");
    } else if (c->has_start) {
        from->kind = OX_SOURCE_FROM_TIMESTAMP;
        from->timestamp = c->start.timestamp;
        snprintf(why, why_len, "at configured timestamp %" PRId64 "%s", c->start.timestamp,
                 moved ? " (repositioned)" : "");
    } else {
        from->kind = OX_SOURCE_FROM_NOW;
        snprintf(why, why_len, "at the source's current end (%s)",
                 moved ? "repositioned" : "empty log");
    }
}

const char *const ox_store_wal_status_names[] = {"reserved", "extended", "unreserved", "lost",
                                                 NULL};

/* The slot's wal_status for /v1/status and /metrics (PostgreSQL). */
static void publish_wal_status(struct capture *cap)
{
    char ws[16];
    if (cap->src == NULL || cap->ops->slot_status == NULL ||
        cap->ops->slot_status(cap->src, ws, sizeof ws) != 0)
        return;
    for (int i = 0; ox_store_wal_status_names[i]; i++)
        if (strcmp(ws, ox_store_wal_status_names[i]) == 0)
            __atomic_store_n(&cap->st->source_wal_status, i, __ATOMIC_RELAXED);
}

/* A back end's fault kind -> its own store status (PostgreSQL). */
static const int fault_status[] = {
    [OX_SOURCE_FAULT_RESTART] = OX_ST_PG_RESTART,
    [OX_SOURCE_FAULT_PRIMARY_LOST] = OX_ST_PG_PRIMARY_LOST,
    [OX_SOURCE_FAULT_SLOT_LOST] = OX_ST_PG_SLOT_LOST,
    [OX_SOURCE_FAULT_PUBLICATION] = OX_ST_PG_PUBLICATION,
    [OX_SOURCE_FAULT_PRIVILEGE] = OX_ST_PG_PRIVILEGE,
    [OX_SOURCE_FAULT_WAL_LEVEL] = OX_ST_PG_WAL_LEVEL,
};

/* The open source's fault kind now, if it tells one. */
static ox_source_fault fault_of(const struct capture *cap, ox_errbuf *why)
{
    if (cap->src == NULL || cap->ops->fault == NULL)
        return OX_SOURCE_FAULT_NONE;
    return cap->ops->fault(cap->src, why);
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

/* The status of a fault: the back end's own code when it names the fault,
 * else by the error code (the MySQL statuses 1-3). */
static int status_of(ox_source_fault f, int rc)
{
    if (f > OX_SOURCE_FAULT_NONE && (size_t)f < sizeof fault_status / sizeof fault_status[0])
        return fault_status[f];
    return status_for(rc);
}

static int connect_source(struct capture *cap, ox_errbuf *eb)
{
    struct ox_store *st = cap->st;
    const ox_store_config *c = st->cfg;
    ox_source_config sc;
    ox_store_config_source(c, &sc);
    /* The schema history lives with the log: a store restored later decodes
     * old rows with the schema of their time (docs/mysql_capture.md). */
    char schema_dir[4096];
    snprintf(schema_dir, sizeof schema_dir, "%s/schema", c->dir);
    sc.schema_dir = schema_dir;
    char spill_dir[4096];
    snprintf(spill_dir, sizeof spill_dir, "%s/pgstream", c->dir);
    sc.spill_dir = spill_dir;
    int rc = cap->ops->open(&sc, &cap->src, eb);
    if (rc != 0)
        return rc;
    ox_source_start from;
    char gtid[OX_LOG_OPAQUE_MAX + 1], why[320];
    resume_point(cap, &from, gtid, sizeof gtid, why, sizeof why);
    rc = cap->ops->start(cap->src, &from, eb);
    if (rc != 0) {
        cap->connect_fault = fault_of(cap, NULL);
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
    publish_schema_counters(cap);
    cap->mismatches_base = __atomic_load_n(&cap->st->schema_mismatches, __ATOMIC_RELAXED);
    cap->unknown_base = __atomic_load_n(&cap->st->schema_unknown, __ATOMIC_RELAXED);
    if (cap->src != NULL)
        cap->ops->close(cap->src);
    cap->src = NULL;
}

/* The file system of dir has at least a MiB free for this user. */
static int has_room(const char *dir)
{
    struct statvfs sv;
    return statvfs(dir, &sv) == 0 && (uint64_t)sv.f_bavail * sv.f_frsize >= (1u << 20);
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

/* A failure capture retries: shows it with when the next attempt is,
 * closes the source (if open) and waits the capture backoff. */
static void retry_later(struct capture *cap, int status, int rc, const ox_errbuf *eb)
{
    const ox_store_config *c = cap->st->cfg;
    int64_t wait = ox_backoff_fail(&cap->retry);
    if (status == OX_ST_LOG_FAILED)
        ox_store_set_status(cap->st, status, OX_LL_ERROR,
                            "Store %s: writing the change log failed: %s: %s; retrying in %.1f s",
                            c->short_name, ox_strerror(rc), eb->msg, (double)wait / 1000);
    else
        ox_store_set_status(cap->st, status, OX_LL_ERROR,
                            "Store %s: source %s:%u: %s (%s); retrying in %.1f s", c->short_name,
                            c->source_host, (unsigned)c->source_port, ox_strerror(rc), eb->msg,
                            (double)wait / 1000);
    if (cap->src != NULL)
        drop_source(cap);
    cap->next_try = ox_time_mono_ms() + wait;
}

/* The source is not open: open it unless the backoff says wait. Returns 1
 * when capture may poll. */
static int try_open(struct capture *cap)
{
    struct ox_store *st = cap->st;
    const ox_store_config *c = st->cfg;
    ox_errbuf eb;
    if (cap->ops == NULL) {
        ox_store_set_status(st, OX_ST_SOURCE_REFUSED, OX_LL_ERROR,
                            "Store %s: no source back end \"%s\"", c->short_name, c->source_type);
        ox_time_sleep_ms(POLL_MS, 1);
        return 0;
    }
    int64_t now = ox_time_mono_ms();
    if (now < cap->next_try) {
        ox_time_sleep_ms(cap->next_try - now < POLL_MS ? cap->next_try - now : POLL_MS, 1);
        return 0;
    }
    if (cap->log_failed) {
        /* A full disk may have room again: cut the log back to its last
         * durable transaction and read the source again from there (nothing
         * lost, nothing twice). Other log failures need a restart (the log
         * reopened). */
        int rr = ox_log_retry(st->log, &eb);
        if (rr != 0) {
            ox_store_set_status(st, OX_ST_LOG_FAILED, OX_LL_ERROR,
                                "Store %s: the change log failed: %s: %s; restart the "
                                "store to recover",
                                c->short_name, ox_strerror(rr), eb.msg);
            cap->next_try = ox_time_mono_ms() + cap->retry.cap_ms;
            return 0;
        }
    }
    cap->connect_fault = OX_SOURCE_FAULT_NONE;
    int rc = connect_source(cap, &eb);
    if (rc != 0) {
        retry_later(cap, status_of(cap->connect_fault, rc), rc, &eb);
        return 0;
    }
    cap->silent = 0;
    cap->reconnects_seen = 0;
    cap->resends_seen = 0;
    cap->commits_at_connect = cap->commits;
    /* After a log failure the status stays 4 until a write succeeds (or
     * capture is caught up with nothing to write); the backoff keeps growing
     * until then. */
    if (!cap->log_failed) {
        ox_backoff_reset(&cap->retry);
        ox_store_set_status(st, OX_ST_NORMAL, OX_LL_INFO,
                            cap->connected_before ? "Store %s reconnected to source"
                                                  : "Store %s started successfully",
                            c->short_name);
    }
    if (cap->connected_before)
        __atomic_add_fetch(&st->reconnects, 1, __ATOMIC_RELAXED);
    cap->connected_before = 1;
    return 1;
}

/* Shows the link as the source reports it: down (status 1, or the back
 * end's own fault status) while it reconnects by itself, 0 once it is back.
 * The source alone decides when a link is dead and when to retry. */
static void show_link(struct capture *cap)
{
    struct ox_store *st = cap->st;
    const ox_store_config *c = st->cfg;
    if (cap->src == NULL || cap->ops->state == NULL)
        return;
    ox_source_state ls = {0};
    ox_errbuf why = {{0}};
    cap->ops->state(cap->src, &ls, &why);
    if (ls.reconnects > cap->reconnects_seen) {
        __atomic_add_fetch(&st->reconnects, ls.reconnects - cap->reconnects_seen, __ATOMIC_RELAXED);
        cap->reconnects_seen = ls.reconnects;
    }
    if (ls.resends > cap->resends_seen) {
        __atomic_add_fetch(&st->stream_resends, ls.resends - cap->resends_seen, __ATOMIC_RELAXED);
        cap->resends_seen = ls.resends;
    }
    if (ls.down && !cap->silent) {
        cap->silent = 1;
        ox_source_fault f = fault_of(cap, &why);
        ox_store_set_status(st, status_of(f, OX_ECONN), OX_LL_WARN,
                            f != OX_SOURCE_FAULT_NONE ? "Store %s: source %s:%u: %s"
                                                      : "Store %s: source %s:%u: %s; reconnecting",
                            c->short_name, c->source_host, (unsigned)c->source_port, why.msg);
    } else if (!ls.down && cap->silent) {
        cap->silent = 0;
        ox_store_set_status(st, OX_ST_NORMAL, OX_LL_INFO, "Store %s reconnected to source",
                            c->short_name);
    }
}

/* After a poll: makes what it appended durable; a log failure drops the
 * source and retries later (ox_log_retry). Returns 1 if it did. */
static int sync_or_fail(struct capture *cap, int rc)
{
    struct ox_store *st = cap->st;
    ox_errbuf eb;
    if (rc == 0 || rc == OX_EAGAIN) {
        /* Nothing more pending (or a batch done): make it visible now.
         * Under the interval policy a batch is left to the flusher, which
         * makes it durable within the interval: an fdatasync here after
         * every batch would stop reading the source while it waits, and
         * catch-up would move at the disk's pace. The source is told only
         * what is durable either way. */
        int sr = 0;
        if (rc == OX_EAGAIN || st->cfg->fsync_policy != OX_LOG_FSYNC_INTERVAL)
            sr = ox_log_sync(st->log, &eb);
        if (sr != 0) {
            cap->cb_rc = sr;
            cap->cb_eb = eb;
        } else {
            confirm_durable(cap);
        }
    }
    if (cap->cb_rc == 0)
        return 0;
    int failed = cap->cb_rc;
    cap->cb_rc = 0;
    cap->log_failed = 1;
    retry_later(cap, OX_ST_LOG_FAILED, failed, &cap->cb_eb);
    return 1;
}

/* Capture is writing again after a log failure: a transaction became
 * durable, or capture is at the source's end with nothing to write and the
 * disk has room. */
static void maybe_log_recovered(struct capture *cap, int rc)
{
    if (!cap->log_failed || (rc != 0 && rc != OX_EAGAIN))
        return;
    if (cap->commits > cap->commits_at_connect ||
        (rc == OX_EAGAIN && has_room(cap->st->cfg->dir))) {
        cap->log_failed = 0;
        ox_backoff_reset(&cap->retry);
        ox_store_set_status(cap->st, OX_ST_NORMAL, OX_LL_INFO,
                            "Store %s: the change log is writable again; capture resumed",
                            cap->st->cfg->short_name);
    }
}

/* One poll of the open source and what follows from it. */
static void poll_once(struct capture *cap)
{
    struct ox_store *st = cap->st;
    ox_errbuf eb;
    int rc = cap->ops->poll(cap->src, on_change, on_reset, cap, POLL_MS, &eb);
    publish_schema_counters(cap);
    uint64_t lag;
    if (cap->ops->lag != NULL && cap->ops->lag(cap->src, &lag) == 0)
        __atomic_store_n(&st->source_lag_bytes, (int64_t)lag, __ATOMIC_RELAXED);
    publish_wal_status(cap);
    if (sync_or_fail(cap, rc))
        return;
    maybe_log_recovered(cap, rc);
    if (rc == 0 || rc == OX_EAGAIN) {
        show_link(cap);
        return;
    }
    retry_later(cap, status_of(fault_of(cap, NULL), rc), rc, &eb);
}

void *ox_store_capture_main(void *arg)
{
    struct ox_store *st = arg;
    const ox_store_config *c = st->cfg;
    struct capture cap;
    memset(&cap, 0, sizeof cap);
    cap.render = ox_render_create();
    cap.st = st;
    cap.ops = ox_source_find(c->source_type);
    ox_backoff_init(&cap.retry, RETRY_FIRST_MS, RETRY_MAX_MS);
    ox_errbuf eb;
    /* The lists were validated when the configuration was loaded. */
    (void)ox_filter_parse(c->whitelist, &cap.white, &eb);
    (void)ox_filter_parse(c->blacklist, &cap.black, &eb);
    int64_t last_retain = 0;
    while (!*st->stop) {
        int64_t now = ox_time_mono_ms();
        if (now - last_retain >= 1000) {
            retain(st);
            last_retain = now;
        }
        if (cap.src == NULL && !try_open(&cap))
            continue;
        poll_once(&cap);
    }
    /* Clean stop: a partial transaction is discarded (the source resends it
     * after restart); everything committed becomes durable. */
    drop_source(&cap);
    if (ox_log_sync(st->log, &eb) != 0)
        ox_slog_printf(st->slog, OX_LL_ERROR, "capture: final sync: %s", eb.msg);
    ox_filter_free(cap.white);
    ox_filter_free(cap.black);
    ox_buf_free(&cap.payload);
    ox_render_free(cap.render);
    return NULL;
}
