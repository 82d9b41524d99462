/* sim_scenario.c - the script of one seed.
 *
 *   1. fresh start: every node at term 0 (node 1 down in a quarter of the
 *      seeds), small delays, no faults. A leader all nodes agree on must
 *      appear, and the first node ever to lead must be node 1 (node 2 when
 *      node 1 is down: the bootstrap preference). A late node 1 then joins
 *      without changing the leader or the term.
 *   2. rounds of chaos (sim_chaos.c) then calm: every link up, a clean
 *      network, every node up; or, in a quarter of the calm phases, a
 *      minority of nodes kept down throughout. Each calm phase checks:
 *        liveness   a leader every node agrees on within
 *                   SIM_LIVENESS_TIMEOUTS election timeouts (maximum)
 *        stability  then SIM_STABLE_TIMEOUTS timeouts with no term change,
 *                   every other node a follower of that leader
 *        stickiness (pre-vote and check-quorum on, every node up) a minority
 *                   of followers
 *                   cut off, both ways or inbound only, for 3-6 timeouts,
 *                   then healed: the leader and the term never change
 *        transfer   raft_transfer on the leader at a random moment, to a
 *                   running follower or to 0 (the core picks): a new agreed
 *                   leader within
 *                   SIM_TRANSFER_TIMEOUTS timeouts, then stable again
 *
 *        replication every write acknowledged before the leader was agreed
 *                   is applied on every running node within 2 timeouts
 *                   plus the time the backlog takes at the configured
 *                   append limits, and the logs of all running nodes
 *                   match
 *        release    then, within 2 timeouts, every running node has freed
 *                   the bodies of those entries (nobody running needs
 *                   them; a node kept down is silent and holds nothing)
 *
 * A client load runs throughout (sim_client.c): commands proposed to the
 * leader, reads, acknowledgements. The safety properties are checked by
 * the cluster after every step, whatever the phase. The configuration
 * varies with the seed: timeouts, heartbeat, append batch limits, pre-vote
 * or check-quorum off in some seeds, how often nodes snapshot, how much
 * of the log their disks keep behind a snapshot. */
#include "sim_scenario.h"

#include "sim_client.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

struct seed_run {
    struct sim_cluster c;
    struct sim_rand rng;
    struct sim_stats *stats;
    uint64_t emax; /* election_max_ms */
    unsigned down; /* nodes kept down in this calm phase, as a bit set */
    bool sticky;   /* pre-vote and check-quorum: stickiness is promised */
};

/* A leader all running nodes agree on. */
struct agreement {
    uint64_t since; /* contact must be newer than this */
    uint64_t leader;
    uint64_t term;
    uint64_t took_ms;
};

/* What must not change during a steady window. */
struct steady {
    uint64_t leader;
    uint64_t term;
    bool strict;  /* others are followers of LEADER (else: not candidates) */
    uint64_t bad; /* the node that broke it */
};

static void draw_config(struct sim_rand *rng, size_t n, struct raft_config *cfg)
{
    raft_config_defaults(cfg);
    cfg->n_nodes = n;
    for (size_t i = 0; i < n; i++) {
        cfg->ids[i] = i + 1;
    }
    if (sim_rand_chance(rng, 400)) {
        cfg->election_min_ms = (uint32_t)sim_rand_range(rng, 100, 250);
        cfg->election_max_ms =
            cfg->election_min_ms + (uint32_t)sim_rand_range(rng, 150, 300);
        cfg->heartbeat_ms =
            (uint32_t)sim_rand_range(rng, 20, cfg->election_min_ms / 3);
    }
    if (sim_rand_chance(rng, 250)) {
        cfg->max_append_entries = (uint32_t)sim_rand_range(rng, 1, 16);
    }
    if (sim_rand_chance(rng, 250)) {
        cfg->max_append_bytes = (uint32_t)sim_rand_range(rng, 64, 4096);
    }
    cfg->max_inflight = (uint32_t)sim_rand_range(rng, 1, 8);
    cfg->prevote = !sim_rand_chance(rng, 80);
    cfg->check_quorum = !sim_rand_chance(rng, 80);
}

