"""test_kv_cli.py - `varde kv get|put|del` through the real binary against a
real 3-node cluster: values round-trip through any node, compare-and-set,
delete, stdin, keys that need escaping, the server's errors passed on in
one line with exit 1, retries while there is no leader, and the address
from --addr or VARDE_ADDR.

The tests that need the kv API skip, naming the reason, when the nodes
answer 404 "no such path" for /v1/kv/ (a build without it).

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_kv_cli.py [NAME...]
"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import VARDE, Cluster, note  # noqa: E402
import clitool  # noqa: E402
from clitool import failed  # noqa: E402


def ok(rc, out, err, what):
    return clitool.ok(rc, out, err, what, quiet=False)

MAX_VALUE = 64 * 1024
RETRY_S = 5.0  # how long varde kv retries a 503 with Retry-After


def kv(*args, env=None, stdin=b"", timeout=30):
    """Run `varde kv ARGS` with STDIN (bytes); return (exit status, stdout
    bytes, stderr text). VARDE_ADDR comes only from ENV."""
    e = dict(os.environ)
    e.pop("VARDE_ADDR", None)
    e.update(env or {})
    p = subprocess.run([VARDE, "kv"] + list(args), input=stdin,
                       capture_output=True, env=e, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode(errors="replace")


def put(addr, key, value, *extra):
    """varde kv put; return the index it printed."""
    rc, out, err = kv("put", key, value, "--addr", addr, *extra)
    out = ok(rc, out, err, "put %r" % key)
    assert out.strip().isdigit(), "put %r printed %r" % (key, out)
    return int(out)


def get(addr, key, *extra):
    rc, out, err = kv("get", key, "--addr", addr, *extra)
    return ok(rc, out, err, "get %r from %s" % (key, addr))


def free_addr():
    return "127.0.0.1:%d" % cluster.pick_ports(["127.0.0.1"])[0]


def server_error(node, method, path, body=None):
    """(status, error) the node answers to a request sent directly."""
    st, _, data = node.request(method, path, body)
    try:
        return st, json.loads(data).get("error")
    except ValueError:
        return st, None


def need_kv_api(node):
    """Skip unless NODE serves /v1/kv/ (it may answer anything but 404
    "no such path": 404 "no such key", 503 no leader, ...)."""
    st, error = server_error(node, "GET", "/v1/kv/varde-probe?stale")
    if st == 404 and error != "no such key":
        raise cluster.Skip("no kv API on the nodes yet: GET /v1/kv/ "
                           "answered 404 %r" % error)


def start(n_up=3):
    """A 3-node cluster with N_UP nodes started; with all three, wait for a
    leader and check for the kv API. Returns (cluster, leader or None)."""
    c = Cluster(3, start=list(range(1, n_up + 1)))
    try:
        lead = None
        if n_up == 3:
            lead, _ = c.wait_leader(5.0)
        else:
            c.wait_until(lambda: c[1].status(), 5.0, "node 1 to answer")
        need_kv_api(c[lead or 1])
    except BaseException as e:
        c.teardown(failed=not isinstance(e, cluster.Skip))
        raise
    return c, lead


def followers(c, lead):
    return [c[i] for i in c.ids() if i != lead]


# ---------------------------------------------------------------------------
# without a server


def test_kv_help_and_usage_errors():
    rc, out, err = kv("--help")
    assert rc == 0 and b"varde kv get" in out, (rc, out, err)
    for sub in ("get", "put", "del"):
        rc, out, err = kv(sub, "--help")
        assert rc == 0, "kv %s --help: exit %d" % (sub, rc)
        assert out.startswith(b"usage: varde kv " + sub.encode()), out
    p = subprocess.run([VARDE, "--help"], capture_output=True, text=True)
    assert "\n  kv " in p.stdout, "varde --help does not list kv"

    addr = free_addr()
    for args, says in [((), "usage: varde kv"),
                       (("frob",), "unknown command 'frob'"),
                       (("get",), "needs KEY"),
                       (("put", "k"), "needs KEY and VALUE"),
                       (("get", "k", "extra"), "unexpected argument 'extra'"),
                       (("get", "k", "--cas", "3"), "--cas is not an option"),
                       (("put", "k", "v", "--stale"), "--stale is not an"),
                       (("put", "k", "v", "--cas", "x"), "--cas takes an"),
                       (("put", "k", "v", "--cas", "-1"), "--cas takes an"),
                       (("put", "k", "v", "--cas"), "--cas needs a value"),
                       (("get", "k", "--addr", "nocolon"), "bad address")]:
        rc, out, err = kv(*args, env={"VARDE_ADDR": addr})
        assert rc == 2, "kv %s: exit %d (expected 2), stderr %r" % (
            " ".join(args), rc, err)
        assert out == b"" and says in err, "kv %s: stdout %r stderr %r" % (
            " ".join(args), out, err)


def test_kv_with_no_server_says_so():
    addr = free_addr()
    for args in (("get", "k"), ("put", "k", "v"), ("del", "k")):
        t0 = time.monotonic()
        rc, out, err = kv(*args, "--addr", addr)
        line = failed(rc, out, err, "kv %s" % args[0])
        assert line.startswith("varde: cannot connect to %s: connection "
                               "refused" % addr), line
        assert time.monotonic() - t0 < 2.0, "took %.1fs to fail" % (
            time.monotonic() - t0)
        rc, out, err = kv(*args, env={"VARDE_ADDR": addr})
        assert addr in failed(rc, out, err, "kv %s with VARDE_ADDR" % args[0])


def test_kv_refuses_a_too_large_value_before_sending():
    addr = free_addr()  # nothing there: the check must come first
    rc, out, err = kv("put", "k", "-", "--addr", addr,
                      stdin=b"x" * (MAX_VALUE + 1))
    line = failed(rc, out, err, "put of 64 KiB + 1 from stdin")
    assert "larger than 65536 bytes (64 KiB)" in line, line
    rc, out, err = kv("put", "k", "y" * (MAX_VALUE + 1), "--addr", addr)
    line = failed(rc, out, err, "put of 64 KiB + 1 as an argument")
    assert "65537 bytes, larger than 65536 (64 KiB)" in line, line


# ---------------------------------------------------------------------------
# against a cluster


def test_kv_put_on_one_node_reads_back_on_every_node():
    c, lead = start()
    with c:
        f1, f2 = followers(c, lead)
        index = put(f1.addr, "config/site-a", "hello world")
        for nd in c.nodes.values():
            got = get(nd.addr, "config/site-a")
            assert got == b"hello world", "node %d: %r" % (nd.id, got)

        rc, out, err = kv("get", "config/site-a", "--json", "--addr",
                          f2.addr)
        entry = json.loads(ok(rc, out, err, "get --json"))
        assert entry["key"] == "config/site-a", entry
        assert entry["value"] == "hello world", entry
        assert entry["modify_index"] == index, (entry, index)
        assert entry["create_index"] == index, (entry, index)
        assert out.endswith(b"}\n"), out

        later = put(c[lead].addr, "config/site-a", "second")
        assert later > index, (later, index)
        got = c.wait_until(
            lambda: kv("get", "config/site-a", "--stale", "--addr",
                       f2.addr)[1] == b"second",
            3.0, "the stale read on node %d to catch up" % f2.id)
        assert got


def test_kv_get_of_a_missing_key_exits_1():
    c, lead = start()
    with c:
        for nd in c.nodes.values():
            rc, out, err = kv("get", "no/such/key", "--addr", nd.addr)
            line = failed(rc, out, err, "get missing from node %d" % nd.id)
            assert line == "varde: no such key: no/such/key", line


def test_kv_put_from_stdin_keeps_the_bytes():
    c, lead = start()
    with c:
        f1 = followers(c, lead)[0]
        for name, value in [("text", b"line one\nline two\n"),
                            ("binary", bytes(range(256))),
                            ("empty", b""),
                            ("full", b"z" * MAX_VALUE)]:
            rc, out, err = kv("put", "blob/" + name, "-", "--addr", f1.addr,
                              stdin=value)
            ok(rc, out, err, "put %s from stdin" % name)
            got = get(c[lead].addr, "blob/" + name)
            assert got == value, "%s: got %d bytes %r..., put %d" % (
                name, len(got), got[:40], len(value))
        rc, out, err = kv("put", "--addr", f1.addr, "dash", "--", "-v")
        ok(rc, out, err, "put of a value starting with '-' after --")
        assert get(f1.addr, "dash") == b"-v"


def test_kv_cas_create_only_conflicts_on_the_second_put():
    c, lead = start()
    with c:
        a, b = followers(c, lead)
        index = put(a.addr, "lock", "owner-a", "--cas", "0")
        rc, out, err = kv("put", "lock", "owner-b", "--cas", "0", "--addr",
                          b.addr)
        line = failed(rc, out, err, "second create-only put")
        assert line.startswith("varde: compare-and-set lost"), line
        assert "modify index %d" % index in line, line
        assert get(c[lead].addr, "lock") == b"owner-a"

        rc, out, err = kv("put", "lock", "owner-b", "--cas",
                          str(index + 100), "--addr", b.addr)
        line = failed(rc, out, err, "put with a stale --cas")
        assert line.startswith("varde: compare-and-set lost"), line
        later = put(b.addr, "lock", "owner-b", "--cas", str(index))
        assert later > index
        assert get(a.addr, "lock") == b"owner-b"


def test_kv_del_removes_the_key():
    c, lead = start()
    with c:
        addr = followers(c, lead)[0].addr
        index = put(addr, "gone", "soon")
        rc, out, err = kv("del", "gone", "--cas", str(index + 7), "--addr",
                          addr)
        line = failed(rc, out, err, "del with a wrong --cas")
        assert "compare-and-set lost" in line, line

        rc, out, err = kv("del", "gone", "--cas", str(index), "--addr", addr)
        assert int(ok(rc, out, err, "del")) > index, out
        for nd in c.nodes.values():
            rc, out, err = kv("get", "gone", "--addr", nd.addr)
            assert failed(rc, out, err, "get after del") == \
                "varde: no such key: gone"

        rc, out, err = kv("del", "gone", "--addr", addr)
        ok(rc, out, err, "del of a missing key")
        assert "no such key: gone" in err, err


def test_kv_keys_that_need_escaping_round_trip():
    c, lead = start()
    with c:
        addr = followers(c, lead)[0].addr
        keys = ["a/b/c", "a?b=1&c", "frag#ment", "100%", "%41", "plus+sign",
                "a", "/leading", "trailing/", "x" * 512, "~.-_:@!$'()*,;"]
        for i, key in enumerate(keys):
            put(addr, key, "v%d" % i)
        for i, key in enumerate(keys):
            got = get(c[lead].addr, key)
            assert got == b"v%d" % i, "key %r: got %r" % (key, got)
            rc, out, err = kv("get", key, "--json", "--addr", addr)
            entry = json.loads(ok(rc, out, err, "get --json %r" % key))
            assert entry["key"] == key, (entry["key"], key)
        put(addr, "A", "upper")
        assert get(addr, "%41") == b"v4" and get(addr, "A") == b"upper"


def test_kv_bad_key_passes_on_the_servers_400():
    c, lead = start()
    with c:
        nd = followers(c, lead)[0]
        for key, path in [("has space", "/v1/kv/has%20space"),
                          ("x" * 513, "/v1/kv/" + "x" * 513),
                          ("tab\there", "/v1/kv/tab%09here"),
                          ("caf\u00e9", "/v1/kv/caf%C3%A9")]:
            st, error = server_error(nd, "GET", path)
            assert st == 400 and error, (key, st, error)
            for args in (("get", key), ("put", key, "v"), ("del", key)):
                rc, out, err = kv(*args, "--addr", nd.addr)
                line = failed(rc, out, err, "%s %r" % (args[0], key[:20]))
                assert line == "varde: " + error, "%r != %r" % (line, error)


def test_kv_takes_the_address_from_VARDE_ADDR():
    c, lead = start()
    with c:
        f1, f2 = followers(c, lead)
        rc, out, err = kv("put", "env", "from-env",
                          env={"VARDE_ADDR": f1.addr})
        ok(rc, out, err, "put with VARDE_ADDR")
        rc, out, err = kv("get", "env", env={"VARDE_ADDR": f2.addr})
        assert ok(rc, out, err, "get with VARDE_ADDR") == b"from-env"

        dead = free_addr()
        rc, out, err = kv("get", "env", "--addr", f2.addr,
                          env={"VARDE_ADDR": dead})
        assert ok(rc, out, err, "--addr over VARDE_ADDR") == b"from-env"
        rc, out, err = kv("get", "env", env={"VARDE_ADDR": dead})
        assert dead in failed(rc, out, err, "VARDE_ADDR of a dead port")


@cluster.timeout(40)
def test_kv_retries_while_there_is_no_leader_then_gives_up():
    c, _ = start(n_up=1)
    with c:
        st, hdrs, data = c[1].request("PUT", "/v1/kv/k", b"v")
        assert st == 503, "a lone node answered %d %r" % (st, data)
        assert any(h.lower() == "retry-after" for h in hdrs), hdrs
        error = json.loads(data)["error"]

        t0 = time.monotonic()
        rc, out, err = kv("put", "k", "v", "--addr", c[1].addr)
        took = time.monotonic() - t0
        line = failed(rc, out, err, "put without a leader")
        assert line.startswith("varde: " + error), (line, error)
        assert "tries in" in line, line
        assert RETRY_S - 0.5 <= took <= RETRY_S + 3, "gave up after %.1fs" % (
            took)
        note("gave up after %.1fs: %s" % (took, line))


@cluster.timeout(40)
def test_kv_put_succeeds_once_a_leader_appears():
    c, _ = start(n_up=1)
    with c:
        p = subprocess.Popen([VARDE, "kv", "put", "late", "value", "--addr",
                              c[1].addr], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
        try:
            c.start([2, 3])
            out, err = p.communicate(timeout=RETRY_S + 10)
        finally:
            if p.poll() is None:
                p.kill()
                p.wait()
        assert p.returncode == 0, "exit %d: %r" % (p.returncode, err)
        assert out.strip().isdigit(), out
        c.wait_leader(5.0)
        assert get(c[2].addr, "late") == b"value"


if __name__ == "__main__":
    sys.exit(clitool.main(globals(), sys.argv))
