"""test_site.py - a whole site: real raft nodes, a `varde controller` and
real `varde agent` processes running real tasks.

- a job of count 3 runs 3 processes spread over two agents; an agent
  killed with -9 has its tasks running on the other within the TTL plus a
  second, reported upstream; restarted, it takes back the copies that
  kept running and the surplus ones are stopped, so no task runs twice;
  a stop of the job leaves no process;
- a task's logs through the controller and through a raft node, followed
  too; a task writes to the kv store through its controller; with the
  raft cluster down, the kv proxy answers 503 and logs still work;
- a job whose limits no agent meets stays placed, with a message saying
  why;
- a second agent under a name that is alive elsewhere gets a 409, and
  an agent that is gone can be forgotten;
- an agent paused past its TTL keeps its copies when it resumes;
- a restarted controller knows its agents and what they run;
- a system job runs once on every agent;
- with an access token, the controller asks for it and sends it.

Tasks run in process groups of their own; each test marks its tasks with
an environment variable, counts them through /proc, and kills what is left
at the end.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_site.py [NAME...]
"""

import os
import signal
import sys
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note  # noqa: E402
from daemons import (Group, Proc, call, finish_teardown,  # noqa: E402
                     kill_marked, marked_processes, poll_call, stop_procs)

CTL_HOST = 25  # the controller at 127.X.Y.25
AGENT_HOST_BASE = 60  # agent N at 127.X.Y.(60 + N)
AGENT_TTL_MS = 2000
SITE = "oslo-1"


class Controller(Proc):
    def __init__(self, tmp, host, port, raft, extra=()):
        super().__init__(tmp, "ctl", host, port)
        self.raft = raft
        self.extra = list(extra)

    def args(self):
        return [cluster.VARDE, "controller", "--site", SITE, "--labels",
                "role=test", "--raft", ",".join(self.raft), "--listen",
                self.addr, "--data-dir", self.data_dir, "--agent-ttl",
                "%dms" % AGENT_TTL_MS, "--heartbeat-interval", "200ms"] + \
            self.extra


class Agent(Proc):
    def __init__(self, tmp, name, host, port, controller, cpu="2",
                 memory_mb="2048", token_file=None):
        super().__init__(tmp, name, host, port)
        self.controller = controller
        self.cpu, self.memory_mb = cpu, memory_mb
        self.token_file = token_file

    def args(self):
        return [cluster.VARDE, "agent", "--name", self.name, "--controller",
                self.controller, "--listen", self.addr, "--data-dir",
                self.data_dir, "--cpu", self.cpu, "--memory-mb",
                self.memory_mb] + (["--token-file", self.token_file]
                                   if self.token_file else [])

    def running(self):
        """{task id: pid} of the tasks its status shows running."""
        st = self.status()
        if not st:
            return None
        return {t["id"]: t["pid"] for t in st.get("tasks", [])
                if t["state"] == "running"}


