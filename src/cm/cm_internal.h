/*
 * cm_internal.h - the Cluster Manager's context, shared by the files of
 * src/cm only (the public face is ox_cm.h).
 *
 * Concurrency: the registry (topics, hosts, crawlers) is an in-memory cache of
 * the metaDB, written through on every change. Readers (detail, list) take
 * `lock` for reading and never touch the database, so reads stay fast when the
 * metaDB is slow. Changes are serialised by `mut_lock`: write the metaDB first
 * (holding `db_lock`), then apply to the cache under a short write lock. The
 * health thread persists observed store statuses and measures the metaDB.
 * `gen` counts changes of desired state; supervisors long-poll on it through
 * `cond`/`cond_mu`, and request handlers wait there for a change to apply.
 */
#ifndef OX_CM_INTERNAL_H
#define OX_CM_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "cm_metadb.h"
#include "cm_names.h"
#include "ox_checkpoint.h"
#include "ox_cm.h"
#include "ox_ratelimit.h"

/* Longest checkpoint text a crawler keeps, with a NUL: the metaDB column
 * is VARCHAR(96). */
#define CM_CHECKPOINT_MAX 96

enum cm_desired { CM_RUN = 0, CM_STOP = 1, CM_DESTROY = 2 };

/* Status codes the CM itself sets (the store's own codes pass through). */
enum {
    CM_ST_STOPPED = 1001,
    CM_ST_STARTING = 1002,
    CM_ST_CRASHED = 1003,
    CM_ST_HOST_LOST = 1004,
    CM_ST_DESTROYING = 1005,
    CM_ST_FAILED = 1006,
    CM_ST_UNRESPONSIVE = 1007, /* the process runs but its status stopped answering */
};

struct cm_topic {
    char name[OX_CM_TOPIC_MAX + 1];
    char db_type[16];
    char host[256];
    int port;
    char user[129];
    char *password;
    char *whitelist;
    char *blacklist;
    int64_t next_sub;
    int64_t created_ms;
    int64_t retention_s; /* store.clearer.outdated, 0 = the store's default */
    char database[65];   /* dbType=postgresql: the database to capture, else "" */
};

struct cm_host {
    char id[32]; /* "<ip>-<port>" */
    char ip[16];
    int port;
    int64_t last_hb_ms;
    int hb_dirty;
    int store_port_base; /* the supervisor's first store port (its heartbeats); not stored */
    int busy[16];        /* ports the supervisor found held by other processes (ring) */
    int nbusy;
    /* From its heartbeats, for reading store logs from its status port
     * (GET /v1/log): the address to reach it on and its per-start bearer
     * token. In memory only; never in API output. */
    char status_ip[16];
    char log_token[65];
};

struct cm_crawler {
    char name[OX_CM_NAME_MAX + 1];
    char topic[OX_CM_TOPIC_MAX + 1];
    int64_t sub_id;
    char host_id[32];
    int port;
    char role[16];
    char type[32];
    char *user_data;
    char checkpoint[OX_CHECKPOINT_STRLEN]; /* at most CM_CHECKPOINT_MAX - 1 bytes */
    int desired;
    /* Observed, from the supervisor's reports. */
    char
        state[16]; /* "" (never reported), starting, running, stopped, crashed, failed, destroyed */
    int status;
    char *err_msg;
    char *status_json;   /* the store's last /v1/status body as reported, or "" */
    json_t *checkpoints; /* array [earliest, latest] from status_json, or NULL */
    char datasource[300];
    int64_t status_ms;
    int64_t created_ms;
    int dirty; /* status changed since last persisted */
    /* From the supervisor's reports (cm_ops.c reads them). */
    int restarts;     /* the supervisor's restart count for this store */
    char *last_crash; /* the cause of the last crash, or NULL */
    int64_t last_crash_ms;
};

struct cm_vec {
    void **v;
    int n, cap;
};

