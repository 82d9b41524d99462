"""test_controller.py - `varde controller` processes against real raft
nodes, and against a scripted leader in this test:

- a job of count 4 spreads 2+2 over two sites, each controller's
  GET /v1/status shows its tasks, and a DELETE of the job is reported
  stopped by the controllers, after which the tasks are gone;
- controllers follow a new leader when the old one is killed with -9;
- a controller restarted while every raft node is down comes up with its
  assignments, and reconnects when the cluster is back;
- bad flags, bad requests, a damaged data dir and a data dir in use;
- with a scripted leader: a report batch whose answer is lost is sent
  again with the same seq and contents, a 404 on heartbeat makes the
  controller register again, and a 503 "not the leader" is followed.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_controller.py [NAME...]
"""

import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note, wait_until  # noqa: E402
from daemons import (Group, Proc, call, finish_teardown,  # noqa: E402
                     stop_procs)

# Controllers live at 127.X.Y.(30 + N) in the cluster's /24, scripted
# leaders at 127.X.Y.(50 + N).
CTL_HOST_BASE = 20
FAKE_HOST_BASE = 40


class Controller(Proc):
    """One `varde controller` process for site SITE, its data dir and log
    named ctlN."""

    def __init__(self, tmp, n, site, host, port, raft_addrs, extra=()):
        super().__init__(tmp, "ctl%d" % n, host, port,
                         label="controller " + site)
        self.site = site
        self.raft_addrs = list(raft_addrs)
        self.extra = list(extra)

    def args(self):
        return [cluster.VARDE, "controller", "--site", self.site,
                "--labels", "role=test", "--raft",
                ",".join(self.raft_addrs), "--listen", self.addr,
                "--data-dir", self.data_dir, "--cpu", "4",
                "--memory-mb", "8192"] + self.extra


class Fleet(Group):
    """A raft cluster of N nodes and controllers for SITES, torn down
    together: controllers are killed first, their logs printed when the
    test fails, and one that exited by itself fails the test."""

    def __init__(self, sites, n=3, start_controllers=True, extra=()):
        self.c = Cluster(n)
        self.ctls = []
        try:
            hosts = [self.c.net.host(CTL_HOST_BASE + i + 1)
                     for i in range(len(sites))]
            ports = cluster.pick_ports(hosts)
            raft = [self.c[i].addr for i in self.c.ids()]
            for i, site in enumerate(sites):
                self.ctls.append(Controller(self.c.tmp, i + 1, site,
                                            hosts[i], ports[i], raft, extra))
            if start_controllers:
                for ctl in self.ctls:
                    ctl.start()
        except BaseException:
            self.teardown(failed=True)
            raise

    def leader_node(self, timeout=5.0):
        lead, _ = self.c.wait_leader(timeout)
        return self.c[lead]

    def wait_connected(self, timeout=10.0, leader_addr=None):
        def ok():
            for ctl in self.ctls:
                st = ctl.status()
                if not st or not st["connected"]:
                    return False
                if leader_addr and st["leader"] != leader_addr:
                    return False
            return True

        self.c.wait_until(ok, timeout, "every controller connected%s" % (
            " to " + leader_addr if leader_addr else ""))

    def describe(self):
        lines = []
        for ctl in self.ctls:
            st = ctl.status() if ctl.alive() else None
            lines.append("  controller %s %s %s: %s" % (
                ctl.site, ctl.addr, "running" if ctl.alive() else "stopped",
                json.dumps(st)[:300] if st else "no status"))
        return "\n".join(lines)

    def teardown(self, failed=False):
        finish_teardown(self.c, self.ctls, stop_procs(self.ctls), failed)


def job(jid, count):
    return {"id": jid, "command": ["/bin/sleep", "1000"], "count": count,
            "resources": {"cpu": 0.1, "memory_mb": 32}}


def cluster_tasks(node, jid):
    st, body = call(node.host, node.port, "GET", "/v1/tasks?job=" + jid)
    return body["tasks"] if st == 200 else None


def ctl_task_ids(ctl):
    st = ctl.status()
    return sorted(t["id"] for t in st["tasks"]) if st else None


