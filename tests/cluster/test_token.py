"""test_token.py - the access token: a cluster started with --token-file
answers 401 with a clear message to every request without it, and works as
usual (elections, forwarding, replication) for requests that carry it; a
bad token file stops a node at start with one line.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_token.py [NAME...]
"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note  # noqa: E402

TOKEN = "s3cret-token-for-the-tests-0123"


def test_requests_without_the_token_get_401_and_with_it_work():
    c = Cluster(3, token=TOKEN)
    with c:
        lead, _ = c.wait_leader(5.0)
        f = [i for i in c.ids() if i != lead][0]
        for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"},
                        {"Authorization": "Bearer " + TOKEN[:-1]},
                        {"Authorization": TOKEN}):
            for method, path in (("GET", "/v1/status"),
                                 ("PUT", "/v1/kv/a"), ("GET", "/metrics"),
                                 ("POST", "/raft/request_vote")):
                st, hdrs, body = c[f].request(method, path, b"1", headers)
                assert st == 401, (headers, path, st)
                err = json.loads(body)["error"]
                assert "access token" in err, err
                assert hdrs.get("WWW-Authenticate") == "Bearer", hdrs
        # With the token, a write through a follower is forwarded (the
        # forward carries the node's own token) and replicated.
        st, _, body = c[f].request("PUT", "/v1/kv/a", b"1")
        assert st == 200, (st, body)
        for i in c.ids():
            st, _, body = c[i].request("GET", "/v1/kv/a?stale")
            assert st in (200, 404), st
        c.wait_until(lambda: all(c[i].request("GET", "/v1/kv/a?stale")[0]
                                 == 200 for i in c.ids()), 5.0,
                     "the write on every node")
        logs = "\n".join(c[lead].log_tail(50))
        assert "no --token-file" not in logs, logs
        note("401 for 16 unauthenticated requests; forwarded and replicated "
             "with the token")


def test_the_cli_sends_VARDE_TOKEN():
    c = Cluster(3, token=TOKEN)
    with c:
        lead, _ = c.wait_leader(5.0)
        f = [i for i in c.ids() if i != lead][0]
        env = dict(os.environ)
        env.pop("VARDE_TOKEN", None)

        def varde(*args, token=None):
            e = dict(env)
            if token is not None:
                e["VARDE_TOKEN"] = token
            return subprocess.run([cluster.VARDE] + list(args) +
                                  ["--addr", c[f].addr], env=e,
                                  capture_output=True, text=True, timeout=20)

        p = varde("kv", "put", "k", "v")
        assert p.returncode == 1, p
        assert "access token" in p.stderr and "VARDE_TOKEN" in p.stderr, \
            p.stderr
        assert len(p.stderr.strip().splitlines()) == 1, p.stderr
        p = varde("kv", "put", "k", "v", token="wrong-token-0123456789")
        assert p.returncode == 1 and "access token" in p.stderr, p
        for args in (("kv", "put", "k", "v"), ("kv", "get", "k"),
                     ("status",), ("job", "ls")):
            p = varde(*args, token=TOKEN)
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        note("the CLI without VARDE_TOKEN: one line naming it; with it: "
             "kv, status and job work")


def test_a_bad_token_file_stops_the_node_with_one_line():
    c = Cluster(3, start=[])
    with c:
        bad = os.path.join(c.tmp, "short")
        with open(bad, "w") as f:
            f.write("short\n")
        n = c[1]
        for path, want in ((bad, "16 to 256 bytes"),
                           (os.path.join(c.tmp, "missing"), "No such file")):
            p = subprocess.run(n.args() + ["--token-file", path],
                               capture_output=True, text=True, timeout=10)
            assert p.returncode != 0, p
            assert want in p.stderr, p.stderr
        note("a short and a missing token file refused at start")


if __name__ == "__main__":
    names = sys.argv[1:] or [n for n in dir() if n.startswith("test_")]
    for name in names:
        globals()[name]()
        print("PASS", name)
