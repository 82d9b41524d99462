/* sim_util.h - allocation helpers for the simulation (a test binary that
 * runs out of memory stops with a message rather than limping on), and a
 * growable map from small integers (terms, log indexes) to values. */
#ifndef VARDE_SIM_UTIL_H
#define VARDE_SIM_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* calloc(N, SIZE); exits with status 2 and a message when memory is out. */
void *sim_xcalloc(size_t n, size_t size);

/* realloc(P, N * SIZE) with an overflow check; exits like sim_xcalloc. */
void *sim_xrealloc(void *p, size_t n, size_t size);

/* Values indexed by a small integer, grown on demand; 0: nothing there.
 * Zero-initialise, free with sim_map_free(). */
struct sim_map {
    uint64_t *v;
    size_t cap;
};

uint64_t sim_map_get(const struct sim_map *m, uint64_t key);
void sim_map_set(struct sim_map *m, uint64_t key, uint64_t value);
void sim_map_free(struct sim_map *m);

#endif
