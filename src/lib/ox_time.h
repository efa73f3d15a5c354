/*
 * ox_time.h - the one owner of clocks and of retry backoff.
 *
 * Clocks: ox_time_mono_ms() for durations, deadlines and timeouts (never
 * jumps); ox_time_wall_ms() for what a DBA reads (event times, delays, log
 * lines). Every module that measures time calls these; none reads
 * clock_gettime itself.
 *
 * Backoff: every retry that waits (a source reconnecting, the store's
 * capture loop, the supervisor restarting a store) uses one ox_backoff:
 * the first wait is `initial_ms`, each failure doubles it up to `cap_ms`,
 * and a success resets it. No jitter: each retrier talks to its own peer
 * (one store, one source), so there is no herd to spread, and tests and
 * operators can predict the next attempt from the documented figures.
 *
 * Threads: the clocks are thread-safe; an ox_backoff belongs to one thread.
 * Nothing here logs or allocates.
 */
#ifndef OX_TIME_H
#define OX_TIME_H

#include <stdint.h>

/* Milliseconds of CLOCK_MONOTONIC. */
int64_t ox_time_mono_ms(void);
/* Milliseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t ox_time_wall_ms(void);
/* Microseconds since the Unix epoch (CLOCK_REALTIME). */
int64_t ox_time_wall_us(void);
/* Sleeps ms milliseconds (nothing when ms <= 0), resuming after signals
 * unless `interruptible`: then a signal ends the sleep early (daemons whose
 * stop flag a signal sets). */
void ox_time_sleep_ms(int64_t ms, int interruptible);

typedef struct ox_backoff {
    int64_t initial_ms; /* the first wait */
    int64_t cap_ms;     /* no wait is longer */
    int64_t next_ms;    /* the wait the next failure gets */
    uint32_t failures;  /* since the last success */
} ox_backoff;

/* Sets b to its reset state: the next failure waits initial_ms. cap_ms is
 * raised to initial_ms if smaller. Pure. */
void ox_backoff_init(ox_backoff *b, int64_t initial_ms, int64_t cap_ms);
/* A failure: returns how long to wait before the next attempt (initial_ms,
 * then doubling, never above cap_ms) and advances. */
int64_t ox_backoff_fail(ox_backoff *b);
/* A success: the next failure waits initial_ms again. */
void ox_backoff_reset(ox_backoff *b);
/* The wait the next failure would get, without advancing. */
int64_t ox_backoff_peek(const ox_backoff *b);

#endif
