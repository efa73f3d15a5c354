/*
 * cm_api_crawler.c - the /crawler/... handlers.
 *
 * Changes are recorded as desired state (running, stopped, destroy) in the
 * metaDB and the registry; the supervisor of the crawler's host picks them up
 * on its next heartbeat (a long poll, so at once) and reports back. The
 * handler then waits up to cm.apply.wait_ms for that report, so that a
 * successful answer means the change happened. Repeated calls are answered
 * without a change: clear of a stopped store and restore of a running store
 * succeed with "message":"already stopped"/"already running"; destroy of an
 * unknown store is 404.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm_api.h"
#include "ox_alloc.h"
#include "ox_buf.h"
#include "ox_checkpoint.h"
#include "ox_json_out.h"

int cm_wait_for(struct ox_cm *cm, const char *name, int (*pred)(struct ox_cm *cm, const char *name),
                int timeout_ms)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    for (;;) {
        pthread_mutex_lock(&cm->cond_mu);
        uint64_t seen = cm->obs_gen;
        pthread_mutex_unlock(&cm->cond_mu);
        pthread_rwlock_rdlock(&cm->lock);
        int ok = pred(cm, name);
        pthread_rwlock_unlock(&cm->lock);
        if (ok)
            return 1;
        pthread_mutex_lock(&cm->cond_mu);
        int rc = 0;
        while (cm->obs_gen == seen && rc == 0 && !atomic_load(&cm->stopping))
            rc = pthread_cond_timedwait(&cm->cond, &cm->cond_mu, &deadline);
        pthread_mutex_unlock(&cm->cond_mu);
        if (rc != 0 || atomic_load(&cm->stopping)) {
            pthread_rwlock_rdlock(&cm->lock);
            ok = pred(cm, name);
            pthread_rwlock_unlock(&cm->lock);
            return ok;
        }
    }
}

static int pred_running(struct ox_cm *cm, const char *name)
{
    struct cm_crawler *c = cm_crawler_get(cm, name);
    /* Running and answering, or definitely failing (no point waiting). */
    return c == NULL || c->desired != CM_RUN ||
           (strcmp(c->state, "running") == 0 && c->status != CM_ST_STARTING) ||
           strcmp(c->state, "failed") == 0 || strcmp(c->state, "crashed") == 0 ||
           strcmp(c->state, "unresponsive") == 0;
}

static int pred_stopped(struct ox_cm *cm, const char *name)
{
    struct cm_crawler *c = cm_crawler_get(cm, name);
    return c == NULL || c->desired != CM_STOP || strcmp(c->state, "stopped") == 0;
}

static int pred_gone(struct ox_cm *cm, const char *name)
{
    return cm_crawler_get(cm, name) == NULL;
}

/* Detail response {"crawler":{...},"isSuccess":true[,"message":m]}. */
static int detail_response(struct ox_cm *cm, const char *name, const char *message,
                           struct cm_resp *resp)
{
    ox_errbuf eb;
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_crawler *c = cm_crawler_get(cm, name);
    json_t *d = c ? cm_detail_json(cm, c, "", &eb) : NULL;
    pthread_rwlock_unlock(&cm->lock);
    if (d == NULL)
        return cm_resp_error(resp, 404, "unknown crawler '%s'", name);
    json_t *o = json_object();
    json_object_set_new(o, "crawler", d);
    if (message)
        json_object_set_new(o, "message", json_string(message));
    return cm_resp_ok(resp, o);
}

/* Picks the host for a new crawler: the one asked for, or the live host with
 * the fewest crawlers. Needs `lock`. */
static struct cm_host *pick_host(struct ox_cm *cm, const char *want, int *err_status,
                                 const char **err)
{
    struct cm_host *best = NULL;
    int best_n = 0;
    for (int i = 0; i < cm->hosts.n; i++) {
        struct cm_host *h = cm->hosts.v[i];
        if (want && *want && strcmp(want, h->id) != 0 && strcmp(want, h->ip) != 0)
            continue;
        if (!cm_host_live(cm, h))
            continue;
        int n = 0;
        for (int k = 0; k < cm->crawlers.n; k++)
            n += strcmp(((struct cm_crawler *)cm->crawlers.v[k])->host_id, h->id) == 0;
        if (best == NULL || n < best_n) {
            best = h;
            best_n = n;
        }
    }
    if (best == NULL) {
        *err_status = want && *want ? 404 : 503;
        *err = want && *want ? "no live supervisor host matches 'host'"
                             : "no live supervisor host is registered";
    }
    return best;
}

