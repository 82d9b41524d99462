/* sim_driver.h - what the simulation does around each call into a node's
 * core, as the daemon's driver would: collect raft_ready, write to the
 * disk, apply, send. Shared by the cluster's own files (sim_cluster.c,
 * sim_driver.c, sim_client.c); scenarios use sim_cluster.h. */
#ifndef VARDE_SIM_DRIVER_H
#define VARDE_SIM_DRIVER_H

#include "sim_client.h"
#include "sim_cluster.h"

/* The kinds of event in the cluster's queue. */
enum sim_ev_kind {
    SIM_EV_TICK = 1,    /* a node's timer is due: raft_tick() */
    SIM_EV_DELIVER,     /* a message arrives: raft_step() */
    SIM_EV_PERSIST,     /* a node's oldest write is durable */
    SIM_EV_RESTART,     /* a crashed node comes back */
    SIM_EV_RESUME,      /* a paused node continues */
    SIM_EV_CRASH,       /* a node crashes in the middle of a write */
    SIM_EV_CLIENT,      /* the client load acts (sim_client.c) */
    SIM_EV_UNREACHABLE, /* a request failed: raft_report_unreachable() */
    SIM_EV_STALLED,     /* an exchange waits at a paused node: it fails if
                           the node is still paused (the transport's
                           timeout) */
};

#define SIM_TRACE(c, id, ...)                                                  \
    do {                                                                       \
        if (sim_trace_on((c)->trace)) {                                        \
            sim_tracef((c)->trace, (c)->now, (c)->step, (id), __VA_ARGS__);    \
        }                                                                      \
    } while (0)

/* Queue an event at AT (see struct sim_event for the fields). */
void sim_driver_push(struct sim_cluster *c, uint64_t at, int kind, uint64_t id,
                     uint64_t tag, void *ptr);

/* NOW in node N's clock. */
uint64_t sim_driver_now(const struct sim_node *n);

/* After any call into N's core: raft_ready() and everything it asks for,
 * a snapshot when enough is applied, the checks on N's new status, and
 * N's next tick. IN is the message just stepped into the core, if any. */
void sim_driver_after_core(struct sim_cluster *c, struct sim_node *n,
                           const struct raft_msg *in);

/* N's oldest write is durable: apply it to N's disk, send the messages
 * that waited on it, tell the core about the entries. */
void sim_driver_persist(struct sim_cluster *c, struct sim_node *n);

/* Make HS durable for N (after the checks). */
void sim_driver_make_durable(struct sim_cluster *c, struct sim_node *n,
                             const struct raft_hard_state *hs);

/* Apply the durable part of batch B to N's disk (a crash may leave a torn
 * write: HS_TOO false keeps the old hard state, N_ENTRIES limits what of
 * the entries is written). */
void sim_driver_apply_write(struct sim_cluster *c, struct sim_node *n,
                            const struct sim_batch *b, bool hs_too,
                            size_t n_entries);

/* M was dropped (DOWN: its receiver was down): the node that made the
 * request (M's sender, or its receiver when M is a reply) learns, as the
 * daemon's transport does, that the exchange failed: at once when the
 * peer refused the connection, after the transport's timeout
 * (election_min_ms) otherwise. */
void sim_driver_exchange_failed(struct sim_cluster *c, const struct raft_msg *m,
                                bool down);

/* M waits at paused node N: if N is still paused after the transport's
 * timeout, the exchange fails for the node that made the request. */
void sim_driver_exchange_stalled(struct sim_cluster *c, struct sim_node *n,
                                 const struct raft_msg *m);

/* A SIM_EV_STALLED event is due (N: the paused node). */
void sim_driver_stall_expired(struct sim_cluster *c, struct sim_node *n,
                              const struct sim_event *ev);

/* Schedule N's next tick from raft_next_deadline(). */
void sim_driver_schedule_tick(struct sim_cluster *c, struct sim_node *n);

/* Record the failure found by the checks (c->check) and stop. */
void sim_driver_fail_check(struct sim_cluster *c);

#endif