static void describe_nodes(const struct sim_cluster *c, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    for (uint64_t id = 1; id <= c->n && used < len; id++) {
        const struct sim_node *n = &c->nodes[id];
        int w;

        if (!n->up) {
            w = snprintf(buf + used, len - used, "%s%" PRIu64 ": down",
                         id > 1 ? "; " : "", id);
        } else {
            w = snprintf(buf + used, len - used,
                         "%s%" PRIu64 ": %s t%" PRIu64 " leader %" PRIu64 "%s",
                         id > 1 ? "; " : "", id, raft_role_name(n->st.role),
                         n->st.term, n->st.leader, n->paused ? " paused" : "");
        }
        used += w > 0 ? (size_t)w : 0;
    }
}

/* A leader every running node agrees on, which no transfer still under
 * way (one asked for during the chaos) can move. */
static bool agreed(struct sim_cluster *c, void *arg)
{
    struct agreement *a = arg;

    a->leader = sim_cluster_agreed_leader(c, a->since, &a->term);
    return a->leader != 0 && sim_cluster_no_transfer(c);
}

static bool wait_agreement(struct seed_run *s, const char *what,
                           struct agreement *a)
{
    struct sim_cluster *c = &s->c;
    uint64_t bound = SIM_LIVENESS_TIMEOUTS * s->emax;
    uint64_t t0 = c->now;
    char nodes[256];

    a->since = t0;
    if (sim_cluster_run(c, t0 + bound, agreed, a)) {
        a->took_ms = c->now - t0;
        sim_cluster_note(c, 0,
                         "%s: leader %" PRIu64 " agreed in term %" PRIu64
                         " after %" PRIu64 " ms",
                         what, a->leader, a->term, a->took_ms);
        return true;
    }
    if (!c->stopped) {
        describe_nodes(c, nodes, sizeof nodes);
        sim_cluster_fail(c, "liveness",
                         "%s: no leader agreed by every running node "
                         "within %" PRIu64 " ms (%d x election_max); %s",
                         what, bound, SIM_LIVENESS_TIMEOUTS, nodes);
    }
    return false;
}

static bool unsteady(struct sim_cluster *c, void *arg)
{
    struct steady *w = arg;

    for (uint64_t id = 1; id <= c->n; id++) {
        const struct sim_node *n = &c->nodes[id];
        bool bad;

        if (!n->up || n->paused) {
            continue;
        }
        if (id == w->leader) {
            bad = n->st.role != RAFT_LEADER;
        } else if (w->strict) {
            bad = n->st.role != RAFT_FOLLOWER || n->st.leader != w->leader;
        } else {
            bad = n->st.role == RAFT_CANDIDATE || n->st.role == RAFT_LEADER;
        }
        if (bad || n->st.term != w->term) {
            w->bad = id;
            return true;
        }
    }
    return false;
}

/* For DURATION ms, LEADER keeps leading term TERM at every running node. */
static bool hold_steady(struct seed_run *s, const struct agreement *a,
                        uint64_t duration, bool strict, const char *prop)
{
    struct sim_cluster *c = &s->c;
    struct steady w = {.leader = a->leader, .term = a->term, .strict = strict};
    uint64_t t0 = c->now;
    char nodes[256];

    if (!sim_cluster_run(c, t0 + duration, unsteady, &w)) {
        return !c->stopped;
    }
    describe_nodes(c, nodes, sizeof nodes);
    sim_cluster_fail(c, prop,
                     "leader %" PRIu64 " of term %" PRIu64 " did not hold: "
                     "node %" PRIu64 " changed %" PRIu64 " ms into a steady "
                     "window of %" PRIu64 " ms; %s",
                     a->leader, a->term, w.bad, c->now - t0, duration, nodes);
    return false;
}

static void bootstrap_late_node1(struct seed_run *s, struct agreement *a)
{
    struct sim_cluster *c = &s->c;
    struct agreement b;

    sim_cluster_start(c, 1);
    sim_cluster_note(c, 0, "== node 1 joins late");
    if (!wait_agreement(s, "late join", &b)) {
        return;
    }
    if (b.leader != a->leader || b.term != a->term) {
        sim_cluster_fail(c, "stickiness",
                         "node 1 joining late moved leader %" PRIu64
                         " term %" PRIu64 " to leader %" PRIu64
                         " term %" PRIu64,
                         a->leader, a->term, b.leader, b.term);
        return;
    }
    hold_steady(s, a, 2 * s->emax, true, "stability");
}

