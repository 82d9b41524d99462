"""run.py - varde beside etcd on one machine: throughput, latency, failover,
memory and restart time.

    /usr/bin/python3 bench/run.py [PART...] [--trials N] [--seconds S]
                                  [--restart-entries N] [--no-etcd]

Parts (default: all, in this order; each runs varde, then etcd, on fresh
3-member clusters on loopback):
  poll       what observing a cluster costs: one status request, one round
             of polling both survivors (the resolution of failover times)
  writes     100-byte values at 1, 16 and 64 connections, to the leader
             (each concurrency on fresh clusters, varde and etcd in turn)
  reads      linearizable reads at 16 connections, to the leader
  failover   kill -9 of the leader -> both survivors agree on a new one
  transfer   SIGTERM of the leader (both hand over first) -> the same
  rss        VmRSS of idle members, then after 100k writes of distinct
             keys; then the restart of a follower (kill -9) until it has
             applied what it had
  restart    varde only: the restart of a follower whose log holds 1M
             entries (snapshots off), until it has applied them all

varde runs with its defaults (elections 150-300 ms, heartbeats every 50 ms,
a snapshot every 10000 entries); etcd (Debian's etcd-server) with
--heartbeat-interval 30 --election-timeout 150 and its defaults otherwise
(fsync on, a snapshot every 100000 entries). Both take the same load from
build/bench/load (bench/load.c, built here if missing): N kept-alive
connections, each sending its next request when the last is answered;
varde through PUT/GET /v1/kv/KEY, etcd through its v3 JSON gateway
(POST /v3/kv/put, /v3/kv/range). Only a 2xx counts.

The results are printed as one table with the ratio varde/etcd and each
target met or missed, and written to build/bench/results-<date>.json.
"""

import json
import math
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))
sys.path.insert(0, HERE)


def is_sanitized(path):
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


# `make asan` leaves its sanitized binary as ./varde; measure the plain
# build instead unless told otherwise.
if not os.environ.get("VARDE_BIN") and is_sanitized(
        os.path.join(ROOT, "varde")):
    os.environ["VARDE_BIN"] = os.path.join(ROOT, "build", "varde")

import cluster  # noqa: E402
import etcd  # noqa: E402

PARTS = ("poll", "writes", "reads", "failover", "transfer", "rss",
         "restart")
LOAD = os.path.join(ROOT, "build", "bench", "load")
LOAD_SRC = os.path.join(HERE, "load.c")
POLL_PAUSE = 0.002  # seconds between poll rounds
TRIAL_LIMIT = 5.0  # seconds: a trial without a new leader by then failed
WRITE_CONNS = (1, 16, 64)
READ_CONNS = 16
WARMUP = 1.0  # seconds of each load run that are not counted
RSS_WRITES = 100000
TARGETS = {
    "failover": {"median_ms": 200, "p99_ms": 320},
    "transfer": {"p99_ms": 10},
}


def percentile(sorted_xs, p):
    """Nearest-rank percentile of an ascending list."""
    k = max(0, math.ceil(p / 100.0 * len(sorted_xs)) - 1)
    return sorted_xs[k]


def summary(samples_ms):
    xs = sorted(samples_ms)
    return {"n": len(xs), "min_ms": xs[0], "median_ms": statistics.median(xs),
            "p99_ms": percentile(xs, 99), "max_ms": xs[-1],
            "samples_ms": [round(x, 3) for x in samples_ms]}


def fmt_summary(s):
    return ("min %6.1f  median %6.1f  p99 %6.1f  max %6.1f ms (n=%d)"
            % (s["min_ms"], s["median_ms"], s["p99_ms"], s["max_ms"], s["n"]))


