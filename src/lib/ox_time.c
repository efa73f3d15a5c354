/* ox_time.c - clocks and the one retry backoff (see ox_time.h). */
#include "ox_time.h"

#include <errno.h>
#include <time.h>

static int64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t ox_time_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

int64_t ox_time_wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

int64_t ox_time_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void ox_time_sleep_ms(int64_t ms, int interruptible)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !interruptible) {
    }
}

void ox_backoff_init(ox_backoff *b, int64_t initial_ms, int64_t cap_ms)
{
    b->initial_ms = initial_ms > 0 ? initial_ms : 1;
    b->cap_ms = cap_ms > b->initial_ms ? cap_ms : b->initial_ms;
    ox_backoff_reset(b);
}

int64_t ox_backoff_fail(ox_backoff *b)
{
    int64_t wait = b->next_ms;
    b->next_ms = wait > b->cap_ms / 2 ? b->cap_ms : wait * 2;
    b->failures++;
    return wait;
}

void ox_backoff_reset(ox_backoff *b)
{
    b->next_ms = b->initial_ms;
    b->failures = 0;
}

int64_t ox_backoff_peek(const ox_backoff *b)
{
    return b->next_ms;
}
