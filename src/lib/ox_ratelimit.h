/*
 * ox_ratelimit.h - at most N log lines a second, then a count of the rest.
 *
 * For lines an outside peer can trigger at will (a malformed request, a
 * refused connection): without a limit every bad request writes a line and a
 * client can fill the disk or drown the log. The first `burst` lines of each
 * second pass; the others are counted, and the next line that passes reports
 * how many were suppressed.
 */
#ifndef OX_RATELIMIT_H
#define OX_RATELIMIT_H

#include <pthread.h>
#include <stdint.h>

typedef struct ox_ratelimit {
    pthread_mutex_t mu;
    int burst;           /* lines per second */
    int64_t window_ms;   /* start of the current second (monotonic ms) */
    int used;            /* lines passed in this second */
    uint64_t suppressed; /* since the last line that passed */
} ox_ratelimit;

/* Sets up rl for `burst` lines a second. Never fails. */
void ox_ratelimit_init(ox_ratelimit *rl, int burst);
void ox_ratelimit_destroy(ox_ratelimit *rl);

/*
 * Returns 1 if a line may be written now, with *suppressed set to the number
 * of lines refused since the last one that passed (write it along); returns
 * 0 and counts the line otherwise. Thread-safe, never logs.
 */
int ox_ratelimit_allow(ox_ratelimit *rl, uint64_t *suppressed);

#endif
