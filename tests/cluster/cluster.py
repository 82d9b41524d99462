"""cluster.py - run real `varde raft` processes on loopback and break them.

A Cluster starts N nodes, each on its own loopback address and its own
port, with data dirs and logs in a temporary directory. Node N gets
127.X.Y.1N (127.X.Y.11, 127.X.Y.12, ...), where 127.X.Y is a /24 that this
cluster claims for itself (a lock file per /24, first choice derived from the
pid), so that several test runs on one machine never share an address and
never cut each other's links. Tests then kill, pause, restart and
cut nodes off and wait, by polling GET /v1/status with a deadline, for the
cluster to reach the state they expect.

    with Cluster(3) as c:
        lead, term = c.wait_leader(2.0)
        c[lead].kill()
        c.wait_until(lambda: c.leader() not in (None, lead), 2.0,
                     "a new leader among the survivors")

Cutting links: because every daemon binds its outgoing connections to its
own address, one link between two nodes can be cut with two nftables rules
(saddr A daddr B, and back) in a table of the test's own, named
varde_test_<pid>. The rules name only this cluster's addresses, so they
touch no other run. The table is deleted by heal() and always by teardown.

Teardown kills every process the cluster started and raises if one cannot be
reaped, or if a node died while the test did not ask it to. The last lines of
every node's log are printed when the test fails.

Python 3 standard library only; run with /usr/bin/python3.
"""

import ctypes
import errno
import fcntl
import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VARDE = os.path.abspath(os.environ.get("VARDE_BIN") or
                        os.path.join(ROOT, "varde"))

# Listening ports come from here: below the kernel's ephemeral range, so an
# outgoing connection never takes the port a restarted node needs, and away
# from the default demo ports (7101+).
PORT_LOW = 20000
PORT_HIGH = 32000

LOG_TAIL_LINES = 40

# Own addresses: 127.X.Y.0/24 with X in 1..254 (never 127.0.0.x, where
# 127.0.0.1 lives, nor 127.255.x.x, whose last address is the broadcast).
# A cluster holds an flock on NET_LOCK_DIR/127.X.Y for its lifetime; the
# kernel drops it when the process dies, so a crashed run leaves no claim.
NET_LOCK_DIR = os.path.join(tempfile.gettempdir(), "varde-test-nets")
NET_COUNT = 254 * 256
NET_TRIES = 512

# A line a sanitizer build writes when it finds an error (ASan, LSan), and
# UBSan's "file:line: runtime error: ...".
SANITIZER_MARK = "Sanitizer:"


class Skip(Exception):
    """Raised by a test that cannot run here (no root, no nft, ...)."""


class WaitTimeout(AssertionError):
    """wait_until() ran out of time."""


def timeout(seconds):
    """Decorator: give a test its own time limit (the runner's default is
    60 s)."""

    def mark(fn):
        fn.timeout = seconds
        return fn

    return mark


def note(msg):
    """A measurement worth showing beside the test's result line."""
    print("note: " + msg, flush=True)


def wait_until(pred, timeout, what, interval=0.01, state=None):
    """Call PRED every INTERVAL seconds until it returns something true, and
    return that. After TIMEOUT seconds raise WaitTimeout naming WHAT and, if
    STATE is given, what STATE() returns (the last state seen)."""
    deadline = time.monotonic() + timeout
    while True:
        value = pred()
        if value:
            return value
        if time.monotonic() >= deadline:
            msg = "timed out after %.2fs waiting for %s" % (timeout, what)
            if state is not None:
                msg += "\nlast seen:\n" + state()
            raise WaitTimeout(msg)
        time.sleep(interval)


# ---------------------------------------------------------------------------
# HTTP


def http_request(host, port, method, path, body=None, headers=None,
                 timeout=1.0):
    """One request on a fresh connection. Returns (status, headers, body
    bytes). Raises OSError / http.client errors when the node does not
    answer."""
    conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        if isinstance(body, str):
            body = body.encode()
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, dict(resp.getheaders()), data
    finally:
        conn.close()


