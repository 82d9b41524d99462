"""test_status.py - `varde status` as one screen of the whole fleet, through
the real binary against real raft nodes:

- two sites of two agents each (the agents in the sites' heartbeats, as a
  controller sends them) and three jobs: the members with their lag, each
  site with its agents under it in name order, the jobs' counts as the
  cluster gives them, every line within 80 columns, no colour on a pipe;
  on a terminal, colour and box-drawing lines with a UTF-8 locale, ASCII
  lines without one, no colour with NO_COLOR; --json with each member's lag
  and each site's agents;
- a follower cut off from the leader shows how many entries it lags, and
  none once the cut is healed;
- a site gone silent shows its agents as it last reported them;
- an empty fleet; a node that serves sites and jobs but not /v1/agents, or
  fails it;
- real controllers and agents: two sites of two agents running a job of 4,
  and an agent killed shows down under its site.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_status.py [NAME...]
"""

import http.server
import json
import os
import pty
import re
import select
import subprocess
import sys
import threading
import time
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import VARDE, Cluster, note  # noqa: E402
from test_job_cli import (STATUS_JOB_COLUMNS, SITE_COLUMNS,  # noqa: E402
                          answer, need_fleet_api, ok, register, table, varde)
from daemons import Proc, kill_marked  # noqa: E402
import clitool  # noqa: E402
from test_site import Agent  # noqa: E402

SITES = {"oslo-1": ["oslo-1-b", "oslo-1-a"],  # out of order on purpose
         "bergen-2": ["bergen-2-a", "bergen-2-b"]}
DOWN = "oslo-1-b"
JOBS = [{"id": "sensor-average", "count": 4, "command": ["/bin/true"],
         "resources": {"cpu": 0.1, "memory_mb": 32}},
        {"id": "node-exporter", "type": "system", "command": ["/bin/true"]},
        {"id": "nightly-report", "type": "batch", "command": ["/bin/true"]}]
WIDTH = 80
ANSI = re.compile(r"\033\[[0-9;]*m")
MEMBER_ROW = re.compile(r"^([* ])\s+(\d+)\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)"
                        r"\s+(\S+)$")
AGO = re.compile(r"[0-9.]+(ms|s|m) ago")


# ---------------------------------------------------------------------------
# helpers


def start(ttl_ms=60000, **kw):
    """A 3-node cluster with a leader and the fleet API: (cluster, lead)."""
    c = Cluster(3, extra_args=["--site-ttl", str(ttl_ms)], **kw)
    try:
        lead, _ = c.wait_leader(5.0)
        need_fleet_api(c[lead])
    except BaseException as e:
        c.teardown(failed=not isinstance(e, cluster.Skip))
        raise
    return c, lead


def agent_doc(name, status="up", tasks=1, heard_ms=200):
    """An agent as a controller's GET /v1/agents shows it."""
    return {"name": name, "addr": "127.0.0.1:7301", "status": status,
            "labels": {}, "cpu": 2.0, "memory_mb": 2048,
            "cpu_free": 2.0 - 0.1 * tasks,
            "memory_free_mb": 2048 - 32 * tasks, "tasks": tasks,
            "last_heartbeat_ms": heard_ms}


def heartbeat(c, site, agents):
    """Send SITE's heartbeat with AGENTS to whoever leads now."""
    def done():
        lead = c.leader()
        if lead is None:
            return False
        st, doc = answer(c[lead], "POST", "/v1/sites/%s/heartbeat" % site,
                         {"agents": agents})
        return st == 200 and doc
    c.wait_until(done, 5.0, "heartbeat of %s" % site)


def fake_sites(c):
    """Register SITES, and heartbeat each with its agents (DOWN down)."""
    for site, names in SITES.items():
        register(c, site)
        heartbeat(c, site, [agent_doc(n, "down", 0, 9000) if n == DOWN
                            else agent_doc(n) for n in names])


def members(out):
    """{id: (leader mark, addr, role, term, commit, lag)} from the text."""
    rows = {}
    for line in out.splitlines():
        m = MEMBER_ROW.match(line)
        if m:
            rows[int(m.group(2))] = (m.group(1) == "*",) + m.groups()[2:]
    return rows


