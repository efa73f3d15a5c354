/*
 * cm_ops.h - the operations state of the CM (src/cm only): request counters,
 * the metaDB latency histogram, each store's recent history (RPS, delay,
 * restarts) for the console's charts, the alerts the CM evaluates itself,
 * and the console's session id.
 *
 * History: one sample per store every cm.history.interval_ms (default 10 s),
 * in a ring of one hour (capped at 3600 samples), so memory is bounded by the
 * number of stores. Alerts are re-evaluated on every health round; an alert
 * keeps the time it started while its condition holds and disappears when
 * the condition clears. Everything here is under ops->mu.
 */
#ifndef OX_CM_OPS_H
#define OX_CM_OPS_H

#include <limits.h>
#include <pthread.h>
#include <stdint.h>

#include "cm_internal.h"
#include "ox_metrics.h"

struct cm_hist {
    char name[OX_CM_NAME_MAX + 1]; /* key (cm_vec) */
    int cap, n, head;              /* ring: oldest at (head - n) mod cap */
    int64_t *t;                    /* sample time, ms since the epoch */
    float *rps, *delay;
    int *restarts;
    int seen;
};

struct cm_alert {
    char key[OX_CM_NAME_MAX + 64]; /* "<alert>|<subject>" (cm_vec) */
    char alert[48];
    char subject[OX_CM_NAME_MAX + 1];
    char severity[16];
    char message[400];
    int64_t since_ms;
    int seen;
};

struct cm_system {
    char id[32]; /* host id (cm_vec key) */
    json_t *system;
};

struct cm_ops {
    pthread_mutex_t mu;
    ox_metrics_http *http;
    const char **route_names;
    ox_metrics_hist *mdb;
    struct cm_vec hist;    /* struct cm_hist, by name */
    struct cm_vec alerts;  /* struct cm_alert, by key */
    struct cm_vec systems; /* struct cm_system, by host id */
    int64_t hist_interval_ms, last_hist_ms;
    double delay_alert_s;
    double disk_alert_pct;
    int restart_alert_n;
    int64_t restart_window_ms;
    char session[65]; /* the console cookie's value (random, per CM run) */
    char web_dir[PATH_MAX];
};

/* True if the Cookie header value carries oxbow_session=<want> (compared in
 * constant time). A parser of outside bytes: tests/fuzz/fuzz_cm_cookie.c. */
int cm_ops_cookie_match(const char *cookie, const char *want);

/* Reads the status_json number `key`, or 0. */
double cm_ops_status_num(const char *status_json, const char *key);

#endif
