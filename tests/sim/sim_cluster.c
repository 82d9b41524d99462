/* sim_cluster.c - the event loop and the life of the nodes.
 *
 * Every event in the queue is one of sim_driver.h's kinds: a node's tick,
 * a message arriving, a write becoming durable, a restart, a resume, a
 * crash in the middle of a write, a client action, a failed exchange
 * reported to the node that made the request. Each handled event is
 * one step; after every step that called into a core, sim_driver.c has
 * run the checks of sim_check.h on that node.
 *
 * Stale events are dropped before they count as a step: a TICK carries the
 * node's tick generation (bumped whenever the deadline moves, the node
 * pauses or crashes), a PERSIST, RESTART, CRASH or UNREACHABLE the node's
 * life (bumped
 * at every crash), a RESUME its pause generation, a CLIENT event the load's
 * generation.
 *
 * Every life of a node gets its own clock origin: the core sees
 * "now + clock_offset", never the simulation's clock, so code that assumes
 * time starts at 0 would show. Ticks fire up to 1 ms late, as timers do.
 */
#include "sim_cluster.h"

#include "sim_driver.h"
#include "sim_msg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOCK_OFFSET_MAX 1000000000ULL /* ms: up to 11 days of uptime */
#define STEP_BUDGET 50000000ULL        /* a seed that runs longer is stuck */

static void core_trace(void *arg, const char *line)
{
    struct sim_node *n = arg;

    SIM_TRACE(n->cluster, n->id, "core: %s", line);
}

/* ---- event handlers ---- */

static void hold(struct sim_node *n, const struct sim_event *ev)
{
    if (n->n_held == n->cap_held) {
        n->cap_held = n->cap_held ? 2 * n->cap_held : 16;
        n->held = sim_xrealloc(n->held, n->cap_held, sizeof *n->held);
    }
    n->held[n->n_held++] = *ev;
}

static void on_tick(struct sim_cluster *c, struct sim_node *n)
{
    uint64_t now = sim_driver_now(n);

    n->tick_pending = false;
    SIM_TRACE(c, n->id, "tick");
    raft_tick(n->r, now);
    sim_driver_after_core(c, n, NULL);
    if (!c->failed && n->tick_deadline <= now) {
        sim_cluster_fail(c, "deadline",
                         "node %" PRIu64 ": after raft_tick(%" PRIu64
                         ") the next deadline is %" PRIu64
                         ", not in the future",
                         n->id, now, n->tick_deadline);
    }
}

/* Where a message ends when it cannot be delivered; false if it can. */
static bool undeliverable(struct sim_cluster *c, struct raft_msg *m)
{
    const struct sim_node *n = &c->nodes[m->to];
    char buf[128];

    if (*sim_msg_epoch(m) != sim_net_epoch(&c->net, m->from, m->to)) {
        c->stats.cut++;
        SIM_TRACE(c, m->to, "drop %s: its connection broke",
                  sim_msg_describe(m, buf, sizeof buf));
        sim_driver_exchange_failed(c, m, false);
        return true;
    }
    if (!sim_net_link_up(&c->net, m->from, m->to)) {
        c->stats.cut++;
        SIM_TRACE(c, m->to, "drop %s: link cut",
                  sim_msg_describe(m, buf, sizeof buf));
        sim_driver_exchange_failed(c, m, false);
        return true;
    }
    if (!n->up) {
        c->stats.to_down++;
        SIM_TRACE(c, m->to, "drop %s: node down",
                  sim_msg_describe(m, buf, sizeof buf));
        sim_driver_exchange_failed(c, m, true);
        return true;
    }
    return false;
}

static void on_deliver(struct sim_cluster *c, const struct sim_event *ev)
{
    struct raft_msg *m = ev->ptr;
    struct sim_node *n = &c->nodes[m->to];
    char buf[128];

    if (undeliverable(c, m)) {
        free(m);
        return;
    }
    if (n->paused) {
        hold(n, ev);
        sim_driver_exchange_stalled(c, n, m);
        return;
    }
    c->stats.delivered++;
    if (m->type == RAFT_MSG_APPEND || m->type == RAFT_MSG_APPEND_RESULT) {
        n->heard_at[m->from] = c->now;
        n->heard_term[m->from] = m->term;
    }
    if (m->type == RAFT_MSG_SNAPSHOT) {
        n->incoming = *sim_msg_snap(m); /* written whole before the step */
    }
    SIM_TRACE(c, n->id, "recv %s", sim_msg_describe(m, buf, sizeof buf));
    if (raft_step(n->r, m, sim_driver_now(n)) != 0) {
        sim_cluster_fail(c, "core-api", "node %" PRIu64 " refused %s", n->id,
                         sim_msg_describe(m, buf, sizeof buf));
    } else {
        sim_driver_after_core(c, n, m);
    }
    free(m);
}

