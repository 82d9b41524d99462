/* sim_check.c - the history behind the safety checks.
 *
 * Two maps indexed by term hold what must never be contradicted later:
 * which node led each term, and for each node which candidate its disk
 * says it voted for in each term. Both survive crashes (they are the
 * world's memory, not a node's). The per-life part of a node (last status)
 * is forgotten at a crash, since a restarted node legitimately comes back
 * with what its disk held, not what its memory held.
 *
 * Leader completeness and log matching compare the newest LOOK_BACK
 * entries of a log: an older difference would have shown when those
 * entries were new (a leader is checked when it is elected, logs at the
 * end of every calm phase), and scanning whole logs at every election
 * would make long seeds quadratic. */
#include "sim_check.h"

#include "sim_msg.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How far back the log checks look: the newest entries, where logs
 * change. Older ones were checked when they were the newest. */
#define LOOK_BACK 256

static int fail(struct sim_check *c, const char *prop, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(struct sim_check *c, const char *prop, const char *fmt, ...)
{
    va_list ap;

    snprintf(c->prop, sizeof c->prop, "%s", prop);
    va_start(ap, fmt);
    vsnprintf(c->msg, sizeof c->msg, fmt, ap);
    va_end(ap);
    return -1;
}

void sim_check_init(struct sim_check *c, size_t n_nodes)
{
    memset(c, 0, sizeof *c);
    c->n_nodes = n_nodes;
}

void sim_check_close(struct sim_check *c)
{
    sim_map_free(&c->leader);
    sim_map_free(&c->entry);
    sim_map_free(&c->state);
    sim_map_free(&c->commit_term);
    for (size_t i = 0; i <= RAFT_MAX_NODES; i++) {
        sim_map_free(&c->nodes[i].vote);
    }
    memset(c, 0, sizeof *c);
}

static int check_term_bound(struct sim_check *c, uint64_t id, uint64_t term)
{
    if (term > SIM_CHECK_MAX_TERM) {
        return fail(c, "term-bound",
                    "node %" PRIu64 " reached term %" PRIu64
                    ", beyond any plausible run",
                    id, term);
    }
    return 0;
}

static int check_life(struct sim_check *c, const struct raft_status *st)
{
    const struct sim_check_node *n = &c->nodes[st->id];

    if (st->term < n->durable_term) {
        return fail(c, "term-monotonic",
                    "node %" PRIu64 " is at term %" PRIu64
                    " below its durable term %" PRIu64,
                    st->id, st->term, n->durable_term);
    }
    if (!n->alive) {
        return 0;
    }
    if (st->term < n->last.term) {
        return fail(c, "term-monotonic",
                    "node %" PRIu64 " went from term %" PRIu64
                    " back to %" PRIu64,
                    st->id, n->last.term, st->term);
    }
    if (st->term == n->last.term && n->last.vote != 0 &&
        st->vote != n->last.vote) {
        return fail(c, "vote-once",
                    "node %" PRIu64 " voted for %" PRIu64 " then for %" PRIu64
                    " in term %" PRIu64,
                    st->id, n->last.vote, st->vote, st->term);
    }
    if (st->commit_index < n->last.commit_index) {
        return fail(c, "commit-monotonic",
                    "node %" PRIu64 " commit index went from %" PRIu64
                    " back to %" PRIu64,
                    st->id, n->last.commit_index, st->commit_index);
    }
    return 0;
}

/* Count the nodes whose disk says they voted for ID in TERM. */
static size_t durable_votes_for(const struct sim_check *c, uint64_t id,
                                uint64_t term)
{
    size_t votes = 0;

    for (uint64_t j = 1; j <= c->n_nodes; j++) {
        votes += sim_map_get(&c->nodes[j].vote, term) == id;
    }
    return votes;
}

static int check_leader(struct sim_check *c, const struct raft_status *st)
{
    const struct sim_check_node *n = &c->nodes[st->id];
    uint64_t known = sim_map_get(&c->leader, st->term);
    size_t votes;

    if (st->leader != st->id) {
        return fail(c, "leader-self",
                    "node %" PRIu64 " leads term %" PRIu64 " but names %" PRIu64
                    " as leader",
                    st->id, st->term, st->leader);
    }
    if (known != 0 && known != st->id) {
        return fail(c, "election-safety",
                    "node %" PRIu64 " leads term %" PRIu64
                    ", which node %" PRIu64 " led already",
                    st->id, st->term, known);
    }
    sim_map_set(&c->leader, st->term, st->id);
    if (n->alive && n->last.role == RAFT_LEADER && n->last.term == st->term) {
        return 0; /* counted when it became leader */
    }
    votes = durable_votes_for(c, st->id, st->term);
    if (votes <= c->n_nodes / 2) {
        return fail(c, "leader-quorum",
                    "node %" PRIu64 " leads term %" PRIu64 " with %zu durable"
                    " votes of %zu nodes",
                    st->id, st->term, votes, c->n_nodes);
    }
    return 0;
}

int sim_check_observe(struct sim_check *c, const struct raft_status *st)
{
    struct sim_check_node *n = &c->nodes[st->id];

    if (check_term_bound(c, st->id, st->term) != 0 || check_life(c, st) != 0) {
        return -1;
    }
    if (st->role == RAFT_LEADER && check_leader(c, st) != 0) {
        return -1;
    }
    n->last = *st;
    n->alive = true;
    return 0;
}

void sim_check_crash(struct sim_check *c, uint64_t id)
{
    c->nodes[id].alive = false;
}

int sim_check_restart(struct sim_check *c, uint64_t id,
                      const struct raft_hard_state *hs,
                      const struct raft_status *st)
{
    if (st->term != hs->term || st->vote != hs->vote) {
        return fail(c, "restore",
                    "node %" PRIu64 " restarted from term %" PRIu64
                    " vote %" PRIu64 " but reports term %" PRIu64
                    " vote %" PRIu64,
                    id, hs->term, hs->vote, st->term, st->vote);
    }
    if (st->role != RAFT_FOLLOWER) {
        return fail(c, "restore",
                    "node %" PRIu64 " restarted as %s, not follower", id,
                    raft_role_name(st->role));
    }
    return 0;
}

int sim_check_persist(struct sim_check *c, uint64_t id,
                      const struct raft_hard_state *hs)
{
    struct sim_check_node *n = &c->nodes[id];
    uint64_t prior = sim_map_get(&n->vote, hs->term);

    if (check_term_bound(c, id, hs->term) != 0) {
        return -1;
    }
    if (hs->term < n->durable_term) {
        return fail(c, "term-monotonic",
                    "node %" PRIu64 " persisted term %" PRIu64
                    " after term %" PRIu64,
                    id, hs->term, n->durable_term);
    }
    if (prior != 0 && hs->vote != prior) {
        return fail(c, "vote-once",
                    "node %" PRIu64 " persisted a vote for %" PRIu64
                    " in term %" PRIu64
                    ", where its disk held a vote for %" PRIu64,
                    id, hs->vote, hs->term, prior);
    }
    if (hs->vote != 0) {
        sim_map_set(&n->vote, hs->term, hs->vote);
    }
    n->durable_term = hs->term;
    n->durable_vote = hs->vote;
    return 0;
}

int sim_check_release(struct sim_check *c, uint64_t id,
                      const struct raft_msg *m)
{
    const struct sim_check_node *n = &c->nodes[id];
    char buf[128];

    if (sim_msg_is_prevote(m)) {
        return 0;
    }
    if (m->term > n->durable_term) {
        return fail(c, "persist-before-send",
                    "node %" PRIu64
                    " sends %s while its durable term is %" PRIu64,
                    id, sim_msg_describe(m, buf, sizeof buf), n->durable_term);
    }
    if (m->type == RAFT_MSG_VOTE &&
        (n->durable_term != m->term || n->durable_vote != id)) {
        return fail(c, "persist-before-send",
                    "node %" PRIu64 " sends %s before its self-vote is "
                    "durable (disk: term %" PRIu64 " vote %" PRIu64 ")",
                    id, sim_msg_describe(m, buf, sizeof buf), n->durable_term,
                    n->durable_vote);
    }
    if (m->type == RAFT_MSG_VOTE_RESULT && m->u.vote_result.granted &&
        (n->durable_term != m->term || n->durable_vote != m->to)) {
        return fail(c, "persist-before-send",
                    "node %" PRIu64 " sends %s before the vote is durable "
                    "(disk: term %" PRIu64 " vote %" PRIu64 ")",
                    id, sim_msg_describe(m, buf, sizeof buf), n->durable_term,
                    n->durable_vote);
    }
    return 0;
}

static bool log_behind(const struct raft_vote *v, const struct raft_status *s)
{
    if (v->last_log_term != s->last_log_term) {
        return v->last_log_term < s->last_log_term;
    }
    return v->last_log_index < s->last_log_index;
}

int sim_check_grant(struct sim_check *c, const struct raft_status *before,
                    const struct raft_msg *req, const struct raft_msg *out)
{
    char buf[128];

    if (out->type != RAFT_MSG_VOTE_RESULT || !out->u.vote_result.granted) {
        return 0;
    }
    if (req == NULL || req->type != RAFT_MSG_VOTE || req->from != out->to ||
        req->u.vote.prevote != out->u.vote_result.prevote) {
        return fail(c, "vote-unasked",
                    "node %" PRIu64 " sends %s, not in answer to a matching "
                    "request",
                    out->from, sim_msg_describe(out, buf, sizeof buf));
    }
    if (!out->u.vote_result.prevote && out->term != req->term) {
        return fail(c, "vote-term",
                    "node %" PRIu64 " grants a vote for term %" PRIu64
                    " in answer to a request for term %" PRIu64,
                    out->from, out->term, req->term);
    }
    if (log_behind(&req->u.vote, before)) {
        return fail(c, "vote-up-to-date",
                    "node %" PRIu64 " (log %" PRIu64 "/%" PRIu64
                    ") grants %s to %" PRIu64 " whose log is %" PRIu64
                    "/%" PRIu64,
                    out->from, before->last_log_index, before->last_log_term,
                    req->u.vote.prevote ? "a pre-vote" : "a vote", req->from,
                    req->u.vote.last_log_index, req->u.vote.last_log_term);
    }
    return 0;
}

/* Map values are never 0 (0 means "nothing recorded"). */
static uint64_t nonzero(uint64_t h)
{
    return h | 1;
}

int sim_check_apply(struct sim_check *c, uint64_t id, struct sim_snap *sm,
                    const struct raft_entry *e)
{
    uint64_t hash = nonzero(sim_log_entry_hash(e));
    uint64_t digest = sim_log_chain(sm->digest, e);
    uint64_t known = sim_map_get(&c->entry, e->index);

    if (e->index != sm->index + 1) {
        return fail(c, "apply-order",
                    "node %" PRIu64 " applies index %" PRIu64
                    " after index %" PRIu64,
                    id, e->index, sm->index);
    }
    if (known != 0 && known != hash) {
        return fail(c, "state-machine-safety",
                    "node %" PRIu64 " applies a different entry (term %" PRIu64
                    ") at index %" PRIu64 " than another node did",
                    id, e->term, e->index);
    }
    if (sim_map_get(&c->state, e->index) != 0 &&
        sim_map_get(&c->state, e->index) != nonzero(digest)) {
        return fail(c, "state-machine-safety",
                    "node %" PRIu64
                    " reaches a different state at index %" PRIu64
                    " than another node did",
                    id, e->index);
    }
    sim_map_set(&c->entry, e->index, hash);
    sim_map_set(&c->state, e->index, nonzero(digest));
    if (e->index > c->applied_max) {
        c->applied_max = e->index;
    }
    sm->index = e->index;
    sm->term = e->term;
    sm->digest = digest;
    return 0;
}

int sim_check_install(struct sim_check *c, uint64_t id,
                      const struct sim_snap *s)
{
    uint64_t known = sim_map_get(&c->state, s->index);

    if (s->index == 0) {
        return 0;
    }
    if (known == 0 || known != nonzero(s->digest)) {
        return fail(c, "state-machine-safety",
                    "node %" PRIu64 " loads a snapshot at index %" PRIu64
                    " whose state %s",
                    id, s->index,
                    known ? "differs from what the nodes applied"
                          : "no node ever reached");
    }
    return 0;
}

int sim_check_commit(struct sim_check *c, uint64_t id, uint64_t term,
                     uint64_t from, uint64_t to, const struct sim_log *log)
{
    for (uint64_t i = from + 1; i <= to; i++) {
        const struct raft_entry *e = sim_log_get(log, i);
        uint64_t known = sim_map_get(&c->entry, i);

        if (e == NULL) {
            if (i <= log->base.index) {
                continue; /* in its snapshot: committed before */
            }
            return fail(c, "core-api",
                        "leader %" PRIu64 " commits index %" PRIu64
                        " past the end of its log (%" PRIu64 ")",
                        id, i, sim_log_last_index(log));
        }
        if (known != 0 && known != nonzero(sim_log_entry_hash(e))) {
            return fail(c, "commit-safety",
                        "leader %" PRIu64 " of term %" PRIu64
                        " commits a different entry (term %" PRIu64
                        ") at index %" PRIu64 " than was committed there",
                        id, term, e->term, i);
        }
        sim_map_set(&c->entry, i, nonzero(sim_log_entry_hash(e)));
        if (sim_map_get(&c->commit_term, i) == 0) {
            sim_map_set(&c->commit_term, i, term);
        }
    }
    if (to > c->commit_known) {
        c->commit_known = to;
    }
    return 0;
}

int sim_check_leader_log(struct sim_check *c, uint64_t id, uint64_t term,
                         const struct sim_log *log)
{
    uint64_t base = log->base.index;

    if (base > 0 && base <= c->applied_max &&
        sim_map_get(&c->state, base) != nonzero(log->base.digest)) {
        return fail(c, "leader-completeness",
                    "new leader %" PRIu64 " starts from a snapshot at %" PRIu64
                    " that differs from the applied state",
                    id, base);
    }
    for (uint64_t i = c->commit_known;
         i > base && i + LOOK_BACK > c->commit_known; i--) {
        const struct raft_entry *e = sim_log_get(log, i);
        uint64_t when = sim_map_get(&c->commit_term, i);

        if (when == 0 || when >= term) {
            continue;
        }
        if (e == NULL ||
            nonzero(sim_log_entry_hash(e)) != sim_map_get(&c->entry, i)) {
            return fail(c, "leader-completeness",
                        "new leader %" PRIu64 " of term %" PRIu64
                        " %s entry %" PRIu64 ", committed in term %" PRIu64
                        " (its log ends at %" PRIu64 ")",
                        id, term, e ? "holds a different" : "lacks", i, when,
                        sim_log_last_index(log));
        }
    }
    return 0;
}

/* The highest index where both logs hold an entry of the same term. */
static uint64_t last_common(const struct sim_log *la, const struct sim_log *lb)
{
    uint64_t last = sim_log_last_index(la) < sim_log_last_index(lb)
                        ? sim_log_last_index(la)
                        : sim_log_last_index(lb);

    for (uint64_t i = last; i > 0; i--) {
        const struct raft_entry *x = sim_log_get(la, i);
        const struct raft_entry *y = sim_log_get(lb, i);

        if (x == NULL || y == NULL) {
            return 0;
        }
        if (x->term == y->term) {
            return i;
        }
    }
    return 0;
}

int sim_check_log_matching(struct sim_check *c, uint64_t a,
                           const struct sim_log *la, uint64_t b,
                           const struct sim_log *lb)
{
    uint64_t top = last_common(la, lb);

    for (uint64_t i = top; i > 0 && i + LOOK_BACK > top; i--) {
        const struct raft_entry *x = sim_log_get(la, i);
        const struct raft_entry *y = sim_log_get(lb, i);

        if (x == NULL || y == NULL) {
            return 0; /* one of them has a snapshot from here down */
        }
        if (sim_log_entry_hash(x) != sim_log_entry_hash(y)) {
            return fail(c, "log-matching",
                        "nodes %" PRIu64 " and %" PRIu64
                        " agree on entry %" PRIu64 " (term %" PRIu64
                        ") but differ at %" PRIu64,
                        a, b, top, sim_log_get(la, top)->term, i);
        }
    }
    return 0;
}

uint64_t sim_check_leader_of(const struct sim_check *c, uint64_t term)
{
    return sim_map_get(&c->leader, term);
}
