/*
 * ox_client_retry.c - liboxbow-client's reconnect mode (include/oxbow/
 * client.h, ox_client_open_reconnect).
 *
 * Endpoints form one ring: the CMs first (each asked for the crawler's
 * current host and port), then the store URLs. A round tries each once,
 * starting from the one that worked last; a failed round waits as the one
 * backoff (ox_time.h) says. The resume point is the checkpoint of the last
 * record handed to the caller, never one only parsed: a record still
 * buffered when the connection dropped is asked for again, and one the
 * store sends twice (msgId at or below the last returned) is skipped.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oxbow/client.h"

#include "ox_alloc.h"
#include "ox_client_ep.h"
#include "ox_client_int.h"
#include "ox_time.h"

typedef struct oxc_endpoint {
    char host[256];
    uint16_t port;
    int is_cm; /* ask crawler/detail here for the store's address */
} oxc_endpoint;

struct oxc_retry {
    ox_client_options o; /* the caller's start, with owned strings */
    char *checkpoint, *filter, *token, *crawler, *cm_token;
    oxc_endpoint *eps;
    size_t n_eps, cur;
    int64_t give_up_ms, silence_ms;
    ox_backoff bo;
    void (*on_reconnect)(void *arg, const char *line);
    void *arg;
    int connected;
    int dead; /* a final error or the give-up time was returned */
    int64_t down_since, next_try;
    uint64_t last_msg, reconnects;
    char last_cp[OX_CHECKPOINT_STRLEN];
    char why[768]; /* why the last connection ended */
};

static char *dup_or_null(const char *s)
{
    return s != NULL ? ox_xstrdup(s) : NULL;
}

void ox_client_reconnect_init(ox_client_reconnect *r)
{
    memset(r, 0, sizeof *r);
    r->backoff_initial_ms = 200;
    r->backoff_cap_ms = 5000;
    r->silence_ms = 10000;
}

uint64_t ox_client_reconnects(const ox_client *c)
{
    return c != NULL && c->retry != NULL ? c->retry->reconnects : 0;
}

void oxc_retry_free(struct oxc_retry *r)
{
    if (r == NULL)
        return;
    free(r->checkpoint);
    free(r->filter);
    free(r->token);
    free(r->crawler);
    free(r->cm_token);
    free(r->eps);
    free(r);
}

static int add_endpoint(ox_client *c, struct oxc_retry *r, const char *s, size_t len, int is_cm)
{
    oxc_endpoint *e = &r->eps[r->n_eps];
    if (oxc_ep_parse_url(s, len, e->host, sizeof e->host, &e->port, c->err, sizeof c->err) != 0)
        return -1;
    e->is_cm = is_cm;
    r->n_eps++;
    return 0;
}

/* Fills r's endpoint ring from the caller's URLs; -1 with c->err set. */
static int build_ring(ox_client *c, struct oxc_retry *r, const ox_client_reconnect *rc)
{
    size_t n = rc->n_stores + 1;
    for (const char *p = rc->cm_url; p != NULL && *p; p++)
        n += *p == ',';
    r->eps = ox_xcalloc(n, sizeof *r->eps);
    if (rc->cm_url != NULL && *rc->cm_url) {
        if (rc->crawler == NULL || *rc->crawler == '\0') {
            snprintf(c->err, sizeof c->err, "a CM URL needs the crawler's name");
            return -1;
        }
        for (const char *p = rc->cm_url; *p;) {
            size_t len = strcspn(p, ",");
            if (add_endpoint(c, r, p, len, 1) != 0)
                return -1;
            p += len + (p[len] == ',');
        }
    }
    for (size_t i = 0; i < rc->n_stores; i++)
        if (rc->stores[i] == NULL || add_endpoint(c, r, rc->stores[i], strlen(rc->stores[i]), 0))
            return -1;
    if (r->n_eps == 0) {
        snprintf(c->err, sizeof c->err, "no store URL and no CM to reconnect to");
        return -1;
    }
    return 0;
}

