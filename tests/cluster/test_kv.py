"""test_kv.py - the replicated key-value store through its HTTP API, with
real processes: every node answers, followers forward, ?stale reads stay
local, bad input gets a 4xx, compare-and-set conflicts get a 409, and no
acknowledged write is lost when the leader, or every node at once, is
killed in the middle of a write load. A follower that was away while the
log was compacted catches up through a snapshot.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_kv.py [NAME...]
"""

import http.client
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note  # noqa: E402

MAX_VALUE = 64 * 1024


class Client:
    """Requests to one node over a kept-alive connection (reopened after an
    error). request() returns (status, headers, body bytes) or raises
    OSError / http.client.HTTPException when the node does not answer."""

    def __init__(self, node, timeout=15.0):
        self.host, self.port, self.timeout = node.host, node.port, timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(self.host, self.port,
                                                   timeout=self.timeout)
        try:
            self.conn.request(method, path, body=body, headers=headers or {})
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if resp.getheader("Connection", "").lower() == "close":
            self.close()
        return resp.status, dict(resp.getheaders()), data

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def call(node, method, path, body=None, headers=None):
    """One request on a fresh connection: (status, headers, JSON or raw)."""
    st, hdrs, data = node.request(method, path, body, headers, timeout=15.0)
    try:
        return st, hdrs, json.loads(data)
    except ValueError:
        return st, hdrs, data


def put(node, key, value, query=""):
    return call(node, "PUT", "/v1/kv/" + key + query, value)


def get(node, key, query=""):
    return call(node, "GET", "/v1/kv/" + key + query)


def expect(got, status, what):
    st, _, body = got
    assert st == status, "%s: expected %d, got %d %r" % (what, status, st,
                                                         body)
    return body


def metric(node, name):
    """The value of an unlabelled metric in GET /metrics."""
    st, _, data = node.request("GET", "/metrics")
    assert st == 200, "GET /metrics: %d" % st
    for line in data.decode().splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError("no metric %s" % name)


def start(n=3, extra_args=()):
    """A cluster with a leader. Returns (cluster, leader id)."""
    c = Cluster(n, extra_args=extra_args)
    try:
        lead, _ = c.wait_leader(5.0)
    except BaseException:
        c.teardown(failed=True)
        raise
    return c, lead


def followers(c, lead):
    return [c[i] for i in c.ids() if i != lead]


def wait_applied(c, index, timeout, ids=None):
    """Wait until every node in IDS (default: live) has applied INDEX."""
    def caught_up():
        sts = c.statuses(ids)
        return all(st and st["applied_index"] >= index for st in sts.values())

    c.wait_until(caught_up, timeout, "every node to apply index %d" % index)


# ---------------------------------------------------------------------------
# a write load that records what was acknowledged


class Load:
    """THREADS clients writing unique keys, each spreading its writes over
    the nodes in NODES (ids; a node that fails is skipped for the next
    write). Only a 200 counts as acknowledged; a 503, a 504, a reset
    connection or a timeout leaves the write out (it may or may not have
    committed, which the checks allow)."""

    def __init__(self, c, nodes, threads=8, prefix="load"):
        self.c, self.nodes, self.prefix = c, list(nodes), prefix
        self.acked = {}  # key -> (value, index)
        self.other = {}  # status or exception name -> count
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._run, args=(t,))
                        for t in range(threads)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def finish(self, timeout=30.0):
        self.stop.set()
        for t in self.threads:
            t.join(timeout)
            assert not t.is_alive(), "a load thread did not stop"

    def count(self):
        with self.lock:
            return len(self.acked)

    def max_index(self):
        with self.lock:
            return max((i for _, i in self.acked.values()), default=0)

    def _note(self, what):
        with self.lock:
            self.other[what] = self.other.get(what, 0) + 1

    def _run(self, t):
        clients = {i: Client(self.c[i], timeout=12.0) for i in self.nodes}
        k, turn = 0, t
        deadline = time.monotonic() + 60  # bounded even if never stopped
        while not self.stop.is_set() and time.monotonic() < deadline:
            node = self.nodes[turn % len(self.nodes)]
            key = "%s/%d/%d" % (self.prefix, t, k)
            value = "v%d-%d" % (t, k)
            k += 1
            try:
                st, _, data = clients[node].request("PUT", "/v1/kv/" + key,
                                                    value)
            except (OSError, http.client.HTTPException) as e:
                self._note(type(e).__name__)
                turn += 1
                time.sleep(0.01)
                continue
            if st == 200:
                with self.lock:
                    self.acked[key] = (value, json.loads(data)["index"])
            else:
                self._note(st)
                turn += 1
                time.sleep(0.01)
        for cl in clients.values():
            cl.close()


