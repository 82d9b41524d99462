"""edge.py - the edge tiers measured: agent memory, the time from a job's
submission to its processes running, and the time to move the tasks of a
dead agent.

    /usr/bin/python3 bench/edge.py [--tasks N] [--agents N]

A 3-node raft cluster, one site (a `varde controller`) and AGENTS agents
(default 4), all on loopback with their defaults (agent TTL 5 s). Then:

  idle       VmRSS of each agent before any task (target: under 5 MB;
             KubeEdge's edge part needs about 70 MB, K3s's agent 256 MB)
  start      a job of TASKS /bin/sleep tasks (default 100): the time from
             POST /v1/jobs until the cluster shows every task running
             (through the controller, the agents, fork and exec, and the
             reports back up)
  move       kill -9 of one agent: the time until every task runs again
             on the others (the TTL is most of it); then of a second one,
             which leaves TASKS/2 tasks on each of the last two agents
  loaded     VmRSS of an agent running TASKS/2 tasks (50 by default)

Results are printed and written to build/bench/edge-<date>.json.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))

import cluster  # noqa: E402


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def call(addr, method, path, body=None, timeout=10.0):
    host, port = addr.rsplit(":", 1)
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    st, _, data = cluster.http_request(host, int(port), method, path, body,
                                       timeout=timeout)
    return st, (json.loads(data) if data else None)


def wait(pred, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise RuntimeError("timed out after %.0f s waiting for %s" % (timeout,
                                                                   what))


def parse_args(argv):
    opts = {"tasks": 100, "agents": 4}
    i = 0
    while i < len(argv):
        name = argv[i].lstrip("-")
        if name not in opts or i + 1 >= len(argv):
            return None
        opts[name] = int(argv[i + 1])
        i += 2
    return opts


class Edge:
    """One site: a controller and its agents, as processes."""

    def __init__(self, c, n_agents, tmp):
        self.c, self.tmp = c, tmp
        ports = cluster.pick_ports(["127.0.0.1"] * (1 + n_agents))
        self.ctl_addr = "127.0.0.1:%d" % ports[0]
        raft = ",".join(c[i].addr for i in c.ids())
        self.procs = {}
        self.logs = []
        self.spawn("controller", [
            "controller", "--site", "edge-1", "--raft", raft, "--listen",
            self.ctl_addr, "--data-dir", os.path.join(tmp, "ctl"),
            "--log-level", "warn"])
        self.agents = []
        for k in range(n_agents):
            name = "agent-%d" % (k + 1)
            self.agents.append(name)
            self.spawn(name, [
                "agent", "--name", name, "--controller", self.ctl_addr,
                "--listen", "127.0.0.1:%d" % ports[1 + k], "--data-dir",
                os.path.join(tmp, name), "--cpu", "16", "--memory-mb",
                "16384", "--log-level", "warn"])

    def spawn(self, name, args):
        log = open(os.path.join(self.tmp, name + ".log"), "ab")
        self.logs.append(log)
        self.procs[name] = subprocess.Popen([cluster.VARDE] + args,
                                            stdout=log, stderr=log)

    def kill(self, name):
        p = self.procs.pop(name)
        p.kill()
        p.wait()

    def close(self):
        for p in self.procs.values():
            p.terminate()
        for p in self.procs.values():
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        for log in self.logs:
            log.close()
        kill_tasks(self.tmp)


def kill_tasks(tmp):
    """Kill every process whose working directory is under TMP (the tasks
    of agents that were killed keep running: that is the point of them)."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            continue
        if cwd.startswith(tmp):
            try:
                os.killpg(int(pid), signal.SIGKILL)
            except OSError:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except OSError:
                    pass


def tasks(c):
    lead, _ = c.wait_leader(10.0)
    st, body = call(c[lead].addr, "GET", "/v1/tasks?job=bench-sleep")
    return body["tasks"] if st == 200 else []


def running_on(c, agents):
    ts = tasks(c)
    live = [t for t in ts if not t["stop"] and t["state"] == "running"
            and t["agent"] in agents]
    return live


def main(argv):
    opts = parse_args(argv)
    if opts is None:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    n, tmp = opts["tasks"], tempfile.mkdtemp(prefix="varde-edge-bench-")
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "options": opts}
    print("edge: one site, %d agents, %d tasks" % (opts["agents"], n))
    c = cluster.Cluster(3, name="edge-bench", log_level="warn")
    edge = None
    try:
        lead, _ = c.wait_leader(10.0)
        edge = Edge(c, opts["agents"], tmp)
        wait(lambda: call(c[lead].addr, "GET", "/v1/agents")[1] and
             len(call(c[lead].addr, "GET", "/v1/agents")[1]["agents"]) ==
             opts["agents"], 20.0, "every agent reported")
        time.sleep(1.0)
        idle = {a: rss_kib(edge.procs[a].pid) for a in edge.agents}
        results["idle_kib"] = idle
        print("  agent RSS idle: %.1f MiB (max of %d; target < 5 MB)"
              % (max(idle.values()) / 1024, len(idle)))
        job = {"id": "bench-sleep", "count": n,
               "command": ["/bin/sleep", "3600"],
               "resources": {"cpu": 0.1, "memory_mb": 16}}
        t0 = time.monotonic()
        st, body = call(c[lead].addr, "POST", "/v1/jobs", job)
        assert st == 200, (st, body)
        wait(lambda: len(running_on(c, set(edge.agents))) == n, 120.0,
             "%d tasks running" % n)
        start_s = time.monotonic() - t0
        results["start_s"] = start_s
        print("  %d tasks over %d agents: all running %.2f s after the "
              "submit" % (n, opts["agents"], start_s))
        moves = []
        for victim in edge.agents[:2]:
            edge.kill(victim)
            left = set(a for a in edge.agents if a in edge.procs)
            t0 = time.monotonic()
            wait(lambda: len(running_on(c, left)) == n, 60.0,
                 "%d tasks running again without %s" % (n, victim))
            moves.append(time.monotonic() - t0)
            print("  agent %s killed -9: its tasks running elsewhere after "
                  "%.2f s (agent TTL 5 s)" % (victim, moves[-1]))
        results["move_s"] = moves
        loaded = {}
        for a in edge.procs:
            if a.startswith("agent-"):
                loaded[a] = {"kib": rss_kib(edge.procs[a].pid),
                             "tasks": sum(1 for t in running_on(c, {a}))}
        results["loaded"] = loaded
        for a, v in sorted(loaded.items()):
            print("  agent %s RSS with %d tasks: %.1f MiB"
                  % (a, v["tasks"], v["kib"] / 1024))
        call(c[lead].addr, "DELETE", "/v1/jobs/bench-sleep")
    finally:
        if edge is not None:
            edge.close()
        c.teardown()
        shutil.rmtree(tmp, ignore_errors=True)
    out = os.path.join(ROOT, "build", "bench",
                       "edge-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    print("edge: results in %s" % os.path.relpath(out, os.getcwd()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