def say(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# the load tool


def ensure_load():
    """Build build/bench/load when it is missing or older than load.c
    (`make bench` builds it too)."""
    if os.path.exists(LOAD) and \
            os.path.getmtime(LOAD) >= os.path.getmtime(LOAD_SRC):
        return
    os.makedirs(os.path.dirname(LOAD), exist_ok=True)
    cmd = ["gcc", "-O2", "-g", "-std=c11", "-D_GNU_SOURCE", "-Wall",
           "-Wextra", "-Wno-unused-parameter", "-o", LOAD, LOAD_SRC,
           "-levent"]
    say("building %s" % os.path.relpath(LOAD, os.getcwd()))
    subprocess.run(cmd, check=True)


def run_load(addr, mode, conns, duration=None, count=None, keys=10000,
             prefix="b.", warmup=WARMUP):
    """Run the load tool against ADDR; its JSON result."""
    args = [LOAD, "--target", addr, "--mode", mode, "--conns", str(conns),
            "--keys", str(keys), "--prefix", prefix, "--value-size", "100"]
    if duration is not None:
        args += ["--duration", "%g" % duration, "--warmup", "%g" % warmup]
    if count is not None:
        args += ["--count", str(count)]
        if duration is None:
            args += ["--duration", "900"]
    limit = (duration or 900) + 30
    r = subprocess.run(args, capture_output=True, text=True, timeout=limit)
    if r.returncode != 0:
        raise RuntimeError("load %s: %s" % (" ".join(args), r.stderr))
    return json.loads(r.stdout)


# ---------------------------------------------------------------------------
# the two systems behind one face


class Varde:
    name = "varde"
    put_mode, get_mode = "varde-put", "varde-get"
    heartbeat_s = 0.05

    def __init__(self, extra_args=()):
        self.c = cluster.Cluster(3, name="bench", extra_args=extra_args,
                                 log_level="warn")

    def ids(self):
        return self.c.ids()

    def addr(self, i):
        return self.c[i].addr

    def view(self, i):
        """(leader, term, says it leads) as node I sees it, or None."""
        st = self.c[i].client.get()
        if st is None:
            return None
        return st.get("leader") or None, st.get("term"), \
            st.get("role") == "leader"

    def applied(self, i):
        st = self.c[i].client.get()
        return st and st.get("applied_index")

    def kill(self, i):
        self.c[i].kill()

    def start(self, i):
        self.c[i].start()

    def sigterm(self, i):
        nd = self.c[i]
        nd.expect_exit = True
        nd.proc.send_signal(signal.SIGTERM)

    def wait_exit(self, i):
        return self.c[i].wait_exit(5.0)

    def rss_kib(self, i):
        return self.c[i].rss_kib()

    def disk_bytes(self, i):
        return du(self.c[i].data_dir)

    def close(self):
        self.c.teardown()


class Etcd:
    name = "etcd"
    put_mode, get_mode = "etcd-put", "etcd-range"
    heartbeat_s = 0.03

    def __init__(self, extra=()):
        self.e = etcd.EtcdCluster(3, heartbeat_ms=30, election_ms=150,
                                  extra=extra)

    def ids(self):
        return self.e.ids()

    def addr(self, i):
        return self.e[i].addr

    def view(self, i):
        m = self.e[i]
        st = m.status()
        if st is None:
            return None
        lead = self.e.by_member_id(st.get("leader"))
        return lead, st.get("raftTerm"), lead == i

    def applied(self, i):
        st = self.e[i].status()
        return st and int(st.get("raftAppliedIndex", 0))

    def kill(self, i):
        self.e[i].kill()

    def start(self, i):
        self.e[i].start()

    def sigterm(self, i):
        self.e[i].proc.send_signal(signal.SIGTERM)

    def wait_exit(self, i):
        return self.e[i].proc.wait(timeout=10)

    def rss_kib(self, i):
        return self.e[i].rss_kib()

    def disk_bytes(self, i):
        return du(self.e[i].data_dir)

    def close(self):
        self.e.teardown()


def du(path):
    total = 0
    for d, _, files in os.walk(path):
        for f in files:
            try:
                total += os.path.getsize(os.path.join(d, f))
            except OSError:
                pass
    return total


def agreed(views, exclude=()):
    """The leader that every view names in one term, the leader itself (if
    among them) saying so; None if not, or if it is in EXCLUDE."""
    if not views or any(v is None for v in views.values()):
        return None
    lead, term = next(iter(views.values()))[:2]
    if not lead or lead in exclude:
        return None
    for i, (ld, tm, me) in views.items():
        if ld != lead or tm != term or (i == lead and not me):
            return None
    return lead


def wait_leader(s, timeout=15.0, ids=None):
    ids = ids or s.ids()
    return cluster.wait_until(
        lambda: agreed({i: s.view(i) for i in ids}), timeout,
        "%s members %s to agree on a leader" % (s.name, ids))


def settle(s):
    """All agree on one leader and stay so for 0.4 s; then a random part of
    a heartbeat interval, so that the next signal lands at a random phase
    of it. Returns the leader."""
    for _ in range(20):
        lead = wait_leader(s)
        end = time.monotonic() + 0.4
        while time.monotonic() < end:
            if agreed({i: s.view(i) for i in s.ids()}) != lead:
                break
            time.sleep(0.02)
        else:
            time.sleep(random.uniform(0, s.heartbeat_s))
            return lead
    raise RuntimeError("%s: no stable leader" % s.name)


def start_system(name, **kw):
    return Varde(**kw) if name == "varde" else Etcd(**kw)


# ---------------------------------------------------------------------------
# parts


def part_poll(s, opts):
    lead = settle(s)
    one = []
    for _ in range(500):
        t = time.perf_counter()
        assert s.view(lead) is not None, "status did not answer"
        one.append((time.perf_counter() - t) * 1000)
    f1, f2 = [i for i in s.ids() if i != lead]
    rounds = []
    for _ in range(200):
        t = time.perf_counter()
        s.view(f1)
        s.view(f2)
        time.sleep(POLL_PAUSE)
        rounds.append((time.perf_counter() - t) * 1000)
    res = {"one_status_ms": summary(one), "round_ms": summary(rounds)}
    for v in res.values():
        del v["samples_ms"]
    say("  %s status: one %s" % (s.name, fmt_summary(res["one_status_ms"])))
    say("  %s status: round %s" % (s.name, fmt_summary(res["round_ms"])))
    return res


def part_writes(s, opts, conns):
    lead = settle(s)
    r = run_load(s.addr(lead), s.put_mode, conns, opts["seconds"])
    say("  %s writes, %2d conns: %8.0f/s  p50 %6.2f ms  p99 %6.2f ms  "
        "errors %d" % (s.name, conns, r["rate"], r["p50_us"] / 1000,
                       r["p99_us"] / 1000, r["errors"]))
    return r


def part_reads(s, opts):
    lead = settle(s)
    fill = run_load(s.addr(lead), s.put_mode, 64, count=10000, keys=10000,
                    prefix="r.", warmup=0)
    r = run_load(s.addr(lead), s.get_mode, READ_CONNS, opts["seconds"],
                 keys=10000, prefix="r.")
    say("  %s reads, %2d conns: %8.0f/s  p50 %6.2f ms  p99 %6.2f ms  "
        "errors %d (after %d writes to fill)"
        % (s.name, READ_CONNS, r["rate"], r["p50_us"] / 1000,
           r["p99_us"] / 1000, r["errors"], fill["ok"]))
    return {"leader": lead, str(READ_CONNS): r, "fill": fill}


def time_takeover(s, old, send):
    """Call SEND() (which signals OLD) and poll both survivors every ~2 ms
    until they agree on a new leader. Returns (seconds, new leader)."""
    survivors = [i for i in s.ids() if i != old]
    for i in survivors:  # open the kept-alive connections first
        s.view(i)
    t0 = time.perf_counter()
    send()
    while True:
        views = {i: s.view(i) for i in survivors}
        t = time.perf_counter()
        lead = agreed(views, exclude=(old,))
        if lead:
            return t - t0, lead
        if t - t0 > TRIAL_LIMIT:
            raise RuntimeError("%s: no agreed new leader %.1fs after the "
                               "signal" % (s.name, TRIAL_LIMIT))
        time.sleep(POLL_PAUSE)


def part_failover(s, opts):
    samples, winners = [], []
    for _ in range(opts["trials"]):
        lead = settle(s)
        secs, new = time_takeover(s, lead, lambda: s.kill(lead))
        samples.append(secs * 1000)
        winners.append(new)
        s.start(lead)
    res = summary(samples)
    res["winners"] = winners
    say("  %s kill -9 of the leader: %s" % (s.name, fmt_summary(res)))
    return res


def part_transfer(s, opts):
    samples, codes = [], []
    for _ in range(opts["trials"]):
        lead = settle(s)
        secs, _ = time_takeover(s, lead, lambda: s.sigterm(lead))
        samples.append(secs * 1000)
        codes.append(s.wait_exit(lead))
        s.start(lead)
    res = summary(samples)
    res["exit_codes"] = codes
    say("  %s SIGTERM of the leader: %s" % (s.name, fmt_summary(res)))
    # etcd re-raises SIGTERM once it has stopped (-15); varde exits 0.
    if s.name == "varde" and any(codes):
        say("  !! %s: old leaders exited with %s (expected 0)"
            % (s.name, codes))
    return res


def time_restart(s, i, target):
    """kill -9 member I, start it again and time until it answers and until
    it has applied TARGET. Returns a dict of milliseconds."""
    s.kill(i)
    t0 = time.perf_counter()
    s.start(i)
    answered = None
    deadline = t0 + 300
    while time.perf_counter() < deadline:
        applied = s.applied(i)
        t = time.perf_counter()
        if applied is not None and answered is None:
            answered = t
        if applied is not None and applied >= target:
            return {"answers_ms": (answered - t0) * 1000,
                    "applied_ms": (t - t0) * 1000, "applied_index": applied}
        time.sleep(0.005 if applied is not None else 0.002)
    raise RuntimeError("%s member %d did not apply %d within 300 s"
                       % (s.name, i, target))


def part_rss(s, opts):
    lead = settle(s)
    time.sleep(1.0)
    idle = {str(i): s.rss_kib(i) for i in s.ids()}
    w = run_load(s.addr(lead), s.put_mode, 64, count=RSS_WRITES,
                 keys=RSS_WRITES, prefix="m.", warmup=0)
    time.sleep(1.0)
    after = {str(i): s.rss_kib(i) for i in s.ids()}
    top = max(s.applied(i) or 0 for i in s.ids())
    disk = {str(i): s.disk_bytes(i) for i in s.ids()}
    f = [i for i in s.ids() if i != lead][0]
    rs = time_restart(s, f, top)
    say("  %s RSS idle: leader %.1f MiB (max %.1f); after %d writes "
        "(%.0f/s): leader %.1f MiB (max %.1f); disk %.0f MiB/member"
        % (s.name, idle[str(lead)] / 1024, max(idle.values()) / 1024,
           w["ok"], w["rate"], after[str(lead)] / 1024,
           max(after.values()) / 1024, max(disk.values()) / 2 ** 20))
    say("  %s restart after %d writes: answers after %.0f ms, applied %d "
        "after %.0f ms" % (s.name, w["ok"], rs["answers_ms"],
                           rs["applied_index"], rs["applied_ms"]))
    return {"leader": lead, "idle_kib": idle, "after_kib": after,
            "writes": w, "disk_bytes": disk, "restart": rs}


def part_restart(s, opts):
    n = opts["restart_entries"]
    lead = settle(s)
    t0 = time.monotonic()
    w = run_load(s.addr(lead), s.put_mode, 64, count=n, keys=10000,
                 prefix="x.", warmup=0)
    wrote = time.monotonic() - t0
    top = max(s.applied(i) or 0 for i in s.ids())
    f = [i for i in s.ids() if i != lead][0]
    disk = s.disk_bytes(f)
    rs = time_restart(s, f, top)
    rss = s.rss_kib(f)
    say("  %s restart with a %d-entry log (%.0f MiB on disk, written in "
        "%.0f s): answers after %.0f ms, applied %d after %.0f ms; RSS then "
        "%.1f MiB" % (s.name, top, disk / 2 ** 20, wrote, rs["answers_ms"],
                      rs["applied_index"], rs["applied_ms"], rss / 1024))
    return {"entries": top, "writes": w, "disk_bytes": disk, "restart": rs,
            "rss_kib": rss, "write_seconds": wrote}


FNS = {"poll": part_poll, "writes": part_writes, "reads": part_reads,
       "failover": part_failover, "transfer": part_transfer,
       "rss": part_rss, "restart": part_restart}


def run_part(part, name, opts, *args):
    kw = {}
    if part == "restart":
        if name == "varde":
            kw["extra_args"] = ["--snapshot-entries",
                                str(2 * opts["restart_entries"])]
        else:
            kw["extra"] = ["--snapshot-count",
                           str(2 * opts["restart_entries"])]
    s = start_system(name, **kw)
    try:
        return FNS[part](s, opts, *args)
    finally:
        s.close()


# ---------------------------------------------------------------------------
# the table


class Table:
    def __init__(self, res):
        self.res = res
        self.rows = []
        self.targets = []

    def get(self, name, *path):
        v = self.res.get(name)
        for p in path:
            if not isinstance(v, dict) or p not in v:
                return None
            v = v[p]
        return v

    def row(self, what, v, e, unit_fmt="%.1f", target=None, met=None,
            name=None):
        """A row WHAT with varde's V and etcd's E; TARGET (text) was MET
        (True, False, None: not measured); NAME names it in the summary."""
        ratio = "%.2f" % (v / e) if v is not None and e else ""
        fmt = lambda x: (unit_fmt % x) if x is not None else "-"  # noqa
        mark = ""
        full = name or what.strip()
        if target:
            mark = "%s: %s" % (target, "-" if met is None else
                               ("met" if met else "MISSED"))
            self.targets.append((full, target, met))
        self.rows.append((what, fmt(v), fmt(e), ratio, mark))

    def load_rows(self, part, conns, label):
        def f(name, key, scale=1.0):
            v = self.get(name, part, str(conns), key)
            return v / scale if v is not None else None

        vr, er = f("varde", "rate"), f("etcd", "rate")
        vp50, ep50 = f("varde", "p50_us", 1000), f("etcd", "p50_us", 1000)
        vp99, ep99 = f("varde", "p99_us", 1000), f("etcd", "p99_us", 1000)
        if vr is None and er is None:
            return
        goal = None
        if part == "writes" and conns == 64:
            goal = ">= 2x etcd"
        what = "%s, %d conns" % (label, conns)
        self.row(what + ", /s", vr, er, "%.0f", goal,
                 None if vr is None or er is None else vr >= 2 * er)
        self.row("  p50 ms", vp50, ep50, "%.2f")
        self.row("  p99 ms", vp99, ep99, "%.2f", "< etcd",
                 None if vp99 is None or ep99 is None else vp99 < ep99,
                 name=what + ", p99")
        for name in ("varde", "etcd"):
            errs = self.get(name, part, str(conns), "errors")
            if errs:
                self.rows.append(("  errors (%s)" % name, str(errs), "", "",
                                  ""))

    def build(self):
        for conns in WRITE_CONNS:
            self.load_rows("writes", conns, "writes")
        self.load_rows("reads", READ_CONNS, "reads")
        self.timing_rows("failover", "failover kill -9", True)
        self.timing_rows("transfer", "handover SIGTERM", False)
        self.rss_rows()
        self.restart_rows()
        self.poll_rows()

    def timing_rows(self, part, label, compare):
        v, e = self.get("varde", part), self.get("etcd", part)
        if v is None and e is None:
            return
        g = lambda s, k: s[k] if s else None  # noqa
        t = TARGETS[part]
        vm, em = g(v, "median_ms"), g(e, "median_ms")
        if compare:
            self.row("%s median ms" % label, vm, em, "%.1f", "<= etcd",
                     None if vm is None or em is None else vm <= em)
            self.row("  varde's own target", vm, None, "%.1f",
                     "<= %d" % t["median_ms"],
                     None if vm is None else vm <= t["median_ms"],
                     name="%s median, varde's own" % label)
        else:
            self.row("%s median ms" % label, vm, em, "%.1f")
        vp, ep = g(v, "p99_ms"), g(e, "p99_ms")
        self.row("  p99 ms", vp, ep, "%.1f", "<= %d" % t["p99_ms"],
                 None if vp is None else vp <= t["p99_ms"],
                 name="%s p99, varde's own" % label)

    def rss_rows(self):
        def mib(name, key):
            d = self.get(name, "rss", key)
            lead = self.get(name, "rss", "leader")
            return d[str(lead)] / 1024 if d else None

        if self.get("varde", "rss") is None and \
                self.get("etcd", "rss") is None:
            return
        for key, label in (("idle_kib", "RSS idle, leader MiB"),
                           ("after_kib", "RSS after 100k writes MiB")):
            v, e = mib("varde", key), mib("etcd", key)
            self.row(label, v, e, "%.1f", "< etcd/10",
                     None if v is None or e is None else v < e / 10)
        v = self.get("varde", "rss", "restart", "applied_ms")
        e = self.get("etcd", "rss", "restart", "applied_ms")
        self.row("restart after 100k writes ms", v, e, "%.0f")

    def restart_rows(self):
        for name in ("varde", "etcd"):
            r = self.get(name, "restart")
            if r is None:
                continue
            self.rows.append((
                "restart, %dk-entry log ms" % (r["entries"] // 1000),
                "%.0f" % r["restart"]["applied_ms"] if name == "varde"
                else "-", "%.0f" % r["restart"]["applied_ms"]
                if name == "etcd" else "-", "", ""))

    def poll_rows(self):
        v = self.get("varde", "poll", "round_ms", "median_ms")
        e = self.get("etcd", "poll", "round_ms", "median_ms")
        if v is not None or e is not None:
            self.row("poll round ms (resolution)", v, e, "%.2f")

    def print(self):
        say("")
        say("%-30s %10s %10s %10s  %s" % ("", "varde", "etcd", "varde/etcd",
                                          "target"))
        for r in self.rows:
            say("%-30s %10s %10s %10s  %s" % r)
        met = sum(1 for t in self.targets if t[2])
        missed = [t for t in self.targets if t[2] is False]
        say("")
        say("targets: %d met, %d missed%s" % (
            met, len(missed), "".join("\n  MISSED %s (%s)" % (w, g)
                                      for w, g, _ in missed)))
        return [{"what": w, "target": g, "met": m}
                for w, g, m in self.targets]


# ---------------------------------------------------------------------------
# main


def git_head():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def git_dirty():
    """Files under src/ that differ from HEAD: the binary measured may hold
    work not yet committed."""
    try:
        out = subprocess.run(["git", "-C", ROOT, "status", "--porcelain",
                              "--", "src"], capture_output=True, text=True,
                             check=True).stdout
        return [line[3:] for line in out.splitlines()]
    except (OSError, subprocess.CalledProcessError):
        return None


def machine():
    cpu = None
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"cpus": os.cpu_count(), "cpu": cpu, "mem_gib": round(
        mem / 2 ** 30, 1), "kernel": platform.release(),
        "fdatasync_us": fdatasync_us(), "loadavg": os.getloadavg()}


def fdatasync_us():
    """The median time of a 200-byte append and its fdatasync, in build/
    (the disk both systems write to)."""
    path = os.path.join(ROOT, "build", "bench", "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    xs = []
    try:
        for _ in range(200):
            t = time.perf_counter()
            os.write(fd, b"x" * 200)
            os.fdatasync(fd)
            xs.append((time.perf_counter() - t) * 1e6)
    finally:
        os.close(fd)
        os.unlink(path)
    return round(statistics.median(xs), 1)


def parse_args(argv):
    opts = {"trials": 20, "seconds": 5.0, "restart_entries": 1000000,
            "etcd": True, "parts": []}
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--trials" and args:
            opts["trials"] = int(args.pop(0))
        elif a == "--seconds" and args:
            opts["seconds"] = float(args.pop(0))
        elif a == "--restart-entries" and args:
            opts["restart_entries"] = int(args.pop(0))
        elif a == "--no-etcd":
            opts["etcd"] = False
        elif a in PARTS:
            opts["parts"].append(a)
        else:
            return None
    opts["parts"] = [p for p in PARTS if p in opts["parts"]] or list(PARTS)
    return opts


def main(argv):
    opts = parse_args(argv)
    if opts is None:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    ensure_load()
    os.makedirs(os.path.join(ROOT, "build", "bench"), exist_ok=True)
    systems = ["varde"]
    why = etcd.available()
    if opts["etcd"] and why:
        say("etcd skipped: %s" % why)
    elif opts["etcd"]:
        systems.append("etcd")
    m = machine()
    say("varde beside etcd: 3 members each on loopback, one after the other")
    say("machine: %d cpus (%s), %.0f GiB, kernel %s, fdatasync %.0f us, "
        "load average %.2f" % (m["cpus"], m["cpu"], m["mem_gib"],
                               m["kernel"], m["fdatasync_us"],
                               m["loadavg"][0]))
    if m["loadavg"][0] > 0.5:
        say("  !! the machine is busy: both systems share what is left, "
            "but the figures will be noisy")
    say("varde: %s%s; etcd: %s" % (
        os.path.relpath(cluster.VARDE, os.getcwd()),
        " (SANITIZED: numbers not representative)"
        if is_sanitized(cluster.VARDE) else "",
        etcd.version() if "etcd" in systems else "skipped"))
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "commit": git_head(), "src_changes": git_dirty(),
               "binary": cluster.VARDE,
               "sanitized": is_sanitized(cluster.VARDE),
               "etcd_version": etcd.version(), "machine": m,
               "options": {k: v for k, v in opts.items()},
               "varde": {}, "etcd": {}}
    started = time.monotonic()
    for part in opts["parts"]:
        say("%s:" % part)
        if part == "writes":
            # Each concurrency on fresh clusters, the two systems in turn,
            # so that both meet much the same machine.
            for conns in WRITE_CONNS:
                for name in systems:
                    results[name].setdefault(part, {})[str(conns)] = \
                        run_part(part, name, opts, conns)
            continue
        for name in systems:
            if part == "restart" and name == "etcd":
                continue  # 1M writes take etcd ~7 minutes here
            results[name][part] = run_part(part, name, opts)
    table = Table(results)
    table.build()
    results["targets"] = table.print()
    results["seconds"] = round(time.monotonic() - started, 1)
    results["loadavg_end"] = os.getloadavg()
    path = os.path.join(ROOT, "build", "bench", "results-%s.json"
                        % time.strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    say("results: %s (%.0f s)" % (os.path.relpath(path, os.getcwd()),
                                  results["seconds"]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
