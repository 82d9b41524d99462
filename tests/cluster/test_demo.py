"""test_demo.py - `varde demo`: a whole fleet on this machine, its tour,
and a clean stop.

- `varde demo --exit` runs the tour: the leader killed, an agent killed,
  a site cut off with nftables (as root; skipped, and said so, without),
  each step seen in time; then it stops everything it started;
- Ctrl-C while the fleet runs stops the job, every daemon and every task,
  and removes the demo's data dir;
- two demos at once each claim loopback addresses of their own;
- a port that is taken is one line on stderr and exit 1.

"Nothing left behind" is checked through /proc: no live process whose
command line, environment or working directory names the demo's data dir,
none whose environment names one of the demo's controllers (the tasks:
VARDE_CONTROLLER), and no nftables table of the demo's.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_demo.py [NAME...]
"""

import json
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import VARDE, note, wait_until  # noqa: E402

TOUR_LIMIT = 60  # seconds: the whole --exit run, start to stop


def demo_env():
    e = dict(os.environ)
    e.pop("VARDE_ADDR", None)
    e.pop("VARDE_TOKEN", None)
    return e


def base_port():
    """A base port whose whole span is free on the wildcard address."""
    for _ in range(50):
        base = cluster.pick_ports(["0.0.0.0"])[0]
        if base + 204 < cluster.PORT_HIGH and all(
                cluster._port_free("0.0.0.0", base + off)
                for off in (0, 1, 2, 100, 101, 200, 201, 202, 203)):
            return base
    raise RuntimeError("no free span of ports")


def controllers(out):
    """The controllers' addresses, from the demo's table of daemons."""
    return re.findall(r"^\s+\S+\s+(127\.\d+\.\d+\.\d+:\d+)\s+controller",
                      out, re.M)


def data_dir(out):
    m = re.search(r"Data and logs\s+in\s+(/\S+?):?\s", out)
    return m.group(1) if m else None


def exported(out, name):
    m = re.search(r"export %s=(\S+)" % name, out)
    return m.group(1) if m else None


def _read(path, limit=1 << 16):
    try:
        with open(path, "rb") as f:
            return f.read(limit)
    except OSError:
        return b""


def _alive(pid):
    stat = _read("/proc/%s/stat" % pid).decode(errors="replace")
    after = stat.rsplit(")", 1)[-1].split()
    return bool(after) and after[0] not in ("Z", "X")


def left_behind(path, ctl_addrs):
    """[(pid, why)] of live processes that name PATH in their command
    line, environment or working directory, or run a task of one of the
    controllers CTL_ADDRS."""
    found = []
    marks = [b"VARDE_CONTROLLER=" + a.encode() for a in ctl_addrs]
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid() or not _alive(pid):
            continue
        cmd = _read("/proc/%s/cmdline" % pid)
        env = _read("/proc/%s/environ" % pid)
        try:
            cwd = os.readlink("/proc/%s/cwd" % pid)
        except OSError:
            cwd = ""
        why = None
        if path and path.encode() in cmd:
            why = "command line"
        elif path and path.encode() in env:
            why = "environment"
        elif path and cwd.startswith(path):
            why = "working dir"
        elif any(m in env.split(b"\0") for m in marks):
            why = "a task of the demo's controllers"
        if why:
            found.append((int(pid), why, cmd.replace(b"\0", b" ")[:120]))
    return found


def nft_tables():
    if os.geteuid() != 0 or shutil.which("nft") is None:
        return ""
    r = cluster.nft("list", "tables", check=False)
    return r.stdout


def show_logs(path):
    """The last lines of every daemon's log in PATH (for a failure)."""
    if not path or not os.path.isdir(path):
        return
    for name in sorted(os.listdir(path)):
        if name.endswith(".log"):
            with open(os.path.join(path, name), errors="replace") as f:
                tail = f.read().splitlines()[-12:]
            print("--- %s\n%s" % (name, "\n".join(tail)))


def read_until(p, text, timeout):
    """Read P's stdout until TEXT appears; return what was read. Raises if
    P exits or TIMEOUT seconds pass first."""
    fd = p.stdout.fileno()
    os.set_blocking(fd, False)
    buf = b""
    deadline = time.monotonic() + timeout
    while text.encode() not in buf:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no %r within %.0fs; got:\n%s"
                                 % (text, timeout, buf.decode()))
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        chunk = os.read(fd, 65536)
        if not chunk:
            raise AssertionError("demo exited before %r; got:\n%s"
                                 % (text, buf.decode()))
        buf += chunk
    os.set_blocking(fd, True)
    return buf.decode()


