"""run.py - measure failover on a real 3-node cluster on loopback.

    /usr/bin/python3 bench/run.py [PART...] [--trials N]

Parts (default: all, in this order):
  poll       what observing costs: one GET /v1/status, and one poll round
  failover   kill -9 of the leader -> a survivor says leader and the other
             survivor agrees
  transfer   SIGTERM of the leader (it hands over first) -> the same
  rss        resident memory (VmRSS) of idle nodes

The cluster runs with the default timeouts (election 150-300 ms, heartbeat
50 ms), each node on its own loopback address. A trial's clock starts just
before the signal is sent and stops when a poll round of both survivors
shows the agreement, so every number is an upper bound that is late by at
most one poll round plus the pause between rounds: the `poll` part reports
that resolution beside the results.

Results are printed with their targets and written to
build/bench/failover-<date>.json.
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

PARTS = ("poll", "failover", "transfer", "rss")
POLL_PAUSE = 0.002  # seconds between poll rounds
TRIAL_LIMIT = 5.0  # seconds: a trial without a new leader by then failed
TARGETS = {
    "failover": {"median_ms": 200, "p99_ms": 320},
    "transfer": {"median_ms": 10, "p99_ms": 10},
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


def settle(c):
    """Wait until all three agree and stay so for a moment; then wait a
    random part of a heartbeat interval so that the next signal lands at
    a random phase of the heartbeat. Returns (leader, term)."""
    lead, term = c.wait_leader(5.0)
    c.watch_stable(lead, term, 0.4)
    time.sleep(random.uniform(0, 0.05))
    return lead, term


def agreed_new_leader(a, b, old):
    """Both survivors' statuses name the same new leader (not OLD) in one
    term, and that leader says so itself."""
    if a is None or b is None:
        return None
    lead = a.get("leader")
    if not lead or lead == old or b.get("leader") != lead:
        return None
    if a.get("term") != b.get("term"):
        return None
    for st in (a, b):
        if st.get("id") == lead and st.get("role") != "leader":
            return None
    return lead


def time_takeover(c, old, send):
    """Call SEND() (which signals OLD) and poll both survivors every ~2 ms
    until they agree on a new leader. Returns (seconds, new leader, its
    term, polls)."""
    survivors = [c[i] for i in c.ids() if i != old]
    for nd in survivors:  # open the kept-alive connections before the clock
        nd.client.get()
    t0 = time.perf_counter()
    send()
    polls = 0
    while True:
        a = survivors[0].client.get()
        b = survivors[1].client.get()
        t = time.perf_counter()
        polls += 1
        lead = agreed_new_leader(a, b, old)
        if lead:
            return t - t0, lead, a["term"], polls
        if t - t0 > TRIAL_LIMIT:
            raise RuntimeError("no agreed new leader %.1fs after the signal:"
                               "\n%s" % (TRIAL_LIMIT, c.describe()))
        time.sleep(POLL_PAUSE)


def part_poll(c, trials):
    lead, term = settle(c)
    nd = c[lead]
    one = []
    for _ in range(1000):
        t = time.perf_counter()
        st = nd.client.get()
        one.append((time.perf_counter() - t) * 1000)
        assert st is not None, "status did not answer"
    f1, f2 = [c[i] for i in c.ids() if i != lead]
    rounds = []
    for _ in range(300):
        t = time.perf_counter()
        f1.client.get()
        f2.client.get()
        time.sleep(POLL_PAUSE)
        rounds.append((time.perf_counter() - t) * 1000)
    res = {"one_status_ms": summary(one), "round_ms": summary(rounds)}
    del res["one_status_ms"]["samples_ms"]
    del res["round_ms"]["samples_ms"]
    print("status poll: one GET /v1/status   %s" % fmt_summary(
        res["one_status_ms"]))
    print("             round (2 polls + %.0f ms pause) %s" % (
        POLL_PAUSE * 1000, fmt_summary(res["round_ms"])))
    print("             -> each takeover time below is late by up to one "
          "round (median %.1f ms)" % res["round_ms"]["median_ms"])
    return res


def part_failover(c, trials):
    samples, winners, rounds = [], [], []
    for n in range(trials):
        lead, term = settle(c)
        secs, new, new_term, _ = time_takeover(c, lead, c[lead].kill)
        samples.append(secs * 1000)
        winners.append(new)
        rounds.append(new_term - term)
        c[lead].start()
    s = summary(samples)
    s["winners"] = winners
    s["election_rounds"] = rounds
    report("kill -9 of the leader", s, "failover")
    split = sum(1 for r in rounds if r > 1)
    print("%-33s %d of %d took more than one election round (split votes)"
          % ("", split, len(rounds)))
    return s


def part_transfer(c, trials):
    samples, codes = [], []
    for n in range(trials):
        lead, term = settle(c)
        nd = c[lead]
        nd.expect_exit = True
        secs, new, _, _ = time_takeover(
            c, lead, lambda: nd.proc.send_signal(signal.SIGTERM))
        samples.append(secs * 1000)
        codes.append(nd.wait_exit(5.0))
        nd.start()
    s = summary(samples)
    s["exit_codes"] = codes
    report("SIGTERM of the leader (transfer)", s, "transfer")
    if any(codes):
        print("  !! old leaders exited with %s (expected 0)" % codes)
    return s


def report(what, s, target_key):
    t = TARGETS[target_key]
    ok = s["median_ms"] <= t["median_ms"] and s["p99_ms"] <= t["p99_ms"]
    if target_key == "transfer":
        goal = "target < %d ms" % t["p99_ms"]
        ok = s["p99_ms"] < t["p99_ms"]
    else:
        goal = "target median <= %d, p99 <= %d ms" % (t["median_ms"],
                                                       t["p99_ms"])
    s["target"] = t
    s["met"] = ok
    print("%-33s %s" % (what + ":", fmt_summary(s)))
    print("%-33s %s: %s" % ("", goal, "met" if ok else "MISSED"))


def part_rss(c, trials):
    lead, term = settle(c)
    c.watch_stable(lead, term, 1.0)
    rss = {str(i): c[i].rss_kib() for i in c.ids()}
    print("idle node RSS: %s" % ", ".join(
        "node %s %.1f MiB%s" % (i, kib / 1024.0,
                                " (leader)" if int(i) == lead else "")
        for i, kib in rss.items()))
    return {"vmrss_kib": rss, "leader": lead}


def git_head():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "HEAD"],
                              capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return None


def main(argv):
    parts, trials = [], 20
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "--trials" and args:
            trials = int(args.pop(0))
        elif a in PARTS:
            parts.append(a)
        else:
            print(__doc__.strip(), file=sys.stderr)
            return 2
    parts = [p for p in PARTS if p in parts] or list(PARTS)

    print("varde failover bench: 3 nodes on loopback, default timeouts "
          "(election 150-300 ms, heartbeat 50 ms), %d trials" % trials)
    print("binary: %s%s" % (os.path.relpath(cluster.VARDE, os.getcwd()),
                            " (SANITIZED: numbers not representative)"
                            if is_sanitized(cluster.VARDE) else ""))
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
               "commit": git_head(), "binary": cluster.VARDE,
               "sanitized": is_sanitized(cluster.VARDE), "machine": {
                   "cpus": os.cpu_count(), "kernel": platform.release()},
               "trials": trials, "poll_pause_ms": POLL_PAUSE * 1000}
    fns = {"poll": part_poll, "failover": part_failover,
           "transfer": part_transfer, "rss": part_rss}
    with cluster.Cluster(3, name="bench") as c:
        for p in parts:
            results[p] = fns[p](c, trials)

    out_dir = os.path.join(ROOT, "build", "bench")
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "failover-%s.json"
                        % time.strftime("%Y%m%d-%H%M%S"))
    with open(path, "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    print("results: %s" % os.path.relpath(path, os.getcwd()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