static void bootstrap(struct seed_run *s)
{
    struct sim_cluster *c = &s->c;
    struct sim_net_params p = {.delay_min_ms = 1, .delay_max_ms = 5};
    bool down1 = sim_rand_chance(&s->rng, 250);
    uint64_t expected = down1 ? 2 : 1;
    struct agreement a;

    sim_net_set_params(&c->net, &p);
    sim_cluster_note(c, 0, "== fresh start of %zu nodes%s, delays 1-5 ms", c->n,
                     down1 ? ", node 1 down" : "");
    for (uint64_t id = down1 ? 2 : 1; id <= c->n; id++) {
        sim_cluster_start(c, id);
    }
    if (!wait_agreement(s, "fresh start", &a)) {
        return;
    }
    if (c->first_leader != expected) {
        sim_cluster_fail(c, "bootstrap",
                         "fresh cluster%s: node %" PRIu64
                         " led first, expected node %" PRIu64,
                         down1 ? " with node 1 down" : "", c->first_leader,
                         expected);
        return;
    }
    s->stats->boot++;
    s->stats->boot_node1 += !down1;
    s->stats->boot_down1 += down1;
    if (a.took_ms > s->stats->boot_max_ms) {
        s->stats->boot_max_ms = a.took_ms;
    }
    if (!hold_steady(s, &a, 3 * s->emax, true, "stability")) {
        return;
    }
    if (down1) {
        bootstrap_late_node1(s, &a);
    }
}

/* WANT distinct ids drawn at random from the bit set AMONG (fewer if it
 * holds fewer), as a bit set. */
static unsigned pick_some(struct seed_run *s, unsigned among, size_t want)
{
    uint64_t ids[RAFT_MAX_NODES];
    size_t n = 0;
    unsigned set = 0;

    for (uint64_t id = 1; id <= s->c.n; id++) {
        if (among >> (id - 1) & 1u) {
            ids[n++] = id;
        }
    }
    for (size_t i = 0; i < want && i < n; i++) {
        size_t j = i + (size_t)sim_rand_range(&s->rng, 0, n - 1 - i);
        uint64_t t = ids[i];

        ids[i] = ids[j];
        ids[j] = t;
        set |= 1u << (ids[i] - 1);
    }
    return set;
}

/* A minority: 1 node of 3, 1 or 2 of 5. */
static size_t minority_size(struct seed_run *s)
{
    return s->c.n == 5 ? (size_t)sim_rand_range(&s->rng, 1, 2) : 1;
}

static unsigned all_nodes(const struct seed_run *s)
{
    return (1u << s->c.n) - 1;
}

static void cut_off(struct sim_cluster *c, unsigned set, bool oneway)
{
    for (uint64_t v = 1; v <= c->n; v++) {
        if (!(set >> (v - 1) & 1u)) {
            continue;
        }
        if (!oneway) {
            sim_net_isolate(&c->net, v);
            continue;
        }
        for (uint64_t other = 1; other <= c->n; other++) {
            sim_net_cut(&c->net, other, v); /* v sends, never hears */
        }
    }
}

static void stickiness(struct seed_run *s, struct agreement *a)
{
    struct sim_cluster *c = &s->c;
    unsigned set =
        pick_some(s, all_nodes(s) & ~(1u << (a->leader - 1)), minority_size(s));
    bool oneway = sim_rand_chance(&s->rng, 500);
    uint64_t cut_ms = sim_rand_range(&s->rng, 3, 6) * s->emax;
    struct agreement b;

    cut_off(c, set, oneway);
    sim_cluster_note(c, 0,
                     "== stickiness: followers %#x cut off (%s) from "
                     "leader %" PRIu64 " in term %" PRIu64 " for %" PRIu64
                     " ms",
                     set, oneway ? "they cannot hear" : "both ways", a->leader,
                     a->term, cut_ms);
    if (!hold_steady(s, a, cut_ms, false, "stickiness")) {
        return;
    }
    sim_net_heal(&c->net);
    sim_cluster_note(c, 0, "stickiness: healed");
    if (!hold_steady(s, a, 2 * s->emax, false, "stickiness") ||
        !wait_agreement(s, "stickiness", &b)) {
        return;
    }
    if (b.leader != a->leader || b.term != a->term) {
        sim_cluster_fail(c, "stickiness",
                         "healing followers %#x moved leader %" PRIu64
                         " term %" PRIu64 " to leader %" PRIu64
                         " term %" PRIu64,
                         set, a->leader, a->term, b.leader, b.term);
        return;
    }
    if (hold_steady(s, a, 2 * s->emax, true, "stability")) {
        s->stats->sticky++;
        s->stats->sticky_oneway += oneway;
    }
}