/* Asks the CM e for the crawler's current host and port. */
static int ask_cm(ox_client *c, struct oxc_retry *r, const oxc_endpoint *e, char *host,
                  size_t hostlen, uint16_t *port)
{
    ox_buf path = OX_BUF_INIT;
    ox_buf_puts(&path, "/crawler/detail?filters=&crawler=");
    oxc_put_escaped(&path, r->crawler);
    ox_buf_putc(&path, 0);
    int timeout = r->o.connect_timeout_ms > 0 ? r->o.connect_timeout_ms : 5000;
    int rc = oxc_http_get(c, e->host, e->port, (const char *)path.data, r->cm_token, timeout);
    ox_buf_free(&path);
    if (rc != 0)
        return rc;
    char err[300];
    if (c->status == 200 && oxc_ep_from_detail((const char *)c->body.data, c->body.len, host,
                                               hostlen, port, err, sizeof err) == 0)
        return 0;
    c->failed = 1;
    c->transient = c->status == 200 || oxc_ep_http_transient(c->status);
    if (c->status == 200)
        snprintf(c->err, sizeof c->err, "CM %s:%u: %s", e->host, (unsigned)e->port, err);
    else
        snprintf(c->err, sizeof c->err, "CM %s:%u: crawler/detail answered HTTP %d", e->host,
                 (unsigned)e->port, c->status);
    return OX_CLIENT_ERROR;
}

/* One endpoint: 0 when subscribed (where says to what), else
 * OX_CLIENT_ERROR with c->transient telling whether to go on. */
static int try_endpoint(ox_client *c, struct oxc_retry *r, const oxc_endpoint *e, char *where,
                        size_t wl)
{
    char host[256];
    uint16_t port = e->port;
    snprintf(host, sizeof host, "%s", e->host);
    if (e->is_cm && ask_cm(c, r, e, host, sizeof host, &port) != 0)
        return OX_CLIENT_ERROR;
    ox_client_options o = r->o;
    if (r->last_msg > 0)
        o.checkpoint = r->last_cp;
    if (oxc_subscribe(c, host, port, &o) != 0)
        return OX_CLIENT_ERROR;
    if (e->is_cm)
        snprintf(where, wl, "%s:%u (from CM %s:%u)", host, (unsigned)port, e->host,
                 (unsigned)e->port);
    else
        snprintf(where, wl, "%s:%u", host, (unsigned)port);
    return 0;
}

/* One round over the ring: 0 connected, 1 every endpoint failed
 * transiently, OX_CLIENT_ERROR on a final answer. */
static int round_once(ox_client *c, struct oxc_retry *r)
{
    char where[600];
    for (size_t k = 0; k < r->n_eps; k++) {
        size_t i = (r->cur + k) % r->n_eps;
        if (try_endpoint(c, r, &r->eps[i], where, sizeof where) == 0) {
            r->cur = i;
            r->connected = 1;
            ox_backoff_reset(&r->bo);
            if (r->why[0] != '\0') {
                r->reconnects++;
                if (r->on_reconnect != NULL) {
                    char line[2048];
                    snprintf(line, sizeof line,
                             "reconnected to %s after: %s; resuming after msgId %llu", where,
                             r->why, (unsigned long long)r->last_msg);
                    r->on_reconnect(r->arg, line);
                }
            }
            return 0;
        }
        if (!c->transient)
            return OX_CLIENT_ERROR;
    }
    return 1;
}

static void dropped(ox_client *c, struct oxc_retry *r, const char *why)
{
    snprintf(r->why, sizeof r->why, "%s", why);
    oxc_disconnect(c);
    r->connected = 0;
    r->down_since = ox_time_mono_ms();
    r->next_try = r->down_since; /* the first try is at once: a restart is quick */
}

/* Until connected (1), the deadline passes (OX_CLIENT_TIMEOUT), or a final
 * error or the give-up time (OX_CLIENT_ERROR). */