static void on_unreachable(struct sim_cluster *c, struct sim_node *n,
                           const struct sim_event *ev)
{
    uint64_t peer = (uint64_t)(uintptr_t)ev->ptr;

    SIM_TRACE(c, n->id,
              "exchange with %" PRIu64 " failed: "
              "raft_report_unreachable",
              peer);
    raft_report_unreachable(n->r, peer, sim_driver_now(n));
    sim_driver_after_core(c, n, NULL);
}

static void crash_now(struct sim_cluster *c, struct sim_node *n)
{
    uint64_t restart_ms = n->crash_armed;

    n->crash_armed = 0;
    sim_cluster_crash(c, n->id);
    sim_cluster_restart_at(c, n->id, c->now + restart_ms);
}

static bool is_stale(const struct sim_cluster *c, const struct sim_event *ev)
{
    const struct sim_node *n = &c->nodes[ev->node];

    switch (ev->kind) {
    case SIM_EV_TICK:
        return !n->up || !n->tick_pending || ev->tag != n->tick_gen;
    case SIM_EV_PERSIST:
    case SIM_EV_UNREACHABLE:
        return !n->up || ev->tag != n->life;
    case SIM_EV_RESTART:
        return n->up || ev->tag != n->life;
    case SIM_EV_RESUME:
        return !n->up || !n->paused || ev->tag != n->pause_gen;
    case SIM_EV_CRASH:
        return !n->up || n->crash_armed == 0 || ev->tag != n->life;
    case SIM_EV_CLIENT:
        return c->load.period_ms == 0 || ev->tag != c->load.gen;
    default:
        return false;
    }
}

static void dispatch(struct sim_cluster *c, const struct sim_event *ev)
{
    struct sim_node *n = &c->nodes[ev->node];

    if (n->paused &&
        (ev->kind == SIM_EV_PERSIST || ev->kind == SIM_EV_UNREACHABLE)) {
        hold(n, ev); /* the process notices when it runs again */
        return;
    }
    switch (ev->kind) {
    case SIM_EV_TICK:
        on_tick(c, n);
        break;
    case SIM_EV_DELIVER:
        on_deliver(c, ev);
        break;
    case SIM_EV_PERSIST:
        sim_driver_persist(c, n);
        break;
    case SIM_EV_RESTART:
        sim_cluster_start(c, n->id);
        break;
    case SIM_EV_RESUME:
        sim_cluster_resume(c, n->id);
        break;
    case SIM_EV_CRASH:
        crash_now(c, n);
        break;
    case SIM_EV_CLIENT:
        sim_client_act(c, ev);
        break;
    case SIM_EV_UNREACHABLE:
        on_unreachable(c, n, ev);
        break;
    case SIM_EV_STALLED:
        sim_driver_stall_expired(c, n, ev);
        break;
    default:
        sim_cluster_fail(c, "harness", "unknown event kind %d", ev->kind);
        break;
    }
}

static void step(struct sim_cluster *c)
{
    struct sim_event ev;

    if (!sim_queue_pop(&c->q, &ev)) {
        return;
    }
    if (ev.time < c->now) {
        sim_cluster_fail(c, "harness",
                         "event at %" PRIu64 " ms after %" PRIu64 " ms",
                         ev.time, c->now);
        return;
    }
    c->now = ev.time;
    if (is_stale(c, &ev)) {
        return;
    }
    c->step++;
    dispatch(c, &ev);
    if (c->step >= STEP_BUDGET) {
        sim_cluster_fail(c, "runaway", "%" PRIu64 " steps in one seed",
                         c->step);
    }
    if (c->max_steps != 0 && c->step >= c->max_steps) {
        c->stopped = true;
    }
}

/* ---- life of a node ---- */

void sim_cluster_init(struct sim_cluster *c, const struct raft_config *base,
                      struct sim_rand *rng, struct sim_trace *trace,
                      uint64_t max_steps)
{
    static const struct sim_net_params calm = {.delay_min_ms = 1,
                                               .delay_max_ms = 10};

    memset(c, 0, sizeof *c);
    c->n = base->n_nodes;
    c->base = *base;
    c->rng = rng;
    c->trace = trace;
    c->max_steps = max_steps;
    c->disk.delay_max_ms = 2;
    sim_queue_init(&c->q);
    sim_net_init(&c->net, c->n, &calm);
    sim_check_init(&c->check, c->n);
    for (uint64_t id = 1; id <= c->n; id++) {
        struct sim_node *n = &c->nodes[id];

        n->id = id;
        n->cluster = c;
        sim_disk_init(&n->disk);
        sim_log_init(&n->dlog, NULL);
        sim_log_init(&n->mirror, NULL);
    }
}