struct handover {
    uint64_t old;
    struct agreement a;
};

static bool handed_over(struct sim_cluster *c, void *arg)
{
    struct handover *h = arg;

    h->a.leader = sim_cluster_agreed_leader(c, h->a.since, &h->a.term);
    return h->a.leader != 0 && h->a.leader != h->old;
}

static uint64_t pick_running_follower(struct seed_run *s, uint64_t leader)
{
    unsigned running = 0;

    for (uint64_t id = 1; id <= s->c.n; id++) {
        if (id != leader && s->c.nodes[id].up) {
            running |= 1u << (id - 1);
        }
    }
    running = pick_some(s, running, 1);
    for (uint64_t id = 1; id <= s->c.n; id++) {
        if (running >> (id - 1) & 1u) {
            return id;
        }
    }
    return 0;
}

/* After raft_transfer at T0: a new leader all agree on, within the bound. */
static bool await_handover(struct seed_run *s, const struct agreement *a,
                           uint64_t target, struct agreement *out)
{
    struct sim_cluster *c = &s->c;
    uint64_t bound = SIM_TRANSFER_TIMEOUTS * s->emax;
    uint64_t t0 = c->now;
    struct handover h = {.old = a->leader, .a.since = t0};
    char nodes[256];

    if (!sim_cluster_run(c, t0 + bound, handed_over, &h)) {
        if (!c->stopped) {
            describe_nodes(c, nodes, sizeof nodes);
            sim_cluster_fail(c, "transfer",
                             "leader %" PRIu64 " asked to hand over to %" PRIu64
                             ": no new agreed leader within %" PRIu64 " ms; %s",
                             a->leader, target, bound, nodes);
        }
        return false;
    }
    *out = h.a;
    out->took_ms = c->now - t0;
    sim_cluster_note(c, 0,
                     "transfer: leader %" PRIu64 " in term %" PRIu64
                     " after %" PRIu64 " ms",
                     out->leader, out->term, out->took_ms);
    return true;
}

static void transfer(struct seed_run *s, struct agreement *a)
{
    struct sim_cluster *c = &s->c;
    uint64_t target = 0;
    struct agreement b;
    int rc;

    /* At a random moment of a steady leadership. */
    if (!hold_steady(s, a, sim_rand_range(&s->rng, 0, s->emax), true,
                     "stability")) {
        return;
    }
    if (!sim_rand_chance(&s->rng, 250)) {
        target = pick_running_follower(s, a->leader);
    }
    sim_cluster_note(c, 0, "== transfer: leader %" PRIu64 " to %" PRIu64,
                     a->leader, target);
    rc = sim_cluster_transfer(c, a->leader, target);
    if (rc != 0) {
        sim_cluster_fail(c, "transfer",
                         "raft_transfer(to %" PRIu64 ") on leader %" PRIu64
                         " returned %d",
                         target, a->leader, rc);
        return;
    }
    if (!await_handover(s, a, target, &b)) {
        return;
    }
    s->stats->transfers++;
    s->stats->transfer_target += target == 0 || b.leader == target;
    s->stats->transfer_sum_ms += b.took_ms;
    if (b.took_ms > s->stats->transfer_max_ms) {
        s->stats->transfer_max_ms = b.took_ms;
    }
    *a = b;
    hold_steady(s, a, 2 * s->emax, true, "stability");
}

/* Keep a random minority down for this calm phase (crashed now if up,
 * not restarted until the next calm). */
static void keep_minority_down(struct seed_run *s)
{
    struct sim_cluster *c = &s->c;

    s->down = pick_some(s, all_nodes(s), minority_size(s));
    for (uint64_t id = 1; id <= c->n; id++) {
        if (s->down >> (id - 1) & 1u) {
            sim_cluster_crash(c, id);
        }
    }
    sim_cluster_note(c, 0, "calm with nodes %#x kept down", s->down);
}

static uint64_t least_applied(const struct sim_cluster *c)
{
    uint64_t least = UINT64_MAX;

    for (uint64_t id = 1; id <= c->n; id++) {
        if (c->nodes[id].up && c->nodes[id].sm.index < least) {
            least = c->nodes[id].sm.index;
        }
    }
    return least;
}

