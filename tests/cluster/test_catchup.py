"""test_catchup.py - a follower that was away catches up from the leader's
write-ahead log. The raft core frees the body of an entry once it is
applied and every follower that answers holds it; a follower stopped for
fewer writes than a snapshot interval then gets those entries read back
from the leader's WAL, not a snapshot, and ends with every acknowledged
write. A new leader (which freed its bodies as a follower) does the same.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_catchup.py [NAME...]
"""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import note  # noqa: E402
from test_kv import (Load, check_acked, expect, followers, get, put,  # noqa
                     start, wait_applied)

# The core's line when it sends a follower entries whose bodies it freed.
READ_BACK = re.compile(r"raft: term \d+: (\d+) needs entries from (\d+), "
                       r"released from memory up to (\d+) -> the driver "
                       r"reads them back from its log")


def read_backs(node, peer):
    """(first, released) of every read-back line NODE logged for PEER."""
    got = []
    for line in node.log_tail(5000):
        m = READ_BACK.search(line)
        if m and int(m.group(1)) == peer:
            got.append((int(m.group(2)), int(m.group(3))))
    return got


def write_while_away(c, lead, lag, writes):
    """Stop LAG (kill -9), write WRITES keys through the others, and return
    the load (finished) once the leader must have freed their bodies."""
    lag.kill()
    live = [i for i in c.ids() if i != lag.id]
    load = Load(c, live, threads=4, prefix="away").start()
    c.wait_until(lambda: load.count() >= writes, 40.0,
                 "%d acked writes" % writes)
    load.finish()
    # The leader stops holding bodies for a follower silent for an
    # election timeout (300 ms), and frees them at its next call: the
    # next heartbeat at the latest.
    time.sleep(0.5)
    return load


def assert_no_snapshot(c, lag, lead):
    logged = "\n".join(lag.log_tail(2000))
    assert "installed snapshot" not in logged, \
        "node %d caught up through a snapshot" % lag.id
    st = c[lead].status()
    assert st["snapshot_index"] == 0, st


@cluster.timeout(90)
def test_stopped_follower_catches_up_from_the_leaders_wal():
    c, lead = start()
    with c:
        early = expect(put(c[lead], "early/key", "first"), 200, "PUT early")
        lag = followers(c, lead)[0]
        wait_applied(c, early["index"], 5.0)
        held = lag.status()["last_log_index"]
        load = write_while_away(c, lead, lag, 3000)
        top = load.max_index()
        lag.start()
        wait_applied(c, top, 20.0, ids=[lag.id])
        assert_no_snapshot(c, lag, lead)
        backs = read_backs(c[lead], lag.id)
        assert backs, "leader %d logged no read back for node %d" \
            % (lead, lag.id)
        first, released = backs[-1]
        assert first <= held + 1 and released >= top - 10, \
            "read back from %d, released up to %d; away from %d to %d" \
            % (first, released, held, top)
        got = expect(get(lag, "early/key", "?stale"), 200, "early key")
        assert got["value"] == "first", got
        check_acked(c, load.acked)
        note("node %d was away for %d writes; leader %d read entries from "
             "%d on back from its WAL (bodies freed up to %d), no snapshot"
             % (lag.id, load.count(), lead, first, released))


@cluster.timeout(90)
def test_new_leader_catches_a_follower_up_from_its_wal():
    c, lead = start()
    with c:
        lag, heir = followers(c, lead)
        load = write_while_away(c, lead, lag, 1500)
        top = load.max_index()
        wait_applied(c, top, 10.0, ids=[heir.id])
        st, _, body = c[lead].request(
            "POST", "/v1/leader/transfer?to=%d" % heir.id)
        assert st == 200, "transfer to %d: %d %r" % (heir.id, st, body)
        new, _ = c.wait_leader(3.0, ids=[lead, heir.id], exclude=[lead])
        assert new == heir.id, "node %d took over, not %d" % (new, heir.id)
        lag.start()
        wait_applied(c, top, 20.0, ids=[lag.id])
        assert_no_snapshot(c, lag, new)
        assert read_backs(heir, lag.id), \
            "new leader %d logged no read back for node %d" % (new, lag.id)
        check_acked(c, load.acked)
        note("node %d was away for %d writes; new leader %d, which freed "
             "their bodies as a follower, read them back from its WAL"
             % (lag.id, load.count(), new))


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("PASS", name)
