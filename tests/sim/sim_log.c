/* sim_log.c - entries after a snapshot point, with owned data.
 *
 * The state machine of the simulation is a digest: applying an entry
 * chains its index and content into the previous digest, so two nodes that
 * applied the same entries in the same order hold the same digest, and a
 * snapshot is just (index, term, digest). */
#include "sim_log.h"

#include "sim_util.h"

#include <stdlib.h>
#include <string.h>

void sim_log_init(struct sim_log *l, const struct sim_snap *base)
{
    memset(l, 0, sizeof *l);
    if (base != NULL) {
        l->base = *base;
    }
}

static void free_entries(struct sim_log *l, size_t from)
{
    for (size_t i = from; i < l->n; i++) {
        free(l->entries[i].data);
    }
    l->n = from;
}

void sim_log_free(struct sim_log *l)
{
    free_entries(l, 0);
    free(l->entries);
    sim_log_init(l, NULL);
}

static void push_copy(struct sim_log *l, const struct raft_entry *e)
{
    struct raft_entry *d;

    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 64;
        l->entries = sim_xrealloc(l->entries, l->cap, sizeof *l->entries);
    }
    d = &l->entries[l->n++];
    *d = *e;
    d->data = NULL;
    if (e->len > 0) {
        d->data = sim_xcalloc(1, e->len);
        memcpy(d->data, e->data, e->len);
    }
}

void sim_log_copy(struct sim_log *dst, const struct sim_log *src)
{
    sim_log_init(dst, &src->base);
    for (size_t i = 0; i < src->n; i++) {
        push_copy(dst, &src->entries[i]);
    }
}

uint64_t sim_log_last_index(const struct sim_log *l)
{
    return l->base.index + l->n;
}

uint64_t sim_log_last_term(const struct sim_log *l)
{
    return l->n ? l->entries[l->n - 1].term : l->base.term;
}

const struct raft_entry *sim_log_get(const struct sim_log *l, uint64_t index)
{
    if (index <= l->base.index || index > sim_log_last_index(l)) {
        return NULL;
    }
    return &l->entries[index - l->base.index - 1];
}

int sim_log_write(struct sim_log *l, const struct raft_entry *e, size_t n)
{
    if (n == 0) {
        return 0;
    }
    if (e[0].index <= l->base.index || e[0].index > sim_log_last_index(l) + 1) {
        return -1;
    }
    for (size_t i = 1; i < n; i++) {
        if (e[i].index != e[0].index + i) {
            return -1;
        }
    }
    free_entries(l, (size_t)(e[0].index - l->base.index - 1));
    for (size_t i = 0; i < n; i++) {
        push_copy(l, &e[i]);
    }
    return 0;
}

void sim_log_compact(struct sim_log *l, const struct sim_snap *snap)
{
    size_t drop;

    if (snap->index <= l->base.index) {
        return;
    }
    drop = snap->index >= sim_log_last_index(l)
               ? l->n
               : (size_t)(snap->index - l->base.index);
    for (size_t i = 0; i < drop; i++) {
        free(l->entries[i].data);
    }
    memmove(l->entries, l->entries + drop, (l->n - drop) * sizeof *l->entries);
    l->n -= drop;
    l->base = *snap;
}

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t sim_log_entry_hash(const struct raft_entry *e)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a over the data */

    for (uint32_t i = 0; i < e->len; i++) {
        h = (h ^ e->data[i]) * 0x100000001b3ULL;
    }
    return mix(h ^ mix(e->term) ^ mix((uint64_t)e->type + 7));
}

uint64_t sim_log_chain(uint64_t digest, const struct raft_entry *e)
{
    return mix(digest ^ mix(e->index ^ sim_log_entry_hash(e)));
}
