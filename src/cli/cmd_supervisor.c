/* cmd_supervisor.c - `oxbow supervisor`: the per-host agent. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ox_cli.h"
#include "ox_props.h"
#include "ox_store.h"
#include "ox_supervisor.h"

static int run(int argc, char **argv);

const struct ox_cmd_entry ox_cmd_supervisor = {
    .name = "supervisor",
    .summary = "run the per-host agent that starts and watches stores for a CM",
    .usage = "usage: oxbow supervisor --cm URL [--config FILE] [--stop-stores]\n"
             "\n"
             "Registers this host with the CM at URL, pulls the desired state of its\n"
             "stores on every heartbeat, runs them as `oxbow store` processes on ports\n"
             "from supervisor.store.port.base (17000) up, restarts crashed stores with\n"
             "backoff and reports their status every second. Writes\n"
             "<supervisor.dir>/package/config/drc.properties with cm.url=URL.\n"
             "Keys (supervisor.*) are in docs/operations.md; the CM's bearer token is\n"
             "read from supervisor.cm.token.file.\n"
             "\n"
             "SIGTERM or SIGINT stops the supervisor and leaves its stores capturing and\n"
             "serving; the next start adopts them. --stop-stores (or\n"
             "supervisor.stop.stores=true) stops the stores with it.\n",
    .run = run,
};

static int run(int argc, char **argv)
{
    const char *config = NULL, *cm = NULL;
    int stop_stores = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--stop-stores") == 0)
            stop_stores = 1;
        else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strcmp(argv[i], "--cm") == 0 && i + 1 < argc)
            cm = argv[++i];
        else
            return ox_cli_usage_error(&ox_cmd_supervisor, "unexpected argument \"%s\"", argv[i]);
    }
    ox_errbuf eb;
    ox_props *props = NULL;
    int rc = ox_cli_load_props(config, "supervisor.cm.url", cm, &props, &eb);
    if (rc != 0) {
        fprintf(stderr, "oxbow supervisor: %s\n", eb.msg);
        return 1;
    }
    if (ox_props_check_keys(props, ox_sv_config_keys, &eb) != 0 ||
        ox_props_get(props, "supervisor.cm.url") == NULL) {
        if (ox_props_get(props, "supervisor.cm.url") == NULL)
            snprintf(eb.msg, sizeof eb.msg, "--cm URL (or supervisor.cm.url) is required");
        fprintf(stderr, "oxbow supervisor: config: %s\n", eb.msg);
        ox_props_free(props);
        return 1;
    }
    struct ox_sv_config cfg;
    if (ox_sv_config_load(props, "oxbow-supervisor", &cfg, &eb) != 0) {
        fprintf(stderr, "oxbow supervisor: config: %s\n", eb.msg);
        ox_props_free(props);
        return 1;
    }
    cfg.drop_source = ox_store_drop_source; /* composed here: sv does not link the store */
    cfg.stores_outlive = 1; /* a crash or a restart of this process leaves the stores running */
    cfg.stop_stores |= stop_stores;
    ox_cli_trap_stop_signals();
    ox_supervisor *sv = NULL;
    rc = ox_sv_start(&cfg, &sv, &eb);
    if (rc != 0) {
        fprintf(stderr, "oxbow supervisor: %s\n", eb.msg);
    } else {
        fprintf(stderr, "oxbow supervisor: %s-%d reporting to %s (pid %d, drc %s)\n", cfg.host_ip,
                cfg.port, cfg.cm_url, (int)getpid(), cfg.drc_path);
        ox_cli_wait_stop_signal();
        ox_sv_stop(sv);
    }
    ox_sv_config_free(&cfg);
    ox_props_free(props);
    return rc == 0 ? 0 : 1;
}
