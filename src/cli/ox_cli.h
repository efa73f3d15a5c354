/*
 * ox_cli.h - the `oxbow` subcommand table.
 *
 * Each subcommand lives in its own file cmd_<name>.c and defines one
 * `const struct ox_cmd_entry ox_cmd_<name>`; commands.c lists them (the tmux
 * cmd_entry pattern). main() finds the entry, prints its usage for --help and
 * otherwise calls run() with argv[0] set to the subcommand name.
 */
#ifndef OX_CLI_H
#define OX_CLI_H

#include "ox_props.h"

struct ox_cmd_entry {
    const char *name;
    const char *summary; /* one line for `oxbow --help` */
    const char *usage;   /* full text for `oxbow NAME --help` */
    /* Returns the process exit status: 0 success, 1 failure, 2 usage error. */
    int (*run)(int argc, char **argv);
};

/* NULL-terminated table defined in commands.c. */
extern const struct ox_cmd_entry *const ox_commands[];

/* Prints the entry's usage to stderr and returns 2, for use on bad options. */
int ox_cli_usage_error(const struct ox_cmd_entry *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Helpers for the daemon subcommands (cli_common.c); they print nothing.
 *
 * ox_cli_load_props: parses the properties FILE (may be NULL) plus, when
 * both are given, one more line key=value from a command-line option.
 * Returns 0 or an OX_E* code with the reason in eb; *out is freed with
 * ox_props_free.
 *
 * ox_cli_trap_stop_signals: SIGINT/SIGTERM set a flag (nothing else), SIGPIPE
 * and SIGHUP are ignored. ox_cli_wait_stop_signal then sleeps until one of
 * the two arrives and returns its number.
 */
int ox_cli_load_props(const char *file, const char *key, const char *value, ox_props **out,
                      ox_errbuf *eb);
void ox_cli_trap_stop_signals(void);
int ox_cli_wait_stop_signal(void);
/* The stop signal received since ox_cli_trap_stop_signals (SIGINT or
 * SIGTERM), or 0: for commands that poll instead of waiting. */
int ox_cli_stop_requested(void);

#endif
