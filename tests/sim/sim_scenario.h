/* sim_scenario.h - what one seed runs: a fresh start, then rounds of chaos
 * and calm, with the liveness, stickiness and transfer checks of each calm
 * phase; and the statistics summed over seeds. */
#ifndef VARDE_SIM_SCENARIO_H
#define VARDE_SIM_SCENARIO_H

#include "sim_chaos.h"
#include "sim_trace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds, in multiples of the seed's election_max_ms. */
#define SIM_LIVENESS_TIMEOUTS 10 /* calm start -> a leader all agree on */
#define SIM_STABLE_TIMEOUTS 5    /* then no election, no term change */
#define SIM_TRANSFER_TIMEOUTS 2  /* raft_transfer -> a new agreed leader */
/* Catching up: a calm round trip (two 20 ms hops and two group commits)
 * carries at least one append batch per slot in flight. */
#define SIM_CALM_RTT_MS 60

struct sim_stats {
    uint64_t seeds;
    uint64_t passed;
    uint64_t failed;
    uint64_t steps;
    uint64_t nodes3;
    uint64_t nodes5;
    uint64_t no_prevote;
    uint64_t no_check_quorum;

    uint64_t boot;        /* fresh starts checked */
    uint64_t boot_node1;  /* ... all up: node 1 first */
    uint64_t boot_down1;  /* ... node 1 down: node 2 first */
    uint64_t boot_max_ms; /* start -> first agreed leader */

    uint64_t chaos_phases;
    uint64_t chaos_ms;
    uint64_t faults[SIM_FAULT_KINDS];
    struct sim_cluster_stats net; /* summed */

    uint64_t calm;
    uint64_t calm_degraded; /* ... with a minority kept down */
    uint64_t calm_sum_ms;   /* calm start -> agreed leader */
    uint64_t calm_max_ms;
    uint64_t calm_max_timeouts_x10; /* the same in election_max_ms / 10 */

    uint64_t sticky;        /* cut-off followers healed without a change */
    uint64_t sticky_oneway; /* ... of which could send but not hear */

    uint64_t transfers;
    uint64_t transfer_target; /* the named target (or any, for 0) won */
    uint64_t transfer_sum_ms;
    uint64_t transfer_max_ms;
};

struct sim_seed_opts {
    uint64_t seed;
    size_t n_nodes;     /* 3 or 5 */
    uint64_t max_steps; /* 0: the whole run */
    uint32_t rounds;    /* chaos + calm rounds after the fresh start */
};

struct sim_outcome {
    bool failed;
    char prop[32];
    char msg[320];
    uint64_t step; /* of the failure, or the steps run */
    uint64_t time; /* virtual ms */
};

/* Run one seed, tracing into TRACE (which may be off), adding to STATS.
 * OUT says whether a property failed, which, and when. */
void sim_scenario_run(const struct sim_seed_opts *o, struct sim_trace *trace,
                      struct sim_stats *stats, struct sim_outcome *out);

#endif
