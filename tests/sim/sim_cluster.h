/* sim_cluster.h - a whole Raft cluster in one process: struct raft nodes
 * driven by a virtual clock, a simulated network and simulated disks, with
 * the safety checks of sim_check.h run after every step. */
#ifndef VARDE_SIM_CLUSTER_H
#define VARDE_SIM_CLUSTER_H

#include "raft/raft.h"
#include "sim_check.h"
#include "sim_disk.h"
#include "sim_log.h"
#include "sim_net.h"
#include "sim_queue.h"
#include "sim_rand.h"
#include "sim_trace.h"
#include "sim_util.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How long a write takes: uniform in [min, max], or with tail_permille up
 * to tail_max (a slow fsync). */
struct sim_disk_params {
    uint32_t delay_min_ms;
    uint32_t delay_max_ms;
    uint32_t tail_permille;
    uint32_t tail_max_ms;
    uint32_t read_fail_permille; /* a read back of released entries fails */
};

struct sim_cluster;

struct sim_node {
    uint64_t id;
    struct sim_cluster *cluster;
    struct raft *r; /* NULL while down */
    bool up;
    bool paused;   /* SIGSTOP: no ticks, no messages, no sends */
    uint64_t life; /* bumped at each crash: stale events carry the old one */
    uint64_t pause_gen;
    uint64_t clock_offset; /* this life's monotonic origin */
    uint64_t crash_armed;  /* crash inside the next write, restart this many
                              ms later (0: not armed) */

    /* What the disk holds: survives a crash. */
    struct raft_hard_state durable;
    struct sim_snap dsnap; /* the durable snapshot */
    /* The log, which like the daemon's WAL may reach back before the
     * snapshot (c->disk_keep entries): its base is at or before dsnap. */
    struct sim_log dlog;
    struct sim_disk disk;

    /* What the running process holds: rebuilt at a restart. */
    struct sim_log mirror;    /* the core's log, as raft_ready handed it out */
    struct sim_snap sm;       /* the state machine: applied up to sm.index */
    struct sim_snap snap;     /* the newest snapshot this node can send */
    struct sim_snap incoming; /* received, waiting for the core's verdict */
    struct sim_map proposed;  /* index -> term of this life's proposals */
    struct sim_event *held;   /* events that arrived while paused */
    size_t n_held;
    size_t cap_held;
    bool tick_pending;
    uint64_t tick_gen;
    uint64_t tick_deadline; /* in the node's clock */
    struct raft_status st;  /* as of the last step that touched the node */
    /* When this node last got an AppendEntries (or a reply to one) from
     * each peer, and in which term: contact the core cannot fake. */
    uint64_t heard_at[RAFT_MAX_NODES + 1];
    uint64_t heard_term[RAFT_MAX_NODES + 1];
};

struct sim_cluster_stats {
    uint64_t sent;
    uint64_t delivered;
    uint64_t lost; /* random loss */
    uint64_t cut;  /* dropped by a cut link */
    uint64_t duplicated;
    uint64_t to_down; /* arrived at a crashed node */
    uint64_t crashes;
    uint64_t lost_writes; /* writes under way at a crash, not durable */
    uint64_t torn_writes; /* ... of which partly durable */
    uint64_t pauses;
    uint64_t max_term;
    uint64_t proposed;    /* accepted by a leader */
    uint64_t acked;       /* came back committed to their proposer */
    uint64_t applied;     /* entries applied, summed over nodes */
    uint64_t snapshots;   /* taken by a node (raft_compact) */
    uint64_t installs;    /* received from a leader and installed */
    uint64_t reads;       /* linearizable reads confirmed */
    uint64_t read_back;   /* released entries read back from disk to send */
    uint64_t read_lost;   /* ... not sent: gone from disk (a snapshot then) */
    uint64_t read_faults; /* ... not sent: the read failed (injected) */
    uint64_t release_checks; /* calm phases that checked bodies released */
};

/* Client load (sim_client.c). */
struct sim_load {
    uint32_t period_ms;        /* mean gap between client actions; 0: none */
    uint64_t gen;              /* bumped when the load changes */
    uint64_t serial;           /* commands proposed so far */
    uint64_t acked_max;        /* highest index acknowledged to a client */
    uint64_t reads;            /* read contexts handed out */
    struct sim_map read_floor; /* ctx -> acked_max + 1 when it was asked */
};