def start_demo(*args):
    return subprocess.Popen([VARDE, "demo"] + list(args),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=demo_env())


def stop_demo(p, out):
    """SIGINT, and what P printed until it exited: (rc, out, err)."""
    p.send_signal(signal.SIGINT)
    o, e = p.communicate(timeout=40)
    return p.returncode, out + o.decode(), e.decode()


def kill_demo(p):
    if p.poll() is None:
        p.kill()
        p.communicate()


# ---------------------------------------------------------------------------


@cluster.timeout(TOUR_LIMIT + 40)
def test_demo_exit_runs_the_tour_and_leaves_nothing_behind():
    can_cut = True
    try:
        cluster.need_nft()
    except cluster.Skip:
        can_cut = False
    tmp = tempfile.mkdtemp(prefix="varde-demo-test-")
    out = err = ""
    try:
        t0 = time.monotonic()
        p = subprocess.run([VARDE, "demo", "--exit", "--base-port",
                            str(base_port()), "--data-dir", tmp],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           text=True, env=demo_env(), timeout=TOUR_LIMIT + 20)
        took = time.monotonic() - t0
        out, err = p.stdout, p.stderr
        if p.returncode != 0:
            show_logs(tmp)
        assert p.returncode == 0, "exit %d\nstdout:\n%s\nstderr:\n%s" % (
            p.returncode, out, err)

        for step in ("all 4 running", "1. The leader crashes",
                     "2. An agent dies", "3. A site is cut off",
                     "Done: stopping the fleet.",
                     "Stopped: 9 daemons and 4 task processes."):
            assert step in out, "missing %r in:\n%s" % (step, out)
        assert out.count("$ varde status") == 3, out
        assert "\033[" not in out, "colour on a pipe"
        assert err == "", "stderr: %r" % err
        wide = [line for line in out.splitlines()
                if len(line) > 80 and not line.startswith("$ ")]
        assert wide == [], "wider than 80 columns: %s" % wide
        if can_cut:
            for seen in ("the cluster marks oslo-1 silent",
                         "the same processes", "kv write failed",
                         "oslo-1 is connected again", "written again"):
                assert seen in out, "missing %r in:\n%s" % (seen, out)
        else:
            assert "Skipped:" in out, out

        flat = re.sub(r"\n +", " ", out)
        times = [(what, re.search(pat, flat)) for what, pat in (
            ("new leader", r"leads in term \d+: (\S+ m?s) after the kill"),
            ("sites follow", r"report to \S+: (\S+ m?s) after the kill"),
            ("agent's task moved", r"as pid \d+: (\S+ m?s) after the kill"),
            ("adopted", r"no task runs twice \((\S+ m?s)"),
            ("site silent", r"unknown: (\S+ m?s) after the cut"),
            ("site back", r"restarted \((\S+ m?s) after the heal"))]
        note("demo --exit took %.1fs; %s" % (took, ", ".join(
            "%s %s" % (what, m.group(1)) for what, m in times if m)))
        assert took < TOUR_LIMIT, "the demo took %.1fs" % took

        ctls = controllers(out)
        assert len(ctls) == 2, out
        left = left_behind(tmp, ctls)
        assert left == [], "left running: %s" % left
        prefix = ctls[0].split(":")[0].rsplit(".", 1)[0]
        table = "varde_demo_" + prefix.replace(".", "_")
        assert table not in nft_tables(), "nft table %s left" % table
        mode = os.stat(os.path.join(tmp, "token")).st_mode & 0o777
        assert mode == 0o600, "token file mode %o" % mode
        for name in ("raft-1", "raft-2", "raft-3", "oslo-1", "bergen-2",
                     "oslo-1-a", "oslo-1-b", "bergen-2-a", "bergen-2-b"):
            with open(os.path.join(tmp, name + ".log"), errors="replace") as f:
                log = f.read()
            assert log.startswith("=== start: varde "), name
            for mark in (cluster.SANITIZER_MARK, "runtime error:"):
                assert mark not in log, "%s.log: %s" % (name, mark)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@cluster.timeout(90)