/* Sets resp to an error and gives -1 (cm_resp_error itself returns the
 * handler's 0). */
#define START_FAIL(...) (cm_resp_error(resp, __VA_ARGS__), -1)

/* What crawler/start asks for, validated. */
struct start_req {
    const char *topic, *role, *type, *ud, *want;
    char cpnorm[OX_CHECKPOINT_STRLEN];
};

/* Reads and checks crawler/start's parameters; 0, or -1 with the error response set. */
static int start_params(struct cm_req *req, struct cm_resp *resp, struct start_req *q)
{
    ox_errbuf eb;
    const char *cp = cm_req_param(req, "checkpoint");
    q->topic = cm_req_param(req, "topic");
    q->role = cm_req_param(req, "role");
    q->type = cm_req_param(req, "type");
    q->ud = cm_req_param(req, "userData");
    q->want = cm_req_param(req, "host");
    q->cpnorm[0] = '\0';
    if (q->topic == NULL)
        return START_FAIL(400, "missing parameter 'topic'");
    if (ox_cm_topic_validate(q->topic, &eb) != 0)
        return START_FAIL(400, "%s", eb.msg);
    if (cp != NULL && *cp) {
        ox_checkpoint parsed;
        if (strlen(cp) >= CM_CHECKPOINT_MAX || ox_checkpoint_parse(cp, &parsed, &eb) != 0)
            return START_FAIL(400, "bad checkpoint: %s",
                              strlen(cp) >= CM_CHECKPOINT_MAX ? "too long" : eb.msg);
        ox_checkpoint_format(&parsed, q->cpnorm, sizeof q->cpnorm);
    }
    if (q->role == NULL || *q->role == '\0')
        q->role = "master";
    if (strcmp(q->role, "master") != 0)
        return START_FAIL(400, "role must be master (got '%.32s')", q->role);
    if (q->type == NULL || *q->type == '\0')
        q->type = "mysql2store";
    if (strcmp(q->type, "mysql2store") != 0)
        return START_FAIL(400, "type must be mysql2store (got '%.32s')", q->type);
    if (q->ud == NULL)
        q->ud = "";
    if (!cm_text_ok(q->ud, 4096))
        return START_FAIL(400, "userData must be printable UTF-8 of at most 4096 bytes");
    if (q->want != NULL && *q->want) {
        char ip[16];
        int port;
        uint32_t a;
        if (!ox_cm_host_id_parse(q->want, ip, &port) &&
            ox_ipv4_parse(q->want, strlen(q->want), &a) != 0)
            return START_FAIL(400, "host must be <ipv4> or <ipv4>-<port>");
    }
    return 0;
}

/* Where a new crawler goes: its name, host, port and subscription id. */
struct start_place {
    char name[OX_CM_NAME_MAX + 1], host_id[32], datasource[300];
    int64_t sub;
    int port;
};

/* Picks the host, the port and the subscription id (called with mut_lock
 * held, so that two starts cannot pick the same); 0, or -1 with the error response set. */
static int start_place(struct ox_cm *cm, const struct start_req *q, struct start_place *pl,
                       struct cm_resp *resp)
{
    memset(pl, 0, sizeof *pl);
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_topic *t = cm_topic_get(cm, q->topic);
    int status = 0;
    const char *err = NULL;
    struct cm_host *h = t ? pick_host(cm, q->want, &status, &err) : NULL;
    if (t && h) {
        pl->sub = t->next_sub;
        pl->port = cm_port_alloc(cm, h);
        snprintf(pl->host_id, sizeof pl->host_id, "%s", h->id);
        ox_cm_name_format(h->ip, h->port, q->topic, pl->sub, pl->name, sizeof pl->name);
        snprintf(pl->datasource, sizeof pl->datasource, "%s:%d", t->host, t->port);
    }
    pthread_rwlock_unlock(&cm->lock);
    if (t == NULL)
        return START_FAIL(404, "unknown topic '%s'", q->topic);
    if (h == NULL)
        return START_FAIL(status, "%s", err);
    if (pl->port == 0)
        return START_FAIL(503, "no free store port left on host %s", pl->host_id);
    if (pl->sub > 9999999999LL)
        return START_FAIL(409, "topic '%s' has used every subscription id", q->topic);
    return 0;
}

