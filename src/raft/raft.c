/* raft.c - the Raft core: lifecycle, roles, timers and the output queue.
 *
 * Roles and how a node moves between them (raft_set_role checks each move):
 *
 *   follower --(election timeout, prevote on)--> precandidate
 *   follower --(election timeout, prevote off; or TimeoutNow)--> candidate
 *   precandidate --(a majority would vote for it)--> candidate
 *   precandidate, candidate --(a leader of its term or a higher term)-->
 *       follower
 *   candidate --(a majority voted for it)--> leader
 *   candidate --(election timeout)--> precandidate or candidate again
 *   leader --(a higher term, or no contact with a majority for an election
 *       timeout: check-quorum)--> follower
 *
 * Timers are deadlines in the driver's clock: an election deadline for
 * everyone but the leader, a heartbeat deadline and the check-quorum
 * deadline for the leader. raft_next_deadline() tells the driver when to
 * call raft_tick() again.
 *
 * On a fresh cluster (term 0), election timeouts are ordered by id: the
 * lowest id gets the shortest, so node 1 normally becomes the first leader.
 * Only liveness uses this; every safety rule holds whatever the timeouts.
 * After the first term, timeouts are drawn at random between min and max.
 *
 * The election rules (votes, pre-vote, stickiness, transfer) live in
 * raft_election.c; AppendEntries and check-quorum in raft_replication.c.
 */
#include "raft/raft_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const role_names[] = {"follower", "precandidate",
                                         "candidate", "leader"};

const char *raft_role_name(enum raft_role role)
{
    if ((unsigned)role >= sizeof(role_names) / sizeof(role_names[0])) {
        return "unknown";
    }
    return role_names[role];
}

const char *raft_msg_type_name(enum raft_msg_type type)
{
    switch (type) {
    case RAFT_MSG_VOTE:
        return "vote";
    case RAFT_MSG_VOTE_RESULT:
        return "vote_result";
    case RAFT_MSG_APPEND:
        return "append";
    case RAFT_MSG_APPEND_RESULT:
        return "append_result";
    case RAFT_MSG_TIMEOUT_NOW:
        return "timeout_now";
    case RAFT_MSG_SNAPSHOT:
        return "snapshot";
    case RAFT_MSG_SNAPSHOT_RESULT:
        return "snapshot_result";
    case RAFT_MSG_NONE:
        break;
    }
    return "none";
}

void raft_config_defaults(struct raft_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->election_min_ms = 150;
    cfg->election_max_ms = 300;
    cfg->heartbeat_ms = 50;
    cfg->prevote = true;
    cfg->check_quorum = true;
    cfg->max_append_bytes = 1u << 20;
    cfg->max_append_entries = 1024;
    cfg->max_inflight = 8;
}

int raft_config_check(const struct raft_config *cfg, char *err, size_t errlen)
{
    bool self = false;

    if (cfg->n_nodes < RAFT_MIN_NODES || cfg->n_nodes > RAFT_MAX_NODES) {
        snprintf(err, errlen, "a cluster has %d to %d nodes, not %zu",
                 RAFT_MIN_NODES, RAFT_MAX_NODES, cfg->n_nodes);
        return -1;
    }
    for (size_t i = 0; i < cfg->n_nodes; i++) {
        if (cfg->ids[i] == 0) {
            snprintf(err, errlen, "node ids start at 1");
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (cfg->ids[j] == cfg->ids[i]) {
                snprintf(err, errlen, "node id %llu appears twice",
                         (unsigned long long)cfg->ids[i]);
                return -1;
            }
        }
        self = self || cfg->ids[i] == cfg->id;
    }
    if (!self) {
        snprintf(err, errlen, "own id %llu is not among the nodes",
                 (unsigned long long)cfg->id);
        return -1;
    }
    if (cfg->election_min_ms == 0 ||
        cfg->election_max_ms <= cfg->election_min_ms) {
        snprintf(err, errlen, "election timeout needs 0 < min < max");
        return -1;
    }
    if (cfg->max_append_bytes == 0 || cfg->max_append_entries == 0 ||
        cfg->max_inflight == 0 || cfg->max_inflight > 64) {
        snprintf(err, errlen,
                 "append limits must be positive (and at most "
                 "64 in flight)");
        return -1;
    }
    if (cfg->heartbeat_ms == 0 || cfg->heartbeat_ms >= cfg->election_min_ms) {
        snprintf(err, errlen,
                 "heartbeat interval must be below the election timeout");
        return -1;
    }
    return 0;
}

