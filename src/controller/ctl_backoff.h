/* ctl_backoff.h - jittered exponential backoff, with the randomness passed
 * in.
 *
 * Each retry waits the current step times a random factor in [0.5, 1.5),
 * then the step doubles up to its ceiling; a success resets it. The jitter
 * spreads a fleet of controllers that lost the same leader at the same
 * moment, so that they do not all knock on the new one together. Pure: the
 * caller supplies random bits (ctl_rand_next() makes them from a seed), so
 * a test fixes the sequence.
 */
#ifndef VARDE_CTL_BACKOFF_H
#define VARDE_CTL_BACKOFF_H

#include <stdint.h>

#define CTL_BACKOFF_MIN_MS 100
#define CTL_BACKOFF_MAX_MS 5000

struct ctl_backoff {
    uint32_t min_ms; /* the first step */
    uint32_t max_ms; /* the ceiling of the step */
    uint32_t step_ms;
};

/* Start at MIN_MS (> 0), doubling up to MAX_MS (>= MIN_MS). */
void ctl_backoff_init(struct ctl_backoff *b, uint32_t min_ms, uint32_t max_ms);

/* The wait before the next retry, from the random bits R: the step times a
 * factor in [0.5, 1.5), so within [step / 2, step * 3 / 2). Then the step
 * doubles, up to max_ms. */
uint32_t ctl_backoff_next(struct ctl_backoff *b, uint64_t r);

/* A success: the next wait starts from min_ms again. */
void ctl_backoff_reset(struct ctl_backoff *b);

/* The next 64 random bits of the generator whose state is *STATE
 * (splitmix64: any seed, 0 included, gives a full-period sequence). */
uint64_t ctl_rand_next(uint64_t *state);

#endif
