/* test_raft_election.c - the election rules of the Raft core, one test per
 * rule: the paper's section 5.2, pre-vote, check-quorum, stickiness and
 * leadership transfer. Nodes are driven by hand: a test hands a node
 * messages and reads what it wants to send. */
#include "harness.h"
#include "raft/raft.h"

#include <stdlib.h>

#define EMIN 150
#define EMAX 300
#define HB 50

static struct raft *node(uint64_t id, uint64_t term, uint64_t vote,
                         bool prevote)
{
    struct raft_config cfg;
    struct raft_hard_state hs = {term, vote};

    raft_config_defaults(&cfg);
    cfg.id = id;
    cfg.n_nodes = 3;
    cfg.ids[0] = 1;
    cfg.ids[1] = 2;
    cfg.ids[2] = 3;
    cfg.prevote = prevote;
    cfg.seed = 42;
    return raft_new(&cfg, &hs, 0);
}

static struct raft_status st(struct raft *r)
{
    struct raft_status s;

    raft_status(r, &s);
    return s;
}

/* The messages of type T in the pending output (and the hard state). */
static size_t take(struct raft *r, enum raft_msg_type t, struct raft_msg *out,
                   size_t max, struct raft_ready *rd)
{
    struct raft_ready local;
    size_t n = 0;

    if (rd == NULL) {
        rd = &local;
    }
    raft_ready(r, rd);
    for (size_t i = 0; i < rd->n_msgs && n < max; i++) {
        if (rd->msgs[i].type == t) {
            out[n++] = rd->msgs[i];
        }
    }
    return n;
}

static struct raft_msg vote_req(uint64_t from, uint64_t to, uint64_t term,
                                bool prevote, uint64_t li, uint64_t lt)
{
    struct raft_msg m = {.type = RAFT_MSG_VOTE,
                         .from = from,
                         .to = to,
                         .term = term,
                         .rpc_id = 7};

    m.u.vote.prevote = prevote;
    m.u.vote.last_log_index = li;
    m.u.vote.last_log_term = lt;
    return m;
}

static struct raft_msg vote_res(uint64_t from, uint64_t to, uint64_t term,
                                bool prevote, bool granted)
{
    struct raft_msg m = {
        .type = RAFT_MSG_VOTE_RESULT, .from = from, .to = to, .term = term};

    m.u.vote_result.prevote = prevote;
    m.u.vote_result.granted = granted;
    return m;
}

static struct raft_msg heartbeat(uint64_t from, uint64_t to, uint64_t term)
{
    struct raft_msg m = {.type = RAFT_MSG_APPEND,
                         .from = from,
                         .to = to,
                         .term = term,
                         .rpc_id = 9};

    return m;
}

static struct raft_msg append_ok(uint64_t from, uint64_t to, uint64_t term)
{
    struct raft_msg m = {
        .type = RAFT_MSG_APPEND_RESULT, .from = from, .to = to, .term = term};

    m.u.append_result.success = true;
    m.u.append_result.match_index = 1; /* the new leader's no-op */
    return m;
}

/* Make node 1 leader of term 1 through pre-vote and vote. */
static struct raft *leader1(uint64_t *now)
{
    struct raft *r = node(1, 0, 0, true);
    struct raft_msg m;

    *now = raft_next_deadline(r);
    raft_tick(r, *now);
    m = vote_res(2, 1, 1, true, true);
    raft_step(r, &m, *now);
    m = vote_res(2, 1, 1, false, true);
    raft_step(r, &m, *now);
    return r;
}

TEST(follower_starts_prevote_after_election_timeout)
{
    struct raft *r = node(2, 5, 0, true);
    struct raft_msg out[4];
    uint64_t d = raft_next_deadline(r);

    EXPECT_TRUE(d >= EMIN && d < EMAX);
    raft_tick(r, d - 1);
    EXPECT_EQ(st(r).role, RAFT_FOLLOWER);
    raft_tick(r, d);
    EXPECT_EQ(st(r).role, RAFT_PRECANDIDATE);
    EXPECT_EQ(st(r).term, 5); /* a pre-vote never bumps the term */
    EXPECT_EQ(take(r, RAFT_MSG_VOTE, out, 4, NULL), 2);
    EXPECT_TRUE(out[0].u.vote.prevote);
    EXPECT_EQ(out[0].term, 6);
    raft_free(r);
}

