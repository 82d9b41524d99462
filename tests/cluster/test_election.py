"""test_election.py - leader election with real processes: who wins, how a
lost or stopped leader is replaced, and that nodes which come back, wake up
or lose one link do not disrupt a working cluster.

Default timeouts unless a test says otherwise: elections 150-300 ms,
heartbeats every 50 ms.
"""

import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note  # noqa: E402

ELECTION_MAX = 0.300  # seconds, the default upper election timeout
# A failover must be repaired within about one election timeout; this bound
# leaves room for a loaded 2-core machine. bench/ measures it precisely.
FAILOVER_BOUND = 1.0


def ms(seconds):
    return "%.0f ms" % (seconds * 1000)


def others(c, node_id):
    return [i for i in c.ids() if i != node_id]


def test_node_1_becomes_first_leader_and_all_agree():
    with Cluster(3, start=[]) as c:
        t0 = time.monotonic()
        c.start()
        lead, term = c.wait_leader(3.0)
        took = time.monotonic() - t0
        note("first leader %d in term %d after %s" % (lead, term, ms(took)))
        assert lead == 1, "expected node 1 to win first, got node %d" % lead
        assert term == 1, "expected the first election (term 1), got %d" % term
        assert took < 1.0, "first leader took %s, expected < 1 s" % ms(took)
        c.watch_stable(lead, term, 0.5)


def test_five_nodes_elect_one_leader_all_agree():
    with Cluster(5) as c:
        lead, term = c.wait_leader(3.0)
        sts = c.statuses()
        leaders = [i for i, st in sts.items() if st["role"] == "leader"]
        assert leaders == [lead], "nodes saying leader: %s" % leaders
        for i, st in sts.items():
            assert len(st["peers"]) == 5, \
                "node %d lists %d peers" % (i, len(st["peers"]))
        note("leader %d in term %d" % (lead, term))
        c.watch_stable(lead, term, 0.5)


def test_killed_leader_is_replaced_within_an_election_timeout():
    with Cluster(3) as c:
        lead, term = c.wait_leader(3.0)
        c.watch_stable(lead, term, 0.2)
        t0 = time.monotonic()
        c[lead].kill()
        survivors = others(c, lead)
        new, new_term = c.wait_leader(3.0, ids=survivors, exclude=[lead])
        took = time.monotonic() - t0
        note("node %d took over in term %d, %s after kill -9"
             % (new, new_term, ms(took)))
        assert new_term > term, "new term %d <= old %d" % (new_term, term)
        assert took < FAILOVER_BOUND, "failover took %s" % ms(took)
        c.watch_stable(new, new_term, 0.3, ids=survivors)


def test_restarted_leader_rejoins_as_follower_without_disruption():
    with Cluster(3) as c:
        old, _ = c.wait_leader(3.0)
        c[old].kill()
        lead, term = c.wait_leader(3.0, ids=others(c, old), exclude=[old])
        c[old].start()
        c.wait_until(lambda: (c[old].status() or {}).get("leader") == lead,
                     2.0,
                     "restarted node %d to follow leader %d" % (old, lead))
        st = c[old].status()
        assert st["role"] == "follower" and st["term"] == term, \
            "restarted node: role %s term %s, expected follower in term %d" \
            % (st["role"], st["term"], term)
        # Several election timeouts: the newcomer must not start elections.
        c.watch_stable(lead, term, 1.0)


def test_paused_follower_wakes_up_without_disruption():
    with Cluster(3) as c:
        lead, term = c.wait_leader(3.0)
        f = others(c, lead)[0]
        c[f].pause()
        # Paused for more than three election timeouts; meanwhile the other
        # two keep their leader.
        c.watch_stable(lead, term, 4 * ELECTION_MAX, ids=others(c, f))
        c[f].resume()
        c.wait_until(lambda: c.leader_term() == (lead, term), 2.0,
                     "woken follower %d to follow %d in term %d again"
                     % (f, lead, term))
        c.watch_stable(lead, term, 1.0)


