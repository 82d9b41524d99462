/* sim_client.c - client load: commands and reads sent to whoever leads.
 *
 * A command is 8 to 2048 bytes: its serial number, then seeded random
 * bytes. Its proposer remembers (index, term); when the proposer applies
 * that entry, the client has its acknowledgement, and acked_max records
 * the highest index ever acknowledged. A read remembers acked_max when it
 * was asked for: the index the leader confirms must not be below it,
 * or the read could miss a write that finished before it started. */
#include "sim_client.h"

#include "sim_driver.h"

#include <inttypes.h>
#include <string.h>

void sim_client_set_load(struct sim_cluster *c, uint32_t period_ms)
{
    c->load.period_ms = period_ms;
    c->load.gen++;
    if (period_ms > 0) {
        sim_driver_push(c, c->now + period_ms, SIM_EV_CLIENT, 0, c->load.gen,
                        NULL);
    }
}

/* A running node that believes it leads (any of them when a deposed
 * leader has not noticed yet: its reads are the dangerous ones), else a
 * random node. */
static struct sim_node *pick_target(struct sim_cluster *c)
{
    struct sim_node *leaders[RAFT_MAX_NODES];
    size_t n = 0;

    for (uint64_t id = 1; id <= c->n; id++) {
        struct sim_node *node = &c->nodes[id];

        if (node->up && !node->paused && node->st.role == RAFT_LEADER) {
            leaders[n++] = node;
        }
    }
    if (n > 0) {
        return leaders[sim_rand_range(c->rng, 0, n - 1)];
    }
    return &c->nodes[sim_rand_range(c->rng, 1, c->n)];
}

static void propose(struct sim_cluster *c, struct sim_node *n)
{
    uint8_t cmd[SIM_CLIENT_COMMAND_MAX];
    uint32_t len =
        (uint32_t)(sim_rand_chance(c->rng, 50)
                       ? sim_rand_range(c->rng, 64, SIM_CLIENT_COMMAND_MAX)
                       : sim_rand_range(c->rng, 8, 64));
    uint64_t serial = ++c->load.serial;
    uint64_t index = 0;
    int rc;

    memcpy(cmd, &serial, sizeof serial);
    for (uint32_t i = sizeof serial; i < len; i++) {
        cmd[i] = (uint8_t)sim_rand_next(c->rng);
    }
    rc = raft_propose(n->r, cmd, len, sim_driver_now(n), &index);
    SIM_TRACE(c, n->id, "propose #%" PRIu64 " (%u bytes): %s %" PRIu64, serial,
              len, rc == 0 ? "index" : "refused", index);
    if (rc == 0) {
        c->stats.proposed++;
        sim_map_set(&n->proposed, index, n->st.term);
    }
    sim_driver_after_core(c, n, NULL);
}

static void read_index(struct sim_cluster *c, struct sim_node *n)
{
    uint64_t ctx = ++c->load.reads;
    int rc = raft_read_index(n->r, ctx, sim_driver_now(n));

    SIM_TRACE(c, n->id, "read #%" PRIu64 ": %s", ctx,
              rc == 0 ? "waiting for a heartbeat round" : "refused");
    if (rc == 0) {
        sim_map_set(&c->load.read_floor, ctx, c->load.acked_max + 1);
    }
    sim_driver_after_core(c, n, NULL);
}

void sim_client_act(struct sim_cluster *c, const struct sim_event *ev)
{
    struct sim_node *n = pick_target(c);
    uint64_t k = sim_rand_range(c->rng, 1, 3);

    for (uint64_t i = 0; i < k && n->up && !n->paused && !c->failed; i++) {
        propose(c, n);
    }
    if (n->up && !n->paused && !c->failed && sim_rand_chance(c->rng, 500)) {
        read_index(c, n);
    }
    sim_driver_push(
        c, c->now + sim_rand_range(c->rng, 1, 2 * (uint64_t)c->load.period_ms),
        SIM_EV_CLIENT, 0, ev->tag, NULL);
}

void sim_client_applied(struct sim_cluster *c, struct sim_node *n,
                        const struct raft_entry *e)
{
    if (e->type != RAFT_ENTRY_NORMAL ||
        sim_map_get(&n->proposed, e->index) != e->term) {
        return;
    }
    sim_map_set(&n->proposed, e->index, 0);
    c->stats.acked++;
    if (e->index > c->load.acked_max) {
        c->load.acked_max = e->index;
    }
}

void sim_client_read_done(struct sim_cluster *c, struct sim_node *n,
                          const struct raft_read *read)
{
    uint64_t floor = sim_map_get(&c->load.read_floor, read->ctx);

    c->stats.reads++;
    if (floor == 0) {
        sim_cluster_fail(c, "read-index",
                         "node %" PRIu64 " confirms read #%" PRIu64
                         ", which nobody asked it for",
                         n->id, read->ctx);
        return;
    }
    if (read->index < floor - 1) {
        sim_cluster_fail(c, "read-index",
                         "node %" PRIu64 " confirms read #%" PRIu64
                         " at index %" PRIu64 ", below index %" PRIu64
                         " acknowledged before the read was asked",
                         n->id, read->ctx, read->index, floor - 1);
        return;
    }
    sim_map_set(&c->load.read_floor, read->ctx, 0);
}

void sim_client_forget(struct sim_node *n)
{
    sim_map_free(&n->proposed);
}