class Site(Group):
    """3 raft nodes, a controller and N agents, torn down together: every
    daemon killed, every task process marked MARK killed with its group,
    logs printed when the test failed, and a daemon that exited by itself
    fails the test."""

    def __init__(self, n_agents=2, ctl_extra=(), token=None, agent_cpu="2"):
        self.mark = "varde-test-%s" % uuid.uuid4().hex[:12]
        self.token = token
        self.c = Cluster(3, token=token)
        self.procs = []
        try:
            hosts = [self.c.net.host(CTL_HOST)] + [
                self.c.net.host(AGENT_HOST_BASE + i + 1)
                for i in range(n_agents)]
            ports = cluster.pick_ports(hosts)
            raft = [self.c[i].addr for i in self.c.ids()]
            tf = self.c.token_file if token else None
            self.ctl = Controller(self.c.tmp, hosts[0], ports[0], raft,
                                  list(ctl_extra) +
                                  (["--token-file", tf] if tf else []))
            self.ctl.client.token = token
            self.agents = [Agent(self.c.tmp, "a%d" % (i + 1), hosts[i + 1],
                                 ports[i + 1], self.ctl.addr, agent_cpu,
                                 token_file=tf)
                           for i in range(n_agents)]
            for a in self.agents:
                a.client.token = token
            self.procs = [self.ctl] + self.agents
            self.ctl.start()
            for a in self.agents:
                a.start()
        except BaseException:
            self.teardown(failed=True)
            raise

    def agent(self, name):
        return next(a for a in self.agents if a.name == name)

    def leader(self, timeout=5.0):
        lead, _ = self.c.wait_leader(timeout)
        return self.c[lead]

    def wait_site(self, cpu, timeout=10.0):
        """Until the cluster sees the site connected with CPU cores."""
        def ok():
            st, body = poll_call(self.c[1].host, self.c[1].port, "GET",
                                 "/v1/sites?stale", token=self.token)
            if st != 200:
                return None
            for s in body["sites"]:
                if s["name"] == SITE and s["status"] == "connected" and \
                        abs(s["cpu"] - cpu) < 1e-9:
                    return s
            return None
        return self.c.wait_until(ok, timeout, "site %s with %s cores"
                                 % (SITE, cpu))

    def submit(self, job):
        lead = self.leader()
        st, got = call(lead.host, lead.port, "POST", "/v1/jobs", job,
                       token=self.token)
        assert st == 200, (st, got)
        return got

    def stop(self, jid):
        lead = self.leader()
        st, got = call(lead.host, lead.port, "DELETE", "/v1/jobs/" + jid,
                       token=self.token)
        assert st == 200, (st, got)

    def cluster_tasks(self, jid):
        lead = self.leader()
        st, body = poll_call(lead.host, lead.port, "GET",
                             "/v1/tasks?job=" + jid, token=self.token)
        return body["tasks"] if st == 200 else None

    def job(self, jid, count=1, cpu=0.1, command=None, **more):
        j = {"id": jid, "count": count,
             "command": command or ["/bin/sh", "-c",
                                    "echo hello from $VARDE_TASK on "
                                    "$VARDE_AGENT; exec sleep 1000"],
             "env": {"VARDE_TEST_MARK": self.mark},
             "resources": {"cpu": cpu, "memory_mb": 32}}
        j.update(more)
        return j

    def processes(self):
        """{pid: task id} of the live task processes of this test."""
        return marked_processes(self.mark)

    def teardown(self, failed=False):
        problems = stop_procs(self.procs)
        left = kill_marked(self.mark)
        if left:
            problems.append("task processes left: %s" % left)
        finish_teardown(self.c, self.procs, problems, failed)


def by_agent(tasks):
    """{agent: [task ids]} of TASKS (the cluster's), running ones only."""
    out = {}
    for t in tasks or []:
        if t["state"] == "running":
            out.setdefault(t["agent"], []).append(t["id"])
    return {a: sorted(ids) for a, ids in out.items()}


# ---------------------------------------------------------------------------


