"""test_durability.py - no acknowledged write is lost: not when every node is
killed at once, not when leader after leader is killed, not on a restart
that replays a long log; and compare-and-set has exactly one winner.

The write load: several writer threads, each with keys of its own that it
writes over and over (so the check sees fresh keys and overwritten ones),
every value distinct. Each writer spreads its writes over the nodes and
records every write with its outcome: acknowledged (200, with the index),
or unknown (a 503, a 504, a lost connection). Since one writer owns a key
and writes it one request at a time, what the key must hold afterwards is
known exactly: the value of its last acknowledged write, or of a later
write whose outcome was unknown, with a modify index no lower than the
acknowledged one. A key never acknowledged may be absent.

Every check reads every key through every node: linearizable (a follower
asks the leader), then ?stale once that node has applied the highest
acknowledged index.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_durability.py [NAME...]
"""

import http.client
import json
import os
import random
import signal
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note  # noqa: E402

CLIENT_TIMEOUT = 30.0  # above the node's own 10 s write timeout
LOAD_LIMIT = 60.0  # seconds: a load stops by itself after this


class Client:
    """Requests to one node over a kept-alive connection, reopened after an
    error. request() returns (status, body bytes) or raises OSError or
    http.client.HTTPException."""

    def __init__(self, node, timeout=CLIENT_TIMEOUT):
        self.host, self.port, self.timeout = node.host, node.port, timeout
        self.conn = None

    def request(self, method, path, body=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port,
                                                   timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---------------------------------------------------------------------------
# the write load


class Write:
    __slots__ = ("seq", "key", "value", "acked", "index", "outcome")

    def __init__(self, seq, key, value):
        self.seq, self.key, self.value = seq, key, value
        self.acked, self.index, self.outcome = False, 0, None


class WriteLoad:
    """WRITERS threads; writer W owns the keys "PREFIX/W/0".."PREFIX/W/K-1"
    (K = KEYS) and writes them in turn, each time a new value, starting at
    node W and moving to the next node after a failure. Bounded: each stops
    at stop(), after MAX_WRITES writes, or after LOAD_LIMIT seconds."""

    def __init__(self, c, writers=8, keys=16, prefix="d", ids=None,
                 max_writes=100000, value_size=48):
        self.c = c
        self.ids = list(ids or c.ids())
        self.keys, self.prefix = keys, prefix
        self.max_writes, self.value_size = max_writes, value_size
        self.histories = [[] for _ in range(writers)]
        self.unexpected = []  # (status, body) of answers no write may get
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(w,),
                                         daemon=True)
                        for w in range(writers)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(CLIENT_TIMEOUT + 5)
            assert not t.is_alive(), "a writer did not stop"
        assert not self.unexpected, "unexpected answers to writes: %s" % (
            self.unexpected[:5])

    def acked(self):
        return sum(1 for h in self.histories for w in h if w.acked)

    def outcomes(self):
        """{outcome: count} of the writes not acknowledged."""
        out = {}
        for h in self.histories:
            for w in h:
                if not w.acked:
                    out[w.outcome] = out.get(w.outcome, 0) + 1
        return out

    def max_index(self):
        return max((w.index for h in self.histories for w in h), default=0)

    def _value(self, w, seq):
        head = "w%d.s%d." % (w, seq)
        return head + "x" * max(0, self.value_size - len(head))

    def _run(self, w):
        clients = {i: Client(self.c[i]) for i in self.ids}
        turn = w
        deadline = time.monotonic() + LOAD_LIMIT
        hist = self.histories[w]
        for seq in range(self.max_writes):
            if self.stopping.is_set() or time.monotonic() > deadline:
                break
            wr = Write(seq, "%s/%d/%d" % (self.prefix, w, seq % self.keys),
                       self._value(w, seq))
            hist.append(wr)
            node = self.ids[turn % len(self.ids)]
            if not self._put(clients[node], wr):
                turn += 1
                time.sleep(0.01)
        for cl in clients.values():
            cl.close()

    def _put(self, client, wr):
        """Send WR; record its outcome; True if acknowledged."""
        try:
            st, data = client.request("PUT", "/v1/kv/" + wr.key, wr.value)
        except (OSError, http.client.HTTPException) as e:
            wr.outcome = type(e).__name__
            return False
        if st == 200:
            wr.acked, wr.index = True, json.loads(data)["index"]
            return True
        wr.outcome = st
        if st not in (503, 504):
            with self.lock:
                self.unexpected.append((st, data[:200]))
        return False

    def expected(self):
        """{key: (allowed values, minimum modify index, acknowledged)}."""
        out = {}
        for hist in self.histories:
            per_key = {}
            for wr in hist:
                per_key.setdefault(wr.key, []).append(wr)
            for key, writes in per_key.items():
                last = max((i for i, wr in enumerate(writes) if wr.acked),
                           default=-1)
                tail = writes[max(last, 0):]
                allowed = {wr.value for wr in tail}
                index = writes[last].index if last >= 0 else 0
                out[key] = (allowed, index, last >= 0)
        return out