TEST(fresh_cluster_gives_lowest_id_the_shortest_first_timeout)
{
    struct raft *a = node(1, 0, 0, true);
    struct raft *b = node(2, 0, 0, true);
    struct raft *c = node(3, 0, 0, true);

    EXPECT_TRUE(raft_next_deadline(a) < raft_next_deadline(b));
    EXPECT_TRUE(raft_next_deadline(b) < raft_next_deadline(c));
    EXPECT_TRUE(raft_next_deadline(c) < EMAX);
    raft_free(a);
    raft_free(b);
    raft_free(c);
}

TEST(prevote_majority_makes_candidate_with_new_term_and_own_vote)
{
    struct raft *r = node(1, 3, 0, true);
    struct raft_msg m = vote_res(2, 1, 4, true, true);
    struct raft_msg out[4];
    struct raft_ready rd;

    raft_tick(r, raft_next_deadline(r));
    raft_step(r, &m, 200);
    EXPECT_EQ(st(r).role, RAFT_CANDIDATE);
    EXPECT_EQ(st(r).term, 4);
    EXPECT_EQ(st(r).vote, 1);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE, out, 4, &rd), 4); /* 2 pre + 2 real */
    EXPECT_TRUE(rd.hard_state_changed);
    EXPECT_EQ(rd.hard_state.term, 4);
    EXPECT_EQ(rd.hard_state.vote, 1);
    EXPECT_TRUE(!out[2].u.vote.prevote);
    raft_free(r);
}

TEST(prevote_rejected_by_majority_returns_to_follower)
{
    struct raft *r = node(1, 3, 0, true);
    struct raft_msg m;

    raft_tick(r, raft_next_deadline(r));
    m = vote_res(2, 1, 3, true, false);
    raft_step(r, &m, 200);
    m = vote_res(3, 1, 3, true, false);
    raft_step(r, &m, 200);
    EXPECT_EQ(st(r).role, RAFT_FOLLOWER);
    EXPECT_EQ(st(r).term, 3);
    raft_free(r);
}

TEST(candidate_with_majority_becomes_leader_and_heartbeats_at_once)
{
    uint64_t now;
    struct raft *r = leader1(&now);
    struct raft_msg out[8];

    EXPECT_EQ(st(r).role, RAFT_LEADER);
    EXPECT_EQ(st(r).leader, 1);
    EXPECT_EQ(take(r, RAFT_MSG_APPEND, out, 8, NULL), 2);
    EXPECT_EQ(out[0].term, 1);
    raft_free(r);
}

TEST(leader_heartbeats_every_interval)
{
    uint64_t now;
    struct raft *r = leader1(&now);
    struct raft_msg out[8];

    take(r, RAFT_MSG_APPEND, out, 8, NULL);
    EXPECT_EQ(raft_next_deadline(r), now + HB);
    raft_tick(r, now + HB - 1);
    EXPECT_EQ(take(r, RAFT_MSG_APPEND, out, 8, NULL), 0);
    raft_tick(r, now + HB);
    EXPECT_EQ(take(r, RAFT_MSG_APPEND, out, 8, NULL), 2);
    raft_free(r);
}

TEST(vote_granted_at_most_once_per_term)
{
    struct raft *r = node(1, 2, 0, false);
    struct raft_msg a = vote_req(2, 1, 3, false, 0, 0);
    struct raft_msg b = vote_req(3, 1, 3, false, 0, 0);
    struct raft_msg out[4];

    raft_step(r, &a, 10);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(out[0].u.vote_result.granted);
    raft_step(r, &b, 11);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.vote_result.granted);
    raft_step(r, &a, 12); /* a repeat of the granted request: same answer */
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(out[0].u.vote_result.granted);
    raft_free(r);
}