@cluster.timeout(90)
def test_a_job_survives_an_agent_kill_without_running_twice():
    with Site() as s:
        s.wait_site(4.0)
        s.submit(s.job("web", count=3))

        def spread():
            got = by_agent(s.cluster_tasks("web"))
            n = sum(len(v) for v in got.values())
            return got if n == 3 and len(s.processes()) == 3 else None

        placed = s.c.wait_until(spread, 10.0, "3 tasks running, reported")
        assert sorted(len(v) for v in placed.values()) == [1, 2], placed
        victim = s.agent(max(placed, key=lambda a: len(placed[a])))
        other = s.agent(min(placed, key=lambda a: len(placed[a])))
        moved = placed[victim.name]
        st, agents = call(s.c[2].host, s.c[2].port, "GET", "/v1/agents")
        assert st == 200 and sorted(
            (a["site"], a["name"], a["status"]) for a in agents["agents"]) \
            == [(SITE, "a1", "up"), (SITE, "a2", "up")], agents

        victim.kill()
        t0 = time.monotonic()
        s.c.wait_until(lambda: set(moved) <= set(other.running() or {}),
                       AGENT_TTL_MS / 1000 + 1.0,
                       "%s running on %s" % (moved, other.name))
        ran = time.monotonic() - t0
        s.c.wait_until(lambda: by_agent(s.cluster_tasks("web")) ==
                       {other.name: ["web.0", "web.1", "web.2"]}, 3.0,
                       "the move reported upstream")
        reported = time.monotonic() - t0
        # The killed agent's tasks kept running: 5 processes now.
        assert len(s.processes()) == 5, s.processes()

        victim.start()
        t1 = time.monotonic()

        def settled():
            procs = s.processes()
            running = {a.name: a.running() or {} for a in s.agents}
            if len(procs) != 3 or any(
                    set(running[victim.name]) & set(running[other.name])):
                return None
            return running
        running = s.c.wait_until(settled, 10.0, "one copy of each task")
        back = time.monotonic() - t1
        time.sleep(1.0)  # and it stays so
        assert len(s.processes()) == 3, s.processes()
        # The copies that kept running were kept; the replacements went.
        assert sorted(running[victim.name]) == moved, running
        assert "kept running -> keep it" in s.ctl.log_text()
        s.c.wait_until(lambda: by_agent(s.cluster_tasks("web")) == placed,
                       3.0, "the cluster back to the first placement")

        s.stop("web")
        s.c.wait_until(lambda: not s.processes(), 10.0, "every process gone")
        s.c.wait_until(lambda: s.cluster_tasks("web") == [], 5.0,
                       "the tasks removed by the cluster")
        assert s.ctl.terminate() == 0  # cleanly, and the sanitizers agree
        note("kill -9 of %s: its %d tasks ran on %s after %.2fs (ttl %d ms), "
             "reported after %.2fs; restarted, one copy each after %.2fs"
             % (victim.name, len(moved), other.name, ran, AGENT_TTL_MS,
                reported, back))


@cluster.timeout(60)
def test_a_paused_agent_stops_nothing_and_keeps_its_copies():
    with Site() as s:
        s.wait_site(4.0)
        s.submit(s.job("web", count=2))
        first = s.c.wait_until(
            lambda: len(s.processes()) == 2 and
            by_agent(s.cluster_tasks("web")) == {"a1": ["web.0"],
                                                  "a2": ["web.1"]} and
            s.processes(), 10.0, "one task on each agent")
        a1, a2 = s.agent("a1"), s.agent("a2")
        a1.proc.send_signal(signal.SIGSTOP)  # its task runs on
        try:
            s.c.wait_until(lambda: by_agent(s.cluster_tasks("web")) ==
                           {"a2": ["web.0", "web.1"]},
                           AGENT_TTL_MS / 1000 + 3.0, "web.0 moved to a2")
            assert len(s.processes()) == 3
        finally:
            a1.proc.send_signal(signal.SIGCONT)
        s.c.wait_until(lambda: by_agent(s.cluster_tasks("web")) ==
                       {"a1": ["web.0"], "a2": ["web.1"]} and
                       len(s.processes()) == 2, 10.0,
                       "web.0 back on a1, the replacement stopped")
        assert s.processes() == first, (s.processes(), first)
        log = s.ctl.log_text()
        assert "agent a1 is back: a heartbeat after" in log, log
        assert "task web.0: the copy on agent a1 kept running" in log
        note("a1 paused past its TTL: web.0 ran on a2 meanwhile; resumed, "
             "a1's copy (pid unchanged) was kept and a2's stopped")


