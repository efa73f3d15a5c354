/* cm_ops.c - operations state: counters, history, alerts (see cm_ops.h). */
#include "cm_ops.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_props.h"

/* Buckets for metaDB writes: 1 ms .. 10 s. */
static const double mdb_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                    0.25,  0.5,    1,     2.5,  5,     10};

static int64_t prop_int(const struct ox_cm *cm, const char *key, int64_t def, int64_t min,
                        int64_t max)
{
    int64_t v = def;
    ox_errbuf eb;
    if (cm->cfg.props == NULL || ox_props_get_int(cm->cfg.props, key, def, min, max, &v, &eb) != 0)
        return def;
    return v;
}

static void pick_web_dir(struct ox_cm *cm, char *out, size_t cap)
{
    const char *want = cm->cfg.props ? ox_props_get_str(cm->cfg.props, "cm.web.dir", NULL) : NULL;
    struct stat sb;
    if (want == NULL) {
#ifdef OX_WEB_DIR
        if (stat(OX_WEB_DIR "/index.html", &sb) == 0)
            want = OX_WEB_DIR;
#endif
#ifdef OX_SOURCE_WEB_DIR
        if (want == NULL)
            want = OX_SOURCE_WEB_DIR;
#endif
    }
    snprintf(out, cap, "%s", want ? want : "web");
}

void cm_ops_init(struct ox_cm *cm)
{
    struct cm_ops *o = ox_xcalloc(1, sizeof *o);
    pthread_mutex_init(&o->mu, NULL);
    o->route_names = ox_xcalloc((size_t)cm_nroutes + 1, sizeof *o->route_names);
    for (int i = 0; i < cm_nroutes; i++)
        o->route_names[i] = cm_routes[i].path;
    o->http = ox_metrics_http_create(o->route_names, cm_nroutes);
    o->mdb = ox_metrics_hist_create(mdb_bounds, (int)(sizeof mdb_bounds / sizeof mdb_bounds[0]));
    o->hist_interval_ms = prop_int(cm, "cm.history.interval_ms", 10000, 100, 600000);
    o->delay_alert_s = (double)prop_int(cm, "cm.alert.delay_seconds", 300, 1, 86400 * 30);
    o->disk_alert_pct = (double)prop_int(cm, "cm.alert.disk_percent", 90, 1, 100);
    o->restart_alert_n = (int)prop_int(cm, "cm.alert.restarts", 3, 1, 1000000);
    o->restart_window_ms = prop_int(cm, "cm.alert.restart_window_s", 900, 10, 86400) * 1000;
    pick_web_dir(cm, o->web_dir, sizeof o->web_dir);
    unsigned char raw[24] = {0};
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, raw, sizeof raw) != (ssize_t)sizeof raw)
        abort(); /* like OOM: no CM runs without a random source */
    close(fd);
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(o->session + 2 * i, 3, "%02x", raw[i]);
    cm->ops = o;
}

static void hist_free(struct cm_hist *h)
{
    if (h == NULL)
        return;
    free(h->t);
    free(h->rps);
    free(h->delay);
    free(h->restarts);
    free(h);
}

void cm_ops_free(struct ox_cm *cm)
{
    struct cm_ops *o = cm->ops;
    if (o == NULL)
        return;
    for (int i = 0; i < o->hist.n; i++)
        hist_free(o->hist.v[i]);
    for (int i = 0; i < o->alerts.n; i++)
        free(o->alerts.v[i]);
    for (int i = 0; i < o->systems.n; i++) {
        struct cm_system *s = o->systems.v[i];
        json_decref(s->system);
        free(s);
    }
    free(o->systems.v);
    free(o->hist.v);
    free(o->alerts.v);
    ox_metrics_http_free(o->http);
    ox_metrics_hist_free(o->mdb);
    free(o->route_names);
    pthread_mutex_destroy(&o->mu);
    free(o);
    cm->ops = NULL;
}

void cm_ops_count_request(struct ox_cm *cm, const struct cm_route *route, unsigned code)
{
    if (cm->ops == NULL)
        return;
    int idx = route ? (int)(route - cm_routes) : cm_nroutes;
    ox_metrics_http_count(cm->ops->http, idx, code);
}

void cm_ops_observe_metadb(struct ox_cm *cm, int64_t ms)
{
    if (cm->ops != NULL)
        ox_metrics_hist_observe(cm->ops->mdb, (double)ms / 1000.0);
}

