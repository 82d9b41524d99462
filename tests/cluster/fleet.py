"""fleet.py - a whole fleet of real processes for the cluster tests: three
raft nodes (cluster.Cluster), and sites made of one `varde controller` and
its `varde agent`s, each daemon on its own loopback address in the
cluster's /24, so that nftables can cut exactly one link.

    with Fleet(sites=("oslo-1", "bergen-2"), agents=2) as f:
        f.wait_ready()
        f.submit(f.job("web", count=3))
        f.cut_site("bergen-2")  # its controller from every raft node
        f.heal()

Addresses (net.host(N) is 127.X.Y.(10 + N)): raft node N at .1N, the
controller of the I-th site (from 0) at .(31 + I), its J-th agent (from 0)
at .(51 + 10 I + J).

Every task of a job made by job() carries VARDE_TEST_MARK=<this fleet's
mark> in its environment, besides the VARDE_TASK the agent gives it, so
processes() finds this fleet's task processes through /proc, whoever
started them and whatever happened to their agent. Teardown kills every
daemon, then every marked task with its process group, and fails if one
is left, if a daemon exited without being asked to, or if a log holds a
sanitizer report.

Its daemons are daemons.py's Proc, like test_site.py's, made to hold
several sites. Python 3 standard library only.
"""

import os
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster  # noqa: E402
from daemons import (Group, Proc, finish_teardown, kill_marked,  # noqa: E402
                     marked_processes, poll_call, stop_procs)

CTL_HOST_BASE = 21  # the I-th controller at 127.X.Y.(31 + I)
AGENT_HOST_BASE = 41  # agent J of site I at 127.X.Y.(51 + 10 I + J)


class Controller(Proc):
    def __init__(self, tmp, site, host, port, raft, agent_ttl_ms,
                 heartbeat="500ms", extra=()):
        super().__init__(tmp, "ctl-" + site, host, port)
        self.site = site
        self.raft = raft
        self.agent_ttl_ms = agent_ttl_ms
        self.heartbeat = heartbeat
        self.extra = list(extra)

    def args(self):
        return [cluster.VARDE, "controller", "--site", self.site,
                "--raft", ",".join(self.raft), "--listen", self.addr,
                "--data-dir", self.data_dir, "--agent-ttl",
                "%dms" % self.agent_ttl_ms, "--heartbeat-interval",
                self.heartbeat] + self.extra

    def agents_up(self):
        """{agent name: status} as the controller holds them, or None."""
        st, body = poll_call(self.host, self.port, "GET", "/v1/agents",
                             timeout=2.0)
        if st != 200:
            return None
        return {a["name"]: a["status"] for a in body["agents"]}


class Agent(Proc):
    def __init__(self, tmp, name, host, port, controller, cpu="8",
                 memory_mb="4096"):
        super().__init__(tmp, name, host, port)
        self.controller = controller
        self.cpu, self.memory_mb = cpu, memory_mb

    def args(self):
        return [cluster.VARDE, "agent", "--name", self.name, "--controller",
                self.controller, "--listen", self.addr, "--data-dir",
                self.data_dir, "--cpu", self.cpu, "--memory-mb",
                self.memory_mb]

    def running(self):
        """{task id: pid} of the tasks its status shows running, or
        None when it does not answer."""
        st = self.status()
        if not st:
            return None
        return {t["id"]: t["pid"] for t in st.get("tasks", [])
                if t["state"] == "running"}


class Site:
    """A controller and its agents."""

    def __init__(self, name, ctl, agents):
        self.name, self.ctl, self.agents = name, ctl, agents

    def agent(self, name):
        return next(a for a in self.agents if a.name == name)


