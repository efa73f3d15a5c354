/* ox_ratelimit.c - log-line rate limiter (see ox_ratelimit.h). */
#include "ox_ratelimit.h"

#include "ox_time.h"

void ox_ratelimit_init(ox_ratelimit *rl, int burst)
{
    pthread_mutex_init(&rl->mu, NULL);
    rl->burst = burst > 0 ? burst : 1;
    rl->window_ms = 0;
    rl->used = 0;
    rl->suppressed = 0;
}

void ox_ratelimit_destroy(ox_ratelimit *rl)
{
    pthread_mutex_destroy(&rl->mu);
}

int ox_ratelimit_allow(ox_ratelimit *rl, uint64_t *suppressed)
{
    int64_t now = ox_time_mono_ms();
    int ok;
    pthread_mutex_lock(&rl->mu);
    if (now - rl->window_ms >= 1000) {
        rl->window_ms = now;
        rl->used = 0;
    }
    ok = rl->used < rl->burst;
    if (ok) {
        rl->used++;
        *suppressed = rl->suppressed;
        rl->suppressed = 0;
    } else {
        rl->suppressed++;
    }
    pthread_mutex_unlock(&rl->mu);
    return ok;
}
