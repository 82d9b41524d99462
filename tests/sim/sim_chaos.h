/* sim_chaos.h - faults drawn from the seed: crashes, pauses, partitions,
 * bad network and disk weather, leadership transfers at random moments;
 * and the calm that ends them. */
#ifndef VARDE_SIM_CHAOS_H
#define VARDE_SIM_CHAOS_H

#include "sim_cluster.h"

#include <stdint.h>

enum sim_fault {
    SIM_FAULT_CRASH = 0,      /* a random node, restarted 20-3000 ms later */
    SIM_FAULT_CRASH_LEADER,   /* the same, aimed at a leader */
    SIM_FAULT_CRASH_WRITE,    /* the same, inside the node's next write */
    SIM_FAULT_PAUSE,          /* SIGSTOP for 20-2000 ms */
    SIM_FAULT_SPLIT,          /* symmetric partition into two groups */
    SIM_FAULT_ASYM,           /* 1-3 links cut in one direction only */
    SIM_FAULT_ISOLATE,        /* one node cut off both ways */
    SIM_FAULT_ISOLATE_LEADER, /* the same, aimed at a leader: it leads on
                                 alone until check-quorum, a window for
                                 stale reads */
    SIM_FAULT_HEAL,           /* every link back */
    SIM_FAULT_NET,            /* new delays, tails, loss, duplication */
    SIM_FAULT_DISK,           /* new write delays */
    SIM_FAULT_TRANSFER,       /* raft_transfer on a random node */
    SIM_FAULT_KINDS,
};

const char *sim_fault_name(enum sim_fault f);

/* Run DURATION ms of chaos: a fault every 10-400 ms, drawn from the
 * cluster's generator, with the network and disk weather redrawn first.
 * Adds the faults injected to COUNTS. Stops early if the cluster stops. */
void sim_chaos_run(struct sim_cluster *c, uint64_t duration,
                   uint64_t counts[SIM_FAULT_KINDS]);

/* End every fault now: heal all links, a clean network (DELAY_MAX_MS at
 * most, no loss, no duplicates, no tails), fast disks, every crashed node
 * started and every paused node resumed. */
void sim_chaos_calm(struct sim_cluster *c, uint32_t delay_max_ms);

#endif