TEST(vote_is_in_the_hard_state_of_the_batch_that_grants_it)
{
    struct raft *r = node(1, 2, 0, false);
    struct raft_msg a = vote_req(2, 1, 3, false, 0, 0);
    struct raft_msg out[4];
    struct raft_ready rd;

    raft_step(r, &a, 10);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, &rd), 1);
    EXPECT_TRUE(rd.hard_state_changed);
    EXPECT_EQ(rd.hard_state.term, 3);
    EXPECT_EQ(rd.hard_state.vote, 2);
    EXPECT_EQ(out[0].rpc_id, 7); /* paired with the request */
    raft_free(r);
}

TEST(restored_vote_is_kept_after_restart)
{
    struct raft *r = node(1, 3, 2, false);
    struct raft_msg b = vote_req(3, 1, 3, false, 0, 0);
    struct raft_msg out[4];

    raft_step(r, &b, 10);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.vote_result.granted);
    EXPECT_EQ(st(r).vote, 2);
    raft_free(r);
}

TEST(vote_rejected_for_lower_term_with_our_term)
{
    struct raft *r = node(1, 5, 0, false);
    struct raft_msg a = vote_req(2, 1, 4, false, 0, 0);
    struct raft_msg out[4];

    raft_step(r, &a, 10);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.vote_result.granted);
    EXPECT_EQ(out[0].term, 5);
    raft_free(r);
}

TEST(higher_term_vote_makes_candidate_a_follower)
{
    struct raft *r = node(1, 2, 0, false);
    struct raft_msg a;
    struct raft_msg out[4];

    raft_tick(r, raft_next_deadline(r)); /* candidate in term 3 */
    EXPECT_EQ(st(r).role, RAFT_CANDIDATE);
    a = vote_req(2, 1, 4, false, 0, 0);
    raft_step(r, &a, 400);
    EXPECT_EQ(st(r).role, RAFT_FOLLOWER);
    EXPECT_EQ(st(r).term, 4);
    take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL);
    EXPECT_TRUE(out[0].u.vote_result.granted);
    raft_free(r);
}

TEST(candidate_recognises_leader_of_same_term)
{
    struct raft *r = node(1, 2, 0, false);
    struct raft_msg hb;

    raft_tick(r, raft_next_deadline(r)); /* candidate, term 3 */
    hb = heartbeat(2, 1, 3);
    raft_step(r, &hb, 400);
    EXPECT_EQ(st(r).role, RAFT_FOLLOWER);
    EXPECT_EQ(st(r).leader, 2);
    EXPECT_EQ(st(r).term, 3);
    raft_free(r);
}

TEST(candidate_rejects_append_from_lower_term_and_stays_candidate)
{
    struct raft *r = node(1, 2, 0, false);
    struct raft_msg hb;
    struct raft_msg out[4];

    raft_tick(r, raft_next_deadline(r)); /* candidate, term 3 */
    hb = heartbeat(2, 1, 2);
    raft_step(r, &hb, 400);
    EXPECT_EQ(st(r).role, RAFT_CANDIDATE);
    EXPECT_EQ(take(r, RAFT_MSG_APPEND_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.append_result.success);
    EXPECT_EQ(out[0].term, 3);
    raft_free(r);
}

TEST(split_vote_times_out_into_a_new_election)
{
    struct raft *r = node(1, 2, 0, false);
    uint64_t d;

    raft_tick(r, raft_next_deadline(r));
    EXPECT_EQ(st(r).term, 3);
    d = raft_next_deadline(r);
    raft_tick(r, d);
    EXPECT_EQ(st(r).role, RAFT_CANDIDATE);
    EXPECT_EQ(st(r).term, 4);
    raft_free(r);
}

TEST(follower_resets_timer_on_heartbeat)
{
    struct raft *r = node(2, 1, 0, true);
    struct raft_msg hb = heartbeat(1, 2, 1);
    uint64_t d = raft_next_deadline(r);

    raft_step(r, &hb, d - 1);
    EXPECT_TRUE(raft_next_deadline(r) >= d - 1 + EMIN);
    raft_tick(r, d);
    EXPECT_EQ(st(r).role, RAFT_FOLLOWER);
    raft_free(r);
}

TEST(follower_that_hears_leader_ignores_prevote)
{
    struct raft *r = node(2, 1, 0, true);
    struct raft_msg hb = heartbeat(1, 2, 1);
    struct raft_msg pv = vote_req(3, 2, 2, true, 0, 0);
    struct raft_msg out[4];

    raft_step(r, &hb, 100);
    take(r, RAFT_MSG_APPEND_RESULT, out, 4, NULL);
    raft_step(r, &pv, 110);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.vote_result.granted);
    EXPECT_EQ(st(r).term, 1);
    raft_free(r);
}