int cm_ops_cookie_match(const char *cookie, const char *want)
{
    if (cookie == NULL || want == NULL || *want == '\0')
        return 0;
    size_t wl = strlen(want);
    for (const char *p = cookie; (p = strstr(p, "oxbow_session=")) != NULL; p++) {
        if (p != cookie && p[-1] != ' ' && p[-1] != ';')
            continue;
        const char *v = p + 14;
        size_t l = strcspn(v, "; ");
        unsigned d = l != wl;
        for (size_t i = 0; i < wl; i++)
            d |= (unsigned char)want[i] ^ (unsigned char)(i < l ? v[i] : 0);
        if (d == 0)
            return 1;
    }
    return 0;
}

int cm_ops_cookie_ok(struct ox_cm *cm, const char *cookie)
{
    return cm->ops != NULL && cm_ops_cookie_match(cookie, cm->ops->session);
}

double cm_ops_status_num(const char *status_json, const char *key)
{
    /* The store writes these as flat numbers; a scan avoids a parse of the
     * whole document per store per round. */
    if (status_json == NULL)
        return 0;
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(status_json, pat);
    if (p == NULL)
        return 0;
    return strtod(p + strlen(pat), NULL);
}

static struct cm_hist *hist_get(struct cm_ops *o, const char *name)
{
    int pos;
    if (cm_vec_find(&o->hist, name, &pos))
        return o->hist.v[pos];
    struct cm_hist *h = ox_xcalloc(1, sizeof *h);
    snprintf(h->name, sizeof h->name, "%s", name);
    int64_t cap = 3600000 / o->hist_interval_ms + 1;
    h->cap = (int)(cap > 3600 ? 3600 : cap < 2 ? 2 : cap);
    h->t = ox_xcalloc((size_t)h->cap, sizeof *h->t);
    h->rps = ox_xcalloc((size_t)h->cap, sizeof *h->rps);
    h->delay = ox_xcalloc((size_t)h->cap, sizeof *h->delay);
    h->restarts = ox_xcalloc((size_t)h->cap, sizeof *h->restarts);
    cm_vec_insert(&o->hist, pos, h);
    return h;
}

static void alert_set(struct cm_ops *o, int64_t now, const char *alert, const char *severity,
                      const char *subject, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void alert_set(struct cm_ops *o, int64_t now, const char *alert, const char *severity,
                      const char *subject, const char *fmt, ...)
{
    char key[sizeof((struct cm_alert *)0)->key];
    snprintf(key, sizeof key, "%s|%s", alert, subject);
    int pos;
    struct cm_alert *a;
    if (cm_vec_find(&o->alerts, key, &pos)) {
        a = o->alerts.v[pos];
    } else {
        a = ox_xcalloc(1, sizeof *a);
        snprintf(a->key, sizeof a->key, "%s", key);
        snprintf(a->alert, sizeof a->alert, "%s", alert);
        snprintf(a->subject, sizeof a->subject, "%s", subject);
        a->since_ms = now;
        cm_vec_insert(&o->alerts, pos, a);
    }
    snprintf(a->severity, sizeof a->severity, "%s", severity);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->message, sizeof a->message, fmt, ap);
    va_end(ap);
    a->seen = 1;
}

/* The first line of an errMsg, without its trailing newline. */
static void first_line(const char *s, char *out, size_t cap)
{
    size_t n = s ? strcspn(s, "\n") : 0;
    snprintf(out, cap, "%.*s", (int)(n < cap ? n : cap - 1), s ? s : "");
}

