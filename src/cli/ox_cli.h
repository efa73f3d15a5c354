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

#endif