# ---------------------------------------------------------------------------
# checks


def wait_applied(c, index, timeout, ids):
    def caught_up():
        sts = c.statuses(ids)
        return all(st and st["applied_index"] >= index for st in sts.values())

    c.wait_until(caught_up, timeout, "nodes %s to apply index %d"
                 % (ids, index))


def get_retrying(cl, path, attempts=100):
    """GET PATH; a 503 (no leader yet, say) is asked again after 20 ms, up
    to ATTEMPTS times. Returns (status, body)."""
    for _ in range(attempts):
        st, data = cl.request("GET", path)
        if st != 503:
            break
        time.sleep(0.02)
    return st, data


def read_all(c, node_id, expected, query):
    """Read every key of EXPECTED through node NODE_ID; a list of what is
    wrong."""
    cl = Client(c[node_id])
    wrong = []
    try:
        for key, (allowed, index, acked) in sorted(expected.items()):
            st, data = get_retrying(cl, "/v1/kv/" + key + query)
            if st == 404 and not acked:
                continue
            if st != 200:
                wrong.append("%s: %d %s" % (key, st, data[:80]))
                continue
            got = json.loads(data)
            if got["value"] not in allowed:
                wrong.append("%s: value %r, expected one of %s (acked at "
                             "%d)" % (key, got["value"][:24],
                                      sorted(v[:24] for v in allowed),
                                      index))
            elif got["modify_index"] < index:
                wrong.append("%s: modify_index %d < acknowledged %d"
                             % (key, got["modify_index"], index))
    finally:
        cl.close()
    return wrong


def check_no_write_lost(c, load, ids=None, timeout=20.0):
    """Every key through every node in IDS (default: all), linearizable and
    then ?stale, holds what LOAD's acknowledged writes say."""
    ids = ids or c.ids()
    expected = load.expected()
    top = load.max_index()
    for i in ids:
        wrong = read_all(c, i, expected, "")
        assert not wrong, "node %d (linearizable read): %d of %d keys " \
            "wrong, e.g.\n  %s" % (i, len(wrong), len(expected),
                                   "\n  ".join(wrong[:5]))
    wait_applied(c, top, timeout, ids)
    for i in ids:
        wrong = read_all(c, i, expected, "?stale")
        assert not wrong, "node %d (?stale read): %d of %d keys wrong, " \
            "e.g.\n  %s" % (i, len(wrong), len(expected),
                            "\n  ".join(wrong[:5]))
    return len(expected)


def pids_of(c):
    return [nd.pid for nd in c.nodes.values() if nd.pid]


def assert_no_process_left(pids):
    """After teardown: none of PIDS (every node process a test started)
    is still running."""
    left = []
    for pid in pids:
        try:
            os.kill(pid, 0)
            left.append(pid)
        except ProcessLookupError:
            pass
    assert not left, "processes left running: %s" % left


def kill_all_at_once(c):
    """SIGKILL every running node before reaping any."""
    nodes = [nd for nd in c.nodes.values() if nd.alive()]
    for nd in nodes:
        nd.expect_exit = True
        os.kill(nd.pid, signal.SIGKILL)
    for nd in nodes:
        nd.kill()


# ---------------------------------------------------------------------------
# the tests


