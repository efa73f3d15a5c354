/*
 * sv_main.c - the supervisor loop (see ox_supervisor.h and, for the wire
 * protocol, src/cm/cm_api_sv.c).
 *
 * One thread does everything in turn: reap exited stores and restart them
 * when their backoff expires, poll every running store's /v1/status, send a
 * heartbeat with all reports (a long poll of up to heartbeat.ms, cut short
 * when the CM's desired state changes), then act on the desired state.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_buf.h"
#include "ox_curl.h"
#include "ox_durable.h"
#include "sv_internal.h"

static struct sv_store *find(struct ox_supervisor *sv, const char *name)
{
    for (int i = 0; i < sv->nstores; i++)
        if (strcmp(sv->stores[i]->name, name) == 0)
            return sv->stores[i];
    return NULL;
}

static void drop(struct ox_supervisor *sv, int i)
{
    sv_store_free(sv->stores[i]);
    memmove(sv->stores + i, sv->stores + i + 1, (size_t)(sv->nstores - i - 1) * sizeof *sv->stores);
    sv->nstores--;
}

/* Store names become directory names: accept only the CM's name alphabet. */
static int name_ok(const char *n)
{
    size_t len = strlen(n);
    if (len == 0 || len > 200 || strstr(n, "..") != NULL || n[0] == '.')
        return 0;
    for (size_t i = 0; i < len; i++) {
        char c = n[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == ':' || c == '-'))
            return 0;
    }
    return 1;
}

/* Liveness rules (ox_supervisor.h): how long a store may stay silent before
 * it is reported, and before it is killed (0 = never). */
static int64_t silent_limit(const struct ox_supervisor *sv, const struct sv_store *s, int kill)
{
    int64_t lim = sv->cfg.store_unresponsive_ms;
    if (!s->answered && lim < 60000)
        lim = 60000;
    if (kill)
        return sv->cfg.store_unresponsive_kill_ms > 0 ? lim + sv->cfg.store_unresponsive_kill_ms
                                                      : 0;
    return lim;
}

static void poll_status(struct ox_supervisor *sv, struct sv_store *s)
{
    if (s->pid <= 0 || s->stop_deadline_ms != 0)
        return;
    char url[128], *body = NULL;
    /* A store bound to every address is polled on loopback. */
    const char *addr =
        strcmp(sv->cfg.store_listen, "0.0.0.0") == 0 ? "127.0.0.1" : sv->cfg.store_listen;
    snprintf(url, sizeof url, "http://%s:%d/v1/status", addr, s->port);
    int code = ox_http_request(sv->curl_st, url, sv->cfg.store_token, NULL, 500, &body);
    json_t *st = code == 200 && body ? json_loads(body, 0, NULL) : NULL;
    free(body);
    if (!json_is_object(st)) {
        /* No answer: keep the last status until the store counts as silent
         * (a busy store may miss one poll), then report it unresponsive. */
        json_decref(st);
        st = NULL;
    } else {
        json_decref(s->status);
        s->status = st;
    }
    if (st != NULL) {
        /* The port must answer as this store and this process: a status
         * that belongs to another process is never reported as ours. */
        const char *name = json_string_value(json_object_get(s->status, "name"));
        json_int_t pid = json_integer_value(json_object_get(s->status, "pid"));
        if (name == NULL || strcmp(name, s->name) != 0 || pid != (json_int_t)s->pid) {
            snprintf(s->error, sizeof s->error,
                     "port %d answers as store %.80s (pid %lld), not as this store (pid %d); "
                     "another process holds the port",
                     s->port, name ? name : "?", (long long)pid, (int)s->pid);
            json_decref(s->status);
            s->status = NULL;
            snprintf(s->state, sizeof s->state, "failed");
            return;
        }
        s->last_ok_ms = ox_time_mono_ms();
        s->answered = 1;
        s->error[0] = '\0';
        snprintf(s->state, sizeof s->state, "running");
        return;
    }
    int64_t silent = ox_time_mono_ms() - s->last_ok_ms;
    int64_t kill_after = silent_limit(sv, s, 1);
    if (kill_after > 0 && silent >= kill_after && !s->killed) {
        fprintf(stderr,
                "oxbow supervisor: store %s (pid %d) has not answered for %lld ms; killing it "
                "(SIGKILL) to restart it\n",
                s->name, (int)s->pid, (long long)silent);
        kill(s->pid, SIGKILL);
        s->killed = 1;
    }
    if (silent >= silent_limit(sv, s, 0)) {
        json_decref(s->status);
        s->status = NULL;
        if (strcmp(s->state, "unresponsive") != 0)
            fprintf(stderr, "oxbow supervisor: store %s (pid %d) is not answering on port %d\n",
                    s->name, (int)s->pid, s->port);
        snprintf(s->error, sizeof s->error,
                 "pid %d has not answered its status on port %d for %lld s%s", (int)s->pid, s->port,
                 (long long)(silent / 1000), s->killed ? "; killed, restarting" : "");
        snprintf(s->state, sizeof s->state, "unresponsive");
        return;
    }
    snprintf(s->state, sizeof s->state, "%s", s->answered ? "running" : "starting");
}

