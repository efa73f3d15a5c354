/* test_metrics.c - the Prometheus text writer (ox_metrics): families, label
 * escaping, value formatting, request counters and histograms. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "ox_metrics.h"

static const char *text(ox_buf *b)
{
    ox_buf_putc(b, 0);
    b->len--;
    return (const char *)b->data;
}

static void test_family_and_escaping(void **state)
{
    (void)state;
    ox_buf b = OX_BUF_INIT;
    ox_metrics_family(&b, "x_total", "counter", "Help with \\ and\nnewline.");
    const char *l[] = {"store", "a\"b\\c\nd", "topic", "<script>", NULL};
    ox_metrics_sample(&b, "x_total", l, 3);
    ox_metrics_sample(&b, "x_total", NULL, 0.25);
    ox_metrics_sample(&b, "x_total", NULL, NAN);
    ox_metrics_sample(&b, "x_total", NULL, INFINITY);
    ox_metrics_sample(&b, "x_total", NULL, -INFINITY);
    ox_metrics_sample(&b, "x_total", NULL, 18446744073709551615.0);
    assert_string_equal(text(&b), "# HELP x_total Help with \\\\ and\\nnewline.\n"
                                  "# TYPE x_total counter\n"
                                  "x_total{store=\"a\\\"b\\\\c\\nd\",topic=\"<script>\"} 3\n"
                                  "x_total 0.25\n"
                                  "x_total NaN\n"
                                  "x_total +Inf\n"
                                  "x_total -Inf\n"
                                  "x_total 1.8446744073709552e+19\n");
    ox_buf_free(&b);
}

static void test_http_counts(void **state)
{
    (void)state;
    static const char *const routes[] = {"/a", "/b"};
    ox_metrics_http *m = ox_metrics_http_create(routes, 2);
    assert_int_equal(ox_metrics_http_route(m, "/b"), 1);
    assert_int_equal(ox_metrics_http_route(m, "/zzz"), 2);
    assert_int_equal(ox_metrics_http_route(m, NULL), 2);
    ox_metrics_http_count(m, 1, 200);
    ox_metrics_http_count(m, 1, 200);
    ox_metrics_http_count(m, 0, 404);
    ox_metrics_http_count(m, 2, 404);
    ox_metrics_http_count(m, 99, 999); /* out of range: other, code 0 */
    ox_buf b = OX_BUF_INIT;
    ox_metrics_http_write(m, &b);
    assert_string_equal(text(&b),
                        "# HELP oxbow_http_requests_total HTTP requests answered, by route and "
                        "status code.\n"
                        "# TYPE oxbow_http_requests_total counter\n"
                        "oxbow_http_requests_total{route=\"/a\",code=\"404\"} 1\n"
                        "oxbow_http_requests_total{route=\"/b\",code=\"200\"} 2\n"
                        "oxbow_http_requests_total{route=\"other\",code=\"0\"} 1\n"
                        "oxbow_http_requests_total{route=\"other\",code=\"404\"} 1\n");
    ox_buf_free(&b);
    ox_metrics_http_free(m);
    ox_metrics_http_free(NULL);
}

static void test_histogram(void **state)
{
    (void)state;
    const double bounds[] = {0.01, 0.1};
    ox_metrics_hist *h = ox_metrics_hist_create(bounds, 2);
    ox_metrics_hist_observe(h, 0.005);
    ox_metrics_hist_observe(h, 0.01); /* le is inclusive */
    ox_metrics_hist_observe(h, 0.05);
    ox_metrics_hist_observe(h, 3);
    ox_buf b = OX_BUF_INIT;
    ox_metrics_hist_write(h, &b, "d_seconds", "Durations.");
    assert_string_equal(text(&b), "# HELP d_seconds Durations.\n"
                                  "# TYPE d_seconds histogram\n"
                                  "d_seconds_bucket{le=\"0.01\"} 2\n"
                                  "d_seconds_bucket{le=\"0.1\"} 3\n"
                                  "d_seconds_bucket{le=\"+Inf\"} 4\n"
                                  "d_seconds_sum 3.0649999999999999\n"
                                  "d_seconds_count 4\n");
    ox_buf_free(&b);
    ox_metrics_hist_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_family_and_escaping),
        cmocka_unit_test(test_http_counts),
        cmocka_unit_test(test_histogram),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
