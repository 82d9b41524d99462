/* sim_disk.h - a node's simulated disk: a FIFO of writes (hard state, log
 * entries, an installed snapshot), each durable after its own delay, and
 * the messages that must not leave before a write is durable. */
#ifndef VARDE_SIM_DISK_H
#define VARDE_SIM_DISK_H

#include "raft/raft.h"
#include "sim_log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One write, and the messages waiting for it. */
struct sim_batch {
    bool has_hs;
    struct raft_hard_state hs;
    struct sim_log entries; /* to append (cutting the log where they start) */
    bool install;           /* replace the log by snapshot SNAP */
    struct sim_snap snap;
    uint64_t done_at;       /* virtual ms when the write is durable */
    struct raft_msg **msgs; /* owned; sent in this order once durable */
    size_t n_msgs;
    size_t cap_msgs;
    struct sim_batch *next;
};

struct sim_disk {
    struct sim_batch *head; /* the oldest write still under way */
    struct sim_batch *tail;
    struct sim_batch *barrier; /* the newest write messages wait for */
    size_t pending;
    uint64_t sync_end; /* when the fsync under way ends */
    uint64_t next_end; /* when the one queued behind it ends (0: none) */
};

void sim_disk_init(struct sim_disk *d);

/* Queue a write at NOW: HS if not NULL, the N entries E (copied), the
 * snapshot INSTALL if not NULL. Group commit: the disk runs one fsync at a
 * time; a write joins the next fsync to start, which takes DELAY ms (the
 * DELAY of a write that joins an fsync already queued is unused). Writes
 * become durable in order. A write of a hard state or a snapshot holds
 * back the messages handed to sim_disk_hold() after it. Returns when it
 * will be durable. */
uint64_t sim_disk_write(struct sim_disk *d, const struct raft_hard_state *hs,
                        const struct raft_entry *e, size_t n,
                        const struct sim_snap *install, uint64_t now,
                        uint64_t delay);

/* True while a hard-state or snapshot write is under way: messages must
 * wait behind it. */
bool sim_disk_busy(const struct sim_disk *d);

/* Hand M (owned from now on) to the newest such write: it leaves when that
 * write is durable. Precondition: sim_disk_busy(). */
void sim_disk_hold(struct sim_disk *d, struct raft_msg *m);

/* The oldest write is durable: unlink its batch and return it; the caller
 * applies it, sends its messages and frees it with sim_batch_free(). NULL
 * when idle. */
struct sim_batch *sim_disk_complete(struct sim_disk *d);

/* Free B, its entries and any message still in it. */
void sim_batch_free(struct sim_batch *b);

/* The node crashed: every write still under way is lost, with its
 * messages. Returns how many messages were dropped. */
size_t sim_disk_drop(struct sim_disk *d);

#endif