/* splitmix64: small, fast, and fully determined by the seed. */
static uint64_t rng_next(struct raft *r)
{
    uint64_t z = (r->rng += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Position of this node among the ids sorted ascending: 0 for the lowest. */
static size_t id_rank(const struct raft *r)
{
    size_t rank = 0;

    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        rank += r->cfg.ids[i] < r->cfg.id;
    }
    return rank;
}

static uint64_t election_timeout(struct raft *r)
{
    uint64_t span = r->cfg.election_max_ms - r->cfg.election_min_ms;
    uint64_t slot;

    if (r->term == 0) {
        /* Fresh cluster: one slot per node, lowest id first, a little
         * jitter inside the slot so equal ids never matter. */
        slot = span / r->cfg.n_nodes;
        return r->cfg.election_min_ms + id_rank(r) * slot +
               (slot > 4 ? rng_next(r) % (slot / 4) : 0);
    }
    return r->cfg.election_min_ms + rng_next(r) % span;
}

void raft_reset_election_timer(struct raft *r)
{
    r->election_deadline = r->now + election_timeout(r);
}

void raft_trace(struct raft *r, const char *fmt, ...)
{
    char line[256];
    int n;
    va_list ap;

    if (r->trace_cb == NULL) {
        return;
    }
    n = snprintf(line, sizeof(line),
                 "term %llu: ", (unsigned long long)r->term);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    va_end(ap);
    r->trace_cb(r->trace_arg, line);
}

void raft_set_trace(struct raft *r, raft_trace_cb cb, void *arg)
{
    r->trace_cb = cb;
    r->trace_arg = arg;
}

int raft_peer_pos(const struct raft *r, uint64_t id)
{
    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        if (r->cfg.ids[i] == id) {
            return (int)i;
        }
    }
    return -1;
}

struct raft_msg *raft_send(struct raft *r, enum raft_msg_type type, uint64_t to)
{
    struct raft_msg *m;

    if (r->n_out == r->cap_out) {
        size_t cap = r->cap_out ? r->cap_out * 2 : 16;
        struct raft_msg *out = realloc(r->out, cap * sizeof(*out));

        if (out == NULL) {
            /* Dropping a message is always safe in Raft: the network may
             * lose it too. The timers resend what matters. */
            return NULL;
        }
        r->out = out;
        r->cap_out = cap;
    }
    m = &r->out[r->n_out++];
    memset(m, 0, sizeof(*m));
    m->type = type;
    m->from = r->cfg.id;
    m->to = to;
    m->term = r->term;
    return m;
}

/* Every role change goes through here, so an impossible one fails loudly
 * instead of corrupting the state. */
static void raft_set_role(struct raft *r, enum raft_role role)
{
    static const bool allowed[4][4] = {
        /* to:          F      PC     C      L */
        [RAFT_FOLLOWER] = {true, true, true, false},
        [RAFT_PRECANDIDATE] = {true, true, true, false},
        [RAFT_CANDIDATE] = {true, true, true, true},
        [RAFT_LEADER] = {true, false, false, false},
    };

    if (!allowed[r->role][role]) {
        fprintf(stderr, "raft: impossible role change %s -> %s\n",
                raft_role_name(r->role), raft_role_name(role));
        abort();
    }
    if (r->role != role) {
        raft_trace(r, "%s -> %s", raft_role_name(r->role),
                   raft_role_name(role));
    }
    r->role = role;
}

void raft_set_term(struct raft *r, uint64_t term)
{
    if (term > r->term) {
        r->term = term;
        r->vote = 0;
        r->hard_state_dirty = true;
    }
}