def tree(rows):
    """{site: (site row, [agent rows])} from the rows of the SITE table, in
    their order; an agent's row gets "name" (its name without the line
    before it) and "last" (drawn as the last under its site)."""
    sites, current = {}, None
    for r in rows:
        cell = r["SITE / AGENT"]
        if cell[:3] in ("|- ", "`- "):
            assert current is not None, rows
            r = dict(r, name=cell[3:], last=cell.startswith("`"))
            sites[current][1].append(r)
        else:
            current = cell
            sites[cell] = (r, [])
    return sites


def cores(x):
    """Cores as varde prints them: at most 3 decimals, no trailing zeros."""
    return ("%.3f" % x).rstrip("0").rstrip(".")


def widest(out):
    """The longest line of OUT in columns (its code points, no colour)."""
    return max(len(ANSI.sub("", line)) for line in out.splitlines())


def varde_tty(*args, env=None, timeout=20.0):
    """Run varde ARGS with a terminal as stdout; (exit status, output with
    \\r\\n made \\n). Only ENV's locale variables are set."""
    e = {k: v for k, v in os.environ.items()
         if k not in ("LANG", "LC_ALL", "LC_CTYPE", "NO_COLOR",
                      "VARDE_ADDR")}
    e.update(env or {})
    master, slave = pty.openpty()
    p = subprocess.Popen([VARDE] + list(args), stdin=subprocess.DEVNULL,
                         stdout=slave, stderr=subprocess.PIPE, env=e)
    os.close(slave)
    buf = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                if p.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the other end is closed
                break
            if not chunk:
                break
            buf += chunk
        rc = p.wait(timeout=max(0.1, deadline - time.monotonic()))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        p.stderr.close()
        os.close(master)
    return rc, buf.decode(errors="replace").replace("\r\n", "\n")


# ---------------------------------------------------------------------------
# a fleet from heartbeats


def test_status_shows_sites_with_their_agents_and_jobs_in_80_columns():
    c, lead = start()
    with c:
        fake_sites(c)
        for j in JOBS:
            st, doc = answer(c[lead], "POST", "/v1/jobs", j)
            assert st == 200, (st, doc)
        # 4 + one per site + 1, all placed: nothing moves after that
        c.wait_until(lambda: sum(
            s["tasks"] for s in
            answer(c[lead], "GET", "/v1/sites")[1]["sites"]) == 7,
            5.0, "every task placed")
        follower = [i for i in c.ids() if i != lead][0]

        rc, out, err = varde("status", "--addr", c[follower].addr)
        out = ok(rc, out, err, "status")
        note("varde status, 2 sites x 2 agents, 3 jobs:\n" + out.rstrip())
        assert widest(out) <= WIDTH, "wider than %d columns:\n%s" % (WIDTH,
                                                                    out)
        assert "\033[" not in out, "colour on a pipe"

        ms = members(out)
        assert sorted(ms) == [1, 2, 3], out
        for i, (star, addr, role, term, commit, lag) in ms.items():
            assert star == (i == lead) and addr == c[i].addr, out
            assert lag == "-" if i == lead else lag.isdigit(), out

        head, rows = table(out, "SITE")
        assert head == SITE_COLUMNS, head
        got = tree(rows)
        assert {s: [a["name"] for a in got[s][1]] for s in got} == \
            {s: sorted(n) for s, n in SITES.items()}, out
        sites = {s["name"]: s for s in
                 answer(c[lead], "GET", "/v1/sites")[1]["sites"]}
        for name, (row, agents) in got.items():
            s = sites[name]
            assert (row["STATUS"], row["TASKS"], row["CPU FREE"],
                    row["MEMORY FREE"]) == \
                ("connected", str(s["tasks"]),
                 "%s/%s" % (cores(s["cpu"] - s["cpu_used"]), cores(s["cpu"])),
                 "%d/%d MiB" % (s["memory_mb"] - s["memory_used_mb"],
                                s["memory_mb"])), (row, s)
            assert [a["last"] for a in agents] == [False, True], agents
            for a in agents:
                assert AGO.fullmatch(a["LAST HEARTBEAT"]), a
                if a["name"] == DOWN:
                    assert (a["STATUS"], a["TASKS"], a["CPU FREE"]) == \
                        ("down", "0", "2/2"), a
                else:
                    assert (a["STATUS"], a["TASKS"], a["CPU FREE"],
                            a["MEMORY FREE"]) == \
                        ("up", "1", "1.9/2", "2016/2048 MiB"), a

        head, rows = table(out, "JOB")
        assert head == STATUS_JOB_COLUMNS, head
        jobs = {j["id"]: j for j in
                answer(c[lead], "GET", "/v1/jobs")[1]["jobs"]}
        assert sorted(r["JOB"] for r in rows) == sorted(jobs), rows
        for r in rows:
            t = jobs[r["JOB"]]["tasks"]
            want = {"JOB": r["JOB"], "TYPE": jobs[r["JOB"]]["type"],
                    "DESIRED": {"sensor-average": "4", "node-exporter": "-",
                                "nightly-report": "1"}[r["JOB"]],
                    "RUNNING": str(t["running"]),
                    "PENDING": str(t["pending"] + t["placed"] +
                                   t["assigned"]),
                    "DONE": str(t["complete"]),
                    "FAILED": str(t["failed"] + t["lost"]),
                    "UNKNOWN": str(t["unknown"])}
            assert r == want, (r, want)

        rc, text, err = varde("status", "--json", "--addr", c[follower].addr)
        doc = json.loads(ok(rc, text, err, "status --json"))
        assert doc["leader"] == lead, doc
        for m in doc["members"]:
            assert isinstance(m["last_log_index"], int), m
            assert m["lag"] == 0 if m["id"] == lead else m["lag"] >= 0, m
        for s in doc["sites"]:
            assert [a["name"] for a in s["agents"]] == sorted(SITES[s["name"]])
            for a in s["agents"]:
                assert a["site"] == s["name"] and a["status"] == (
                    "down" if a["name"] == DOWN else "up"), a
        assert sorted(j["id"] for j in doc["jobs"]) == sorted(jobs), doc
        for key in ("fleet_stale", "fleet_error", "agents_error"):
            assert key not in doc, doc

        addr = c[follower].addr
        rc, out = varde_tty("status", "--addr", addr,
                            env={"LANG": "C.UTF-8"})
        assert rc == 0, out
        assert "\u251c\u2500 oslo-1-a" in ANSI.sub("", out), out
        assert "\u2514\u2500 oslo-1-b" in ANSI.sub("", out), out
        assert "\033[32mconnected" in out and "\033[31mdown" in out, out
        assert widest(out) <= WIDTH, out
        rc, out = varde_tty("status", "--addr", addr,
                            env={"LC_ALL": "en_US.UTF-8", "NO_COLOR": "1"})
        assert rc == 0 and "\033[" not in out, out
        assert "\u2514\u2500 bergen-2-b" in out, out
        rc, out = varde_tty("status", "--addr", addr, env={"LANG": "C"})
        assert rc == 0 and "`- oslo-1-b" in ANSI.sub("", out), out
        assert "\u2500" not in out and "\033[" in out, out


