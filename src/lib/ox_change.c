/* ox_change.c - op names and table versions; see ox_change.h. */
#include "ox_change.h"

static const char *const op_names[] = {
    [OX_OP_INSERT] = "insert",       [OX_OP_UPDATE] = "update",
    [OX_OP_DELETE] = "delete",       [OX_OP_DDL] = "ddl",
    [OX_OP_BEGIN] = "begin",         [OX_OP_COMMIT] = "commit",
    [OX_OP_HEARTBEAT] = "heartbeat", [OX_OP_MESSAGE] = "message",
};

const char *ox_op_name(int op)
{
    if (op <= 0 || (size_t)op >= sizeof op_names / sizeof op_names[0] || op_names[op] == NULL)
        return "unknown";
    return op_names[op];
}

uint64_t ox_change_version_new(void)
{
    /* Process-wide on purpose: a renderer outlives the decoders that feed
     * it (a source reconnects with a new decoder), so versions from two
     * decoders must never meet. */
    static uint64_t next;
    return __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
}
