"""test_job_cli.py - `varde job run|ls|status|stop` and the fleet part of
`varde status`, through the real binary against a real 3-node cluster:
jobs submitted, listed, inspected and stopped through any node, a job
file's faults passed on from the server in one line with exit 1 and the
state unchanged, a job that is not there, the address as a comma list,
sites and jobs in `varde status` (stale while there is no leader), and a
node without the fleet API.

Sites are registered the way a controller does it (POST
/v1/sites/NAME/register on the leader), since a job pinned to a site the
cluster does not know is refused.

The tests that need the fleet API skip, naming the reason, when the nodes
answer 404 "no such path" for /v1/jobs (a build without it).

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_job_cli.py [NAME...]
"""

import http.server
import json
import os
import re
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note  # noqa: E402
import clitool  # noqa: E402
from clitool import failed, ok, one_line, varde  # noqa: E402

EXAMPLES = os.path.join(cluster.ROOT, "examples", "jobs")
SENSOR = os.path.join(EXAMPLES, "sensor-average.json")
MAX_JOB = 512 * 1024
RETRY_S = 5.0  # how long the CLI retries a 503 with Retry-After
JOB_COLUMNS = ["ID", "TYPE", "VERSION", "DESIRED", "PENDING", "PLACED",
               "RUNNING", "DONE", "FAILED", "UNKNOWN"]
TASK_COLUMNS = ["TASK", "SITE", "AGENT", "STATE", "PID", "RESTARTS"]
SITE_COLUMNS = ["SITE / AGENT", "STATUS", "TASKS", "CPU FREE", "MEMORY FREE",
                "LAST HEARTBEAT"]
STATUS_JOB_COLUMNS = ["JOB", "TYPE", "DESIRED", "RUNNING", "PENDING", "DONE",
                      "FAILED", "UNKNOWN"]
# Long enough that a site registered by a test (which sends no heartbeats)
# stays connected for the whole test.
SITE_TTL_MS = 60000


def job(*args, **kw):
    return varde("job", *args, **kw)


def free_addr():
    return "127.0.0.1:%d" % cluster.pick_ports(["127.0.0.1"])[0]


def answer(node, method, path, body=None):
    """(status, parsed JSON or None) of a request sent to NODE directly."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body)
    st, _, data = node.request(method, path, body)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, None


def need_fleet_api(node):
    """Skip unless NODE serves /v1/jobs."""
    st, doc = answer(node, "GET", "/v1/jobs?stale")
    error = (doc or {}).get("error", "")
    if st == 404 and error.startswith("no such path"):
        raise cluster.Skip("no fleet API on the nodes yet: GET /v1/jobs "
                           "answered 404 %r" % error)


def start():
    """A 3-node cluster with a leader and the fleet API. Returns
    (cluster, leader id)."""
    c = Cluster(3, extra_args=["--site-ttl", str(SITE_TTL_MS)])
    try:
        lead, _ = c.wait_leader(5.0)
        need_fleet_api(c[lead])
    except BaseException as e:
        c.teardown(failed=not isinstance(e, cluster.Skip))
        raise
    return c, lead


def followers(c, lead):
    return [c[i] for i in c.ids() if i != lead]


def register(c, name, labels=None, cpu=4.0, memory_mb=8192):
    """Register site NAME as its controller would, on the leader (which may
    change: ask whoever leads now). Waits for the 200."""
    body = {"labels": labels or {}, "cpu": cpu, "memory_mb": memory_mb,
            "controller": "127.0.0.1:7201"}

    def done():
        lead = c.leader()
        if lead is None:
            return False
        st, doc = answer(c[lead], "POST", "/v1/sites/%s/register" % name,
                         body)
        return st == 200 and doc
    c.wait_until(done, 5.0, "site %s registered" % name)


def register_sensor_sites(c):
    for name in ("oslo-1", "bergen-2"):
        register(c, name, labels={"camera": "yes"})


def table(out, first):
    """The table in OUT whose header starts with FIRST: (header, rows as
    dicts by column name). Columns are two spaces or more apart; a cell
    may hold single spaces ("64/8192 MiB")."""
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


def jobs_now(node):
    """What a submit can change, as the leader knows it through NODE: each
    job's id and version, and its spec."""
    st, doc = answer(node, "GET", "/v1/jobs")
    assert st == 200, (st, doc)
    specs = []
    for j in doc["jobs"]:
        st, one = answer(node, "GET", "/v1/jobs/" + j["id"])
        assert st == 200, (st, one)
        specs.append((j["id"], j["version"], one["job"]))
    return specs


