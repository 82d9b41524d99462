/* sim_net.h - the simulated network: per-link cuts (symmetric and
 * asymmetric partitions), and a seeded fate for every message: lost,
 * delivered once after a delay, duplicated, or overtaking the messages
 * sent before it on its link. */
#ifndef VARDE_SIM_NET_H
#define VARDE_SIM_NET_H

#include "raft/raft.h"
#include "sim_rand.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How messages fare on links that are up. Delays are drawn uniformly from
 * [delay_min_ms, delay_max_ms]; with tail_permille a message is instead
 * late by up to tail_max_ms (a retransmission, a stalled connection). A
 * link delivers in order, as the daemon's one connection per peer does
 * (a late message holds up those behind it), except that with
 * reorder_permille a message skips the queue (a reconnect, a retry). */
struct sim_net_params {
    uint32_t delay_min_ms; /* >= 1: nothing arrives in the instant it left */
    uint32_t delay_max_ms;
    uint32_t tail_permille;
    uint32_t tail_max_ms;
    uint32_t loss_permille;
    uint32_t dup_permille;
    uint32_t reorder_permille;
};

struct sim_net {
    size_t n; /* nodes are 1..n */
    /* cut[a][b]: what a sends to b is lost. */
    bool cut[RAFT_MAX_NODES + 1][RAFT_MAX_NODES + 1];
    /* last[a][b]: when the latest in-order message from a reaches b. */
    uint64_t last[RAFT_MAX_NODES + 1][RAFT_MAX_NODES + 1];
    /* epoch[a][b]: the connection a -> b; a cut or a crash breaks it, and
     * what was in flight on a broken connection never arrives. */
    uint64_t epoch[RAFT_MAX_NODES + 1][RAFT_MAX_NODES + 1];
    struct sim_net_params p;
};

/* A network of N nodes, every link up, with parameters P. */
void sim_net_init(struct sim_net *net, size_t n,
                  const struct sim_net_params *p);

void sim_net_set_params(struct sim_net *net, const struct sim_net_params *p);

/* Bring every link back up (on fresh connections: nothing queued holds up
 * what is sent next). */
void sim_net_heal(struct sim_net *net);

/* NODE restarted: its connections are new, in both directions. */
void sim_net_reconnect(struct sim_net *net, uint64_t node);

/* Cut the one direction FROM -> TO (its connection breaks). */
void sim_net_cut(struct sim_net *net, uint64_t from, uint64_t to);

/* Cut every link into and out of NODE. */
void sim_net_isolate(struct sim_net *net, uint64_t node);

/* A symmetric partition: nodes whose bit (1 << (id - 1)) is set in GROUP
 * talk among themselves, the rest among themselves, nobody across. Links
 * already cut stay cut. */
void sim_net_split(struct sim_net *net, unsigned group);

bool sim_net_link_up(const struct sim_net *net, uint64_t from, uint64_t to);

/* The connection FROM -> TO now; a message sent on it arrives only if the
 * connection is the same then. */
uint64_t sim_net_epoch(const struct sim_net *net, uint64_t from, uint64_t to);

/* Decide what happens to one message FROM -> TO sent at NOW: returns how
 * many copies arrive (0, 1 or 2) and fills AT[0..copies-1] with their
 * arrival times. When it returns 0, *CUT tells a cut link from a random
 * loss. */
size_t sim_net_route(struct sim_net *net, struct sim_rand *rng, uint64_t from,
                     uint64_t to, uint64_t now, uint64_t at[2], bool *cut);

/* The cut links as text, e.g. "1->2 1->3 3->1", or "none". */
const char *sim_net_describe(const struct sim_net *net, char *buf, size_t len);

#endif