static bool applied_floor(struct sim_cluster *c, void *arg)
{
    return least_applied(c) >= *(const uint64_t *)arg;
}

/* The longest catching up BACKLOG entries may take: at least one batch of
 * the worst-case size (every command 2 KiB) per slot in flight per calm
 * round trip, on top of two election timeouts. */
static uint64_t catch_up_bound(const struct seed_run *s, uint64_t backlog)
{
    const struct raft_config *cfg = &s->c.base;
    uint64_t batch = cfg->max_append_bytes / SIM_CLIENT_COMMAND_MAX;
    uint64_t per_rtt;

    batch = batch < 1 ? 1 : batch;
    batch = batch < cfg->max_append_entries ? batch : cfg->max_append_entries;
    per_rtt = batch * cfg->max_inflight;
    return 2 * s->emax + (backlog / per_rtt + 1) * SIM_CALM_RTT_MS;
}

/* Every running node applies every write acknowledged up to FLOOR. */
static bool caught_up(struct seed_run *s, uint64_t floor)
{
    struct sim_cluster *c = &s->c;
    uint64_t least = least_applied(c);
    uint64_t bound;

    if (least >= floor) {
        return true;
    }
    bound = catch_up_bound(s, floor - least);
    if (sim_cluster_run(c, c->now + bound, applied_floor, &floor)) {
        return true;
    }
    if (!c->stopped) {
        sim_cluster_fail(c, "replication",
                         "a running node applied only up to %" PRIu64
                         " within %" PRIu64 " ms, behind write %" PRIu64
                         " acknowledged before (started %" PRIu64 " behind)",
                         least_applied(c), bound, floor, floor - least);
    }
    return false;
}

static uint64_t least_released(const struct sim_cluster *c)
{
    uint64_t least = UINT64_MAX;

    for (uint64_t id = 1; id <= c->n; id++) {
        const struct sim_node *n = &c->nodes[id];

        if (n->up && n->st.released_index < least) {
            least = n->st.released_index;
        }
    }
    return least;
}

static bool released_floor(struct sim_cluster *c, void *arg)
{
    return least_released(c) >= *(const uint64_t *)arg;
}

/* Once every running node applied FLOOR, and each holds it durably, no
 * node needs the bodies up to FLOOR any more: each frees them within two
 * election timeouts (a node kept down is silent, and holds nothing back). */
static bool released(struct seed_run *s, uint64_t floor)
{
    struct sim_cluster *c = &s->c;
    uint64_t bound = 2 * s->emax;

    if (sim_cluster_run(c, c->now + bound, released_floor, &floor)) {
        c->stats.release_checks++;
        return true;
    }
    if (!c->stopped) {
        sim_cluster_fail(c, "release",
                         "a running node still holds bodies from %" PRIu64
                         " on, %" PRIu64 " ms after every running node "
                         "applied up to %" PRIu64,
                         least_released(c) + 1, bound, floor);
    }
    return false;
}

static void calm(struct seed_run *s)
{
    struct sim_cluster *c = &s->c;
    struct agreement a;
    uint64_t floor;
    uint64_t x10;

    sim_chaos_calm(c, 20);
    s->down = 0;
    if (sim_rand_chance(&s->rng, 250)) {
        keep_minority_down(s);
        s->stats->calm_degraded++;
    }
    if (!wait_agreement(s, "calm", &a)) {
        return;
    }
    s->stats->calm++;
    s->stats->calm_sum_ms += a.took_ms;
    if (a.took_ms > s->stats->calm_max_ms) {
        s->stats->calm_max_ms = a.took_ms;
    }
    x10 = a.took_ms * 10 / s->emax;
    if (x10 > s->stats->calm_max_timeouts_x10) {
        s->stats->calm_max_timeouts_x10 = x10;
    }
    floor = c->load.acked_max;
    if (!hold_steady(s, &a, SIM_STABLE_TIMEOUTS * s->emax, true, "stability") ||
        !caught_up(s, floor) || sim_cluster_check_logs(c) != 0 ||
        !released(s, floor)) {
        return;
    }
    if (s->sticky && s->down == 0 && sim_rand_chance(&s->rng, 600)) {
        stickiness(s, &a);
    }
    if (!c->stopped && sim_rand_chance(&s->rng, 600)) {
        transfer(s, &a);
    }
}