static char *build_report(struct ox_supervisor *sv, int wait_ms)
{
    json_t *arr = json_array();
    for (int i = 0; i < sv->nstores; i++) {
        struct sv_store *s = sv->stores[i];
        json_t *o =
            json_pack("{s:s,s:s,s:i,s:i,s:i,s:s}", "name", s->name, "state", s->state, "port",
                      s->port, "pid", (int)s->pid, "restarts", s->restarts, "error", s->error);
        json_object_set(o, "status", s->status ? s->status : json_null());
        if (s->last_crash[0])
            json_object_set_new(o, "lastCrash", json_string(s->last_crash));
        if (s->port_busy)
            json_object_set_new(o, "portBusy", json_true());
        json_array_append_new(arr, o);
    }
    json_t *r = json_pack("{s:s,s:i,s:I,s:i,s:i,s:o}", "host", sv->cfg.host_ip, "port",
                          sv->cfg.port, "gen", (json_int_t)sv->gen, "waitMs", wait_ms,
                          "storePortBase", sv->cfg.store_port_base, "stores", arr);
    json_object_set_new(r, "system", sv_system_json(sv->cfg.dir));
    /* Where and how the CM reads store logs (GET /v1/log); a status port
     * bound to every address is reached on the host's IP. */
    json_object_set_new(
        r, "statusHost",
        json_string(strcmp(sv->cfg.listen, "0.0.0.0") == 0 ? sv->cfg.host_ip : sv->cfg.listen));
    json_object_set_new(r, "logToken", json_string(sv->log_token));
    char *text = json_dumps(r, JSON_COMPACT);
    json_decref(r);
    return text;
}

static int desired_of(const char *d)
{
    if (strcmp(d, "running") == 0)
        return SV_RUN;
    if (strcmp(d, "stopped") == 0)
        return SV_STOP;
    return SV_DESTROY;
}