def test_demo_ctrl_c_stops_the_job_every_daemon_and_every_task():
    p = start_demo("--no-tour", "--base-port", str(base_port()))
    out = ""
    path = None
    try:
        out = read_until(p, "Press Ctrl-C", 40)
        path = data_dir(out)
        ctls = controllers(out)
        assert path and len(ctls) == 2, out
        env = dict(os.environ, VARDE_ADDR=exported(out, "VARDE_ADDR"),
                   VARDE_TOKEN=exported(out, "VARDE_TOKEN"))
        r = subprocess.run([VARDE, "status", "--json"], capture_output=True,
                           text=True, env=env, timeout=20)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["leader"] is not None, r.stdout
        tasks = wait_until(lambda: left_behind(None, ctls)
                           if len(left_behind(None, ctls)) == 4 else None,
                           10, "4 task processes")
        rc, out, err = stop_demo(p, out)
    finally:
        kill_demo(p)
    if rc != 0:
        print(out + err)
        show_logs(path)
    assert rc == 0, "exit %d: %s" % (rc, err)
    assert "Stopped: 9 daemons and 4 task processes." in out, out
    assert "left behind" not in err, err
    left = left_behind(path, ctls)
    assert left == [], "left running: %s" % left
    for pid, _, _ in tasks:
        assert not _alive(pid), "task %d still runs" % pid
    assert not os.path.exists(path), "the demo left its data dir %s" % path
    r = subprocess.run([VARDE, "status", "--addr",
                        env["VARDE_ADDR"].split(",")[0]],
                       capture_output=True, env=env, timeout=20)
    assert r.returncode == 1, "a node still answers after the demo ended"


@cluster.timeout(90)
def test_demo_ctrl_c_while_a_site_is_cut_off_heals_it():
    cluster.need_nft()
    p = start_demo("--base-port", str(base_port()))
    out = ""
    try:
        out = read_until(p, "cut: nftables", 60)
        path = data_dir(out)
        ctls = controllers(out)
        prefix = ctls[0].split(":")[0].rsplit(".", 1)[0]
        table = "varde_demo_" + prefix.replace(".", "_")
        wait_until(lambda: table in nft_tables(), 5, "the demo's nft table")
        rc, out, err = stop_demo(p, out)
    finally:
        kill_demo(p)
    assert rc == 128 + signal.SIGINT, "exit %d: %s" % (rc, err)
    assert "interrupted" in err, err
    assert "Stopped: 9 daemons and 4 task processes." in out, out
    assert table not in nft_tables(), "nft table %s left" % table
    left = left_behind(path, ctls)
    assert left == [], "left running: %s" % left
    assert not os.path.exists(path), "the demo left its data dir %s" % path


@cluster.timeout(90)
def test_demo_two_at_once_take_addresses_of_their_own():
    base = base_port()
    a = start_demo("--no-tour", "--base-port", str(base))
    b = None
    outs = {}
    try:
        outs["a"] = read_until(a, "Press Ctrl-C", 40)
        b = start_demo("--no-tour", "--base-port", str(base))
        outs["b"] = read_until(b, "Press Ctrl-C", 40)
        addr_a = exported(outs["a"], "VARDE_ADDR")
        addr_b = exported(outs["b"], "VARDE_ADDR")
        assert addr_a != addr_b, (addr_a, addr_b)
        note("two demos: %s and %s" % (addr_a.split(",")[0],
                                       addr_b.split(",")[0]))
        for name, p in (("b", b), ("a", a)):
            rc, outs[name], err = stop_demo(p, outs[name])
            assert rc == 0, "demo %s: exit %d: %s" % (name, rc, err)
    finally:
        for p in (a, b):
            if p is not None:
                kill_demo(p)
    for name in ("a", "b"):
        left = left_behind(data_dir(outs[name]), controllers(outs[name]))
        assert left == [], "demo %s left: %s" % (name, left)


def test_demo_says_when_its_port_is_taken():
    base = base_port()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", base + 1))
    s.listen(1)
    try:
        p = subprocess.run([VARDE, "demo", "--exit", "--base-port",
                            str(base)], stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, env=demo_env(),
                           timeout=30)
    finally:
        s.close()
    assert p.returncode == 1, "exit %d, expected 1" % p.returncode
    assert p.stdout == "", "stdout: %r" % p.stdout
    lines = p.stderr.splitlines()
    assert len(lines) == 1, "expected one line, got %r" % p.stderr
    want = (r"^varde demo: port %d on 127\.\d+\.\d+\.12 \(for raft-2\) is "
            r"already in use" % (base + 1))
    assert re.search(want, lines[0]), lines[0]


# ---------------------------------------------------------------------------


def main(argv):
    names = argv[1:] or [n for n in sorted(globals(), key=_order)
                         if n.startswith("test_")]
    failed = 0
    for name in names:
        t0 = time.monotonic()
        try:
            globals()[name]()
            print("PASS  %s (%.1fs)" % (name, time.monotonic() - t0))
        except cluster.Skip as e:
            print("SKIP  %s: %s" % (name, e))
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print("FAIL  %s: %s" % (name, e))
    return 1 if failed else 0


def _order(name):
    fn = globals()[name]
    return getattr(getattr(fn, "__code__", None), "co_firstlineno", 0)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
