"""test_task_cli.py - `varde task logs` and `varde task ls`, through the
real binary against a real 3-node cluster and a fake controller (a Python
HTTP server that serves a controller's GET /v1/tasks/ID/logs, plain or
chunked, and whose followed answer waits for the test between chunks):
logs relayed through a follower byte for byte, with an offset; --follow
printing the first chunk before the last is even sent; the controller
asked directly, also after a dead node in the --addr list; an unknown
task, a pending task and a dead controller, each in one line with exit 1;
`varde task ls` and its filters; help and usage errors.

Sites are registered the way a controller does it (POST
/v1/sites/NAME/register on the leader) with the fake controller's address,
and the tasks' states are reported the same way.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_task_cli.py [NAME...]
"""

import http.server
import json
import os
import re
import select
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import VARDE, Cluster, note  # noqa: E402
import clitool  # noqa: E402
from clitool import failed, ok, one_line  # noqa: E402

TASK_COLUMNS = ["TASK", "SITE", "AGENT", "STATE", "PID", "RESTARTS"]
SITE_TTL_MS = 60000  # registered sites stay connected without heartbeats
# Every byte value, lines with CRLF and without a last newline: what a
# task may write.
OUTPUT = bytes(range(256)) + b"\r\nline two\nno newline at the end"
CHUNKS = [b"first chunk\n", b"\x00second\xff\n", b"third and last\n"]
# More than the client keeps of an answer it does not stream (16 MiB).
HUGE = bytes(range(251)) * (20 * 1024 * 1024 // 251)
SERVER_WAIT_S = 10.0


def varde(*args, env=None, timeout=30):
    """Run varde ARGS; return (exit status, stdout bytes, stderr text)."""
    return clitool.varde(*args, env=env, stdin=b"", timeout=timeout,
                         text=False)


def task(*args, **kw):
    return varde("task", *args, **kw)


def free_addr():
    return "127.0.0.1:%d" % cluster.pick_ports(["127.0.0.1"])[0]


def answer(node, method, path, body=None):
    """(status, parsed JSON or None) of a request sent to NODE directly."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    st, _, data = node.request(method, path, body, timeout=5.0)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, None


def table(out, first):
    """The table in OUT (text) whose header starts with FIRST: (header,
    rows as dicts by column name). Columns are two spaces or more apart."""
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(first + " "):
            head = re.split(r" {2,}", line.strip())
            rows = []
            for row in lines[i + 1:]:
                if not row.strip():
                    break
                cells = re.split(r" {2,}", row.strip())
                assert len(cells) <= len(head), "row %r of %r" % (row, head)
                rows.append(dict(zip(head, cells)))
            return head, rows
    raise AssertionError("no table starting with %r in:\n%s" % (first, out))


class FakeController:
    """A controller's logs endpoint. GET /v1/tasks/ID/logs answers
    self.tasks[ID] (from ?offset, negative from the end) with a
    Content-Length; with ?follow=1 the CHUNKS, chunked, waiting up to
    self.hold_s for self.go between the first and the rest (the test sets
    it; if not, the answer stops there, cut short), and setting
    self.first_sent / self.last_sent. Another ID is a 404 as a controller
    answers it. Every path asked is in self.paths."""

    def __init__(self, tasks):
        self.tasks = tasks
        self.paths = []
        self.hold_s = SERVER_WAIT_S
        self.go = threading.Event()
        self.first_sent = threading.Event()
        self.last_sent = threading.Event()
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                fake.paths.append(self.path)
                path, _, query = self.path.partition("?")
                parts = path.split("/")
                params = dict(p.partition("=")[::2]
                              for p in query.split("&") if p)
                if len(parts) != 5 or parts[:3] != ["", "v1", "tasks"] or \
                        parts[4] != "logs":
                    self.reply(404, {"error": "no such path"})
                elif parts[3] not in fake.tasks:
                    self.reply(404, {"error": "no task \"%s\"" % parts[3]})
                elif params.get("follow") == "1":
                    self.follow()
                else:
                    off = int(params.get("offset", "0"))
                    self.plain(fake.tasks[parts[3]][off:])

            def reply(self, status, doc):
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def plain(self, data):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("X-Varde-Log-Start", "0")
                self.send_header("X-Varde-Log-End", str(len(data)))
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def chunk(self, data):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
                self.wfile.flush()

            def follow(self):
                self.send_response(200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.chunk(CHUNKS[0])
                fake.first_sent.set()
                if not fake.go.wait(fake.hold_s):
                    self.close_connection = True  # cut short
                    return
                for c in CHUNKS[1:]:
                    self.chunk(c)
                fake.last_sent.set()
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                      Handler)
        self.server.daemon_threads = True
        self.addr = "127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       daemon=True)
        self.thread.start()
        self.closed = False

    def close(self):
        if not self.closed:
            self.closed = True
            self.go.set()
            self.server.shutdown()
            self.server.server_close()


def need_fleet_api(node):
    """Skip unless NODE serves /v1/jobs."""
    st, doc = answer(node, "GET", "/v1/jobs?stale")
    error = (doc or {}).get("error", "")
    if st == 404 and error.startswith("no such path"):
        raise cluster.Skip("no fleet API on the nodes yet: GET /v1/jobs "
                           "answered 404 %r" % error)


def start():
    """A 3-node cluster with a leader. Returns (cluster, leader id)."""
    c = Cluster(3, extra_args=["--site-ttl", str(SITE_TTL_MS)])
    try:
        lead, _ = c.wait_leader(5.0)
        need_fleet_api(c[lead])
    except BaseException as e:
        c.teardown(failed=not isinstance(e, cluster.Skip))
        raise
    return c, lead


def on_leader(c, method, path, body, what):
    """Send a request to whoever leads now, until it answers 200."""
    def done():
        lead = c.leader()
        if lead is None:
            return None
        try:
            st, doc = answer(c[lead], method, path, body)
        except OSError:
            return None
        return doc if st == 200 else None
    return c.wait_until(done, 10.0, what)


def register(c, name, controller, cpu=4.0):
    on_leader(c, "POST", "/v1/sites/%s/register" % name,
              {"labels": {}, "cpu": cpu, "memory_mb": 8192,
               "controller": controller}, "site %s registered" % name)


def submit(c, jid, count, **extra):
    spec = {"id": jid, "command": ["/bin/sleep", "1000"], "count": count,
            "resources": {"cpu": 0.1, "memory_mb": 32}}
    spec.update(extra)
    on_leader(c, "POST", "/v1/jobs", spec, "job %s submitted" % jid)


def tasks_everywhere(c, want):
    """Wait until every node holds the tasks of WANT ({id: site, None for
    pending}), each placed as said; return the tasks as the leader has
    them."""
    def placed():
        got = None
        for i in c.ids():
            st, doc = answer(c[i], "GET", "/v1/tasks?stale")
            if st != 200:
                return None
            where = {t["id"]: t["site"] for t in doc["tasks"]}
            if where != want:
                return None
            got = doc["tasks"]
        return got
    return c.wait_until(placed, 10.0, "tasks placed on every node: %r" % want)


def followers(c, lead):
    return [c[i] for i in c.ids() if i != lead]


# ---------------------------------------------------------------------------
# without a server


def test_task_help_and_usage_errors():
    rc, out, err = task("--help")
    assert rc == 0 and out.startswith(b"usage: varde task logs ID"), out
    for sub in ("logs", "ls"):
        for how in ([sub, "--help"], [sub, "-h"]):
            rc, out, err = task(*how)
            assert rc == 0, "task %s: exit %d" % (" ".join(how), rc)
            assert out.startswith(b"usage: varde task " + sub.encode()), out
    rc, out, err = varde("help", "task")
    assert rc == 0 and out.startswith(b"usage: varde task"), (rc, out)
    rc, out, err = varde("--help")
    assert rc == 0 and re.search(rb"\n  task +list tasks and show their "
                                 rb"output\n", out), out

    addr = free_addr()
    for args, says in [((), "usage: varde task"),
                       (("frob",), "unknown command 'frob'"),
                       (("logs",), "needs ID"),
                       (("logs", ""), "needs ID"),
                       (("logs", "a.0", "b.0"), "unexpected argument 'b.0'"),
                       (("ls", "extra"), "unexpected argument 'extra'"),
                       (("logs", "a.0", "--offset"), "--offset needs a value"),
                       (("logs", "a.0", "--offset", "abc"),
                        "--offset: expected a whole number"),
                       (("logs", "a.0", "--offset", "1.5"),
                        "--offset: expected a whole number"),
                       (("logs", "a.0", "--offset", "-"),
                        "--offset: expected a whole number"),
                       (("logs", "a.0", "--offset", "1" * 19),
                        "--offset: expected a whole number"),
                       (("logs", "a.0", "--json"),
                        "--json is not an option of task logs"),
                       (("logs", "a.0", "--job", "x"),
                        "--job is not an option of task logs"),
                       (("ls", "--follow"),
                        "--follow is not an option of task ls"),
                       (("ls", "-f"), "--follow is not an option of task ls"),
                       (("ls", "--offset", "3"),
                        "--offset is not an option of task ls"),
                       (("ls", "--job", ""), "--job needs a value"),
                       (("ls", "--site"), "--site needs a value"),
                       (("ls", "--bogus"), "unknown option '--bogus'"),
                       (("logs", "a.0", "--addr", "nocolon"),
                        "bad address 'nocolon'"),
                       (("ls", "--addr", "%s,:1" % addr), "bad address ':1'"),
                       (("ls", "--addr", ""), "bad address")]:
        rc, out, err = task(*args, env={"VARDE_ADDR": addr})
        assert rc == 2, "task %s: exit %d (expected 2), stderr %r" % (
            " ".join(args), rc, err)
        assert out == b"", "task %s: stdout %r" % (" ".join(args), out)
        if args:
            line = one_line(err)
            assert says in line, "task %s said %r" % (" ".join(args), line)
        else:
            assert says in err, err


def test_task_with_no_server_says_so_in_one_line():
    addr, other = free_addr(), free_addr()
    for args in (("logs", "a.0"), ("logs", "a.0", "--follow"), ("ls",)):
        t0 = time.monotonic()
        rc, out, err = task(*args, "--addr", addr)
        line = failed(rc, out, err, "task %s" % args[0])
        assert line.startswith("varde: cannot connect to %s: connection "
                               "refused" % addr), line
        assert time.monotonic() - t0 < 2.0, "took %.1fs" % (
            time.monotonic() - t0)
        rc, out, err = task(*args, env={"VARDE_ADDR": "%s,%s" % (addr,
                                                                 other)})
        line = failed(rc, out, err, "task %s, two dead nodes" % args[0])
        assert line.startswith("varde: no node answered: "), line
        assert addr in line and other in line, line


def test_task_logs_says_no_task_for_an_id_that_cannot_be_one():
    rc, out, err = task("logs", "x" * 200, "--addr", free_addr())
    line = failed(rc, out, err, "a 200-byte id")
    assert line.startswith('varde: no task "xxxx') and \
        "JOB.INDEX" in line, line


# ---------------------------------------------------------------------------
# against a cluster and a fake controller


def read_until(proc, want, deadline):
    """Read PROC's stdout until it has WANT bytes or the deadline; return
    what came."""
    got = b""
    fd = proc.stdout.fileno()
    while len(got) < len(want) and time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            data = os.read(fd, 65536)
            if not data:
                break
            got += data
    return got


def follow_while_the_test_holds_the_rest(fake, addr):
    """`varde task logs logger.0 --follow --addr ADDR`: the first chunk
    must be on stdout while the fake controller still holds the others.
    Returns (ms from start to the first chunk on stdout)."""
    fake.go.clear()
    fake.first_sent.clear()
    fake.last_sent.clear()
    e = dict(os.environ)
    e.pop("VARDE_ADDR", None)
    t0 = time.monotonic()
    p = subprocess.Popen([VARDE, "task", "logs", "logger.0", "--follow",
                          "--addr", addr], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=e)
    try:
        first = read_until(p, CHUNKS[0], time.monotonic() + SERVER_WAIT_S)
        ms = (time.monotonic() - t0) * 1000
        assert first == CHUNKS[0], "first chunk: %r" % first
        assert not fake.last_sent.is_set(), "the last chunk went already"
        assert p.poll() is None, "varde ended before the answer did"
        fake.go.set()
        out, err = p.communicate(timeout=SERVER_WAIT_S)
    finally:
        if p.poll() is None:
            p.kill()
            p.communicate()
    assert p.returncode == 0, (p.returncode, err)
    assert err == b"", err
    assert first + out == b"".join(CHUNKS), first + out
    return ms


def test_task_logs_through_any_node_and_from_the_controller():
    c, lead = start()
    fake = FakeController({"logger.0": OUTPUT, "huge.0": HUGE})
    with c:
        try:
            f1, f2 = followers(c, lead)
            register(c, "oslo-1", fake.addr)
            submit(c, "logger", 1)
            submit(c, "huge", 1)
            submit(c, "big", 1, resources={"cpu": 64, "memory_mb": 32})
            tasks_everywhere(c, {"logger.0": "oslo-1", "huge.0": "oslo-1",
                                 "big.0": None})

            # plain, through a follower and through the leader ($VARDE_ADDR)
            rc, out, err = task("logs", "logger.0", "--addr", f1.addr)
            assert ok(rc, out, err, "logs via a follower") == OUTPUT, out
            rc, out, err = task("logs", "logger.0",
                                env={"VARDE_ADDR": c[lead].addr})
            assert ok(rc, out, err, "logs via the leader") == OUTPUT, out

            # more than an answer kept whole may be
            t0 = time.monotonic()
            rc, out, err = task("logs", "huge.0", "--addr", f1.addr)
            huge_s = time.monotonic() - t0
            assert ok(rc, out, err, "20 MiB of logs") == HUGE, len(out)

            # an offset passes through, negative ones too
            for off, want in (("-10", OUTPUT[-10:]), ("250", OUTPUT[250:]),
                              ("0", OUTPUT)):
                fake.paths.clear()
                rc, out, err = task("logs", "logger.0", "--offset", off,
                                    "--addr", f2.addr)
                assert ok(rc, out, err, "--offset %s" % off) == want, out
                assert fake.paths == ["/v1/tasks/logger.0/logs?offset=%s"
                                      % off], fake.paths

            # --follow prints each chunk as it comes
            ms = follow_while_the_test_holds_the_rest(fake, f1.addr)
            assert any("follow=1" in p for p in fake.paths), fake.paths

            # the controller directly, also after a dead address
            rc, out, err = task("logs", "logger.0", "--addr", fake.addr)
            assert ok(rc, out, err, "logs from the controller") == OUTPUT
            rc, out, err = task("logs", "logger.0", "--addr",
                                "%s,%s" % (free_addr(), fake.addr))
            assert ok(rc, out, err, "a dead node, then the controller") == \
                OUTPUT
            follow_while_the_test_holds_the_rest(fake, fake.addr)

            # an answer that breaks off after some output: said, exit 1
            fake.go.clear()
            fake.hold_s = 0.2
            rc, out, err = task("logs", "logger.0", "--follow", "--addr",
                                fake.addr)
            fake.hold_s = SERVER_WAIT_S
            assert rc == 1 and out == CHUNKS[0], (rc, out, err)
            line = one_line(err)
            assert line.startswith("varde: the output broke off after %d "
                                   "bytes: " % len(CHUNKS[0])) and \
                "cut short" in line, line

            # an unknown task: from a node, and from the controller
            for addr in (f2.addr, fake.addr):
                rc, out, err = task("logs", "nothing.0", "--addr", addr)
                line = failed(rc, out, err, "an unknown task via %s" % addr)
                assert line == 'varde: no task "nothing.0"', line
            rc, out, err = task("logs", "bad/id%20", "--addr", f2.addr)
            line = failed(rc, out, err, "an id with a slash")
            assert line == 'varde: no task "bad/id%20"', line

            # a pending task runs nowhere: no logs
            rc, out, err = task("logs", "big.0", "--addr", f1.addr)
            line = failed(rc, out, err, "a pending task")
            assert line == "varde: task big.0 is pending: it runs nowhere " \
                "yet", line

            # with the raft cluster down, the controller still answers
            for i in c.ids():
                c[i].kill()
            rc, out, err = task("logs", "logger.0", "--offset", "-5",
                                "--addr", fake.addr)
            assert ok(rc, out, err, "cluster down") == OUTPUT[-5:], out
            note("logs byte for byte through followers, the leader and the "
                 "controller; 20 MiB through a follower in %.2f s; first "
                 "followed chunk on stdout after %.0f ms, before the rest was "
                 "sent" % (huge_s, ms))
        finally:
            fake.close()


def test_task_logs_when_the_controller_is_dead_names_it():
    c, lead = start()
    fake = FakeController({"logger.0": OUTPUT})
    with c:
        try:
            f1, _ = followers(c, lead)
            register(c, "oslo-1", fake.addr)
            submit(c, "logger", 1)
            tasks_everywhere(c, {"logger.0": "oslo-1"})
            rc, out, err = task("logs", "logger.0", "--addr", f1.addr)
            assert ok(rc, out, err, "logs while alive") == OUTPUT
            fake.close()
            for extra in ((), ("--follow",)):
                rc, out, err = task("logs", "logger.0", "--addr", f1.addr,
                                    *extra)
                line = failed(rc, out, err, "a dead controller")
                assert line.startswith("varde: the site's controller did not "
                                       "answer"), line
                assert line.endswith("ask it directly: varde task logs "
                                     "logger.0 --addr %s" % fake.addr), line
                assert f1.addr in line, line
            note("502 from a dead controller: %r" % line)
        finally:
            fake.close()


def test_task_ls_lists_and_filters():
    c, lead = start()
    with c:
        f1, f2 = followers(c, lead)
        rc, out, err = task("ls", "--addr", f1.addr)
        assert ok(rc, out, err, "ls of nothing") == b"no tasks\n", out
        register(c, "oslo-1", "127.0.0.1:1")
        register(c, "bergen-2", "127.0.0.1:2")
        submit(c, "web", 2, sites=["oslo-1"])
        submit(c, "db", 1, sites=["bergen-2"])
        submit(c, "big", 1, resources={"cpu": 64, "memory_mb": 32})
        tasks_everywhere(c, {"web.0": "oslo-1", "web.1": "oslo-1",
                             "db.0": "bergen-2", "big.0": None})
        on_leader(c, "POST", "/v1/sites/oslo-1/reports",
                  {"seq": 1, "tasks": [
                      {"id": "web.0", "state": "running", "agent": "oslo-1-a",
                       "pid": 4242, "restarts": 3},
                      {"id": "web.1", "state": "failed", "agent": "oslo-1-b",
                       "exit_code": 2}]},
                  "report from oslo-1")
        # the failed task gets a stand-in
        tasks_everywhere(c, {"web.0": "oslo-1", "web.1": "oslo-1",
                             "web.2": "oslo-1", "db.0": "bergen-2",
                             "big.0": None})

        rc, out, err = task("ls", "--addr", f2.addr)
        head, rows = table(ok(rc, out, err, "ls").decode(), "TASK")
        assert head == TASK_COLUMNS, head
        by_id = {r["TASK"]: r for r in rows}
        assert sorted(by_id) == ["big.0", "db.0", "web.0", "web.1",
                                 "web.2"], out
        assert by_id["web.0"] == {"TASK": "web.0", "SITE": "oslo-1",
                                  "AGENT": "oslo-1-a", "STATE": "running",
                                  "PID": "4242", "RESTARTS": "3"}, by_id
        assert by_id["web.1"]["STATE"] == "failed, exit 2", by_id
        assert by_id["big.0"]["SITE"] == "-" and \
            by_id["big.0"]["STATE"] == "pending", by_id
        assert by_id["db.0"]["AGENT"] == "-" and \
            by_id["db.0"]["PID"] == "-", by_id

        web = ["web.0", "web.1", "web.2"]
        for args, want in [(("--job", "web"), web),
                           (("--site", "bergen-2"), ["db.0"]),
                           (("--job", "web", "--site", "oslo-1"), web),
                           (("--job", "db", "--site", "oslo-1"), None),
                           (("--job", "nothing"), None),
                           (("--stale", "--site", "oslo-1"), web)]:
            rc, out, err = task("ls", *args, "--addr", f1.addr)
            text = ok(rc, out, err, "ls %s" % " ".join(args)).decode()
            if want is None:
                assert text == "no tasks\n", (args, text)
                continue
            _, rows = table(text, "TASK")
            assert sorted(r["TASK"] for r in rows) == want, (args, text)

        rc, out, err = task("ls", "--json", "--site", "oslo-1", "--addr",
                            f2.addr)
        doc = json.loads(ok(rc, out, err, "ls --json"))
        assert isinstance(doc["index"], int), doc
        assert sorted(t["id"] for t in doc["tasks"]) == web, doc
        assert {t["pid"] for t in doc["tasks"]} == {4242, None}, doc
        note("task ls: %d tasks, filtered by job, site and both"
             % len(by_id))


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("PASS", name)
