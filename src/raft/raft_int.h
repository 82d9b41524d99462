/* raft_int.h - the core's private state, shared by the files of src/raft/.
 * Nothing outside src/raft/ includes this. */
#ifndef VARDE_RAFT_INT_H
#define VARDE_RAFT_INT_H

#include "raft/raft.h"
#include "raft/raft_log.h"

#define RAFT_MAX_INFLIGHT 64
/* Entry bodies freed per call into the core, at most: bounded work. */
#define RAFT_RELEASE_MAX 1024

/* What the leader knows of one peer. */
struct raft_peer {
    uint64_t id;
    uint64_t next_index;  /* next entry to send */
    uint64_t match_index; /* highest entry known to be on the peer */
    uint64_t last_heard;  /* time of its last reply in this term */
    /* Streaming: the last index of each batch in flight, oldest first. */
    uint64_t infl[RAFT_MAX_INFLIGHT];
    uint32_t infl_start;
    uint32_t infl_count;
    bool probing;      /* match point unknown: one request at a time */
    bool probe_sent;   /* probing: a request with entries awaits its answer */
    bool snapshotting; /* a snapshot is on its way to it */
    uint64_t snapshot_at; /* when it was asked for */
    uint64_t acked_seq;   /* highest read-index round it answered */
    bool reading_back;    /* it is sent entries whose bodies were released */
};

/* A follower's success reply held back until its entries are durable. */
struct raft_pending_ack {
    uint64_t to;
    uint64_t rpc_id;
    uint64_t term;       /* our term when the request came */
    uint64_t match;      /* index the reply will acknowledge */
    uint64_t match_term; /* term of that entry, to see it was not replaced */
    uint64_t seq;
};

#define RAFT_MAX_PENDING_ACKS 64
#define RAFT_MAX_READS 4096

struct raft_read_wait {
    uint64_t ctx;
    uint64_t index;
    uint64_t seq; /* the heartbeat round that must reach a majority */
};

struct raft {
    struct raft_config cfg;
    size_t quorum; /* n_nodes / 2 + 1 */

    /* Hard state: persisted before any message that depends on it. */
    uint64_t term;
    uint64_t vote;
    bool hard_state_dirty;

    enum raft_role role;
    uint64_t leader; /* 0: unknown */
    uint64_t leader_changes;
    struct raft_log log;
    uint64_t commit_index;
    uint64_t applied_index; /* handed to the driver to apply */
    uint64_t durable_index; /* the driver says: durable up to here */
    uint64_t unstable_from; /* first index not yet handed out to write */
    uint64_t snap_index;    /* the latest snapshot the driver holds */
    uint64_t snap_term;
    /* Released entries up to here are gone from the driver's log too
     * (raft_report_lost): a follower that needs one gets a snapshot. */
    uint64_t lost_to;
    uint64_t lost_traced;    /* lost_to when "waits for a snapshot" was said */
    bool snapshot_installed; /* follower: to report in the next ready */

    struct raft_pending_ack acks[RAFT_MAX_PENDING_ACKS];
    size_t n_acks;

    uint64_t read_seq; /* leader: heartbeat rounds started for reads */
    bool read_round_wanted;
    struct raft_read_wait *reads_waiting;
    size_t n_reads_waiting;
    struct raft_read *reads_ready;
    size_t n_reads_ready;
    bool reads_handed;

    uint64_t now;
    uint64_t election_deadline;  /* follower, precandidate, candidate */
    uint64_t heartbeat_deadline; /* leader */
    uint64_t leader_contact;     /* follower: last valid append received */

    uint32_t votes_granted; /* bit per position in cfg.ids */
    uint32_t votes_rejected;

    uint64_t transfer_target; /* leader: 0 when none */
    uint64_t transfer_deadline;

    struct raft_peer peers[RAFT_MAX_NODES]; /* aligned with cfg.ids */

    uint64_t rng; /* splitmix64 state, from cfg.seed */

    struct raft_msg *out; /* messages produced since the last ready */
    size_t n_out;
    size_t cap_out;
    bool out_handed; /* out was returned by raft_ready: clear on next call */

    /* Repeated decisions are traced once (a cut-off node retries forever). */
    uint64_t quiet_from;
    uint64_t quiet_term;
    uint64_t quiet_prevote_term;

    raft_trace_cb trace_cb;
    void *trace_arg;
};

/* raft.c */
void raft_trace(struct raft *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int raft_peer_pos(const struct raft *r, uint64_t id);
struct raft_msg *raft_send(struct raft *r, enum raft_msg_type type,
                           uint64_t to);
void raft_set_term(struct raft *r, uint64_t term);
void raft_become_follower(struct raft *r, uint64_t term, uint64_t leader);
void raft_become_precandidate(struct raft *r);
void raft_become_candidate(struct raft *r);
void raft_become_leader(struct raft *r);
/* Start of every public entry point: clear handed-out output, move time. */
void raft_begin_call(struct raft *r, uint64_t now);
void raft_reset_election_timer(struct raft *r);
bool raft_in_lease(const struct raft *r);

/* raft_election.c */
void raft_start_election(struct raft *r, bool prevote, bool transfer);
void raft_on_vote(struct raft *r, const struct raft_msg *m);
void raft_on_vote_result(struct raft *r, const struct raft_msg *m);
void raft_on_timeout_now(struct raft *r, const struct raft_msg *m);
void raft_transfer_check(struct raft *r, uint64_t peer);

/* raft_replication.c */
void raft_broadcast_append(struct raft *r);
void raft_replicate(struct raft *r);
void raft_peer_reset(struct raft *r, struct raft_peer *p);
void raft_start_read_round(struct raft *r);
void raft_maybe_commit(struct raft *r);
void raft_flush_acks(struct raft *r);
void raft_confirm_reads(struct raft *r);
void raft_on_append(struct raft *r, const struct raft_msg *m);
void raft_on_append_result(struct raft *r, const struct raft_msg *m);
uint64_t raft_quorum_contact(const struct raft *r);
void raft_on_snapshot(struct raft *r, const struct raft_msg *m);
void raft_on_snapshot_result(struct raft *r, const struct raft_msg *m);
/* Free the bodies nothing needs soon (bounded; raft.h, "Entry bodies"). */
void raft_release_bodies(struct raft *r);

#endif