/* Free what waited at paused node N; with C, the peers whose exchanges
 * die with it (N crashed) hear that at once. */
static void drop_held(struct sim_cluster *c, struct sim_node *n)
{
    for (size_t i = 0; i < n->n_held; i++) {
        if (n->held[i].kind != SIM_EV_DELIVER) {
            continue;
        }
        if (c != NULL) {
            sim_driver_exchange_failed(c, n->held[i].ptr, true);
        }
        free(n->held[i].ptr);
    }
    n->n_held = 0;
}

void sim_cluster_close(struct sim_cluster *c)
{
    struct sim_event ev;

    for (uint64_t id = 1; id <= c->n; id++) {
        struct sim_node *n = &c->nodes[id];

        raft_free(n->r);
        n->r = NULL;
        sim_disk_drop(&n->disk);
        drop_held(NULL, n);
        free(n->held);
        sim_log_free(&n->dlog);
        sim_log_free(&n->mirror);
        sim_client_forget(n);
    }
    while (sim_queue_pop(&c->q, &ev)) {
        if (ev.kind == SIM_EV_DELIVER) {
            free(ev.ptr);
        }
    }
    sim_queue_close(&c->q);
    sim_check_close(&c->check);
    sim_map_free(&c->load.read_floor);
}

/* The core gets the durable snapshot and the entries after it, as the
 * daemon skips the WAL's entries that its snapshot covers. */
static int restore(struct sim_cluster *c, struct sim_node *n)
{
    struct sim_log after;
    const struct sim_log *d = &n->dlog;
    int rc;

    if (sim_log_last_index(d) < n->dsnap.index ||
        d->base.index > n->dsnap.index) {
        sim_cluster_fail(c, "harness",
                         "node %" PRIu64 ": durable log %" PRIu64 "-%" PRIu64
                         " does not reach snapshot %" PRIu64,
                         n->id, d->base.index + 1, sim_log_last_index(d),
                         n->dsnap.index);
        return -1;
    }
    sim_log_copy(&after, d);
    sim_log_compact(&after, &n->dsnap);
    rc = raft_restore_log(n->r, after.base.index, after.base.term,
                          after.entries, after.n);
    if (rc != 0) {
        sim_cluster_fail(c, "core-api",
                         "node %" PRIu64 ": raft_restore_log refused its "
                         "durable log (%" PRIu64 "/%" PRIu64 " + %zu)",
                         n->id, after.base.index, after.base.term, after.n);
        sim_log_free(&after);
        return -1;
    }
    sim_log_free(&n->mirror);
    n->mirror = after;
    n->sm = n->dsnap;
    n->snap = n->dsnap;
    return 0;
}

void sim_cluster_start(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = &c->nodes[id];
    struct raft_config cfg = c->base;

    if (n->up || c->failed) {
        return;
    }
    cfg.id = id;
    cfg.seed = sim_rand_next(c->rng);
    n->clock_offset = sim_rand_range(c->rng, 0, CLOCK_OFFSET_MAX);
    n->r = raft_new(&cfg, &n->durable, sim_driver_now(n));
    if (n->r == NULL) {
        sim_cluster_fail(c, "core-api", "raft_new refused node %" PRIu64, id);
        return;
    }
    if (sim_trace_on(c->trace)) {
        raft_set_trace(n->r, core_trace, n);
    }
    n->up = true;
    n->paused = false;
    n->tick_pending = false;
    SIM_TRACE(c, id,
              "start from term %" PRIu64 ", vote %" PRIu64 ", snapshot %" PRIu64
              ", log to %" PRIu64,
              n->durable.term, n->durable.vote, n->dsnap.index,
              sim_log_last_index(&n->dlog));
    if (restore(c, n) != 0) {
        return;
    }
    raft_status(n->r, &n->st);
    if (sim_check_restart(&c->check, id, &n->durable, &n->st) != 0) {
        sim_driver_fail_check(c);
        return;
    }
    sim_driver_after_core(c, n, NULL);
}

/* At a crash: a random number of the writes under way reach the disk; the
 * next one may be torn (its hard state or not, a prefix of its entries; a
 * snapshot install is atomic). Returns the number of messages that die
 * with the writes. */
