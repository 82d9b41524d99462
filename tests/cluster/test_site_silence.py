"""test_site_silence.py - a real controller that stops: its site goes
silent after the TTL, its tasks become unknown, a job that asks moves to
the other site and one that does not stays; the controller restarted, the
site is connected again, the copies on it are kept and the replacement is
stopped and reported away, so nothing runs twice.

The controllers here have no agents: their tasks stay placed (agents are
tested in test_site.py).

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_site_silence.py [NAME...]
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note  # noqa: E402
from test_controller import CTL_HOST_BASE, Controller, call  # noqa: E402

TTL_MS = 2000


def tasks(c, jid=None):
    lead, _ = c.wait_leader(5.0)
    node = c[lead]
    st, body = call(node.host, node.port, "GET",
                    "/v1/tasks" + ("?job=" + jid if jid else ""))
    assert st == 200, (st, body)
    return body["tasks"]


def site_status(c, name):
    lead, _ = c.wait_leader(5.0)
    st, body = call(c[lead].host, c[lead].port, "GET", "/v1/sites")
    assert st == 200, (st, body)
    return {s["name"]: s["status"] for s in body["sites"]}.get(name)


def live(ts):
    return [t for t in ts if not t["stop"]]


@cluster.timeout(90)
def test_a_stopped_controller_goes_silent_and_comes_back_without_dupes():
    c = Cluster(3, extra_args=("--site-ttl", str(TTL_MS)))
    ctls = []
    try:
        hosts = [c.net.host(CTL_HOST_BASE + i + 1) for i in range(2)]
        ports = cluster.pick_ports(hosts)
        raft = [c[i].addr for i in c.ids()]
        for i, site in enumerate(("oslo-1", "bergen-2")):
            ctls.append(Controller(c.tmp, i + 1, site, hosts[i], ports[i],
                                   raft))
            ctls[-1].start()
        oslo, bergen = ctls
        c.wait_until(lambda: site_status(c, "oslo-1") == "connected" and
                     site_status(c, "bergen-2") == "connected", 10.0,
                     "both sites connected")
        lead, _ = c.wait_leader(5.0)
        for jid, extra in (("mover", {"reschedule_after": "1s"}),
                           ("stayer", {})):
            body = {"id": jid, "command": ["/bin/sleep", "1000"], "count": 2,
                    "resources": {"cpu": 0.1, "memory_mb": 32}}
            body.update(extra)
            st, got = call(c[lead].host, c[lead].port, "POST", "/v1/jobs",
                           body)
            assert st == 200, (st, got)
        c.wait_until(lambda: sorted(t["site"] for t in tasks(c)) ==
                     ["bergen-2"] * 2 + ["oslo-1"] * 2, 10.0,
                     "one task of each job on each site")
        before = {t["id"]: t["site"] for t in tasks(c)}
        bergen.kill()
        c.wait_until(lambda: site_status(c, "bergen-2") == "silent",
                     TTL_MS / 1000 + 3, "bergen-2 silent")
        c.wait_until(lambda: all(t["state"] == "unknown" for t in tasks(c)
                                 if t["site"] == "bergen-2"), 5.0,
                     "bergen-2's tasks unknown")
        c.wait_until(lambda: len(live(tasks(c, "mover"))) == 3, 5.0,
                     "a replacement for mover's task")
        moved = [t for t in tasks(c, "mover") if t["replaces"] is not None]
        assert len(moved) == 1 and moved[0]["site"] == "oslo-1", moved
        assert len(tasks(c, "stayer")) == 2, tasks(c, "stayer")
        c.wait_until(lambda: moved[0]["id"] in [
            t["id"] for t in (oslo.status() or {}).get("tasks", [])], 5.0,
            "oslo-1's controller holds the replacement")
        bergen.start()
        c.wait_until(lambda: site_status(c, "bergen-2") == "connected",
                     10.0, "bergen-2 connected again")
        # The replacement is stopped; oslo-1 reports it stopped and its
        # record goes: each job has its two first tasks, where they were.
        c.wait_until(lambda: {t["id"]: t["site"] for t in tasks(c)} ==
                     before, 10.0, "the fleet as before the silence")
        for jid in ("mover", "stayer"):
            ts = tasks(c, jid)
            assert len(ts) == 2 and not any(t["stop"] for t in ts), ts
        bst = bergen.status()
        assert sorted(t["id"] for t in bst["tasks"]) == sorted(
            i for i, s in before.items() if s == "bergen-2"), bst
        note("bergen-2 silent after %d ms TTL, mover moved and back, "
             "stayer kept; no task twice" % TTL_MS)
    finally:
        for ctl in ctls:
            if ctl.alive():
                ctl.kill()
        c.teardown()


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("PASS", name)