# A task that writes to the kv store through its controller, then idles.
KV_WRITER = r"""
import os, sys, time, urllib.request
url = "http://%s/v1/kv/seen/%s" % (os.environ["VARDE_CONTROLLER"],
                                   os.environ["VARDE_TASK"])
for attempt in range(100):
    try:
        req = urllib.request.Request(url, data=b"hello", method="PUT")
        if os.environ.get("VARDE_TOKEN"):
            req.add_header("Authorization",
                           "Bearer " + os.environ["VARDE_TOKEN"])
        urllib.request.urlopen(req, timeout=2).read()
        break
    except Exception as e:
        time.sleep(0.2)
print("wrote", url, "after", attempt + 1, "tries", flush=True)
time.sleep(1000)
"""


def follow_until(host, port, path, want, timeout=5.0):
    """GET PATH (chunked, followed) until WANT shows up in what came;
    returns it, or None."""
    import http.client
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    got = b""
    deadline = time.monotonic() + timeout
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        if resp.status != 200:
            return None
        while want not in got and time.monotonic() < deadline:
            piece = resp.read1(4096)
            if not piece:
                break
            got += piece
    finally:
        conn.close()
    return got if want in got else None


@cluster.timeout(60)
def test_logs_and_the_kv_store_through_the_controller():
    with Site() as s:
        s.wait_site(4.0)
        s.submit(s.job("writer", command=["/usr/bin/python3", "-c",
                                          KV_WRITER]))
        lead = s.leader()

        def written():
            st, body = poll_call(lead.host, lead.port, "GET",
                                 "/v1/kv/seen/writer.0")
            return body if st == 200 else None
        got = s.c.wait_until(written, 10.0, "the task's write in the kv")
        assert got["value"] == "hello", got
        # The task's output, through the controller and through any node.
        ctl = s.ctl
        st, out = call(ctl.host, ctl.port, "GET", "/v1/tasks/writer.0/logs")
        assert st == 200 and b"wrote http://%s/v1/kv/seen/writer.0" % \
            ctl.addr.encode() in out, (st, out)
        st, out2 = call(s.c[3].host, s.c[3].port, "GET",
                        "/v1/tasks/writer.0/logs")
        assert st == 200 and out2 == out, (st, out2)
        followed = follow_until(ctl.host, ctl.port,
                                "/v1/tasks/writer.0/logs?follow=1", b"wrote")
        assert followed is not None
        followed = follow_until(s.c[2].host, s.c[2].port,
                                "/v1/tasks/writer.0/logs?follow=1&offset=-5",
                                b"ries\n")
        assert followed == b"ries\n", followed
        for path, status, says in [
                ("/v1/tasks/nope.0/logs", 404, "task nope.0 runs on no agent"),
                ("/v1/tasks/writer.0/logs?agent=a9", 404, "no agent named a9"),
                ("/v1/tasks/writer.0", 404, "no such path"),
                ("/v1/tasks/writer.0/logs?offset=x", 400, "")]:
            st, body = call(ctl.host, ctl.port, "GET", path)
            assert st == status and says in body["error"], (path, st, body)
        # The kv store, for the site's tasks.
        st, body = call(ctl.host, ctl.port, "PUT", "/v1/kv/site/k", "v1")
        assert st == 200, (st, body)
        st, body = call(ctl.host, ctl.port, "GET", "/v1/kv/site/k")
        assert st == 200 and body["value"] == "v1", (st, body)
        st, body = call(ctl.host, ctl.port, "PUT", "/v1/kv/site/k?cas=1",
                        "v2")
        assert st == 409, (st, body)
        st, body = call(ctl.host, ctl.port, "DELETE", "/v1/kv/site/k")
        assert st == 200, (st, body)
        # The cluster away: the kv proxy says so, logs still flow.
        for i in s.c.ids():
            s.c[i].kill()
        s.c.wait_until(lambda: not (ctl.status() or {}).get("connected"),
                       10.0, "the controller without a leader")
        st, _, body = cluster.http_request(ctl.host, ctl.port, "GET",
                                           "/v1/kv/site/k", timeout=5.0)
        assert st == 503 and b"out of reach" in body, (st, body)
        st, out3 = call(ctl.host, ctl.port, "GET", "/v1/tasks/writer.0/logs")
        assert st == 200 and out3 == out, (st, out3)
        # A stop with a follow in flight and an agent's watch held: clean.
        import http.client
        held = http.client.HTTPConnection(ctl.host, ctl.port, timeout=5)
        held.request("GET", "/v1/tasks/writer.0/logs?follow=1")
        assert held.getresponse().status == 200
        assert ctl.terminate() == 0
        held.close()
        assert "SIGTERM -> stop" in ctl.log_text()
        note("a task wrote to the kv store through its controller; its logs "
             "came through the controller and a raft node, followed too; "
             "with the cluster down the kv proxy answered 503")


