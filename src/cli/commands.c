/* commands.c - the subcommand table; add one line per cmd_<name>.c. */
#include <stddef.h>

#include "ox_cli.h"

extern const struct ox_cmd_entry ox_cmd_checkpoint;
extern const struct ox_cmd_entry ox_cmd_decode;
extern const struct ox_cmd_entry ox_cmd_capture;
extern const struct ox_cmd_entry ox_cmd_store;
extern const struct ox_cmd_entry ox_cmd_tail;
extern const struct ox_cmd_entry ox_cmd_cm;
extern const struct ox_cmd_entry ox_cmd_supervisor;
extern const struct ox_cmd_entry ox_cmd_schema;

/* One entry per line, in `oxbow --help` order. */
/* clang-format off */
const struct ox_cmd_entry *const ox_commands[] = {
    &ox_cmd_checkpoint,
    &ox_cmd_decode,
    &ox_cmd_capture,
    &ox_cmd_store,
    &ox_cmd_tail,
    &ox_cmd_cm,
    &ox_cmd_supervisor,
    &ox_cmd_schema,
    NULL,
};
/* clang-format on */
