/* raft_election.c - votes, pre-votes, leader stickiness and transfer.
 *
 * Pre-vote (dissertation 9.6). Before a node bumps its term it asks "would
 * you vote for me in term T+1?". A peer says yes only if the candidate's
 * log is at least as up-to-date as its own and it has not heard from a live
 * leader recently; answering changes nothing on the peer. Only with a
 * majority of yeses does the node become a real candidate. So a node that
 * was cut off, or whose link to the leader alone is broken, cannot force
 * its higher term on a healthy cluster.
 *
 * Stickiness (the question in the project's seed notes: what if a voter
 * still hears the old leader?). With check-quorum on, a follower that heard
 * the leader less than an election timeout (minimum) ago ignores both
 * pre-votes and votes: it neither grants them nor adopts their term. The
 * leader itself does the same while it holds a majority. Two exceptions
 * keep liveness:
 *   - a vote marked "transfer" (the leader asked the candidate to take over
 *     with TimeoutNow) is always considered;
 *   - a request from the node the follower believes is leader is always
 *     considered: that node has evidently lost its leadership (it restarted
 *     or stepped down), and refusing it would leave the cluster waiting for
 *     a leader that no longer exists.
 * A node whose term ran ahead of the cluster (it won a pre-vote, then was
 * cut off) is not stuck either: it rejects the leader's appends with its
 * higher term, the leader steps down, and a normal election follows.
 *
 * Transfer (dissertation 3.10). The leader picks a caught-up follower
 * (raft_transfer), brings it up to date if needed, then sends TimeoutNow;
 * the follower starts a real election at once, skipping pre-vote, and its
 * votes carry the transfer flag so that stickiness does not block them.
 */
#include "raft/raft_int.h"

static void send_votes(struct raft *r, bool prevote, bool transfer)
{
    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        struct raft_msg *m;

        if (r->cfg.ids[i] == r->cfg.id) {
            continue;
        }
        m = raft_send(r, RAFT_MSG_VOTE, r->cfg.ids[i]);
        if (m == NULL) {
            continue;
        }
        m->term = prevote ? r->term + 1 : r->term;
        m->u.vote.prevote = prevote;
        m->u.vote.transfer = transfer;
        m->u.vote.last_log_index = raft_log_last_index(&r->log);
        m->u.vote.last_log_term = raft_log_last_term(&r->log);
    }
}

void raft_start_election(struct raft *r, bool prevote, bool transfer)
{
    int self = raft_peer_pos(r, r->cfg.id);

    r->votes_granted = 1u << self;
    r->votes_rejected = 0;
    r->leader = 0;
    if (prevote) {
        raft_become_precandidate(r);
        if (r->quiet_prevote_term != r->term + 1) {
            r->quiet_prevote_term = r->term + 1; /* once per term asked */
            raft_trace(r, "no leader heard -> pre-vote for term %llu",
                       (unsigned long long)(r->term + 1));
        }
    } else {
        raft_become_candidate(r);
        raft_trace(r, "%s -> campaign, voting for self",
                   transfer ? "asked to take over" : "election timeout");
    }
    raft_reset_election_timer(r);
    send_votes(r, prevote, transfer);
}

static void reply_vote(struct raft *r, const struct raft_msg *req, bool granted)
{
    struct raft_msg *m = raft_send(r, RAFT_MSG_VOTE_RESULT, req->from);

    if (m == NULL) {
        return;
    }
    m->rpc_id = req->rpc_id;
    m->u.vote_result.prevote = req->u.vote.prevote;
    m->u.vote_result.granted = granted;
    /* A granted pre-vote answers in the candidate's future term, so the
     * candidate does not mistake it for news of a higher term. */
    if (granted && req->u.vote.prevote) {
        m->term = req->term;
    }
}