def write_job(tmp, name, doc):
    path = os.path.join(tmp, name)
    with open(path, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    return path


# ---------------------------------------------------------------------------
# without a server


def test_job_help_and_usage_errors():
    rc, out, err = job("--help")
    assert rc == 0 and out.startswith("usage: varde job run FILE"), (out, err)
    for sub in ("run", "ls", "status", "stop"):
        for how in ([sub, "--help"], [sub, "-h"]):
            rc, out, err = job(*how)
            assert rc == 0, "job %s: exit %d" % (" ".join(how), rc)
            assert out.startswith("usage: varde job " + sub), out
    rc, out, err = varde("help", "job")
    assert rc == 0 and out.startswith("usage: varde job"), (rc, out)

    addr = free_addr()
    for args, says in [((), "usage: varde job"),
                       (("frob",), "unknown command 'frob'"),
                       (("run",), "needs FILE"),
                       (("status",), "needs ID"),
                       (("stop",), "needs ID"),
                       (("status", ""), "needs ID"),
                       (("ls", "extra"), "unexpected argument 'extra'"),
                       (("stop", "a", "b"), "unexpected argument 'b'"),
                       (("run", "f.json", "--stale"), "--stale is not an"),
                       (("stop", "x", "--stale"), "--stale is not an"),
                       (("ls", "--bogus"), "unknown option '--bogus'"),
                       (("ls", "--addr"), "--addr needs a value"),
                       (("ls", "--addr", "nocolon"),
                        "bad address 'nocolon'"),
                       (("ls", "--addr", "%s,:1" % addr),
                        "bad address ':1'"),
                       (("ls", "--addr", ""), "bad address")]:
        rc, out, err = job(*args, env={"VARDE_ADDR": addr})
        assert rc == 2, "job %s: exit %d (expected 2), stderr %r" % (
            " ".join(args), rc, err)
        assert out == "", "job %s: stdout %r" % (" ".join(args), out)
        if args:
            line = one_line(err)
            assert says in line, "job %s said %r" % (" ".join(args), line)
        else:
            assert says in err, err


def test_job_with_no_server_says_so_in_one_line():
    addr, other = free_addr(), free_addr()
    for args in (("ls",), ("status", "x"), ("stop", "x"), ("run", SENSOR)):
        t0 = time.monotonic()
        rc, out, err = job(*args, "--addr", addr)
        line = failed(rc, out, err, "job %s" % args[0])
        assert line.startswith("varde: cannot connect to %s: connection "
                               "refused" % addr), line
        assert time.monotonic() - t0 < 2.0, "took %.1fs" % (
            time.monotonic() - t0)
        rc, out, err = job(*args, env={"VARDE_ADDR": "%s,%s" % (addr, other)})
        line = failed(rc, out, err, "job %s with two dead nodes" % args[0])
        assert line.startswith("varde: no node answered: "), line
        assert addr in line and other in line, line


def test_job_run_reads_files_with_a_bound():
    addr = free_addr()  # nothing there: these fail before sending
    rc, out, err = job("run", "-", "--addr", addr,
                       stdin=b" " * (MAX_JOB + 1))
    line = failed(rc, out, err, "a job of 512 KiB + 1 on stdin")
    assert line == ("varde: stdin: larger than 524288 bytes (512 KiB), the "
                    "most a job file can be"), line
    rc, out, err = job("run", "/no/such/file.json", "--addr", addr)
    line = failed(rc, out, err, "a missing file")
    assert line.startswith("varde: cannot open /no/such/file.json: "), line
    rc, out, err = job("run", EXAMPLES, "--addr", addr)
    line = failed(rc, out, err, "a directory")
    assert line.startswith("varde: cannot read %s: " % EXAMPLES), line


# ---------------------------------------------------------------------------
# against a cluster


def test_job_run_ls_status_stop_through_followers():
    c, lead = start()
    with c:
        f1, f2 = followers(c, lead)
        register_sensor_sites(c)

        rc, out, err = job("run", SENSOR, "--addr", f1.addr)
        assert ok(rc, out, err, "run") == \
            "job sensor-average: version 1 (changed)\n", out
        rc, out, err = job("run", "-", "--addr", f2.addr,
                           stdin=open(SENSOR, "rb").read())
        assert ok(rc, out, err, "run again from stdin") == \
            "job sensor-average: version 1 (unchanged)\n", out
        spec = json.load(open(SENSOR))
        spec["count"] = 2
        rc, out, err = job("run", "-", "--addr", f1.addr,
                           stdin=json.dumps(spec).encode())
        assert ok(rc, out, err, "run a change") == \
            "job sensor-average: version 2 (changed)\n", out

        for nd in c.nodes.values():
            rc, out, err = job("ls", "--addr", nd.addr)
            head, rows = table(ok(rc, out, err, "ls on %d" % nd.id), "ID")
            assert head == JOB_COLUMNS, head
            assert [r["ID"] for r in rows] == ["sensor-average"], out
            row = rows[0]
            assert (row["TYPE"], row["VERSION"], row["DESIRED"]) == \
                ("service", "2", "2"), row
            tasks = sum(int(row[k]) for k in JOB_COLUMNS[4:])
            assert tasks == 2, "tasks in %r" % row

        rc, out, err = job("ls", "--json", "--addr", f2.addr)
        doc = json.loads(ok(rc, out, err, "ls --json"))
        assert [j["id"] for j in doc["jobs"]] == ["sensor-average"], doc
        assert doc["jobs"][0]["version"] == 2, doc
        assert isinstance(doc["index"], int), doc

        c.wait_until(lambda: all(
            t["state"] == "placed" for t in answer(
                c[lead], "GET", "/v1/tasks?job=sensor-average")[1]["tasks"]),
            5.0, "both tasks placed")
        rc, out, err = job("status", "sensor-average", "--addr", f2.addr)
        out = ok(rc, out, err, "status")
        lines = out.splitlines()
        assert lines[0] == "job sensor-average: service, version 2", out
        assert any(l.startswith("  command      /usr/bin/python3 -u -c '# A "
                                "sensor reader") and l.endswith("...")
                   for l in lines), out
        assert "  sites        oslo-1, bergen-2" in lines, out
        assert "  when silent  move tasks after 30s" in lines, out
        head, rows = table(out, "TASK")
        assert head == TASK_COLUMNS, head
        # count 4 -> 2: two tasks go, once their site reports them stopped
        states = sorted((r["TASK"], r["STATE"]) for r in rows)
        assert [st for _, st in states] == \
            ["placed"] * 2 + ["placed, stopping"] * 2, out
        for r in rows:
            assert r["SITE"] in ("oslo-1", "bergen-2"), r
            assert (r["AGENT"], r["PID"], r["RESTARTS"]) == ("-", "-", "0"), r
        assert "why tasks are pending" not in out, out

        rc, out, err = job("status", "sensor-average", "--json", "--addr",
                           f1.addr)
        doc = json.loads(ok(rc, out, err, "status --json"))
        assert doc["job"]["id"] == "sensor-average", doc
        assert doc["job"]["resources"]["cpu"] == 0.1, doc["job"]
        assert len([t for t in doc["tasks"] if not t["stop"]]) == 2, doc

        rc, out, err = job("stop", "sensor-average", "--addr", f1.addr)
        out = ok(rc, out, err, "stop")
        assert re.fullmatch(r"job sensor-average: stopped \(index \d+\)\n",
                            out), out
        for args in (("status", "sensor-average"), ("stop", "sensor-average")):
            for nd in c.nodes.values():
                rc, out, err = job(*args, "--addr", nd.addr)
                line = failed(rc, out, err, "%s after stop" % args[0])
                assert line == 'varde: no job "sensor-average"', line
        rc, out, err = job("ls", "--addr", f2.addr)
        assert ok(rc, out, err, "ls after stop") == "no jobs\n", out


def test_job_without_sites_waits_with_a_reason():
    c, lead = start()
    with c:
        f1 = followers(c, lead)[0]
        rc, out, err = job("run", "-", "--addr", f1.addr, stdin=json.dumps(
            {"id": "hello", "command": ["/bin/echo", "hi there"],
             "count": 2}).encode())
        assert ok(rc, out, err, "run") == "job hello: version 1 (changed)\n"

        def says_why():
            rc, out, err = job("status", "hello", "--addr", f1.addr)
            return rc == 0 and "why tasks are pending:" in out and out
        out = c.wait_until(says_why, 5.0, "a note on the pending tasks")
        assert "  command      /bin/echo 'hi there'" in out, out
        head, rows = table(out, "TASK")
        assert [(r["TASK"], r["SITE"], r["STATE"]) for r in rows] == \
            [("hello.0", "-", "pending"), ("hello.1", "-", "pending")], out
        why = out.split("why tasks are pending:\n", 1)[1].splitlines()
        assert len(why) == 1 and why[0].startswith("  hello.0, hello.1: "), \
            why
        note("pending: %s" % why[0].strip())

        rc, out, err = job("ls", "--addr", c[lead].addr)
        _, rows = table(ok(rc, out, err, "ls"), "ID")
        assert (rows[0]["PENDING"], rows[0]["PLACED"]) == ("2", "0"), rows


def test_bad_job_files_give_one_line_and_change_nothing():
    c, lead = start()
    with c:
        f1, f2 = followers(c, lead)
        register(c, "oslo-1")
        good = {"id": "steady", "command": ["/bin/true"], "sites": ["oslo-1"]}
        rc, out, err = job("run", "-", "--addr", f1.addr,
                           stdin=json.dumps(good).encode())
        ok(rc, out, err, "a good job first")
        before = jobs_now(c[lead])
        base = {"id": "steady", "command": ["/bin/true"]}

        bad = [
            ("wrong-type.json", dict(base, count="4"),
             "count: expected an integer, got a string"),
            ("unknown-field.json", dict(base, cuont=3),
             'unknown field "cuont"'),
            ("negative-count.json", dict(base, count=-3),
             "count: must be 1..10000, got -3"),
            ("empty-command.json", dict(base, command=[]),
             "command: must not be empty"),
            ("empty-program.json", dict(base, command=[""]),
             "command[0]: the program must not be empty"),
            ("unknown-site.json", dict(base, sites=["oslo-1", "tromso-9"]),
             'sites[1]: no site named "tromso-9"'),
            ("command-string.json", dict(base, command="/bin/true"),
             "command: expected an array of strings, got a string"),
            ("not-json.json", '{"id": "steady",', "invalid JSON at line 1"),
            ("empty.json", "", "invalid JSON"),
        ]
        tmp = c.tmp
        for name, doc, says in bad:
            path = write_job(tmp, name, doc)
            text = open(path, "rb").read()
            st, server = answer(c[lead], "POST", "/v1/jobs", text)
            assert st == 400, "%s: the server answered %d %r" % (name, st,
                                                                 server)
            for nd in (f1, f2, c[lead]):
                rc, out, err = job("run", path, "--addr", nd.addr)
                line = failed(rc, out, err, "%s via node %d" % (name, nd.id))
                assert line == "varde: %s: %s" % (path, server["error"]), \
                    "%r, server said %r" % (line, server["error"])
                assert says in line, "%s: %r lacks %r" % (name, line, says)
            rc, out, err = job("run", "-", "--addr", f2.addr, stdin=text)
            line = failed(rc, out, err, "%s from stdin" % name)
            assert line == "varde: stdin: " + server["error"], line
        assert jobs_now(c[lead]) == before, "a refused file changed the jobs"
        rc, out, err = job("status", "steady", "--addr", f2.addr)
        assert "job steady: service, version 1" in ok(rc, out, err, "status")

        path = write_job(tmp, "huge.json", dict(base, env={
            "V%d" % i: "x" * 4096 for i in range(128)}))
        rc, out, err = job("run", path, "--addr", f1.addr)
        line = failed(rc, out, err, "a file over 512 KiB")
        assert "larger than 524288 bytes" in line, line
        assert jobs_now(c[lead]) == before


def test_job_status_of_a_job_that_is_not_there():
    c, lead = start()
    with c:
        for nd in c.nodes.values():
            for name in ("Has Space", "../v1/status", "x" * 200, "%00"):
                rc, out, err = job("status", name, "--addr", nd.addr)
                line = failed(rc, out, err, "status %r" % name[:20])
                assert line.startswith("varde: "), line
            rc, out, err = job("status", "nope", "--addr", nd.addr)
            line = failed(rc, out, err, "status nope")
            assert line == 'varde: no job "nope"', line


def test_job_takes_a_comma_list_and_skips_a_dead_node():
    c, lead = start()
    with c:
        f1 = followers(c, lead)[0]
        dead = free_addr()
        rc, out, err = job("run", "-", "--addr", "%s,%s" % (dead, f1.addr),
                           stdin=b'{"id": "listed", "command": ["/bin/true"]}')
        assert ok(rc, out, err, "run via a list") == \
            "job listed: version 1 (changed)\n"
        rc, out, err = job("ls", env={"VARDE_ADDR": "%s, %s" % (dead,
                                                                c[lead].addr)})
        _, rows = table(ok(rc, out, err, "ls via VARDE_ADDR"), "ID")
        assert [r["ID"] for r in rows] == ["listed"], rows
        rc, out, err = job("ls", "--addr", f1.addr,
                           env={"VARDE_ADDR": dead})
        ok(rc, out, err, "--addr over VARDE_ADDR")


def test_status_shows_sites_and_jobs():
    c, lead = start()
    with c:
        f1 = followers(c, lead)[0]
        register_sensor_sites(c)
        rc, out, err = job("run", SENSOR, "--addr", f1.addr)
        ok(rc, out, err, "run")
        c.wait_until(lambda: all(
            s["tasks"] == 2 for s in
            answer(c[lead], "GET", "/v1/sites")[1]["sites"]),
            5.0, "two tasks on each site")

        rc, out, err = varde("status", "--addr", f1.addr)
        out = ok(rc, out, err, "status")
        assert "leader: %d" % lead in out, out
        head, sites = table(out, "SITE")
        assert head == SITE_COLUMNS, head
        assert sorted(s["SITE / AGENT"] for s in sites) == \
            ["bergen-2", "oslo-1"], out  # no agents: nothing under them
        for s in sites:
            assert (s["STATUS"], s["TASKS"], s["CPU FREE"],
                    s["MEMORY FREE"]) == \
                ("connected", "2", "3.8/4", "8128/8192 MiB"), s
            assert re.fullmatch(r"[0-9.]+(ms|s|m) ago", s["LAST HEARTBEAT"]), s
        head, jobs = table(out, "JOB")
        assert head == STATUS_JOB_COLUMNS, head
        assert jobs == [{"JOB": "sensor-average", "TYPE": "service",
                         "DESIRED": "4", "RUNNING": "0", "PENDING": "4",
                         "DONE": "0", "FAILED": "0", "UNKNOWN": "0"}], jobs
        assert "stale" not in out and "agents:" not in out, out
        assert "\033[" not in out, out

        rc, out, err = varde("status", "--json",
                             env={"VARDE_ADDR": c[lead].addr})
        doc = json.loads(ok(rc, out, err, "status --json"))
        assert doc["leader"] == lead, doc
        assert [m["id"] for m in doc["members"]] == [1, 2, 3], doc
        assert sorted(s["name"] for s in doc["sites"]) == \
            ["bergen-2", "oslo-1"], doc
        assert [j["id"] for j in doc["jobs"]] == ["sensor-average"], doc
        assert all(s["agents"] == [] for s in doc["sites"]), doc
        for key in ("fleet_stale", "fleet_error", "agents_error"):
            assert key not in doc, doc


@cluster.timeout(40)
def test_status_without_a_leader_shows_the_nodes_own_view():
    c, lead = start()
    with c:
        f1, f2 = followers(c, lead)
        register(c, "oslo-1")
        rc, out, err = job("run", "-", "--addr", f1.addr,
                           stdin=b'{"id": "kept", "command": ["/bin/true"]}')
        ok(rc, out, err, "run")
        c.wait_until(lambda: answer(f2, "GET", "/v1/jobs?stale")[1]["jobs"],
                     5.0, "the job on node %d" % f2.id)
        c[lead].kill()
        f1.kill()

        def stale():
            rc, out, err = varde("status", "--addr", f2.addr)
            return rc == 0 and "(stale: " in out and out
        out = c.wait_until(stale, 10.0, "status to fall back to ?stale")
        assert "sites and jobs as %s knows them" % f2.addr in out, out
        assert "agents: unknown (only the leader knows them)" in out, out
        _, sites = table(out, "SITE")
        assert [(s["SITE / AGENT"], s["LAST HEARTBEAT"]) for s in sites] == \
            [("oslo-1", "-")], sites  # only the leader knows heartbeats
        _, jobs = table(out, "JOB")
        assert [j["JOB"] for j in jobs] == ["kept"], out
        rc, out, err = varde("status", "--json", "--addr", f2.addr)
        doc = json.loads(ok(rc, out, err, "status --json"))
        assert doc["fleet_stale"] is True and doc["jobs"][0]["id"] == "kept"
        assert "agents" not in doc["sites"][0] and doc["agents_error"], doc

        t0 = time.monotonic()
        rc, out, err = job("ls", "--addr", f2.addr)
        took = time.monotonic() - t0
        line = failed(rc, out, err, "ls without a leader")
        assert "tries in" in line, line
        assert took <= RETRY_S + 3, "gave up after %.1fs" % took
        rc, out, err = job("ls", "--stale", "--addr", f2.addr)
        _, rows = table(ok(rc, out, err, "ls --stale"), "ID")
        assert [r["ID"] for r in rows] == ["kept"], rows


# ---------------------------------------------------------------------------
# a node from before the fleet API


class OldNode(http.server.BaseHTTPRequestHandler):
    """Answers /v1/status as a lone leader and 404 "no such path" to the
    rest, like a node built before jobs."""

    def do_GET(self):
        addr = "%s:%d" % self.server.server_address
        if self.path == "/v1/status":
            body = {"id": 1, "role": "leader", "term": 4, "leader": 1,
                    "commit_index": 9, "applied_index": 9,
                    "peers": {"1": {"addr": addr, "leader": True}}}
            self.reply(200, body)
        else:
            self.reply(404, {"error": "no such path: %s" %
                             self.path.split("?")[0]})

    do_POST = do_DELETE = do_GET

    def reply(self, status, doc):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_against_a_node_without_the_fleet_api():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), OldNode)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    addr = "127.0.0.1:%d" % srv.server_address[1]
    try:
        rc, out, err = varde("status", "--addr", addr)
        out = ok(rc, out, err, "status")
        assert out.endswith("leader: 1 (term 4)\n\nsites and jobs: not "
                            "served by %s (a node without the fleet API)\n"
                            % addr), out
        assert "SITE" not in out and "JOB" not in out, out
        rc, out, err = varde("status", "--json", "--addr", addr)
        doc = json.loads(ok(rc, out, err, "status --json"))
        assert doc["leader"] == 1, doc
        for key in ("sites", "jobs", "fleet_error", "fleet_stale"):
            assert key not in doc, doc
        for args in (("ls",), ("status", "x"), ("stop", "x"),
                     ("run", SENSOR)):
            rc, out, err = job(*args, "--addr", addr)
            line = failed(rc, out, err, "job %s" % args[0])
            assert line.startswith("varde: %s has no jobs API" % addr), line
    finally:
        srv.shutdown()
        srv.server_close()


if __name__ == "__main__":
    sys.exit(clitool.main(globals(), sys.argv))
