/* cm_state.c - the CM's in-memory registry of topics, hosts and crawlers,
 * loaded from the metaDB at start and kept in step with it. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "cm_internal.h"
#include "ox_alloc.h"

int64_t cm_wall_ms(void)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

int64_t cm_now_ms(const struct ox_cm *cm)
{
    return cm_wall_ms() + cm->cfg.test_clock_offset_ms;
}

/* Every element type starts with its key as a char array. */
int cm_vec_find(const struct cm_vec *v, const char *key, int *pos)
{
    int lo = 0, hi = v->n;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        int c = strcmp((const char *)v->v[mid], key);
        if (c == 0) {
            *pos = mid;
            return 1;
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *pos = lo;
    return 0;
}

void cm_vec_insert(struct cm_vec *v, int pos, void *e)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->v = ox_xrealloc(v->v, (size_t)v->cap * sizeof *v->v);
    }
    memmove(v->v + pos + 1, v->v + pos, (size_t)(v->n - pos) * sizeof *v->v);
    v->v[pos] = e;
    v->n++;
}

void *cm_vec_remove(struct cm_vec *v, int pos)
{
    void *e = v->v[pos];
    memmove(v->v + pos, v->v + pos + 1, (size_t)(v->n - pos - 1) * sizeof *v->v);
    v->n--;
    return e;
}

struct cm_topic *cm_topic_get(struct ox_cm *cm, const char *name)
{
    int pos;
    return cm_vec_find(&cm->topics, name, &pos) ? cm->topics.v[pos] : NULL;
}

struct cm_crawler *cm_crawler_get(struct ox_cm *cm, const char *name)
{
    int pos;
    return cm_vec_find(&cm->crawlers, name, &pos) ? cm->crawlers.v[pos] : NULL;
}

struct cm_host *cm_host_get(struct ox_cm *cm, const char *id)
{
    int pos;
    return cm_vec_find(&cm->hosts, id, &pos) ? cm->hosts.v[pos] : NULL;
}

void cm_topic_free(struct cm_topic *t)
{
    if (t == NULL)
        return;
    if (t->password) {
        /* Scrub the secret before the memory goes back to the allocator. */
        memset(t->password, 0, strlen(t->password));
        free(t->password);
    }
    free(t->whitelist);
    free(t->blacklist);
    free(t);
}

void cm_crawler_free(struct cm_crawler *c)
{
    if (c == NULL)
        return;
    free(c->user_data);
    free(c->err_msg);
    free(c->status_json);
    free(c->last_crash);
    json_decref(c->checkpoints);
    free(c);
}

int cm_db_exec(struct ox_cm *cm, int id, int n, const char *const *p, ox_mdb_row_fn fn, void *arg,
               ox_errbuf *eb)
{
    pthread_mutex_lock(&cm->db_lock);
    int64_t t0 = cm_wall_ms();
    int rc = ox_metadb_exec(cm->db, id, n, p, fn, arg, eb);
    if (fn == NULL) /* a write: reads (with a row callback) are not timed */
        cm_ops_observe_metadb(cm, cm_wall_ms() - t0);
    if (rc < 0) {
        atomic_store(&cm->write_ok, 0);
        snprintf(cm->health_err, sizeof cm->health_err, "%s", eb ? eb->msg : "metaDB error");
    }
    pthread_mutex_unlock(&cm->db_lock);
    return rc;
}

static int64_t to_i64(const char *s)
{
    return s ? strtoll(s, NULL, 10) : 0;
}

static void copy(char *dst, size_t cap, const char *s)
{
    snprintf(dst, cap, "%s", s ? s : "");
}

static int load_topic(void *arg, int n, const char *const *v)
{
    struct ox_cm *cm = arg;
    if (n < 10)
        return 0;
    struct cm_topic *t = ox_xcalloc(1, sizeof *t);
    copy(t->name, sizeof t->name, v[0]);
    copy(t->db_type, sizeof t->db_type, v[1]);
    copy(t->host, sizeof t->host, v[2]);
    t->port = (int)to_i64(v[3]);
    copy(t->user, sizeof t->user, v[4]);
    t->password = ox_xstrdup(v[5] ? v[5] : "");
    t->whitelist = ox_xstrdup(v[6] ? v[6] : "");
    t->blacklist = ox_xstrdup(v[7] ? v[7] : "");
    t->next_sub = to_i64(v[8]);
    t->created_ms = to_i64(v[9]);
    t->retention_s = n > 10 ? to_i64(v[10]) : 0;
    if (n > 11)
        copy(t->database, sizeof t->database, v[11]);
    int pos;
    if (cm_vec_find(&cm->topics, t->name, &pos))
        cm_topic_free(t);
    else
        cm_vec_insert(&cm->topics, pos, t);
    return 0;
}

