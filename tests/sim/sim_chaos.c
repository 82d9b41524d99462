/* sim_chaos.c - random faults and the calm after them.
 *
 * A fault is drawn by weight from the table below. Crashes and pauses end
 * by themselves (a restart or resume event is queued); partitions last
 * until a heal, a calm phase, or a later split that adds to them. Messages
 * already in flight keep flying: a long network tail delivers them well
 * after the partition or crash that seemed to end their story. */
#include "sim_chaos.h"

#include <inttypes.h>

struct fault_weight {
    enum sim_fault fault;
    uint32_t weight;
};

static const struct fault_weight weights[] = {
    {SIM_FAULT_CRASH, 10},      {SIM_FAULT_CRASH_LEADER, 8},
    {SIM_FAULT_CRASH_WRITE, 8}, {SIM_FAULT_PAUSE, 10},
    {SIM_FAULT_SPLIT, 10},      {SIM_FAULT_ASYM, 8},
    {SIM_FAULT_ISOLATE, 8},     {SIM_FAULT_HEAL, 12},
    {SIM_FAULT_NET, 8},         {SIM_FAULT_DISK, 4},
    {SIM_FAULT_TRANSFER, 8},    {SIM_FAULT_ISOLATE_LEADER, 6},
};

#define N_WEIGHTS (sizeof weights / sizeof weights[0])

static const char *const fault_names[SIM_FAULT_KINDS] = {
    [SIM_FAULT_CRASH] = "crash",
    [SIM_FAULT_CRASH_LEADER] = "crash-leader",
    [SIM_FAULT_CRASH_WRITE] = "crash-in-write",
    [SIM_FAULT_PAUSE] = "pause",
    [SIM_FAULT_SPLIT] = "split",
    [SIM_FAULT_ASYM] = "one-way",
    [SIM_FAULT_ISOLATE] = "isolate",
    [SIM_FAULT_ISOLATE_LEADER] = "isolate-leader",
    [SIM_FAULT_HEAL] = "heal",
    [SIM_FAULT_NET] = "net",
    [SIM_FAULT_DISK] = "disk",
    [SIM_FAULT_TRANSFER] = "transfer",
};

const char *sim_fault_name(enum sim_fault f)
{
    return (unsigned)f < SIM_FAULT_KINDS ? fault_names[f] : "unknown";
}

static enum sim_fault draw_fault(struct sim_rand *rng)
{
    uint32_t total = 0;
    uint64_t x;

    for (size_t i = 0; i < N_WEIGHTS; i++) {
        total += weights[i].weight;
    }
    x = sim_rand_range(rng, 0, total - 1);
    for (size_t i = 0; i < N_WEIGHTS; i++) {
        if (x < weights[i].weight) {
            return weights[i].fault;
        }
        x -= weights[i].weight;
    }
    return SIM_FAULT_HEAL;
}

static uint64_t random_node(struct sim_cluster *c)
{
    return sim_rand_range(c->rng, 1, c->n);
}

static uint64_t find_leader(const struct sim_cluster *c)
{
    for (uint64_t id = 1; id <= c->n; id++) {
        if (c->nodes[id].up && c->nodes[id].st.role == RAFT_LEADER) {
            return id;
        }
    }
    return 0;
}

static void net_weather(struct sim_cluster *c)
{
    struct sim_net_params p;
    char cuts[128];

    p.delay_min_ms = (uint32_t)sim_rand_range(c->rng, 1, 5);
    p.delay_max_ms = p.delay_min_ms + (uint32_t)sim_rand_range(c->rng, 0, 60);
    p.tail_permille = (uint32_t)sim_rand_range(c->rng, 0, 50);
    p.tail_max_ms = (uint32_t)sim_rand_range(c->rng, 100, 1500);
    p.loss_permille = (uint32_t)sim_rand_range(c->rng, 0, 250);
    p.dup_permille = (uint32_t)sim_rand_range(c->rng, 0, 80);
    p.reorder_permille = (uint32_t)sim_rand_range(c->rng, 0, 100);
    sim_net_set_params(&c->net, &p);
    sim_cluster_note(c, 0,
                     "net: delay %u-%u ms, %u/1000 late by up to %u ms, "
                     "loss %u/1000, dup %u/1000, reorder %u/1000; cut: %s",
                     p.delay_min_ms, p.delay_max_ms, p.tail_permille,
                     p.tail_max_ms, p.loss_permille, p.dup_permille,
                     p.reorder_permille,
                     sim_net_describe(&c->net, cuts, sizeof cuts));
}