/* Writes the crawler and the topic's next subscription id in one metaDB
 * transaction; 0, or -1 with the error response set. */
static int start_persist(struct ox_cm *cm, const struct start_req *q, const struct start_place *pl,
                         int64_t now, struct cm_resp *resp)
{
    ox_errbuf eb;
    char next[24], subs[24], ms[24], ports[16];
    snprintf(ports, sizeof ports, "%d", pl->port);
    snprintf(next, sizeof next, "%" PRId64, pl->sub + 1);
    snprintf(subs, sizeof subs, "%" PRId64, pl->sub);
    snprintf(ms, sizeof ms, "%" PRId64, now);
    const char *p1[2] = {q->topic, next};
    const char *p2[15] = {pl->name,  q->topic,  subs,   pl->host_id, ports, q->role, q->type, q->ud,
                          q->cpnorm, "running", "1002", "",          "",    "0",     ms};
    /* One transaction: hold db_lock across it so that the health thread's
     * own transaction cannot interleave on the same connection. */
    pthread_mutex_lock(&cm->db_lock);
    int rc = ox_metadb_exec(cm->db, OX_MDB_BEGIN, 0, NULL, NULL, NULL, &eb);
    if (rc == 0)
        rc = ox_metadb_exec(cm->db, OX_MDB_TOPIC_SET_NEXT_SUB, 2, p1, NULL, NULL, &eb);
    if (rc == 0)
        rc = ox_metadb_exec(cm->db, OX_MDB_CRAWLER_INSERT, 15, p2, NULL, NULL, &eb);
    if (rc == 0)
        rc = ox_metadb_exec(cm->db, OX_MDB_COMMIT, 0, NULL, NULL, NULL, &eb);
    if (rc != 0) {
        ox_errbuf ignore;
        ox_metadb_exec(cm->db, OX_MDB_ROLLBACK, 0, NULL, NULL, NULL, &ignore);
        atomic_store(&cm->write_ok, 0);
        snprintf(cm->health_err, sizeof cm->health_err, "%.500s", eb.msg);
    }
    pthread_mutex_unlock(&cm->db_lock);
    if (rc != 0)
        return START_FAIL(503, "metaDB write failed: %s", eb.msg);
    return 0;
}

