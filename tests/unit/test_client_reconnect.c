/*
 * test_client_reconnect.c - liboxbow-client's reconnect mode: where a store
 * is (URLs, the CM's crawler/detail), which failures are retried, and, with
 * a scripted fake store on loopback, that a dropped, ended or busy stream is
 * resumed from the last returned checkpoint with nothing lost or repeated,
 * and that a final answer (410) or the give-up time ends it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* Before cmocka.h, whose fail() macro would rename the client's own. */
#include "../../src/client/ox_client.c"
#include "../../src/client/ox_client_ep.c"
#include "../../src/client/ox_client_parse.c"
#include "../../src/client/ox_client_retry.c"

#include <cmocka.h>

static void test_parse_url(void **state)
{
    (void)state;
    char host[64], err[128];
    uint16_t port = 0;
    const char *ok[] = {"http://127.0.0.1:17000", "http://127.0.0.1:17000/", "127.0.0.1:17000"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(
            oxc_ep_parse_url(ok[i], strlen(ok[i]), host, sizeof host, &port, err, sizeof err), 0);
        assert_string_equal(host, "127.0.0.1");
        assert_int_equal(port, 17000);
    }
    const char *bad[] = {"https://h:1",   "http://h", "http://h:0", "http://h:65536",
                         "http://h:1/v1", ":80",      "http://h:1x"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        assert_int_equal(
            oxc_ep_parse_url(bad[i], strlen(bad[i]), host, sizeof host, &port, err, sizeof err),
            -1);
    assert_non_null(strstr(err, "bad port"));
}

static int detail(const char *json, char *host, uint16_t *port, char *err)
{
    return oxc_ep_from_detail(json, strlen(json), host, 64, port, err, 128);
}

static void test_from_detail(void **state)
{
    (void)state;
    char host[64], err[128];
    uint16_t port = 0;
    assert_int_equal(detail("{\"crawler\":{\"name\":\"10.0.0.2-7100:orders-000-0:0000000001\","
                            "\"port\":17001,\"checkpoints\":[[{\"dbPort\":3306}]]},"
                            "\"isSuccess\":true}",
                            host, &port, err),
                     0);
    assert_string_equal(host, "10.0.0.2");
    assert_int_equal(port, 17001);
    /* An explicit host wins over the name's. */
    assert_int_equal(detail("{\"crawler\":{\"name\":\"10.0.0.2-7100:o\",\"host\":\"10.0.0.3\","
                            "\"port\":17002},\"isSuccess\":true}",
                            host, &port, err),
                     0);
    assert_string_equal(host, "10.0.0.3");
    assert_int_equal(port, 17002);
    assert_int_equal(
        detail("{\"isSuccess\":false,\"errMsg\":\"no such crawler\"}", host, &port, err), -1);
    assert_non_null(strstr(err, "no such crawler"));
    assert_int_equal(detail("{\"crawler\":{\"name\":\"10.0.0.2-7100:o\",\"port\":0},"
                            "\"isSuccess\":true}",
                            host, &port, err),
                     -1);
    assert_non_null(strstr(err, "no store port"));
    assert_int_equal(detail("{\"crawler\":{\"name\":\"nodash\",\"port\":1},\"isSuccess\":true}",
                            host, &port, err),
                     -1);
    assert_int_equal(detail("not json", host, &port, err), -1);
}

static void test_classify(void **state)
{
    (void)state;
    assert_true(oxc_ep_http_transient(503));
    assert_true(oxc_ep_http_transient(500));
    assert_true(oxc_ep_http_transient(429));
    assert_false(oxc_ep_http_transient(410));
    assert_false(oxc_ep_http_transient(400));
    assert_false(oxc_ep_http_transient(404));
    assert_false(oxc_ep_http_transient(200));
    assert_false(oxc_ep_skip(0, 1));
    assert_true(oxc_ep_skip(5, 5));
    assert_true(oxc_ep_skip(5, 4));
    assert_false(oxc_ep_skip(5, 6));
}

/* The fake store: one scripted answer per connection; the request lines it
 * saw are kept for the checks. */
typedef struct fake {
    int lfd;
    uint16_t port;
    const char *const *answers;
    size_t n;
    int hold_ms; /* keep each connection open, silent, this long */
    char requests[8][512];
} fake;

static void *fake_main(void *arg)
{
    fake *f = arg;
    for (size_t i = 0; i < f->n; i++) {
        int fd = accept(f->lfd, NULL, NULL);
        if (fd < 0)
            return NULL;
        char req[4096];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t n = recv(fd, req + got, sizeof req - 1 - got, 0);
            if (n <= 0)
                break;
            got += (size_t)n;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n") != NULL)
                break;
        }
        req[got] = '\0';
        snprintf(f->requests[i], sizeof f->requests[i], "%.*s", (int)strcspn(req, "\r"), req);
        const char *a = f->answers[i];
        if (send(fd, a, strlen(a), MSG_NOSIGNAL) < 0)
            break;
        if (f->hold_ms > 0)
            usleep((useconds_t)f->hold_ms * 1000);
        close(fd); /* mid-stream unless the answer ended itself */
    }
    return NULL;
}

