/* ox_metrics.c - Prometheus text exposition (see ox_metrics.h). */
#include "ox_metrics.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ox_alloc.h"

void ox_metrics_escape(ox_buf *b, const char *v)
{
    for (; *v; v++) {
        if (*v == '\\')
            ox_buf_puts(b, "\\\\");
        else if (*v == '"')
            ox_buf_puts(b, "\\\"");
        else if (*v == '\n')
            ox_buf_puts(b, "\\n");
        else
            ox_buf_putc(b, (uint8_t)*v);
    }
}

void ox_metrics_family(ox_buf *b, const char *name, const char *type, const char *help)
{
    ox_buf_printf(b, "# HELP %s ", name);
    for (const char *p = help; *p; p++) {
        if (*p == '\\')
            ox_buf_puts(b, "\\\\");
        else if (*p == '\n')
            ox_buf_puts(b, "\\n");
        else
            ox_buf_putc(b, (uint8_t)*p);
    }
    ox_buf_printf(b, "\n# TYPE %s %s\n", name, type);
}

static void put_value(ox_buf *b, double v)
{
    if (isnan(v))
        ox_buf_puts(b, "NaN");
    else if (isinf(v))
        ox_buf_puts(b, v > 0 ? "+Inf" : "-Inf");
    else if (v == floor(v) && fabs(v) < 9007199254740992.0)
        ox_buf_printf(b, "%.0f", v);
    else
        ox_buf_printf(b, "%.17g", v);
}

void ox_metrics_sample(ox_buf *b, const char *name, const char *const *labels, double value)
{
    ox_buf_puts(b, name);
    if (labels != NULL && labels[0] != NULL) {
        ox_buf_putc(b, '{');
        for (int i = 0; labels[i] != NULL && labels[i + 1] != NULL; i += 2) {
            ox_buf_printf(b, "%s%s=\"", i ? "," : "", labels[i]);
            ox_metrics_escape(b, labels[i + 1]);
            ox_buf_putc(b, '"');
        }
        ox_buf_putc(b, '}');
    }
    ox_buf_putc(b, ' ');
    put_value(b, value);
    ox_buf_putc(b, '\n');
}

/* ---- HTTP requests by route and code --------------------------------- */

#define OX_METRICS_HTTP_SLOTS 256

struct http_slot {
    int route;
    unsigned code;
    uint64_t n;
};

struct ox_metrics_http {
    const char *const *routes;
    int nroutes;
    pthread_mutex_t mu;
    int nslots;
    struct http_slot slots[OX_METRICS_HTTP_SLOTS];
};

ox_metrics_http *ox_metrics_http_create(const char *const *routes, int nroutes)
{
    ox_metrics_http *m = ox_xcalloc(1, sizeof *m);
    m->routes = routes;
    m->nroutes = nroutes;
    pthread_mutex_init(&m->mu, NULL);
    return m;
}

void ox_metrics_http_free(ox_metrics_http *m)
{
    if (m == NULL)
        return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

int ox_metrics_http_route(const ox_metrics_http *m, const char *path)
{
    for (int i = 0; path != NULL && i < m->nroutes; i++)
        if (strcmp(m->routes[i], path) == 0)
            return i;
    return m->nroutes;
}

void ox_metrics_http_count(ox_metrics_http *m, int route, unsigned code)
{
    if (m == NULL)
        return;
    if (route < 0 || route > m->nroutes)
        route = m->nroutes;
    if (code < 100 || code > 599)
        code = 0;
    pthread_mutex_lock(&m->mu);
    int i;
    for (i = 0; i < m->nslots; i++)
        if (m->slots[i].route == route && m->slots[i].code == code)
            break;
    /* Routes x codes in use are few; a full table folds into the last slot
     * rather than dropping counts. */
    if (i == m->nslots && m->nslots < OX_METRICS_HTTP_SLOTS) {
        m->slots[i].route = route;
        m->slots[i].code = code;
        m->nslots++;
    } else if (i == m->nslots) {
        i = OX_METRICS_HTTP_SLOTS - 1;
    }
    m->slots[i].n++;
    pthread_mutex_unlock(&m->mu);
}

static int slot_cmp(const void *a, const void *b)
{
    const struct http_slot *x = a, *y = b;
    if (x->route != y->route)
        return x->route < y->route ? -1 : 1;
    return x->code < y->code ? -1 : x->code > y->code;
}

void ox_metrics_http_write(ox_metrics_http *m, ox_buf *b)
{
    struct http_slot copy[OX_METRICS_HTTP_SLOTS];
    pthread_mutex_lock(&m->mu);
    int n = m->nslots;
    memcpy(copy, m->slots, (size_t)n * sizeof copy[0]);
    pthread_mutex_unlock(&m->mu);
    qsort(copy, (size_t)n, sizeof copy[0], slot_cmp);
    ox_metrics_family(b, "oxbow_http_requests_total", "counter",
                      "HTTP requests answered, by route and status code.");
    for (int i = 0; i < n; i++) {
        char code[8];
        snprintf(code, sizeof code, "%u", copy[i].code);
        const char *route = copy[i].route < m->nroutes ? m->routes[copy[i].route] : "other";
        const char *labels[] = {"route", route, "code", code, NULL};
        ox_metrics_sample(b, "oxbow_http_requests_total", labels, (double)copy[i].n);
    }
}

/* ---- histogram -------------------------------------------------------- */

struct ox_metrics_hist {
    pthread_mutex_t mu;
    int n;
    double *bounds;
    uint64_t *counts; /* per bucket, not cumulative; n + 1 with +Inf */
    uint64_t count;
    double sum;
};

ox_metrics_hist *ox_metrics_hist_create(const double *bounds, int n)
{
    ox_metrics_hist *h = ox_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    h->n = n;
    h->bounds = ox_xcalloc((size_t)n + 1, sizeof *h->bounds);
    memcpy(h->bounds, bounds, (size_t)n * sizeof *bounds);
    h->counts = ox_xcalloc((size_t)n + 1, sizeof *h->counts);
    return h;
}

void ox_metrics_hist_free(ox_metrics_hist *h)
{
    if (h == NULL)
        return;
    pthread_mutex_destroy(&h->mu);
    free(h->bounds);
    free(h->counts);
    free(h);
}

void ox_metrics_hist_observe(ox_metrics_hist *h, double s)
{
    int i = 0;
    while (i < h->n && s > h->bounds[i])
        i++;
    pthread_mutex_lock(&h->mu);
    h->counts[i]++;
    h->count++;
    h->sum += s;
    pthread_mutex_unlock(&h->mu);
}

void ox_metrics_hist_write(ox_metrics_hist *h, ox_buf *b, const char *name, const char *help)
{
    char key[200], le[40];
    ox_metrics_family(b, name, "histogram", help);
    pthread_mutex_lock(&h->mu);
    uint64_t cum = 0;
    snprintf(key, sizeof key, "%s_bucket", name);
    for (int i = 0; i <= h->n; i++) {
        cum += h->counts[i];
        if (i < h->n)
            snprintf(le, sizeof le, "%g", h->bounds[i]);
        else
            snprintf(le, sizeof le, "+Inf");
        const char *labels[] = {"le", le, NULL};
        ox_metrics_sample(b, key, labels, (double)cum);
    }
    snprintf(key, sizeof key, "%s_sum", name);
    ox_metrics_sample(b, key, NULL, h->sum);
    snprintf(key, sizeof key, "%s_count", name);
    ox_metrics_sample(b, key, NULL, (double)h->count);
    pthread_mutex_unlock(&h->mu);
}