# ---------------------------------------------------------------------------
# against real raft nodes


def test_a_job_spreads_over_two_sites_and_its_stop_is_reported():
    with Fleet(["oslo-1", "bergen-2"]) as f:
        f.wait_connected()
        lead = f.leader_node()
        st, got = call(lead.host, lead.port, "POST", "/v1/jobs",
                       job("spread", 4))
        assert st == 200, (st, got)

        def spread():
            ids = [ctl_task_ids(ctl) for ctl in f.ctls]
            if any(i is None or len(i) != 2 for i in ids):
                return None
            return ids

        ids = f.c.wait_until(spread, 5.0, "2 tasks on each controller")
        assert sorted(ids[0] + ids[1]) == ["spread.%d" % i
                                           for i in range(4)], ids
        for ctl in f.ctls:
            st = ctl.status()
            assert st["site"] == ctl.site and st["labels"] == {
                "role": "test"} and st["cpu"] == 4 and \
                st["memory_mb"] == 8192, st
            for t in st["tasks"]:
                assert t["job"] == "spread" and t["state"] == "placed" and \
                    not t["stop"] and t["job_version"] == 1, t
            assert st["index"] > 0, st
        # The cluster places each task on the site whose controller has it.
        placed = cluster_tasks(lead, "spread")
        for ctl, mine in zip(f.ctls, ids):
            assert sorted(t["id"] for t in placed
                          if t["site"] == ctl.site) == mine, (placed, mine)

        lead = f.leader_node()
        st, got = call(lead.host, lead.port, "DELETE", "/v1/jobs/spread")
        assert st == 200, (st, got)
        f.c.wait_until(lambda: cluster_tasks(f.leader_node(), "spread") == [],
                       5.0, "the stopped tasks removed by the cluster")
        f.c.wait_until(lambda: all(ctl_task_ids(ctl) == [] for ctl in f.ctls),
                       5.0, "the controllers' tasks gone")
        for ctl in f.ctls:
            st = ctl.status()
            assert st["report_seq_applied"] >= 1 and \
                st["report_seq_sent"] == st["report_seq_applied"], st
            assert st["outbox"] == {"sending": 0, "pending": 0}, st
            assert "report batch 1 (2 tasks) applied" in ctl.log_text()
            assert ctl.metric("varde_controller_report_seq_applied") >= 1
            assert ctl.metric("varde_controller_connected") == 1
        for ctl in f.ctls:
            assert ctl.terminate() == 0
        note("4 tasks spread 2+2; both sites reported their 2 stops in "
             "batch 1")


def test_controllers_follow_a_new_leader():
    with Fleet(["oslo-1", "bergen-2"]) as f:
        old = f.leader_node()
        f.wait_connected(leader_addr=old.addr)
        changes = [ctl.metric("varde_controller_leader_changes_total")
                   for ctl in f.ctls]
        old.kill()
        t0 = time.monotonic()
        lead, _ = f.c.wait_leader(5.0, exclude=(old.id,))
        f.wait_connected(10.0, leader_addr=f.c[lead].addr)
        took = time.monotonic() - t0
        for ctl, before in zip(f.ctls, changes):
            assert ctl.metric("varde_controller_leader_changes_total") == \
                before + 1
            assert ctl.metric("varde_controller_registers_total") >= 2
        # Work flows through the new leader.
        st, got = call(f.c[lead].host, f.c[lead].port, "POST", "/v1/jobs",
                       job("after", 2))
        assert st == 200, (st, got)
        f.c.wait_until(lambda: all(ctl_task_ids(ctl) and
                                   len(ctl_task_ids(ctl)) == 1
                                   for ctl in f.ctls),
                       5.0, "one task of the new job on each controller")
        old.start()
        note("both controllers registered with the new leader %.2fs after "
             "the kill" % took)