/* May we consider this request at all, given who we believe leads? */
static bool vote_passes_lease(struct raft *r, const struct raft_msg *m)
{
    if (!raft_in_lease(r) || m->u.vote.transfer) {
        return true;
    }
    if (m->from == r->leader) {
        raft_trace(r, "%s request from %llu, the leader we knew -> consider",
                   m->u.vote.prevote ? "pre-vote" : "vote",
                   (unsigned long long)m->from);
        return true;
    }
    /* A cut-off node asks again every election timeout: say it once. */
    if (r->quiet_from != m->from || r->quiet_term != m->term) {
        r->quiet_from = m->from;
        r->quiet_term = m->term;
        raft_trace(r,
                   "still hear leader %llu -> ignore %s from %llu for term "
                   "%llu",
                   (unsigned long long)r->leader,
                   m->u.vote.prevote ? "pre-vote" : "vote",
                   (unsigned long long)m->from, (unsigned long long)m->term);
    }
    return false;
}

static bool log_ok(struct raft *r, const struct raft_msg *m)
{
    if (raft_log_is_up_to_date(&r->log, m->u.vote.last_log_index,
                               m->u.vote.last_log_term)) {
        return true;
    }
    raft_trace(r,
               "log of %llu is behind ours (%llu/%llu < %llu/%llu) -> "
               "reject",
               (unsigned long long)m->from,
               (unsigned long long)m->u.vote.last_log_term,
               (unsigned long long)m->u.vote.last_log_index,
               (unsigned long long)raft_log_last_term(&r->log),
               (unsigned long long)raft_log_last_index(&r->log));
    return false;
}

/* Two nodes that time out at the same moment would each grant the other's
 * pre-vote, both become candidates, split the vote and wait another
 * election timeout. Between two pre-candidates for the same term, the
 * lower id goes first: it says no to the higher one, which says yes to it.
 * Unless the higher one's log is ahead: then the lower one could never win
 * its vote, and refusing would leave both asking forever. */
static bool yields_to_lower_id(struct raft *r, const struct raft_msg *m)
{
    uint64_t our_term = raft_log_last_term(&r->log);
    bool theirs_ahead =
        m->u.vote.last_log_term > our_term ||
        (m->u.vote.last_log_term == our_term &&
         m->u.vote.last_log_index > raft_log_last_index(&r->log));

    if (r->role != RAFT_PRECANDIDATE || m->term != r->term + 1 ||
        m->from < r->cfg.id || theirs_ahead) {
        return false;
    }
    raft_trace(r,
               "%llu asks for term %llu as we do -> the lower id goes "
               "first",
               (unsigned long long)m->from, (unsigned long long)m->term);
    return true;
}

static void on_prevote(struct raft *r, const struct raft_msg *m)
{
    bool granted = m->term > r->term && !yields_to_lower_id(r, m) &&
                   vote_passes_lease(r, m) && log_ok(r, m);

    reply_vote(r, m, granted);
}

static void on_real_vote(struct raft *r, const struct raft_msg *m)
{
    uint64_t deadline = r->election_deadline;
    bool was_leader = r->role == RAFT_LEADER;
    bool granted;

    if (m->term > r->term) {
        if (!vote_passes_lease(r, m)) {
            reply_vote(r, m, false);
            return;
        }
        raft_become_follower(r, m->term, 0);
        if (!was_leader) {
            /* Only a granted vote resets the timer: a candidate with a
             * stale log must not hold everybody's election back. (A
             * deposed leader has no running timer to keep.) */
            r->election_deadline = deadline;
        }
    }
    granted = m->term == r->term && (r->vote == 0 || r->vote == m->from) &&
              log_ok(r, m);
    if (granted) {
        if (r->vote == 0) {
            raft_trace(r, "grant vote to %llu", (unsigned long long)m->from);
        }
        r->vote = m->from;
        r->hard_state_dirty = true; /* durable before the reply goes */
        raft_reset_election_timer(r);
    }
    reply_vote(r, m, granted);
}

void raft_on_vote(struct raft *r, const struct raft_msg *m)
{
    if (m->u.vote.prevote) {
        on_prevote(r, m);
    } else {
        on_real_vote(r, m);
    }
}

static size_t count_bits(uint32_t v)
{
    size_t n = 0;

    for (; v; v &= v - 1) {
        n++;
    }
    return n;
}