/* Applies a heartbeat answer: new stores, changed desired states, orphans. */
static int apply_desired(struct ox_supervisor *sv, json_t *resp)
{
    json_t *stores = json_object_get(resp, "stores");
    if (!json_is_array(stores))
        return -1;
    sv->gen = json_integer_value(json_object_get(resp, "gen"));
    for (int i = 0; i < sv->nstores; i++)
        sv->stores[i]->desired = SV_ORPHAN;
    size_t k;
    json_t *e;
    json_array_foreach(stores, k, e)
    {
        const char *name = json_string_value(json_object_get(e, "name"));
        const char *d = json_string_value(json_object_get(e, "desired"));
        if (name == NULL || d == NULL || !name_ok(name))
            continue;
        struct sv_store *s = find(sv, name);
        if (s == NULL) {
            s = sv_store_new(sv, name);
            if (sv->nstores == sv->capstores) {
                sv->capstores = sv->capstores ? 2 * sv->capstores : 16;
                sv->stores = ox_xrealloc(sv->stores, (size_t)sv->capstores * sizeof *sv->stores);
            }
            sv->stores[sv->nstores++] = s;
        }
        s->desired = desired_of(d);
        /* The CM allocates the port (unique per host); it applies at the
         * next start. 0: a crawler from before that, keep our own choice. */
        json_t *port = json_object_get(e, "port");
        if (json_is_integer(port) && json_integer_value(port) > 0 &&
            json_integer_value(port) < 65536 && s->pid <= 0)
            s->port = (int)json_integer_value(port);
        s->created_ms = json_integer_value(json_object_get(e, "createdMs"));
        const char *cp = json_string_value(json_object_get(e, "checkpoint"));
        snprintf(s->checkpoint, sizeof s->checkpoint, "%s", cp ? cp : "");
        const char *topic = json_string_value(json_object_get(e, "topic"));
        snprintf(s->topic, sizeof s->topic, "%s", topic ? topic : "");
        json_t *src = json_object_get(e, "source");
        /* A changed source (topic/update) restarts a running store; it
         * resumes from its own change log, so nothing is lost. */
        if (s->source != NULL && json_is_object(src) && !json_equal(s->source, src) && s->pid > 0)
            s->reconfigure = 1;
        json_decref(s->source);
        s->source = json_is_object(src) ? json_incref(src) : json_object();
    }
    return 0;
}

/* Acts on each store's desired state; returns 1 if any state changed. */
static int act(struct ox_supervisor *sv)
{
    int changed = 0;
    int64_t now = ox_time_mono_ms();
    for (int i = 0; i < sv->nstores; i++) {
        struct sv_store *s = sv->stores[i];
        char before[16];
        snprintf(before, sizeof before, "%s", s->state);
        if (sv->cfg.stores_outlive)
            sv_store_adopt(sv, s); /* once per store: one left running by a crash */
        switch (s->desired) {
        case SV_RUN:
            if (s->pid > 0 && (s->stop_deadline_ms != 0 || s->reconfigure)) {
                sv_store_stop_step(sv, s); /* finish a stop before restarting */
            } else if (s->pid <= 0 && now >= s->next_start_ms) {
                s->reconfigure = 0;
                if (sv_store_spawn(sv, s) != 0) {
                    if (strcmp(s->state, "failed") != 0)
                        fprintf(stderr, "oxbow supervisor: cannot start store %s: %s\n", s->name,
                                s->error);
                    snprintf(s->state, sizeof s->state, "failed");
                    s->next_start_ms = now + ox_backoff_fail(&s->restart);
                }
            }
            break;
        case SV_STOP:
        case SV_ORPHAN:
            sv_store_stop_step(sv, s);
            s->next_start_ms = 0;
            ox_backoff_reset(&s->restart);
            break;
        case SV_DESTROY:
            if (sv_store_stop_step(sv, s) && strcmp(s->state, "destroyed") != 0) {
                ox_errbuf eb;
                char cfgpath[1500];
                /* The source's slot (PostgreSQL) would keep WAL forever. */
                snprintf(cfgpath, sizeof cfgpath, "%s/store.properties", s->dir);
                if (sv->cfg.drop_source != NULL && access(cfgpath, R_OK) == 0 &&
                    sv->cfg.drop_source(cfgpath, &eb) != 0)
                    fprintf(stderr,
                            "oxbow supervisor: store %s: could not drop its source slot: %s "
                            "(drop it by hand: docs/pg_capture.md)\n",
                            s->name, eb.msg);
                if (sv_store_remove_dir(s, &eb) == 0) {
                    snprintf(s->state, sizeof s->state, "destroyed");
                    fprintf(stderr, "oxbow supervisor: store %s destroyed (%s removed)\n", s->name,
                            s->dir);
                } else {
                    snprintf(s->state, sizeof s->state, "failed");
                    snprintf(s->error, sizeof s->error, "%.250s", eb.msg);
                }
            }
            break;
        }
        changed |= strcmp(before, s->state) != 0;
    }
    /* Forget orphans once stopped, and destroyed stores the CM dropped. */
    for (int i = sv->nstores - 1; i >= 0; i--) {
        struct sv_store *s = sv->stores[i];
        if (s->desired == SV_ORPHAN && s->pid <= 0)
            drop(sv, i);
    }
    return changed;
}