@cluster.timeout(60)
def test_a_task_no_agent_can_take_stays_placed_with_a_message():
    with Site() as s:
        s.wait_site(4.0)
        s.submit(s.job("big", cpu=3))  # fits the site (4), no agent (2)

        def placed():
            st = s.ctl.status()
            tasks = (st or {}).get("tasks", [])
            return tasks[0] if tasks and tasks[0]["message"] else None
        t = s.c.wait_until(placed, 10.0, "the task with a message")
        assert t["state"] == "placed" and t["agent"] is None, t
        assert t["message"].startswith(
            "no agent has room for 3.000 cores and 32 MiB (the most free: "
            "a1, with 2.000 cores"), t
        # The cluster shows the reason too (varde job status prints it).
        ct = s.c.wait_until(lambda: [x for x in s.cluster_tasks("big")
                                     if x["message"]], 5.0,
                            "the message in the cluster")[0]
        assert ct["state"] == "placed" and ct["agent"] is None, ct
        assert ct["message"] == t["message"], (ct, t)
        # Said once, and then quiet: no line per heartbeat or placement.
        lines = len(s.ctl.log_text().splitlines())
        time.sleep(1.5)
        log = s.ctl.log_text()
        assert len(log.splitlines()) == lines, log.splitlines()[lines:]
        assert log.count("task big.0 cannot be placed: no agent has room") \
            == 1, log
        assert not s.processes()
        # A third agent with room takes it.
        extra = Agent(s.c.tmp, "a3", s.c.net.host(AGENT_HOST_BASE + 3),
                      cluster.pick_ports([s.c.net.host(AGENT_HOST_BASE + 3)])
                      [0], s.ctl.addr, cpu="4")
        s.procs.append(extra)
        extra.start()
        s.c.wait_until(lambda: by_agent(s.cluster_tasks("big")) ==
                       {"a3": ["big.0"]}, 10.0, "big.0 running on a3")
        assert len(s.processes()) == 1
        note("a job of 3 cores on agents of 2 stayed placed: %s"
             % t["message"])


