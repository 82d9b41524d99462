/* sim_check.h - the Raft safety properties, checked against the whole
 * history of a simulated cluster after every step.
 *
 *   election-safety      at most one leader per term, ever
 *   leader-quorum        a new leader holds durable votes from a majority
 *   term-monotonic       a node's term never decreases, in memory within a
 *                        life and on disk across restarts
 *   vote-once            a node votes for at most one candidate per term,
 *                        across restarts (from what reached its disk)
 *   vote-up-to-date      a vote (or pre-vote) goes only to a candidate
 *                        whose log is at least as up-to-date as the voter's
 *   persist-before-send  a message leaves only when the term it carries,
 *                        and the vote it grants, are durable
 *   restore              a restarted node comes back with its durable state
 *   apply-order          a node applies indexes one by one, each once
 *   state-machine-safety every node applies the same entry at an index, so
 *                        every state machine passes through the same states
 *                        (snapshots installed included)
 *   leader-completeness  a new leader of term T holds every entry
 *                        committed in a term before T (the newest 256)
 *   commit-safety        no two leaders commit different entries at an
 *                        index
 *   log-matching         two logs with an entry of the same index and term
 *                        are identical up to it (the 256 entries before)
 *
 * Each check returns 0, or -1 with the property's name and a sentence in
 * the struct (prop, msg). */
#ifndef VARDE_SIM_CHECK_H
#define VARDE_SIM_CHECK_H

#include "raft/raft.h"
#include "sim_log.h"
#include "sim_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Terms above this mean something ran away; the check says so. */
#define SIM_CHECK_MAX_TERM (1u << 20)

struct sim_check_node {
    bool alive;              /* a life is under way: LAST is meaningful */
    struct raft_status last; /* last status seen in this life */
    uint64_t durable_term;   /* across lives */
    uint64_t durable_vote;
    struct sim_map vote; /* term -> the vote that reached the disk */
};

struct sim_check {
    size_t n_nodes;
    struct sim_map leader;      /* term -> the node seen leading it */
    struct sim_map entry;       /* index -> hash of the entry committed there */
    struct sim_map state;       /* index -> state machine digest after it */
    struct sim_map commit_term; /* index -> term of the leader that first
                                   counted it committed */
    uint64_t commit_known;      /* highest index known committed */
    uint64_t applied_max;       /* highest index applied anywhere */
    struct sim_check_node nodes[RAFT_MAX_NODES + 1];
    char prop[32];
    char msg[256];
};

void sim_check_init(struct sim_check *c, size_t n_nodes);
void sim_check_close(struct sim_check *c);

/* A node's status after a step: term and commit never go back within a
 * life, the term never drops below the durable one, a leader names itself
 * as leader, is the only leader of its term, and was elected by a majority
 * of durable votes. */
int sim_check_observe(struct sim_check *c, const struct raft_status *st);

/* Node ID crashed: its next status starts a new life. */
void sim_check_crash(struct sim_check *c, uint64_t id);

/* Node ID restarted from HS: its status must show that term and vote. */
int sim_check_restart(struct sim_check *c, uint64_t id,
                      const struct raft_hard_state *hs,
                      const struct raft_status *st);

/* HS reached node ID's disk: the durable term never decreases, and a vote
 * once durable in a term is never replaced (nor cleared) in that term. */
int sim_check_persist(struct sim_check *c, uint64_t id,
                      const struct raft_hard_state *hs);

/* M is about to leave node ID: unless it is a pre-vote or its reply, its
 * term is durable; a vote request carries a durable self-vote; a granted
 * vote is durable. */
int sim_check_release(struct sim_check *c, uint64_t id,
                      const struct raft_msg *m);

/* Node VOTER, whose log was (BEFORE's last_log_index/term) before it
 * handled REQ (NULL if the step was not a delivered message), produced
 * OUT. If OUT grants a vote, REQ must be that vote request and the
 * candidate's log at least as up-to-date as the voter's. */
int sim_check_grant(struct sim_check *c, const struct raft_status *before,
                    const struct raft_msg *req, const struct raft_msg *out);

/* Node ID, whose state machine is at SM, applies E: E must be the next
 * index, and the entry (and the state after it) the one every other node
 * applied there. Advances SM. */
int sim_check_apply(struct sim_check *c, uint64_t id, struct sim_snap *sm,
                    const struct raft_entry *e);

/* Node ID loads snapshot S: its state must be the one the nodes that
 * applied up to S's index reached. */
int sim_check_install(struct sim_check *c, uint64_t id,
                      const struct sim_snap *s);

/* Leader ID of TERM, with log LOG (the core's, as mirrored by the
 * driver), moved its commit index from FROM to TO: those entries are
 * committed, the same as any leader committed there before. */
int sim_check_commit(struct sim_check *c, uint64_t id, uint64_t term,
                     uint64_t from, uint64_t to, const struct sim_log *log);

/* Node ID just became leader of TERM with log LOG: every entry committed
 * in an earlier term is in it. */
int sim_check_leader_log(struct sim_check *c, uint64_t id, uint64_t term,
                         const struct sim_log *log);

/* The logs of nodes A and B (mirrors of the cores') match: where both hold
 * an entry of the same term, they hold the same entries up to there. */
int sim_check_log_matching(struct sim_check *c, uint64_t a,
                           const struct sim_log *la, uint64_t b,
                           const struct sim_log *lb);

/* The node that led TERM, or 0. */
uint64_t sim_check_leader_of(const struct sim_check *c, uint64_t term);

#endif
