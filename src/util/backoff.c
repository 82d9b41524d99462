/* backoff.c - jittered exponential backoff (backoff.h). */
#include "util/backoff.h"

#include <sys/random.h>
#include <time.h>
#include <unistd.h>

void backoff_init(struct backoff *b, uint32_t min_ms, uint32_t max_ms)
{
    b->min_ms = min_ms > 0 ? min_ms : 1;
    b->max_ms = max_ms > b->min_ms ? max_ms : b->min_ms;
    b->step_ms = b->min_ms;
}

uint32_t backoff_next(struct backoff *b, uint64_t r)
{
    uint64_t step = b->step_ms;
    /* The top 32 bits as a fraction of 2^32: a factor in [0.5, 1.5). */
    uint64_t wait = step / 2 + ((step * (r >> 32)) >> 32);

    b->step_ms = step * 2 < b->max_ms ? (uint32_t)(step * 2) : b->max_ms;
    return wait > 0 ? (uint32_t)wait : 1;
}

void backoff_reset(struct backoff *b)
{
    b->step_ms = b->min_ms;
}

uint64_t backoff_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

uint64_t backoff_seed(void)
{
    uint64_t seed;
    struct timespec ts;

    if (getrandom(&seed, sizeof(seed), 0) == (ssize_t)sizeof(seed)) {
        return seed;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
}