static void raft_set_leader(struct raft *r, uint64_t leader)
{
    if (leader != r->leader && leader != 0) {
        r->leader_changes++;
        raft_trace(r, "leader is now %llu", (unsigned long long)leader);
    }
    r->leader = leader;
}

void raft_become_follower(struct raft *r, uint64_t term, uint64_t leader)
{
    bool new_term = term > r->term;

    raft_set_term(r, term);
    if (r->role != RAFT_FOLLOWER || new_term) {
        raft_set_role(r, RAFT_FOLLOWER);
        r->transfer_target = 0;
        /* Reads waiting on our leadership fail: the driver sees the role
         * change and answers them. */
        r->n_reads_waiting = 0;
        r->read_round_wanted = false;
        r->votes_granted = 0;
        r->votes_rejected = 0;
        raft_reset_election_timer(r);
    }
    if (new_term && leader == 0) {
        r->leader = 0;
    }
    if (leader != 0) {
        raft_set_leader(r, leader);
    }
}

void raft_become_leader(struct raft *r)
{
    uint64_t next = raft_log_last_index(&r->log) + 1;
    struct raft_entry noop = {
        .term = r->term, .index = next, .type = RAFT_ENTRY_NOOP};

    raft_set_role(r, RAFT_LEADER);
    raft_set_leader(r, r->cfg.id);
    r->transfer_target = 0;
    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        struct raft_peer *p = &r->peers[i];

        p->next_index = next;
        p->match_index = 0;
        p->probing = true;
        p->probe_sent = false;
        p->snapshotting = false;
        p->infl_count = 0;
        p->acked_seq = 0;
        p->reading_back = false;
        /* A fresh leader gives every peer one check-quorum window. */
        p->last_heard = r->now;
    }
    r->read_seq = 0;
    /* Entries of earlier terms are committed only with one of ours: a
     * no-op commits everything before it at once (paper 5.4.2). If memory
     * runs out, the first proposal does the same job. */
    raft_log_append(&r->log, &noop);
    raft_broadcast_append(r);
    r->heartbeat_deadline = r->now + r->cfg.heartbeat_ms;
}

void raft_become_precandidate(struct raft *r)
{
    raft_set_role(r, RAFT_PRECANDIDATE);
}

void raft_become_candidate(struct raft *r)
{
    raft_set_term(r, r->term + 1);
    raft_set_role(r, RAFT_CANDIDATE);
    r->vote = r->cfg.id;
    r->hard_state_dirty = true;
}

bool raft_in_lease(const struct raft *r)
{
    if (!r->cfg.check_quorum || r->leader == 0) {
        return false;
    }
    if (r->role == RAFT_LEADER) {
        return true; /* check-quorum steps it down when the lease ends */
    }
    /* One heartbeat interval short of the minimum election timeout: a live
     * leader refreshes the lease every interval, while a follower that
     * heard the same last heartbeat a moment later than the first one to
     * time out must not turn that node away (that would cost the cluster a
     * second election timeout after a leader dies). */
    return r->now <
           r->leader_contact + r->cfg.election_min_ms - r->cfg.heartbeat_ms;
}

struct raft *raft_new(const struct raft_config *cfg,
                      const struct raft_hard_state *restored, uint64_t now)
{
    char err[128];
    struct raft *r;

    if (raft_config_check(cfg, err, sizeof(err)) != 0) {
        return NULL;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        return NULL;
    }
    r->cfg = *cfg;
    r->quorum = cfg->n_nodes / 2 + 1;
    r->rng = cfg->seed ^ (cfg->id * 0x2545f4914f6cdd1dULL);
    r->term = restored ? restored->term : 0;
    r->vote = restored ? restored->vote : 0;
    r->role = RAFT_FOLLOWER;
    r->now = now;
    raft_log_init(&r->log);
    r->unstable_from = 1;
    for (size_t i = 0; i < cfg->n_nodes; i++) {
        r->peers[i].id = cfg->ids[i];
    }
    raft_reset_election_timer(r);
    return r;
}