struct ox_cm {
    struct ox_cm_config cfg;
    char *sv_token; /* bearer token supervisors present */
    ox_metadb *db;
    pthread_mutex_t db_lock;
    pthread_mutex_t mut_lock;
    pthread_rwlock_t lock;
    pthread_mutex_t cond_mu;
    pthread_cond_t cond;
    uint64_t gen;                          /* desired-state generation, under cond_mu */
    uint64_t obs_gen;                      /* observation generation, under cond_mu */
    struct cm_vec topics, hosts, crawlers; /* sorted by name/id; under lock */
    /* Health, written by the health thread and by failing writes. */
    atomic_int write_ok;
    atomic_llong write_ms; /* duration of the last health write */
    atomic_llong skew_ms;  /* CM clock minus metaDB clock at the last check */
    atomic_llong last_check_ms;
    char health_err[600]; /* under db_lock */
    pthread_t health_thread;
    int health_started;
    atomic_int stopping;
    struct MHD_Daemon *mhd;
    struct cm_guard *guard;       /* listens; hands complete request heads to mhd */
    atomic_int workers;           /* POST handlers running on their own threads */
    void *sv;                     /* in-process supervisor (cfg.local_sv handle) */
    char local_sv_host[32];       /* host id sv_token authenticates (cm_cred.c) */
    char local_sv_stores[1200];   /* the in-process supervisor's stores/ (cm_orphans.c) */
    struct cm_vec creds;          /* struct cm_cred, by host id; under lock */
    atomic_llong creds_loaded_ms; /* last reload of creds */
    ox_ratelimit http_log_rl;     /* libmicrohttpd's messages to stderr */
    int http_log_rl_init;
    struct cm_ops *ops; /* metrics, history, alerts, console (cm_ops.c) */
};

/* Clocks in ms since the epoch; cm_now_ms applies the test clock offset. */
int64_t cm_wall_ms(void);
int64_t cm_now_ms(const struct ox_cm *cm);

/* Sorted vectors keyed by the leading char array of each element. */
int cm_vec_find(const struct cm_vec *v, const char *key, int *pos);
void cm_vec_insert(struct cm_vec *v, int pos, void *e);
void *cm_vec_remove(struct cm_vec *v, int pos);

/* Registry (cm_state.c). Lookups need `lock` held. */
struct cm_topic *cm_topic_get(struct ox_cm *cm, const char *name);
struct cm_crawler *cm_crawler_get(struct ox_cm *cm, const char *name);
struct cm_host *cm_host_get(struct ox_cm *cm, const char *id);
void cm_topic_free(struct cm_topic *t);
void cm_crawler_free(struct cm_crawler *c);
int cm_state_load(struct ox_cm *cm, ox_errbuf *eb);
void cm_state_free(struct ox_cm *cm);
/* Runs one metaDB statement under db_lock; a failure marks the CM unhealthy. */
int cm_db_exec(struct ox_cm *cm, int id, int n, const char *const *p, ox_mdb_row_fn fn, void *arg,
               ox_errbuf *eb);
/* Applies the store statuses in a supervisor report (JSON array). */
void cm_state_apply_report(struct ox_cm *cm, const char *host_id, json_t *stores);
/* Bumps the desired-state generation and wakes waiters. */
void cm_bump_gen(struct ox_cm *cm);
void cm_bump_obs(struct ox_cm *cm);
/* The effective status/errMsg of a crawler now (host liveness considered). */
int cm_crawler_status(const struct ox_cm *cm, const struct cm_crawler *c, const char **err);
int cm_host_live(const struct ox_cm *cm, const struct cm_host *h);
/* The lowest port from the host's store port base that no crawler of the
 * host has (and that is not the supervisor's own port); 0 if none. Needs
 * `lock`. The metaDB's unique index (host_id, port) backs it up. */
int cm_port_alloc(const struct ox_cm *cm, const struct cm_host *h);

/* Refuses an empty metaDB while the in-process supervisor's directory holds
 * stores (cm_orphans.c). Returns 0 or OX_ECONFIG with a message that says
 * how to restore or go on. Never logs. */
int cm_orphans_check(struct ox_cm *cm, ox_errbuf *eb);

/* Supervisor credentials (cm_cred.c). */
/* 1 if s is a canonical host id "<ipv4>-<port>" (copied to canon). */
int cm_host_id_check(const char *s, char canon[32]);
int cm_cred_load(struct ox_cm *cm, ox_errbuf *eb);
void cm_cred_free(struct ox_cm *cm);
/* 1 with the host id the token is the credential of, else 0. May reload the
 * table from the metaDB (at most once a second): call it from a request's
 * worker thread, not a server thread. */
int cm_cred_auth(struct ox_cm *cm, const char *token, char host_id[32]);
/* "local" (supervisor.token), "issued" or "none"; needs `lock` for reading. */
const char *cm_cred_kind(const struct ox_cm *cm, const char *host_id);
/* Removes a host's credential; OX_ENOENT if it had none. */
int cm_cred_revoke(struct ox_cm *cm, const char *host_id, ox_errbuf *eb);
/* Writes 2*nbytes hex digits from /dev/urandom and a NUL to hex. */
int cm_random_hex(size_t nbytes, char *hex, ox_errbuf *eb);

