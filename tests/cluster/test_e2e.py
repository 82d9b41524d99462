"""test_e2e.py - the whole hierarchy with real processes, broken one way
per test while a job load runs.

The fleet (fleet.py): 3 raft nodes (--site-ttl 2000), 2 sites of one
controller and 2 agents each (agents down after 2 s), every daemon on its
own loopback address. Each test starts a job of 4 sleeps and a job of 2
tasks that write to the kv store through their controller (VARDE_CONTROLLER)
and print each write that was acknowledged, then runs a load (a thread
that submits small jobs and writes kv keys, recording what was
acknowledged) and a sampler (a thread that counts task processes per
VARDE_TASK through /proc, and notes the sites' status) through the fault:

- kill -9 of the raft leader, twice in a row: no site goes silent;
- SIGSTOP of the raft leader for 3 s, then SIGCONT;
- a site's controller cut off from every raft node (nftables) past the
  site TTL, then healed: the cluster shows the site silent and its tasks
  unknown, then connected and running, and the tasks never stop;
- kill -9 of a controller, down 7 s (past the site TTL, and long enough
  for its agents' retries to back off), then restarted: it knows its
  agents and tasks at once, and nothing runs twice;
- kill -9 of an agent: its tasks run on the other agent of its site
  within the TTL plus a second; restarted, one copy of each is left;
- every raft node killed at once, then all started: the sites run on,
  and none goes silent.

After each fault the same checks (end()): every acknowledged job and kv
write (the load's and the tasks') is on every raft node; every job has
its count of tasks running, each as exactly one process whose pid the
cluster shows; no task ran twice (but for the copies a dead agent leaves
running by design) and every task that ran before the fault kept its pid;
stopping every job leaves no task process; the teardown leaves no daemon.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_e2e.py [NAME...]
"""

import glob
import os
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import JsonClient, note  # noqa: E402
from fleet import Fleet, poll_call  # noqa: E402

SITE_TTL_MS = 2000
AGENT_TTL_MS = 2000
SITES = ("oslo-1", "bergen-2")
# Long enough for the agents' backoff to grow past the agent TTL if
# nothing bounds it (200 ms doubling: 0.2, 0.6, 1.4, 3.0, 6.2 s...).
CTL_DOWN_S = 7.0

# A task that writes e2e-w/TASK/PID/N (N = 0, 1, ...) through its
# controller, one at a time, and prints "acked KEY VALUE" for each write
# answered 200; a write that fails is tried again. Then it idles.
WRITER = r"""
import os, time, urllib.request
key = "e2e-w/%s/%d/" % (os.environ["VARDE_TASK"], os.getpid())
url = "http://%s/v1/kv/" % os.environ["VARDE_CONTROLLER"]
n = 0
for attempt in range(20000):
    if n >= 1000:
        break
    value = b"w%d" % n
    try:
        req = urllib.request.Request(url + key + str(n), data=value,
                                     method="PUT")
        urllib.request.urlopen(req, timeout=3).read()
    except Exception:
        time.sleep(0.1)
        continue
    print("acked", key + str(n), value.decode(), flush=True)
    n += 1
    time.sleep(0.1)
time.sleep(100000)
"""