TEST(follower_that_hears_leader_ignores_higher_term_vote)
{
    struct raft *r = node(2, 1, 0, true);
    struct raft_msg hb = heartbeat(1, 2, 1);
    struct raft_msg v = vote_req(3, 2, 7, false, 0, 0);
    struct raft_msg out[4];

    raft_step(r, &hb, 100);
    raft_step(r, &v, 110);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.vote_result.granted);
    EXPECT_EQ(st(r).term, 1);   /* the disruptive term is not adopted */
    EXPECT_EQ(st(r).leader, 1); /* and the leader is kept */
    raft_free(r);
}

TEST(follower_grants_prevote_when_leader_lease_expired)
{
    struct raft *r = node(2, 1, 0, true);
    struct raft_msg hb = heartbeat(1, 2, 1);
    struct raft_msg pv = vote_req(3, 2, 2, true, 0, 0);
    struct raft_msg out[4];
    struct raft_ready rd;

    raft_step(r, &hb, 100);
    raft_step(r, &pv, 100 + EMIN);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, &rd), 1);
    EXPECT_TRUE(out[0].u.vote_result.granted);
    EXPECT_EQ(out[0].term, 2);
    EXPECT_EQ(st(r).term, 1); /* answering a pre-vote changes nothing */
    EXPECT_TRUE(!rd.hard_state_changed);
    raft_free(r);
}

TEST(follower_grants_prevote_to_the_leader_it_still_believes_in)
{
    /* Node 1 led term 1, restarted and forgot; node 2 still holds its
     * lease. Refusing would leave the cluster waiting for a leader that no
     * longer exists. */
    struct raft *r = node(2, 1, 0, true);
    struct raft_msg hb = heartbeat(1, 2, 1);
    struct raft_msg pv = vote_req(1, 2, 2, true, 0, 0);
    struct raft_msg out[4];

    raft_step(r, &hb, 100);
    raft_step(r, &pv, 110);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(out[0].u.vote_result.granted);
    raft_free(r);
}

TEST(leader_ignores_vote_requests_while_it_holds_a_majority)
{
    uint64_t now;
    struct raft *r = leader1(&now);
    struct raft_msg v = vote_req(3, 1, 9, false, 0, 0);
    struct raft_msg out[4];

    raft_step(r, &v, now + 1);
    EXPECT_EQ(st(r).role, RAFT_LEADER);
    EXPECT_EQ(st(r).term, 1);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.vote_result.granted);
    raft_free(r);
}

TEST(leader_without_majority_contact_steps_down_within_election_timeout)
{
    uint64_t now;
    struct raft *r = leader1(&now);
    uint64_t t = now;

    while (st(r).role == RAFT_LEADER && t < now + 10 * EMAX) {
        t = raft_next_deadline(r);
        raft_tick(r, t);
    }
    EXPECT_EQ(st(r).role, RAFT_FOLLOWER);
    EXPECT_TRUE(t - now <= EMAX);
    EXPECT_EQ(st(r).term, 1);
    raft_free(r);
}

TEST(leader_with_majority_contact_keeps_leading)
{
    uint64_t now;
    struct raft *r = leader1(&now);
    struct raft_msg ok;

    for (uint64_t t = now; t < now + 10 * EMAX; t += HB) {
        raft_tick(r, t);
        ok = append_ok(2, 1, 1);
        raft_step(r, &ok, t);
    }
    EXPECT_EQ(st(r).role, RAFT_LEADER);
    raft_free(r);
}

