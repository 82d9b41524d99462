/* raft_log.c - the core's in-memory log: index arithmetic and the
 * up-to-date rule. */
#include "raft/raft_log.h"

#include <stdlib.h>

void raft_log_init(struct raft_log *l)
{
    l->entries = NULL;
    l->len = 0;
    l->cap = 0;
    l->base_index = 0;
    l->base_term = 0;
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
