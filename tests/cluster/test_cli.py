"""test_cli.py - the varde command line, through the real binary: help,
errors and exit codes, `varde status` against nothing, a bad address and a
real cluster. `varde demo` has its own tests in test_demo.py.

Run by tests/cluster/run.py, or on its own:
    /usr/bin/python3 tests/cluster/test_cli.py [NAME...]
"""

import json
import os
import re
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import VARDE, Cluster  # noqa: E402

# Subcommands that exist, and ones that come later and must not be listed.
BUILT = ["raft", "controller", "agent", "status", "kv", "job", "task",
         "demo", "help", "version"]
NOT_YET = []


def varde(*args, env=None, timeout=20):
    """Run varde with ARGS; return (exit status, stdout, stderr)."""
    e = dict(os.environ)
    e.pop("VARDE_ADDR", None)
    e.update(env or {})
    p = subprocess.run([VARDE] + list(args), stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, env=e,
                       timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def one_line(text):
    lines = text.splitlines()
    assert len(lines) == 1, "expected one line, got %r" % text
    return lines[0]


def free_port():
    """A port nothing listens on (bound, then released)."""
    return cluster.pick_ports(["127.0.0.1"])[0]


# ---------------------------------------------------------------------------
# dispatch


def test_help_lists_the_commands_that_exist():
    for flag in ("--help", "-h", "help"):
        rc, out, err = varde(flag)
        assert rc == 0, "varde %s: exit %d, stderr %r" % (flag, rc, err)
        listed = re.findall(r"^  (\w+) ", out, re.M)
        assert listed == BUILT, "varde %s lists %s, expected %s" % (
            flag, listed, BUILT)
        for later in NOT_YET:
            assert later not in listed, "%s is listed but not built" % later


def test_unknown_command_is_one_line_and_exit_2():
    rc, out, err = varde("frobnicate")
    assert rc == 2, "exit %d, expected 2" % rc
    assert out == "", "unexpected stdout %r" % out
    line = one_line(err)
    assert line == "varde: unknown command 'frobnicate' (see varde --help)", \
        line


def test_no_command_prints_usage_and_exits_2():
    rc, out, err = varde()
    assert rc == 2, "exit %d, expected 2" % rc
    assert "usage: varde COMMAND" in err, err


def test_every_command_has_help():
    for cmd in ("status", "demo"):
        for how in ([cmd, "--help"], [cmd, "-h"], ["help", cmd]):
            rc, out, err = varde(*how)
            assert rc == 0, "varde %s: exit %d, %r" % (" ".join(how), rc, err)
            assert out.startswith("usage: varde %s" % cmd), out


def test_version_prints_one_line():
    for flag in ("version", "--version"):
        rc, out, err = varde(flag)
        assert rc == 0 and one_line(out).startswith("varde "), (rc, out)


def test_bad_options_are_one_line_and_exit_2():
    cases = [
        (["status", "--bogus"], "unknown option '--bogus'"),
        (["status", "--addr"], "--addr needs a value"),
        (["status", "extra"], "unexpected argument 'extra'"),
        (["demo", "--base-port", "x"], "bad --base-port 'x'"),
        (["demo", "--base-port", "65535"], "bad --base-port '65535'"),
        (["demo", "--frob"], "unknown option '--frob'"),
    ]
    for args, want in cases:
        rc, out, err = varde(*args)
        assert rc == 2, "varde %s: exit %d, expected 2" % (" ".join(args), rc)
        line = one_line(err)
        assert want in line, "varde %s said %r" % (" ".join(args), line)


# ---------------------------------------------------------------------------
# status without a cluster


def test_status_with_nothing_listening_fails_clearly():
    port = free_port()
    rc, out, err = varde("status", "--addr", "127.0.0.1:%d" % port)
    assert rc == 1, "exit %d, expected 1" % rc
    assert out == "", "unexpected stdout %r" % out
    line = one_line(err)
    want = "cannot connect to 127.0.0.1:%d: connection refused" % port
    assert want in line, "said %r, expected %r" % (line, want)


def test_status_takes_the_address_from_VARDE_ADDR():
    port = free_port()
    addr = "127.0.0.1:%d" % port
    rc, _, err = varde("status", env={"VARDE_ADDR": addr})
    assert rc == 1 and addr in one_line(err), (rc, err)
    # --addr wins over the environment
    other = "127.0.0.1:%d" % free_port()
    rc, _, err = varde("status", "--addr", other, env={"VARDE_ADDR": addr})
    assert rc == 1 and other in err and addr not in err, (rc, err)


def test_status_rejects_a_bad_address():
    for addr in ("nonsense", "127.0.0.1:", ":7101", "127.0.0.1:99999",
                 "127.0.0.1:http", "::1:7101", ""):
        rc, out, err = varde("status", "--addr", addr)
        assert rc == 2, "--addr %r: exit %d, expected 2" % (addr, rc)
        line = one_line(err)
        assert "bad address" in line, "--addr %r said %r" % (addr, line)


def test_status_gives_up_on_a_node_that_does_not_answer():
    # A socket that listens but never accepts or answers: connect succeeds
    # (the kernel's backlog), then nothing comes.
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)
    try:
        addr = "127.0.0.1:%d" % s.getsockname()[1]
        t0 = time.monotonic()
        rc, _, err = varde("status", "--addr", addr)
        took = time.monotonic() - t0
    finally:
        s.close()
    assert rc == 1, "exit %d, expected 1" % rc
    assert "no answer from %s" % addr in one_line(err), err
    assert took < 5, "took %.1fs" % took


# ---------------------------------------------------------------------------
# status against a real cluster


def status_rows(out):
    """{id: (leader mark, addr, role)} from the table."""
    rows = {}
    for line in out.splitlines():
        m = re.match(r"^([* ])\s+(\d+)\s+(\S+)\s+(\S+)", line)
        if m:
            rows[int(m.group(2))] = (m.group(1) == "*", m.group(3),
                                     m.group(4))
    return rows


@cluster.timeout(60)
def test_status_shows_every_member_and_the_leader():
    with Cluster(3, own_addresses=False) as c:
        lead, term = c.wait_leader(3.0)
        follower = [i for i in c.ids() if i != lead][0]

        rc, out, err = varde("status", "--addr", c[follower].addr)
        assert rc == 0, "exit %d: %s" % (rc, err)
        rows = status_rows(out)
        assert sorted(rows) == [1, 2, 3], out
        for i, (star, addr, role) in rows.items():
            assert addr == c[i].addr, out
            assert star == (i == lead), out
            assert role == ("leader" if i == lead else "follower"), out
        assert "leader: %d (term %d)" % (lead, term) in out, out
        assert "\033[" not in out, "colour on a pipe"

        rc, out, err = varde("status", "--json",
                             env={"VARDE_ADDR": c[lead].addr})
        assert rc == 0, err
        doc = json.loads(out)
        assert doc["leader"] == lead, doc
        assert [m["id"] for m in doc["members"]] == [1, 2, 3], doc
        assert all(m["reachable"] for m in doc["members"]), doc

        c[follower].kill()
        rc, out, err = varde("status", "--addr", c[lead].addr)
        assert rc == 0, "a dead peer must not fail status: %s" % err
        assert status_rows(out)[follower][2] == "unreachable", out
        assert "leader: %d" % lead in out, out


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