static int load_host(void *arg, int n, const char *const *v)
{
    struct ox_cm *cm = arg;
    if (n < 4)
        return 0;
    struct cm_host *h = ox_xcalloc(1, sizeof *h);
    copy(h->id, sizeof h->id, v[0]);
    copy(h->ip, sizeof h->ip, v[1]);
    h->port = (int)to_i64(v[2]);
    h->last_hb_ms = to_i64(v[3]);
    int pos;
    if (cm_vec_find(&cm->hosts, h->id, &pos))
        free(h);
    else
        cm_vec_insert(&cm->hosts, pos, h);
    return 0;
}

static void set_checkpoints_from_status(struct cm_crawler *c)
{
    json_decref(c->checkpoints);
    c->checkpoints = NULL;
    if (c->status_json == NULL || c->status_json[0] == '\0')
        return;
    json_t *st = json_loads(c->status_json, 0, NULL);
    if (st == NULL)
        return;
    json_t *cps = json_object_get(st, "checkpoints");
    if (json_is_array(cps))
        c->checkpoints = json_incref(cps);
    json_t *ds = json_object_get(st, "datasource");
    if (json_is_string(ds))
        copy(c->datasource, sizeof c->datasource, json_string_value(ds));
    json_decref(st);
}

static int load_crawler(void *arg, int n, const char *const *v)
{
    struct ox_cm *cm = arg;
    if (n < 15)
        return 0;
    struct cm_crawler *c = ox_xcalloc(1, sizeof *c);
    copy(c->name, sizeof c->name, v[0]);
    copy(c->topic, sizeof c->topic, v[1]);
    c->sub_id = to_i64(v[2]);
    copy(c->host_id, sizeof c->host_id, v[3]);
    c->port = (int)to_i64(v[4]);
    copy(c->role, sizeof c->role, v[5]);
    copy(c->type, sizeof c->type, v[6]);
    c->user_data = ox_xstrdup(v[7] ? v[7] : "");
    copy(c->checkpoint, sizeof c->checkpoint, v[8]);
    c->desired = strcmp(v[9] ? v[9] : "", "stopped") == 0   ? CM_STOP
                 : strcmp(v[9] ? v[9] : "", "destroy") == 0 ? CM_DESTROY
                                                            : CM_RUN;
    c->status = (int)to_i64(v[10]);
    c->err_msg = ox_xstrdup(v[11] ? v[11] : "");
    c->status_json = ox_xstrdup(v[12] ? v[12] : "");
    c->status_ms = to_i64(v[13]);
    c->created_ms = to_i64(v[14]);
    set_checkpoints_from_status(c);
    int pos;
    if (cm_vec_find(&cm->crawlers, c->name, &pos))
        cm_crawler_free(c);
    else
        cm_vec_insert(&cm->crawlers, pos, c);
    return 0;
}

int cm_state_load(struct ox_cm *cm, ox_errbuf *eb)
{
    int rc = cm_db_exec(cm, OX_MDB_TOPIC_ALL, 0, NULL, load_topic, cm, eb);
    if (rc == 0)
        rc = cm_db_exec(cm, OX_MDB_HOST_ALL, 0, NULL, load_host, cm, eb);
    if (rc == 0)
        rc = cm_db_exec(cm, OX_MDB_CRAWLER_ALL, 0, NULL, load_crawler, cm, eb);
    /* Fill datasources of crawlers that never reported from their topics. */
    for (int i = 0; i < cm->crawlers.n; i++) {
        struct cm_crawler *c = cm->crawlers.v[i];
        struct cm_topic *t = cm_topic_get(cm, c->topic);
        if (c->datasource[0] == '\0' && t != NULL)
            snprintf(c->datasource, sizeof c->datasource, "%s:%d", t->host, t->port);
    }
    return rc;
}

