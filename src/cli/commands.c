/* commands.c - the subcommand table; add one line per cmd_<name>.c. */
#include <stddef.h>

#include "ox_cli.h"

extern const struct ox_cmd_entry ox_cmd_checkpoint;

const struct ox_cmd_entry *const ox_commands[] = {
    &ox_cmd_checkpoint,
    NULL,
};