static void update_snapshot(struct ox_supervisor *sv)
{
    json_t *arr = json_array();
    for (int i = 0; i < sv->nstores; i++) {
        struct sv_store *s = sv->stores[i];
        json_array_append_new(arr, json_pack("{s:s,s:s,s:i,s:i,s:i,s:s}", "name", s->name, "state",
                                             s->state, "port", s->port, "pid", (int)s->pid,
                                             "restarts", s->restarts, "error", s->error));
    }
    json_t *o = json_pack("{s:s,s:i,s:s,s:b,s:o}", "host", sv->cfg.host_ip, "port", sv->cfg.port,
                          "cmUrl", sv->cfg.cm_url, "cmReachable", sv->cm_ok == 1, "stores", arr);
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    pthread_mutex_lock(&sv->snap_mu);
    free(sv->snapshot);
    sv->snapshot = text;
    pthread_mutex_unlock(&sv->snap_mu);
}

/* A clean stop that keeps the stores (the default): they go on capturing
 * and serving, and the next start adopts them (sv_store_adopt). A store
 * being stopped for the CM still finishes its stop. */
static void leave_all(struct ox_supervisor *sv)
{
    for (int i = 0; i < sv->nstores; i++) {
        struct sv_store *s = sv->stores[i];
        if (s->pid <= 0)
            continue;
        if (s->stop_deadline_ms != 0) {
            while (!sv_store_stop_step(sv, s))
                usleep(20000);
            continue;
        }
        fprintf(stderr,
                "oxbow supervisor: leaving store %s (pid %d, port %d) running; the next start "
                "adopts it (supervisor.stop.stores=true stops stores with the supervisor)\n",
                s->name, (int)s->pid, s->port);
    }
}

/* supervisor.stop.stores=true: stop every store before exiting. */
static void stop_all(struct ox_supervisor *sv)
{
    for (int i = 0; i < sv->nstores; i++)
        sv->stores[i]->desired = SV_STOP;
    for (;;) {
        int alive = 0;
        for (int i = 0; i < sv->nstores; i++)
            alive += !sv_store_stop_step(sv, sv->stores[i]);
        if (!alive)
            break;
        usleep(20000);
    }
}

