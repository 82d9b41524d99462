/* agent_backoff.c - jittered exponential backoff (agent_backoff.h). */
#include "agent/agent_backoff.h"

void agent_backoff_init(struct agent_backoff *b, uint32_t min_ms,
                        uint32_t max_ms)
{
    b->min_ms = min_ms > 0 ? min_ms : 1;
    b->max_ms = max_ms > b->min_ms ? max_ms : b->min_ms;
    b->step_ms = b->min_ms;
}

uint32_t agent_backoff_next(struct agent_backoff *b, uint64_t r)
{
    uint64_t step = b->step_ms;
    /* r's top 32 bits as a fraction of the step: wait in [step/2, 3step/2) */
    uint64_t wait = step / 2 + ((step * (r >> 32)) >> 32);

    b->step_ms = step * 2 < b->max_ms ? (uint32_t)(step * 2) : b->max_ms;
    return wait > 0 ? (uint32_t)wait : 1;
}

void agent_backoff_reset(struct agent_backoff *b)
{
    b->step_ms = b->min_ms;
}

uint64_t agent_rand_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
