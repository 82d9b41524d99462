"""test_agent.py - `varde agent` against a scripted controller.

The controller's side of the site API (docs/site-api.md) is played here by
a small HTTP server in this process (ScriptedController): it takes
registrations (409 for a name held by another live agent), heartbeats
(404 for an agent it does not know) and answers the tasks watch, blocking
until the test changes the agent's tasks. The agents are real `varde
agent` processes, and their tasks real processes, checked through /proc:

- a job of count 3 runs 3 processes, each with its VARDE_ environment;
  one killed with SIGKILL is restarted under the policy (new pid,
  restarts 1);
- a command that does not exist fails after the policy, with the reason,
  and is not started again;
- a task removed from the answer is stopped with its whole process group,
  SIGKILL after the kill timeout when SIGTERM is ignored; stop: true
  stops and keeps it; a new job_version restarts it;
- an agent killed with SIGKILL (or stopped with SIGTERM) and started
  again adopts its tasks (same pids, no restart), and still notices when
  one of them dies;
- a task that prints a lot keeps its output within --log-max-bytes plus
  one rotated file; the logs endpoint reads, pages and follows it;
- bad requests to the agent's API get a 4xx, and the agent carries on;
- two agents with the same name: the second gets 409 and says so;
- a controller that goes away and comes back without its registry: the
  tasks keep running, the agent registers again and reconciles;
- with an access token, the agent sends it to the controller and asks it
  of its own clients; an agent without it is told so;
- the agent's memory, idle and with 50 tasks.

Every test kills what it started, tasks included (found by their
VARDE_CONTROLLER, which names this test's controller).

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_agent.py [NAME...]
"""

import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import VARDE, JsonClient, note, pick_ports, wait_until  # noqa

HOST = "127.0.0.1"
HEARTBEAT = "200ms"


# ---------------------------------------------------------------------------
# the scripted controller


class ScriptedController:
    """The controller's side of the site API, scripted by the test."""

    def __init__(self, ttl_ms=2000, port=None, token=None):
        self.ttl_ms = ttl_ms
        self.token = token  # required of every call when set
        self.cv = threading.Condition()
        self.index = 1
        self.agents = {}   # name -> {"listen", "seen", "registers", "body"}
        self.wanted = {}   # name -> [task entry]
        self.reports = {}  # name -> {task id: its last reported state}
        self.closing = False
        port = port or pick_ports([HOST])[0]
        self.server = _Server((HOST, port), _Handler)
        self.server.daemon_threads = True
        self.server.ctl = self
        self.addr = "%s:%d" % (HOST, port)
        self.port = port
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()

    def set_tasks(self, name, tasks):
        with self.cv:
            self.wanted[name] = list(tasks)
            self.index += 1
            self.cv.notify_all()

    def reported(self, name):
        with self.cv:
            return dict(self.reports.get(name, {}))

    def forget(self, name):
        """Lose the agent from the registry (a restart without it)."""
        with self.cv:
            self.agents.pop(name, None)

    def registers(self, name):
        with self.cv:
            return self.agents.get(name, {}).get("registers", 0)

    def close(self):
        """Stop answering and cut every connection (kept-alive ones
        too)."""
        with self.cv:
            self.closing = True
            self.cv.notify_all()
        self.server.shutdown()
        self.server.server_close()
        self.server.cut_all()

    # -- the calls ---------------------------------------------------------

    def register(self, name, body):
        now = time.monotonic()
        with self.cv:
            a = self.agents.get(name)
            if (a is not None and a["listen"] != body.get("listen") and
                    now - a["seen"] < self.ttl_ms / 1000.0):
                return 409, {"error": "agent name %s is taken by %s"
                             % (name, a["listen"])}
            regs = a["registers"] + 1 if a else 1
            self.agents[name] = {"listen": body.get("listen"), "seen": now,
                                 "registers": regs, "body": body}
            return 200, {"agent": name, "index": self.index,
                         "ttl_ms": self.ttl_ms, "heartbeat_ms": 1000}

    def heartbeat(self, name, body):
        with self.cv:
            a = self.agents.get(name)
            if a is None:
                return 404, {"error": "no agent named %s" % name}
            a["seen"] = time.monotonic()
            self.reports[name] = {t["id"]: t for t in body.get("tasks", [])}
            return 200, {"index": self.index}

    def watch(self, name, index, wait_s):
        deadline = time.monotonic() + min(wait_s, 30.0)
        with self.cv:
            if name not in self.agents:
                return 404, {"error": "no agent named %s" % name}
            while (index != 0 and self.index <= index and not self.closing
                   and time.monotonic() < deadline):
                self.cv.wait(min(0.2, max(0.0, deadline - time.monotonic())))
            return 200, {"agent": name, "index": self.index,
                         "site": "oslo-1",
                         "tasks": self.wanted.get(name, [])}


