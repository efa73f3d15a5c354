/*
 * ox_metrics.h - the Prometheus text exposition format (version 0.0.4), and
 * the two kinds of live figures the daemons keep for it: HTTP requests by
 * route and status code, and a latency histogram.
 *
 * Format (one owner, this module): for each metric family one "# HELP" and
 * one "# TYPE" line, then its samples, all together:
 *
 *   # HELP oxbow_http_requests_total HTTP requests answered, by route and code.
 *   # TYPE oxbow_http_requests_total counter
 *   oxbow_http_requests_total{route="/v1/status",code="200"} 12
 *
 * Label values escape backslash, double quote and newline; HELP text escapes
 * backslash and newline. Values print as integers when they are whole, else
 * with %.17g; NaN and infinities as NaN, +Inf, -Inf.
 *
 * None of these functions log. The writers are not thread-safe (one ox_buf per
 * response); ox_metrics_http and ox_metrics_hist are safe from any thread.
 */
#ifndef OX_METRICS_H
#define OX_METRICS_H

#include <stdint.h>

#include "ox_buf.h"

#define OX_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Writes the HELP and TYPE lines of a family; type is "counter", "gauge",
 * "histogram" or "untyped". */
void ox_metrics_family(ox_buf *b, const char *name, const char *type, const char *help);

/* Writes one sample. labels is NULL or a NULL-terminated array of key, value
 * pairs (values are escaped here; keys must be valid label names). */
void ox_metrics_sample(ox_buf *b, const char *name, const char *const *labels, double value);

/* Appends a label value with the format's escapes (no quotes). */
void ox_metrics_escape(ox_buf *b, const char *value);

/* HTTP requests by route and status code. Routes are a fixed list of names
 * given at creation (the route table's paths); index `nroutes` counts paths
 * outside the table as route="other", so a scanner cannot grow the series. */
typedef struct ox_metrics_http ox_metrics_http;

/* Returns a new counter set (owned; ox_metrics_http_free); aborts on OOM. The
 * route names must outlive it. */
ox_metrics_http *ox_metrics_http_create(const char *const *routes, int nroutes);
void ox_metrics_http_free(ox_metrics_http *m);
/* Finds a route's index by path, or nroutes ("other"). */
int ox_metrics_http_route(const ox_metrics_http *m, const char *path);
void ox_metrics_http_count(ox_metrics_http *m, int route, unsigned code);
/* Writes the family oxbow_http_requests_total. */
void ox_metrics_http_write(ox_metrics_http *m, ox_buf *b);

/* A histogram of durations in seconds with fixed bucket bounds. */
typedef struct ox_metrics_hist ox_metrics_hist;

/* bounds: ascending upper bounds in seconds (copied); aborts on OOM. */
ox_metrics_hist *ox_metrics_hist_create(const double *bounds, int n);
void ox_metrics_hist_free(ox_metrics_hist *h);
void ox_metrics_hist_observe(ox_metrics_hist *h, double seconds);
/* Writes the whole family `name` (HELP, TYPE, _bucket, _sum, _count). */
void ox_metrics_hist_write(ox_metrics_hist *h, ox_buf *b, const char *name, const char *help);

#endif
