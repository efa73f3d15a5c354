/* log_crash_common.h - the deterministic workload shared by
 * log_crash_child.c and test_log_crash.c. */
#ifndef LOG_CRASH_COMMON_H
#define LOG_CRASH_COMMON_H

#include <stdint.h>

#define CRASH_SEGMENT_BYTES (256u << 10)
#define CRASH_MAX_PAYLOAD   300000u

/* Records in the transaction that starts at msgId `first`. */
static inline uint64_t crash_txn_len(uint64_t first)
{
    return 1 + (first * 2654435761u) % 7;
}

static inline uint32_t crash_payload_len(uint64_t id)
{
    if (id % 211 == 0)
        return 100000 + (uint32_t)(id % 200000); /* now and then a big one */
    return (uint32_t)((id * 7919u) % 3000u);
}

#endif
