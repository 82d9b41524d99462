/* ctl_backoff.c - jittered exponential backoff (ctl_backoff.h). */
#include "controller/ctl_backoff.h"

void ctl_backoff_init(struct ctl_backoff *b, uint32_t min_ms, uint32_t max_ms)
{
    b->min_ms = min_ms > 0 ? min_ms : 1;
    b->max_ms = max_ms >= b->min_ms ? max_ms : b->min_ms;
    b->step_ms = b->min_ms;
}

uint32_t ctl_backoff_next(struct ctl_backoff *b, uint64_t r)
{
    uint64_t step = b->step_ms;
    /* The top 32 bits as a fraction of 2^32: a factor in [0.5, 1.5). */
    uint64_t wait = step / 2 + ((step * (r >> 32)) >> 32);

    b->step_ms = step * 2 < b->max_ms ? (uint32_t)(step * 2) : b->max_ms;
    return wait > 0 ? (uint32_t)wait : 1;
}

void ctl_backoff_reset(struct ctl_backoff *b)
{
    b->step_ms = b->min_ms;
}

uint64_t ctl_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
