"""daemons.py - what the cluster tests of controllers and agents share:
a call on a fresh connection, a `varde controller` or `varde agent`
process started and restarted with its data dir and log, the checks of
their teardown, and the task processes a test marked in their
environment.

    st, body = call(host, port, "GET", "/v1/status", token=token)
    ctl = MyController(tmp, "ctl", host, port)   # a Proc with its args()
    finish_teardown(c, procs, stop_procs(procs), failed)

test_site.py, test_controller.py, test_status.py and fleet.py (the
end-to-end tests' fleet) build their daemons and teardowns from it.

Python 3 standard library only.
"""

import http.client
import json
import os
import signal
import subprocess
import sys
import time

import cluster
from cluster import JsonClient


def call(host, port, method, path, body=None, token=None, timeout=10.0):
    """One request on a fresh connection: (status, JSON or raw bytes).
    Raises OSError (and http.client errors) when nobody answers."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    headers = {"Authorization": "Bearer " + token} if token else None
    st, _, data = cluster.http_request(host, port, method, path, body,
                                       headers, timeout=timeout)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, data


def poll_call(*args, **kw):
    """call() for a predicate polled until it holds: a node or daemon not
    listening yet is (None, None), not an error."""
    try:
        return call(*args, **kw)
    except (OSError, http.client.HTTPException):
        return None, None


class Proc:
    """A daemon of a test (started and restarted any number of times),
    its data dir and log in the test's temporary directory TMP, named
    NAME. A subclass says its command line in args(); LABEL names it in
    teardown messages."""

    def __init__(self, tmp, name, host, port, label=None):
        self.name = name
        self.label = label or name
        self.host, self.port = host, port
        self.data_dir = os.path.join(tmp, name)
        self.log_path = os.path.join(tmp, name + ".log")
        self.proc = None
        self.expect_exit = False
        self.exits = []  # (pid, returncode, expected) of past processes
        self.client = JsonClient(host, port)

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def args(self):
        raise NotImplementedError

    def start(self):
        if self.alive():
            raise RuntimeError("%s is already running" % self.name)
        self._reap()
        with open(self.log_path, "ab") as log:
            log.write(("=== start: %s\n" % " ".join(self.args())).encode())
            log.flush()
            self.proc = subprocess.Popen(
                self.args(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=cluster._die_with_parent)
        self.expect_exit = False
        self.client.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """kill -9 and reap."""
        if self.alive():
            self.expect_exit = True
            self.proc.kill()
        if self.proc is not None:
            self.proc.wait(timeout=5)
        self.client.close()

    def terminate(self, timeout=5.0):
        """SIGTERM; the exit status."""
        self.expect_exit = True
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)

    def status(self):
        """GET /v1/status as a dict, or None."""
        return self.client.get() if self.alive() else None

    def metric(self, name):
        """The value of metric NAME in GET /metrics."""
        st, data = call(self.host, self.port, "GET", "/metrics")
        assert st == 200, st
        for line in data.decode().splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
        raise AssertionError("no metric %s" % name)

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace")
        except OSError:
            return ""

    def _reap(self):
        if self.proc is not None and self.proc.poll() is not None:
            self.exits.append((self.proc.pid, self.proc.returncode,
                               self.expect_exit))
            self.proc = None


def stop_procs(procs):
    """Kill every daemon of PROCS; the problems found, as lines: one that
    exited without being asked to, a log that holds a sanitizer report."""
    problems = []
    for p in procs:
        if p.alive():
            p.kill()
        p._reap()
        for pid, rc, expected in p.exits:
            if not expected:
                problems.append("%s (pid %d) exited by itself with status %s"
                                % (p.label, pid, rc))
        text = p.log_text()
        if cluster.SANITIZER_MARK in text or "runtime error:" in text:
            problems.append("%s log shows a sanitizer report" % p.label)
    return problems


def print_log_tails(procs, lines=40):
    """The last LINES lines of each daemon's log, on stderr."""
    for p in procs:
        tail = p.log_text().splitlines()[-lines:]
        print("--- %s log (%s), last %d lines" % (p.label, p.log_path,
                                                   len(tail)),
              file=sys.stderr)
        for line in tail:
            print("    " + line, file=sys.stderr)


def finish_teardown(c, procs, problems, failed):
    """The end of a teardown, once PROCS are stopped: PROBLEMS (lines)
    printed, the daemons' log tails when the test FAILED or there are
    problems, the raft cluster C torn down; AssertionError when there are
    problems."""
    for line in problems:
        print("teardown: " + line, file=sys.stderr)
    if failed or problems:
        print_log_tails(procs)
    c.teardown(failed=failed or bool(problems))
    if problems:
        raise AssertionError("teardown: " + "; ".join(problems))


def marked_processes(mark):
    """{pid: task id} of the live processes whose environment holds
    VARDE_TEST_MARK=MARK (a test's tasks, whoever started them)."""
    found = {}
    want = ("VARDE_TEST_MARK=" + mark).encode()
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/environ" % d, "rb") as f:
                env = f.read().split(b"\0")
            with open("/proc/%s/stat" % d, "rb") as f:
                zombie = f.read().rsplit(b")", 1)[1].split()[0] == b"Z"
        except (OSError, IndexError):
            continue
        if want in env and not zombie:
            task = [e[len(b"VARDE_TASK="):].decode() for e in env
                    if e.startswith(b"VARDE_TASK=")]
            found[int(d)] = task[0] if task else "?"
    return found


def kill_marked(mark, timeout=5.0):
    """SIGKILL every process marked MARK, and its process group, until
    none is left or TIMEOUT seconds passed; what is left, {pid: task id}."""
    deadline = time.monotonic() + timeout
    while marked_processes(mark) and time.monotonic() < deadline:
        for pid in marked_processes(mark):
            try:
                os.killpg(os.getpgid(pid), signal.SIGKILL)
            except OSError:
                pass
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
    return marked_processes(mark)


class Group:
    """The daemons of one test, torn down together when its `with` block
    ends: a subclass's teardown(failed) stops them and raises
    AssertionError for what it finds; a test that failed (not skipped)
    keeps its own error, the teardown's findings only printed."""

    def teardown(self, failed=False):
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        failed = exc_type is not None and not issubclass(exc_type,
                                                         cluster.Skip)
        try:
            self.teardown(failed=failed)
        except AssertionError:
            if not failed:
                raise
        return False