@cluster.timeout(40)
def test_status_shows_the_agents_of_a_silent_site_as_last_reported():
    c, lead = start(ttl_ms=1500)
    with c:
        register(c, "oslo-1")
        heartbeat(c, "oslo-1", [agent_doc("oslo-1-a"),
                                agent_doc("oslo-1-b", "down", 0, 4000)])

        def silent():
            st, doc = answer(c[lead], "GET", "/v1/sites")
            return st == 200 and doc["sites"][0]["status"] == "silent"
        c.wait_until(silent, 10.0, "oslo-1 silent")
        rc, out, err = varde("status", "--addr", c[lead].addr)
        _, rows = table(ok(rc, out, err, "status"), "SITE")
        (row, agents), = tree(rows).values()
        assert row["STATUS"] == "silent" and AGO.fullmatch(
            row["LAST HEARTBEAT"]), row
        assert [(a["name"], a["STATUS"]) for a in agents] == \
            [("oslo-1-a", "was up"), ("oslo-1-b", "was down")], agents
        # the controller's "4000 ms" plus the time since the leader heard
        secs = float(agents[1]["LAST HEARTBEAT"].split("s")[0])
        assert 5.5 <= secs < 30, agents


def test_status_of_an_empty_fleet():
    c, lead = start()
    with c:
        rc, out, err = varde("status", "--addr", c[lead].addr)
        out = ok(rc, out, err, "status")
        assert out.endswith("leader: %d (term %d)\n\nno sites registered\n\n"
                            "no jobs\n" % (lead, c.leader_term()[1])), out
        assert "agents:" not in out, out
        rc, out, err = varde("status", "--json", "--addr", c[lead].addr)
        doc = json.loads(ok(rc, out, err, "status --json"))
        assert doc["sites"] == [] and doc["jobs"] == [], doc
        assert "agents_error" not in doc and "fleet_error" not in doc, doc


# ---------------------------------------------------------------------------
# lag


