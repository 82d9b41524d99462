/* sim_net.c - link cuts and message fates for the simulated network.
 *
 * A link's state is read twice for every message: when it is sent and when
 * it would arrive. A message is carried by the link's connection of the
 * moment; a cut, or a crash at either end, breaks that connection, and
 * what was in flight on it is lost (as a TCP connection's queue dies with
 * it), so a message from before a partition or from a crashed process does
 * not surface after the heal.
 * In-order delivery per link: a message arrives no earlier than the one
 * sent before it on the same link, unless it is drawn to skip the queue
 * (then it may overtake). A duplicate always may. */
#include "sim_net.h"

#include <stdio.h>
#include <string.h>

void sim_net_init(struct sim_net *net, size_t n, const struct sim_net_params *p)
{
    memset(net, 0, sizeof *net);
    net->n = n;
    sim_net_set_params(net, p);
}

void sim_net_set_params(struct sim_net *net, const struct sim_net_params *p)
{
    net->p = *p;
    if (net->p.delay_min_ms < 1) {
        net->p.delay_min_ms = 1;
    }
    if (net->p.delay_max_ms < net->p.delay_min_ms) {
        net->p.delay_max_ms = net->p.delay_min_ms;
    }
    if (net->p.tail_max_ms < net->p.delay_max_ms) {
        net->p.tail_max_ms = net->p.delay_max_ms;
    }
}

void sim_net_heal(struct sim_net *net)
{
    memset(net->cut, 0, sizeof net->cut);
    memset(net->last, 0, sizeof net->last);
}

void sim_net_reconnect(struct sim_net *net, uint64_t node)
{
    for (uint64_t other = 1; other <= net->n; other++) {
        net->last[node][other] = 0;
        net->last[other][node] = 0;
        net->epoch[node][other]++;
        net->epoch[other][node]++;
    }
}

void sim_net_cut(struct sim_net *net, uint64_t from, uint64_t to)
{
    if (from >= 1 && from <= net->n && to >= 1 && to <= net->n) {
        net->cut[from][to] = true;
        net->last[from][to] = 0;
        net->epoch[from][to]++;
    }
}

void sim_net_isolate(struct sim_net *net, uint64_t node)
{
    for (uint64_t other = 1; other <= net->n; other++) {
        if (other != node) {
            sim_net_cut(net, node, other);
            sim_net_cut(net, other, node);
        }
    }
}

static bool in_group(unsigned group, uint64_t id)
{
    return (group >> (id - 1)) & 1u;
}

void sim_net_split(struct sim_net *net, unsigned group)
{
    for (uint64_t a = 1; a <= net->n; a++) {
        for (uint64_t b = 1; b <= net->n; b++) {
            if (in_group(group, a) != in_group(group, b)) {
                sim_net_cut(net, a, b);
            }
        }
    }
}

bool sim_net_link_up(const struct sim_net *net, uint64_t from, uint64_t to)
{
    if (from < 1 || from > net->n || to < 1 || to > net->n) {
        return false;
    }
    return !net->cut[from][to];
}

uint64_t sim_net_epoch(const struct sim_net *net, uint64_t from, uint64_t to)
{
    return net->epoch[from][to];
}

static uint64_t draw_delay(const struct sim_net *net, struct sim_rand *rng)
{
    const struct sim_net_params *p = &net->p;

    if (sim_rand_chance(rng, p->tail_permille)) {
        return sim_rand_range(rng, p->delay_max_ms, p->tail_max_ms);
    }
    return sim_rand_range(rng, p->delay_min_ms, p->delay_max_ms);
}

size_t sim_net_route(struct sim_net *net, struct sim_rand *rng, uint64_t from,
                     uint64_t to, uint64_t now, uint64_t at[2], bool *cut)
{
    uint64_t *last;

    *cut = !sim_net_link_up(net, from, to);
    if (*cut || sim_rand_chance(rng, net->p.loss_permille)) {
        return 0;
    }
    last = &net->last[from][to];
    at[0] = now + draw_delay(net, rng);
    if (!sim_rand_chance(rng, net->p.reorder_permille)) {
        at[0] = at[0] > *last ? at[0] : *last;
        *last = at[0];
    }
    if (!sim_rand_chance(rng, net->p.dup_permille)) {
        return 1;
    }
    at[1] = now + draw_delay(net, rng);
    return 2;
}

const char *sim_net_describe(const struct sim_net *net, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (uint64_t a = 1; a <= net->n; a++) {
        for (uint64_t b = 1; b <= net->n; b++) {
            if (net->cut[a][b] && used < len) {
                int w = snprintf(buf + used, len - used, "%s%u->%u",
                                 used ? " " : "", (unsigned)a, (unsigned)b);
                used += w > 0 ? (size_t)w : 0;
            }
        }
    }
    if (used == 0) {
        snprintf(buf, len, "none");
    }
    return buf;
}