@cluster.timeout(90)
def test_all_nodes_killed_at_once_mid_load_lose_no_acknowledged_write():
    rounds = 3
    pids = set()
    backs = []
    with Cluster(3) as c:
        c.wait_leader(5.0)
        load = WriteLoad(c, writers=8, keys=32).start()
        try:
            for r in range(rounds):
                n = load.acked()
                c.wait_until(lambda: load.acked() >= n + 300, 20.0,
                             "300 more acknowledged writes (round %d)" % r)
                time.sleep(random.uniform(0, 0.05))  # a random moment
                pids.update(pids_of(c))
                kill_all_at_once(c)
                t0 = time.monotonic()
                c.start()
                pids.update(pids_of(c))
                c.wait_leader(5.0)
                backs.append(time.monotonic() - t0)
            n = load.acked()
            c.wait_until(lambda: load.acked() >= n + 200, 20.0,
                         "200 more acknowledged writes after the last restart")
        finally:
            load.stop()
        keys = check_no_write_lost(c, load)
        note("%d writes acked, all 3 nodes killed -9 %d times, a leader "
             "again after %s ms; %d keys read back on every node; not "
             "acked: %s" % (load.acked(), rounds,
                            "/".join("%.0f" % (b * 1000) for b in backs),
                            keys, load.outcomes()))
    assert_no_process_left(pids)


@cluster.timeout(90)
def test_leader_killed_twice_in_a_row_mid_load_loses_no_acknowledged_write():
    pids = set()
    with Cluster(5, extra_args=["--snapshot-entries", "300",
                                "--snapshot-keep", "100"]) as c:
        first, term = c.wait_leader(5.0)
        pids.update(pids_of(c))
        load = WriteLoad(c, writers=8, keys=16).start()
        try:
            c.wait_until(lambda: load.acked() >= 300, 20.0,
                         "300 acknowledged writes")
            c[first].kill()
            second, _ = c.wait_leader(5.0, exclude=[first])
            n = load.acked()
            c.wait_until(lambda: load.acked() >= n + 300, 20.0,
                         "300 more acknowledged writes under leader %d"
                         % second)
            c[second].kill()
            third, _ = c.wait_leader(5.0, exclude=[first, second])
            n = load.acked()
            c.wait_until(lambda: load.acked() >= n + 300, 20.0,
                         "300 more acknowledged writes under leader %d"
                         % third)
            c.start([first, second])
            pids.update(pids_of(c))
            c.wait_leader(5.0)
        finally:
            load.stop()
        keys = check_no_write_lost(c, load)
        note("%d writes acked; leaders %d, %d killed -9, %d took over; %d "
             "keys read back on all 5 nodes; not acked: %s"
             % (load.acked(), first, second, third, keys, load.outcomes()))
    assert_no_process_left(pids)