def test_a_controller_restarted_while_the_cluster_is_down_keeps_its_tasks():
    with Fleet(["oslo-1"]) as f:
        f.wait_connected()
        lead = f.leader_node()
        st, got = call(lead.host, lead.port, "POST", "/v1/jobs",
                       job("kept", 3))
        assert st == 200, (st, got)
        ctl = f.ctls[0]
        f.c.wait_until(lambda: ctl_task_ids(ctl) == ["kept.0", "kept.1",
                                                     "kept.2"],
                       5.0, "3 tasks on the controller")
        before = ctl.status()
        for i in f.c.ids():
            f.c[i].kill()
        ctl.kill()
        ctl.start()
        st = f.c.wait_until(ctl.status, 5.0, "the controller answering")
        assert st["tasks"] == before["tasks"], (st, before)
        assert st["index"] == before["index"], (st, before)
        assert not st["connected"] and st["leader"] is None, st
        time.sleep(0.5)  # it keeps retrying, and keeps its tasks
        assert ctl.status()["tasks"] == before["tasks"]
        f.c.start()
        f.wait_connected(15.0)
        assert ctl.status()["tasks"] == before["tasks"]
        log = ctl.log_text().split("=== start")[-1]
        assert log.count("no raft node names a leader") == 1, log
        note("restarted with the raft cluster down: index %d, %d tasks, "
             "reconnected when it came back"
             % (st["index"], len(st["tasks"])))