def raw_exchange(host, port, data, timeout=2.0):
    """Send DATA (bytes: a whole request, well-formed or not) on a fresh
    connection and read until the peer closes, a full response has come,
    or TIMEOUT. The send may fail half-way (the node may refuse a large
    body early); the answer is read anyway. Returns (status or None,
    body bytes)."""
    s = socket.create_connection((host, port), timeout=timeout)
    buf = b""
    try:
        try:
            s.sendall(data)
        except OSError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
            status, body = _parse_response(buf)
            if status is not None:
                return status, body
    finally:
        s.close()
    return _parse_response(buf, complete=True)


def _parse_response(buf, complete=False):
    """(status, body) once BUF holds a whole response, else (None, b"")."""
    head, sep, body = buf.partition(b"\r\n\r\n")
    if not sep:
        return None, b""
    lines = head.decode(errors="replace").split("\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError):
        return None, b""
    length = None
    for line in lines[1:]:
        k, _, v = line.partition(":")
        if k.strip().lower() == "content-length":
            length = int(v.strip())
    if length is not None and len(body) >= length:
        return status, body[:length]
    if complete:
        return status, body
    return None, b""


class JsonClient:
    """JSON over one kept-alive connection (reopened on error): cheap
    enough to poll every few milliseconds. The bench uses it for etcd too."""

    def __init__(self, host, port, timeout=0.5, token=None):
        self.host = host
        self.port = port
        self.timeout = timeout
        self.token = token
        self.conn = None

    def request(self, method, path, body=None):
        """The decoded answer of a 200, or None if there was none."""
        data = None if body is None else json.dumps(body).encode()
        headers = {} if body is None else {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        for attempt in range(2):
            fresh = self.conn is None
            try:
                if fresh:
                    self.conn = http.client.HTTPConnection(
                        self.host, self.port, timeout=self.timeout)
                    self.conn.connect()
                    self.conn.sock.setsockopt(socket.IPPROTO_TCP,
                                              socket.TCP_NODELAY, 1)
                self.conn.request(method, path, body=data, headers=headers)
                resp = self.conn.getresponse()
                out = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                if resp.status != 200:
                    return None
                return json.loads(out)
            except (OSError, http.client.HTTPException, ValueError):
                self.close()
                if fresh:
                    return None
        return None

    def get(self):
        """The node's status as a dict, or None if it did not answer."""
        return self.request("GET", "/v1/status")

    def post(self, path, body):
        return self.request("POST", path, body)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


# ---------------------------------------------------------------------------
# processes


def _die_with_parent():
    """preexec_fn: SIGKILL the daemon if the process that started it dies,
    so a crashed test never leaves nodes behind."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


class Node:
    """One `varde raft` process (started and restarted any number of
    times)."""

    def __init__(self, cluster, node_id, host, port):
        self.cluster = cluster
        self.id = node_id
        self.host = host
        self.port = port
        self.data_dir = os.path.join(cluster.tmp, "node%d" % node_id)
        self.log_path = os.path.join(cluster.tmp, "node%d.log" % node_id)
        self.proc = None
        self.paused = False
        self.expect_exit = False  # the test stopped it on purpose
        self.starts = 0
        self.exits = []  # (pid, returncode, expected) of past processes
        self.client = JsonClient(host, port, token=cluster.token)

    @property
    def addr(self):
        return "%s:%d" % (self.host, self.port)

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def args(self):
        c = self.cluster
        a = [VARDE, "raft", "--id", str(self.id), "--peers", c.peers_arg(),
             "--data-dir", self.data_dir, "--listen", self.addr,
             "--log-level", c.log_level]
        if c.election_timeout:
            a += ["--election-timeout", c.election_timeout]
        if c.heartbeat_interval:
            a += ["--heartbeat-interval", str(c.heartbeat_interval)]
        if c.token:
            a += ["--token-file", c.token_file]
        return a + list(c.extra_args)

    def start(self):
        """Start the process (the node must not be running)."""
        if self.alive():
            raise RuntimeError("node %d is already running" % self.id)
        self._reap()
        os.makedirs(self.data_dir, exist_ok=True)
        self.starts += 1
        args = self.args()
        with open(self.log_path, "ab") as log:
            log.write(("=== start %d: %s\n" % (self.starts, " ".join(args)))
                      .encode())
            log.flush()
            self.proc = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT, cwd=self.cluster.tmp,
                preexec_fn=_die_with_parent)
        self.paused = False
        self.expect_exit = False
        self.client.close()

    def alive(self):
        """True while the current process has not exited."""
        return self.proc is not None and self.proc.poll() is None

    def live(self):
        """Running and not paused: expected to answer."""
        return self.alive() and not self.paused

    def signal(self, sig):
        if not self.alive():
            raise RuntimeError("node %d is not running" % self.id)
        self.proc.send_signal(sig)

    def kill(self):
        """kill -9 and reap."""
        if self.alive():
            self.expect_exit = True
            self.proc.kill()
        self.proc.wait(timeout=5)
        self.paused = False
        self.client.close()

    def terminate(self, timeout=5.0):
        """SIGTERM, wait for the exit and return the exit status (negative:
        killed by that signal). Raises WaitTimeout if it does not exit."""
        self.expect_exit = True
        if self.paused:
            self.resume()
        self.signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def wait_exit(self, timeout):
        """Wait for the process to exit by itself; return its status."""
        self.expect_exit = True
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise WaitTimeout("node %d did not exit within %.1fs"
                              % (self.id, timeout))

    def pause(self):
        """SIGSTOP: the process keeps its sockets but answers nothing."""
        self.signal(signal.SIGSTOP)
        self.paused = True
        self.client.close()

    def resume(self):
        """SIGCONT."""
        self.signal(signal.SIGCONT)
        self.paused = False

    def restart(self):
        """kill -9 if running, then start again with the same data dir."""
        if self.alive():
            self.kill()
        self.start()

    def status(self):
        """GET /v1/status as a dict, or None (dead, paused, no answer)."""
        if not self.live():
            return None
        st = self.client.get()
        self.cluster.last_seen[self.id] = (time.monotonic(), st)
        return st

    def request(self, method, path, body=None, headers=None, timeout=2.0):
        """Any request on a fresh connection: (status, headers, body). The
        cluster's token goes with it unless HEADERS is given."""
        if headers is None and self.cluster.token:
            headers = {"Authorization": "Bearer " + self.cluster.token}
        return http_request(self.host, self.port, method, path, body,
                            headers, timeout)

    def rss_kib(self):
        """VmRSS of the process in KiB, from /proc."""
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return None

    def _reap(self):
        """Record how the previous process ended."""
        if self.proc is not None and self.proc.poll() is not None:
            self.exits.append((self.proc.pid, self.proc.returncode,
                               self.expect_exit))
            self.proc = None

    def log_tail(self, lines=LOG_TAIL_LINES):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read().decode(errors="replace").splitlines()
        except OSError:
            return []
        return data[-lines:]


def _port_free(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((host, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def pick_ports(hosts):
    """One free port per host, consecutive from a random base."""
    rng = random.Random(os.getpid() ^ time.monotonic_ns())
    for _ in range(200):
        base = rng.randrange(PORT_LOW, PORT_HIGH - len(hosts))
        ports = [base + i for i in range(len(hosts))]
        if all(_port_free(h, p) for h, p in zip(hosts, ports)):
            return ports
    raise RuntimeError("no free ports found in %d-%d" % (PORT_LOW, PORT_HIGH))


# ---------------------------------------------------------------------------
# own loopback addresses


class NetClaim:
    """A /24 of loopback, 127.X.Y.0/24, held by this process through an
    flock until release() (or its death). The first choice is derived from
    the pid; a /24 held by another run is passed over."""

    def __init__(self, pid=None):
        pid = os.getpid() if pid is None else pid
        try:
            os.mkdir(NET_LOCK_DIR)
            os.chmod(NET_LOCK_DIR, 0o1777)  # any user's runs share it
        except FileExistsError:
            pass
        first = pid % NET_COUNT
        for k in range(NET_TRIES):
            n = (first + k) % NET_COUNT
            x, y = 1 + n // 256, n % 256
            fd = self._try_lock(os.path.join(NET_LOCK_DIR,
                                             "127.%d.%d" % (x, y)))
            if fd is not None:
                self.prefix = "127.%d.%d" % (x, y)
                self.path = os.path.join(NET_LOCK_DIR, self.prefix)
                self.fd = fd
                return
        raise RuntimeError("no free loopback /24 among %d tried in %s"
                           % (NET_TRIES, NET_LOCK_DIR))

    @staticmethod
    def _try_lock(path):
        """An fd holding the flock of PATH, or None if another holds it.
        The holder unlinks the file on release, so a lock taken on a file
        that was unlinked meanwhile is worthless: check the path still
        names the file locked."""
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if os.fstat(fd).st_ino == os.stat(path).st_ino:
                return fd
        except FileNotFoundError:
            pass
        except OSError as e:
            if e.errno not in (errno.EWOULDBLOCK, errno.EAGAIN):
                os.close(fd)
                raise
        os.close(fd)
        return None

    def host(self, node_id):
        """Node NODE_ID's address: 127.X.Y.(10 + NODE_ID)."""
        return "%s.%d" % (self.prefix, 10 + node_id)

    def release(self):
        """Unlink the lock file (still holding it), then let go."""
        if self.fd is not None:
            try:
                os.unlink(self.path)
            except OSError:
                pass
            os.close(self.fd)
            self.fd = None


# ---------------------------------------------------------------------------
# nftables


def nft_table_name(pid=None):
    return "varde_test_%d" % (pid if pid is not None else os.getpid())


def nft(*args, check=True):
    """Run `nft ARGS`. Returns the CompletedProcess."""
    r = subprocess.run(["nft"] + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise RuntimeError("nft %s: %s" % (" ".join(args), r.stderr.strip()))
    return r


def nft_delete_table(name):
    """Delete table inet NAME if it exists. Returns True if it existed."""
    if shutil.which("nft") is None:
        return False
    r = nft("list", "table", "inet", name, check=False)
    if r.returncode != 0:
        return False
    nft("delete", "table", "inet", name)
    return True


def need_nft():
    """Raise Skip unless this process can cut links with nftables."""
    if os.geteuid() != 0:
        raise Skip("cutting links needs root (nftables)")
    if shutil.which("nft") is None:
        raise Skip("nft not installed")
    probe = "varde_probe_%d" % os.getpid()
    r = nft("add", "table", "inet", probe, check=False)
    if r.returncode != 0:
        raise Skip("nftables not usable here: %s" % r.stderr.strip())
    nft("delete", "table", "inet", probe, check=False)


# ---------------------------------------------------------------------------
# the cluster


class Cluster:
    """N raft nodes with ids 1..N on loopback.

    n                  number of members
    start              ids to start now (default all; [] for none)
    own_addresses      node N on 127.X.Y.1N, in a /24 of this cluster's own
                       (needed to cut links), else all on 127.0.0.1 with
                       distinct ports
    election_timeout   "MIN-MAX" in ms, passed as --election-timeout
    heartbeat_interval ms, passed as --heartbeat-interval
    token              an access token: written to a file passed as
                       --token-file, and sent by the test's clients
    """

    def __init__(self, n=3, start=None, own_addresses=True,
                 election_timeout=None, heartbeat_interval=None,
                 extra_args=(), log_level="info", name=None, token=None):
        if not os.access(VARDE, os.X_OK):
            raise RuntimeError("%s not found: run make first" % VARDE)
        self.name = name or "varde"
        self.tmp = tempfile.mkdtemp(prefix="varde-%s-" % self.name)
        self.token = token
        self.token_file = os.path.join(self.tmp, "token")
        if token:
            fd = os.open(self.token_file, os.O_WRONLY | os.O_CREAT, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(token + "\n")
        self.own_addresses = own_addresses
        self.election_timeout = election_timeout
        self.heartbeat_interval = heartbeat_interval
        self.extra_args = tuple(extra_args)
        self.log_level = log_level
        self.nft_table = None
        self.cuts = []
        self.last_seen = {}
        self.torn_down = False
        self.net = None
        try:
            if own_addresses:
                self.net = NetClaim()
                hosts = [self.net.host(i) for i in range(1, n + 1)]
            else:
                hosts = ["127.0.0.1"] * n
            ports = pick_ports(hosts)
            self.nodes = {i: Node(self, i, hosts[i - 1], ports[i - 1])
                          for i in range(1, n + 1)}
        except BaseException:
            self._release_net()
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        try:
            self.start(start)
        except BaseException:
            self.teardown(failed=True)
            raise

    # -- membership ---------------------------------------------------------

    def __getitem__(self, node_id):
        return self.nodes[node_id]

    def ids(self):
        return sorted(self.nodes)

    def peers_arg(self):
        return ",".join("%d=%s" % (i, self.nodes[i].addr) for i in self.ids())

    def start(self, ids=None):
        """Start the given nodes (default: all not running)."""
        for i in (self.ids() if ids is None else ids):
            if not self.nodes[i].alive():
                self.nodes[i].start()

    def live_ids(self):
        return [i for i in self.ids() if self.nodes[i].live()]

    # -- observing ----------------------------------------------------------

    def statuses(self, ids=None):
        """{id: status dict or None} for the given ids (default: live)."""
        ids = self.live_ids() if ids is None else ids
        return {i: self.nodes[i].status() for i in ids}

    def leader(self, ids=None):
        """The leader every node in IDS (default: every live node) agrees
        on: all answer, all name the same leader in the same term, and that
        node, if among them, reports itself leader. Else None."""
        sts = self.statuses(ids)
        return agreed_leader(sts)

    def leader_term(self, ids=None):
        """(leader, term) as leader() agrees on it, or None."""
        sts = self.statuses(ids)
        lead = agreed_leader(sts)
        if lead is None:
            return None
        return lead, next(iter(sts.values()))["term"]

    def wait_until(self, pred, timeout, what, interval=0.01):
        """wait_until() with the cluster's last seen state on timeout."""
        return wait_until(pred, timeout, what, interval, state=self.describe)

    def wait_leader(self, timeout=3.0, ids=None, exclude=()):
        """Wait until IDS (default: live nodes) agree on a leader not in
        EXCLUDE; return (leader, term)."""

        def agreed():
            lt = self.leader_term(ids)
            if lt and lt[0] not in exclude:
                return lt
            return None

        what = "nodes %s to agree on a leader" % (ids or self.live_ids())
        if exclude:
            what += " other than %s" % list(exclude)
        return self.wait_until(agreed, timeout, what)

    def watch_stable(self, lead, term, duration, ids=None):
        """Poll IDS (default: live) for DURATION seconds and raise unless
        every answer names LEAD as leader in TERM (and LEAD says leader)."""
        end = time.monotonic() + duration
        polls = 0
        while time.monotonic() < end:
            sts = self.statuses(ids)
            polls += 1
            for i, st in sts.items():
                if st is None:
                    raise AssertionError(
                        "node %d stopped answering while the cluster should "
                        "be stable\n%s" % (i, self.describe()))
                if st["term"] != term or st["leader"] != lead or (
                        i == lead and st["role"] != "leader"):
                    raise AssertionError(
                        "leader %d in term %d expected to stay, node %d says "
                        "role %s term %s leader %s\n%s"
                        % (lead, term, i, st["role"], st["term"],
                           st["leader"], self.describe()))
            time.sleep(0.02)
        return polls

    def describe(self):
        """One line per node: process state and the last status seen."""
        lines = []
        now = time.monotonic()
        for i in self.ids():
            nd = self.nodes[i]
            if nd.paused:
                proc = "paused"
            elif nd.alive():
                proc = "running"
            elif nd.proc is not None:
                proc = "exited(%s)" % nd.proc.returncode
            else:
                proc = "not started"
            seen = self.last_seen.get(i)
            if seen is None:
                st = "no status seen"
            elif seen[1] is None:
                st = "no answer %.0f ms ago" % ((now - seen[0]) * 1000)
            else:
                s = seen[1]
                st = ("%.0f ms ago: role=%s term=%s leader=%s vote=%s "
                      "commit=%s" % ((now - seen[0]) * 1000, s.get("role"),
                                     s.get("term"), s.get("leader"),
                                     s.get("vote"), s.get("commit_index")))
            lines.append("  node %d %s pid %s %s: %s"
                         % (i, nd.addr, nd.pid, proc, st))
        if self.cuts:
            lines.append("  cut links: %s" % ", ".join(
                "%d-%d" % c for c in self.cuts))
        return "\n".join(lines)

    # -- breaking links -----------------------------------------------------

    def cut(self, a, b):
        """Drop every packet between nodes A and B, both ways."""
        if not self.own_addresses:
            raise RuntimeError("cut() needs own_addresses=True")
        if self.nft_table is None:
            name = nft_table_name()
            nft_delete_table(name)
            nft("add", "table", "inet", name)
            self.nft_table = name
            nft("add", "chain", "inet", name, "out",
                "{ type filter hook output priority 0; policy accept; }")
        ha, hb = self.nodes[a].host, self.nodes[b].host
        for src, dst in ((ha, hb), (hb, ha)):
            nft("add", "rule", "inet", self.nft_table, "out", "ip", "saddr",
                src, "ip", "daddr", dst, "drop")
        self.cuts.append((a, b))

    def heal(self):
        """Remove every cut."""
        if self.nft_table is not None:
            nft_delete_table(self.nft_table)
            self.nft_table = None
        self.cuts = []

    # -- the end ------------------------------------------------------------

    def teardown(self, failed=False):
        """Kill every process, delete the nft table and the temp dir. Raise
        if a process is left, or a node exited without being asked to. With
        FAILED (or on such a problem) print the tail of every node's log."""
        if self.torn_down:
            return
        self.torn_down = True
        state = self.describe()
        problems = []
        try:
            self.heal()
        except Exception as e:  # keep going: the processes matter more
            problems.append("deleting nft table: %s" % e)
        for nd in self.nodes.values():
            if nd.alive():
                nd.expect_exit = True
                nd.proc.kill()
                try:
                    nd.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    problems.append("node %d (pid %d) survived SIGKILL"
                                    % (nd.id, nd.proc.pid))
            nd.client.close()
            nd._reap()
            for line in nd.log_tail(10 ** 6):
                if SANITIZER_MARK in line or "runtime error:" in line:
                    problems.append("node %d log: %s" % (nd.id,
                                                         line.strip()[:160]))
                    break
            for pid, rc, expected in nd.exits:
                if not expected:
                    problems.append("node %d (pid %d) exited by itself with "
                                    "status %s" % (nd.id, pid, rc))
        if failed or problems:
            self.print_logs(state)
        self._release_net()
        if os.environ.get("VARDE_KEEP"):
            print("cluster files kept in %s" % self.tmp, file=sys.stderr)
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        if problems:
            raise AssertionError("teardown: " + "; ".join(problems))

    def _release_net(self):
        if self.net is not None:
            self.net.release()
            self.net = None

    def print_logs(self, state=None):
        out = sys.stderr
        print("--- cluster state", file=out)
        print(state or self.describe(), file=out)
        for nd in self.nodes.values():
            tail = nd.log_tail()
            print("--- node %d log (%s), last %d lines"
                  % (nd.id, nd.log_path, len(tail)), file=out)
            for line in tail:
                print("    " + line, file=out)
        out.flush()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        failed = exc_type is not None and not issubclass(exc_type, Skip)
        try:
            self.teardown(failed=failed)
        except AssertionError:
            if not failed:
                raise
        return False


def agreed_leader(sts):
    """The leader that every status in STS ({id: dict or None}) names, in
    one term, with the leader itself (if present) saying so. Else None."""
    if not sts:
        return None
    vals = list(sts.values())
    if any(st is None for st in vals):
        return None
    lead = vals[0].get("leader")
    term = vals[0].get("term")
    if not lead:
        return None
    for st in vals:
        if st.get("leader") != lead or st.get("term") != term:
            return None
    if lead in sts and sts[lead].get("role") != "leader":
        return None
    return lead