static int reconnect(ox_client *c, struct oxc_retry *r, int64_t deadline)
{
    for (;;) {
        int64_t now = ox_time_mono_ms();
        if (now < r->next_try) {
            if (deadline <= now)
                return OX_CLIENT_TIMEOUT;
            ox_time_sleep_ms((deadline < r->next_try ? deadline : r->next_try) - now, 0);
            continue;
        }
        int rc = round_once(c, r);
        if (rc == 0)
            return 1;
        if (rc != 1)
            return rc;
        now = ox_time_mono_ms();
        if (r->give_up_ms > 0 && now - r->down_since >= r->give_up_ms) {
            char last[sizeof c->err];
            snprintf(last, sizeof last, "%s", c->err);
            snprintf(c->err, sizeof c->err, "gave up after %lld ms without a store; last: %.600s",
                     (long long)(now - r->down_since), last);
            c->transient = 0;
            return OX_CLIENT_ERROR;
        }
        r->next_try = now + ox_backoff_fail(&r->bo);
    }
}

int oxc_retry_next(ox_client *c, ox_client_record *rec, int timeout_ms)
{
    struct oxc_retry *r = c->retry;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : ox_time_mono_ms() + timeout_ms;
    for (;;) {
        if (r->dead)
            return OX_CLIENT_ERROR;
        if (!r->connected) {
            int rc = reconnect(c, r, deadline);
            r->dead = rc == OX_CLIENT_ERROR;
            if (rc != 1)
                return rc;
        }
        /* Wait no longer than the caller allows nor the silence rule. */
        int64_t now = ox_time_mono_ms();
        int64_t wait = r->silence_ms - (now - c->last_rx_ms);
        if (deadline != INT64_MAX && deadline - now < wait)
            wait = deadline - now;
        int rc = oxc_next_once(c, rec, wait > 0 ? (int)wait : 0);
        if (rc == OX_CLIENT_RECORD) {
            if (oxc_ep_skip(r->last_msg, rec->msg_id))
                continue;
            r->last_msg = rec->msg_id;
            snprintf(r->last_cp, sizeof r->last_cp, "%s", rec->checkpoint);
            return rc;
        }
        if (rc == OX_CLIENT_TIMEOUT) {
            now = ox_time_mono_ms();
            int64_t quiet = now - c->last_rx_ms;
            if (quiet < r->silence_ms) {
                if (deadline != INT64_MAX && now >= deadline)
                    return rc;
                continue;
            }
            char why[96];
            snprintf(why, sizeof why, "neither a record nor a keepalive for %lld ms",
                     (long long)quiet);
            dropped(c, r, why);
        } else if (rc == OX_CLIENT_END)
            dropped(c, r, "the store ended the stream");
        else if (rc == OX_CLIENT_ERROR && c->transient)
            dropped(c, r, c->err);
        else {
            r->dead = rc == OX_CLIENT_ERROR;
            return rc;
        }
    }
}

int ox_client_open_reconnect(const ox_client_reconnect *rc, const ox_client_options *o,
                             ox_client **out)
{
    ox_client *c = ox_xcalloc(1, sizeof *c);
    *out = c;
    c->fd = -1;
    struct oxc_retry *r = ox_xcalloc(1, sizeof *r);
    c->retry = r;
    if (o != NULL)
        r->o = *o;
    else
        ox_client_options_init(&r->o);
    r->o.checkpoint = r->checkpoint = dup_or_null(r->o.checkpoint);
    r->o.filter = r->filter = dup_or_null(r->o.filter);
    r->o.token = r->token = dup_or_null(r->o.token);
    r->crawler = dup_or_null(rc->crawler);
    r->cm_token = dup_or_null(rc->cm_token);
    r->give_up_ms = rc->give_up_ms;
    r->silence_ms = rc->silence_ms > 0 ? rc->silence_ms : 10000;
    ox_backoff_init(&r->bo, rc->backoff_initial_ms > 0 ? rc->backoff_initial_ms : 200,
                    rc->backoff_cap_ms > 0 ? rc->backoff_cap_ms : 5000);
    r->on_reconnect = rc->on_reconnect;
    r->arg = rc->arg;
    r->down_since = ox_time_mono_ms();
    if (build_ring(c, r, rc) != 0) {
        c->failed = 1;
        return OX_CLIENT_ERROR;
    }
    int x = round_once(c, r);
    if (x == OX_CLIENT_ERROR)
        return OX_CLIENT_ERROR;
    if (x == 1) {
        snprintf(r->why, sizeof r->why, "%s", c->err);
        r->next_try = ox_time_mono_ms() + ox_backoff_fail(&r->bo);
    }
    return 0;
}