TEST(stale_leader_steps_down_on_reply_with_higher_term)
{
    uint64_t now;
    struct raft *r = leader1(&now);
    struct raft_msg res = {
        .type = RAFT_MSG_APPEND_RESULT, .from = 3, .to = 1, .term = 4};

    raft_step(r, &res, now + 1);
    EXPECT_EQ(st(r).role, RAFT_FOLLOWER);
    EXPECT_EQ(st(r).term, 4);
    raft_free(r);
}

TEST(append_rejection_hints_the_follower_last_index)
{
    struct raft *r = node(2, 1, 0, true);
    struct raft_msg hb = heartbeat(1, 2, 1);
    struct raft_msg out[4];

    hb.u.append.prev_log_index = 10;
    hb.u.append.prev_log_term = 1;
    raft_step(r, &hb, 10);
    EXPECT_EQ(take(r, RAFT_MSG_APPEND_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.append_result.success);
    EXPECT_EQ(out[0].u.append_result.conflict_index, 0);
    EXPECT_EQ(out[0].u.append_result.conflict_term, 0);
    raft_free(r);
}

TEST(transfer_sends_timeout_now_to_a_caught_up_follower)
{
    uint64_t now;
    struct raft *r = leader1(&now);
    struct raft_msg ok = append_ok(2, 1, 1);
    struct raft_msg out[4];

    raft_step(r, &ok, now + 1);
    take(r, RAFT_MSG_APPEND, out, 4, NULL);
    EXPECT_EQ(raft_transfer(r, 0, now + 2), 0);
    EXPECT_EQ(st(r).transfer_target, 2);
    EXPECT_EQ(take(r, RAFT_MSG_TIMEOUT_NOW, out, 4, NULL), 1);
    EXPECT_EQ(out[0].to, 2);
    raft_free(r);
}

TEST(transfer_refused_when_not_leader_or_no_follower_answers)
{
    uint64_t now;
    struct raft *f = node(2, 1, 0, true);
    struct raft *r = leader1(&now);

    EXPECT_EQ(raft_transfer(f, 0, 10), -1);
    /* Nobody answered the leader for longer than an election timeout. */
    EXPECT_EQ(raft_transfer(r, 0, now + EMIN + 1), -1);
    EXPECT_EQ(raft_transfer(r, 9, now), -1);
    raft_free(f);
    raft_free(r);
}

TEST(transfer_is_abandoned_after_an_election_timeout)
{
    uint64_t now;
    struct raft *r = leader1(&now);
    struct raft_msg ok;

    EXPECT_EQ(raft_transfer(r, 3, now), 0); /* 3 never caught up */
    for (uint64_t t = now; t <= now + EMAX; t += HB / 2) {
        ok = append_ok(2, 1, 1);
        raft_step(r, &ok, t);
        raft_tick(r, t);
    }
    EXPECT_EQ(st(r).transfer_target, 0);
    EXPECT_EQ(st(r).role, RAFT_LEADER);
    raft_free(r);
}

TEST(timeout_now_starts_a_real_election_at_once_with_transfer_flag)
{
    struct raft *r = node(2, 1, 0, true);
    struct raft_msg hb = heartbeat(1, 2, 1);
    struct raft_msg tn = {
        .type = RAFT_MSG_TIMEOUT_NOW, .from = 1, .to = 2, .term = 1};
    struct raft_msg out[4];

    raft_step(r, &hb, 10);
    raft_step(r, &tn, 11);
    EXPECT_EQ(st(r).role, RAFT_CANDIDATE);
    EXPECT_EQ(st(r).term, 2);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE, out, 4, NULL), 2);
    EXPECT_TRUE(!out[0].u.vote.prevote);
    EXPECT_TRUE(out[0].u.vote.transfer);
    raft_free(r);
}

