"""clitool.py - running the varde command line from the cluster tests, and
checking what it printed: shared by the tests of each command.
"""

import os
import subprocess
import sys
import time

import cluster
from cluster import VARDE


def varde(*args, env=None, stdin=b"", timeout=30, text=True):
    """Run varde ARGS; return (exit status, stdout, stderr text). stdout is
    text, or bytes with TEXT false. VARDE_ADDR and NO_COLOR come only from
    ENV."""
    e = dict(os.environ)
    e.pop("VARDE_ADDR", None)
    e.pop("NO_COLOR", None)
    e.update(env or {})
    p = subprocess.run([VARDE] + list(args), input=stdin,
                       capture_output=True, env=e, timeout=timeout)
    out = p.stdout.decode(errors="replace") if text else p.stdout
    return p.returncode, out, p.stderr.decode(errors="replace")


def one_line(text):
    lines = text.splitlines()
    assert len(lines) == 1, "expected one line on stderr, got %r" % text
    return lines[0]


def ok(rc, out, err, what, quiet=True):
    """Exit 0 (and, when QUIET, nothing on stderr); return stdout."""
    assert rc == 0, "%s: exit %d, stderr %r" % (what, rc, err)
    assert not quiet or err == "", "%s: unexpected stderr %r" % (what, err)
    return out


def failed(rc, out, err, what):
    """Exit 1, nothing on stdout, one line on stderr; return that line."""
    assert rc == 1, "%s: exit %d (expected 1), stdout %r, stderr %r" % (
        what, rc, out, err)
    assert not out, "%s: unexpected stdout %r" % (what, out)
    return one_line(err)


def main(namespace, argv):
    """Run the tests named in ARGV (default: every test_ function of
    NAMESPACE, in file order) without the runner's isolation; print one line
    each. Returns the exit status."""
    tests = sorted((f.__code__.co_firstlineno, n)
                   for n, f in namespace.items()
                   if n.startswith("test_") and callable(f))
    failures = 0
    for name in argv[1:] or [n for _, n in tests]:
        t0 = time.monotonic()
        try:
            namespace[name]()
            print("PASS  %s (%.1fs)" % (name, time.monotonic() - t0))
        except cluster.Skip as e:
            print("SKIP  %s: %s" % (name, e))
        except Exception as e:  # noqa: BLE001 - report and go on
            failures += 1
            print("FAIL  %s: %s" % (name, e), file=sys.stdout)
    return 1 if failures else 0