@cluster.timeout(60)
def test_status_shows_how_far_a_cut_off_follower_lags():
    cluster.need_nft()
    c, lead = start()
    with c:
        cut, other = [i for i in c.ids() if i != lead]
        c.cut(lead, cut)
        writes = 40
        for k in range(writes):
            st, _, body = c[lead].request("PUT", "/v1/kv/lag-%d" % k, "v")
            assert st == 200, (st, body)

        rc, out, err = varde("status", "--addr", c[lead].addr)
        ms = members(ok(rc, out, err, "status"))
        note("a follower cut off for %d writes:\n%s" % (writes, out.rstrip()))
        assert ms[lead][5] == "-", out
        assert int(ms[cut][5]) >= writes, out
        assert int(ms[other][5]) < writes, out
        rc, out, err = varde("status", "--json", "--addr", c[lead].addr)
        doc = json.loads(ok(rc, out, err, "status --json"))
        lag = {m["id"]: m["lag"] for m in doc["members"]}
        assert lag[lead] == 0 and lag[cut] >= writes, doc

        c.heal()

        def caught_up():
            rc, out, _ = varde("status", "--json", "--addr", c[lead].addr)
            doc = json.loads(out) if rc == 0 else {}
            return all(m.get("lag") == 0 for m in doc.get("members", [{}]))
        c.wait_until(caught_up, 10.0, "node %d to catch up" % cut)


# ---------------------------------------------------------------------------
# a node without the agents API


class NoAgents(http.server.BaseHTTPRequestHandler):
    """A lone leader that serves sites and jobs, and answers /v1/agents
    with the server's AGENTS_STATUS."""

    def do_GET(self):
        addr = "%s:%d" % self.server.server_address
        path = self.path.split("?")[0]
        if path == "/v1/status":
            self.reply(200, {"id": 1, "role": "leader", "term": 2,
                             "leader": 1, "commit_index": 5,
                             "applied_index": 5, "last_log_index": 5,
                             "peers": {"1": {"addr": addr, "leader": True}}})
        elif path == "/v1/sites":
            self.reply(200, {"index": 5, "sites": [
                {"name": "oslo-1", "status": "connected", "cpu": 4.0,
                 "cpu_used": 1.5, "memory_mb": 8192, "memory_used_mb": 1024,
                 "tasks": 3, "last_heartbeat_ms": 250}]})
        elif path == "/v1/jobs":
            self.reply(200, {"index": 5, "jobs": []})
        elif self.server.agents_status == 404:
            self.reply(404, {"error": "no such path: %s" % path})
        else:
            self.reply(self.server.agents_status, {"error": "agents broke"})

    def reply(self, status, doc):
        data = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def test_status_against_a_node_without_the_agents_api():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NoAgents)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    addr = "127.0.0.1:%d" % srv.server_address[1]
    try:
        for status, why in ((404, "%s does not serve /v1/agents" % addr),
                            (500, "agents broke")):
            srv.agents_status = status
            rc, out, err = varde("status", "--addr", addr)
            out = ok(rc, out, err, "status")
            line = "agents: unknown (%s" % why
            assert line in out, out
            _, rows = table(out, "SITE")
            assert [(r["SITE / AGENT"], r["CPU FREE"], r["MEMORY FREE"])
                    for r in rows] == [("oslo-1", "2.5/4", "7168/8192 MiB")]
            assert out.endswith("\n\nno jobs\n"), out
            rc, out, err = varde("status", "--json", "--addr", addr)
            doc = json.loads(ok(rc, out, err, "status --json"))
            assert why in doc["agents_error"], doc
            assert "agents" not in doc["sites"][0], doc
            assert doc["members"][0]["lag"] == 0, doc
    finally:
        srv.shutdown()
        srv.server_close()


# ---------------------------------------------------------------------------
# real controllers and agents


CTL_HOST_BASE = 30  # controller N at 127.X.Y.(30 + N)
AGENT_HOST_BASE = 60  # agent N at 127.X.Y.(60 + N)


class SiteController(Proc):
    def __init__(self, tmp, site, host, port, raft):
        super().__init__(tmp, "ctl-" + site, host, port)
        self.site, self.raft = site, raft

    def args(self):
        return [VARDE, "controller", "--site", self.site, "--raft",
                ",".join(self.raft), "--listen", self.addr, "--data-dir",
                self.data_dir, "--agent-ttl", "2s", "--heartbeat-interval",
                "200ms"]