void cm_ops_tick(struct ox_cm *cm)
{
    struct cm_ops *o = cm->ops;
    if (o == NULL)
        return;
    int64_t now = cm_wall_ms();
    pthread_rwlock_rdlock(&cm->lock);
    pthread_mutex_lock(&o->mu);
    int sample = now - o->last_hist_ms >= o->hist_interval_ms;
    if (sample)
        o->last_hist_ms = now;
    for (int i = 0; i < o->hist.n; i++)
        ((struct cm_hist *)o->hist.v[i])->seen = 0;
    for (int i = 0; i < o->alerts.n; i++)
        ((struct cm_alert *)o->alerts.v[i])->seen = 0;
    if (!cm_active(cm))
        alert_set(o, now, "OxbowCMInactive", "critical", "cm",
                  "crawler.active is false: the metaDB is failing, slow or skewed");
    for (int i = 0; i < cm->hosts.n; i++) {
        struct cm_host *h = cm->hosts.v[i];
        if (!cm_host_live(cm, h))
            alert_set(o, now, "OxbowHostDown", "critical", h->id,
                      "supervisor %s has not reported for %lld s", h->id,
                      (long long)((now - h->last_hb_ms) / 1000));
        int pos;
        if (cm_vec_find(&o->systems, h->id, &pos)) {
            json_t *sys = ((struct cm_system *)o->systems.v[pos])->system;
            double size = json_number_value(json_object_get(sys, "diskSize"));
            double avail = json_number_value(json_object_get(sys, "diskAvail"));
            if (size > 0 && (1 - avail / size) * 100 > o->disk_alert_pct)
                alert_set(o, now, "OxbowDiskFull", "critical", h->id,
                          "the supervisor's disk is %.0f%% full (over %.0f%%)",
                          (1 - avail / size) * 100, o->disk_alert_pct);
        }
    }
    for (int i = 0; i < cm->crawlers.n; i++) {
        struct cm_crawler *c = cm->crawlers.v[i];
        struct cm_hist *h = hist_get(o, c->name);
        h->seen = 1;
        const char *err = "";
        int status = cm_crawler_status(cm, c, &err);
        double delay = cm_ops_status_num(c->status_json, "delay");
        if (sample) {
            int k = h->head;
            h->t[k] = now;
            h->rps[k] = status == 0 ? (float)cm_ops_status_num(c->status_json, "recordsPerSec") : 0;
            h->delay[k] = (float)delay;
            h->restarts[k] = c->restarts;
            h->head = (h->head + 1) % h->cap;
            if (h->n < h->cap)
                h->n++;
        }
        if (status != 0) {
            char line[300];
            first_line(err, line, sizeof line);
            alert_set(o, now, "OxbowStoreNotRunning", c->desired == CM_RUN ? "critical" : "warning",
                      c->name, "status %d: %s", status, line);
        }
        if (status == 0 && delay > o->delay_alert_s)
            alert_set(o, now, "OxbowStoreDelayHigh", "warning", c->name,
                      "delay %.0f s is over %.0f s", delay, o->delay_alert_s);
        /* Restarts within the window: now minus the oldest sample inside it. */
        int base = c->restarts;
        for (int k = 0; k < h->n; k++) {
            int idx = ((h->head - 1 - k) % h->cap + h->cap) % h->cap;
            if (now - h->t[idx] > o->restart_window_ms)
                break;
            base = h->restarts[idx];
        }
        if (c->restarts - base >= o->restart_alert_n)
            alert_set(o, now, "OxbowStoreRestartLoop", "critical", c->name,
                      "%d restarts in %lld s; last cause: %s", c->restarts - base,
                      (long long)(o->restart_window_ms / 1000),
                      c->last_crash ? c->last_crash : "?");
    }
    pthread_rwlock_unlock(&cm->lock);
    for (int i = o->hist.n - 1; i >= 0; i--)
        if (!((struct cm_hist *)o->hist.v[i])->seen)
            hist_free(cm_vec_remove(&o->hist, i));
    for (int i = o->alerts.n - 1; i >= 0; i--)
        if (!((struct cm_alert *)o->alerts.v[i])->seen)
            free(cm_vec_remove(&o->alerts, i));
    pthread_mutex_unlock(&o->mu);
}

void cm_ops_host_system(struct ox_cm *cm, const char *host_id, json_t *system)
{
    struct cm_ops *o = cm->ops;
    if (o == NULL || !json_is_object(system))
        return;
    pthread_mutex_lock(&o->mu);
    int pos;
    struct cm_system *s;
    if (cm_vec_find(&o->systems, host_id, &pos)) {
        s = o->systems.v[pos];
        json_decref(s->system);
    } else {
        s = ox_xcalloc(1, sizeof *s);
        snprintf(s->id, sizeof s->id, "%s", host_id);
        cm_vec_insert(&o->systems, pos, s);
    }
    /* Only numbers pass: the console shows them as figures. */
    s->system = json_object();
    const char *k;
    json_t *v;
    json_object_foreach(system, k, v)
    {
        if (json_is_number(v) && strlen(k) < 32)
            json_object_set(s->system, k, v);
    }
    pthread_mutex_unlock(&o->mu);
}

json_t *cm_ops_host_system_get(struct ox_cm *cm, const char *host_id)
{
    struct cm_ops *o = cm->ops;
    json_t *r = NULL;
    if (o == NULL)
        return NULL;
    pthread_mutex_lock(&o->mu);
    int pos;
    if (cm_vec_find(&o->systems, host_id, &pos))
        r = json_deep_copy(((struct cm_system *)o->systems.v[pos])->system);
    pthread_mutex_unlock(&o->mu);
    return r;
}
