/* raft_log.h - the core's in-memory view of the replicated log.
 *
 * Holds the entries after the last snapshot point (index/term of the last
 * entry the snapshot covers). Pure: storage drivers persist it elsewhere.
 *
 * The data of a prefix of the entries may be released (freed) while their
 * slots stay: index, term, type and len remain, data is NULL. Entries up to
 * `released` are released; the core releases them once nothing it will
 * soon send or hand out needs them (raft_replication.c), and the driver
 * reads them back from its own log when it must send them after all. */
#ifndef VARDE_RAFT_LOG_H
#define VARDE_RAFT_LOG_H

#include "raft/raft.h"

struct raft_log {
    struct raft_entry *entries; /* entries[i] has index base_index + 1 + i */
    size_t len;
    size_t cap;
    uint64_t base_index; /* last index covered by the snapshot (0: none) */
    uint64_t base_term;
    uint64_t released; /* data of entries up to here freed (>= base_index) */
};

void raft_log_init(struct raft_log *l);
void raft_log_close(struct raft_log *l);

uint64_t raft_log_last_index(const struct raft_log *l);
uint64_t raft_log_last_term(const struct raft_log *l);

/* The term of the entry at INDEX; 0 when INDEX is past the end or before
 * the snapshot point (unknown). Index base_index gives base_term. */
uint64_t raft_log_term_at(const struct raft_log *l, uint64_t index);

/* True when a log ending at (LAST_INDEX, LAST_TERM) is at least as
 * up-to-date as this one (Raft paper, 5.4.1). */
bool raft_log_is_up_to_date(const struct raft_log *l, uint64_t last_index,
                            uint64_t last_term);

/* The first index of the run of entries of term TERM that holds INDEX. */
uint64_t raft_log_term_start(const struct raft_log *l, uint64_t index);

/* The entry at INDEX, or NULL when it is compacted away or past the end. */
const struct raft_entry *raft_log_get(const struct raft_log *l, uint64_t index);

/* Append a copy of E (its data copied) as the next entry; E's index must be
 * last_index + 1. Returns 0, or -1 out of memory or on a wrong index. */
int raft_log_append(struct raft_log *l, const struct raft_entry *e);

/* Free the data of the entries after the release point up to INDEX, at
 * most MAX of them (bounded work per call); their slots stay. Returns how
 * many were released. */
size_t raft_log_release(struct raft_log *l, uint64_t index, size_t max);

/* Drop every entry from INDEX on. */
void raft_log_truncate_from(struct raft_log *l, uint64_t index);

/* Forget every entry up to INDEX (<= last_index): INDEX becomes the base. */
void raft_log_compact(struct raft_log *l, uint64_t index);

/* Drop everything and start again after (INDEX, TERM), as after a
 * snapshot that covers more than the log holds. */
void raft_log_reset(struct raft_log *l, uint64_t index, uint64_t term);

#endif