static void fake_start(fake *f, pthread_t *t)
{
    f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t sl = sizeof sa;
    assert_int_equal(bind(f->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(f->lfd, 8), 0);
    assert_int_equal(getsockname(f->lfd, (struct sockaddr *)&sa, &sl), 0);
    f->port = ntohs(sa.sin_port);
    assert_int_equal(pthread_create(t, NULL, fake_main, f), 0);
}

#define HEAD200 "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
/* One JSON-lines record as one chunk (the line is 0x56 = 86 bytes for n < 10). */
#define REC(n)                                                                                     \
    "56\r\n{\"msgId\":" #n ",\"checkpoint\":\"127.0.0.1:3306:1:10" #n ":1700000000:" #n            \
    "\",\"op\":\"insert\",\"x\":\"....\"}\n\r\n"

static int lines;

static void count_line(void *arg, const char *line)
{
    (void)arg;
    assert_non_null(strstr(line, "reconnected to 127.0.0.1:"));
    lines++;
}

/* Reconnect options over the given store URLs, with short waits. */
static void rc_init(ox_client_reconnect *rc, const char *const *stores, size_t n)
{
    ox_client_reconnect_init(rc);
    rc->stores = stores;
    rc->n_stores = n;
    rc->backoff_initial_ms = 5;
    rc->backoff_cap_ms = 20;
}

/* Opens rc in JSON mode from msg_id (0: the earliest); fails the test
 * on an error. */
static ox_client *open_json(const ox_client_reconnect *rc, uint64_t msg_id)
{
    ox_client_options o;
    ox_client_options_init(&o);
    o.binary = 0;
    o.msg_id = msg_id;
    o.from_earliest = msg_id == 0;
    ox_client *c = NULL;
    if (ox_client_open_reconnect(rc, &o, &c) != 0)
        fail_msg("open: %s", ox_client_error(c));
    return c;
}

static void test_resume_and_skip(void **state)
{
    (void)state;
    const char *answers[] = {
        HEAD200 REC(1) REC(2) REC(3), /* then the store dies */
        HEAD200 REC(2) REC(3) REC(4), /* re-sends 2 and 3: skipped */
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 38\r\n\r\n"
        "{\"isSuccess\":false,\"errMsg\":\"busy\"}\r\n", /* transient */
        HEAD200 REC(5) "0\r\n\r\n",                      /* a clean end (shutdown) */
        "HTTP/1.1 410 Gone\r\nContent-Length: 36\r\n\r\n"
        "{\"isSuccess\":false,\"errMsg\":\"gone\"}", /* final */
    };
    fake f = {.answers = answers, .n = 5};
    pthread_t t;
    fake_start(&f, &t);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%u", (unsigned)f.port);
    const char *stores[] = {"http://127.0.0.1:1", url}; /* the first is down */
    ox_client_reconnect rc;
    rc_init(&rc, stores, 2);
    rc.on_reconnect = count_line;
    ox_client *c = open_json(&rc, 0);
    ox_client_record r;
    for (uint64_t want = 1; want <= 5; want++) {
        assert_int_equal(ox_client_next(c, &r, 5000), OX_CLIENT_RECORD);
        assert_int_equal(r.msg_id, want);
    }
    assert_int_equal(ox_client_next(c, &r, 5000), OX_CLIENT_ERROR);
    assert_non_null(strstr(ox_client_error(c), "HTTP 410: gone"));
    assert_int_equal(ox_client_next(c, &r, 0), OX_CLIENT_ERROR); /* stays failed */
    assert_int_equal(ox_client_reconnects(c), 2);
    assert_int_equal(lines, 2);
    pthread_join(t, NULL);
    close(f.lfd);
    assert_non_null(strstr(f.requests[0], "from=earliest"));
    /* Each resume names the last record returned, not one only buffered. */
    assert_non_null(strstr(f.requests[1], "checkpoint=127.0.0.1:3306:1:103:1700000000:3"));
    assert_non_null(strstr(f.requests[2], "checkpoint=127.0.0.1:3306:1:104:1700000000:4"));
    assert_non_null(strstr(f.requests[3], "checkpoint=127.0.0.1:3306:1:104:1700000000:4"));
    assert_non_null(strstr(f.requests[4], "checkpoint=127.0.0.1:3306:1:105:1700000000:5"));
    ox_client_close(c);
}

static void test_give_up_and_bad_urls(void **state)
{
    (void)state;
    const char *stores[] = {"127.0.0.1:1"};
    ox_client_reconnect rc;
    rc_init(&rc, stores, 1);
    rc.give_up_ms = 100;
    ox_client *c = NULL;
    assert_int_equal(ox_client_open_reconnect(&rc, NULL, &c), 0); /* down is not final */
    ox_client_record r;
    assert_int_equal(ox_client_next(c, &r, 0), OX_CLIENT_TIMEOUT);
    assert_int_equal(ox_client_next(c, &r, -1), OX_CLIENT_ERROR);
    assert_non_null(strstr(ox_client_error(c), "gave up after"));
    assert_non_null(strstr(ox_client_error(c), "Connection refused"));
    ox_client_close(c);
    rc.stores = (const char *const[]){"https://127.0.0.1:1"};
    assert_int_equal(ox_client_open_reconnect(&rc, NULL, &c), -1);
    assert_non_null(strstr(ox_client_error(c), "https"));
    ox_client_close(c);
    ox_client_reconnect_init(&rc);
    rc.cm_url = "http://127.0.0.1:1";
    assert_int_equal(ox_client_open_reconnect(&rc, NULL, &c), -1);
    assert_non_null(strstr(ox_client_error(c), "crawler"));
    ox_client_close(c);
    ox_client_reconnect_init(&rc);
    assert_int_equal(ox_client_open_reconnect(&rc, NULL, &c), -1);
    assert_non_null(strstr(ox_client_error(c), "no store URL"));
    ox_client_close(c);
}

static char last_line[2048];

static void keep_line(void *arg, const char *line)
{
    (void)arg;
    snprintf(last_line, sizeof last_line, "%s", line);
}

/* A store that keeps the connection open but sends nothing, not even a
 * keepalive (frozen, or a cut link), is left after silence_ms. */
static void test_silence(void **state)
{
    (void)state;
    const char *answers[] = {HEAD200 REC(1), HEAD200 REC(2)};
    fake f = {.answers = answers, .n = 2, .hold_ms = 800};
    pthread_t t;
    fake_start(&f, &t);
    char url[64];
    snprintf(url, sizeof url, "127.0.0.1:%u", (unsigned)f.port);
    const char *stores[] = {url};
    ox_client_reconnect rc;
    rc_init(&rc, stores, 1);
    rc.silence_ms = 200;
    rc.on_reconnect = keep_line;
    ox_client *c = open_json(&rc, 0);
    ox_client_record r;
    assert_int_equal(ox_client_next(c, &r, 5000), OX_CLIENT_RECORD);
    assert_int_equal(r.msg_id, 1);
    int64_t t0 = ox_time_mono_ms();
    assert_int_equal(ox_client_next(c, &r, -1), OX_CLIENT_RECORD); /* -1 too */
    assert_int_equal(r.msg_id, 2);
    assert_true(ox_time_mono_ms() - t0 < 5000);
    assert_non_null(strstr(last_line, "neither a record nor a keepalive for"));
    assert_non_null(strstr(f.requests[1], "checkpoint=127.0.0.1:3306:1:101:1700000000:1"));
    pthread_join(t, NULL);
    close(f.lfd);
    ox_client_close(c);
}

/* The CM says where the store is; a CM that is down is skipped. */
static void test_through_cm(void **state)
{
    (void)state;
    fake store = {0}, cm = {0};
    const char *sa[] = {HEAD200 REC(7) "0\r\n\r\n"};
    store.answers = sa;
    store.n = 1;
    pthread_t ts, tc;
    fake_start(&store, &ts);
    char body[256], ans[512];
    snprintf(body, sizeof body,
             "{\"crawler\":{\"name\":\"127.0.0.1-7100:o-000-0:0000000001\",\"port\":%u},"
             "\"isSuccess\":true}",
             (unsigned)store.port);
    snprintf(ans, sizeof ans, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body),
             body);
    const char *ca[] = {ans};
    cm.answers = ca;
    cm.n = 1;
    fake_start(&cm, &tc);
    char cms[96];
    snprintf(cms, sizeof cms, "http://127.0.0.1:1,http://127.0.0.1:%u", (unsigned)cm.port);
    ox_client_reconnect rc;
    ox_client_reconnect_init(&rc);
    rc.cm_url = cms;
    rc.crawler = "127.0.0.1-7100:o-000-0:0000000001";
    rc.cm_token = "t0ken";
    rc.give_up_ms = 300;
    ox_client *c = open_json(&rc, 7);
    ox_client_record r;
    assert_int_equal(ox_client_next(c, &r, 5000), OX_CLIENT_RECORD);
    assert_int_equal(r.msg_id, 7);
    pthread_join(tc, NULL);
    pthread_join(ts, NULL);
    assert_non_null(strstr(
        cm.requests[0], "GET /crawler/detail?filters=&crawler=127.0.0.1-7100:o-000-0:0000000001"));
    assert_non_null(strstr(store.requests[0], "msgId=7"));
    /* The stream ended, both fakes are gone: the client gives up. */
    close(store.lfd);
    close(cm.lfd);
    assert_int_equal(ox_client_next(c, &r, -1), OX_CLIENT_ERROR);
    assert_non_null(strstr(ox_client_error(c), "gave up"));
    ox_client_close(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_url),
        cmocka_unit_test(test_from_detail),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_resume_and_skip),
        cmocka_unit_test(test_give_up_and_bad_urls),
        cmocka_unit_test(test_through_cm),
        cmocka_unit_test(test_silence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
