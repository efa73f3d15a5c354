/* cmd_cm.c - `oxbow cm`: run the Cluster Manager (and, by default, a
 * supervisor for this host in the same process). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "ox_alloc.h"
#include "ox_cli.h"
#include "ox_cm.h"
#include "ox_props.h"
#include "ox_store.h"
#include "ox_supervisor.h"

static int run(int argc, char **argv);

const struct ox_cmd_entry ox_cmd_cm = {
    .name = "cm",
    .summary = "run the Cluster Manager (HTTP crawler API; single-node system by default)",
    .usage = "usage: oxbow cm [--config FILE] [--data-dir DIR]\n"
             "       oxbow cm [--config FILE] --issue-supervisor-credential HOST --out FILE\n"
             "       oxbow cm [--config FILE] --revoke-supervisor-credential HOST\n"
             "\n"
             "Serves the crawler API of the OMS operations guide on cm.listen:cm.port\n"
             "(127.0.0.1:8088 by default) with its metaDB in SQLite under the data\n"
             "directory (or PostgreSQL with metadb.url=postgresql://...), and runs a\n"
             "supervisor for this host in-process (cm.supervisor=false to turn off).\n"
             "The supervisor writes <data-dir>/supervisor/package/config/drc.properties\n"
             "with cm.url=<CM url>. Every key is in docs/operations.md.\n"
             "SIGTERM or SIGINT stops the CM cleanly and leaves its stores capturing\n"
             "and serving; the next start adopts them (supervisor.stop.stores=true\n"
             "stops them with the CM; docs/operations.md).\n"
             "\n"
             "--issue-supervisor-credential HOST (<ip>-<port> of a supervisor) writes a\n"
             "new credential for that host to FILE (0600; the supervisor reads it with\n"
             "supervisor.cm.token.file) and its hash to the metaDB of the config;\n"
             "--revoke-supervisor-credential deletes it. The CM need not be stopped.\n",
    .run = run,
};

/* The CM's in-process supervisor, composed here so that src/cm links
 * neither the supervisor nor the store (ox_cm.h, struct ox_cm_local_sv). */
static int local_sv_describe(const ox_props *p, const char *default_dir, char *host_id,
                             size_t host_id_size, char *stores_dir, size_t stores_dir_size,
                             ox_errbuf *eb)
{
    struct ox_sv_config sc;
    int rc = ox_sv_config_load(p, default_dir, &sc, eb);
    if (rc != 0)
        return rc;
    snprintf(host_id, host_id_size, "%s-%d", sc.host_ip, sc.port);
    snprintf(stores_dir, stores_dir_size, "%s/stores", sc.dir);
    ox_sv_config_free(&sc);
    return 0;
}

static int local_sv_start(const ox_props *p, const char *default_dir, const char *cm_url,
                          const char *token, void **out, ox_errbuf *eb)
{
    struct ox_sv_config sc;
    int rc = ox_sv_config_load(p, default_dir, &sc, eb);
    if (rc != 0)
        return rc;
    snprintf(sc.cm_url, sizeof sc.cm_url, "%s", cm_url);
    if (sc.token == NULL)
        sc.token = ox_xstrdup(token);
    sc.stores_outlive = 1; /* a crash or a restart of the CM does not take its stores down */
    sc.drop_source = ox_store_drop_source;
    ox_supervisor *sv = NULL;
    rc = ox_sv_start(&sc, &sv, eb);
    ox_sv_config_free(&sc);
    *out = sv;
    return rc;
}

static void local_sv_stop(void *sv)
{
    ox_sv_stop(sv);
}

static const struct ox_cm_local_sv local_sv = {
    .describe = local_sv_describe,
    .start = local_sv_start,
    .stop = local_sv_stop,
};

static int run(int argc, char **argv)
{
    const char *config = NULL, *data_dir = NULL, *issue = NULL, *revoke = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--issue-supervisor-credential") == 0 && i + 1 < argc)
            issue = argv[++i];
        else if (strcmp(argv[i], "--revoke-supervisor-credential") == 0 && i + 1 < argc)
            revoke = argv[++i];
        else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--data-dir") == 0 && i + 1 < argc)
            data_dir = argv[++i];
        else
            return ox_cli_usage_error(&ox_cmd_cm, "unexpected argument \"%s\"", argv[i]);
    }
    ox_errbuf eb;
    ox_props *props = NULL;
    if (ox_cli_load_props(config, "cm.data.dir", data_dir, &props, &eb) != 0) {
        fprintf(stderr, "oxbow cm: %s\n", eb.msg);
        return 1;
    }
    struct ox_cm_config cfg;
    if (ox_cm_config_load(props, &cfg, &eb) != 0) {
        fprintf(stderr, "oxbow cm: config: %s\n", eb.msg);
        ox_props_free(props);
        return 1;
    }
    cfg.local_sv = &local_sv;
    if (issue != NULL || revoke != NULL) {
        int rc;
        if (issue != NULL && revoke != NULL)
            return ox_cli_usage_error(&ox_cmd_cm, "issue or revoke, not both");
        if (issue != NULL && out == NULL)
            return ox_cli_usage_error(&ox_cmd_cm, "--issue-supervisor-credential needs --out FILE");
        if (issue != NULL)
            rc = ox_cm_credential_issue(&cfg, issue, out, &eb);
        else
            rc = ox_cm_credential_revoke(&cfg, revoke, &eb);
        if (rc != 0)
            fprintf(stderr, "oxbow cm: %s\n", eb.msg);
        else if (issue != NULL)
            fprintf(stderr, "oxbow cm: supervisor credential for %s written to %s\n", issue, out);
        else
            fprintf(stderr, "oxbow cm: supervisor credential for %s revoked\n", revoke);
        ox_cm_config_free(&cfg);
        ox_props_free(props);
        return rc != 0;
    }
    /* Every API connection is a descriptor: take all the system allows (the
     * CM sizes its connection limit from it). */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
            fprintf(stderr, "oxbow cm: setrlimit(RLIMIT_NOFILE, %llu) failed: %s\n",
                    (unsigned long long)rl.rlim_max, strerror(errno));
    }
    ox_cli_trap_stop_signals();
    ox_cm *cm = NULL;
    if (ox_cm_start(&cfg, &cm, &eb) != 0) {
        fprintf(stderr, "oxbow cm: %s\n", eb.msg);
        ox_cm_config_free(&cfg);
        ox_props_free(props);
        return 1;
    }
    /* Never print metadb.url itself: a PostgreSQL URL may carry a password. */
    fprintf(stderr, "oxbow cm: serving %s (pid %d, metaDB %s, data dir %s)\n", ox_cm_url(cm),
            (int)getpid(),
            strncmp(cfg.metadb_url, "postgres", 8) == 0 ? "postgresql" : cfg.metadb_url,
            cfg.data_dir);
    int sig = ox_cli_wait_stop_signal();
    fprintf(stderr, "oxbow cm: signal %d, stopping\n", sig);
    ox_cm_stop(cm);
    ox_cm_config_free(&cfg);
    ox_props_free(props);
    return 0;
}