@cluster.timeout(30)
def test_sigterm_leader_hands_over_in_less_than_an_election_timeout():
    # Long election timeouts, so that a takeover faster than 500 ms can only
    # be the handover (TimeoutNow), not an election after a timeout.
    with Cluster(3, election_timeout="500-1000") as c:
        lead, term = c.wait_leader(5.0)
        c.watch_stable(lead, term, 0.2)
        survivors = others(c, lead)
        t0 = time.monotonic()
        c[lead].signal(cluster.signal.SIGTERM)
        new, new_term = c.wait_leader(3.0, ids=survivors, exclude=[lead])
        took = time.monotonic() - t0
        note("node %d took over in term %d, %s after SIGTERM"
             % (new, new_term, ms(took)))
        assert took < 0.4, \
            "takeover took %s: an election, not a handover" % ms(took)
        assert new_term == term + 1, \
            "handover should win term %d at once, got %d" \
            % (term + 1, new_term)
        rc = c[lead].wait_exit(5.0)
        assert rc == 0, "old leader exited with %s, expected 0" % rc
        c.watch_stable(new, new_term, 0.3, ids=survivors)


@cluster.timeout(30)
def test_admin_transfer_hands_over_to_the_named_node():
    # Long election timeouts, as above: only a handover is this fast.
    with Cluster(3, election_timeout="500-1000") as c:
        lead, term = c.wait_leader(5.0)
        f1, f2 = others(c, lead)
        st, _, body = c[f1].request("POST", "/v1/leader/transfer?to=%d" % f2)
        assert st == 503 and json.loads(body).get("leader") == lead, \
            "transfer asked of follower %d: %d %r" % (f1, st, body)

        t0 = time.monotonic()
        st, _, body = c[lead].request("POST",
                                      "/v1/leader/transfer?to=%d" % f2)
        assert st == 200 and json.loads(body).get("transfer_to") == f2, \
            "transfer to %d: %d %r" % (f2, st, body)
        new, new_term = c.wait_leader(3.0, exclude=[lead])
        took = time.monotonic() - t0
        note("asked node %d to hand over to %d: node %d leads term %d "
             "after %s" % (lead, f2, new, new_term, ms(took)))
        assert new == f2, "expected node %d to take over, got %d" % (f2, new)
        assert new_term == term + 1 and took < 0.4, \
            "term %d after %s: an election, not a handover" \
            % (new_term, ms(took))

        # Without ?to the leader picks an up-to-date follower itself.
        st, _, body = c[new].request("POST", "/v1/leader/transfer")
        assert st == 200, "transfer: %d %r" % (st, body)
        new2, term2 = c.wait_leader(3.0, exclude=[new])
        assert term2 == new_term + 1, "term %d after %d" % (term2, new_term)
        c.watch_stable(new2, term2, 0.3)


def test_metrics_are_prometheus_text():
    with Cluster(3) as c:
        lead, _ = c.wait_leader(3.0)
        for i in c.ids():
            st, hdrs, body = c[i].request("GET", "/metrics")
            text = body.decode()
            assert st == 200, "GET /metrics on %d: %d" % (i, st)
            assert "text/plain" in hdrs.get("Content-Type", ""), hdrs
            samples = [ln for ln in text.splitlines()
                       if ln and not ln.startswith("#")]
            assert samples and all(len(ln.split()) == 2 for ln in samples), \
                "not Prometheus text:\n%s" % text[:500]
            assert "# TYPE " in text, text[:500]


def test_node_2_wins_when_node_1_never_started():
    with Cluster(3, start=[2, 3]) as c:
        lead, term = c.wait_leader(3.0)
        note("leader %d in term %d" % (lead, term))
        assert lead == 2, "expected node 2 to win, got node %d" % lead
        # Node 1 arrives late and simply follows.
        c[1].start()
        c.wait_until(lambda: c.leader_term() == (lead, term), 2.0,
                     "node 1 to follow node 2 in term %d" % term)
        c.watch_stable(lead, term, 0.5)