TEST(transfer_vote_is_granted_despite_the_lease)
{
    struct raft *r = node(3, 1, 0, true);
    struct raft_msg hb = heartbeat(1, 3, 1);
    struct raft_msg v = vote_req(2, 3, 2, false, 0, 0);
    struct raft_msg out[4];

    v.u.vote.transfer = true;
    raft_step(r, &hb, 10);
    raft_step(r, &v, 11);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(out[0].u.vote_result.granted);
    EXPECT_EQ(st(r).term, 2);
    raft_free(r);
}

TEST(stale_timeout_now_is_ignored)
{
    struct raft *r = node(2, 5, 0, true);
    struct raft_msg tn = {
        .type = RAFT_MSG_TIMEOUT_NOW, .from = 1, .to = 2, .term = 4};

    raft_step(r, &tn, 11);
    EXPECT_EQ(st(r).role, RAFT_FOLLOWER);
    EXPECT_EQ(st(r).term, 5);
    raft_free(r);
}

TEST(messages_from_unknown_nodes_or_for_others_are_dropped)
{
    struct raft *r = node(2, 1, 0, true);
    struct raft_msg a = vote_req(9, 2, 3, false, 0, 0);
    struct raft_msg b = vote_req(1, 3, 3, false, 0, 0);

    EXPECT_EQ(raft_step(r, &a, 1), -1);
    EXPECT_EQ(raft_step(r, &b, 1), -1);
    EXPECT_EQ(st(r).term, 1);
    raft_free(r);
}

/* Three nodes, every message delivered at once: node 1 wins term 1. */
TEST(three_fresh_nodes_elect_node_one)
{
    struct raft *n[3];
    uint64_t now = 0;

    for (int i = 0; i < 3; i++) {
        n[i] = node((uint64_t)i + 1, 0, 0, true);
    }
    for (int round = 0; round < 200; round++) {
        uint64_t next = UINT64_MAX;
        struct raft_msg q[64];
        size_t nq = 0;

        for (int i = 0; i < 3; i++) {
            uint64_t d = raft_next_deadline(n[i]);
            next = d < next ? d : next;
        }
        now = next;
        for (int i = 0; i < 3; i++) {
            raft_tick(n[i], now);
        }
        /* Deliver until quiet. */
        do {
            nq = 0;
            for (int i = 0; i < 3; i++) {
                struct raft_ready rd;

                raft_ready(n[i], &rd);
                for (size_t k = 0; k < rd.n_msgs && nq < 64; k++) {
                    q[nq++] = rd.msgs[k];
                }
            }
            for (size_t k = 0; k < nq; k++) {
                raft_step(n[q[k].to - 1], &q[k], now);
            }
        } while (nq > 0);
        if (st(n[0]).role == RAFT_LEADER) {
            break;
        }
    }
    EXPECT_EQ(st(n[0]).role, RAFT_LEADER);
    EXPECT_EQ(st(n[0]).term, 1);
    EXPECT_EQ(st(n[1]).leader, 1);
    EXPECT_EQ(st(n[2]).leader, 1);
    for (int i = 0; i < 3; i++) {
        raft_free(n[i]);
    }
}

