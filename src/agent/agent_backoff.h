/* agent_backoff.h - jittered exponential backoff for the agent's retries,
 * with the randomness passed in.
 *
 * Each wait is the current step times a factor in [0.5, 1.5), then the
 * step doubles up to its ceiling; a success starts over. The jitter keeps
 * the agents of a site from knocking on a returning controller together.
 * Pure: the caller supplies random bits (agent_rand_next() makes them from
 * a seed), so a test fixes the sequence.
 */
#ifndef VARDE_AGENT_BACKOFF_H
#define VARDE_AGENT_BACKOFF_H

#include <stdint.h>

struct agent_backoff {
    uint32_t min_ms;
    uint32_t max_ms;
    uint32_t step_ms;
};

/* Start at MIN_MS (at least 1), doubling up to MAX_MS (at least MIN_MS). */
void agent_backoff_init(struct agent_backoff *b, uint32_t min_ms,
                        uint32_t max_ms);

/* The next wait, within [step / 2, step * 3 / 2) and at least 1 ms, from
 * the random bits R; then the step doubles, up to max_ms. */
uint32_t agent_backoff_next(struct agent_backoff *b, uint64_t r);

/* A success: the next wait starts from min_ms again. */
void agent_backoff_reset(struct agent_backoff *b);

/* The next 64 random bits of the generator whose state is *STATE
 * (splitmix64; any seed will do). */
uint64_t agent_rand_next(uint64_t *state);

#endif