class _Server(ThreadingHTTPServer):
    """Keeps its connections, so that closing the controller cuts the
    agents' kept-alive ones too."""

    def __init__(self, *args):
        self.conns = set()
        self.conns_lock = threading.Lock()
        super().__init__(*args)

    def process_request(self, request, client_address):
        with self.conns_lock:
            self.conns.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request):
        with self.conns_lock:
            self.conns.discard(request)
        super().shutdown_request(request)

    def cut_all(self):
        with self.conns_lock:
            conns = list(self.conns)
        for c in conns:
            try:
                c.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request, client_address):
        """An agent killed mid-request is expected here: stay quiet."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _reply(self, status, doc):
        if self.server.ctl.closing:
            self.close_connection = True
            return
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        try:
            return json.loads(self.rfile.read(n) or b"{}")
        except ValueError:
            return None

    def _refused(self):
        """Answer 401 unless the call carries the controller's token."""
        token = self.server.ctl.token
        if token and self.headers.get("Authorization") != "Bearer " + token:
            self._reply(401, {"error": "missing or wrong token"})
            return True
        return False

    def do_POST(self):
        ctl = self.server.ctl
        body = self._body()
        if self._refused():
            return None
        m = re.match(r"^/v1/agents/([^/]+)/(register|heartbeat)$", self.path)
        if m is None or not isinstance(body, dict):
            return self._reply(400, {"error": "bad request"})
        if m.group(2) == "register":
            return self._reply(*ctl.register(m.group(1), body))
        return self._reply(*ctl.heartbeat(m.group(1), body))

    def do_GET(self):
        ctl = self.server.ctl
        if self._refused():
            return None
        u = urllib.parse.urlparse(self.path)
        m = re.match(r"^/v1/agents/([^/]+)/tasks$", u.path)
        if m is None:
            return self._reply(404, {"error": "no such path"})
        q = urllib.parse.parse_qs(u.query)
        index = int(q.get("index", ["0"])[0])
        wait = q.get("wait", ["30s"])[0]
        wait_s = float(wait[:-1]) if wait.endswith("s") else 30.0
        return self._reply(*ctl.watch(m.group(1), index, wait_s))


# ---------------------------------------------------------------------------
# agents and their tasks


