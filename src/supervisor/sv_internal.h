/* sv_internal.h - the supervisor's context (src/supervisor only). */
#ifndef OX_SV_INTERNAL_H
#define OX_SV_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>

#include "ox_supervisor.h"
#include "ox_time.h"

enum sv_desired { SV_RUN, SV_STOP, SV_DESTROY, SV_ORPHAN };

/* The first restart delay (ox_time.h's backoff, up to
 * supervisor.restart.backoff.max_ms; docs/operations.md). */
#define SV_RESTART_FIRST_MS 500

struct sv_store {
    char name[201];
    char dir[1300]; /* <sv dir>/stores/<name> */
    int port;
    pid_t pid;
    int desired;
    char state[16]; /* starting, running, unresponsive, stopped, crashed, failed, destroyed */
    int restarts;
    ox_backoff restart; /* between starts: after a crash or a failed spawn */
    int64_t next_start_ms;
    int64_t started_ms;
    int64_t stop_deadline_ms; /* non-zero while a stop is in progress */
    int killed;
    char error[256];
    /* The cause of the last crash, kept after the restart clears `error`:
     * the CM may not see the short "crashed" state between two heartbeats. */
    char last_crash[256];
    json_t *status;     /* last /v1/status, or NULL */
    int64_t last_ok_ms; /* last answered status poll (or the spawn), monotonic */
    int answered;       /* the process answered a status poll since its spawn */
    /* What the CM wants the store to run with. */
    char topic[65];
    char checkpoint[96];
    int64_t created_ms; /* the crawler's creation time (CM): the directory's owner */
    int port_busy;      /* the last spawn found `port` held by another process */
    int adopted;        /* pid is a store from before this supervisor, not a child */
    int adopt_tried;
    json_t
        *source; /* {"type","host","port","user","password","whitelist","blacklist","retention"} */
    int reconfigure; /* the source changed while running: restart with the new config */
};

struct ox_supervisor {
    struct ox_sv_config cfg;
    pthread_t thread;
    int thread_started;
    atomic_int stopping;
    struct sv_store **stores;
    int nstores, capstores;
    int64_t gen;
    pthread_mutex_t snap_mu;
    char *snapshot; /* JSON for GET /v1/status, under snap_mu */
    struct MHD_Daemon *mhd;
    void *curl_cm, *curl_st; /* CURL handles, supervisor thread only */
    int cm_ok;               /* last heartbeat answered */
    /* Bearer token for GET /v1/log, random per start and sent only in the
     * (credential-authenticated) heartbeat, so the CM can read store logs. */
    char log_token[65];
};

/* sv_log.c */
#define SV_LOG_MAX_LINES 10000
/* The last `lines` (1..SV_LOG_MAX_LINES) lines of the file at path, read from
 * its end (a bounded number of bytes). Returns a malloc'd NUL-terminated
 * buffer and its length, or NULL with errno set. */
char *sv_log_tail(const char *path, long lines, size_t *len);

/* sv_store.c */
struct sv_store *sv_store_new(struct ox_supervisor *sv, const char *name);
void sv_store_free(struct sv_store *s);
/* Spawns the store process (writing its config first). Returns 0 or error. */
int sv_store_spawn(struct ox_supervisor *sv, struct sv_store *s);
/* Reaps an exited child; returns 1 if the process ended (state updated). */
int sv_store_reap(struct ox_supervisor *sv, struct sv_store *s);
/* Drives a stop: SIGTERM, then SIGKILL after the grace period. Returns 1
 * once the process is gone. */
int sv_store_stop_step(struct ox_supervisor *sv, struct sv_store *s);
/* Once per store: if a store process from before this supervisor still runs
 * in the store's directory (its data/store.lock names a live process whose
 * command line is this store's config), takes it over instead of starting
 * another. Returns 1 if adopted. Logs. */
int sv_store_adopt(struct ox_supervisor *sv, struct sv_store *s);
/* Removes the store's directory tree. Returns 0 or error. */
int sv_store_remove_dir(struct sv_store *s, ox_errbuf *eb);

/* {"cpus","load1","memTotal","memAvail","diskSize","diskAvail"} of this host
 * and the file system of `dir` (sv_system.c); a new reference. */
json_t *sv_system_json(const char *dir);

#endif
