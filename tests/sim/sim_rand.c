/* sim_rand.c - xoshiro256** (Blackman and Vigna) with a splitmix64 seeder.
 *
 * Both are tiny public algorithms; what matters here is that the stream
 * depends on the seed alone, never on the C library's rand(). */
#include "sim_rand.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void sim_rand_seed(struct sim_rand *r, uint64_t seed)
{
    uint64_t x = seed;

    for (int i = 0; i < 4; i++) {
        r->s[i] = splitmix64(&x);
    }
}

uint64_t sim_rand_next(struct sim_rand *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;

    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

uint64_t sim_rand_range(struct sim_rand *r, uint64_t lo, uint64_t hi)
{
    uint64_t span = hi - lo + 1;
    uint64_t limit;
    uint64_t x;

    if (span == 0) {
        return sim_rand_next(r); /* the whole 64-bit range */
    }

    /* Reject the top sliver so that every value is equally likely. */
    limit = UINT64_MAX - UINT64_MAX % span;
    do {
        x = sim_rand_next(r);
    } while (x >= limit);
    return lo + x % span;
}

bool sim_rand_chance(struct sim_rand *r, uint32_t permille)
{
    return sim_rand_range(r, 0, 999) < permille;
}