static size_t crash_disk(struct sim_cluster *c, struct sim_node *n)
{
    size_t pending = n->disk.pending;
    size_t keep = pending ? sim_rand_range(c->rng, 0, pending) : 0;
    size_t dropped = 0;
    struct sim_batch *b;

    for (size_t k = 0; k < keep; k++) {
        b = sim_disk_complete(&n->disk);
        sim_driver_apply_write(c, n, b, true, b->entries.n);
        dropped += b->n_msgs;
        sim_batch_free(b);
    }
    b = sim_disk_complete(&n->disk);
    if (b != NULL && !b->install && sim_rand_chance(c->rng, 500)) {
        sim_driver_apply_write(c, n, b, sim_rand_chance(c->rng, 500),
                               sim_rand_range(c->rng, 0, b->entries.n));
        c->stats.torn_writes++;
    }
    if (b != NULL) {
        dropped += b->n_msgs;
        sim_batch_free(b);
    }
    c->stats.lost_writes += pending - keep;
    SIM_TRACE(c, n->id,
              "crash: %zu of %zu writes under way reached the "
              "disk",
              keep, pending);
    return dropped + sim_disk_drop(&n->disk);
}

void sim_cluster_crash(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = &c->nodes[id];
    size_t dropped;

    if (!n->up) {
        return;
    }
    dropped = crash_disk(c, n);
    drop_held(c, n);
    raft_free(n->r);
    n->r = NULL;
    n->up = false;
    n->paused = false;
    n->life++;
    n->crash_armed = 0;
    n->tick_gen++;
    n->tick_pending = false;
    memset(&n->st, 0, sizeof n->st);
    memset(n->heard_at, 0, sizeof n->heard_at);
    memset(n->heard_term, 0, sizeof n->heard_term);
    sim_client_forget(n);
    sim_net_reconnect(&c->net, id);
    sim_check_crash(&c->check, id);
    c->stats.crashes++;
    SIM_TRACE(c, id,
              "crash: %zu waiting messages lost; disk: term %" PRIu64
              ", vote %" PRIu64 ", snapshot %" PRIu64 ", log to %" PRIu64,
              dropped, n->durable.term, n->durable.vote, n->dsnap.index,
              sim_log_last_index(&n->dlog));
}

void sim_cluster_crash_in_write(struct sim_cluster *c, uint64_t id,
                                uint64_t restart_ms)
{
    if (c->nodes[id].up || restart_ms == 0) {
        c->nodes[id].crash_armed = restart_ms;
    }
}

void sim_cluster_restart_at(struct sim_cluster *c, uint64_t id, uint64_t at)
{
    sim_driver_push(c, at, SIM_EV_RESTART, id, c->nodes[id].life, NULL);
}

void sim_cluster_pause(struct sim_cluster *c, uint64_t id, uint64_t at)
{
    struct sim_node *n = &c->nodes[id];

    if (!n->up || n->paused) {
        return;
    }
    n->paused = true;
    n->pause_gen++;
    n->tick_gen++;
    n->tick_pending = false;
    c->stats.pauses++;
    SIM_TRACE(c, id, "pause");
    if (at != 0) {
        sim_driver_push(c, at, SIM_EV_RESUME, id, n->pause_gen, NULL);
    }
}

void sim_cluster_resume(struct sim_cluster *c, uint64_t id)
{
    struct sim_node *n = &c->nodes[id];

    if (!n->up || !n->paused) {
        return;
    }
    n->paused = false;
    SIM_TRACE(c, id, "resume: %zu events waited", n->n_held);
    for (size_t i = 0; i < n->n_held; i++) {
        const struct sim_event *ev = &n->held[i];

        sim_driver_push(c, c->now, ev->kind, ev->node, ev->tag, ev->ptr);
    }
    n->n_held = 0;
    sim_driver_schedule_tick(c, n);
}

int sim_cluster_transfer(struct sim_cluster *c, uint64_t id, uint64_t to)
{
    struct sim_node *n = &c->nodes[id];
    int rc;

    if (!n->up || n->paused || c->stopped) {
        return -2;
    }
    c->step++;
    rc = raft_transfer(n->r, to, sim_driver_now(n));
    SIM_TRACE(c, id, "raft_transfer(to %" PRIu64 ") = %d", to, rc);
    sim_driver_after_core(c, n, NULL);
    return rc;
}

/* ---- running and looking ---- */

