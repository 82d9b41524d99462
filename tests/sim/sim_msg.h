/* sim_msg.h - owned copies of Raft messages in flight, and their one-line
 * description for traces. */
#ifndef VARDE_SIM_MSG_H
#define VARDE_SIM_MSG_H

#include "raft/raft.h"
#include "sim_log.h"

#include <stddef.h>

/* A deep copy of M (its entries and their data included) in one block,
 * with room for what the driver sends alongside it (sim_msg_snap): the
 * caller owns it and frees it with free(). Never fails (exits on out of
 * memory). */
struct raft_msg *sim_msg_copy(const struct raft_msg *m);

/* The snapshot that travels with a RAFT_MSG_SNAPSHOT copy (the core only
 * names it; the drivers carry its content). M must come from
 * sim_msg_copy(). */
struct sim_snap *sim_msg_snap(struct raft_msg *m);

/* The connection a copy travels on (sim_net_epoch). M must come from
 * sim_msg_copy(). */
uint64_t *sim_msg_epoch(struct raft_msg *m);

/* Describe M in BUF, e.g. "vote(pre) 1->2 t4 log 3/2". Returns BUF. */
const char *sim_msg_describe(const struct raft_msg *m, char *buf, size_t len);

/* True for the pre-vote request and its reply: the only messages that may
 * carry a term the sender has not made durable. */
bool sim_msg_is_prevote(const struct raft_msg *m);

#endif
