/* raft_log.c - the core's in-memory log: index arithmetic, the up-to-date
 * rule, and releasing the data of a prefix of the entries. */
#include "raft/raft_log.h"

#include <stdlib.h>
#include <string.h>

void raft_log_init(struct raft_log *l)
{
    l->entries = NULL;
    l->len = 0;
    l->cap = 0;
    l->base_index = 0;
    l->base_term = 0;
    l->released = 0;
}

void raft_log_close(struct raft_log *l)
{
    for (size_t i = 0; i < l->len; i++) {
        free(l->entries[i].data);
    }
    free(l->entries);
    raft_log_init(l);
}

uint64_t raft_log_last_index(const struct raft_log *l)
{
    return l->base_index + l->len;
}

uint64_t raft_log_last_term(const struct raft_log *l)
{
    return l->len ? l->entries[l->len - 1].term : l->base_term;
}

uint64_t raft_log_term_at(const struct raft_log *l, uint64_t index)
{
    if (index == l->base_index) {
        return l->base_term;
    }
    if (index < l->base_index || index > raft_log_last_index(l)) {
        return 0;
    }
    return l->entries[index - l->base_index - 1].term;
}

bool raft_log_is_up_to_date(const struct raft_log *l, uint64_t last_index,
                            uint64_t last_term)
{
    uint64_t our_term = raft_log_last_term(l);

    if (last_term != our_term) {
        return last_term > our_term;
    }
    return last_index >= raft_log_last_index(l);
}

uint64_t raft_log_term_start(const struct raft_log *l, uint64_t index)
{
    uint64_t term = raft_log_term_at(l, index);

    while (index > l->base_index + 1 &&
           raft_log_term_at(l, index - 1) == term) {
        index--;
    }
    return index;
}

const struct raft_entry *raft_log_get(const struct raft_log *l, uint64_t index)
{
    if (index <= l->base_index || index > raft_log_last_index(l)) {
        return NULL;
    }
    return &l->entries[index - l->base_index - 1];
}

int raft_log_append(struct raft_log *l, const struct raft_entry *e)
{
    struct raft_entry copy = *e;

    if (e->index != raft_log_last_index(l) + 1) {
        return -1;
    }
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct raft_entry *n = realloc(l->entries, cap * sizeof(*n));

        if (n == NULL) {
            return -1;
        }
        l->entries = n;
        l->cap = cap;
    }
    copy.data = NULL;
    if (e->len > 0) {
        copy.data = malloc(e->len);
        if (copy.data == NULL) {
            return -1;
        }
        memcpy(copy.data, e->data, e->len);
    }
    l->entries[l->len++] = copy;
    return 0;
}

size_t raft_log_release(struct raft_log *l, uint64_t index, size_t max)
{
    size_t n = 0;

    if (l->released < l->base_index) {
        l->released = l->base_index;
    }
    if (index > raft_log_last_index(l)) {
        index = raft_log_last_index(l);
    }
    while (l->released < index && n < max) {
        struct raft_entry *e = &l->entries[l->released - l->base_index];

        free(e->data);
        e->data = NULL;
        l->released++;
        n++;
    }
    return n;
}

void raft_log_truncate_from(struct raft_log *l, uint64_t index)
{
    if (index <= l->base_index) {
        index = l->base_index + 1;
    }
    while (raft_log_last_index(l) >= index && l->len > 0) {
        free(l->entries[--l->len].data);
    }
    if (l->released >= index) {
        l->released = index - 1;
    }
}

void raft_log_compact(struct raft_log *l, uint64_t index)
{
    size_t drop;

    if (index <= l->base_index) {
        return;
    }
    if (index > raft_log_last_index(l)) {
        index = raft_log_last_index(l);
    }
    drop = (size_t)(index - l->base_index);
    l->base_term = raft_log_term_at(l, index);
    for (size_t i = 0; i < drop; i++) {
        free(l->entries[i].data);
    }
    memmove(l->entries, l->entries + drop,
            (l->len - drop) * sizeof(*l->entries));
    l->len -= drop;
    l->base_index = index;
    if (l->released < index) {
        l->released = index;
    }
}

void raft_log_reset(struct raft_log *l, uint64_t index, uint64_t term)
{
    raft_log_truncate_from(l, l->base_index + 1);
    l->base_index = index;
    l->base_term = term;
    l->released = index;
}