void cm_state_free(struct ox_cm *cm)
{
    for (int i = 0; i < cm->topics.n; i++)
        cm_topic_free(cm->topics.v[i]);
    for (int i = 0; i < cm->hosts.n; i++)
        free(cm->hosts.v[i]);
    for (int i = 0; i < cm->crawlers.n; i++)
        cm_crawler_free(cm->crawlers.v[i]);
    free(cm->topics.v);
    free(cm->hosts.v);
    free(cm->crawlers.v);
    memset(&cm->topics, 0, sizeof cm->topics);
    memset(&cm->hosts, 0, sizeof cm->hosts);
    memset(&cm->crawlers, 0, sizeof cm->crawlers);
}

void cm_bump_gen(struct ox_cm *cm)
{
    pthread_mutex_lock(&cm->cond_mu);
    cm->gen++;
    pthread_cond_broadcast(&cm->cond);
    pthread_mutex_unlock(&cm->cond_mu);
}

void cm_bump_obs(struct ox_cm *cm)
{
    pthread_mutex_lock(&cm->cond_mu);
    cm->obs_gen++;
    pthread_cond_broadcast(&cm->cond);
    pthread_mutex_unlock(&cm->cond_mu);
}

int cm_host_live(const struct ox_cm *cm, const struct cm_host *h)
{
    return h != NULL && cm_wall_ms() - h->last_hb_ms <= cm->cfg.host_lost_ms;
}

static int port_taken(const struct ox_cm *cm, const char *host_id, int port, const char *except)
{
    for (int i = 0; i < cm->crawlers.n; i++) {
        const struct cm_crawler *c = cm->crawlers.v[i];
        if (c->port == port && strcmp(c->host_id, host_id) == 0 &&
            (except == NULL || strcmp(c->name, except) != 0))
            return 1;
    }
    return 0;
}

int cm_port_alloc(const struct ox_cm *cm, const struct cm_host *h)
{
    int base = h->store_port_base > 0 ? h->store_port_base : 17000;
    for (int port = base; port < 65536; port++) {
        int busy = 0;
        for (int i = 0; i < h->nbusy && i < 16 && !busy; i++)
            busy = h->busy[i] == port;
        if (port != h->port && !busy && !port_taken(cm, h->id, port, NULL))
            return port;
    }
    return 0;
}

/* "[Fri Sep 16 10:24:07 2022] DRC_<code>:<text>\n", the seed's errMsg shape. */
static char *drc_msg(int code, const char *fmt, const char *name, const char *detail)
{
    char when[64], text[1024];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%a %b %e %H:%M:%S %Y", &tm);
    snprintf(text, sizeof text, fmt, name, detail ? detail : "");
    char *out = ox_xmalloc(strlen(text) + 96);
    sprintf(out, "[%s] DRC_%d:%s\n", when, code, text);
    return out;
}

int cm_crawler_status(const struct ox_cm *cm, const struct cm_crawler *c, const char **err)
{
    /* A crawler whose host stopped reporting cannot be trusted to run. */
    int pos;
    const struct cm_host *h = cm_vec_find(&cm->hosts, c->host_id, &pos) ? cm->hosts.v[pos] : NULL;
    if (!cm_host_live(cm, h) && c->desired != CM_STOP) {
        *err = "DRC_1004:the store's supervisor host is not reporting; its status is unknown\n";
        return CM_ST_HOST_LOST;
    }
    *err = c->err_msg ? c->err_msg : "";
    return c->status;
}