def run_varde(args, timeout=10.0):
    r = subprocess.run([cluster.VARDE] + args, capture_output=True,
                       text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def test_bad_flags_bad_requests_and_a_bad_data_dir():
    with Fleet(["oslo-1"], start_controllers=False) as f:
        ctl = f.ctls[0]
        base = ctl.args()[1:]
        for bad, want in [
                (["--site", "Oslo"], "--site \"Oslo\""),
                (["--cpu", "0"], "--cpu \"0\""),
                (["--heartbeat-interval", "1000"], "--heartbeat-interval"),
                (["--labels", "a=1,a=2"], "--labels: a is given twice"),
                (["--colour", "red"], "unknown flag \"--colour\"")]:
            rc, out, err = run_varde(base + bad)
            assert rc == 2, (bad, rc, err)
            lines = err.strip().splitlines()
            assert len(lines) == 1 and want in lines[0], (bad, err)
        rc, out, _ = run_varde(["controller", "--help"])
        assert rc == 0 and "--site NAME" in out, out

        ctl.start()
        f.wait_connected()
        for method, path, status in [("GET", "/nope", 404),
                                     ("POST", "/v1/status", 405),
                                     ("DELETE", "/metrics", 405)]:
            st, body = call(ctl.host, ctl.port, method, path, "{}")
            assert st == status and isinstance(body, dict) and \
                body.get("error"), (path, st, body)
        st, body = call(ctl.host, ctl.port, "GET", "/v1/status",
                        "x" * 100000)
        assert st == 413, st

        # A second controller on the same data dir.
        other = ctl.args()[1:]
        other[other.index("--listen") + 1] = "%s:%d" % (ctl.host,
                                                        ctl.port + 1)
        rc, _, err = run_varde(other)
        assert rc == 1 and "is in use by another process" in err, (rc, err)

        # A damaged file: a clear start error naming it.
        lead = f.leader_node()
        st, got = call(lead.host, lead.port, "POST", "/v1/jobs",
                       job("one", 1))
        assert st == 200, (st, got)
        f.c.wait_until(lambda: ctl_task_ids(ctl) == ["one.0"], 5.0,
                       "the task on the controller")
        assert ctl.terminate() == 0
        path = os.path.join(ctl.data_dir, "assignments.json")
        with open(path, "r+b") as fh:
            data = fh.read()
            fh.seek(len(data) - 2)
            fh.write(b"X")
        rc, _, err = run_varde(ctl.args()[1:])
        assert rc == 1 and path + ": damaged: checksum mismatch" in err, \
            (rc, err)
        # Without the file it starts, and fetches its assignments again.
        os.remove(path)
        ctl.start()
        f.c.wait_until(lambda: ctl_task_ids(ctl) == ["one.0"], 10.0,
                       "the task fetched again")
        assert ctl.terminate() == 0
        # Another site's data dir.
        wrong = ctl.args()[1:]
        wrong[wrong.index("--site") + 1] = "bergen-2"
        rc, _, err = run_varde(wrong)
        assert rc == 1 and "site: expected \"bergen-2\"" in err, (rc, err)
        note("5 bad flags, 4 bad requests, a locked, a damaged and another "
             "site's data dir refused")


# ---------------------------------------------------------------------------
# against a scripted leader


class FakeLeader:
    """A scripted raft leader on HOST: GET /v1/status names LEADER_ADDR
    (default itself) as node 1; register, heartbeat, assignments and
    reports answer as the attributes say. Every request is recorded as
    (method, path, body dict or None)."""

    def __init__(self, host, port, site):
        self.site = site
        self.addr = "%s:%d" % (host, port)
        self.leader_addr = self.addr
        self.requests = []
        self.lock = threading.Lock()
        self.changed = threading.Condition(self.lock)
        self.not_leader = None  # a hint: answer 503 "not the leader"
        self.heartbeat_404 = 0  # answer this many heartbeats with 404
        self.drop_reports = 0  # close this many report calls unanswered
        self.report_seq = 0
        self.assign = {"site": site, "index": 0, "tasks": [], "jobs": {}}
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.handle(self, "GET")

            def do_POST(self):
                fake.handle(self, "POST")

        self.server = http.server.ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def calls(self, path_end):
        with self.lock:
            return [r for r in self.requests if r[1].split("?")[0]
                    .endswith(path_end)]

    def set_tasks(self, index, tasks):
        with self.lock:
            self.assign = {"site": self.site, "index": index,
                           "tasks": tasks, "jobs": {}}
            self.changed.notify_all()

    def reply(self, h, status, body):
        data = json.dumps(body).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        try:
            h.wfile.write(data)
        except OSError:
            pass  # the controller dropped the call: it lost its leader

    def handle(self, h, method):
        n = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(n) if n else b""
        body = json.loads(raw) if raw else None
        url = urllib.parse.urlsplit(h.path)
        with self.lock:
            self.requests.append((method, h.path, body))
        if url.path == "/v1/status":
            self.reply(h, 200, {"id": 1, "role": "leader", "leader": 1,
                                "peers": {"1": {"addr": self.leader_addr}}})
            return
        if self.not_leader is not None:
            self.reply(h, 503, {"error": "not the leader",
                                "leader": self.not_leader})
            return
        what = url.path.rsplit("/", 1)[-1]
        getattr(self, "on_" + what)(h, body, urllib.parse.parse_qs(
            url.query))

    def on_register(self, h, body, q):
        self.reply(h, 200, {"site": self.site, "index": 3,
                            "report_seq": self.report_seq, "ttl_ms": 10000,
                            "heartbeat_ms": 1000})

    def on_heartbeat(self, h, body, q):
        with self.lock:
            refuse = self.heartbeat_404 > 0
            self.heartbeat_404 -= refuse
        if refuse:
            self.reply(h, 404, {"error": "site not registered"})
            return
        self.reply(h, 200, {"site": self.site, "index": 3,
                            "report_seq": self.report_seq,
                            "status": "connected"})

    def on_assignments(self, h, body, q):
        index = int(q.get("index", ["0"])[0])
        with self.lock:
            if index > 0:
                self.changed.wait_for(lambda: self.assign["index"] > index,
                                      timeout=2.0)
            answer = dict(self.assign)
        self.reply(h, 200, answer)

    def on_reports(self, h, body, q):
        with self.lock:
            drop = self.drop_reports > 0
            self.drop_reports -= drop
        if drop:
            h.close_connection = True  # no answer: a lost reply
            return
        applied = body["seq"] > self.report_seq
        self.report_seq = max(self.report_seq, body["seq"])
        with self.lock:
            if applied:
                ids = {t["id"] for t in body["tasks"]}
                self.assign = dict(self.assign, index=self.assign["index"] + 1,
                                   tasks=[t for t in self.assign["tasks"]
                                          if t["id"] not in ids])
                self.changed.notify_all()
        self.reply(h, 200, {"site": self.site, "report_seq": self.report_seq,
                            "index": 9, "applied": applied})


class Scripted:
    """A controller for site "oslo-1" against scripted leaders, on a
    loopback /24 of the test's own."""

    def __init__(self, n_fakes=1):
        self.net = cluster.NetClaim()
        self.tmp = tempfile.mkdtemp(prefix="varde-ctl-")
        self.fakes = []
        self.ctl = None
        try:
            hosts = [self.net.host(FAKE_HOST_BASE + i + 1)
                     for i in range(n_fakes)]
            ports = cluster.pick_ports(hosts)
            self.fakes = [FakeLeader(h, p, "oslo-1")
                          for h, p in zip(hosts, ports)]
            host = self.net.host(CTL_HOST_BASE + 1)
            self.ctl = Controller(self.tmp, 1, "oslo-1", host,
                                  cluster.pick_ports([host])[0],
                                  [self.fakes[0].addr],
                                  ["--heartbeat-interval", "100ms"])
            self.ctl.start()
        except BaseException:
            self.close(True)
            raise

    def close(self, failed):
        if self.ctl is not None:
            self.ctl.kill()
            if failed:
                print(self.ctl.log_text()[-4000:], file=sys.stderr)
        for fk in self.fakes:
            fk.close()
        self.net.release()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(exc_type is not None)
        return False


def stop_task(jid, i):
    return {"id": "%s.%d" % (jid, i), "job": jid, "index": i,
            "job_version": 1, "state": "placed", "stop": True}


def test_a_batch_whose_answer_is_lost_is_sent_again_the_same():
    with Scripted() as s:
        fake, ctl = s.fakes[0], s.ctl
        wait_until(lambda: (ctl.status() or {}).get("connected"), 5.0,
                   "connected to the scripted leader")
        fake.drop_reports = 1
        fake.set_tasks(7, [stop_task("a", 0), stop_task("a", 1)])
        wait_until(lambda: len(fake.calls("/reports")) >= 2 and
                   fake.report_seq == 1, 10.0, "the batch sent twice")
        first, second = fake.calls("/reports")[:2]
        assert first[2] == second[2], (first, second)
        assert first[2]["seq"] == 1 and sorted(
            t["id"] for t in first[2]["tasks"]) == ["a.0", "a.1"], first
        wait_until(lambda: (ctl.status() or {}).get("report_seq_applied")
                   == 1 and ctl.status()["tasks"] == [], 5.0,
                   "the report applied and the tasks gone")
        time.sleep(0.3)
        assert len(fake.calls("/reports")) == 2, fake.calls("/reports")
        # A new stop goes out as batch 2.
        fake.set_tasks(20, [stop_task("b", 0)])
        wait_until(lambda: fake.report_seq == 2, 5.0, "batch 2 applied")
        assert fake.calls("/reports")[-1][2]["tasks"] == [
            {"id": "b.0", "state": "stopped"}]
        note("batch 1 sent twice with the same seq and body, then batch 2")


def test_a_404_heartbeat_registers_again():
    with Scripted() as s:
        fake, ctl = s.fakes[0], s.ctl
        wait_until(lambda: (ctl.status() or {}).get("connected"), 5.0,
                   "connected")
        before = len(fake.calls("/register"))
        fake.heartbeat_404 = 1
        wait_until(lambda: len(fake.calls("/register")) == before + 1, 5.0,
                   "a second register")
        wait_until(lambda: ctl.metric("varde_controller_registers_total")
                   == 2, 5.0, "counted")
        assert ctl.metric("varde_controller_heartbeat_failures_total") == 1
        assert ctl.status()["connected"]
        # Quiet heartbeats: no log line per heartbeat.
        time.sleep(0.5)
        lines = ctl.log_text().splitlines()
        assert len(lines) < 12, lines


def test_a_503_not_the_leader_is_followed():
    with Scripted(n_fakes=2) as s:
        a, b, ctl = s.fakes[0], s.fakes[1], s.ctl
        # A names itself leader in its status, but refuses as a follower
        # would, naming B.
        a.not_leader = b.addr
        wait_until(lambda: (ctl.status() or {}).get("leader") == b.addr and
                   ctl.status()["connected"], 5.0, "connected to B")
        assert len(a.calls("/register")) >= 1
        assert len(b.calls("/register")) == 1
        assert not b.calls("/v1/status"), "B was never asked for the leader"
        assert ctl.metric("varde_controller_leader_changes_total") == 2


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("ok", name)