def test_restarted_node_keeps_term_and_vote():
    with Cluster(3) as c:
        first, _ = c.wait_leader(3.0)
        c[first].kill()
        c.wait_leader(3.0, ids=others(c, first), exclude=[first])
        c[first].start()
        lead, term = c.wait_leader(3.0)
        saved = {i: (st["term"], st["vote"]) for i, st in c.statuses().items()}
        assert all(t == term for t, _ in saved.values()), saved
        assert term >= 2, "expected a second election, term is %d" % term
        for i in c.ids():
            c[i].kill()
        # Each node alone: it comes back with what it had, and cannot win,
        # so (with pre-vote) its term does not move either.
        for i in c.ids():
            c[i].start()
            st = c.wait_until(c[i].status, 2.0, "node %d to answer" % i)
            assert (st["term"], st["vote"]) == saved[i], \
                "node %d restarted with term %s vote %s, had term %s vote %s" \
                % (i, st["term"], st["vote"], saved[i][0], saved[i][1])
            end = time.monotonic() + 3 * ELECTION_MAX
            while time.monotonic() < end:
                st = c[i].status()
                assert st is not None, "node %d stopped answering" % i
                assert st["term"] == saved[i][0], \
                    "node %d alone moved from term %d to %d (pre-vote?)" \
                    % (i, saved[i][0], st["term"])
                time.sleep(0.02)
            c[i].kill()
        c.start()
        lead2, term2 = c.wait_leader(3.0)
        assert term2 > term, "term went from %d to %d" % (term, term2)


def test_idle_cluster_logs_no_line_per_heartbeat():
    with Cluster(3) as c:
        lead, term = c.wait_leader(3.0)
        c.watch_stable(lead, term, 0.3)
        before = {i: len(c[i].log_tail(10 ** 6)) for i in c.ids()}
        c.watch_stable(lead, term, 1.0)  # 20 heartbeats per follower
        grown = {i: len(c[i].log_tail(10 ** 6)) - before[i] for i in c.ids()}
        assert all(n <= 3 for n in grown.values()), \
            "log lines written by an idle cluster in 1 s: %s" % grown


# ---------------------------------------------------------------------------
# cut links (nftables; each node on its own loopback address)


def test_isolated_leader_steps_down_and_majority_elects_new_one():
    cluster.need_nft()
    with Cluster(3) as c:
        lead, term = c.wait_leader(3.0)
        c.watch_stable(lead, term, 0.2)
        f1, f2 = others(c, lead)
        t0 = time.monotonic()
        c.cut(lead, f1)
        c.cut(lead, f2)
        new, new_term = c.wait_leader(3.0, ids=[f1, f2], exclude=[lead])
        elected = time.monotonic() - t0
        c.wait_until(lambda: (c[lead].status() or {}).get("role")
                     not in (None, "leader"), 3.0,
                     "cut-off leader %d to step down" % lead)
        stepped = time.monotonic() - t0
        note("new leader %d after %s; old leader %d stepped down after %s"
             % (new, ms(elected), lead, ms(stepped)))
        assert stepped < 2 * ELECTION_MAX + 0.3, \
            "check-quorum step-down took %s" % ms(stepped)
        old_term = c[lead].status()["term"]
        assert old_term == term, \
            "cut-off node moved from term %d to %d (pre-vote?)" \
            % (term, old_term)

        c.heal()
        c.wait_until(lambda: c.leader_term() == (new, new_term), 2.0,
                     "all to follow %d in term %d after heal"
                     % (new, new_term))
        # No flapping: several election timeouts, one leader, one term.
        c.watch_stable(new, new_term, 1.0)


def test_follower_cut_from_leader_only_does_not_disrupt():
    cluster.need_nft()
    with Cluster(3) as c:
        lead, term = c.wait_leader(3.0)
        c.watch_stable(lead, term, 0.2)
        cut, other = others(c, lead)
        c.cut(lead, cut)
        # The cut follower still reaches the other follower, which still
        # hears the leader and refuses its (pre-)votes: nobody's term moves.
        end = time.monotonic() + 2.0
        while time.monotonic() < end:
            sts = c.statuses()
            for i in (lead, other):
                st = sts[i]
                assert st and st["leader"] == lead and st["term"] == term, \
                    "node %d: %s\n%s" % (i, st, c.describe())
            st = sts[cut]
            assert st and st["term"] == term, \
                "cut follower %d went to term %s (endless elections?)\n%s" \
                % (cut, st and st["term"], c.describe())
            time.sleep(0.02)
        note("cut follower %d ended as %s" % (cut, sts[cut]["role"]))
        c.heal()
        c.wait_until(lambda: c.leader_term() == (lead, term), 2.0,
                     "follower %d to rejoin leader %d in term %d"
                     % (cut, lead, term))
        c.watch_stable(lead, term, 0.5)