static void run_rounds(struct seed_run *s, uint32_t rounds)
{
    for (uint32_t r = 0; r < rounds && !s->c.stopped; r++) {
        uint64_t ms = sim_rand_range(&s->rng, 1000, 4000);

        s->stats->chaos_phases++;
        s->stats->chaos_ms += ms;
        sim_chaos_run(&s->c, ms, s->stats->faults);
        if (!s->c.stopped) {
            calm(s);
        }
    }
}

static void add_stats(struct sim_stats *to, const struct sim_cluster_stats *c)
{
    to->net.sent += c->sent;
    to->net.delivered += c->delivered;
    to->net.lost += c->lost;
    to->net.cut += c->cut;
    to->net.duplicated += c->duplicated;
    to->net.to_down += c->to_down;
    to->net.crashes += c->crashes;
    to->net.lost_writes += c->lost_writes;
    to->net.pauses += c->pauses;
    to->net.torn_writes += c->torn_writes;
    to->net.proposed += c->proposed;
    to->net.acked += c->acked;
    to->net.applied += c->applied;
    to->net.snapshots += c->snapshots;
    to->net.installs += c->installs;
    to->net.reads += c->reads;
    to->net.read_back += c->read_back;
    to->net.read_lost += c->read_lost;
    to->net.read_faults += c->read_faults;
    to->net.release_checks += c->release_checks;
    if (c->max_term > to->net.max_term) {
        to->net.max_term = c->max_term;
    }
}

void sim_scenario_run(const struct sim_seed_opts *o, struct sim_trace *trace,
                      struct sim_stats *stats, struct sim_outcome *out)
{
    struct seed_run s;
    struct raft_config cfg;

    memset(&s, 0, sizeof s);
    s.stats = stats;
    sim_rand_seed(&s.rng, o->seed);
    draw_config(&s.rng, o->n_nodes, &cfg);
    s.emax = cfg.election_max_ms;
    s.sticky = cfg.prevote && cfg.check_quorum;
    sim_cluster_init(&s.c, &cfg, &s.rng, trace, o->max_steps);
    if (sim_rand_chance(&s.rng, 900)) {
        s.c.snap_every = (uint32_t)sim_rand_range(&s.rng, 5, 100);
    }
    s.c.snap_keep = (uint32_t)sim_rand_range(&s.rng, 0, 20);
    /* The durable log keeps at least the entries the core keeps (as the
     * daemon's WAL does), or in some seeds fewer: then followers that need
     * them get a snapshot instead of entries read back. */
    s.c.disk_keep =
        sim_rand_chance(&s.rng, 300)
            ? (uint32_t)sim_rand_range(&s.rng, 0, s.c.snap_keep)
            : s.c.snap_keep + (uint32_t)sim_rand_range(&s.rng, 0, 30);
    sim_client_set_load(&s.c, (uint32_t)sim_rand_range(&s.rng, 5, 60));
    sim_cluster_note(&s.c, 0,
                     "seed %" PRIu64 ": %zu nodes, election %u-%u "
                     "ms, heartbeat %u ms, pre-vote %s, check-quorum %s, "
                     "appends of %u entries/%u bytes, %u in flight, "
                     "snapshot every %u (keep %u, on disk %u), client every "
                     "%u ms",
                     o->seed, cfg.n_nodes, cfg.election_min_ms,
                     cfg.election_max_ms, cfg.heartbeat_ms,
                     cfg.prevote ? "on" : "off",
                     cfg.check_quorum ? "on" : "off", cfg.max_append_entries,
                     cfg.max_append_bytes, cfg.max_inflight, s.c.snap_every,
                     s.c.snap_keep, s.c.disk_keep, s.c.load.period_ms);

    bootstrap(&s);
    run_rounds(&s, o->rounds);

    stats->seeds++;
    stats->steps += s.c.step;
    stats->nodes3 += o->n_nodes == 3;
    stats->nodes5 += o->n_nodes == 5;
    stats->no_prevote += !cfg.prevote;
    stats->no_check_quorum += !cfg.check_quorum;
    add_stats(stats, &s.c.stats);

    memset(out, 0, sizeof *out);
    out->failed = s.c.failed;
    snprintf(out->prop, sizeof out->prop, "%s", s.c.fail_prop);
    snprintf(out->msg, sizeof out->msg, "%s", s.c.fail_msg);
    out->step = s.c.step;
    out->time = s.c.now;
    stats->passed += !out->failed;
    stats->failed += out->failed;
    sim_cluster_close(&s.c);
}
