/*
 * ox_cm.h - the Cluster Manager: HTTP/JSON crawler API over a metaDB, with an
 * optional in-process supervisor for its own host.
 *
 * Configuration is a properties file (ox_props); every key is listed in
 * docs/operations.md. ox_cm_config_load fills the struct from it with
 * defaults; ox_cm_start brings up the metaDB, the health thread, the HTTP
 * server and (cm.supervisor=true) a supervisor thread.
 */
#ifndef OX_CM_H
#define OX_CM_H

#include <stddef.h>
#include <stdint.h>

#include "ox_err.h"
#include "ox_props.h"

/*
 * The in-process supervisor, composed by the caller: the CM layer does not
 * link the supervisor (src/cli/cmd_cm.c fills this from ox_supervisor.h).
 * Each function returns 0 or an error with detail and never logs.
 */
struct ox_cm_local_sv {
    /* Reads the supervisor.* keys of `p` (supervisor.dir defaulting to
     * default_dir): this host's id "<ip>-<port>" and the supervisor's
     * stores/ directory. */
    int (*describe)(const ox_props *p, const char *default_dir, char *host_id, size_t host_id_size,
                    char *stores_dir, size_t stores_dir_size, ox_errbuf *eb);
    /* Starts it on its own thread, reporting to cm_url with `token` unless
     * the keys name one; its stores outlive a crash of the CM. *out is the
     * handle for stop. */
    int (*start)(const ox_props *p, const char *default_dir, const char *cm_url, const char *token,
                 void **out, ox_errbuf *eb);
    /* Stops it and its stores; NULL is a no-op. */
    void (*stop)(void *sv);
};

struct ox_cm_config {
    char listen[64];        /* cm.listen, default 127.0.0.1 */
    int port;               /* cm.port, default 8088 */
    char *auth_token;       /* cm.auth.token or contents of cm.auth.token.file; NULL = none */
    int location;           /* cm.location 0-127, shown as crawler.location */
    char data_dir[900];     /* cm.data.dir, default ./oxbow-data */
    char url[512];          /* cm.url advertised to supervisors; default http://listen:port */
    char metadb_url[1024];  /* metadb.url; default <data_dir>/metadb.sqlite */
    int health_interval_ms; /* cm.health.interval_ms (1000) */
    int health_slow_ms;     /* cm.health.slow_ms (500): slower writes make active=false */
    int health_max_skew_ms; /* cm.health.max_skew_ms (2000) */
    int apply_wait_ms; /* cm.apply.wait_ms (15000): how long start/clear/restore/destroy wait */
    int host_lost_ms;  /* cm.host.lost_ms (10000) */
    int max_body;      /* cm.http.max_body (65536) for form requests */
    int http_threads;  /* cm.http.threads (0 = the default, 4 epoll threads) */
    int http_max_connections;     /* cm.http.max_connections (10000) */
    int http_max_per_ip;          /* cm.http.max_connections_per_ip (1000) */
    int http_timeout_s;           /* cm.http.timeout_s (30): idle connection timeout */
    int run_supervisor;           /* cm.supervisor (true) */
    int64_t test_clock_offset_ms; /* cm.test.clock_offset_ms: test-only CM clock skew */
    int test_metadb_delay_ms;     /* cm.test.metadb_delay_ms: test-only slow metaDB */
    const ox_props *props;        /* the whole file (supervisor.* keys); not owned */
    /* Set by the caller, not a key: how to run this host's supervisor.
     * NULL = none here (cm.supervisor=true is then refused). Not owned. */
    const struct ox_cm_local_sv *local_sv;
};

typedef struct ox_cm ox_cm;

/*
 * Fills `cfg` from `props` (NULL = all defaults). Returns 0 or OX_ECONFIG
 * naming the key. Refuses a non-loopback cm.listen without a token. The
 * struct keeps a pointer to props (for supervisor.* keys) and may own
 * auth_token (free with ox_cm_config_free). Never logs.
 */
int ox_cm_config_load(const ox_props *props, struct ox_cm_config *cfg, ox_errbuf *eb);
void ox_cm_config_free(struct ox_cm_config *cfg);

/*
 * Starts a CM with a copy of `cfg` (the props pointer must outlive it).
 * Returns 0 with *out, or an error with detail. Logs to stderr only about its
 * own lifecycle (never secrets). Call from the main thread.
 */
int ox_cm_start(const struct ox_cm_config *cfg, ox_cm **out, ox_errbuf *eb);

/* Stops every thread and frees the CM; NULL is a no-op. */
void ox_cm_stop(ox_cm *cm);

/*
 * Issues the supervisor credential of host `host_id` ("<ip>-<port>"): writes
 * a new random token to `out_path` (created 0600, never overwritten) and its
 * SHA-256 to the metaDB of cfg. A running CM accepts it within a second.
 * OX_EEXIST if the host has one (revoke first). Never logs, never prints the
 * token.
 */
int ox_cm_credential_issue(const struct ox_cm_config *cfg, const char *host_id,
                           const char *out_path, ox_errbuf *eb);
/* Deletes the credential of host_id from the metaDB; OX_ENOENT if none. A
 * running CM may accept it until it reloads: revoke through the API
 * (POST /host/revoke) to cut it off at once. */
int ox_cm_credential_revoke(const struct ox_cm_config *cfg, const char *host_id, ox_errbuf *eb);

/* The URL the CM serves (cm.url). Owned by cm. */
const char *ox_cm_url(const ox_cm *cm);

#endif
