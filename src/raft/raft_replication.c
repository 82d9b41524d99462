/* raft_replication.c - AppendEntries (heartbeats for now) and
 * check-quorum.
 *
 * Every AppendEntries, empty or not, carries the log position that the
 * follower must already hold (prev_log_index/prev_log_term). A follower
 * that does not hold it answers with a hint: its last index when its log is
 * too short, else the first index of the term it holds at that position,
 * so the leader skips a whole term per round trip instead of one entry.
 *
 * Check-quorum: the leader notes when each peer last answered in this
 * term. When fewer than a majority (itself included) answered within the
 * last election timeout (maximum), it steps down: a leader cut off from its
 * majority stops believing it leads within one election timeout, which
 * also bounds how long a stale leader can hold on to clients.
 */
#include "raft/raft_int.h"

static void send_append(struct raft *r, struct raft_peer *p)
{
    uint64_t prev = p->next_index - 1;
    struct raft_msg *m = raft_send(r, RAFT_MSG_APPEND, p->id);

    if (m == NULL) {
        return;
    }
    m->u.append.prev_log_index = prev;
    m->u.append.prev_log_term = raft_log_term_at(&r->log, prev);
    /* Never tell a follower to commit past what it is known to hold. */
    m->u.append.leader_commit =
        r->commit_index < p->match_index ? r->commit_index : p->match_index;
}

void raft_broadcast_append(struct raft *r)
{
    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        if (r->cfg.ids[i] != r->cfg.id) {
            send_append(r, &r->peers[i]);
        }
    }
}

static void reply_append(struct raft *r, const struct raft_msg *req,
                         bool success, uint64_t match)
{
    struct raft_msg *m = raft_send(r, RAFT_MSG_APPEND_RESULT, req->from);
    uint64_t prev = req->u.append.prev_log_index;
    uint64_t last = raft_log_last_index(&r->log);

    if (m == NULL) {
        return;
    }
    m->rpc_id = req->rpc_id;
    m->u.append_result.success = success;
    m->u.append_result.match_index = match;
    if (success || req->term < r->term) {
        return;
    }
    if (prev > last) {
        m->u.append_result.conflict_index = last;
        m->u.append_result.conflict_term = 0;
    } else {
        m->u.append_result.conflict_term = raft_log_term_at(&r->log, prev);
        m->u.append_result.conflict_index = raft_log_term_start(&r->log, prev);
    }
}

void raft_on_append(struct raft *r, const struct raft_msg *m)
{
    const struct raft_append *a = &m->u.append;
    uint64_t match;

    if (m->term < r->term) {
        /* Answer with our term: a leader of an older term learns it is
         * stale and steps down (see raft_election.c on terms that ran
         * ahead). */
        reply_append(r, m, false, 0);
        return;
    }
    raft_become_follower(r, m->term, m->from);
    r->leader_contact = r->now;
    raft_reset_election_timer(r);

    if (a->prev_log_index > raft_log_last_index(&r->log) ||
        raft_log_term_at(&r->log, a->prev_log_index) != a->prev_log_term) {
        raft_trace(r, "log does not hold %llu/%llu from %llu -> reject",
                   (unsigned long long)a->prev_log_term,
                   (unsigned long long)a->prev_log_index,
                   (unsigned long long)m->from);
        reply_append(r, m, false, 0);
        return;
    }
    if (a->n_entries > 0) {
        /* Entries are not accepted until the log is durable in this
         * node: answering success would acknowledge what a crash loses. */
        reply_append(r, m, false, 0);
        return;
    }
    match = a->prev_log_index;
    if (a->leader_commit > r->commit_index) {
        r->commit_index = a->leader_commit < match ? a->leader_commit : match;
    }
    reply_append(r, m, true, match);
}

void raft_on_append_result(struct raft *r, const struct raft_msg *m)
{
    const struct raft_append_result *res = &m->u.append_result;
    struct raft_peer *p = &r->peers[raft_peer_pos(r, m->from)];
    uint64_t last = raft_log_last_index(&r->log);

    if (m->term > r->term) {
        raft_trace(r, "%llu is at term %llu -> step down",
                   (unsigned long long)m->from, (unsigned long long)m->term);
        raft_become_follower(r, m->term, 0);
        return;
    }
    if (r->role != RAFT_LEADER || m->term != r->term) {
        return;
    }
    p->last_heard = r->now;
    if (res->success) {
        if (res->match_index > p->match_index && res->match_index <= last) {
            p->match_index = res->match_index;
        }
        p->next_index = p->match_index + 1;
        raft_transfer_check(r, p->id);
        return;
    }
    /* Rejected: move next_index back to where the hint says the logs may
     * agree, never below what is known to match. */
    if (res->conflict_term == 0) {
        p->next_index = res->conflict_index + 1;
    } else {
        p->next_index = res->conflict_index;
    }
    if (p->next_index <= p->match_index) {
        p->next_index = p->match_index + 1;
    }
    if (p->next_index > last + 1) {
        p->next_index = last + 1;
    }
    if (p->next_index == 0) {
        p->next_index = 1;
    }
}

uint64_t raft_quorum_contact(const struct raft *r)
{
    uint64_t t[RAFT_MAX_NODES];
    size_t n = r->cfg.n_nodes;

    for (size_t i = 0; i < n; i++) {
        t[i] = r->cfg.ids[i] == r->cfg.id ? r->now : r->peers[i].last_heard;
    }
    /* Sort descending (n <= 5): the quorum-th newest contact is the time
     * until which a majority, this node included, is known to be in touch. */
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && t[j] > t[j - 1]; j--) {
            uint64_t x = t[j];

            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    }
    return t[r->quorum - 1];
}
