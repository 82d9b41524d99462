"""test_fleet.py - jobs, sites and tasks on the raft nodes, with real raft
processes and scripted controllers (plain HTTP from this test, so that each
heartbeat and report is under the test's control): a job spreads over the
sites; bad job files change nothing; jobs submitted while the leader is
killed are all there and no task is placed twice; a site that stops
heartbeating goes silent after the TTL, a job that asks moves away, and
when the site comes back nothing is duplicated; an election never declares
a site silent; the fleet survives a restart of every node through
snapshots; a report batch sent twice is applied once.

The controller daemon itself is tested in test_controller.py.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_fleet.py [NAME...]
"""

import json
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note  # noqa: E402

TTL_MS = 1500


def call(node, method, path, body=None):
    """One request on a fresh connection: (status, JSON or raw bytes)."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    st, _, data = node.request(method, path, body, timeout=15.0)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, data


def expect(got, status, what):
    st, body = got
    assert st == status, "%s: expected %d, got %d %r" % (what, status, st,
                                                         body)
    return body


def start(n=3, extra=()):
    c = Cluster(n, extra_args=("--site-ttl", str(TTL_MS)) + tuple(extra))
    try:
        lead, _ = c.wait_leader(5.0)
    except BaseException:
        c.teardown(failed=True)
        raise
    return c, lead


def leader_node(c, timeout=5.0):
    lead, _ = c.wait_leader(timeout)
    return c[lead]


def register(c, site, cpu=4, memory_mb=8192, labels=None):
    def done():
        try:
            st, body = call(leader_node(c), "POST",
                            "/v1/sites/%s/register" % site,
                            {"cpu": cpu, "memory_mb": memory_mb,
                             "labels": labels or {}})
        except OSError:
            return None
        return body if st == 200 else None

    return c.wait_until(done, 10.0, "site %s registered" % site)


class Heartbeats:
    """Heartbeats for the given sites every 300 ms to whoever leads, until
    stopped (per site: pause(site), resume(site))."""

    def __init__(self, c, sites):
        self.c, self.sites = c, set(sites)
        self.paused = set()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopping.wait(0.3):
            lead = self.c.leader()
            if lead is None:
                continue
            for site in sorted(self.sites - self.paused):
                try:
                    call(self.c[lead], "POST",
                         "/v1/sites/%s/heartbeat" % site, {})
                except OSError:
                    pass

    def pause(self, site):
        self.paused.add(site)

    def resume(self, site):
        self.paused.discard(site)

    def stop(self):
        self.stopping.set()
        self.thread.join(5.0)


def tasks(node, job=None, stale=False):
    q = []
    if job:
        q.append("job=" + job)
    if stale:
        q.append("stale")
    body = expect(call(node, "GET", "/v1/tasks" + ("?" + "&".join(q)
                                                   if q else "")),
                  200, "GET /v1/tasks")
    return body["tasks"]


def live(ts):
    return [t for t in ts if not t["stop"]]


def by_site(ts):
    out = {}
    for t in ts:
        out.setdefault(t["site"], []).append(t["id"])
    return out


def job(jid, count, **extra):
    j = {"id": jid, "command": ["/bin/sleep", "1000"], "count": count,
         "resources": {"cpu": 0.1, "memory_mb": 32}}
    j.update(extra)
    return j


def sites_of(node):
    body = expect(call(node, "GET", "/v1/sites"), 200, "GET /v1/sites")
    return {s["name"]: s for s in body["sites"]}


def test_job_spreads_over_sites_and_any_node_serves_it():
    c, lead = start()
    with c:
        register(c, "oslo-1")
        register(c, "bergen-2")
        hb = Heartbeats(c, ["oslo-1", "bergen-2"])
        try:
            f = [i for i in c.ids() if i != lead][0]
            got = expect(call(c[f], "POST", "/v1/jobs", job("web", 4)), 200,
                         "submit through a follower")
            assert got["version"] == 1 and got["changed"], got
            c.wait_until(lambda: all(t["state"] == "placed"
                                     for t in tasks(c[f], "web"))
                         and len(tasks(c[f], "web")) == 4, 5.0,
                         "4 tasks placed")
            spread = by_site(tasks(c[f], "web"))
            assert sorted(len(v) for v in spread.values()) == [2, 2], spread
            again = expect(call(c[lead], "POST", "/v1/jobs", job("web", 4)),
                           200, "same job again")
            assert again["version"] == 1 and not again["changed"], again
            more = expect(call(c[lead], "POST", "/v1/jobs", job("web", 6)),
                          200, "count raised")
            assert more["version"] == 2 and more["changed"], more
            c.wait_until(lambda: len(live(tasks(c[lead], "web"))) == 6, 5.0,
                         "6 tasks")
            one = expect(call(c[f], "GET", "/v1/jobs/web"), 200, "job")
            assert one["job"]["version"] == 2 and len(one["tasks"]) == 6, one
            listed = expect(call(c[f], "GET", "/v1/jobs"), 200, "jobs")
            assert listed["jobs"][0]["tasks"]["placed"] == 6, listed
            sites = sites_of(c[f])
            assert sites["oslo-1"]["tasks"] == 3, sites
            assert abs(sites["oslo-1"]["cpu_used"] - 0.3) < 1e-9, sites
            # Every node's own state agrees with the leader's.
            c.wait_until(lambda: all(len(live(tasks(c[i], "web", True))) == 6
                                     for i in c.ids()), 5.0,
                         "every node applied the placements")
            expect(call(c[f], "DELETE", "/v1/jobs/web"), 200, "stop")
            expect(call(c[f], "DELETE", "/v1/jobs/web"), 404, "stop again")
            left = tasks(c[lead], "web")
            assert left and all(t["stop"] for t in left), left
            note("job of 4 spread 2+2, grew to 6 (3+3), stopped")
        finally:
            hb.stop()


def test_bad_job_files_get_a_400_and_change_nothing():
    c, lead = start()
    with c:
        register(c, "oslo-1")
        expect(call(c[lead], "POST", "/v1/jobs", job("keep", 1)), 200, "ok")
        c.wait_until(lambda: [t["state"] for t in tasks(c[lead])] ==
                     ["placed"], 5.0, "keep placed")
        before = expect(call(c[lead], "GET", "/v1/jobs"), 200, "jobs")
        bad = [
            ("wrong type", {"id": "x", "command": ["/bin/true"],
                            "count": "3"}),
            ("unknown field", {"id": "x", "command": ["/bin/true"],
                               "colour": "red"}),
            ("negative count", {"id": "x", "command": ["/bin/true"],
                                "count": -1}),
            ("huge count", {"id": "x", "command": ["/bin/true"],
                            "count": 10 ** 9}),
            ("empty command", {"id": "x", "command": []}),
            ("empty program", {"id": "x", "command": [""]}),
            ("unknown site", {"id": "x", "command": ["/bin/true"],
                              "sites": ["nowhere-9"]}),
            ("not json", "{\"id\": "),
            ("not an object", [1, 2]),
        ]
        for what, body in bad:
            for node in (c[lead], c[[i for i in c.ids() if i != lead][0]]):
                st, got = call(node, "POST", "/v1/jobs", body)
                assert st == 400, "%s: %d %r" % (what, st, got)
                assert isinstance(got, dict) and got.get("error"), got
        st, got = call(c[lead], "POST", "/v1/jobs", "x" * (600 * 1024))
        assert st == 413, (st, got)
        for path, body in [("/v1/sites/Bad_Name/register", {}),
                           ("/v1/sites/oslo-1/register", {"cpu": "four"}),
                           ("/v1/sites/oslo-1/register", {"x": 1}),
                           ("/v1/sites/oslo-1/reports", {"seq": 0,
                                                         "tasks": []}),
                           ("/v1/sites/oslo-1/reports",
                            {"seq": 1, "tasks": [{"id": "keep",
                                                  "state": "running"}]}),
                           ("/v1/sites/oslo-1/nothing", {})]:
            st, got = call(c[lead], "POST", path, body)
            assert 400 <= st < 500, "%s: %d %r" % (path, st, got)
        st, _ = call(c[lead], "GET", "/v1/sites/oslo-1/assignments?wait=x")
        assert st == 400, st
        st, _ = call(c[lead], "GET", "/v1/tasks?colour=red")
        assert st == 400, st
        after = expect(call(c[lead], "GET", "/v1/jobs"), 200, "jobs")
        assert [j["id"] for j in after["jobs"]] == ["keep"], after
        assert after["jobs"] == before["jobs"], (before, after)
        assert all(n.alive() for n in c.nodes.values())
        note("%d bad job files and 7 bad controller calls refused, state "
             "unchanged" % len(bad))


class Submitter:
    """Submits jobs sub-0, sub-1, ... (count 2) to any live node until
    stopped, retrying each until it is acknowledged or refused."""

    def __init__(self, c):
        self.c = c
        self.acked = []
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        n = 0
        while not self.stopping.is_set() and n < 400:
            jid = "sub-%d" % n
            for _ in range(200):
                ids = self.c.live_ids()
                if not ids:
                    time.sleep(0.05)
                    continue
                node = self.c[ids[n % len(ids)]]
                try:
                    st, body = call(node, "POST", "/v1/jobs", job(jid, 2))
                except OSError:
                    st = None
                if st == 200:
                    self.acked.append(jid)
                    break
                time.sleep(0.02)
            n += 1

    def stop(self):
        self.stopping.set()
        self.thread.join(30.0)


@cluster.timeout(90)
def test_jobs_submitted_across_a_leader_kill_are_all_there_once():
    c, lead = start()
    with c:
        register(c, "oslo-1", cpu=64, memory_mb=65536)
        register(c, "bergen-2", cpu=64, memory_mb=65536)
        hb = Heartbeats(c, ["oslo-1", "bergen-2"])
        sub = Submitter(c)
        try:
            c.wait_until(lambda: len(sub.acked) >= 20, 20.0, "20 jobs acked")
            c[lead].kill()
            new, _ = c.wait_leader(5.0, exclude=(lead,))
            c.wait_until(lambda: len(sub.acked) >= 60, 30.0, "60 jobs acked")
            sub.stop()
            c[lead].start()
            acked = set(sub.acked)

            def converged():
                ts = tasks(leader_node(c))
                jobs = {}
                for t in ts:
                    if not t["stop"]:
                        jobs.setdefault(t["job"], []).append(t)
                placed = all(len(v) == 2 and
                             all(t["state"] == "placed" for t in v)
                             for v in jobs.values())
                return placed and acked <= set(jobs) and (ts, jobs)

            ts, jobs = c.wait_until(converged, 20.0,
                                    "every acked job placed with 2 tasks")
            ids = [t["id"] for t in ts]
            assert len(ids) == len(set(ids)), "a task id twice"
            listed = expect(call(leader_node(c), "GET", "/v1/jobs"), 200,
                            "jobs")
            names = {j["id"] for j in listed["jobs"]}
            assert acked <= names, acked - names
            note("%d jobs acked across the kill of leader %d (new leader "
                 "%d), each with exactly 2 placed tasks" % (len(acked),
                                                            lead, new))
        finally:
            sub.stop()
            hb.stop()


def report(c, site, seq, items):
    return call(leader_node(c), "POST", "/v1/sites/%s/reports" % site,
                {"seq": seq, "tasks": items})


@cluster.timeout(60)
def test_silent_site_moves_a_job_that_asks_and_comes_back_without_dupes():
    c, lead = start()
    with c:
        register(c, "oslo-1")
        register(c, "bergen-2")
        hb = Heartbeats(c, ["oslo-1", "bergen-2"])
        try:
            expect(call(c[lead], "POST", "/v1/jobs",
                        job("mover", 2, reschedule_after="1s")), 200, "mover")
            expect(call(c[lead], "POST", "/v1/jobs", job("stayer", 2)), 200,
                   "stayer")
            c.wait_until(lambda: len(tasks(c[lead])) == 4, 5.0, "4 tasks")
            on_bergen = [t["id"] for t in tasks(c[lead])
                         if t["site"] == "bergen-2"]
            assert len(on_bergen) == 2, tasks(c[lead])
            hb.pause("bergen-2")
            c.wait_until(lambda: sites_of(c[lead])["bergen-2"]["status"] ==
                         "silent", TTL_MS / 1000 + 3, "bergen-2 silent")
            c.wait_until(lambda: all(t["state"] == "unknown"
                                     for t in tasks(c[lead])
                                     if t["site"] == "bergen-2"), 3.0,
                         "bergen-2's tasks unknown")
            # The mover's task is replaced on oslo-1; the stayer's is not.
            c.wait_until(lambda: len(live(tasks(c[lead], "mover"))) == 3,
                         5.0, "a replacement for mover")
            moved = [t for t in tasks(c[lead], "mover")
                     if t["replaces"] is not None]
            assert len(moved) == 1 and moved[0]["site"] == "oslo-1", moved
            assert len(tasks(c[lead], "stayer")) == 2
            hb.resume("bergen-2")
            c.wait_until(lambda: sites_of(c[lead])["bergen-2"]["status"] ==
                         "connected", 5.0, "bergen-2 connected")

            def settled():
                ts = live(tasks(c[lead]))
                return (len(ts) == 4 and
                        all(t["state"] in ("placed", "running") for t in ts)
                        and ts)

            ts = c.wait_until(settled, 5.0, "4 live tasks again")
            back = [t for t in ts if t["site"] == "bergen-2"]
            assert len(back) == 2 and all(t["state"] == "running"
                                          for t in back), ts
            stopped = [t for t in tasks(c[lead], "mover") if t["stop"]]
            assert [t["id"] for t in stopped] == [moved[0]["id"]], stopped
            # The site reports the surplus stopped: its record goes.
            got = expect(report(c, "oslo-1", 1, [
                {"id": moved[0]["id"], "state": "stopped"}]), 200, "report")
            assert got["applied"] and got["report_seq"] == 1, got
            c.wait_until(lambda: len(tasks(c[lead], "mover")) == 2, 3.0,
                         "the surplus record removed")
            note("bergen-2 silent after the TTL, mover moved, stayer kept; "
                 "back: the kept tasks run on, the replacement stopped")
        finally:
            hb.stop()


@cluster.timeout(60)
def test_an_election_never_declares_a_site_silent():
    c, lead = start()
    with c:
        register(c, "oslo-1")
        hb = Heartbeats(c, ["oslo-1"])
        try:
            for _ in range(2):
                old = leader_node(c)
                old.kill()
                c.wait_leader(5.0, exclude=(old.id,))
                time.sleep(TTL_MS / 1000 + 0.5)  # a whole TTL under the new
                old.start()
                s = sites_of(leader_node(c))["oslo-1"]
                assert s["status"] == "connected", s
            logs = "\n".join("\n".join(c[i].log_tail(400)) for i in c.ids())
            assert "mark it silent" not in logs, "a site was declared silent"
            note("two leader kills, oslo-1 stayed connected")
        finally:
            hb.stop()


@cluster.timeout(60)
def test_fleet_survives_a_restart_of_every_node_through_snapshots():
    c, lead = start(extra=("--snapshot-entries", "20", "--snapshot-keep",
                           "5"))
    with c:
        register(c, "oslo-1", labels={"region": "north"})
        register(c, "bergen-2")
        for i in range(15):
            expect(call(leader_node(c), "POST", "/v1/jobs",
                        job("j%d" % i, 2)), 200, "job %d" % i)
        c.wait_until(lambda: len(tasks(leader_node(c))) == 30, 10.0,
                     "30 tasks")
        expect(report(c, "oslo-1", 5, []), 200, "report seq 5")
        before_tasks = tasks(leader_node(c))
        before_sites = sites_of(leader_node(c))
        assert leader_node(c).status()["snapshot_index"] > 0
        for i in c.ids():
            c[i].kill()
        c.start()
        after_tasks = c.wait_until(lambda: c.leader() and
                                   tasks(leader_node(c)), 10.0, "tasks back")
        assert after_tasks == before_tasks
        after_sites = sites_of(leader_node(c))
        for name, s in before_sites.items():
            for k in ("labels", "cpu", "memory_mb", "registered_index"):
                assert after_sites[name][k] == s[k], (name, k)
        got = expect(report(c, "oslo-1", 5, []), 200, "seq 5 again")
        assert not got["applied"] and got["report_seq"] == 5, got
        note("15 jobs, 30 tasks, 2 sites and a report seq restored from "
             "snapshot %d" % leader_node(c).status()["snapshot_index"])


def test_report_batches_apply_once_and_watches_wake():
    c, lead = start()
    with c:
        register(c, "oslo-1")
        first = expect(call(c[lead], "GET",
                            "/v1/sites/oslo-1/assignments"), 200, "assign")
        woke = {}

        def watch():
            woke["got"] = call(c[lead], "GET",
                               "/v1/sites/oslo-1/assignments?index=%d&wait=10s"
                               % max(first["index"], 1))
            woke["at"] = time.monotonic()

        t = threading.Thread(target=watch, daemon=True)
        t.start()
        time.sleep(0.3)
        assert "got" not in woke, "the watch returned before any change"
        t0 = time.monotonic()
        expect(call(c[lead], "POST", "/v1/jobs", job("w", 1)), 200, "job")
        t.join(5.0)
        st, body = woke["got"]
        assert st == 200 and len(body["tasks"]) == 1, body
        assert body["jobs"]["w"]["version"] == 1, body
        assert woke["at"] - t0 < 2.0, "the watch woke late"
        tid = body["tasks"][0]["id"]
        r1 = expect(report(c, "oslo-1", 1, [{"id": tid, "state": "running",
                                             "pid": 42}]), 200, "report 1")
        assert r1["applied"], r1
        r1b = expect(report(c, "oslo-1", 1, [{"id": tid, "state": "failed"}]),
                     200, "report 1 again")
        assert not r1b["applied"] and r1b["report_seq"] == 1, r1b
        (t1,) = tasks(c[lead], "w")
        assert t1["state"] == "running" and t1["pid"] == 42, t1
        f = [i for i in c.ids() if i != lead][0]
        st, body = call(c[f], "POST", "/v1/sites/oslo-1/heartbeat", {})
        assert st == 503 and body["leader"] == c[lead].addr, (st, body)
        agent = {"name": "oslo-1-a", "status": "up", "cpu": 4.0}
        expect(call(c[lead], "POST", "/v1/sites/oslo-1/heartbeat",
                    {"agents": [agent]}), 200, "heartbeat with agents")
        got = expect(call(c[f], "GET", "/v1/agents"), 200, "agents")
        assert got["agents"] == [dict(agent, site="oslo-1")], got
        for bad in ({"agents": 3}, {"agents": [1]}, {"x": 1}, [1]):
            st, _ = call(c[lead], "POST", "/v1/sites/oslo-1/heartbeat", bad)
            assert st == 400, (bad, st)
        note("watch woke in %.0f ms; a repeated batch was not applied"
             % ((woke["at"] - t0) * 1000))


class FakeController:
    """A controller's logs endpoint: /v1/tasks/ID/logs answers the task's
    name as its output; with ?follow, three chunks."""

    def __init__(self):
        import http.server

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                parts = self.path.split("?")[0].split("/")
                if len(parts) != 5 or parts[4] != "logs":
                    self.send_error(404)
                    return
                text = ("output of %s\n" % parts[3]).encode()
                if "follow" not in self.path:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                    self.send_header("X-Varde-Log-Start", "0")
                    self.send_header("Content-Length", str(len(text)))
                    self.end_headers()
                    self.wfile.write(text)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for i in range(3):
                    chunk = b"line %d\n" % i
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.flush()
                    time.sleep(0.05)
                self.wfile.write(b"0\r\n\r\n")

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.addr = "127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_task_logs_are_relayed_to_the_sites_controller():
    c, lead = start()
    fake = FakeController()
    with c:
        try:
            st, body = call(leader_node(c), "POST",
                            "/v1/sites/oslo-1/register",
                            {"cpu": 4, "memory_mb": 4096,
                             "controller": fake.addr})
            assert st == 200, (st, body)
            expect(call(c[lead], "POST", "/v1/jobs", job("logger", 1)), 200,
                   "job")
            c.wait_until(lambda: len(tasks(c[lead], "logger", True)) == 1 and
                         all(len(tasks(c[i], "logger", True)) == 1
                             and tasks(c[i], "logger", True)[0]["site"]
                             for i in c.ids()), 5.0, "placed everywhere")
            f = [i for i in c.ids() if i != lead][0]
            st, hdrs, data = c[f].request("GET", "/v1/tasks/logger.0/logs")
            assert st == 200 and data == b"output of logger.0\n", (st, data)
            assert hdrs.get("X-Varde-Log-Start") == "0", hdrs
            st, _, data = c[f].request("GET",
                                       "/v1/tasks/logger.0/logs?follow=1")
            assert st == 200 and data == b"line 0\nline 1\nline 2\n", data
            for path, want in [("/v1/tasks/nothing.0/logs", 404),
                               ("/v1/tasks/logger.0/other", 404),
                               ("/v1/tasks/logger.0", 404)]:
                st, _, _ = c[f].request("GET", path)
                assert st == want, (path, st)
            fake.close()
            st, _, data = c[f].request("GET", "/v1/tasks/logger.0/logs")
            assert st == 502, (st, data)
            note("logs relayed through a follower, plain and followed; 502 "
                 "once the controller is gone")
        finally:
            fake.close()


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("PASS", name)