def check_acked(c, acked, ids=None, timeout=20.0):
    """Every acknowledged write of ACKED is on every node in IDS (default:
    live), read locally once each has applied the highest acked index."""
    top = max((i for _, i in acked.values()), default=0)
    wait_applied(c, top, timeout, ids)
    for i in (ids or c.live_ids()):
        cl = Client(c[i])
        missing = []
        for key, (value, index) in sorted(acked.items()):
            st, _, data = cl.request("GET", "/v1/kv/" + key + "?stale")
            if st != 200 or json.loads(data)["value"] != value:
                missing.append((key, index, st))
        cl.close()
        assert not missing, "node %d lost %d of %d acknowledged writes, " \
            "e.g. %s" % (i, len(missing), len(acked), missing[:5])


# ---------------------------------------------------------------------------
# the API


def test_put_on_any_node_reads_back_on_every_node():
    c, lead = start()
    with c:
        for i in c.ids():
            body = expect(put(c[i], "via/%d" % i, "from %d" % i), 200,
                          "PUT via node %d" % i)
            assert body["key"] == "via/%d" % i and body["index"] > 0, body
        for i in c.ids():
            for j in c.ids():
                got = expect(get(c[j], "via/%d" % i), 200,
                             "GET via/%d from node %d" % (i, j))
                assert got["value"] == "from %d" % i, got
                assert got["create_index"] == got["modify_index"] > 0, got


def test_follower_forwards_writes_and_reads_to_the_leader():
    c, lead = start()
    with c:
        f = followers(c, lead)[0]
        before = metric(c[lead], "varde_raft_proposals_total")
        body = expect(put(f, "fwd/key", "42"), 200, "PUT via a follower")
        assert body == {"key": "fwd/key", "index": body["index"]}, body
        got = expect(get(f, "fwd/key"), 200, "GET via a follower")
        assert got["value"] == "42" and got["modify_index"] == body["index"]
        assert metric(c[lead], "varde_raft_proposals_total") == before + 1
        assert metric(f, "varde_raft_proposals_total") == 0
        assert metric(f, "varde_kv_forwarded_total") == 2
        # A request that was already forwarded twice is not sent on again.
        st, hdrs, err = call(f, "GET", "/v1/kv/fwd/key",
                             headers={"X-Varde-Forwarded": "2"})
        assert st == 503 and hdrs.get("Retry-After") == "1", (st, err)
        assert "forwarded 2 times" in err["error"], err


def test_stale_read_is_served_without_a_leader():
    c, lead = start()
    with c:
        expect(put(c[lead], "stale/key", "kept"), 200, "PUT")
        wait_applied(c, metric(c[lead], "varde_raft_applied_index"), 5.0)
        lone = followers(c, lead)[0]
        for i in c.ids():
            if i != lone.id:
                c[i].kill()
        c.wait_until(lambda: (lone.status() or {}).get("leader") == 0, 3.0,
                     "node %d to lose its leader" % lone.id)
        st, hdrs, body = get(lone, "stale/key")
        assert st == 503 and hdrs.get("Retry-After") == "1", (st, body)
        assert body == {"error": "no leader"}, body
        st, hdrs, body = put(lone, "stale/other", "x")
        assert st == 503 and hdrs.get("Retry-After") == "1", (st, body)
        got = expect(get(lone, "stale/key", "?stale"), 200, "stale GET")
        assert got["value"] == "kept", got


def test_missing_key_is_404_everywhere():
    c, lead = start()
    with c:
        for i in c.ids():
            for q in ("", "?stale"):
                body = expect(get(c[i], "no/such/key", q), 404,
                              "GET a missing key%s from node %d" % (q, i))
                assert body == {"error": "no such key"}, body


