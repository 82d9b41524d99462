"""fleet.py - the leader's scheduling throughput and the cost of site
heartbeats, on a 3-node varde cluster on loopback.

    /usr/bin/python3 bench/fleet.py [--jobs N] [--count N] [--sites N]
                                    [--heartbeats N] [--rounds N]

placements  register SITES sites (64 cores, 64 GiB each, half of them
            labelled), submit JOBS jobs of COUNT tasks each (one in ten
            pinned to two sites, one in ten asking for a label) from 8
            kept-alive connections, and time from the first submit until
            GET /v1/jobs shows every task placed: placements per second,
            end to end (HTTP, the log, fsync, replication, the scheduler,
            the decision's own commit). The anchor is HashiCorp's C1M
            run of Nomad: about 3,750 placements per second on 5 servers.
heartbeats  HEARTBEATS site heartbeats to the leader from 4 kept-alive
            connections; the leader's CPU time (utime + stime from
            /proc/PID/stat) per 1,000 heartbeats, and heartbeats per
            second.

Results are printed and written to build/bench/fleet-<date>.json.
"""

import http.client
import json
import os
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests", "cluster"))

import cluster  # noqa: E402

NOMAD_C1M = 3750.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


class Conn:
    """One kept-alive connection; request() returns (status, JSON)."""

    def __init__(self, addr):
        host, port = addr.rsplit(":", 1)
        self.c = http.client.HTTPConnection(host, int(port), timeout=30)

    def request(self, method, path, body=None):
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        self.c.request(method, path, body=body)
        r = self.c.getresponse()
        data = r.read()
        return r.status, (json.loads(data) if data else None)

    def close(self):
        self.c.close()


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def parse_args(argv):
    opts = {"jobs": 1000, "count": 10, "sites": 20, "heartbeats": 10000,
            "rounds": 1}
    i = 0
    while i < len(argv):
        name = argv[i].lstrip("-")
        if name not in opts or i + 1 >= len(argv):
            return None
        opts[name] = int(argv[i + 1])
        i += 2
    return opts


def site_name(i):
    return "site-%02d" % i


def register_sites(conn, n):
    for i in range(n):
        labels = {"camera": "yes"} if i % 2 == 0 else {}
        st, body = conn.request("POST", "/v1/sites/%s/register" % site_name(i),
                                {"cpu": 64, "memory_mb": 65536,
                                 "labels": labels})
        assert st == 200, (st, body)


class Heartbeats(threading.Thread):
    """Keep every site heard from (once a second) while a part runs."""

    def __init__(self, addr, n):
        super().__init__(daemon=True)
        self.addr, self.n = addr, n
        self.stopping = threading.Event()

    def run(self):
        conn = Conn(self.addr)
        while not self.stopping.wait(1.0):
            for i in range(self.n):
                conn.request("POST", "/v1/sites/%s/heartbeat" % site_name(i),
                             {})
        conn.close()


def job(i, count, sites):
    j = {"id": "bench-%04d" % i, "command": ["/bin/sleep", "3600"],
         "count": count, "resources": {"cpu": 0.1, "memory_mb": 32}}
    if i % 10 == 3:
        j["sites"] = [site_name(i % sites), site_name((i + 1) % sites)]
    elif i % 10 == 7:
        j["labels"] = {"camera": "yes"}
    return j


def submit_all(addr, opts, conns=8):
    """Submit every job from CONNS threads; returns when all are acked."""
    todo = list(range(opts["jobs"]))
    lock = threading.Lock()
    errors = []

    def worker():
        conn = Conn(addr)
        while True:
            with lock:
                if not todo:
                    break
                i = todo.pop()
            st, body = conn.request("POST", "/v1/jobs",
                                    job(i, opts["count"], opts["sites"]))
            if st != 200:
                errors.append((st, body))
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(conns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise RuntimeError("%d submits failed, first: %r" % (len(errors),
                                                              errors[0]))


def placed(conn):
    st, body = conn.request("GET", "/v1/jobs")
    assert st == 200, (st, body)
    return sum(j["tasks"]["placed"] for j in body["jobs"])


def part_placements(c, lead, opts):
    addr = c[lead].addr
    conn = Conn(addr)
    register_sites(conn, opts["sites"])
    hb = Heartbeats(addr, opts["sites"])
    hb.start()
    want = opts["jobs"] * opts["count"]
    cpu0 = cpu_seconds(c[lead].pid)
    t0 = time.monotonic()
    submit_all(addr, opts)
    acked = time.monotonic() - t0
    deadline = t0 + 300
    got = 0
    while time.monotonic() < deadline:
        got = placed(conn)
        if got >= want:
            break
        time.sleep(0.02)
    took = time.monotonic() - t0
    cpu = cpu_seconds(c[lead].pid) - cpu0
    hb.stopping.set()
    hb.join()
    st, m = conn.request("GET", "/v1/sites")
    conn.close()
    if got < want:
        raise RuntimeError("only %d of %d tasks placed after 300 s"
                           % (got, want))
    rate = want / took
    print("  %d jobs x %d tasks over %d sites: all acked after %.2f s, all "
          "placed after %.2f s: %.0f placements/s (%.1fx Nomad's C1M %.0f/s);"
          " leader CPU %.2f s" % (opts["jobs"], opts["count"], opts["sites"],
                                  acked, took, rate, rate / NOMAD_C1M,
                                  NOMAD_C1M, cpu))
    return {"placements": want, "acked_s": acked, "placed_s": took,
            "per_second": rate, "vs_nomad_c1m": rate / NOMAD_C1M,
            "leader_cpu_s": cpu}


def part_heartbeats(c, lead, opts, conns=4):
    addr = c[lead].addr
    n = opts["heartbeats"]
    per = n // conns
    pid = c[lead].pid

    def worker(k):
        conn = Conn(addr)
        for i in range(per):
            st, _ = conn.request(
                "POST", "/v1/sites/%s/heartbeat"
                % site_name((k * per + i) % opts["sites"]), {})
            assert st == 200, st
        conn.close()

    threads = [threading.Thread(target=worker, args=(k,))
               for k in range(conns)]
    cpu0 = cpu_seconds(pid)
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0
    sent = per * conns
    print("  %d heartbeats in %.2f s (%.0f/s): leader CPU %.1f ms per 1,000 "
          "heartbeats" % (sent, took, sent / took, cpu * 1e6 / sent))
    return {"heartbeats": sent, "seconds": took, "per_second": sent / took,
            "cpu_ms_per_1000": cpu * 1e6 / sent}


def main(argv):
    opts = parse_args(argv)
    if opts is None:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    results = {"date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "options": opts,
               "placements": [], "heartbeats": []}
    print("fleet: the leader's scheduling and heartbeat load, 3 raft nodes "
          "on loopback")
    for r in range(opts["rounds"]):
        c = cluster.Cluster(3, name="fleet-bench", log_level="warn")
        try:
            lead, _ = c.wait_leader(10.0)
            results["placements"].append(part_placements(c, lead, opts))
            results["heartbeats"].append(part_heartbeats(c, lead, opts))
        finally:
            c.teardown()
    out = os.path.join(ROOT, "build", "bench",
                       "fleet-%s.json" % time.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump(results, f, indent=1)
    print("fleet: results in %s" % os.path.relpath(out, os.getcwd()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