class Agent:
    """One `varde agent` process (started and restarted any number of
    times) with its own data dir and log."""

    def __init__(self, env, name, extra=(), token=None):
        self.env = env
        self.name = name
        self.port = pick_ports([HOST])[0]
        self.addr = "%s:%d" % (HOST, self.port)
        self.data_dir = os.path.join(env.tmp, "%s-%d" % (name, self.port))
        self.log_path = self.data_dir + ".log"
        self.extra = tuple(extra)
        self.proc = None
        self.client = JsonClient(HOST, self.port, timeout=2.0, token=token)

    def start(self):
        args = [VARDE, "agent", "--name", self.name, "--controller",
                self.env.ctl_addr, "--listen", self.addr, "--data-dir",
                self.data_dir, "--heartbeat-interval", HEARTBEAT,
                "--cpu", "4", "--memory-mb", "4096"] + list(self.extra)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.env.tmp,
                preexec_fn=cluster._die_with_parent)
        self.client.close()
        wait_until(self.status, 5.0, "agent %s to answer" % self.name)
        return self

    def terminate(self):
        """SIGTERM; returns the exit status."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=5)
        self.client.close()
        return rc

    def kill(self):
        """kill -9 the agent only (its tasks live on)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.client.close()

    def status(self):
        if self.proc is None or self.proc.poll() is not None:
            return None
        return self.client.get()

    def tasks(self):
        st = self.status()
        return {t["id"]: t for t in st["tasks"]} if st else {}

    def wait_tasks(self, pred, timeout, what):
        """Poll the agent's tasks until PRED(tasks) is true; return them."""
        last = [None]

        def check():
            last[0] = self.tasks()
            return [last[0]] if pred(last[0]) else None

        return wait_until(check, timeout, what,
                          state=lambda: json.dumps(last[0], indent=1))[0]

    def log(self):
        try:
            with open(self.log_path, errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    def get(self, path, timeout=5.0):
        """GET PATH of the agent's API: (status, headers, body bytes)."""
        return cluster.http_request(HOST, self.port, "GET", path,
                                    timeout=timeout)

    def metric(self, name):
        st, _, body = self.get("/metrics")
        assert st == 200
        for line in body.decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        return None


def job(jid, command, version=1, **extra):
    j = {"id": jid, "type": "service", "command": command,
         "resources": {"cpu": 0.1, "memory_mb": 32},
         "restart": {"attempts": 3, "interval": "1m", "delay": "100ms"},
         "kill_timeout": "2s", "version": version}
    j.update(extra)
    return j


def entries(j, count=1, stop=False):
    """The tasks of job J as a watch answer lists them."""
    return [{"id": "%s.%d" % (j["id"], i), "job": j, "index": i,
             "job_version": j["version"], "stop": stop}
            for i in range(count)]


def proc_stat(pid):
    """The fields of /proc/PID/stat after the command name, or None."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def proc_alive(pid):
    """True when PID is a live process (not a zombie)."""
    fields = proc_stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def proc_env(pid):
    try:
        with open("/proc/%d/environ" % pid, "rb") as f:
            items = f.read().split(b"\0")
    except OSError:
        return {}
    return dict(i.decode(errors="replace").split("=", 1)
                for i in items if b"=" in i)


def group_members(pgid):
    """Live pids whose process group is PGID."""
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        fields = proc_stat(int(d))
        if fields and int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            out.append(int(d))
    return out


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


class Env:
    """A temp dir, a scripted controller and the agents of one test; on
    exit every agent, every task process (found by its VARDE_CONTROLLER)
    and the controller are gone."""

    def __init__(self, token=None):
        self.tmp = tempfile.mkdtemp(prefix="varde-agent-test-")
        self.ctl = ScriptedController(token=token)
        self.ctl_addr = self.ctl.addr
        self.agents = []

    def agent(self, name, extra=(), start=True, token=None):
        a = Agent(self, name, extra, token)
        self.agents.append(a)
        return a.start() if start else a

    def task_pids(self):
        """Every live process that is a task of this test's agents."""
        out = []
        for d in os.listdir("/proc"):
            if (d.isdigit() and proc_env(int(d)).get("VARDE_CONTROLLER") ==
                    self.ctl_addr and proc_alive(int(d))):
                out.append(int(d))
        return out

    def kill_tasks(self):
        for pid in self.task_pids():
            for target in (-pid, pid):
                try:
                    os.kill(target, signal.SIGKILL)
                except OSError:
                    pass
        return wait_until(lambda: not self.task_pids(), 5.0,
                          "every task process gone")

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        problems = []
        for a in self.agents:
            a.kill()
            for line in a.log().splitlines():
                if cluster.SANITIZER_MARK in line or "runtime error:" in line:
                    problems.append("%s: %s" % (a.name, line.strip()[:160]))
        try:
            self.kill_tasks()
        except cluster.WaitTimeout as e:
            problems.append(str(e))
        self.ctl.close()
        if exc_type is not None or problems:
            for a in self.agents:
                print("---- log of agent %s (%s) ----" % (a.name, a.addr))
                print("\n".join(a.log().splitlines()[-40:]))
        if os.environ.get("VARDE_KEEP"):
            print("agent files kept in %s" % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if problems and exc_type is None:
            raise AssertionError("; ".join(problems))
        return False


def running(ids):
    """A predicate: the tasks IDS all running with a pid."""
    return lambda ts: all(i in ts and ts[i]["state"] == "running" and
                          ts[i]["pid"] for i in ids)


def pids_of(ts):
    return {i: t["pid"] for i, t in ts.items()}


# ---------------------------------------------------------------------------
# the tests


def test_count_3_runs_3_processes_and_a_killed_one_restarts():
    with Env() as env:
        a = env.agent("edge-a")
        j = job("web", ["/bin/sleep", "1000"],
                env={"GREETING": "hei", "VARDE_SITE": "not-this"})
        env.ctl.set_tasks("edge-a", entries(j, 3))
        ids = ["web.0", "web.1", "web.2"]
        ts = a.wait_tasks(running(ids), 5.0, "3 tasks running")
        pids = pids_of(ts)
        assert len(set(pids.values())) == 3, pids
        for i, pid in pids.items():
            assert proc_alive(pid), (i, pid)
            with open("/proc/%d/cmdline" % pid, "rb") as f:
                assert f.read().split(b"\0")[:2] == [b"/bin/sleep", b"1000"]
            e = proc_env(pid)
            assert e["VARDE_TASK"] == i and e["VARDE_JOB"] == "web", e
            assert e["VARDE_SITE"] == "oslo-1", e
            assert e["VARDE_AGENT"] == "edge-a", e
            assert e["VARDE_CONTROLLER"] == env.ctl_addr, e
            assert e["GREETING"] == "hei", e
            assert os.getpgid(pid) == pid and os.getsid(pid) == pid
            assert os.readlink("/proc/%d/cwd" % pid) == os.path.join(
                a.data_dir, "tasks", i, "work")
        wait_until(lambda: all(
            env.ctl.reported("edge-a").get(i, {}).get("state") == "running"
            for i in ids), 3.0, "the heartbeats report 3 running tasks")

        os.kill(pids["web.1"], signal.SIGKILL)
        ts = a.wait_tasks(
            lambda ts: running(ids)(ts) and ts["web.1"]["restarts"] == 1,
            5.0, "web.1 restarted")
        assert ts["web.1"]["pid"] != pids["web.1"]
        assert ts["web.1"]["exit_code"] == 137, ts["web.1"]
        assert ts["web.1"]["signal"] == 9, ts["web.1"]
        assert ts["web.0"]["pid"] == pids["web.0"]
        assert ts["web.2"]["restarts"] == 0
        assert "task web.1 killed by signal 9" in a.log()
        st = a.status()
        assert abs(st["cpu_free"] - 3.7) < 1e-6, st["cpu_free"]
        assert st["memory_free_mb"] == 4096 - 3 * 32, st
        note("cgroups: %s" % ("on" if st["cgroups"] else
                              st["cgroups_reason"]))


def test_missing_command_fails_after_the_policy_without_a_crash_loop():
    with Env() as env:
        a = env.agent("edge-a")
        j = job("ghost", ["/nonexistent/bin/ghost", "--x"],
                restart={"attempts": 2, "interval": "1m", "delay": "200ms"})
        env.ctl.set_tasks("edge-a", entries(j))
        ts = a.wait_tasks(lambda ts: ts.get("ghost.0", {}).get("state") ==
                          "failed", 5.0, "ghost.0 failed")
        t = ts["ghost.0"]
        assert t["restarts"] == 2, t
        assert t["exit_code"] == 127, t
        assert "No such file or directory" in t["message"], t
        assert "/nonexistent/bin/ghost" in t["message"], t
        time.sleep(0.6)  # three restart delays: nothing more may start
        assert a.metric("varde_agent_task_starts_total") == 3
        with open(os.path.join(a.data_dir, "tasks", "ghost.0",
                               "output.log")) as f:
            out = f.read()
        assert out.count("cannot execute") == 3, out
        wait_until(lambda: env.ctl.reported("edge-a").get("ghost.0", {})
                   .get("state") == "failed", 2.0, "ghost.0 reported failed")
        rep = env.ctl.reported("edge-a")["ghost.0"]
        assert "No such file" in rep["message"], rep
        assert a.log().count("gave up") == 1


def test_stop_ends_the_whole_process_group():
    with Env() as env:
        a = env.agent("edge-a")
        fam = job("fam", ["/bin/sh", "-c", "sleep 1000 & sleep 1000 & wait"])
        deaf = job("deaf", ["/bin/sh", "-c", "trap '' TERM; sleep 1000"],
                   kill_timeout="300ms")
        keep = job("keep", ["/bin/sleep", "1000"])
        env.ctl.set_tasks("edge-a", entries(fam) + entries(deaf) +
                          entries(keep))
        ts = a.wait_tasks(running(["fam.0", "deaf.0", "keep.0"]), 5.0,
                          "three tasks running")
        fam_pid, deaf_pid = ts["fam.0"]["pid"], ts["deaf.0"]["pid"]
        wait_until(lambda: len(group_members(fam_pid)) == 3, 3.0,
                   "fam.0's shell and its two sleeps")
        wait_until(lambda: len(group_members(deaf_pid)) == 2, 3.0,
                   "deaf.0's shell and its sleep")

        # gone from the answer: stopped, then forgotten
        env.ctl.set_tasks("edge-a", entries(deaf) + entries(keep))
        wait_until(lambda: not group_members(fam_pid), 3.0,
                   "every process of fam.0's group gone")
        a.wait_tasks(lambda ts: "fam.0" not in ts, 3.0, "fam.0 forgotten")
        assert not os.path.exists(os.path.join(a.data_dir, "tasks", "fam.0"))

        # stop: true, and SIGTERM ignored: SIGKILL after the kill timeout
        t0 = time.monotonic()
        env.ctl.set_tasks("edge-a", entries(deaf, stop=True) + entries(keep))
        ts = a.wait_tasks(lambda ts: ts["deaf.0"]["state"] == "stopped", 3.0,
                          "deaf.0 stopped")
        took = time.monotonic() - t0
        assert not group_members(deaf_pid)
        assert ts["deaf.0"]["exit_code"] == 137, ts["deaf.0"]
        assert took >= 0.3, took
        assert "SIGKILL to process group %d" % deaf_pid in a.log()
        wait_until(lambda: env.ctl.reported("edge-a").get("deaf.0", {})
                   .get("state") == "stopped", 2.0, "deaf.0 reported stopped")

        # a new job_version restarts it with the new spec
        keep_pid = ts["keep.0"]["pid"]
        keep2 = job("keep", ["/bin/sleep", "999"], version=2)
        env.ctl.set_tasks("edge-a", entries(deaf, stop=True) +
                          entries(keep2))
        ts = a.wait_tasks(lambda ts: ts["keep.0"]["job_version"] == 2 and
                          running(["keep.0"])(ts), 5.0, "keep.0 version 2")
        assert ts["keep.0"]["pid"] != keep_pid and not proc_alive(keep_pid)
        with open("/proc/%d/cmdline" % ts["keep.0"]["pid"], "rb") as f:
            assert b"999" in f.read()
        assert ts["keep.0"]["restarts"] == 0
        assert ts["deaf.0"]["state"] == "stopped"


def test_restarted_agent_adopts_its_tasks():
    with Env() as env:
        a = env.agent("edge-a")
        j = job("svc", ["/bin/sleep", "1000"])
        ids = ["svc.0", "svc.1"]
        env.ctl.set_tasks("edge-a", entries(j, 2))
        pids = pids_of(a.wait_tasks(running(ids), 5.0, "2 running"))

        a.kill()
        assert all(proc_alive(p) for p in pids.values())
        a.start()
        ts = a.wait_tasks(running(ids), 3.0,
                          "tasks running after the agent's restart")
        assert pids_of(ts) == pids, (ts, pids)
        assert all(ts[i]["restarts"] == 0 for i in ts), ts
        assert a.log().count("adopted: pid") == 2
        wait_until(lambda: a.status()["watch_index"] > 0, 3.0,
                   "a reconcile with the controller")
        assert pids_of(a.tasks()) == pids
        assert sorted(env.task_pids()) == sorted(pids.values())

        # an adopted process that dies is noticed and restarted
        os.kill(pids["svc.0"], signal.SIGKILL)
        ts = a.wait_tasks(lambda ts: ts["svc.0"]["restarts"] == 1 and
                          running(["svc.0"])(ts), 5.0,
                          "adopted svc.0 restarted")
        assert ts["svc.0"]["pid"] != pids["svc.0"]

        # SIGTERM: the agent exits 0, its tasks keep running
        pids = pids_of(ts)
        assert a.terminate() == 0
        assert "2 task processes keep running" in a.log()
        assert all(proc_alive(p) for p in pids.values())
        a.start()
        a.wait_tasks(lambda ts: pids_of(ts) == pids and running(ids)(ts),
                     3.0, "adopted again after SIGTERM")

        # a task that exits while no agent runs is handled on the start
        a.kill()
        os.kill(pids["svc.1"], signal.SIGKILL)
        wait_until(lambda: not proc_alive(pids["svc.1"]), 2.0, "svc.1 gone")
        a.start()
        ts = a.wait_tasks(lambda ts: ts["svc.1"]["restarts"] == 1 and
                          running(["svc.1"])(ts), 5.0, "svc.1 restarted")
        assert ts["svc.0"]["pid"] == pids["svc.0"]
        assert len(env.task_pids()) == 2


def test_output_is_rotated_within_the_bound():
    bound = 64 * 1024
    with Env() as env:
        a = env.agent("edge-a", extra=("--log-max-bytes", str(bound)))
        # about 200 KB/s: ~100 KB between two checks of the agent
        writer = ("import sys, time\n"
                  "n = 0\n"
                  "while True:\n"
                  "    n += 1\n"
                  "    sys.stdout.write('%08d ' % n + 'x' * 990 + '\\n')\n"
                  "    sys.stdout.flush()\n"
                  "    time.sleep(0.005)\n")
        j = job("chatty", ["/usr/bin/python3", "-c", writer])
        env.ctl.set_tasks("edge-a", entries(j))
        a.wait_tasks(running(["chatty.0"]), 5.0, "chatty.0 running")
        d = os.path.join(a.data_dir, "tasks", "chatty.0")
        cur_max = old_max = 0
        end = time.monotonic() + 3.0
        while time.monotonic() < end:
            for name in ("output.log", "output.log.1"):
                try:
                    size = os.path.getsize(os.path.join(d, name))
                except OSError:
                    size = 0
                if name == "output.log":
                    cur_max = max(cur_max, size)
                else:
                    old_max = max(old_max, size)
            time.sleep(0.02)
        st, h, body = a.get("/v1/tasks/chatty.0/logs")
        start, stop = int(h["X-Varde-Log-Start"]), int(h["X-Varde-Log-End"])
        assert st == 200
        assert start > 0, h
        assert stop - start == len(body), (start, stop, len(body))
        assert stop > 4 * bound, stop  # it wrote far more than is kept
        assert old_max <= bound, old_max
        # output.log may pass the bound by what half a second brings
        assert cur_max <= bound + 150 * 1024, cur_max
        lines = body.decode().splitlines()
        nums = [int(line[:8]) for line in lines[1:-1]]
        assert nums == sorted(nums), "kept output out of order"
        assert a.metric("varde_agent_log_rotations_total") >= 3
        note("output.log peaked at %d bytes, output.log.1 at %d (bound %d)"
             % (cur_max, old_max, bound))


def test_logs_endpoint_reads_pages_and_follows():
    with Env() as env:
        a = env.agent("edge-a")
        quiet = job("quiet", ["/bin/sh", "-c",
                              "for i in 1 2 3; do echo line $i; done; "
                              "echo oops >&2; exec sleep 1000"])
        talk = job("talk", ["/bin/sh", "-c",
                            "for i in 1 2 3 4 5 6; do echo tick $i; "
                            "sleep 0.2; done"], type="batch")
        env.ctl.set_tasks("edge-a", entries(quiet))
        a.wait_tasks(running(["quiet.0"]), 5.0, "quiet.0 running")

        def logs(q=""):
            return a.get("/v1/tasks/quiet.0/logs" + q)

        wait_until(lambda: logs()[2].endswith(b"oops\n"), 3.0,
                   "quiet.0's output")
        st, h, body = logs()
        assert body == b"line 1\nline 2\nline 3\noops\n", body
        assert (h["X-Varde-Log-Start"], h["X-Varde-Log-End"]) == ("0", "26")
        assert logs("?offset=-5")[2] == b"oops\n"
        assert logs("?offset=7")[2] == b"line 2\nline 3\noops\n"
        assert logs("?offset=99")[2] == b""
        assert logs("?offset=-99")[2] == body
        st, _, err = logs("?stream=stdout")
        assert st == 400 and b"interleaved" in err, (st, err)
        assert logs("?offset=x")[0] == 400
        assert logs("?bogus=1")[0] == 400
        st, _, err = a.get("/v1/tasks/nope.0/logs")
        assert st == 404 and b"no task nope.0" in err, (st, err)
        assert a.get("/v1/tasks/Bad!/logs")[0] == 400
        assert a.get("/v1/tasks/quiet.0/lags")[0] == 404

        # follow a batch task to its end: chunked, ends when it is complete
        env.ctl.set_tasks("edge-a", entries(quiet) + entries(talk))
        a.wait_tasks(lambda ts: "talk.0" in ts, 3.0, "talk.0 known")
        t0 = time.monotonic()
        conn = http.client.HTTPConnection(HOST, a.port, timeout=10)
        conn.request("GET", "/v1/tasks/talk.0/logs?follow=1")
        resp = conn.getresponse()
        assert resp.status == 200
        assert resp.getheader("Transfer-Encoding") == "chunked"
        got = resp.read()
        conn.close()
        took = time.monotonic() - t0
        want = b"".join(b"tick %d\n" % i for i in range(1, 7))
        assert got == want, got
        assert took < 5.0, took
        t = a.tasks()["talk.0"]
        assert t["state"] == "complete", t
        assert t["restarts"] == 0 and t["exit_code"] == 0, t

        # a follower that hangs up is dropped, the agent carries on
        s = socket.create_connection((HOST, a.port))
        s.sendall(b"GET /v1/tasks/quiet.0/logs?follow=1 HTTP/1.1\r\n"
                  b"Host: x\r\n\r\n")
        assert b"200 OK" in s.recv(4096)
        s.close()
        time.sleep(0.6)  # two polls of the follows
        assert a.status() is not None


def test_bad_requests_get_a_4xx_and_the_agent_carries_on():
    with Env() as env:
        a = env.agent("edge-a")
        cases = [
            (b"POST /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 0"
             b"\r\n\r\n", 405),
            (b"GET /v1/nothing HTTP/1.1\r\nHost: x\r\n\r\n", 404),
            (b"GET /v1/status HTTP/1.1\r\nHost: x\r\nContent-Length: 500"
             b"\r\n\r\n" + b"x" * 500, 413),
            (b"GET /v1/tasks/" + b"a" * 200 + b"/logs HTTP/1.1\r\n"
             b"Host: x\r\n\r\n", 404),
            (b"GET /v1/tasks/a%2F..%2Fb/logs HTTP/1.1\r\nHost: x\r\n\r\n",
             400),
            (b"GET /v1/tasks/x.0/logs?offset=1&offset=%ff HTTP/1.1\r\n"
             b"Host: x\r\n\r\n", 404),
        ]
        for data, want in cases:
            st, body = cluster.raw_exchange(HOST, a.port, data)
            assert st == want, (data[:60], st, body)
            if st != 405:
                assert b'"error"' in body, (data[:60], body)
        for junk in (b"\x00\x01garbage\r\n\r\n", b"GET\r\n\r\n",
                     b"GET / HTTP/1.1\r\n" + b"X: " + b"y" * 20000 +
                     b"\r\n\r\n"):
            cluster.raw_exchange(HOST, a.port, junk)
        assert a.status()["name"] == "edge-a"
        assert a.proc.poll() is None


def test_second_agent_with_the_same_name_gets_409():
    with Env() as env:
        a = env.agent("edge-a")
        wait_until(lambda: a.status()["connected"], 3.0, "edge-a connected")
        b = env.agent("edge-a")
        wait_until(lambda: "refuses agent edge-a" in b.log(), 3.0,
                   "the second agent says why it is refused")
        line = [x for x in b.log().splitlines() if "refuses agent" in x][0]
        assert "409: agent name edge-a is taken by %s" % a.addr in line, line
        assert "another agent holds the name" in line, line
        assert "ERROR" in line, line
        wait_until(lambda: b.metric("varde_agent_register_conflicts_total")
                   >= 3, 5.0, "the second agent retrying")
        assert b.status()["connected"] is False
        assert b.log().count("refuses agent") == 1  # retried quietly
        assert b.proc.poll() is None
        assert a.status()["connected"] is True

        # the first one goes: the name is free after the controller's TTL
        a.kill()
        wait_until(lambda: b.status()["connected"], 10.0,
                   "the second agent registered once the name is free")
        assert "(the name is free now)" in b.log()


def test_tasks_outlive_the_controller_and_reconcile_when_it_returns():
    with Env() as env:
        a = env.agent("edge-a")
        j = job("svc", ["/bin/sleep", "1000"])
        other = job("other", ["/bin/sleep", "1000"])
        env.ctl.set_tasks("edge-a", entries(j, 2))
        pids = pids_of(a.wait_tasks(running(["svc.0", "svc.1"]), 5.0,
                                    "2 running"))

        port = env.ctl.port
        env.ctl.close()
        wait_until(lambda: not a.status()["connected"], 3.0,
                   "the agent notices the controller is gone")
        time.sleep(1.0)  # several heartbeats' time without a controller
        ts = a.tasks()
        assert pids_of(ts) == pids
        assert all(t["state"] == "running" for t in ts.values())
        assert "tasks keep running" in a.log()

        # back, without its registry, and now wanting svc.0 and other.0
        env.ctl = ScriptedController(port=port)
        env.ctl.set_tasks("edge-a", entries(j, 1) + entries(other))
        ts = a.wait_tasks(lambda ts: running(["svc.0", "other.0"])(ts) and
                          "svc.1" not in ts, 10.0,
                          "reconciled with the returned controller")
        assert ts["svc.0"]["pid"] == pids["svc.0"]
        assert not proc_alive(pids["svc.1"])
        assert a.status()["connected"]
        assert env.ctl.registers("edge-a") >= 1
        assert "controller found again" in a.log()

        # the controller forgets the agent: a 404, and it registers again
        env.ctl.forget("edge-a")
        wait_until(lambda: env.ctl.registers("edge-a") == 1 and
                   "answered 404" in a.log(), 3.0,
                   "the agent registered again after a 404")
        assert "register agent edge-a again" in a.log()
        assert pids_of(a.tasks())["svc.0"] == pids["svc.0"]


def test_token_is_sent_to_the_controller_and_asked_of_clients():
    token = "agent-test-token-0123456789abcdef"
    with Env(token=token) as env:
        path = os.path.join(env.tmp, "token")
        with open(path, "w") as f:
            f.write(token + "\n")
        os.chmod(path, 0o600)
        a = env.agent("edge-a", extra=("--token-file", path), token=token)
        env.ctl.set_tasks("edge-a", entries(job("web", ["/bin/sleep",
                                                        "1000"])))
        wait_until(lambda: env.ctl.reported("edge-a").get("web.0", {})
                   .get("state") == "running", 5.0,
                   "web.0 reported running through the token")
        auth = {"Authorization": "Bearer " + token}
        for path_ in ("/v1/status", "/metrics", "/v1/tasks/web.0/logs"):
            st, _, body = cluster.http_request(HOST, a.port, "GET", path_)
            assert st == 401, (path_, st, body)
            st, _, body = cluster.http_request(HOST, a.port, "GET", path_,
                                               headers=auth)
            assert st == 200, (path_, st, body)
        assert "no --token-file" not in a.log()

        b = env.agent("edge-b")  # without the token
        wait_until(lambda: "the access token is missing or wrong" in b.log(),
                   3.0, "edge-b says the controller wants a token")
        assert "no --token-file" in b.log()


def test_agent_memory_idle_and_with_50_tasks():
    with Env() as env:
        a = env.agent("edge-a")
        wait_until(lambda: a.status()["connected"], 3.0, "connected")
        idle = rss_kib(a.proc.pid)
        j = job("many", ["/bin/sleep", "1000"], count=50)
        env.ctl.set_tasks("edge-a", entries(j, 50))
        ids = ["many.%d" % i for i in range(50)]
        t0 = time.monotonic()
        a.wait_tasks(running(ids), 10.0, "50 tasks running")
        took = time.monotonic() - t0
        busy = rss_kib(a.proc.pid)
        assert len(env.task_pids()) == 50
        note("agent VmRSS idle %d KiB, with 50 tasks %d KiB; 50 started "
             "in %.2fs" % (idle, busy, took))
        env.ctl.set_tasks("edge-a", [])
        a.wait_tasks(lambda ts: not ts, 10.0, "every task stopped")
        assert not env.task_pids()


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in sorted(globals())
                             if n.startswith("test_")]
    for n in names:
        t0 = time.monotonic()
        globals()[n]()
        print("PASS %s (%.1fs)" % (n, time.monotonic() - t0))
