/* sim_client.h - client load on a simulated cluster: commands proposed to
 * whoever leads, linearizable reads, and what comes back acknowledged. */
#ifndef VARDE_SIM_CLIENT_H
#define VARDE_SIM_CLIENT_H

#include "sim_cluster.h"

#define SIM_CLIENT_COMMAND_MAX 2048 /* bytes in the largest command */

/* Start the load (PERIOD_MS > 0: an action every 1 to 2 x PERIOD_MS ms)
 * or stop it (0). An action proposes 1-3 commands of 8 bytes to 2 KiB to
 * a leader (or to a random node when none is seen, which refuses) and
 * sometimes asks for a read. */
void sim_client_set_load(struct sim_cluster *c, uint32_t period_ms);

/* A SIM_EV_CLIENT event is due (called by the cluster's event loop). */
void sim_client_act(struct sim_cluster *c, const struct sim_event *ev);

/* N applied E: if N proposed it in this life and its term matches, the
 * client gets its acknowledgement (c->load.acked_max moves up). */
void sim_client_applied(struct sim_cluster *c, struct sim_node *n,
                        const struct raft_entry *e);

/* N's core confirmed READ: it must cover every write acknowledged before
 * the read was asked for (property read-index). */
void sim_client_read_done(struct sim_cluster *c, struct sim_node *n,
                          const struct raft_read *read);

/* Forget what N's clients were waiting for (N crashed). */
void sim_client_forget(struct sim_node *n);

#endif