/* Applies one store entry of a supervisor report; needs `lock` for writing. */
static void apply_one(struct ox_cm *cm, const char *host_id, json_t *s)
{
    const char *name = json_string_value(json_object_get(s, "name"));
    const char *state = json_string_value(json_object_get(s, "state"));
    if (name == NULL || state == NULL)
        return;
    struct cm_crawler *c = cm_crawler_get(cm, name);
    if (c == NULL || strcmp(c->host_id, host_id) != 0)
        return;
    const char *error = json_string_value(json_object_get(s, "error"));
    /* The CM allocates ports; a crawler from before that (port 0) takes the
     * port its supervisor chose, unless another crawler of the host has it. */
    json_t *port = json_object_get(s, "port");
    if (c->port == 0 && json_is_integer(port) && json_integer_value(port) > 0 &&
        !port_taken(cm, host_id, (int)json_integer_value(port), c->name))
        c->port = (int)json_integer_value(port);
    /* Its port is held by a process that is not ours: remember that, and
     * allocate another (persisted with the status by the health thread). */
    struct cm_host *h = cm_host_get(cm, host_id);
    if (json_is_true(json_object_get(s, "portBusy")) && h != NULL && json_is_integer(port) &&
        json_integer_value(port) == c->port && c->port > 0) {
        h->busy[h->nbusy++ % 16] = c->port;
        int np = cm_port_alloc(cm, h);
        if (np > 0) {
            c->port = np;
            c->dirty = 1;
            cm_bump_gen(cm);
        }
    }
    json_t *st = json_object_get(s, "status");
    json_t *restarts = json_object_get(s, "restarts");
    int old_restarts = c->restarts;
    if (json_is_integer(restarts))
        c->restarts = (int)json_integer_value(restarts);
    /* The supervisor keeps the last crash's cause after the restart (the
     * "crashed" state may fall between two heartbeats). */
    const char *lc = json_string_value(json_object_get(s, "lastCrash"));
    if (lc != NULL && *lc &&
        (c->last_crash == NULL || c->restarts > old_restarts || strcmp(c->last_crash, lc) != 0)) {
        free(c->last_crash);
        c->last_crash = ox_xstrdup(lc);
        c->last_crash_ms = cm_wall_ms();
    }
    if (strcmp(state, "crashed") == 0 && error != NULL && *error &&
        (c->last_crash == NULL || strcmp(c->last_crash, error) != 0 ||
         c->status != CM_ST_CRASHED)) {
        free(c->last_crash);
        c->last_crash = ox_xstrdup(error);
        c->last_crash_ms = cm_wall_ms();
    }
    int old_status = c->status;
    char *old_msg = c->err_msg;
    c->err_msg = NULL;
    copy(c->state, sizeof c->state, state);
    if (strcmp(state, "running") == 0 && json_is_object(st)) {
        json_t *code = json_object_get(st, "status");
        c->status = json_is_integer(code) ? (int)json_integer_value(code) : CM_ST_FAILED;
        const char *m = json_string_value(json_object_get(st, "errMsg"));
        c->err_msg = ox_xstrdup(m ? m : "");
        char *text = json_dumps(st, JSON_COMPACT | JSON_SORT_KEYS);
        free(c->status_json);
        c->status_json = text ? text : ox_xstrdup("");
        set_checkpoints_from_status(c);
        c->status_ms = cm_wall_ms();
    } else if (strcmp(state, "running") == 0 || strcmp(state, "starting") == 0) {
        c->status = CM_ST_STARTING;
        c->err_msg = drc_msg(CM_ST_STARTING, "Store %s is starting%s", name, "");
    } else if (strcmp(state, "stopped") == 0) {
        c->status = CM_ST_STOPPED;
        if (old_status == CM_ST_STOPPED && old_msg) {
            c->err_msg = old_msg;
            old_msg = NULL;
        } else {
            c->err_msg = drc_msg(CM_ST_STOPPED, "Store %s stopped%s", name, "");
        }
    } else if (strcmp(state, "crashed") == 0) {
        c->status = CM_ST_CRASHED;
        c->err_msg = drc_msg(CM_ST_CRASHED, "Store %s exited; restarting: %s", name, error);
    } else if (strcmp(state, "unresponsive") == 0) {
        c->status = CM_ST_UNRESPONSIVE;
        c->err_msg = drc_msg(CM_ST_UNRESPONSIVE, "Store %s is not answering: %s", name, error);
    } else if (strcmp(state, "destroyed") == 0) {
        c->status = CM_ST_DESTROYING;
        c->err_msg = ox_xstrdup("");
    } else {
        c->status = CM_ST_FAILED;
        c->err_msg = drc_msg(CM_ST_FAILED, "Store %s failed: %s", name, error);
    }
    if (c->status != old_status || old_msg == NULL || strcmp(old_msg, c->err_msg) != 0 ||
        strcmp(state, "running") == 0)
        c->dirty = 1;
    free(old_msg);
}

void cm_state_apply_report(struct ox_cm *cm, const char *host_id, json_t *stores)
{
    pthread_rwlock_wrlock(&cm->lock);
    struct cm_host *h = cm_host_get(cm, host_id);
    if (h != NULL) {
        h->last_hb_ms = cm_wall_ms();
        h->hb_dirty = 1;
    }
    size_t i;
    json_t *s;
    json_array_foreach(stores, i, s) apply_one(cm, host_id, s);
    pthread_rwlock_unlock(&cm->lock);
    cm_bump_obs(cm);
}