def fleet_json(node):
    rc, out, err = varde("status", "--json", "--addr", node.addr)
    return json.loads(out) if rc == 0 and out else None


@cluster.timeout(120)
def test_status_with_real_controllers_and_agents():
    mark = "varde-test-%s" % uuid.uuid4().hex[:12]
    c, lead = start(ttl_ms=5000)
    procs, failed = [], True
    try:
        raft = [c[i].addr for i in c.ids()]
        hosts = [c.net.host(CTL_HOST_BASE + i) for i in (1, 2)] + \
            [c.net.host(AGENT_HOST_BASE + i) for i in (1, 2, 3, 4)]
        ports = cluster.pick_ports(hosts)
        ctls = [SiteController(c.tmp, site, hosts[i], ports[i], raft)
                for i, site in enumerate(("oslo-1", "bergen-2"))]
        agents = [Agent(c.tmp, "%s-%s" % (ctl.site, x), hosts[2 + 2 * i + k],
                        ports[2 + 2 * i + k], ctl.addr)
                  for i, ctl in enumerate(ctls) for k, x in enumerate("ab")]
        procs = ctls + agents
        for p in procs:
            p.start()

        def all_up():
            doc = fleet_json(c[lead])
            ups = [a["name"] for s in (doc or {}).get("sites", [])
                   for a in s.get("agents", []) if a["status"] == "up"]
            return len(ups) == 4 and doc
        c.wait_until(all_up, 20.0, "4 agents up in varde status")

        st, got = answer(c[lead], "POST", "/v1/jobs", {
            "id": "sensor-average", "count": 4,
            "command": ["/bin/sh", "-c", "exec sleep 1000"],
            "env": {"VARDE_TEST_MARK": mark},
            "resources": {"cpu": 0.1, "memory_mb": 32}})
        assert st == 200, (st, got)

        def running():
            doc = fleet_json(c[lead])
            jobs = (doc or {}).get("jobs", [])
            return jobs and jobs[0]["tasks"]["running"] == 4 and \
                sum(a["tasks"] for s in doc["sites"]
                    for a in s["agents"]) == 4
        c.wait_until(running, 30.0, "4 tasks running, on the agents")

        rc, out, err = varde("status", "--addr", c[lead].addr)
        out = ok(rc, out, err, "status")
        note("varde status, real controllers and agents:\n" + out.rstrip())
        assert widest(out) <= WIDTH, out
        _, rows = table(out, "SITE")
        got = tree(rows)
        assert {s: [a["name"] for a in got[s][1]] for s in got} == \
            {"oslo-1": ["oslo-1-a", "oslo-1-b"],
             "bergen-2": ["bergen-2-a", "bergen-2-b"]}, out
        assert sum(int(a["TASKS"]) for _, ags in got.values()
                   for a in ags) == 4, out
        assert all(a["STATUS"] == "up" for _, ags in got.values()
                   for a in ags), out
        _, jobs = table(out, "JOB")
        assert [(j["JOB"], j["DESIRED"], j["RUNNING"]) for j in jobs] == \
            [("sensor-average", "4", "4")], out

        gone = agents[0]
        gone.kill()

        def down():
            doc = fleet_json(c[lead])
            return any(a["name"] == gone.name and a["status"] == "down"
                       for s in (doc or {}).get("sites", [])
                       for a in s.get("agents", []))
        c.wait_until(down, 15.0, "%s down in varde status" % gone.name)
        rc, out, err = varde("status", "--addr", c[lead].addr)
        out = ok(rc, out, err, "status")
        note("after kill -9 of agent %s:\n%s" % (gone.name, out.rstrip()))
        _, rows = table(out, "SITE")
        row = [a for a in tree(rows)[gone.name[:-2]][1]
               if a["name"] == gone.name]
        assert row and row[0]["STATUS"] == "down", out
        failed = False
    finally:
        try:
            answer(c[lead], "DELETE", "/v1/jobs/sensor-average")
        except OSError:
            pass  # the tasks are killed below all the same
        for p in procs:
            p.kill()
        left = kill_marked(mark)
        if failed:
            for p in procs:
                tail = p.log_text().splitlines()[-30:]
                print("--- %s log, last %d lines\n%s" % (
                    p.name, len(tail), "\n".join(tail)), file=sys.stderr)
        c.teardown(failed=failed)
        assert not left, "task processes left: %s" % left


if __name__ == "__main__":
    sys.exit(clitool.main(globals(), sys.argv))