def test_bad_input_gets_a_4xx_and_nothing_breaks():
    c, lead = start()
    with c:
        f = followers(c, lead)[0]
        for node in (c[lead], f):
            for path, status, says in [
                    ("/v1/kv/", 400, "missing key"),
                    ("/v1/kv/a%20b", 400, "space"),
                    ("/v1/kv/a%zz", 400, "percent-encoding"),
                    ("/v1/kv/" + "k" * 513, 400, "over the limit of 512"),
                    ("/v1/kv/a?cas=x", 400, "expected an index"),
                    ("/v1/kv/a?cas=1&cas=2", 400, "repeated"),
                    ("/v1/kv/a?stale", 400, "unknown query parameter")]:
                body = expect(call(node, "PUT", path, "v"), status,
                              "PUT %s on node %d" % (path[:40], node.id))
                assert says in body["error"], (path[:40], body)
            body = expect(put(node, "big", b"x" * (MAX_VALUE + 1)), 413,
                          "PUT over the value bound")
            assert "error" in body, body
            expect(put(node, "big", b"x" * MAX_VALUE), 200,
                   "PUT of exactly the bound")
            st, hdrs, _ = call(node, "POST", "/v1/kv/a", "v")
            assert st == 405, "POST /v1/kv/a: %d" % st
        for i in c.ids():
            assert c[i].alive(), "node %d died" % i
        got = expect(get(f, "big"), 200, "GET the largest value")
        assert len(got["value"]) == MAX_VALUE


def test_binary_values_come_back_as_base64_or_raw():
    c, lead = start()
    with c:
        raw = bytes([0xff, 0x00, 0x01, 0x80])
        expect(put(c[lead], "bin", raw), 200, "PUT binary")
        got = expect(get(c[lead], "bin"), 200, "GET binary")
        assert got["value_base64"] == "/wABgA==" and "value" not in got, got
        st, hdrs, data = c[lead].request("GET", "/v1/kv/bin?raw")
        assert st == 200 and data == raw, (st, data)
        expect(put(c[lead], "text", "æøå".encode()), 200, "PUT UTF-8")
        assert expect(get(c[lead], "text"), 200, "GET")["value"] == "æøå"


def test_cas_create_only_then_conflicts():
    c, lead = start()
    with c:
        f = followers(c, lead)[0]
        first = expect(put(f, "cas/k", "1", "?cas=0"), 200, "create-only")
        lost = expect(put(c[lead], "cas/k", "2", "?cas=0"), 409,
                      "second create-only")
        assert lost["error"] == "compare-and-set lost", lost
        assert lost["modify_index"] == first["index"], (lost, first)
        second = expect(put(f, "cas/k", "3", "?cas=%d" % first["index"]), 200,
                        "cas at the right index")
        expect(put(f, "cas/k", "4", "?cas=%d" % first["index"]), 409,
               "cas at a stale index")
        expect(call(f, "DELETE", "/v1/kv/cas/k?cas=%d" % first["index"]), 409,
               "delete at a stale index")
        gone = expect(call(f, "DELETE", "/v1/kv/cas/k?cas=%d"
                           % second["index"]), 200, "delete at the index")
        assert gone["deleted"] is True, gone
        again = expect(call(f, "DELETE", "/v1/kv/cas/k"), 200, "delete again")
        assert again["deleted"] is False, again
        expect(get(f, "cas/k"), 404, "GET after delete")
        assert metric(c[lead], "varde_kv_keys") == 0


def test_fresh_leader_serves_reads_at_once():
    """A leader answers a read the moment it says it leads, before its
    first entry has committed: the read waits for it, it does not fail."""
    c, old = start()
    with c:
        expect(put(c[old], "fresh/k", "v"), 200, "PUT")
        wait_applied(c, metric(c[old], "varde_raft_applied_index"), 5.0)
        c[old].kill()

        def says_leader():
            for f in followers(c, old):
                st = f.status()
                if st and st["role"] == "leader":
                    return f
            return None

        new = c.wait_until(says_leader, 5.0, "a node to say it leads",
                           interval=0.001)
        got = expect(get(new, "fresh/k"), 200, "GET on the fresh leader")
        assert got["value"] == "v", got


# ---------------------------------------------------------------------------
# a leader cut off from the others


class Pending(threading.Thread):
    """One request in a thread of its own: result is (status, headers,
    body) or the exception it raised."""

    def __init__(self, node, method, path, body=None):
        super().__init__()
        self.args_ = (node, method, path, body)
        self.result = None

    def run(self):
        node, method, path, body = self.args_
        try:
            self.result = call(node, method, path, body)
        except Exception as e:  # noqa: BLE001 - reported by the test
            self.result = e