static void *sv_main(void *arg)
{
    struct ox_supervisor *sv = arg;
    char url[700];
    snprintf(url, sizeof url, "%s/supervisor/heartbeat", sv->cfg.cm_url);
    int changed = 1;
    int64_t last_poll = 0;
    while (!atomic_load(&sv->stopping)) {
        for (int i = 0; i < sv->nstores; i++) {
            if (sv_store_reap(sv, sv->stores[i]))
                changed = 1;
        }
        int starting = 0;
        int64_t now = ox_time_mono_ms();
        for (int i = 0; i < sv->nstores; i++) {
            struct sv_store *s = sv->stores[i];
            if (s->pid > 0 && (now - last_poll >= sv->cfg.heartbeat_ms - 50 ||
                               strcmp(s->state, "starting") == 0)) {
                char before[16];
                snprintf(before, sizeof before, "%s", s->state);
                poll_status(sv, s);
                changed |= strcmp(before, s->state) != 0;
            }
            starting |= strcmp(s->state, "starting") == 0 || s->stop_deadline_ms != 0 ||
                        (s->pid <= 0 && s->desired == SV_RUN);
        }
        if (now - last_poll >= sv->cfg.heartbeat_ms - 50)
            last_poll = now;
        int wait = changed ? 0 : starting ? 100 : sv->cfg.heartbeat_ms;
        char *report = build_report(sv, wait);
        char *body = NULL;
        int code = ox_http_request(sv->curl_cm, url, sv->cfg.token, report, wait + 10000L, &body);
        free(report);
        json_t *resp = code == 200 && body ? json_loads(body, 0, NULL) : NULL;
        free(body);
        int ok = resp != NULL && apply_desired(sv, resp) == 0;
        json_decref(resp);
        if (ok != sv->cm_ok)
            fprintf(stderr, "oxbow supervisor: CM %s %s (HTTP %d)\n", sv->cfg.cm_url,
                    ok ? "reachable" : "unreachable", code);
        sv->cm_ok = ok;
        changed = act(sv);
        update_snapshot(sv);
        if (!ok) {
            /* CM down: keep stores as they are, retry after a pause. */
            for (int t = 0; t < 10 && !atomic_load(&sv->stopping); t++)
                usleep((useconds_t)sv->cfg.heartbeat_ms * 100);
            changed = 1;
        }
    }
    if (sv->cfg.stop_stores)
        stop_all(sv);
    else
        leave_all(sv);
    return NULL;
}

/* Compares without an early exit so that timing does not leak the token. */
static int status_token_ok(const char *want, struct MHD_Connection *con)
{
    const char *h = MHD_lookup_connection_value(con, MHD_HEADER_KIND, "Authorization");
    if (h == NULL || strncmp(h, "Bearer ", 7) != 0)
        return 0;
    const char *got = h + 7;
    size_t wl = strlen(want), gl = strlen(got);
    unsigned diff = wl != gl;
    for (size_t i = 0; i < wl; i++)
        diff |= (unsigned char)want[i] ^ (unsigned char)(i < gl ? got[i] : 0);
    return diff == 0;
}

static int bearer_ok(struct MHD_Connection *con, const char *want)
{
    return want != NULL && *want != '\0' && status_token_ok(want, con);
}

/* GET /v1/log?store=NAME[&lines=N][&file=store|console]: the last lines of a
 * store's log as text/plain. The name is checked before it becomes a path. */
static unsigned log_tail(struct ox_supervisor *sv, struct MHD_Connection *con, char **text,
                         size_t *len, const char **type)
{
    const char *name = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "store");
    const char *ls = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "lines");
    const char *which = MHD_lookup_connection_value(con, MHD_GET_ARGUMENT_KIND, "file");
    long lines = 200;
    if (name == NULL || !name_ok(name)) {
        *text = ox_xstrdup("{\"errMsg\":\"store must be a store name\",\"isSuccess\":false}");
        return 400;
    }
    if (ls != NULL) {
        char *end;
        lines = strtol(ls, &end, 10);
        if (*ls == '\0' || *end != '\0' || lines < 1 || lines > SV_LOG_MAX_LINES) {
            *text = ox_xstrdup("{\"errMsg\":\"lines must be 1-10000\",\"isSuccess\":false}");
            return 400;
        }
    }
    if (which == NULL || *which == '\0')
        which = "store";
    if (strcmp(which, "store") != 0 && strcmp(which, "console") != 0) {
        *text = ox_xstrdup("{\"errMsg\":\"file must be store or console\",\"isSuccess\":false}");
        return 400;
    }
    /* store.log is in the store's data directory, console.log beside it
     * (sv_store.c). */
    char path[1500];
    snprintf(path, sizeof path, "%s/stores/%s/%s%s.log", sv->cfg.dir, name,
             strcmp(which, "store") == 0 ? "data/" : "", which);
    *text = sv_log_tail(path, lines, len);
    if (*text == NULL) {
        *text = ox_xstrdup("{\"errMsg\":\"no such log\",\"isSuccess\":false}");
        return 404;
    }
    *type = "text/plain; charset=utf-8";
    return 200;
}