class Load:
    """Threads that write to the raft nodes while a test breaks them: one
    submits jobs PREFIX-0, PREFIX-1, ... (count 1 or 2, one every
    JOB_EVERY seconds, at most MAX_JOBS), WRITERS others write kv keys
    e2e/PREFIX/T/K (at most MAX_WRITES each). Each request goes to the
    next live raft node (any node forwards to the leader), so a request
    stuck on a paused node holds up one thread only. Only a 200 counts as
    acknowledged; anything else is tried again on the next node (a job
    put is idempotent, and a key is written again with the same value).
    A client gives up on a request after 2 s (a node forwards a write to
    a paused leader for up to 15 s before it answers 504)."""

    def __init__(self, f, prefix, writers=3, max_jobs=10, job_every=0.5,
                 max_writes=300):
        self.f, self.prefix = f, prefix
        self.max_jobs, self.job_every = max_jobs, job_every
        self.max_writes = max_writes
        self.kv = {}  # key -> (value, index)
        self.jobs = {}  # job id -> (count, index)
        self.other = {}  # status or exception name -> count
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._jobs, daemon=True)] + [
            threading.Thread(target=self._writes, args=(t,), daemon=True)
            for t in range(writers)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def finish(self):
        self.stopping.set()
        for t in self.threads:
            t.join(20.0)
            assert not t.is_alive(), "a load thread did not stop"

    def writes(self):
        with self.lock:
            return len(self.kv)

    def submitted(self):
        with self.lock:
            return len(self.jobs)

    def top_index(self):
        with self.lock:
            return max([i for _, i in self.kv.values()] +
                       [i for _, i in self.jobs.values()] + [0])

    def _send(self, turn, method, path, body):
        """One request to the TURN-th live node: (status, body)."""
        ids = self.f.c.live_ids()
        if not ids:
            return "no node", None
        nd = self.f.c[ids[turn % len(ids)]]
        try:
            st, got = poll_call(nd.host, nd.port, method, path, body,
                                timeout=2.0)
        except Exception as e:  # a garbled answer from a dying node
            st, got = type(e).__name__, None
        if st != 200:
            with self.lock:
                what = st if st is not None else "no answer"
                self.other[what] = self.other.get(what, 0) + 1
        return st, got

    def _loop(self, step, limit):
        """Call STEP(turn) until stopped, LIMIT successes, or 90 s; a
        failed step moves to the next node after a pause."""
        turn, done = 0, 0
        deadline = time.monotonic() + 90  # bounded even if never stopped
        while not self.stopping.is_set() and done < limit and \
                time.monotonic() < deadline:
            pause = step(turn, done)
            if pause is None:
                turn += 1
                pause = 0.02
            else:
                done += 1
            self.stopping.wait(pause)

    def _jobs(self):
        def step(turn, n):
            jid = "%s-%d" % (self.prefix, n)
            count = 1 + n % 2
            st, got = self._send(turn, "POST", "/v1/jobs",
                                 self.f.job(jid, count))
            if st != 200:
                return None
            with self.lock:
                self.jobs[jid] = (count, got["index"])
            return self.job_every
        self._loop(step, self.max_jobs)

    def _writes(self, t):
        def step(turn, k):
            key, value = "e2e/%s/%d/%d" % (self.prefix, t, k), "v%d" % k
            st, got = self._send(turn + t, "PUT", "/v1/kv/" + key, value)
            if st != 200:
                return None
            with self.lock:
                self.kv[key] = (value, got["index"])
            return 0.02
        self._loop(step, self.max_writes)


class Sampler:
    """Two threads: one counts the fleet's task processes per task id
    every 50 ms (every pid seen, and the most copies at once); one notes
    each change of the sites' status in a live node's own view."""

    def __init__(self, f):
        self.f = f
        self.pids = {}  # task id -> set of pids seen
        self.copies = {}  # task id -> most processes at once
        self.sites = []  # (seconds since start, {site: status}) on change
        self.t0 = time.monotonic()
        self.stopping = threading.Event()
        self.threads = [threading.Thread(target=self._procs, daemon=True),
                        threading.Thread(target=self._sites, daemon=True)]

    def start(self):
        for t in self.threads:
            t.start()
        return self

    def stop(self):
        self.stopping.set()
        for t in self.threads:
            t.join(10.0)
            assert not t.is_alive(), "a sampler thread did not stop"

    def _procs(self):
        for _ in range(10000):
            if self.stopping.wait(0.05):
                break
            now = {}
            for pid, tid in self.f.processes().items():
                now.setdefault(tid, set()).add(pid)
            for tid, pids in now.items():
                self.pids.setdefault(tid, set()).update(pids)
                self.copies[tid] = max(self.copies.get(tid, 0), len(pids))

    def _sites(self):
        last = None
        for _ in range(10000):
            if self.stopping.wait(0.1):
                break
            for i in self.f.c.live_ids():
                nd = self.f.c[i]
                st, body = poll_call(nd.host, nd.port, "GET",
                                     "/v1/sites?stale", timeout=1.0)
                if st == 200:
                    got = {s["name"]: s["status"] for s in body["sites"]}
                    if got != last:
                        self.sites.append((time.monotonic() - self.t0, got))
                        last = got
                    break

    def went(self, site, status):
        """Whether SITE was seen with STATUS."""
        return any(s.get(site) == status for _, s in self.sites)


# ---------------------------------------------------------------------------
# the checks


def converged(f):
    """{task id: pid} when every job of the cluster has its count of tasks
    running, none asked to stop, each task exactly one process whose pid
    the cluster shows, and no other task process; else None."""
    jobs, tasks = f.jobs(), f.tasks()
    if jobs is None or tasks is None:
        return None
    procs = {}
    for pid, tid in f.processes().items():
        procs.setdefault(tid, []).append(pid)
    if any(len(p) != 1 for p in procs.values()):
        return None
    if any(t["stop"] or t["state"] != "running" for t in tasks):
        return None
    per_job = {}
    for t in tasks:
        per_job[t["job"]] = per_job.get(t["job"], 0) + 1
    if per_job != jobs:
        return None
    want = {t["id"]: t["pid"] for t in tasks}
    if want != {tid: p[0] for tid, p in procs.items()}:
        return None
    return want


def describe(f):
    """What the fleet looks like, for a wait that timed out."""
    procs = {}
    for pid, tid in f.processes().items():
        procs.setdefault(tid, []).append(pid)
    tasks = f.tasks() or []
    agents = {}
    for site in f.sites.values():
        st, body = poll_call(site.ctl.host, site.ctl.port, "GET",
                             "/v1/agents", timeout=2.0)
        agents[site.name] = st if st != 200 else [
            (a["name"], a["status"], a["tasks"], a["last_heartbeat_ms"])
            for a in body["agents"]]
        for a in site.agents:
            st = a.status()
            agents[a.name] = "dead" if not a.alive() else st and (
                st["connected"], sorted((t["id"], t["state"])
                                        for t in st["tasks"]))
    return "%s\nagents %s\njobs %s\ntasks %s\nprocesses %s" % (
        f.c.describe(), agents, f.jobs(),
        sorted((t["id"], t["site"], t["agent"], t["state"], t["pid"],
                t["stop"]) for t in tasks), sorted(procs.items()))


def wait_converged(f, timeout=15.0, what="every job at its count"):
    return cluster.wait_until(lambda: converged(f), timeout, what,
                              interval=0.05, state=lambda: describe(f))


def parent(pid):
    """The parent pid of PID, from /proc (None once it is gone)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as fh:
            return int(fh.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def hold(f, want, seconds):
    """Poll for SECONDS that the task processes stay WANT."""
    end = time.monotonic() + seconds
    for _ in range(1000):
        if time.monotonic() >= end:
            return
        got = {tid: pid for pid, tid in f.processes().items()}
        assert got == want and len(got) == len(f.processes()), (got, want)
        time.sleep(0.05)


def writer_acks(f):
    """{key: value} of every write a writer task printed as acknowledged
    (from the output files of every copy on every agent)."""
    acked = {}
    for path in glob.glob(os.path.join(f.c.tmp, "*", "tasks", "writer.*",
                                       "output.log*")):
        with open(path, "rb") as fh:
            for line in fh.read().decode(errors="replace").splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[0] == "acked":
                    acked[parts[1]] = parts[2]
    return acked


def check_acked(f, load):
    """Every job and kv write the load saw acknowledged, and every write
    the writer tasks printed, is on every raft node (read from its own
    state once it has applied what the leader has committed)."""
    wacked = writer_acks(f)
    lead = f.leader()
    st = f.c.wait_until(lead.status, 5.0, "the leader's status")
    top = max(load.top_index(), st["commit_index"])

    def applied():
        sts = f.c.statuses(f.c.ids())
        return all(st and st["applied_index"] >= top for st in sts.values())
    f.c.wait_until(applied, 10.0, "every node to apply index %d" % top)
    kv = {k: v for k, (v, _) in load.kv.items()}
    kv.update(wacked)
    for i in f.c.ids():
        cl = JsonClient(f.c[i].host, f.c[i].port, timeout=5.0)
        try:
            jobs = cl.request("GET", "/v1/jobs?stale")
            have = {j["id"]: j["count"] for j in jobs["jobs"]}
            lost = [j for j, (n, _) in load.jobs.items() if have.get(j) != n]
            assert not lost, "node %d lost acknowledged jobs %s" % (i, lost)
            missing = []
            for key, value in sorted(kv.items()):
                got = cl.request("GET", "/v1/kv/%s?stale" % key)
                if got is None or got["value"] != value:
                    missing.append((key, value, got))
            assert not missing, "node %d lost %d of %d acknowledged " \
                "writes, e.g. %s" % (i, len(missing), len(kv), missing[:5])
        finally:
            cl.close()
    return len(wacked)


def begin(f, prefix):
    """The fleet ready, the base jobs running; the load and the sampler
    started. Returns ({task id: pid} before the fault, load, sampler)."""
    f.wait_ready()
    f.submit(f.job("base", count=4))
    f.submit(f.job("writer", count=2,
                   command=["/usr/bin/python3", "-c", WRITER]))
    before = wait_converged(f, 15.0, "the base jobs running")
    sampler = Sampler(f).start()
    load = Load(f, prefix).start()
    f.c.wait_until(lambda: load.writes() >= 20 and load.jobs, 10.0,
                   "the load under way")
    return before, load, sampler


def first_write(f, load, t0, timeout=10.0):
    """Write probe keys through each live node in turn, on fresh
    connections with a 1 s timeout, until one is acknowledged (kept in the
    load's, to be checked); the seconds since T0."""
    n = [0]

    def acked():
        ids = f.c.live_ids()
        if not ids:
            return None
        nd = f.c[ids[n[0] % len(ids)]]
        key, value = "e2e/probe/%d" % n[0], "p%d" % n[0]
        n[0] += 1
        st, got = poll_call(nd.host, nd.port, "PUT", "/v1/kv/" + key, value,
                            timeout=1.0)
        if st != 200:
            return None
        with load.lock:
            load.kv[key] = (value, got["index"])
        return True
    f.c.wait_until(acked, timeout, "a write acknowledged", interval=0.01)
    return time.monotonic() - t0


def progress(f, load, more=20, timeout=10.0, what="the load going on"):
    """Until the load has MORE acknowledged writes than now, and one more
    acknowledged job (unless it has submitted all it will)."""
    writes = load.writes() + more
    jobs = min(load.submitted() + 1, load.max_jobs)
    f.c.wait_until(lambda: load.writes() >= writes and
                   load.submitted() >= jobs, timeout, what)


def end(f, load, sampler, before, twice=()):
    """The checks after a fault (the module's doc). Tasks in TWICE may
    have run as two processes for a while (a dead agent's copies). Returns
    a line of figures."""
    load.finish()
    t0 = time.monotonic()
    final = wait_converged(f, 15.0, "every job at its count after the fault")
    settled = time.monotonic() - t0
    hold(f, final, 0.5)
    sampler.stop()
    wrote = check_acked(f, load)
    twice_seen = {t: n for t, n in sampler.copies.items() if n > 1}
    assert set(twice_seen) <= set(twice), \
        "tasks that ran as more than one process: %s" % twice_seen
    assert all(n == 2 for n in twice_seen.values()), twice_seen
    changed = {tid: (pid, sorted(sampler.pids.get(tid, ())),
                     final.get(tid))
               for tid, pid in before.items() if final.get(tid) != pid}
    changed.update({tid: (None, sorted(pids), final.get(tid))
                    for tid, pids in sampler.pids.items()
                    if len(pids) > 1 and tid not in twice})
    assert not changed, "tasks that stopped or restarted (task: pid " \
        "before, pids seen, pid after): %s" % changed
    for jid in sorted(f.jobs() or {}):
        f.stop(jid)
    f.c.wait_until(lambda: not f.processes() and f.tasks() == [], 15.0,
                   "every task gone after the jobs were stopped")
    return ("%d jobs and %d kv writes acked (%d by tasks), not acked: %s; "
            "%d tasks at their count %.2fs after the load stopped"
            % (len(load.jobs), len(load.kv), wrote, load.other or "none",
               len(final), settled))


def ctl_on(f, lead):
    """Until every controller is connected to LEAD (a Node)."""
    def on():
        sts = [s.ctl.status() or {} for s in f.sites.values()]
        return all(st.get("leader") == lead.addr and st.get("connected")
                   for st in sts)
    f.c.wait_until(on, 15.0, "every controller connected to %s" % lead.addr)


def never_silent(sampler):
    """An election starts every site's TTL afresh (scheduler.md): no site
    went silent."""
    seen = {s: transitions(sampler, s) for s in SITES}
    assert all(t == "connected" for t in seen.values()), seen


def transitions(sampler, site):
    """'connected -> silent -> connected' for SITE as the sampler saw it."""
    seen = []
    for _, s in sampler.sites:
        st = s.get(site)
        if st and (not seen or seen[-1] != st):
            seen.append(st)
    return " -> ".join(seen)


# ---------------------------------------------------------------------------


@cluster.timeout(60)
def test_raft_leader_killed_twice():
    with Fleet(SITES, site_ttl_ms=SITE_TTL_MS,
               agent_ttl_ms=AGENT_TTL_MS) as f:
        before, load, sampler = begin(f, "kill")
        figures = []
        for _ in range(2):
            old = f.leader()
            old.kill()
            t0 = time.monotonic()
            new, _ = f.c.wait_leader(5.0, exclude=(old.id,))
            elected = time.monotonic() - t0
            acked = first_write(f, load, t0)
            ctl_on(f, f.c[new])
            followed = time.monotonic() - t0
            progress(f, load)
            old.start()
            f.c.wait_leader(5.0)
            figures.append("node %d led %.2fs after, controllers on it "
                           "%.2fs, writes acked again %.2fs"
                           % (new, elected, followed, acked))
        figs = end(f, load, sampler, before)
        never_silent(sampler)
        note("leader killed twice: %s" % "; ".join(figures))
        note(figs)


@cluster.timeout(60)
def test_raft_leader_paused_then_resumed():
    with Fleet(SITES, site_ttl_ms=SITE_TTL_MS,
               agent_ttl_ms=AGENT_TTL_MS) as f:
        before, load, sampler = begin(f, "pause")
        old = f.leader()
        old.pause()
        t0 = time.monotonic()
        try:
            new, _ = f.c.wait_leader(5.0, exclude=(old.id,))
            elected = time.monotonic() - t0
            acked = first_write(f, load, t0)
            ctl_on(f, f.c[new])
            followed = time.monotonic() - t0
            progress(f, load)
            f.c.wait_until(lambda: time.monotonic() - t0 >= 3.0, 5.0,
                           "the leader paused for 3 s")
        finally:
            old.resume()
        paused = time.monotonic() - t0
        f.c.wait_leader(5.0)
        figs = end(f, load, sampler, before)
        note("leader %d paused %.1fs: node %d led after %.2fs, writes acked "
             "again %.2fs, controllers on it %.2fs"
             % (old.id, paused, new, elected, acked, followed))
        note("%s; sites: %s" % (figs, "; ".join(
            "%s %s" % (s, transitions(sampler, s)) for s in SITES)))


@cluster.timeout(60)
def test_site_cut_off_past_its_ttl_runs_on_and_nothing_restarts():
    cluster.need_nft()
    with Fleet(SITES, site_ttl_ms=SITE_TTL_MS,
               agent_ttl_ms=AGENT_TTL_MS) as f:
        before, load, sampler = begin(f, "cut")
        name = SITES[1]
        ours = {t["id"]: before[t["id"]] for t in f.tasks()
                if t["site"] == name and t["id"] in before}
        assert ours, "no task on %s" % name

        def site_tasks(state):
            ts = [t for t in f.tasks() or [] if t["id"] in ours]
            return len(ts) == len(ours) and all(
                t["state"] == state and t["pid"] == ours[t["id"]]
                for t in ts)

        f.cut_site(name)
        t0 = time.monotonic()
        f.c.wait_until(lambda: (f.sites_status() or {}).get(name) ==
                       "silent", SITE_TTL_MS / 1000 + 3.0, "%s silent" % name)
        silent = time.monotonic() - t0
        f.c.wait_until(lambda: site_tasks("unknown"), 3.0,
                       "%s's tasks unknown" % name)
        progress(f, load, what="the load going on with %s away" % name)
        ctl = f.sites[name].ctl
        f.c.wait_until(lambda: (ctl.status() or {}).get("connected") is
                       False, 10.0, "the controller knowing it is cut off")
        # The site runs on by itself: its tasks as they were.
        assert all(t["state"] == "running" for t in ctl.status()["tasks"]
                   if t["id"] in ours), ctl.status()
        assert ours == {tid: pid for pid, tid in f.processes().items()
                        if tid in ours}, (ours, f.processes())
        away = time.monotonic() - t0
        f.heal()
        t1 = time.monotonic()
        f.c.wait_until(lambda: (f.sites_status() or {}).get(name) ==
                       "connected", 15.0, "%s connected again" % name)
        back = time.monotonic() - t1
        f.c.wait_until(lambda: site_tasks("running"), 5.0,
                       "%s's tasks running again, same pids" % name)
        running = time.monotonic() - t1
        figs = end(f, load, sampler, before)
        assert transitions(sampler, name) == "connected -> silent -> " \
            "connected", sampler.sites
        note("%s cut off %.1fs: silent after %.2fs (ttl %d ms); healed: "
             "connected after %.2fs, its %d tasks running (same pids) "
             "after %.2fs" % (name, away, silent, SITE_TTL_MS, back,
                              len(ours), running))
        note(figs)


@cluster.timeout(60)
def test_controller_killed_and_restarted_picks_up_its_site():
    with Fleet(SITES, site_ttl_ms=SITE_TTL_MS,
               agent_ttl_ms=AGENT_TTL_MS) as f:
        before, load, sampler = begin(f, "ctl")
        site = f.sites[SITES[0]]
        ours = {t["id"]: before[t["id"]] for t in f.tasks()
                if t["site"] == site.name and t["id"] in before}
        site.ctl.kill()
        t0 = time.monotonic()
        f.c.wait_until(lambda: (f.sites_status() or {}).get(site.name) ==
                       "silent", SITE_TTL_MS / 1000 + 3.0,
                       "%s silent" % site.name)
        silent = time.monotonic() - t0

        def away_long_enough():
            left = {tid: pid for pid, tid in f.processes().items()
                    if tid in ours}
            assert left == ours, (left, ours)  # the site runs on
            return time.monotonic() - t0 >= CTL_DOWN_S
        f.c.wait_until(away_long_enough, CTL_DOWN_S + 1.0,
                       "the controller down for %.0f s" % CTL_DOWN_S,
                       interval=0.1)
        site.ctl.start()
        t1 = time.monotonic()
        # At once: its agents, up, and its tasks, from its data dir.
        agents = f.c.wait_until(site.ctl.agents_up, 5.0, "its agents")
        assert agents == {a.name: "up" for a in site.agents}, agents
        known = {t["id"] for t in site.ctl.status()["tasks"]}
        assert set(ours) <= known, (ours, known)
        f.c.wait_until(lambda: (f.sites_status() or {}).get(site.name) ==
                       "connected", 15.0, "%s connected again" % site.name)
        back = time.monotonic() - t1
        figs = end(f, load, sampler, before)
        note("controller of %s killed, down %.1fs (silent after %.2fs); "
             "restarted: its 2 agents and %d tasks known at once, connected "
             "after %.2fs" % (site.name, t1 - t0, silent, len(ours), back))
        note(figs)


@cluster.timeout(60)
def test_agent_killed_its_tasks_move_and_come_back_once():
    with Fleet(SITES, site_ttl_ms=SITE_TTL_MS,
               agent_ttl_ms=AGENT_TTL_MS) as f:
        before, load, sampler = begin(f, "agent")
        site = f.sites[SITES[0]]
        runs = {a.name: a.running() or {} for a in site.agents}
        victim = site.agent(max(runs, key=lambda a: len(runs[a])))
        other = next(a for a in site.agents if a is not victim)
        victim.kill()
        t0 = time.monotonic()
        # What it ran when it died (the load may have started more since
        # RUNS): the task processes whose parent is no live agent.
        agents = {a.pid for s in f.sites.values() for a in s.agents
                  if a.alive()}
        moved = sorted(tid for pid, tid in f.processes().items()
                       if parent(pid) not in agents)
        assert moved and set(runs[victim.name]) <= set(moved), (runs, moved)
        f.c.wait_until(lambda: set(moved) <= set(other.running() or {}),
                       AGENT_TTL_MS / 1000 + 1.0,
                       "%s running on %s" % (moved, other.name))
        ran = time.monotonic() - t0

        def reported():
            ts = {t["id"]: t for t in f.tasks() or []}
            return all(ts.get(t, {}).get("agent") == other.name and
                       ts[t]["state"] == "running" for t in moved)
        f.c.wait_until(reported, 3.0, "the move reported to the cluster")
        upstream = time.monotonic() - t0
        progress(f, load)
        victim.start()
        t1 = time.monotonic()
        wait_converged(f, 10.0, "one copy of each task")
        back = time.monotonic() - t1
        figs = end(f, load, sampler, before, twice=moved)
        note("agent %s killed: its %d tasks ran on %s after %.2fs (ttl %d "
             "ms), reported after %.2fs; restarted: one copy each, the "
             "first kept, after %.2fs" % (victim.name, len(moved),
                                          other.name, ran, AGENT_TTL_MS,
                                          upstream, back))
        note(figs)


@cluster.timeout(60)
def test_every_raft_node_killed_at_once_and_restarted():
    with Fleet(SITES, site_ttl_ms=SITE_TTL_MS,
               agent_ttl_ms=AGENT_TTL_MS) as f:
        before, load, sampler = begin(f, "all")
        for i in f.c.ids():
            f.c[i].kill()
        t0 = time.monotonic()
        f.c.start()
        lead, _ = f.c.wait_leader(10.0)
        elected = time.monotonic() - t0
        acked = first_write(f, load, t0)
        ctl_on(f, f.c[lead])
        followed = time.monotonic() - t0
        progress(f, load)
        figs = end(f, load, sampler, before)
        never_silent(sampler)
        note("all 3 raft nodes killed and started: node %d led after %.2fs, "
             "controllers on it %.2fs, writes acked again %.2fs"
             % (lead, elected, followed, acked))
        note(figs)


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("ok", name)
