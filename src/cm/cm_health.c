/*
 * cm_health.c - crawler.active: is the CM's view of the stores trustworthy?
 *
 * Every cm.health.interval_ms the health thread, in one metaDB transaction,
 * rewrites the ox_cm_heartbeat row (the database returns its own clock) and
 * persists the store statuses and host heartbeats that changed. active is
 * true only when
 *   - the last metaDB write succeeded (any failing write clears it until the
 *     next successful round),
 *   - that round took at most cm.health.slow_ms,
 *   - |CM clock - metaDB clock| <= cm.health.max_skew_ms (for SQLite the
 *     metaDB clock is the host clock, and cm.test.clock_offset_ms skews the
 *     CM's view of its own clock for tests), and
 *   - the last round finished within three intervals plus slow_ms (a metaDB
 *     that hangs stalls the round, which this catches).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cm_internal.h"
#include "ox_alloc.h"

int cm_active(const struct ox_cm *cm)
{
    struct ox_cm *m = (struct ox_cm *)cm;
    if (!atomic_load(&m->write_ok))
        return 0;
    if (atomic_load(&m->write_ms) > cm->cfg.health_slow_ms)
        return 0;
    long long skew = atomic_load(&m->skew_ms);
    if (skew > cm->cfg.health_max_skew_ms || -skew > cm->cfg.health_max_skew_ms)
        return 0;
    long long age = cm_wall_ms() - atomic_load(&m->last_check_ms);
    if (age > 3LL * cm->cfg.health_interval_ms + cm->cfg.health_slow_ms)
        return 0;
    return 1;
}

struct pending_status {
    char name[OX_CM_NAME_MAX + 1];
    char port[16], status[16], ms[24];
    char *err_msg, *status_json;
};

struct pending_host {
    char id[32];
    char ms[24];
};

static int read_db_ms(void *arg, int n, const char *const *v)
{
    *(int64_t *)arg = (n > 0 && v[0]) ? strtoll(v[0], NULL, 10) : 0;
    return 0;
}

int cm_health_round(struct ox_cm *cm)
{
    /* Snapshot what must be persisted, under the read lock, then write it
     * without holding the registry. */
    struct pending_status *ps = NULL;
    struct pending_host *ph = NULL;
    int nps = 0, nph = 0;
    pthread_rwlock_wrlock(&cm->lock);
    if (cm->crawlers.n > 0)
        ps = ox_xcalloc((size_t)cm->crawlers.n, sizeof *ps);
    for (int i = 0; i < cm->crawlers.n; i++) {
        struct cm_crawler *c = cm->crawlers.v[i];
        if (!c->dirty)
            continue;
        c->dirty = 0;
        struct pending_status *p = &ps[nps++];
        snprintf(p->name, sizeof p->name, "%s", c->name);
        snprintf(p->port, sizeof p->port, "%d", c->port);
        snprintf(p->status, sizeof p->status, "%d", c->status);
        snprintf(p->ms, sizeof p->ms, "%" PRId64, c->status_ms);
        p->err_msg = ox_xstrdup(c->err_msg ? c->err_msg : "");
        p->status_json = ox_xstrdup(c->status_json ? c->status_json : "");
    }
    if (cm->hosts.n > 0)
        ph = ox_xcalloc((size_t)cm->hosts.n, sizeof *ph);
    for (int i = 0; i < cm->hosts.n; i++) {
        struct cm_host *h = cm->hosts.v[i];
        if (!h->hb_dirty)
            continue;
        h->hb_dirty = 0;
        snprintf(ph[nph].id, sizeof ph[nph].id, "%s", h->id);
        snprintf(ph[nph].ms, sizeof ph[nph].ms, "%" PRId64, h->last_hb_ms);
        nph++;
    }
    pthread_rwlock_unlock(&cm->lock);

    ox_errbuf eb;
    int64_t t0 = cm_wall_ms();
    int64_t db_ms = 0;
    char cm_ms[24];
    int64_t cm_clock = cm_now_ms(cm);
    snprintf(cm_ms, sizeof cm_ms, "%" PRId64, cm_clock);
    pthread_mutex_lock(&cm->db_lock);
    int rc = ox_metadb_exec(cm->db, OX_MDB_BEGIN, 0, NULL, NULL, NULL, &eb);
    if (rc == 0) {
        const char *p[1] = {cm_ms};
        rc = ox_metadb_exec(cm->db, OX_MDB_HEARTBEAT, 1, p, read_db_ms, &db_ms, &eb);
    }
    for (int i = 0; rc == 0 && i < nps; i++) {
        const char *p[6] = {ps[i].name,    ps[i].port,        ps[i].status,
                            ps[i].err_msg, ps[i].status_json, ps[i].ms};
        rc = ox_metadb_exec(cm->db, OX_MDB_CRAWLER_SET_STATUS, 6, p, NULL, NULL, &eb);
    }
    for (int i = 0; rc == 0 && i < nph; i++) {
        const char *p[2] = {ph[i].id, ph[i].ms};
        rc = ox_metadb_exec(cm->db, OX_MDB_HOST_HEARTBEAT, 2, p, NULL, NULL, &eb);
    }
    if (rc == 0)
        rc = ox_metadb_exec(cm->db, OX_MDB_COMMIT, 0, NULL, NULL, NULL, &eb);
    if (rc != 0) {
        ox_errbuf ignore;
        ox_metadb_exec(cm->db, OX_MDB_ROLLBACK, 0, NULL, NULL, NULL, &ignore);
        snprintf(cm->health_err, sizeof cm->health_err, "%s", eb.msg);
    }
    pthread_mutex_unlock(&cm->db_lock);
    int64_t took = cm_wall_ms() - t0;
    cm_ops_observe_metadb(cm, took);
    if (rc != 0) {
        /* The statuses were not persisted: mark them dirty again. */
        pthread_rwlock_wrlock(&cm->lock);
        for (int i = 0; i < nps; i++) {
            struct cm_crawler *c = cm_crawler_get(cm, ps[i].name);
            if (c)
                c->dirty = 1;
        }
        for (int i = 0; i < nph; i++) {
            struct cm_host *h = cm_host_get(cm, ph[i].id);
            if (h)
                h->hb_dirty = 1;
        }
        pthread_rwlock_unlock(&cm->lock);
    }
    atomic_store(&cm->write_ok, rc == 0);
    atomic_store(&cm->write_ms, (long long)took);
    if (rc == 0)
        atomic_store(&cm->skew_ms, (long long)(cm_clock - db_ms));
    atomic_store(&cm->last_check_ms, (long long)cm_wall_ms());
    for (int i = 0; i < nps; i++) {
        free(ps[i].err_msg);
        free(ps[i].status_json);
    }
    free(ps);
    free(ph);
    return rc;
}

static void *health_main(void *arg)
{
    struct ox_cm *cm = arg;
    while (!atomic_load(&cm->stopping)) {
        int64_t start = cm_wall_ms();
        cm_health_round(cm);
        cm_ops_tick(cm);
        int64_t left = cm->cfg.health_interval_ms - (cm_wall_ms() - start);
        /* Sleep in small steps so that stopping is prompt. */
        while (left > 0 && !atomic_load(&cm->stopping)) {
            int64_t step = left > 50 ? 50 : left;
            struct timespec ts = {0, (long)step * 1000000L};
            nanosleep(&ts, NULL);
            left -= step;
        }
    }
    return NULL;
}

int cm_health_start(struct ox_cm *cm, ox_errbuf *eb)
{
    cm_health_round(cm);
    if (pthread_create(&cm->health_thread, NULL, health_main, cm) != 0)
        return ox_errf(eb, OX_ENOMEM, "cannot start the health thread");
    cm->health_started = 1;
    return 0;
}

void cm_health_stop(struct ox_cm *cm)
{
    atomic_store(&cm->stopping, 1);
    if (cm->health_started)
        pthread_join(cm->health_thread, NULL);
    cm->health_started = 0;
}