static enum MHD_Result sv_http_status(void *cls, struct MHD_Connection *con, const char *url,
                                      const char *method, const char *version, const char *upload,
                                      size_t *upload_size, void **con_cls)
{
    struct ox_supervisor *sv = cls;
    if (*con_cls == NULL) {
        *con_cls = sv;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    unsigned code = 200;
    char *text;
    size_t len = (size_t)-1;
    const char *type = "application/json";
    int is_log = strcmp(url, "/v1/log") == 0;
    /* Logs always need a token (the CM's per-start log token or the status
     * token), even on loopback; the status needs the status token if set. */
    int authed = is_log ? bearer_ok(con, sv->log_token) || bearer_ok(con, sv->cfg.status_token)
                        : sv->cfg.status_token == NULL || bearer_ok(con, sv->cfg.status_token);
    if (!authed) {
        code = 401;
        text = ox_xstrdup("{\"errMsg\":\"missing or wrong bearer token\",\"isSuccess\":false}");
    } else if (!is_log && strcmp(url, "/v1/status") != 0) {
        code = 404;
        text = ox_xstrdup("{\"errMsg\":\"no such endpoint\",\"isSuccess\":false}");
    } else if (strcmp(method, "GET") != 0) {
        code = 405;
        text = ox_xstrdup("{\"errMsg\":\"use GET\",\"isSuccess\":false}");
    } else if (is_log) {
        code = log_tail(sv, con, &text, &len, &type);
    } else {
        pthread_mutex_lock(&sv->snap_mu);
        text = ox_xstrdup(sv->snapshot ? sv->snapshot : "{}");
        pthread_mutex_unlock(&sv->snap_mu);
    }
    if (len == (size_t)-1)
        len = strlen(text);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", type);
    enum MHD_Result ret = MHD_queue_response(con, code, r);
    MHD_destroy_response(r);
    return ret;
}

/* 32 random bytes as hex from /dev/urandom. */
static int random_token(char out[65], ox_errbuf *eb)
{
    unsigned char raw[32];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, raw, sizeof raw) : -1;
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof raw)
        return ox_errf(eb, OX_EIO, "cannot read /dev/urandom");
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(out + 2 * i, 3, "%02x", raw[i]);
    memset(raw, 0, sizeof raw);
    return 0;
}