void raft_free(struct raft *r)
{
    if (r == NULL) {
        return;
    }
    raft_log_close(&r->log);
    free(r->reads_waiting);
    free(r->reads_ready);
    free(r->out);
    free(r);
}

void raft_begin_call(struct raft *r, uint64_t now)
{
    if (r->out_handed) {
        r->n_out = 0;
        r->out_handed = false;
    }
    if (r->reads_handed) {
        r->n_reads_ready = 0;
        r->reads_handed = false;
    }
    if (now > r->now) {
        r->now = now; /* the clock never goes back inside the core */
    }
    /* The driver is done with what the last ready handed out. */
    raft_release_bodies(r);
}

static void tick_leader(struct raft *r)
{
    if (r->cfg.check_quorum &&
        r->now >= raft_quorum_contact(r) + r->cfg.election_max_ms) {
        raft_trace(r, "no contact with a majority for %u ms -> step down",
                   r->cfg.election_max_ms);
        raft_become_follower(r, r->term, 0);
        r->leader = 0;
        return;
    }
    if (r->transfer_target != 0 && r->now >= r->transfer_deadline) {
        raft_trace(r, "transfer to %llu did not finish in time -> abandon",
                   (unsigned long long)r->transfer_target);
        r->transfer_target = 0;
    }
    if (r->now >= r->heartbeat_deadline) {
        raft_broadcast_append(r);
        r->heartbeat_deadline = r->now + r->cfg.heartbeat_ms;
    }
}

void raft_tick(struct raft *r, uint64_t now)
{
    raft_begin_call(r, now);
    if (r->role == RAFT_LEADER) {
        tick_leader(r);
    } else if (r->now >= r->election_deadline) {
        raft_start_election(r, r->cfg.prevote, false);
    }
}

uint64_t raft_next_deadline(const struct raft *r)
{
    uint64_t d;

    if (r->role != RAFT_LEADER) {
        return r->election_deadline;
    }
    d = r->heartbeat_deadline;
    if (r->cfg.check_quorum) {
        uint64_t q = raft_quorum_contact(r) + r->cfg.election_max_ms;

        d = q < d ? q : d;
    }
    if (r->transfer_target != 0 && r->transfer_deadline < d) {
        d = r->transfer_deadline;
    }
    return d;
}

int raft_step(struct raft *r, const struct raft_msg *m, uint64_t now)
{
    raft_begin_call(r, now);
    if (m->to != r->cfg.id || m->from == r->cfg.id ||
        raft_peer_pos(r, m->from) < 0) {
        return -1;
    }
    switch (m->type) {
    case RAFT_MSG_VOTE:
        raft_on_vote(r, m);
        return 0;
    case RAFT_MSG_VOTE_RESULT:
        raft_on_vote_result(r, m);
        return 0;
    case RAFT_MSG_APPEND:
        raft_on_append(r, m);
        return 0;
    case RAFT_MSG_APPEND_RESULT:
        raft_on_append_result(r, m);
        return 0;
    case RAFT_MSG_TIMEOUT_NOW:
        raft_on_timeout_now(r, m);
        return 0;
    case RAFT_MSG_SNAPSHOT:
        raft_on_snapshot(r, m);
        return 0;
    case RAFT_MSG_SNAPSHOT_RESULT:
        raft_on_snapshot_result(r, m);
        return 0;
    case RAFT_MSG_NONE:
        break;
    }
    return -1;
}

/* Point every outgoing AppendEntries at its entries, now that the log
 * will not move until the next call, and say how many of them lack their
 * data. Entries compacted away meanwhile are dropped from the message (the
 * follower then needs a snapshot anyway). */
