"""etcd.py - a 3-member etcd cluster on loopback, for comparison.

    with EtcdCluster(3, heartbeat_ms=30, election_ms=150) as e:
        lead = e.wait_leader(10.0)
        e[lead].kill()

Debian's etcd-server (`etcd`, 3.4), members named m1..mN with ids 1..N, each
on its own loopback address in a /24 that the bench claims for itself
(cluster.NetClaim: 127.X.Y.1N), with a client port and a peer port of its
own (never 2379/2380, where a system etcd may listen), fsync as by default,
data dirs and logs under build/bench/etcd-<pid>/ (deleted at the end unless
VARDE_KEEP is set). The v3 JSON gateway is served on each client URL
(POST /v3/kv/put, /v3/kv/range, /v3/maintenance/status).

Python 3 standard library only.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))

import cluster  # noqa: E402

ETCD = os.environ.get("ETCD_BIN") or shutil.which("etcd") or "/usr/bin/etcd"


def available():
    """None if etcd can be run, else why not."""
    if not os.access(ETCD, os.X_OK):
        return "etcd not installed (scripts/install-deps.sh bench)"
    return None


def version():
    try:
        r = subprocess.run([ETCD, "--version"], capture_output=True,
                           text=True, timeout=10)
        return r.stdout.splitlines()[0].split()[-1]
    except (OSError, IndexError, subprocess.SubprocessError):
        return None


class Member:
    def __init__(self, ec, idx, host, client_port, peer_port):
        self.ec = ec
        self.id = idx
        self.name = "m%d" % idx
        self.host = host
        self.port = client_port
        self.peer_port = peer_port
        self.data_dir = os.path.join(ec.dir, self.name)
        self.log_path = os.path.join(ec.dir, self.name + ".log")
        self.proc = None
        self.member_id = None  # etcd's own id, learnt from its status
        self.client = cluster.JsonClient(host, client_port)

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def client_url(self):
        return "http://%s:%d" % (self.host, self.port)

    @property
    def peer_url(self):
        return "http://%s:%d" % (self.host, self.peer_port)

    def args(self):
        ec = self.ec
        return [ETCD, "--name", self.name, "--data-dir", self.data_dir,
                "--listen-client-urls", self.client_url,
                "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url,
                "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", ec.initial_cluster(),
                "--initial-cluster-state", "new",
                "--initial-cluster-token", "varde-bench-%d" % os.getpid(),
                "--heartbeat-interval", str(ec.heartbeat_ms),
                "--election-timeout", str(ec.election_ms),
                "--logger", "zap", "--log-level", "warn"] + list(ec.extra)

    def start(self):
        if self.alive():
            raise RuntimeError("%s is already running" % self.name)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                self.args(), stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.ec.dir,
                preexec_fn=cluster._die_with_parent)
        self.client.close()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        """kill -9 and reap."""
        if self.alive():
            self.proc.send_signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait(timeout=10)
        self.client.close()

    def status(self):
        """POST /v3/maintenance/status as a dict, or None."""
        if not self.alive():
            return None
        st = self.client.post("/v3/maintenance/status", {})
        if st is not None and self.member_id is None:
            self.member_id = st.get("header", {}).get("member_id")
        return st

    def rss_kib(self):
        return cluster.Node.rss_kib(self)

    def log_tail(self, lines=20):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode(errors="replace").splitlines()[-lines:]
        except OSError:
            return []


class EtcdCluster:
    def __init__(self, n=3, heartbeat_ms=30, election_ms=150, extra=()):
        why = available()
        if why:
            raise RuntimeError(why)
        self.heartbeat_ms = heartbeat_ms
        self.election_ms = election_ms
        self.extra = tuple(extra)
        self.dir = os.path.join(ROOT, "build", "bench",
                                "etcd-%d-%d" % (os.getpid(), time.time_ns()
                                                % 100000))
        os.makedirs(self.dir)
        self.net = cluster.NetClaim()
        try:
            hosts = [self.net.host(i) for i in range(1, n + 1)]
            ports = cluster.pick_ports(hosts + hosts)
            self.members = {i: Member(self, i, hosts[i - 1], ports[i - 1],
                                      ports[n + i - 1])
                            for i in range(1, n + 1)}
            for m in self.members.values():
                m.start()
        except BaseException:
            self.teardown()
            raise

    def __getitem__(self, i):
        return self.members[i]

    def ids(self):
        return sorted(self.members)

    def initial_cluster(self):
        return ",".join("%s=%s" % (m.name, m.peer_url)
                        for m in self.members.values())

    def by_member_id(self, mid):
        for i, m in self.members.items():
            if m.member_id == mid:
                return i
        return None

    def leader(self, ids=None):
        """The member (our id) that every running member in IDS names as
        leader in one term, or None."""
        ids = ids or [i for i in self.ids() if self[i].alive()]
        sts = {i: self[i].status() for i in ids}
        return agreed_leader(self, sts)

    def wait_leader(self, timeout=15.0, ids=None, exclude=()):
        def ok():
            lead = self.leader(ids)
            return lead if lead and lead not in exclude else None

        return cluster.wait_until(ok, timeout, "etcd members to agree on a "
                                  "leader", state=self.describe)

    def describe(self):
        lines = []
        for m in self.members.values():
            lines.append("  %s %s pid %s %s" % (
                m.name, m.addr, m.proc.pid if m.proc else None,
                "running" if m.alive() else "exited"))
            lines += ["    " + x for x in m.log_tail(5)]
        return "\n".join(lines)

    def teardown(self):
        for m in getattr(self, "members", {}).values():
            if m.proc is not None and m.alive():
                m.kill()
            m.client.close()
        if getattr(self, "net", None) is not None:
            self.net.release()
            self.net = None
        if not os.environ.get("VARDE_KEEP"):
            shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if exc[0] is not None:
            print(self.describe(), file=sys.stderr)
        self.teardown()
        return False


def agreed_leader(ec, sts):
    """The member that every status in STS ({id: dict or None}) names as
    leader in one raft term, the leader itself (if among them) agreeing."""
    if not sts or any(st is None for st in sts.values()):
        return None
    vals = list(sts.values())
    lead_mid, term = vals[0].get("leader"), vals[0].get("raftTerm")
    if not lead_mid or lead_mid == "0":
        return None
    for st in vals:
        if st.get("leader") != lead_mid or st.get("raftTerm") != term:
            return None
    return ec.by_member_id(lead_mid)