def test_cut_off_leader_neither_acks_nor_serves_stale_reads():
    cluster.need_nft()
    c, old = start()
    with c:
        expect(put(c[old], "cut/k", "before"), 200, "PUT before the cut")
        for f in followers(c, old):
            c.cut(old, f.id)
        write = Pending(c[old], "PUT", "/v1/kv/cut/k", "lost")
        write.start()
        new, term = c.wait_leader(5.0, ids=[f.id for f in followers(c, old)],
                                  exclude=(old,))
        expect(put(c[new], "cut/k", "after"), 200, "PUT on the new leader")
        st, _, body = get(c[old], "cut/k")
        assert st == 503, "a cut-off leader answered a read: %d %r" % (st,
                                                                       body)
        assert write.is_alive(), "the cut-off leader answered the write: %r" \
            % (write.result,)
        c.heal()
        write.join(15.0)
        assert not write.is_alive(), "the write was never answered"
        st, hdrs, body = write.result
        assert st == 503 and "not committed" in body["error"], (st, body)
        assert hdrs.get("Retry-After") == "1", hdrs
        for i in c.ids():
            c.wait_until(lambda: get(c[i], "cut/k", "?stale")[2].get(
                "value") == "after", 5.0, "node %d to hold the new value" % i)


# ---------------------------------------------------------------------------
# faults under a write load


@cluster.timeout(90)
def test_killed_leader_loses_no_acknowledged_write():
    c, lead = start()
    with c:
        load = Load(c, c.ids()).start()
        c.wait_until(lambda: load.count() >= 300, 15.0, "300 acked writes")
        before = load.count()
        t0 = time.monotonic()
        c[lead].kill()
        new, term = c.wait_leader(5.0, exclude=(lead,))
        failover = time.monotonic() - t0
        c.wait_until(lambda: load.count() >= before + 300, 15.0,
                     "300 more acked writes under leader %d" % new)
        c[lead].start()
        time.sleep(0.3)
        load.finish()
        note("%d writes acked, leader %d killed after %d, node %d led in "
             "%.0f ms; not acked: %s" % (load.count(), lead, before, new,
                                         failover * 1000, load.other))
        check_acked(c, load.acked)


@cluster.timeout(120)
def test_all_nodes_killed_at_once_lose_no_acknowledged_write():
    c, lead = start(extra_args=["--snapshot-entries", "500",
                                "--snapshot-keep", "100"])
    with c:
        load = Load(c, c.ids()).start()
        c.wait_until(lambda: load.count() >= 1200, 20.0, "1200 acked writes")
        for i in c.ids():
            c[i].kill()
        load.finish()
        acked = dict(load.acked)
        t0 = time.monotonic()
        c.start()
        c.wait_leader(5.0)
        note("%d writes acked before all 3 nodes were killed; leader again "
             "%.0f ms after the restart; not acked: %s"
             % (len(acked), (time.monotonic() - t0) * 1000, load.other))
        # A write through the new leader commits everything before it.
        expect(put(c[c.leader()], "after/restart", "yes"), 200, "PUT")
        check_acked(c, acked)
        for i in c.ids():
            logged = "\n".join(c[i].log_tail(400))
            assert re.search(r"restored snapshot \d+/[1-9]", logged), \
                "node %d did not restore from a snapshot" % i


@cluster.timeout(90)
def test_lagging_follower_catches_up_through_a_snapshot():
    c, lead = start(extra_args=["--snapshot-entries", "200",
                                "--snapshot-keep", "50"])
    with c:
        early = expect(put(c[lead], "early/key", "first"), 200, "PUT early")
        lag = followers(c, lead)[0]
        wait_applied(c, early["index"], 5.0)
        lag.kill()
        live = [i for i in c.ids() if i != lag.id]
        load = Load(c, live, threads=4, prefix="lag").start()
        c.wait_until(lambda: load.count() >= 700, 20.0, "700 acked writes")
        load.finish()
        top = load.max_index()
        st = c[lead].status()
        assert st["snapshot_index"] > early["index"] + 200, st
        lag.start()
        wait_applied(c, top, 10.0, ids=[lag.id])
        logged = "\n".join(lag.log_tail(400))
        assert "installed snapshot" in logged, \
            "node %d caught up without a snapshot" % lag.id
        got = expect(get(lag, "early/key", "?stale"), 200, "early key")
        assert got["value"] == "first", got
        check_acked(c, load.acked)
        note("node %d was away for %d writes, caught up to %d via a "
             "snapshot at %d" % (lag.id, load.count(), top,
                                 lag.status()["snapshot_index"]))


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("PASS", name)