/* Is this reply news of a higher term, which makes us a follower? A granted
 * pre-vote carries the term we asked about, so it is not. */
static bool reply_has_higher_term(const struct raft *r,
                                  const struct raft_msg *m)
{
    if (m->u.vote_result.prevote && m->u.vote_result.granted) {
        return m->term > r->term + 1;
    }
    return m->term > r->term;
}

static bool reply_is_current(const struct raft *r, const struct raft_msg *m)
{
    if (m->u.vote_result.prevote) {
        return r->role == RAFT_PRECANDIDATE &&
               (!m->u.vote_result.granted || m->term == r->term + 1);
    }
    return r->role == RAFT_CANDIDATE && m->term == r->term;
}

void raft_on_vote_result(struct raft *r, const struct raft_msg *m)
{
    int pos = raft_peer_pos(r, m->from);

    if (reply_has_higher_term(r, m)) {
        raft_trace(r, "%llu is at term %llu -> follow",
                   (unsigned long long)m->from, (unsigned long long)m->term);
        raft_become_follower(r, m->term, 0);
        return;
    }
    if (!reply_is_current(r, m)) {
        return; /* from an earlier election, or we moved on */
    }
    if (m->u.vote_result.granted) {
        r->votes_granted |= 1u << pos;
    } else {
        r->votes_rejected |= 1u << pos;
    }
    if (count_bits(r->votes_granted) >= r->quorum) {
        if (r->role == RAFT_PRECANDIDATE) {
            raft_start_election(r, false, false);
        } else {
            raft_trace(r, "won with %zu of %zu votes -> lead",
                       count_bits(r->votes_granted), r->cfg.n_nodes);
            raft_become_leader(r);
        }
    } else if (count_bits(r->votes_rejected) >= r->quorum) {
        raft_trace(r, "a majority said no -> follow");
        raft_become_follower(r, r->term, 0);
    }
}

void raft_on_timeout_now(struct raft *r, const struct raft_msg *m)
{
    if (m->term < r->term) {
        return; /* from a leader of an earlier term */
    }
    if (m->term > r->term) {
        raft_become_follower(r, m->term, m->from);
    }
    if (r->role == RAFT_LEADER) {
        return;
    }
    raft_start_election(r, false, true);
}

static void send_timeout_now(struct raft *r, uint64_t to)
{
    struct raft_msg *m = raft_send(r, RAFT_MSG_TIMEOUT_NOW, to);

    if (m != NULL) {
        raft_trace(r, "%llu has our whole log -> TimeoutNow",
                   (unsigned long long)to);
    }
}

void raft_transfer_check(struct raft *r, uint64_t peer)
{
    int pos = raft_peer_pos(r, peer);

    if (r->role != RAFT_LEADER || peer != r->transfer_target || pos < 0) {
        return;
    }
    if (r->peers[pos].match_index == raft_log_last_index(&r->log)) {
        send_timeout_now(r, peer);
    }
}

/* The follower to hand over to: the most up-to-date that answered within
 * the last election timeout; the lowest id among equals. */
static uint64_t best_target(const struct raft *r)
{
    const struct raft_peer *best = NULL;

    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        const struct raft_peer *p = &r->peers[i];

        if (p->id == r->cfg.id ||
            r->now > p->last_heard + r->cfg.election_min_ms) {
            continue;
        }
        if (best == NULL || p->match_index > best->match_index) {
            best = p;
        }
    }
    return best ? best->id : 0;
}

int raft_transfer(struct raft *r, uint64_t to, uint64_t now)
{
    raft_begin_call(r, now);
    if (r->role != RAFT_LEADER) {
        return -1;
    }
    if (to == r->cfg.id) {
        return 0;
    }
    if (to == 0) {
        to = best_target(r);
    }
    if (to == 0 || raft_peer_pos(r, to) < 0) {
        return -1;
    }
    raft_trace(r, "asked to hand over -> transfer to %llu",
               (unsigned long long)to);
    r->transfer_target = to;
    r->transfer_deadline = r->now + r->cfg.election_max_ms;
    raft_transfer_check(r, to);
    return 0;
}