static void resolve_entries(struct raft *r)
{
    uint64_t last = raft_log_last_index(&r->log);
    uint64_t released = r->log.released;

    for (size_t i = 0; i < r->n_out; i++) {
        struct raft_append *a = &r->out[i].u.append;
        uint64_t first = a->prev_log_index + 1;

        if (r->out[i].type != RAFT_MSG_APPEND || a->n_entries == 0) {
            continue;
        }
        if (first <= r->log.base_index || first > last) {
            a->n_entries = 0;
            a->entries = NULL;
            continue;
        }
        if (first + a->n_entries - 1 > last) {
            a->n_entries = (size_t)(last - first + 1);
        }
        a->entries = (struct raft_entry *)raft_log_get(&r->log, first);
        a->n_released = 0;
        if (released >= first) {
            a->n_released = released - first + 1 < a->n_entries
                                ? (size_t)(released - first + 1)
                                : a->n_entries;
        }
    }
}

bool raft_ready(struct raft *r, struct raft_ready *out)
{
    uint64_t last;
    uint64_t apply_to;

    raft_begin_call(r, r->now);
    memset(out, 0, sizeof(*out));
    if (r->hard_state_dirty) {
        out->hard_state_changed = true;
        out->hard_state.term = r->term;
        out->hard_state.vote = r->vote;
        r->hard_state_dirty = false;
    }
    raft_start_read_round(r);
    if (r->snapshot_installed) {
        out->snapshot_installed = true;
        out->snapshot.last_index = r->snap_index;
        out->snapshot.last_term = r->snap_term;
        r->snapshot_installed = false;
    }

    last = raft_log_last_index(&r->log);
    if (r->unstable_from <= last && r->unstable_from > r->log.base_index) {
        out->entries = raft_log_get(&r->log, r->unstable_from);
        out->n_entries = (size_t)(last - r->unstable_from + 1);
    }
    r->unstable_from = last + 1;

    apply_to =
        r->commit_index < r->durable_index ? r->commit_index : r->durable_index;
    if (apply_to > r->applied_index && r->applied_index >= r->log.base_index) {
        out->committed = raft_log_get(&r->log, r->applied_index + 1);
        out->n_committed = (size_t)(apply_to - r->applied_index);
        r->applied_index = apply_to;
    }

    out->n_reads = r->n_reads_ready;
    out->reads = r->reads_ready;
    r->reads_handed = true;

    resolve_entries(r);
    out->n_msgs = r->n_out;
    out->msgs = r->out;
    r->out_handed = true;
    return out->hard_state_changed || out->n_msgs > 0 || out->n_entries > 0 ||
           out->snapshot_installed || out->n_committed > 0 || out->n_reads > 0;
}

void raft_status(const struct raft *r, struct raft_status *out)
{
    memset(out, 0, sizeof(*out));
    out->id = r->cfg.id;
    out->role = r->role;
    out->term = r->term;
    out->vote = r->vote;
    out->leader = r->leader;
    out->commit_index = r->commit_index;
    out->applied_index = r->applied_index;
    out->durable_index = r->durable_index;
    out->last_log_index = raft_log_last_index(&r->log);
    out->last_log_term = raft_log_last_term(&r->log);
    out->transfer_target = r->transfer_target;
    out->leader_changes = r->leader_changes;
    out->released_index = r->log.released;
}

int raft_restore_log(struct raft *r, uint64_t base_index, uint64_t base_term,
                     const struct raft_entry *entries, size_t n)
{
    raft_log_reset(&r->log, base_index, base_term);
    for (size_t i = 0; i < n; i++) {
        if (raft_log_append(&r->log, &entries[i]) != 0) {
            return -1;
        }
    }
    r->durable_index = raft_log_last_index(&r->log);
    r->unstable_from = r->durable_index + 1;
    /* The state machine restarts from the snapshot; the rest is applied
     * again as the cluster tells us what is committed. */
    r->commit_index = base_index;
    r->applied_index = base_index;
    r->snap_index = base_index;
    r->snap_term = base_term;
    return 0;
}

void raft_compact(struct raft *r, uint64_t index, uint64_t keep)
{
    if (index > r->applied_index) {
        index = r->applied_index;
    }
    if (index <= r->snap_index) {
        return;
    }
    r->snap_term = raft_log_term_at(&r->log, index);
    r->snap_index = index;
    if (index <= keep) {
        return;
    }
    raft_log_compact(&r->log, index - keep);
}