TEST(lease_ends_one_heartbeat_before_the_minimum_election_timeout)
{
    struct raft *r = node(2, 1, 0, true);
    struct raft_msg hb = heartbeat(1, 2, 1);
    struct raft_msg pv = vote_req(3, 2, 2, true, 0, 0);
    struct raft_msg out[4];

    raft_step(r, &hb, 100);
    raft_step(r, &pv, 100 + EMIN - HB - 1);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.vote_result.granted);
    /* A peer that heard the same heartbeat a little earlier and timed out
     * at the minimum is not turned away. */
    raft_step(r, &pv, 100 + EMIN - HB);
    EXPECT_EQ(take(r, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(out[0].u.vote_result.granted);
    raft_free(r);
}

TEST(between_two_precandidates_the_lower_id_goes_first)
{
    struct raft *a = node(1, 4, 0, true);
    struct raft *b = node(2, 4, 0, true);
    struct raft_msg from_b = vote_req(2, 1, 5, true, 0, 0);
    struct raft_msg from_a = vote_req(1, 2, 5, true, 0, 0);
    struct raft_msg out[4];

    raft_tick(a, raft_next_deadline(a));
    raft_tick(b, raft_next_deadline(b));
    EXPECT_EQ(st(a).role, RAFT_PRECANDIDATE);
    EXPECT_EQ(st(b).role, RAFT_PRECANDIDATE);
    take(a, RAFT_MSG_VOTE, out, 4, NULL);
    take(b, RAFT_MSG_VOTE, out, 4, NULL);
    raft_step(a, &from_b, 1000);
    EXPECT_EQ(take(a, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(!out[0].u.vote_result.granted);
    raft_step(b, &from_a, 1000);
    EXPECT_EQ(take(b, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(out[0].u.vote_result.granted);
    raft_free(a);
    raft_free(b);
}

TEST(lower_id_precandidate_does_not_block_one_whose_log_is_ahead)
{
    struct raft *a = node(1, 4, 0, true);
    struct raft_msg from_b = vote_req(2, 1, 5, true, 7, 4);
    struct raft_msg out[4];

    raft_tick(a, raft_next_deadline(a));
    EXPECT_EQ(st(a).role, RAFT_PRECANDIDATE);
    take(a, RAFT_MSG_VOTE, out, 4, NULL);
    raft_step(a, &from_b, 1000);
    EXPECT_EQ(take(a, RAFT_MSG_VOTE_RESULT, out, 4, NULL), 1);
    EXPECT_TRUE(out[0].u.vote_result.granted);
    raft_free(a);
}

int main(void)
{
    RUN(follower_starts_prevote_after_election_timeout);
    RUN(fresh_cluster_gives_lowest_id_the_shortest_first_timeout);
    RUN(prevote_majority_makes_candidate_with_new_term_and_own_vote);
    RUN(prevote_rejected_by_majority_returns_to_follower);
    RUN(candidate_with_majority_becomes_leader_and_heartbeats_at_once);
    RUN(leader_heartbeats_every_interval);
    RUN(vote_granted_at_most_once_per_term);
    RUN(vote_is_in_the_hard_state_of_the_batch_that_grants_it);
    RUN(restored_vote_is_kept_after_restart);
    RUN(vote_rejected_for_lower_term_with_our_term);
    RUN(higher_term_vote_makes_candidate_a_follower);
    RUN(candidate_recognises_leader_of_same_term);
    RUN(candidate_rejects_append_from_lower_term_and_stays_candidate);
    RUN(split_vote_times_out_into_a_new_election);
    RUN(follower_resets_timer_on_heartbeat);
    RUN(follower_that_hears_leader_ignores_prevote);
    RUN(follower_that_hears_leader_ignores_higher_term_vote);
    RUN(follower_grants_prevote_when_leader_lease_expired);
    RUN(lease_ends_one_heartbeat_before_the_minimum_election_timeout);
    RUN(between_two_precandidates_the_lower_id_goes_first);
    RUN(lower_id_precandidate_does_not_block_one_whose_log_is_ahead);
    RUN(follower_grants_prevote_to_the_leader_it_still_believes_in);
    RUN(leader_ignores_vote_requests_while_it_holds_a_majority);
    RUN(leader_without_majority_contact_steps_down_within_election_timeout);
    RUN(leader_with_majority_contact_keeps_leading);
    RUN(stale_leader_steps_down_on_reply_with_higher_term);
    RUN(append_rejection_hints_the_follower_last_index);
    RUN(transfer_sends_timeout_now_to_a_caught_up_follower);
    RUN(transfer_refused_when_not_leader_or_no_follower_answers);
    RUN(transfer_is_abandoned_after_an_election_timeout);
    RUN(timeout_now_starts_a_real_election_at_once_with_transfer_flag);
    RUN(transfer_vote_is_granted_despite_the_lease);
    RUN(stale_timeout_now_is_ignored);
    RUN(messages_from_unknown_nodes_or_for_others_are_dropped);
    RUN(three_fresh_nodes_elect_node_one);
    DONE();
}
