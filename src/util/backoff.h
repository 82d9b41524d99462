/* backoff.h - jittered exponential backoff for a daemon's retries, with the
 * randomness passed in.
 *
 * Each wait is the current step times a factor in [0.5, 1.5), then the step
 * doubles up to its ceiling; a success starts over. The jitter spreads
 * the daemons that lost the same peer at the same moment (the controllers
 * of a fleet and their leader, the agents of a site and their controller),
 * so that they do not all knock on it together when it returns. Pure: the
 * caller supplies random bits (backoff_rand_next() makes them from a
 * seed), so a test fixes the sequence.
 */
#ifndef VARDE_BACKOFF_H
#define VARDE_BACKOFF_H

#include <stdint.h>

struct backoff {
    uint32_t min_ms; /* the first step */
    uint32_t max_ms; /* the ceiling of the step */
    uint32_t step_ms;
};

/* Start at MIN_MS (at least 1), doubling up to MAX_MS (at least MIN_MS). */
void backoff_init(struct backoff *b, uint32_t min_ms, uint32_t max_ms);

/* The wait before the next retry, from the random bits R: the step times a
 * factor in [0.5, 1.5), so within [step / 2, step * 3 / 2), and at least
 * 1 ms. Then the step doubles, up to max_ms. */
uint32_t backoff_next(struct backoff *b, uint64_t r);

/* A success: the next wait starts from min_ms again. */
void backoff_reset(struct backoff *b);

/* The next 64 random bits of the generator whose state is *STATE
 * (splitmix64: any seed, 0 included, gives a full-period sequence). */
uint64_t backoff_rand_next(uint64_t *state);

/* A seed for backoff_rand_next() that differs from process to process:
 * from getrandom(), or the clock and the pid when that fails. */
uint64_t backoff_seed(void);

#endif