def cas_round(c, key, index, writers, value_of):
    """WRITERS threads at once (a barrier), writer W through node W % n,
    PUT KEY?cas=INDEX with value_of(W). Returns [(writer, status, body)]."""
    ids = c.ids()
    barrier = threading.Barrier(writers)
    results = [None] * writers
    clients = [Client(c[ids[w % len(ids)]]) for w in range(writers)]
    for cl in clients:  # connect before the barrier
        cl.request("GET", "/v1/status")

    def run(w):
        barrier.wait(10.0)
        try:
            st, data = clients[w].request(
                "PUT", "/v1/kv/%s?cas=%d" % (key, index), value_of(w))
            results[w] = (w, st, json.loads(data))
        except (OSError, http.client.HTTPException, ValueError) as e:
            results[w] = (w, None, repr(e))

    threads = [threading.Thread(target=run, args=(w,), daemon=True)
               for w in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(CLIENT_TIMEOUT + 10)
        assert not t.is_alive(), "a compare-and-set writer hangs"
    for cl in clients:
        cl.close()
    return results


@cluster.timeout(60)
def test_concurrent_compare_and_set_has_exactly_one_winner():
    pids = set()
    writers, rounds = 8, 6
    with Cluster(3) as c:
        c.wait_leader(5.0)
        pids.update(pids_of(c))
        index = 0  # round 0: create only
        wins = []
        for r in range(rounds):
            res = cas_round(c, "cas/key", index, writers,
                            lambda w: "round %d writer %d" % (r, w))
            winners = [x for x in res if x[1] == 200]
            losers = [x for x in res if x[1] == 409]
            assert len(winners) == 1 and len(losers) == writers - 1, \
                "round %d (cas=%d): expected one 200 and %d 409s, got %s" \
                % (r, index, writers - 1, [(w, st) for w, st, _ in res])
            w, _, body = winners[0]
            for _, _, lost in losers:
                assert lost["modify_index"] == body["index"], \
                    "round %d: a 409 names modify_index %s, the winner " \
                    "wrote at %d" % (r, lost["modify_index"], body["index"])
            for i in c.ids():
                st, data = Client(c[i]).request("GET", "/v1/kv/cas/key")
                got = json.loads(data)
                assert st == 200 and got["value"] == \
                    "round %d writer %d" % (r, w) and \
                    got["modify_index"] == body["index"], \
                    "round %d: node %d reads %d %s, winner %d wrote at %d" \
                    % (r, i, st, got, w, body["index"])
            wins.append(w)
            index = body["index"]
        note("%d rounds of %d writers: winners %s" % (rounds, writers, wins))
    assert_no_process_left(pids)


def bulk_write(c, writes, writers=16, keys=2000):
    """WRITES writes over KEYS keys ("bulk/N"), all of which must be
    acknowledged (a stable cluster). Returns the WriteLoad."""
    per = writes // writers
    load = WriteLoad(c, writers=writers, keys=keys // writers,
                     prefix="bulk", max_writes=per, value_size=32)
    load.start()
    for t in load.threads:
        t.join(LOAD_LIMIT + CLIENT_TIMEOUT)
    load.stop()
    assert load.acked() == per * writers, \
        "%d of %d writes acknowledged: %s" % (load.acked(), per * writers,
                                              load.outcomes())
    return load


@cluster.timeout(150)
def test_node_restarted_with_a_long_log_comes_back_with_its_data():
    pids = set()
    with Cluster(3, extra_args=["--snapshot-entries", "1000000000"]) as c:
        lead, _ = c.wait_leader(5.0)
        pids.update(pids_of(c))
        t0 = time.monotonic()
        load = bulk_write(c, 20000)
        wrote = time.monotonic() - t0
        top = load.max_index()
        wait_applied(c, top, 10.0, c.ids())
        before = {i: st["applied_index"] for i, st in c.statuses().items()}
        assert len(set(before.values())) == 1, before
        applied = before[lead]
        st = c[lead].status()
        assert st["snapshot_index"] == 0 and st["last_log_index"] >= 20000, \
            "expected a log of 20000 entries and no snapshot: %s" % st

        # A follower: no election follows, so it must come back to exactly
        # the index it had.
        f = [i for i in c.ids() if i != lead][0]
        c[f].kill()
        t1 = time.monotonic()
        c[f].start()
        pids.update(pids_of(c))
        c.wait_until(lambda: (c[f].status() or {}).get("applied_index") ==
                     applied, 20.0, "node %d back at applied index %d"
                     % (f, applied))
        follower_back = time.monotonic() - t1
        assert c.leader() == lead, "the follower's restart moved leadership"
        expected = load.expected()
        wrong = read_all(c, f, expected, "?stale")
        assert not wrong, "restarted node %d: %s" % (f, wrong[:5])

        # The leader too: a new term appends its no-op, nothing else.
        c[lead].kill()
        t2 = time.monotonic()
        c[lead].start()
        pids.update(pids_of(c))
        c.wait_until(lambda: (c[lead].status() or {}).get("applied_index",
                                                          0) >= applied,
                     20.0, "node %d back at applied index %d"
                     % (lead, applied))
        leader_back = time.monotonic() - t2
        new, _ = c.wait_leader(5.0)
        keys = check_no_write_lost(c, load)
        after = {i: st["applied_index"] for i, st in c.statuses().items()}
        assert all(applied <= a <= applied + 2 for a in after.values()), \
            "applied indexes after restarts: %s (was %d)" % (after, applied)
        note("20000 writes in %.1fs to a %d-entry log; follower %d back "
             "at index %d in %.2fs, old leader %d in %.2fs; leader now %d; "
             "%d keys checked" % (wrote, st["last_log_index"], f, applied,
                                  follower_back, lead, leader_back, new,
                                  keys))
    assert_no_process_left(pids)


if __name__ == "__main__":
    names = sys.argv[1:] or sorted(n for n in dir() if n.startswith("test_"))
    for name in names:
        globals()[name]()
        print("PASS " + name)
