/* sim_util.c - allocation helpers that stop the simulation on failure. */
#include "sim_util.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void sim_out_of_memory(size_t bytes)
{
    fprintf(stderr, "sim: out of memory (%zu bytes)\n", bytes);
    exit(2);
}

void *sim_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (p == NULL) {
        sim_out_of_memory(n * size);
    }
    return p;
}

void *sim_xrealloc(void *p, size_t n, size_t size)
{
    size_t bytes;
    void *q;

    if (size != 0 && n > SIZE_MAX / size) {
        sim_out_of_memory(SIZE_MAX);
    }
    bytes = n * size;
    q = realloc(p, bytes > 0 ? bytes : 1);
    if (q == NULL) {
        sim_out_of_memory(bytes);
    }
    return q;
}

uint64_t sim_map_get(const struct sim_map *m, uint64_t key)
{
    return key < m->cap ? m->v[key] : 0;
}

void sim_map_set(struct sim_map *m, uint64_t key, uint64_t value)
{
    if (key >= m->cap) {
        size_t cap = m->cap ? m->cap : 64;

        while (cap <= key) {
            cap *= 2;
        }
        m->v = sim_xrealloc(m->v, cap, sizeof *m->v);
        memset(m->v + m->cap, 0, (cap - m->cap) * sizeof *m->v);
        m->cap = cap;
    }
    m->v[key] = value;
}

void sim_map_free(struct sim_map *m)
{
    free(m->v);
    m->v = NULL;
    m->cap = 0;
}
