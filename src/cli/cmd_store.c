/* cmd_store.c - `oxbow store --config FILE`: run one store (docs/store.md). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "ox_cli.h"
#include "ox_props.h"
#include "ox_slog.h"
#include "ox_store.h"

static int run(int argc, char **argv);

const struct ox_cmd_entry ox_cmd_store = {
    .name = "store",
    .summary = "run a store: capture a source into the change log and serve subscribers",
    .usage = "usage: oxbow store --config FILE [--check | --drop-source]\n"
             "       oxbow store --keys\n"
             "\n"
             "Runs one store as configured in FILE (a properties file; every key is\n"
             "documented in docs/store.md). Secrets come from files or the environment,\n"
             "never from the command line. SIGTERM stops cleanly, SIGHUP reopens\n"
             "store.log. With --check, only validates FILE and exits 0 or 1.\n"
             "With --drop-source, removes what the store created on its source (a\n"
             "PostgreSQL store's replication slot and publication) and exits.\n"
             "With --keys, prints every configuration key as the rows of the table\n"
             "in docs/store.md.\n",
    .run = run,
};

static volatile sig_atomic_t stop_flag, reopen_flag;

static void on_stop(int sig)
{
    stop_flag = 1;
}

static void on_hup(int sig)
{
    reopen_flag = 1;
}

/* The one report of a failure to start: stderr, and <store.dir>/store.log
 * when the file names an existing directory, so that a supervisor finds it
 * there. ox_store_run does not log the failure it returns. */
static void report_fatal(const char *config, const char *what, const char *msg)
{
    fprintf(stderr, "oxbow store: %s%s\n", what, msg);
    ox_props *p = NULL;
    ox_errbuf eb;
    if (ox_props_load_file(config, &p, &eb) != 0)
        return;
    const char *dir = ox_props_get(p, "store.dir");
    char path[4096];
    if (dir != NULL && *dir != '\0' &&
        (size_t)snprintf(path, sizeof path, "%s/store.log", dir) < sizeof path) {
        ox_slog *l = NULL;
        if (ox_slog_open(path, OX_LL_ERROR, 0, &l, &eb) == 0) {
            ox_slog_printf(l, OX_LL_ERROR, "%s%s", what, msg);
            ox_slog_close(l);
        }
    }
    ox_props_free(p);
}

/* The key table as docs/store.md's rows (that document's source). */
static int print_keys(void)
{
    size_t n = 0;
    const ox_store_key_doc *k = ox_store_config_keys(&n);
    for (size_t i = 0; i < n; i++)
        printf("| `%s` | %s | %s |\n", k[i].key, k[i].doc_default, k[i].doc);
    return 0;
}

static int run(int argc, char **argv)
{
    const char *config = NULL;
    int check = 0, drop = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            config = argv[++i];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            config = argv[i] + 9;
        else if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else if (strcmp(argv[i], "--drop-source") == 0)
            drop = 1;
        else if (strcmp(argv[i], "--keys") == 0 && argc == 2)
            return print_keys();
        else
            return ox_cli_usage_error(&ox_cmd_store, "unexpected argument \"%s\"", argv[i]);
    }
    if (config == NULL)
        return ox_cli_usage_error(&ox_cmd_store, "--config FILE is required");
    ox_store_config *cfg = NULL;
    ox_errbuf eb;
    if (ox_store_config_load(config, &cfg, &eb) != 0) {
        char what[4200];
        snprintf(what, sizeof what, "bad configuration %s: ", config);
        if (check)
            fprintf(stderr, "oxbow store: %s%s\n", what, eb.msg);
        else
            report_fatal(config, what, eb.msg);
        return 1;
    }
    if (drop) {
        ox_store_config_free(cfg);
        ox_errbuf deb;
        if (ox_store_drop_source(config, &deb) != 0) {
            fprintf(stderr, "oxbow store: %s\n", deb.msg);
            return 1;
        }
        return 0;
    }
    if (check) {
        printf("%s: ok\n", config);
        ox_store_config_free(cfg);
        return 0;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sa.sa_handler = on_hup;
    sigaction(SIGHUP, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    int rc = ox_store_run(cfg, &stop_flag, &reopen_flag, &eb);
    if (rc != 0)
        report_fatal(config, "", eb.msg);
    ox_store_config_free(cfg);
    return rc == 0 ? 0 : 1;
}
