/* sim_driver.c - what happens around every call into a node's core.
 *
 * After each call the driver does what the daemon does with raft_ready():
 *
 *   snapshot_installed  the snapshot received earlier replaces the state
 *                       machine and the log (a write the messages wait for)
 *   entries             mirrored (the core's log as handed out) and written
 *   hard_state          written; the batch's messages wait until durable
 *   committed           applied to the state machine, checked against what
 *                       every other node applied at that index
 *   reads               checked against the writes acknowledged before them
 *   msgs                sent at once, or held behind the newest hard-state
 *                       or snapshot write; an APPEND's entries whose
 *                       bodies the core released are read back from the
 *                       node's durable log into the copy that travels
 *
 * then snapshots the state machine when enough is applied (raft_compact),
 * tells the core what could not be read back (raft_report_lost for entries
 * the disk no longer holds), reads the node's status for the checks, and
 * schedules its next tick.
 * When a write completes (sim_driver_persist) its entries reach the node's
 * durable log and the core hears of it through raft_persisted(). */
#include "sim_driver.h"

#include "sim_msg.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* What a batch could not send, by peer id, for the core once the batch is
 * done (the ready's pointers are dead then). */
struct sim_unsent {
    uint64_t lost[RAFT_MAX_NODES + 1]; /* released entries the disk lacks */
    bool failed[RAFT_MAX_NODES + 1];   /* a read back failed */
};

void sim_driver_push(struct sim_cluster *c, uint64_t at, int kind, uint64_t id,
                     uint64_t tag, void *ptr)
{
    struct sim_event ev = {
        .time = at, .kind = kind, .node = id, .tag = tag, .ptr = ptr};

    sim_queue_push(&c->q, &ev);
}

uint64_t sim_driver_now(const struct sim_node *n)
{
    return n->cluster->now + n->clock_offset;
}

void sim_driver_fail_check(struct sim_cluster *c)
{
    sim_cluster_fail(c, c->check.prop, "%s", c->check.msg);
}

/* ---- sending ---- */

/* An APPEND's entries lack data only in the released prefix it names. */
static int check_bodies(struct sim_cluster *c, const struct sim_node *n,
                        const struct raft_msg *m)
{
    const struct raft_append *a = &m->u.append;
    char buf[128];

    if (a->n_released > a->n_entries) {
        sim_cluster_fail(c, "core-api",
                         "node %" PRIu64 " emits %s with %zu released entries",
                         n->id, sim_msg_describe(m, buf, sizeof buf),
                         a->n_released);
        return -1;
    }
    for (size_t i = a->n_released; i < a->n_entries; i++) {
        if (a->entries[i].len > 0 && a->entries[i].data == NULL) {
            sim_cluster_fail(c, "core-api",
                             "node %" PRIu64 " emits %s: entry %" PRIu64
                             " lacks its data but is not counted released",
                             n->id, sim_msg_describe(m, buf, sizeof buf),
                             a->entries[i].index);
            return -1;
        }
    }
    return 0;
}

static int check_outgoing(struct sim_cluster *c, const struct sim_node *n,
                          const struct raft_msg *m)
{
    char buf[128];

    if (m->from != n->id || m->to < 1 || m->to > c->n || m->to == n->id ||
        m->type <= RAFT_MSG_NONE || m->type > RAFT_MSG_SNAPSHOT_RESULT) {
        sim_cluster_fail(c, "core-api", "node %" PRIu64 " emits %s", n->id,
                         sim_msg_describe(m, buf, sizeof buf));
        return -1;
    }
    if (m->type == RAFT_MSG_SNAPSHOT &&
        (m->u.snapshot.last_index != n->snap.index ||
         m->u.snapshot.last_term != n->snap.term)) {
        sim_cluster_fail(c, "core-api",
                         "node %" PRIu64 " offers %s, but its driver's "
                         "snapshot is at %" PRIu64 "/%" PRIu64,
                         n->id, sim_msg_describe(m, buf, sizeof buf),
                         n->snap.index, n->snap.term);
        return -1;
    }
    return m->type == RAFT_MSG_APPEND ? check_bodies(c, n, m) : 0;
}

static bool is_request(enum raft_msg_type t)
{
    return t == RAFT_MSG_VOTE || t == RAFT_MSG_APPEND ||
           t == RAFT_MSG_TIMEOUT_NOW || t == RAFT_MSG_SNAPSHOT;
}

/* Report to WHO, after AFTER ms, that its exchange with PEER failed. */
static void report_failure(struct sim_cluster *c, uint64_t who, uint64_t peer,
                           uint64_t after)
{
    sim_driver_push(c, c->now + after, SIM_EV_UNREACHABLE, who,
                    c->nodes[who].life, (void *)(uintptr_t)peer);
}

void sim_driver_exchange_failed(struct sim_cluster *c, const struct raft_msg *m,
                                bool down)
{
    uint64_t who = is_request(m->type) ? m->from : m->to;
    uint64_t peer = is_request(m->type) ? m->to : m->from;

    report_failure(c, who, peer,
                   down ? sim_rand_range(c->rng, 1, 5)
                        : c->base.election_min_ms);
}

void sim_driver_exchange_stalled(struct sim_cluster *c, struct sim_node *n,
                                 const struct raft_msg *m)
{
    uint64_t who = is_request(m->type) ? m->from : m->to;
    uint64_t peer = is_request(m->type) ? m->to : m->from;

    sim_driver_push(c, c->now + c->base.election_min_ms, SIM_EV_STALLED, n->id,
                    n->pause_gen, (void *)(uintptr_t)(who << 8 | peer));
}

void sim_driver_stall_expired(struct sim_cluster *c, struct sim_node *n,
                              const struct sim_event *ev)
{
    uint64_t pair = (uint64_t)(uintptr_t)ev->ptr;

    if (n->up && n->paused && ev->tag == n->pause_gen) {
        report_failure(c, pair >> 8, pair & 0xff, 0);
    }
}

static void send_msg(struct sim_cluster *c, struct sim_node *n,
                     struct raft_msg *m)
{
    uint64_t at[2];
    bool cut;
    size_t copies;
    char buf[128];

    if (sim_check_release(&c->check, n->id, m) != 0) {
        sim_driver_fail_check(c);
        free(m);
        return;
    }
    c->stats.sent++;
    copies = sim_net_route(&c->net, c->rng, m->from, m->to, c->now, at, &cut);
    if (copies == 0) {
        c->stats.cut += cut;
        c->stats.lost += !cut;
        SIM_TRACE(c, n->id, "send %s: %s", sim_msg_describe(m, buf, sizeof buf),
                  cut ? "link cut" : "lost");
        sim_driver_exchange_failed(c, m, false);
        free(m);
        return;
    }
    SIM_TRACE(c, n->id, "send %s: arrives in %" PRIu64 " ms%s",
              sim_msg_describe(m, buf, sizeof buf), at[0] - c->now,
              copies == 2 ? " (and a duplicate)" : "");
    *sim_msg_epoch(m) = sim_net_epoch(&c->net, m->from, m->to);
    if (copies == 2) {
        struct raft_msg *dup = sim_msg_copy(m);

        *sim_msg_snap(dup) = *sim_msg_snap(m);
        *sim_msg_epoch(dup) = *sim_msg_epoch(m);
        c->stats.duplicated++;
        sim_driver_push(c, at[1], SIM_EV_DELIVER, m->to, 0, dup);
    }
    sim_driver_push(c, at[0], SIM_EV_DELIVER, m->to, 0, m);
}

/* ---- the disk ---- */

static uint64_t disk_delay(struct sim_cluster *c)
{
    const struct sim_disk_params *p = &c->disk;
    uint64_t tail =
        p->tail_max_ms > p->delay_max_ms ? p->tail_max_ms : p->delay_max_ms;

    if (sim_rand_chance(c->rng, p->tail_permille)) {
        return sim_rand_range(c->rng, p->delay_max_ms, tail);
    }
    return sim_rand_range(c->rng, p->delay_min_ms, p->delay_max_ms);
}

void sim_driver_make_durable(struct sim_cluster *c, struct sim_node *n,
                             const struct raft_hard_state *hs)
{
    if (sim_check_persist(&c->check, n->id, hs) != 0) {
        sim_driver_fail_check(c);
        return;
    }
    n->durable = *hs;
    SIM_TRACE(c, n->id, "durable: term %" PRIu64 ", vote %" PRIu64, hs->term,
              hs->vote);
}

void sim_driver_apply_write(struct sim_cluster *c, struct sim_node *n,
                            const struct sim_batch *b, bool hs_too,
                            size_t n_entries)
{
    if (b->has_hs && hs_too) {
        sim_driver_make_durable(c, n, &b->hs);
    }
    if (n_entries > 0 &&
        sim_log_write(&n->dlog, b->entries.entries, n_entries) != 0) {
        sim_cluster_fail(c, "harness",
                         "node %" PRIu64 ": entries from %" PRIu64
                         " do not follow its durable log (last %" PRIu64 ")",
                         n->id, b->entries.entries[0].index,
                         sim_log_last_index(&n->dlog));
        return;
    }
    if (b->install) {
        sim_log_free(&n->dlog);
        sim_log_init(&n->dlog, &b->snap);
        n->dsnap = b->snap;
        SIM_TRACE(c, n->id,
                  "durable: snapshot at %" PRIu64 "/%" PRIu64
                  " replaces the log",
                  b->snap.index, b->snap.term);
    }
}

void sim_driver_persist(struct sim_cluster *c, struct sim_node *n)
{
    struct sim_batch *b = sim_disk_complete(&n->disk);
    const struct sim_log *e;

    if (b == NULL) {
        sim_cluster_fail(c, "harness", "node %" PRIu64 ": no write to finish",
                         n->id);
        return;
    }
    sim_driver_apply_write(c, n, b, true, b->entries.n);
    for (size_t i = 0; i < b->n_msgs && !c->failed; i++) {
        send_msg(c, n, b->msgs[i]);
        b->msgs[i] = NULL;
    }
    e = &b->entries;
    if (e->n > 0 && !c->failed) {
        SIM_TRACE(c, n->id, "durable: entries %" PRIu64 "-%" PRIu64,
                  e->base.index + 1, sim_log_last_index(e));
        raft_persisted(n->r, sim_log_last_index(e), sim_log_last_term(e),
                       sim_driver_now(n));
        sim_driver_after_core(c, n, NULL);
    }
    sim_batch_free(b);
}

/* ---- one raft_ready ---- */

static int ready_install(struct sim_cluster *c, struct sim_node *n,
                         const struct raft_ready *rd)
{
    const struct raft_snapshot_ref *s = &rd->snapshot;

    if (s->last_index != n->incoming.index ||
        s->last_term != n->incoming.term) {
        sim_cluster_fail(c, "core-api",
                         "node %" PRIu64 " installed snapshot %" PRIu64
                         "/%" PRIu64 ", not the one it received (%" PRIu64
                         "/%" PRIu64 ")",
                         n->id, s->last_index, s->last_term, n->incoming.index,
                         n->incoming.term);
        return -1;
    }
    if (sim_check_install(&c->check, n->id, &n->incoming) != 0) {
        sim_driver_fail_check(c);
        return -1;
    }
    n->sm = n->incoming;
    n->snap = n->incoming;
    sim_log_free(&n->mirror);
    sim_log_init(&n->mirror, &n->incoming);
    c->stats.installs++;
    SIM_TRACE(c, n->id, "install snapshot at %" PRIu64 "/%" PRIu64,
              s->last_index, s->last_term);
    return 0;
}

static void ready_write(struct sim_cluster *c, struct sim_node *n,
                        const struct raft_ready *rd)
{
    const struct raft_hard_state *hs =
        rd->hard_state_changed ? &rd->hard_state : NULL;
    const struct sim_snap *install =
        rd->snapshot_installed ? &n->incoming : NULL;
    uint64_t done;

    if (hs == NULL && rd->n_entries == 0 && install == NULL) {
        return;
    }
    if (rd->n_entries > 0 &&
        sim_log_write(&n->mirror, rd->entries, rd->n_entries) != 0) {
        sim_cluster_fail(c, "core-api",
                         "node %" PRIu64 " hands out entries from %" PRIu64
                         " after a log ending at %" PRIu64,
                         n->id, rd->entries[0].index,
                         sim_log_last_index(&n->mirror));
        return;
    }
    done = sim_disk_write(&n->disk, hs, rd->entries, rd->n_entries, install,
                          c->now, disk_delay(c));
    sim_driver_push(c, done, SIM_EV_PERSIST, n->id, n->life, NULL);
    if (n->crash_armed) {
        sim_driver_push(c, sim_rand_range(c->rng, c->now, done), SIM_EV_CRASH,
                        n->id, n->life, NULL);
    }
    SIM_TRACE(c, n->id, "write%s%s, %zu entries: durable at %" PRIu64 " ms",
              hs ? " hard state" : "", install ? " snapshot" : "",
              rd->n_entries, done);
}

static int ready_apply(struct sim_cluster *c, struct sim_node *n,
                       const struct raft_ready *rd)
{
    for (size_t i = 0; i < rd->n_committed; i++) {
        const struct raft_entry *e = &rd->committed[i];
        const struct raft_entry *d = sim_log_get(&n->dlog, e->index);

        if (d == NULL || sim_log_entry_hash(d) != sim_log_entry_hash(e)) {
            sim_cluster_fail(c, "apply-durable",
                             "node %" PRIu64 " applies entry %" PRIu64
                             " (term %" PRIu64 "), which its disk %s",
                             n->id, e->index, e->term,
                             d ? "holds differently" : "does not hold");
            return -1;
        }
        if (sim_check_apply(&c->check, n->id, &n->sm, e) != 0) {
            sim_driver_fail_check(c);
            return -1;
        }
        c->stats.applied++;
        sim_client_applied(c, n, e);
    }
    for (size_t i = 0; i < rd->n_reads && !c->failed; i++) {
        sim_client_read_done(c, n, &rd->reads[i]);
    }
    return c->failed ? -1 : 0;
}

/* Entry I of APPEND A (released) from N's disk into *OUT, as the daemon
 * reads it from its WAL. Returns 0; 1 when the disk no longer holds it
 * (noted in U); -1 when the disk holds another entry there or none yet
 * (the core released what is not durable: a failure). */
static int read_back_one(struct sim_cluster *c, struct sim_node *n,
                         const struct raft_msg *m, size_t i,
                         struct raft_entry *out, struct sim_unsent *u)
{
    const struct raft_entry *e = &m->u.append.entries[i];
    const struct raft_entry *d = sim_log_get(&n->dlog, e->index);

    if (d == NULL && e->index <= n->dlog.base.index) {
        uint64_t last = m->u.append.entries[m->u.append.n_released - 1].index;
        uint64_t gone = n->dlog.base.index < last ? n->dlog.base.index : last;

        u->lost[m->to] = gone > u->lost[m->to] ? gone : u->lost[m->to];
        return 1;
    }
    if (d == NULL || d->term != e->term || d->len != e->len ||
        d->type != e->type) {
        sim_cluster_fail(c, "core-api",
                         "node %" PRIu64 " sends entry %" PRIu64
                         " (term %" PRIu64 ") without its data, but its disk "
                         "%s",
                         n->id, e->index, e->term,
                         d ? "holds another entry there" : "does not hold it");
        return -1;
    }
    *out = *d;
    return 0;
}

/* A copy of APPEND M to send, with the data of its released entries read
 * back from N's disk; NULL when they cannot all be read (U says why) or
 * the cluster failed. */
static struct raft_msg *copy_read_back(struct sim_cluster *c,
                                       struct sim_node *n,
                                       const struct raft_msg *m,
                                       struct sim_unsent *u)
{
    const struct raft_append *a = &m->u.append;
    struct raft_entry *e;
    struct raft_msg filled = *m;
    struct raft_msg *copy = NULL;
    int rc = 0;

    if (c->disk.read_fail_permille > 0 &&
        sim_rand_chance(c->rng, c->disk.read_fail_permille)) {
        u->failed[m->to] = true;
        c->stats.read_faults++;
        SIM_TRACE(c, n->id, "read back for %" PRIu64 " fails (injected)",
                  m->to);
        return NULL;
    }
    e = sim_xcalloc(a->n_entries, sizeof *e);
    for (size_t i = 0; i < a->n_entries && rc == 0; i++) {
        e[i] = a->entries[i];
        if (i < a->n_released) {
            rc = read_back_one(c, n, m, i, &e[i], u);
        }
    }
    if (rc == 0) {
        filled.u.append.entries = e;
        filled.u.append.n_released = 0;
        copy = sim_msg_copy(&filled);
        c->stats.read_back += a->n_released;
        SIM_TRACE(c, n->id,
                  "read back entries %" PRIu64 "-%" PRIu64
                  " from disk for %" PRIu64,
                  e[0].index, e[a->n_released - 1].index, m->to);
    } else if (rc > 0) {
        c->stats.read_lost++;
        SIM_TRACE(c, n->id,
                  "entries up to %" PRIu64 " for %" PRIu64
                  " are no longer on disk: not sent",
                  u->lost[m->to], m->to);
    }
    free(e);
    return copy;
}

static void ready_msgs(struct sim_cluster *c, struct sim_node *n,
                       const struct raft_ready *rd, const struct raft_msg *in,
                       struct sim_unsent *u)
{
    for (size_t i = 0; i < rd->n_msgs && !c->failed; i++) {
        const struct raft_msg *m = &rd->msgs[i];
        struct raft_msg *copy;

        if (check_outgoing(c, n, m) != 0) {
            return;
        }
        /* n->st is still the status from before this step. */
        if (sim_check_grant(&c->check, &n->st, in, m) != 0) {
            sim_driver_fail_check(c);
            return;
        }
        if (m->type == RAFT_MSG_APPEND && m->u.append.n_released > 0) {
            copy = copy_read_back(c, n, m, u);
        } else {
            copy = sim_msg_copy(m);
        }
        if (copy == NULL) {
            continue;
        }
        *sim_msg_snap(copy) = n->snap;
        if (sim_disk_busy(&n->disk)) {
            sim_disk_hold(&n->disk, copy);
        } else {
            send_msg(c, n, copy);
        }
    }
}

static void handle_ready(struct sim_cluster *c, struct sim_node *n,
                         const struct raft_ready *rd, const struct raft_msg *in,
                         struct sim_unsent *u)
{
    if (rd->snapshot_installed && ready_install(c, n, rd) != 0) {
        return;
    }
    ready_write(c, n, rd);
    if (c->failed || ready_apply(c, n, rd) != 0) {
        return;
    }
    ready_msgs(c, n, rd, in, u);
}

/* Tell N's core what its last batch could not read back. Returns true when
 * there was something to tell. */
static bool report_unsent(struct sim_cluster *c, struct sim_node *n,
                          const struct sim_unsent *u)
{
    bool told = false;

    for (uint64_t id = 1; id <= c->n; id++) {
        if (u->lost[id] != 0) {
            raft_report_lost(n->r, id, u->lost[id], sim_driver_now(n));
            told = true;
        }
        if (u->failed[id]) {
            raft_report_unreachable(n->r, id, sim_driver_now(n));
            told = true;
        }
    }
    return told;
}

/* Drop N's durable log up to disk_keep entries behind its snapshot, as
 * the daemon drops WAL segments. */
static void trim_disk(struct sim_cluster *c, struct sim_node *n)
{
    struct sim_snap cut = n->dsnap;

    if (c->disk_keep > 0) {
        if (cut.index <= n->dlog.base.index + c->disk_keep) {
            return;
        }
        cut.index -= c->disk_keep;
        cut.term = sim_log_get(&n->dlog, cut.index)->term;
        cut.digest = 0; /* not a snapshot: only where the log starts */
    }
    sim_log_compact(&n->dlog, &cut);
}

/* Snapshot the state machine once snap_every entries were applied since
 * the last snapshot: durable at once, the log behind it dropped (but for
 * disk_keep entries). */
static bool maybe_compact(struct sim_cluster *c, struct sim_node *n)
{
    if (c->snap_every == 0 || n->sm.index < n->snap.index + c->snap_every) {
        return false;
    }
    n->snap = n->sm;
    n->dsnap = n->snap;
    trim_disk(c, n);
    sim_log_compact(&n->mirror, &n->snap);
    raft_compact(n->r, n->snap.index, c->snap_keep);
    c->stats.snapshots++;
    SIM_TRACE(c, n->id, "snapshot at %" PRIu64 "/%" PRIu64 ", keep %u",
              n->snap.index, n->snap.term, c->snap_keep);
    return true;
}

/* ---- status and checks ---- */

static void check_mirror(struct sim_cluster *c, const struct sim_node *n)
{
    if (n->st.last_log_index != sim_log_last_index(&n->mirror) ||
        n->st.last_log_term != sim_log_last_term(&n->mirror)) {
        sim_cluster_fail(
            c, "core-api",
            "node %" PRIu64 " reports its log at %" PRIu64 "/%" PRIu64
            " but handed out entries up to %" PRIu64 "/%" PRIu64,
            n->id, n->st.last_log_index, n->st.last_log_term,
            sim_log_last_index(&n->mirror), sim_log_last_term(&n->mirror));
    }
}

static void observe(struct sim_cluster *c, struct sim_node *n)
{
    struct raft_status old = n->st;

    raft_status(n->r, &n->st);
    if (sim_check_observe(&c->check, &n->st) != 0) {
        sim_driver_fail_check(c);
        return;
    }
    check_mirror(c, n);
    if (!c->failed && n->st.released_index > n->st.applied_index) {
        sim_cluster_fail(c, "core-api",
                         "node %" PRIu64 " released the bodies of entries "
                         "up to %" PRIu64 ", past what it applied (%" PRIu64
                         ")",
                         n->id, n->st.released_index, n->st.applied_index);
    }
    if (c->failed) {
        return;
    }
    if (n->st.term > c->stats.max_term) {
        c->stats.max_term = n->st.term;
    }
    if (n->st.role == RAFT_LEADER && c->first_leader == 0) {
        c->first_leader = n->id;
    }
    if (n->st.role == RAFT_LEADER &&
        (old.role != RAFT_LEADER || old.term != n->st.term) &&
        sim_check_leader_log(&c->check, n->id, n->st.term, &n->mirror) != 0) {
        sim_driver_fail_check(c);
        return;
    }
    if (n->st.role == RAFT_LEADER && n->st.commit_index > old.commit_index &&
        sim_check_commit(&c->check, n->id, n->st.term, old.commit_index,
                         n->st.commit_index, &n->mirror) != 0) {
        sim_driver_fail_check(c);
        return;
    }
    if (old.role != n->st.role || old.term != n->st.term ||
        old.leader != n->st.leader) {
        SIM_TRACE(c, n->id,
                  "now %s, term %" PRIu64 ", leader %" PRIu64 ", vote %" PRIu64
                  ", log %" PRIu64 "/%" PRIu64,
                  raft_role_name(n->st.role), n->st.term, n->st.leader,
                  n->st.vote, n->st.last_log_index, n->st.last_log_term);
    }
}

void sim_driver_schedule_tick(struct sim_cluster *c, struct sim_node *n)
{
    uint64_t local = raft_next_deadline(n->r);
    uint64_t at;

    if (n->tick_pending && local == n->tick_deadline) {
        return;
    }
    n->tick_gen++;
    n->tick_pending = false;
    n->tick_deadline = local;
    if (local == UINT64_MAX) {
        return;
    }
    at = local > n->clock_offset ? local - n->clock_offset : 0;
    if (at < c->now) {
        at = c->now;
    }
    at += sim_rand_range(c->rng, 0, 1);
    n->tick_pending = true;
    sim_driver_push(c, at, SIM_EV_TICK, n->id, n->tick_gen, NULL);
}

void sim_driver_after_core(struct sim_cluster *c, struct sim_node *n,
                           const struct raft_msg *in)
{
    struct raft_ready rd;

    /* Another round only follows a snapshot (raft_compact) or a report of
     * what could not be read back; what is left waits for the next call. */
    for (int round = 0; round < 3 && raft_ready(n->r, &rd); round++) {
        struct sim_unsent u;
        bool more;

        memset(&u, 0, sizeof u);
        handle_ready(c, n, &rd, round == 0 ? in : NULL, &u);
        if (c->failed) {
            break;
        }
        more = maybe_compact(c, n);
        if (!report_unsent(c, n, &u) && !more) {
            break;
        }
    }
    if (c->failed) {
        return;
    }
    observe(c, n);
    if (!c->failed) {
        sim_driver_schedule_tick(c, n);
    }
}