class Fleet(Group):
    """Three raft nodes (--site-ttl SITE_TTL_MS), and one Site per name in
    SITES with AGENTS agents each (named SITE-a1, SITE-a2, ...), all
    started. Torn down as one: see the module's doc."""

    def __init__(self, sites=("oslo-1", "bergen-2"), agents=2,
                 site_ttl_ms=2000, agent_ttl_ms=2000, ctl_heartbeat="500ms",
                 agent_cpu="8", agent_memory_mb="4096"):
        self.mark = "varde-e2e-%s" % uuid.uuid4().hex[:12]
        self.site_ttl_ms = site_ttl_ms
        self.agent_ttl_ms = agent_ttl_ms
        self.c = Cluster(3, extra_args=("--site-ttl", str(site_ttl_ms)))
        self.procs = []
        self.sites = {}
        try:
            net = self.c.net
            raft = [self.c[i].addr for i in self.c.ids()]
            for i, name in enumerate(sites):
                hosts = [net.host(CTL_HOST_BASE + i)] + [
                    net.host(AGENT_HOST_BASE + 10 * i + j)
                    for j in range(agents)]
                ports = cluster.pick_ports(hosts)
                ctl = Controller(self.c.tmp, name, hosts[0], ports[0], raft,
                                 agent_ttl_ms, ctl_heartbeat)
                ags = [Agent(self.c.tmp, "%s-a%d" % (name, j + 1),
                             hosts[j + 1], ports[j + 1], ctl.addr, agent_cpu,
                             agent_memory_mb) for j in range(agents)]
                self.sites[name] = Site(name, ctl, ags)
                self.procs += [ctl] + ags
            for p in self.procs:
                p.start()
        except BaseException:
            self.teardown(failed=True)
            raise

    # -- the raft side --------------------------------------------------------

    def leader(self, timeout=5.0):
        """The raft leader's Node, once the live nodes agree on one."""
        lead, _ = self.c.wait_leader(timeout)
        return self.c[lead]

    def ask(self, method, path, body=None, timeout=5.0):
        """A request to the first live raft node that answers it (any node
        forwards to the leader): (status, body), or (None, None) when none
        answered."""
        for i in self.c.live_ids():
            nd = self.c[i]
            st, got = poll_call(nd.host, nd.port, method, path, body,
                                timeout=timeout)
            if st is not None and st != 503:
                return st, got
        return None, None

    def ask_ok(self, path):
        """The body of a 200 to GET PATH from any live node, or None."""
        st, body = self.ask("GET", path)
        return body if st == 200 else None

    def sites_status(self):
        """{site: status} as the cluster holds them, or None."""
        body = self.ask_ok("/v1/sites")
        if body is None:
            return None
        return {s["name"]: s["status"] for s in body["sites"]}

    def tasks(self, query=""):
        """The cluster's tasks (GET /v1/tasks), or None."""
        body = self.ask_ok("/v1/tasks" + query)
        return None if body is None else body["tasks"]

    def jobs(self):
        """{job id: desired count} of the cluster's jobs, or None."""
        body = self.ask_ok("/v1/jobs")
        if body is None:
            return None
        return {j["id"]: j["count"] for j in body["jobs"]}

    def submit(self, job):
        """POST the job, retried until a node acknowledges it; its answer."""
        def done():
            st, got = self.ask("POST", "/v1/jobs", job)
            assert st in (None, 200, 504), (st, got)
            return got if st == 200 else None
        return self.c.wait_until(done, 10.0, "job %s acknowledged"
                                 % job["id"], interval=0.05)

    def stop(self, jid):
        def done():
            st, got = self.ask("DELETE", "/v1/jobs/" + jid)
            assert st in (None, 200, 404, 504), (st, got)
            return st in (200, 404)
        self.c.wait_until(done, 10.0, "job %s stopped" % jid, interval=0.05)

    def job(self, jid, count=1, command=None, cpu=0.1, **more):
        j = {"id": jid, "count": count,
             "command": command or ["/bin/sleep", "1000"],
             "env": {"VARDE_TEST_MARK": self.mark},
             "resources": {"cpu": cpu, "memory_mb": 16}}
        j.update(more)
        return j

    def wait_ready(self, timeout=15.0):
        """Until every site is connected with all its agents up (the
        cluster sees the agents' capacity)."""
        def ready():
            body = self.ask_ok("/v1/sites")
            if body is None:
                return None
            got = {s["name"]: s for s in body["sites"]}
            for name, site in self.sites.items():
                s = got.get(name)
                want = sum(float(a.cpu) for a in site.agents)
                if not s or s["status"] != "connected" or \
                        abs(s["cpu"] - want) > 1e-9:
                    return None
            return got
        return cluster.wait_until(
            ready, timeout, "every site connected with its agents",
            state=lambda: "%s\nsites %s" % (self.c.describe(),
                                             self.ask_ok("/v1/sites")))

    # -- cutting a site off ---------------------------------------------------

    def cut_site(self, name):
        """Drop every packet between site NAME's controller and every raft
        node, both ways, with rules in the cluster's own nftables table
        (heal() and the teardown delete it)."""
        cluster.need_nft()
        c = self.c
        if c.nft_table is None:
            table = cluster.nft_table_name()
            cluster.nft_delete_table(table)
            cluster.nft("add", "table", "inet", table)
            c.nft_table = table
            cluster.nft("add", "chain", "inet", table, "out",
                        "{ type filter hook output priority 0; "
                        "policy accept; }")
        ctl = self.sites[name].ctl.host
        for i in c.ids():
            for src, dst in ((ctl, c[i].host), (c[i].host, ctl)):
                cluster.nft("add", "rule", "inet", c.nft_table, "out", "ip",
                            "saddr", src, "ip", "daddr", dst, "drop")

    def heal(self):
        self.c.heal()

    # -- task processes -------------------------------------------------------

    def processes(self):
        """{pid: task id} of this fleet's live task processes."""
        return marked_processes(self.mark)

    def kill_tasks(self):
        kill_marked(self.mark)

    # -- the end --------------------------------------------------------------

    def teardown(self, failed=False):
        problems = stop_procs(self.procs)
        left = kill_marked(self.mark)
        if left:
            problems.append("task processes left: %s" % left)
        finish_teardown(self.c, self.procs, problems, failed)