static void disk_weather(struct sim_cluster *c)
{
    struct sim_disk_params *d = &c->disk;

    d->delay_min_ms = (uint32_t)sim_rand_range(c->rng, 0, 3);
    d->delay_max_ms = d->delay_min_ms + (uint32_t)sim_rand_range(c->rng, 0, 10);
    d->tail_permille = (uint32_t)sim_rand_range(c->rng, 0, 30);
    d->tail_max_ms = (uint32_t)sim_rand_range(c->rng, 20, 100);
    d->read_fail_permille = sim_rand_chance(c->rng, 300)
                                ? (uint32_t)sim_rand_range(c->rng, 1, 200)
                                : 0;
    sim_cluster_note(c, 0,
                     "disk: writes take %u-%u ms, %u/1000 up to %u ms; "
                     "%u/1000 reads back fail",
                     d->delay_min_ms, d->delay_max_ms, d->tail_permille,
                     d->tail_max_ms, d->read_fail_permille);
}

static void crash(struct sim_cluster *c, uint64_t id)
{
    if (id == 0 || !c->nodes[id].up) {
        return;
    }
    sim_cluster_crash(c, id);
    sim_cluster_restart_at(c, id, c->now + sim_rand_range(c->rng, 20, 3000));
}

static void cut_links(struct sim_cluster *c, enum sim_fault f)
{
    char cuts[128];

    if (f == SIM_FAULT_SPLIT) {
        unsigned all = (1u << c->n) - 1;

        sim_net_split(&c->net, (unsigned)sim_rand_range(c->rng, 1, all - 1));
    } else if (f == SIM_FAULT_ASYM) {
        uint64_t k = sim_rand_range(c->rng, 1, 3);

        for (uint64_t i = 0; i < k; i++) {
            uint64_t from = random_node(c);
            uint64_t to = random_node(c);

            sim_net_cut(&c->net, from, to); /* from == to: no-op */
        }
    } else if (f == SIM_FAULT_ISOLATE) {
        sim_net_isolate(&c->net, random_node(c));
    } else if (f == SIM_FAULT_ISOLATE_LEADER) {
        uint64_t leader = find_leader(c);

        sim_net_isolate(&c->net, leader ? leader : random_node(c));
    } else {
        sim_net_heal(&c->net);
    }
    sim_cluster_note(c, 0, "net: %s -> cut: %s", sim_fault_name(f),
                     sim_net_describe(&c->net, cuts, sizeof cuts));
}

static void inject(struct sim_cluster *c, enum sim_fault f)
{
    switch (f) {
    case SIM_FAULT_CRASH:
        crash(c, random_node(c));
        break;
    case SIM_FAULT_CRASH_LEADER:
        crash(c, find_leader(c));
        break;
    case SIM_FAULT_CRASH_WRITE:
        sim_cluster_crash_in_write(c, random_node(c),
                                   sim_rand_range(c->rng, 20, 3000));
        break;
    case SIM_FAULT_PAUSE:
        sim_cluster_pause(c, random_node(c),
                          c->now + sim_rand_range(c->rng, 20, 2000));
        break;
    case SIM_FAULT_NET:
        net_weather(c);
        break;
    case SIM_FAULT_DISK:
        disk_weather(c);
        break;
    case SIM_FAULT_TRANSFER:
        sim_cluster_transfer(c, random_node(c),
                             sim_rand_range(c->rng, 0, c->n));
        break;
    default:
        cut_links(c, f);
        break;
    }
}

void sim_chaos_run(struct sim_cluster *c, uint64_t duration,
                   uint64_t counts[SIM_FAULT_KINDS])
{
    uint64_t end = c->now + duration;

    sim_cluster_note(c, 0, "== chaos for %" PRIu64 " ms", duration);
    net_weather(c);
    disk_weather(c);
    /* Each round moves the clock by at least 10 ms: bounded by DURATION. */
    while (!c->stopped && c->now < end) {
        uint64_t at = c->now + sim_rand_range(c->rng, 10, 400);
        enum sim_fault f;

        sim_cluster_run(c, at < end ? at : end, NULL, NULL);
        if (c->stopped || c->now >= end) {
            break;
        }
        f = draw_fault(c->rng);
        counts[f]++;
        inject(c, f);
    }
}

void sim_chaos_calm(struct sim_cluster *c, uint32_t delay_max_ms)
{
    struct sim_net_params p = {.delay_min_ms = 1, .delay_max_ms = delay_max_ms};
    struct sim_disk_params d = {.delay_min_ms = 0, .delay_max_ms = 5};

    sim_net_heal(&c->net);
    sim_net_set_params(&c->net, &p);
    c->disk = d;
    sim_cluster_note(c, 0,
                     "== calm: every link up, delays 1-%u ms, in "
                     "order, no loss; every node up",
                     delay_max_ms);
    for (uint64_t id = 1; id <= c->n; id++) {
        sim_cluster_crash_in_write(c, id, 0);
        sim_cluster_resume(c, id);
        sim_cluster_start(c, id);
    }
}