/* The in-memory crawler of a start just persisted. */
static struct cm_crawler *start_crawler(const struct start_req *q, const struct start_place *pl,
                                        int64_t now)
{
    struct cm_crawler *c = ox_xcalloc(1, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", pl->name);
    snprintf(c->topic, sizeof c->topic, "%s", q->topic);
    c->sub_id = pl->sub;
    c->port = pl->port;
    snprintf(c->host_id, sizeof c->host_id, "%s", pl->host_id);
    snprintf(c->role, sizeof c->role, "%s", q->role);
    snprintf(c->type, sizeof c->type, "%s", q->type);
    c->user_data = ox_xstrdup(q->ud);
    snprintf(c->checkpoint, sizeof c->checkpoint, "%s", q->cpnorm);
    c->desired = CM_RUN;
    c->status = CM_ST_STARTING;
    c->err_msg = ox_xstrdup("");
    c->status_json = ox_xstrdup("");
    snprintf(c->datasource, sizeof c->datasource, "%s", pl->datasource);
    c->created_ms = now;
    return c;
}

int cm_h_crawler_start(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    struct start_req q;
    struct start_place pl;
    if (start_params(req, resp, &q) != 0)
        return 0;
    pthread_mutex_lock(&cm->mut_lock);
    int64_t now = cm_wall_ms();
    int rc = start_place(cm, &q, &pl, resp);
    if (rc == 0)
        rc = start_persist(cm, &q, &pl, now, resp);
    if (rc != 0) {
        pthread_mutex_unlock(&cm->mut_lock);
        return 0;
    }
    struct cm_crawler *c = start_crawler(&q, &pl, now);
    pthread_rwlock_wrlock(&cm->lock);
    struct cm_topic *t = cm_topic_get(cm, q.topic);
    if (t)
        t->next_sub = pl.sub + 1;
    int pos;
    cm_vec_find(&cm->crawlers, pl.name, &pos);
    cm_vec_insert(&cm->crawlers, pos, c);
    pthread_rwlock_unlock(&cm->lock);
    pthread_mutex_unlock(&cm->mut_lock);
    cm_bump_gen(cm);
    int ok = cm_wait_for(cm, pl.name, pred_running, cm->cfg.apply_wait_ms);
    return detail_response(cm, pl.name, ok ? NULL : "start requested; the store is still starting",
                           resp);
}

/* Common checks of the single-crawler endpoints; 0 if the name is valid. */
static int crawler_param(struct cm_req *req, struct cm_resp *resp, const char **name)
{
    ox_errbuf eb;
    *name = cm_req_param(req, "crawler");
    if (*name == NULL || **name == '\0') {
        cm_resp_error(resp, 400, "missing parameter 'crawler'");
        return -1;
    }
    if (ox_cm_name_parse(*name, NULL, &eb) != 0) {
        cm_resp_error(resp, 400, "%s", eb.msg);
        return -1;
    }
    return 0;
}

/* Sets the desired state; returns 0 changed, 1 already so, or -1 (resp set). */
static int set_desired(struct ox_cm *cm, const char *name, int desired, struct cm_resp *resp)
{
    ox_errbuf eb;
    pthread_mutex_lock(&cm->mut_lock);
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_crawler *c = cm_crawler_get(cm, name);
    int cur = c ? c->desired : -1;
    pthread_rwlock_unlock(&cm->lock);
    int ret = 0;
    if (cur < 0) {
        cm_resp_error(resp, 404, "unknown crawler '%s'", name);
        ret = -1;
    } else if (cur == CM_DESTROY && desired != CM_DESTROY) {
        cm_resp_error(resp, 409, "crawler '%s' is being destroyed", name);
        ret = -1;
    } else if (cur == desired) {
        ret = 1;
    } else {
        const char *word = desired == CM_RUN    ? "running"
                           : desired == CM_STOP ? "stopped"
                                                : "destroy";
        const char *p[2] = {name, word};
        if (cm_db_exec(cm, OX_MDB_CRAWLER_SET_DESIRED, 2, p, NULL, NULL, &eb) != 0) {
            cm_resp_error(resp, 503, "metaDB write failed: %s", eb.msg);
            ret = -1;
        } else {
            pthread_rwlock_wrlock(&cm->lock);
            c = cm_crawler_get(cm, name);
            if (c)
                c->desired = desired;
            pthread_rwlock_unlock(&cm->lock);
        }
    }
    pthread_mutex_unlock(&cm->mut_lock);
    if (ret == 0)
        cm_bump_gen(cm);
    return ret;
}

/*
 * clear and restore: record the desired state, wait until the supervisor
 * confirms it (or cm.apply.wait_ms passes), and answer with the detail.
 * Asking for the state a store is already in is not an error: the answer
 * says so in "message".
 */
static int set_and_wait(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp, int desired,
                        int (*reached)(struct ox_cm *, const char *), const char *already,
                        const char *pending)
{
    const char *name;
    if (crawler_param(req, resp, &name) != 0)
        return 0;
    int r = set_desired(cm, name, desired, resp);
    if (r < 0)
        return 0;
    int ok = cm_wait_for(cm, name, reached, cm->cfg.apply_wait_ms);
    return detail_response(cm, name, r == 1 ? already : ok ? NULL : pending, resp);
}

int cm_h_crawler_clear(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    return set_and_wait(cm, req, resp, CM_STOP, pred_stopped, "already stopped",
                        "stop requested; not yet confirmed by the supervisor");
}

int cm_h_crawler_restore(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    return set_and_wait(cm, req, resp, CM_RUN, pred_running, "already running",
                        "restore requested; the store is still starting");
}

int cm_h_crawler_destroy(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    const char *name;
    if (crawler_param(req, resp, &name) != 0)
        return 0;
    if (set_desired(cm, name, CM_DESTROY, resp) < 0)
        return 0;
    if (!cm_wait_for(cm, name, pred_gone, cm->cfg.apply_wait_ms))
        return cm_resp_error(resp, 504,
                             "destroy of '%s' requested but not confirmed by its supervisor within "
                             "%d ms; it completes when the host reports (repeat to check)",
                             name, cm->cfg.apply_wait_ms);
    return cm_resp_ok(resp, json_pack("{s:s,s:s}", "crawler", name, "message", "destroyed"));
}

int cm_h_crawler_detail(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    ox_errbuf eb;
    const char *name;
    if (crawler_param(req, resp, &name) != 0)
        return 0;
    const char *filters = cm_req_param(req, "filters");
    if (cm_detail_filters_check(filters, &eb) != 0)
        return cm_resp_error(resp, 400, "%s", eb.msg);
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_crawler *c = cm_crawler_get(cm, name);
    json_t *d = c ? cm_detail_json(cm, c, filters, &eb) : NULL;
    pthread_rwlock_unlock(&cm->lock);
    if (d == NULL)
        return cm_resp_error(resp, 404, "unknown crawler '%s'", name);
    json_t *o = json_object();
    json_object_set_new(o, "crawler", d);
    return cm_resp_ok(resp, o);
}

/* Hand-written JSON (keys in sorted order, like every other response):
 * jansson's tree costs one allocation per value, and a list of 10,000 stores
 * is 70,000 values. */
int cm_h_crawler_list(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    ox_errbuf eb;
    const char *topic = cm_req_param(req, "topic");
    if (topic && *topic && ox_cm_topic_validate(topic, &eb) != 0)
        return cm_resp_error(resp, 400, "%s", eb.msg);
    ox_buf b = OX_BUF_INIT;
    OX_JSON_LIT(&b, "{\"crawlers\":[");
    int first = 1;
    pthread_rwlock_rdlock(&cm->lock);
    ox_buf_grow(&b, (size_t)cm->crawlers.n * 160);
    for (int i = 0; i < cm->crawlers.n; i++) {
        struct cm_crawler *c = cm->crawlers.v[i];
        if (topic && *topic && strcmp(topic, c->topic) != 0)
            continue;
        const char *err;
        int st = cm_crawler_status(cm, c, &err);
        const char *desired = c->desired == CM_RUN    ? "running"
                              : c->desired == CM_STOP ? "stopped"
                                                      : "destroy";
        if (!first)
            ox_buf_putc(&b, ',');
        first = 0;
        OX_JSON_LIT(&b, "{\"desired\":\"");
        ox_buf_puts(&b, desired);
        OX_JSON_LIT(&b, "\",\"host\":");
        ox_json_str(&b, c->host_id, strlen(c->host_id));
        OX_JSON_LIT(&b, ",\"name\":");
        ox_json_str(&b, c->name, strlen(c->name));
        OX_JSON_LIT(&b, ",\"port\":");
        ox_json_i64(&b, c->port);
        OX_JSON_LIT(&b, ",\"state\":");
        ox_json_str(&b, c->state, strlen(c->state));
        OX_JSON_LIT(&b, ",\"status\":");
        ox_json_i64(&b, st);
        OX_JSON_LIT(&b, ",\"topic\":");
        ox_json_str(&b, c->topic, strlen(c->topic));
        ox_buf_putc(&b, '}');
    }
    pthread_rwlock_unlock(&cm->lock);
    OX_JSON_LIT(&b, "],\"isSuccess\":true}");
    ox_buf_putc(&b, 0);
    json_decref(resp->body);
    resp->body = NULL;
    resp->http_status = 200;
    resp->raw = (char *)b.data;
    return 0;
}

/* The checkpoint's ip and port, where given, must be the crawler's source
 * (a datasource named by host name is not compared by ip). */
static int same_source(const ox_checkpoint *cp, const char *datasource, char *why, size_t cap)
{
    const char *colon = strrchr(datasource, ':');
    if (colon == NULL)
        return 1;
    char host[64];
    snprintf(host, sizeof host, "%.*s", (int)(colon - datasource), datasource);
    struct in_addr a;
    if ((cp->present & OX_CP_DBIP) && inet_pton(AF_INET, host, &a) == 1 &&
        ntohl(a.s_addr) != cp->db_ip) {
        snprintf(why, cap, "the checkpoint's ip is not the crawler's source %.120s", datasource);
        return 0;
    }
    if ((cp->present & OX_CP_DBPORT) && strtol(colon + 1, NULL, 10) != (long)cp->db_port) {
        snprintf(why, cap, "the checkpoint's port is not the crawler's source %.120s", datasource);
        return 0;
    }
    return 1;
}

/*
 * POST /crawler/reposition crawler=NAME checkpoint=CP: moves a stopped store
 * to a new start position and keeps its log (docs/operations.md). Only the
 * start checkpoint changes here; the store applies it on its next start
 * (src/store/ox_store_repos.c): capture begins at CP, msgIds continue after
 * the log's last record, the schema history is snapshot again at CP.
 */
int cm_h_crawler_reposition(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp)
{
    ox_errbuf eb;
    const char *name;
    if (crawler_param(req, resp, &name) != 0)
        return 0;
    const char *cp = cm_req_param(req, "checkpoint");
    if (cp == NULL || *cp == '\0')
        return cm_resp_error(resp, 400,
                             "missing parameter 'checkpoint' (fileIdx and offset, e.g. "
                             "'::3:4567::', or a timestamp '::::1663049354:')");
    ox_checkpoint parsed;
    if (strlen(cp) >= CM_CHECKPOINT_MAX || ox_checkpoint_parse(cp, &parsed, &eb) != 0)
        return cm_resp_error(resp, 400, "bad checkpoint: %s",
                             strlen(cp) >= CM_CHECKPOINT_MAX ? "too long" : eb.msg);
    unsigned need = OX_CP_FILEIDX | OX_CP_OFFSET;
    if ((parsed.present & need) != need && !(parsed.present & OX_CP_TIMESTAMP))
        return cm_resp_error(resp, 400,
                             "bad checkpoint: needs fileIdx and offset, or a timestamp "
                             "('::::1663049354:')");
    char cpnorm[OX_CHECKPOINT_STRLEN];
    ox_checkpoint_format(&parsed, cpnorm, sizeof cpnorm);

    pthread_mutex_lock(&cm->mut_lock);
    pthread_rwlock_rdlock(&cm->lock);
    struct cm_crawler *c = cm_crawler_get(cm, name);
    int code = 0;
    char why[600] = "";
    if (c == NULL) {
        code = 404;
        snprintf(why, sizeof why, "unknown crawler '%s'", name);
    } else if (c->desired != CM_STOP || strcmp(c->state, "stopped") != 0) {
        code = 409;
        snprintf(why, sizeof why,
                 "crawler '%s' is not stopped (%s): stop it with crawler/clear first", name,
                 c->desired == CM_DESTROY ? "being destroyed" : c->state);
    } else if (strcmp(c->checkpoint, cpnorm) == 0) {
        code = 409;
        snprintf(why, sizeof why, "'%s' is already the crawler's start position", cpnorm);
    } else if (!same_source(&parsed, c->datasource, why, sizeof why)) {
        code = 400;
    }
    pthread_rwlock_unlock(&cm->lock);
    if (code != 0) {
        pthread_mutex_unlock(&cm->mut_lock);
        return cm_resp_error(resp, code, "%s", why);
    }
    const char *p[2] = {name, cpnorm};
    if (cm_db_exec(cm, OX_MDB_CRAWLER_SET_CHECKPOINT, 2, p, NULL, NULL, &eb) != 0) {
        pthread_mutex_unlock(&cm->mut_lock);
        return cm_resp_error(resp, 503, "metaDB write failed: %s", eb.msg);
    }
    pthread_rwlock_wrlock(&cm->lock);
    c = cm_crawler_get(cm, name);
    if (c != NULL)
        snprintf(c->checkpoint, sizeof c->checkpoint, "%s", cpnorm);
    pthread_rwlock_unlock(&cm->lock);
    pthread_mutex_unlock(&cm->mut_lock);
    cm_bump_gen(cm);
    char msg[200];
    snprintf(msg, sizeof msg,
             "repositioned to %s; crawler/restore resumes capture there, the log is kept", cpnorm);
    return detail_response(cm, name, msg, resp);
}