static int mkdirs_for(const char *file)
{
    char tmp[1200];
    snprintf(tmp, sizeof tmp, "%s", file);
    char *slash = strrchr(tmp, '/');
    if (slash == NULL)
        return 0;
    *slash = '\0';
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(tmp, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

/* drc.properties: the seed's `awk -F= '$0 ~/cm\.url/ {print $2}'` prints the
 * CM URL from it, so no other line may mention that key. */
static int write_drc(struct ox_supervisor *sv, ox_errbuf *eb)
{
    if (mkdirs_for(sv->cfg.drc_path) != 0)
        return ox_errf(eb, OX_EIO, "cannot create the directory of %s: %s", sv->cfg.drc_path,
                       strerror(errno));
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "# Written by oxbow supervisor at start; the CM this host reports to.\n"
                     "cm.url=%s\nsupervisor.host=%s\nsupervisor.port=%d\n",
                     sv->cfg.cm_url, sv->cfg.host_ip, sv->cfg.port);
    /* Read by the seed scripts (no secret in it): 0644, atomic and durable. */
    return ox_durable_replace(sv->cfg.drc_path, text, (size_t)n, OX_DURABLE_PUBLIC, eb);
}

int ox_sv_start(const struct ox_sv_config *cfg, ox_supervisor **out, ox_errbuf *eb)
{
    struct ox_supervisor *sv = ox_xcalloc(1, sizeof *sv);
    int rc = 0;
    sv->cfg = *cfg;
    sv->cfg.token = cfg->token ? ox_xstrdup(cfg->token) : NULL;
    sv->cfg.store_token = cfg->store_token ? ox_xstrdup(cfg->store_token) : NULL;
    sv->cfg.status_token = cfg->status_token ? ox_xstrdup(cfg->status_token) : NULL;
    sv->cm_ok = -1; /* unknown: the first heartbeat's outcome is logged */
    pthread_mutex_init(&sv->snap_mu, NULL);
    if ((rc = ox_curl_load(eb)) != 0 || (rc = random_token(sv->log_token, eb)) != 0)
        goto fail;
    sv->curl_cm = curl_easy_init();
    sv->curl_st = curl_easy_init();
    char stores[1100];
    snprintf(stores, sizeof stores, "%s/stores", sv->cfg.dir);
    if (mkdir(sv->cfg.dir, 0700) != 0 && errno != EEXIST) {
        rc = ox_errf(eb, OX_EIO, "cannot create supervisor.dir %s: %s", sv->cfg.dir,
                     strerror(errno));
        goto fail;
    }
    if (mkdir(stores, 0700) != 0 && errno != EEXIST) {
        rc = ox_errf(eb, OX_EIO, "cannot create %s: %s", stores, strerror(errno));
        goto fail;
    }
    if ((rc = write_drc(sv, eb)) != 0)
        goto fail;
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)sv->cfg.port);
    if (inet_pton(AF_INET, sv->cfg.listen, &sa.sin_addr) != 1) {
        rc = ox_errf(eb, OX_ECONFIG, "supervisor.listen: \"%s\" is not an IPv4 address",
                     sv->cfg.listen);
        goto fail;
    }
    sv->mhd =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, (uint16_t)sv->cfg.port,
                         NULL, NULL, sv_http_status, sv, MHD_OPTION_SOCK_ADDR, &sa, MHD_OPTION_END);
    if (sv->mhd == NULL) {
        rc = ox_errf(eb, OX_EIO,
                     "supervisor cannot listen on %s:%d (another supervisor with this port?)",
                     sv->cfg.listen, sv->cfg.port);
        goto fail;
    }
    if (strncmp(sv->cfg.listen, "127.", 4) != 0)
        fprintf(stderr,
                "oxbow supervisor: warning: the status endpoint listens on %s:%d, not on loopback:"
                " other hosts can reach it%s\n",
                sv->cfg.listen, sv->cfg.port,
                sv->cfg.status_token ? ""
                                     : " and read the list of stores without a token (set"
                                       " supervisor.status.token.file)");
    update_snapshot(sv);
    if (pthread_create(&sv->thread, NULL, sv_main, sv) != 0) {
        rc = ox_errf(eb, OX_ENOMEM, "cannot start the supervisor thread");
        goto fail;
    }
    sv->thread_started = 1;
    *out = sv;
    return 0;
fail:
    ox_sv_stop(sv);
    return rc;
}

void ox_sv_stop(ox_supervisor *sv)
{
    if (sv == NULL)
        return;
    atomic_store(&sv->stopping, 1);
    if (sv->thread_started)
        pthread_join(sv->thread, NULL);
    if (sv->mhd)
        MHD_stop_daemon(sv->mhd);
    for (int i = 0; i < sv->nstores; i++)
        sv_store_free(sv->stores[i]);
    free(sv->stores);
    if (sv->curl_cm)
        curl_easy_cleanup(sv->curl_cm);
    if (sv->curl_st)
        curl_easy_cleanup(sv->curl_st);
    free(sv->snapshot);
    memset(sv->log_token, 0, sizeof sv->log_token);
    ox_sv_config_free(&sv->cfg);
    pthread_mutex_destroy(&sv->snap_mu);
    free(sv);
}