@cluster.timeout(60)
def test_an_agent_name_alive_elsewhere_is_refused():
    with Site() as s:
        s.wait_site(4.0)
        a1 = s.agent("a1")
        host = s.c.net.host(AGENT_HOST_BASE + 9)
        twin = Agent(s.c.tmp, "a1", host, cluster.pick_ports([host])[0],
                     s.ctl.addr)
        twin.data_dir += "-twin"
        twin.log_path = twin.log_path.replace(".log", "-twin.log")
        s.procs.append(twin)
        twin.start()
        s.c.wait_until(lambda: "409" in twin.log_text(), 10.0,
                       "the twin refused")
        st, body = call(s.ctl.host, s.ctl.port, "POST",
                        "/v1/agents/a1/register",
                        {"cpu": 1, "memory_mb": 1, "listen": twin.addr})
        assert st == 409 and body["error"] == \
            "agent name a1 is taken by %s" % a1.addr, (st, body)
        st, body = call(s.ctl.host, s.ctl.port, "GET", "/v1/agents")
        assert [(a["name"], a["addr"], a["status"]) for a in body["agents"]] \
            == [("a1", a1.addr, "up"), ("a2", s.agent("a2").addr, "up")], body
        assert "agent a1: register refused: agent name a1 is taken by" in \
            s.ctl.log_text()
        twin.kill()
        # Bad calls from agents.
        for method, path, body, status in [
                ("POST", "/v1/agents/a9/heartbeat", {}, 404),
                ("GET", "/v1/agents/a9/tasks", None, 404),
                ("POST", "/v1/agents/A9/register", {}, 400),
                ("POST", "/v1/agents/a9/register", {"cpu": 1}, 400),
                ("POST", "/v1/agents/a1/heartbeat", {"tasks": [1]}, 400),
                ("GET", "/v1/agents/a1/tasks?index=x", None, 400),
                ("GET", "/v1/agents/a1/tasks?wait=2m", None, 400),
                ("GET", "/v1/agents/a1/register", None, 405),
                ("POST", "/v1/agents/a1/tasks", {}, 405),
                ("GET", "/v1/agents/a1/nope", None, 404),
                ("POST", "/v1/agents/a1/heartbeat", "x" * (3 << 20), 413)]:
            st, got = call(s.ctl.host, s.ctl.port, method, path, body)
            assert st == status and isinstance(got, dict) and \
                got.get("error"), (path, st, got)
        assert s.ctl.alive() and a1.status()["connected"]
        # An operator forgets an agent that is gone; not one that is up.
        st, got = call(s.ctl.host, s.ctl.port, "DELETE", "/v1/agents/a1")
        assert st == 409 and "agent a1 is up" in got["error"], (st, got)
        st, got = call(s.ctl.host, s.ctl.port, "DELETE", "/v1/agents/a9")
        assert st == 404, (st, got)
        s.agent("a2").kill()
        s.c.wait_until(lambda: [a["status"] for a in call(
            s.ctl.host, s.ctl.port, "GET", "/v1/agents")[1]["agents"]] ==
            ["up", "down"], AGENT_TTL_MS / 1000 + 2, "a2 down")
        st, got = call(s.ctl.host, s.ctl.port, "DELETE", "/v1/agents/a2")
        assert st == 200 and got == {"agent": "a2", "removed": True}, got
        st, got = call(s.ctl.host, s.ctl.port, "GET", "/v1/agents")
        assert [a["name"] for a in got["agents"]] == ["a1"], got
        s.wait_site(2.0)
        note("a second a1 from %s: 409, the first kept its name; 11 bad "
             "calls refused; a2, gone, forgotten" % twin.addr)


@cluster.timeout(60)
def test_a_restarted_controller_knows_its_agents_and_what_they_run():
    with Site() as s:
        s.wait_site(4.0)
        s.submit(s.job("kept", count=2))
        before = s.c.wait_until(
            lambda: len(s.processes()) == 2 and
            by_agent(s.cluster_tasks("kept")) == {"a1": ["kept.0"],
                                                   "a2": ["kept.1"]} and
            s.processes(), 10.0, "2 tasks running")
        s.ctl.kill()
        for i in s.c.ids():
            s.c[i].kill()  # and the cluster is away too
        s.ctl.start()
        st = s.c.wait_until(s.ctl.status, 5.0, "the controller answering")
        assert st["connected"] is False and st["cpu"] == 4, st
        st, body = call(s.ctl.host, s.ctl.port, "GET", "/v1/agents")
        assert [(a["name"], a["status"], a["tasks"])
                for a in body["agents"]] == [("a1", "up", 1),
                                             ("a2", "up", 1)], body
        s.c.wait_until(lambda: all(t["state"] == "running" for t in
                                   (s.ctl.status() or {}).get("tasks", [])),
                       5.0, "the tasks running again in its view")
        time.sleep(AGENT_TTL_MS / 1000 + 0.5)  # past a TTL: nothing moved
        assert s.processes() == before, (s.processes(), before)
        assert "moved" not in s.ctl.log_text().split("=== start")[-1]
        s.c.start()
        s.c.wait_until(lambda: (s.ctl.status() or {}).get("connected"),
                       15.0, "connected again")
        assert by_agent(s.cluster_tasks("kept")) == {"a1": ["kept.0"],
                                                      "a2": ["kept.1"]}
        assert s.processes() == before
        assert s.ctl.terminate() == 0
        note("controller and cluster restarted: 2 agents and 2 tasks known "
             "at once, no task moved or restarted")