struct sim_cluster {
    size_t n;
    struct sim_node nodes[RAFT_MAX_NODES + 1]; /* by id, 1..n */
    struct raft_config base;                   /* id and seed set per node */
    struct sim_rand *rng;
    struct sim_trace *trace;
    struct sim_queue q;
    struct sim_net net;
    struct sim_disk_params disk;
    struct sim_check check;
    struct sim_load load;
    uint32_t snap_every; /* a node snapshots after this many applied */
    uint32_t snap_keep;  /* entries raft_compact keeps behind a snapshot */
    uint32_t disk_keep;  /* entries the durable log keeps behind one */
    uint64_t now;        /* virtual ms */
    uint64_t step;       /* events handled so far */
    uint64_t max_steps;  /* stop after this many (0: no limit) */
    uint64_t first_leader;
    bool stopped; /* failed, or max_steps reached */
    bool failed;
    char fail_prop[32];
    char fail_msg[320];
    struct sim_cluster_stats stats;
};

/* A cluster of BASE->n_nodes nodes (ids 1..n, all down) whose nodes use
 * BASE with their own id and a seed drawn from RNG. RNG and TRACE are
 * borrowed and must outlive the cluster. */
void sim_cluster_init(struct sim_cluster *c, const struct raft_config *base,
                      struct sim_rand *rng, struct sim_trace *trace,
                      uint64_t max_steps);

/* Free every node, queued event and message. */
void sim_cluster_close(struct sim_cluster *c);

/* Start node ID (no-op when up): raft_new() with its durable hard state,
 * raft_restore_log() with its durable snapshot and log, a fresh seed and a
 * fresh clock origin. */
void sim_cluster_start(struct sim_cluster *c, uint64_t id);

/* Crash node ID (no-op when down): raft_free(); of the writes under way a
 * random prefix reaches the disk, the next may be torn (its hard state
 * and a prefix of its entries durable), the rest is lost, and every
 * message waiting on a write or held during a pause is lost. */
void sim_cluster_crash(struct sim_cluster *c, uint64_t id);

/* Crash node ID while its next write is under way (at a random moment
 * before it is durable, or just as it completes), then restart it
 * RESTART_MS later. RESTART_MS 0 disarms: no crash is pending any more. */
void sim_cluster_crash_in_write(struct sim_cluster *c, uint64_t id,
                                uint64_t restart_ms);

/* Schedule a restart of node ID at time AT (dropped if the node is up by
 * then, or crashed again). */
void sim_cluster_restart_at(struct sim_cluster *c, uint64_t id, uint64_t at);

/* Pause node ID (SIGSTOP) until sim_cluster_resume(), or until AT if AT is
 * not 0. */
void sim_cluster_pause(struct sim_cluster *c, uint64_t id, uint64_t at);

/* Resume node ID: what arrived meanwhile is handled now, in order, and its
 * timers fire late, as after SIGCONT. */
void sim_cluster_resume(struct sim_cluster *c, uint64_t id);

/* raft_transfer() on node ID (up and not paused) towards TO. Returns its
 * result, or -2 when the node cannot be called. */
int sim_cluster_transfer(struct sim_cluster *c, uint64_t id, uint64_t to);

typedef bool (*sim_pred_fn)(struct sim_cluster *c, void *arg);

/* Handle events in order until PRED (if not NULL) holds, checked before
 * every event, or the next event is later than UNTIL (then the clock moves
 * to UNTIL), or the cluster stops. Returns true when PRED holds. */
bool sim_cluster_run(struct sim_cluster *c, uint64_t until, sim_pred_fn pred,
                     void *arg);

/* The leader every running node agrees on, as of now: one node leads,
 * every node up and not paused reports it as leader in the same term, they
 * are a majority, and since time SINCE each of them got an AppendEntries of
 * that term from the leader and the leader got an answer from each (so no
 * status is a leftover from before a partition healed). Returns its id and
 * sets *TERM, or returns 0. */
uint64_t sim_cluster_agreed_leader(const struct sim_cluster *c, uint64_t since,
                                   uint64_t *term);

/* True when no leadership transfer can still move the leader: no running
 * node has a transfer target and no TimeoutNow is queued, in flight, or
 * waiting at a paused node. */
bool sim_cluster_no_transfer(const struct sim_cluster *c);

/* Log matching over every pair of running nodes (sim_check.h). Fails the
 * cluster and returns -1 on a violation. */
int sim_cluster_check_logs(struct sim_cluster *c);

/* Record the first failure (later ones are ignored) and stop. */
void sim_cluster_fail(struct sim_cluster *c, const char *prop, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));

/* A line in the trace from the scenario (node 0) or about node ID. */
void sim_cluster_note(struct sim_cluster *c, uint64_t id, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
