/* sim_rand.h - the simulation's one source of randomness: xoshiro256**
 * seeded through splitmix64, so that a seed replays exactly. */
#ifndef VARDE_SIM_RAND_H
#define VARDE_SIM_RAND_H

#include <stdbool.h>
#include <stdint.h>

struct sim_rand {
    uint64_t s[4];
};

/* Derive the whole generator state from SEED (any value, 0 included). */
void sim_rand_seed(struct sim_rand *r, uint64_t seed);

/* The next 64 random bits. */
uint64_t sim_rand_next(struct sim_rand *r);

/* A uniform value in [LO, HI], both included. Precondition: LO <= HI. */
uint64_t sim_rand_range(struct sim_rand *r, uint64_t lo, uint64_t hi);

/* True with probability PERMILLE / 1000 (0: never, >= 1000: always). */
bool sim_rand_chance(struct sim_rand *r, uint32_t permille);

#endif