@cluster.timeout(60)
def test_a_system_job_runs_once_on_every_agent():
    with Site() as s:
        s.wait_site(4.0)
        job = s.job("exporter", type="system")
        del job["count"]
        s.submit(job)

        def everywhere():
            procs = s.processes()
            tasks = s.cluster_tasks("exporter") or []
            if len(procs) == 2 and len(tasks) == 1 and \
                    tasks[0]["state"] == "running":
                return tasks[0]
            return None
        t = s.c.wait_until(everywhere, 10.0, "one instance per agent")
        assert t["agent"] is None and t["site"] == SITE, t
        assert sorted(s.processes().values()) == [t["id"], t["id"]]
        for a in ("a1", "a2"):
            st, out = call(s.ctl.host, s.ctl.port, "GET",
                           "/v1/tasks/%s/logs?agent=%s" % (t["id"], a))
            assert st == 200 and out == b"hello from %s on %s\n" % (
                t["id"].encode(), a.encode()), (a, st, out)
        s.c.wait_until(lambda: s.ctl.status()["tasks"][0]["message"] ==
                       "a1 running, a2 running", 5.0,
                       "both instances running in the controller's view")
        s.stop("exporter")
        s.c.wait_until(lambda: not s.processes(), 10.0, "both gone")
        assert s.ctl.terminate() == 0
        note("system job: task %s runs on a1 and a2" % t["id"])


@cluster.timeout(60)
def test_with_a_token_the_controller_asks_for_it_and_sends_it():
    token = "site-test-token-" + uuid.uuid4().hex
    with Site(n_agents=1, token=token) as s:
        s.wait_site(2.0)  # the cluster took its token, it took the agent's
        s.submit(s.job("web"))
        s.c.wait_until(lambda: by_agent(s.cluster_tasks("web")) ==
                       {"a1": ["web.0"]}, 10.0, "web.0 running on a1")
        ctl = s.ctl
        for method, path, body in [
                ("GET", "/v1/status", None),
                ("GET", "/v1/tasks/web.0/logs", None),
                ("POST", "/v1/agents/a9/register",
                 {"cpu": 1, "memory_mb": 1, "listen": "127.0.0.1:1"}),
                ("GET", "/v1/kv/t", None)]:
            for wrong in (None, "wrong" * 4):
                st, got = call(ctl.host, ctl.port, method, path, body,
                               token=wrong)
                assert st == 401, (path, wrong, st, got)
        st, body = call(ctl.host, ctl.port, "GET", "/v1/status", token=token)
        assert st == 200 and body["connected"], (st, body)
        # Passed on with the controller's token: to the agent, the leader.
        st, out = call(ctl.host, ctl.port, "GET", "/v1/tasks/web.0/logs",
                       token=token)
        assert st == 200 and out.startswith(b"hello from web.0"), (st, out)
        st, body = call(ctl.host, ctl.port, "PUT", "/v1/kv/t", "x",
                        token=token)
        assert st == 200, (st, body)
        assert "no --token-file" not in ctl.log_text()
        # A task gets the token as VARDE_TOKEN, for the kv store.
        s.submit(s.job("writer", command=["/usr/bin/python3", "-c",
                                          KV_WRITER]))
        lead = s.leader()

        def written():
            st, body = call(lead.host, lead.port, "GET",
                            "/v1/kv/seen/writer.0", token=token)
            return body if st == 200 else None
        got = s.c.wait_until(written, 10.0, "the task's write, with its token")
        assert got["value"] == "hello", got
        note("with --token-file everywhere: 401 without it on 4 routes, "
             "the agent registered, logs and kv passed on with it, a task "
             "wrote to the kv store with VARDE_TOKEN")


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("ok", name)
