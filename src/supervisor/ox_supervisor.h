/*
 * ox_supervisor.h - the per-host agent: registers with the CM, pulls the
 * desired state of its stores on every heartbeat (a long poll), runs each
 * store as an `oxbow store --config FILE` child process, restarts crashed
 * stores with exponential backoff, polls every store's /v1/status once a
 * second and reports it to the CM, and writes drc.properties with
 * cm.url=<CM url>.
 *
 * On-disk layout under supervisor.dir (default ./oxbow-supervisor, or
 * <cm.data.dir>/supervisor for the CM's in-process supervisor):
 *   package/config/drc.properties       cm.url=..., host and port (0644)
 *   stores/<store name>/owner            crawler=<name>, createdMs=<ms> (sv_store.c)
 *   stores/<store name>/store.properties the store's config (0600)
 *   stores/<store name>/source.password  the source password (0600)
 *   stores/<store name>/data/            store.dir: the change log, store.log
 *   stores/<store name>/console.log      the store's stdout/stderr
 */
#ifndef OX_SUPERVISOR_H
#define OX_SUPERVISOR_H

#include "ox_err.h"
#include "ox_props.h"

struct ox_sv_config {
    char cm_url[512];   /* supervisor.cm.url (or --cm) */
    char *token;        /* bearer token for the CM (supervisor.cm.token.file); owned */
    char host_ip[16];   /* supervisor.host.ip, default 127.0.0.1: the name's hostIp */
    char listen[64];    /* supervisor.listen, default 127.0.0.1 */
    char *status_token; /* supervisor.status.token.file: bearer token for GET /v1/status; owned */
    int port;           /* supervisor.port, default 7100 */
    char dir[1024];     /* supervisor.dir */
    char
        drc_path[1100]; /* supervisor.drc.properties, default <dir>/package/config/drc.properties */
    int store_port_base;         /* supervisor.store.port.base, default 17000 */
    char store_listen[64];       /* supervisor.store.listen, default 127.0.0.1 */
    char store_token_file[1024]; /* supervisor.store.token.file: store.auth.token.file */
    char *store_token;           /* its contents (for status polls); owned */
    char store_bin[1024];        /* supervisor.store.bin, default this executable */
    int heartbeat_ms;            /* supervisor.heartbeat.ms, default 1000 */
    int backoff_max_ms;          /* supervisor.restart.backoff.max_ms, default 30000 */
    int stop_grace_ms;           /* supervisor.stop.grace_ms, default 10000 */
    /* Liveness: a running store whose /v1/status has not answered for
     * store_unresponsive_ms is reported "unresponsive" (CM status 1007);
     * store_unresponsive_kill_ms later it is killed (SIGKILL) and restarted
     * (0 = never). A store that has not answered once since it was spawned
     * (still opening its log) gets at least 60 s before either. */
    int store_unresponsive_ms;      /* supervisor.store.unresponsive_ms, default 5000 */
    int store_unresponsive_kill_ms; /* supervisor.store.unresponsive.kill_ms, default 30000 */
    /* Set by the program (not a key; `oxbow cm` and `oxbow supervisor` both
     * set it): stores outlive a crash of the supervisor's process (no
     * PDEATHSIG), and the next start adopts the ones still running instead
     * of starting them again. */
    int stores_outlive;
    /* supervisor.stop.stores, default false: whether ox_sv_stop stops the
     * stores too. By default a clean stop leaves them capturing and serving
     * for the next start to adopt (docs/operations.md). */
    int stop_stores;
    /* Set by the caller (not a key; NULL = skip): removes what the store
     * configured at store_config_path created on its source (a PostgreSQL
     * slot) before a destroyed store's directory goes. The supervisor layer
     * does not link the store; src/cli composes them (ox_store_drop_source).
     * Returns 0 or an error with detail; never logs. */
    int (*drop_source)(const char *store_config_path, ox_errbuf *eb);
};

typedef struct ox_supervisor ox_supervisor;

/*
 * Fills cfg from the supervisor.* keys of `p` (NULL = defaults), using
 * `default_dir` when supervisor.dir is absent. Returns 0 or OX_ECONFIG naming
 * the key. Free with ox_sv_config_free. Never logs.
 */
int ox_sv_config_load(const ox_props *p, const char *default_dir, struct ox_sv_config *cfg,
                      ox_errbuf *eb);
void ox_sv_config_free(struct ox_sv_config *cfg);

/* The keys ox_sv_config_load knows, NULL-terminated (for key checks). */
extern const char *const ox_sv_config_keys[];

/*
 * Starts the supervisor on its own thread with a copy of cfg: writes
 * drc.properties, binds supervisor.listen:port (GET /v1/status lists its
 * stores) and begins heartbeating. Returns 0 with *out or an error with
 * detail. Logs store lifecycle events to stderr. Call from one thread.
 */
int ox_sv_start(const struct ox_sv_config *cfg, ox_supervisor **out, ox_errbuf *eb);

/* Stops the loop and frees everything. With cfg.stop_stores it first sends
 * SIGTERM to every store (SIGKILL after the grace period) and waits for
 * them; otherwise the stores keep running (their processes are not this
 * one's threads) and the next start adopts them. Logs. NULL is a no-op. */
void ox_sv_stop(ox_supervisor *sv);

#endif