bool sim_cluster_run(struct sim_cluster *c, uint64_t until, sim_pred_fn pred,
                     void *arg)
{
    for (;;) {
        const struct sim_event *next;

        if (pred != NULL && pred(c, arg)) {
            return true;
        }
        if (c->stopped) {
            return false;
        }
        next = sim_queue_peek(&c->q);
        if (next == NULL || next->time > until) {
            if (until > c->now) {
                c->now = until;
            }
            return false;
        }
        step(c);
    }
}

/* The one running leader, or 0 when none or several. */
static uint64_t sole_leader(const struct sim_cluster *c)
{
    uint64_t leader = 0;

    for (uint64_t id = 1; id <= c->n; id++) {
        const struct sim_node *n = &c->nodes[id];

        if (n->up && !n->paused && n->st.role == RAFT_LEADER) {
            if (leader != 0) {
                return 0;
            }
            leader = id;
        }
    }
    return leader;
}

/* Follower F and leader L exchanged an AppendEntries of TERM since SINCE. */
static bool in_touch(const struct sim_node *f, const struct sim_node *l,
                     uint64_t term, uint64_t since)
{
    return f->heard_at[l->id] >= since && f->heard_term[l->id] == term &&
           l->heard_at[f->id] >= since && l->heard_term[f->id] == term;
}

uint64_t sim_cluster_agreed_leader(const struct sim_cluster *c, uint64_t since,
                                   uint64_t *term)
{
    uint64_t leader = sole_leader(c);
    const struct sim_node *l = &c->nodes[leader];
    size_t running = 0;

    if (leader == 0) {
        return 0;
    }
    for (uint64_t id = 1; id <= c->n; id++) {
        const struct sim_node *n = &c->nodes[id];

        if (!n->up || n->paused) {
            continue;
        }
        running++;
        if (n->st.leader != leader || n->st.term != l->st.term) {
            return 0;
        }
        if (id != leader && !in_touch(n, l, l->st.term, since)) {
            return 0;
        }
    }
    if (running <= c->n / 2) {
        return 0;
    }
    *term = l->st.term;
    return leader;
}

static bool is_timeout_now(const struct sim_event *ev)
{
    const struct raft_msg *m = ev->ptr;

    return ev->kind == SIM_EV_DELIVER && m->type == RAFT_MSG_TIMEOUT_NOW;
}

static bool node_has_timeout_now(const struct sim_node *n)
{
    for (size_t i = 0; i < n->n_held; i++) {
        if (is_timeout_now(&n->held[i])) {
            return true;
        }
    }
    for (const struct sim_batch *b = n->disk.head; b != NULL; b = b->next) {
        for (size_t i = 0; i < b->n_msgs; i++) {
            if (b->msgs[i]->type == RAFT_MSG_TIMEOUT_NOW) {
                return true;
            }
        }
    }
    return false;
}

bool sim_cluster_no_transfer(const struct sim_cluster *c)
{
    for (uint64_t id = 1; id <= c->n; id++) {
        const struct sim_node *n = &c->nodes[id];

        if ((n->up && n->st.transfer_target != 0) || node_has_timeout_now(n)) {
            return false;
        }
    }
    for (size_t i = 0; i < c->q.n; i++) {
        if (is_timeout_now(&c->q.heap[i])) {
            return false;
        }
    }
    return true;
}

int sim_cluster_check_logs(struct sim_cluster *c)
{
    for (uint64_t a = 1; a <= c->n; a++) {
        for (uint64_t b = a + 1; b <= c->n; b++) {
            const struct sim_node *x = &c->nodes[a];
            const struct sim_node *y = &c->nodes[b];

            if (!x->up || !y->up) {
                continue;
            }
            if (sim_check_log_matching(&c->check, a, &x->mirror, b,
                                       &y->mirror) != 0) {
                sim_driver_fail_check(c);
                return -1;
            }
        }
    }
    return 0;
}

void sim_cluster_fail(struct sim_cluster *c, const char *prop, const char *fmt,
                      ...)
{
    va_list ap;

    if (c->failed) {
        return;
    }
    c->failed = true;
    c->stopped = true;
    snprintf(c->fail_prop, sizeof c->fail_prop, "%s", prop);
    va_start(ap, fmt);
    vsnprintf(c->fail_msg, sizeof c->fail_msg, fmt, ap);
    va_end(ap);
    SIM_TRACE(c, 0, "FAIL %s: %s", c->fail_prop, c->fail_msg);
}

void sim_cluster_note(struct sim_cluster *c, uint64_t id, const char *fmt, ...)
{
    char line[SIM_TRACE_LINE];
    va_list ap;

    if (!sim_trace_on(c->trace)) {
        return;
    }
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    sim_tracef(c->trace, c->now, c->step, id, "%s", line);
}
