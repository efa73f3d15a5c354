/* main.c - `oxbow`: dispatches to the subcommand table in commands.c. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ox_cli.h"
#include "ox_version.h"

static void print_overview(FILE *out)
{
    fprintf(out, "oxbow %s - change-log store and cluster manager\n\n", OX_VERSION);
    fprintf(out, "usage: oxbow COMMAND [OPTIONS]\n\ncommands:\n");
    for (int i = 0; ox_commands[i] != NULL; i++)
        fprintf(out, "  %-12s %s\n", ox_commands[i]->name, ox_commands[i]->summary);
    fprintf(out, "\nRun `oxbow COMMAND --help` for a command's options.\n");
}

int ox_cli_usage_error(const struct ox_cmd_entry *e, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "oxbow %s: ", e->name);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n\n%s", e->usage);
    return 2;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_overview(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        print_overview(stdout);
        return 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("oxbow %s\n", OX_VERSION);
        return 0;
    }
    for (int i = 0; ox_commands[i] != NULL; i++) {
        const struct ox_cmd_entry *e = ox_commands[i];
        if (strcmp(argv[1], e->name) != 0)
            continue;
        for (int a = 2; a < argc; a++) {
            if (strcmp(argv[a], "--") == 0)
                break;
            if (strcmp(argv[a], "--help") == 0 || strcmp(argv[a], "-h") == 0) {
                fputs(e->usage, stdout);
                return 0;
            }
        }
        return e->run(argc - 1, argv + 1);
    }
    fprintf(stderr, "oxbow: unknown command \"%s\"\n\n", argv[1]);
    print_overview(stderr);
    return 2;
}
