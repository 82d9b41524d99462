/* sim_log.h - a simulated Raft log: entries after a snapshot point, as a
 * node's disk holds them, or as the driver mirrors the core's own log. */
#ifndef VARDE_SIM_LOG_H
#define VARDE_SIM_LOG_H

#include "raft/raft.h"

#include <stddef.h>
#include <stdint.h>

/* A snapshot: the state machine after applying every entry up to INDEX
 * (whose term is TERM), summed up as DIGEST (see sim_log_chain). */
struct sim_snap {
    uint64_t index;
    uint64_t term;
    uint64_t digest;
};

struct sim_log {
    struct sim_snap base;       /* what precedes the entries */
    struct raft_entry *entries; /* entries[i] has index base.index + 1 + i;
                                   each entry's data is owned */
    size_t n;
    size_t cap;
};

/* An empty log after BASE (zeros: the beginning). */
void sim_log_init(struct sim_log *l, const struct sim_snap *base);
void sim_log_free(struct sim_log *l);

/* Copy SRC (entries and data) into DST, which must be free or fresh. */
void sim_log_copy(struct sim_log *dst, const struct sim_log *src);

uint64_t sim_log_last_index(const struct sim_log *l);
uint64_t sim_log_last_term(const struct sim_log *l);

/* The entry at INDEX, or NULL when it is at or before the base or past the
 * end. */
const struct raft_entry *sim_log_get(const struct sim_log *l, uint64_t index);

/* Write N entries (copied) the way raft_ready hands them out: the log is
 * first cut from the first one's index when that is not past its end.
 * Entries that would leave a gap (or fall at or before the base) are
 * refused: returns -1 and writes nothing. */
int sim_log_write(struct sim_log *l, const struct raft_entry *e, size_t n);

/* Drop every entry up to SNAP's index, which becomes the base. */
void sim_log_compact(struct sim_log *l, const struct sim_snap *snap);

/* The digest of the state machine after applying E to one at DIGEST. */
uint64_t sim_log_chain(uint64_t digest, const struct raft_entry *e);

/* A 64-bit digest of an entry's content (term, type and data). */
uint64_t sim_log_entry_hash(const struct raft_entry *e);

#endif