struct cm_route;
/* Operations (cm_ops.c, cm_metrics.c, cm_console.c): request counters,
 * metaDB latency, a bounded per-store history of RPS and delay, alerts, and
 * the console's session. cm_ops_init never fails (aborts on OOM); cm_ops_tick
 * runs on the health thread every round; cm_ops_free(NULL-safe). */
void cm_ops_init(struct ox_cm *cm);
void cm_ops_free(struct ox_cm *cm);
void cm_ops_tick(struct ox_cm *cm);
/* Counts one answered request (route NULL = not in the table). */
void cm_ops_count_request(struct ox_cm *cm, const struct cm_route *route, unsigned code);
/* Appends a state-changing call (POST) to the audit log in the metaDB: when,
 * the client address, the route, the crawler or topic named, the HTTP
 * result. Supervisor heartbeats are not recorded. Never logs. */
struct MHD_Connection;
void cm_ops_audit(struct ox_cm *cm, struct MHD_Connection *con, const struct cm_route *route,
                  const char *crawler, const char *topic, unsigned code);
/* Keeps the host figures of a supervisor's heartbeat ("system"), for
 * /host/list and the console; `system` may be NULL. Returns a new reference
 * from cm_ops_host_system_get, or NULL if none was reported. */
void cm_ops_host_system(struct ox_cm *cm, const char *host_id, json_t *system);
json_t *cm_ops_host_system_get(struct ox_cm *cm, const char *host_id);
/* Records the duration of one metaDB write (statement or transaction). */
void cm_ops_observe_metadb(struct ox_cm *cm, int64_t ms);
/* True for the routes served without the token: the console's login page
 * and its files (cm_console.c). */
int cm_ops_route_public(const struct cm_route *rt);
/* True if the request carries the console's session cookie. */
int cm_ops_cookie_ok(struct ox_cm *cm, const char *cookie_header);

/* Health (cm_health.c). */
int cm_active(const struct ox_cm *cm);
int cm_health_start(struct ox_cm *cm, ox_errbuf *eb);
void cm_health_stop(struct ox_cm *cm);
/* One health round: heartbeat row, persist dirty statuses. Returns 0 or error. */
int cm_health_round(struct ox_cm *cm);

/* Detail JSON (cm_detail.c); needs `lock` held for reading. `filters` is a
 * comma-separated list of field names or "" (all). Returns a new object with
 * the crawler fields, or NULL with an error in eb for an unknown filter. */
json_t *cm_detail_json(const struct ox_cm *cm, const struct cm_crawler *c, const char *filters,
                       ox_errbuf *eb);
int cm_detail_filters_check(const char *filters, ox_errbuf *eb);

/* HTTP (cm_http.c / cm_api.c). */
struct cm_req;
struct cm_resp {
    int http_status;
    json_t *body;             /* owned; must contain isSuccess */
    char *raw;                /* or: complete JSON text (malloc'd, owned), used when set */
    const char *content_type; /* NULL = application/json; else raw is sent as is */
    char *set_cookie;         /* owned; a Set-Cookie header value, or NULL */
    size_t raw_len;           /* with content_type: the length of raw */
};
typedef int (*cm_handler_fn)(struct ox_cm *cm, struct cm_req *req, struct cm_resp *resp);
struct cm_route {
    const char *method;
    const char *path;
    cm_handler_fn fn;
    size_t max_body;           /* 0 = the configured form limit */
    int supervisor_auth;       /* requires the supervisor token */
    const char *const *params; /* allowed form/query keys, NULL-terminated; NULL = JSON body */
};
extern const struct cm_route cm_routes[];
extern const int cm_nroutes;
/* Finds the route; returns it, or NULL with *path_known set if the path exists
 * under another method (405) and clear if unknown (404). */
const struct cm_route *cm_route_find(const char *method, const char *path, int *path_known);
/* Builds the Allow header value for a path into buf. */
void cm_route_allow(const char *path, char *buf, size_t cap);
const char *cm_req_param(struct cm_req *req, const char *key);
const char *cm_req_body(struct cm_req *req, size_t *len);
/* The host id the request's supervisor credential authenticates (routes
 * with supervisor_auth), else "". */
const char *cm_req_sv_host(struct cm_req *req);
int cm_resp_error(struct cm_resp *resp, int http_status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int cm_resp_ok(struct cm_resp *resp, json_t *extra);
int cm_http_start(struct ox_cm *cm, ox_errbuf *eb);
void cm_http_stop(struct ox_cm *cm);
/* The port the API listens on (the ephemeral one with cm.port 0 in tests). */
uint16_t cm_http_port(const struct ox_cm *cm);

#endif
