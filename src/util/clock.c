/* clock.c - milliseconds from the system clocks (clock.h). */
#include "util/clock.h"

#include <time.h>

static uint64_t clock_ms(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t clock_mono_ms(void)
{
    return clock_ms(CLOCK_MONOTONIC);
}

uint64_t clock_wall_ms(void)
{
    return clock_ms(CLOCK_REALTIME);
}

struct timeval clock_tv(uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

    return tv;
}
