"""run.py - run the cluster tests: every test_* function of
tests/cluster/test_*.py, each in a child process with a time limit.

    /usr/bin/python3 tests/cluster/run.py [-k PATTERN]... [-v] [--list]

-k PATTERN   run only tests whose name (file.py::function) contains PATTERN
             (several -k: any of them)
-v           show the output of passing tests too
--list       print the test names and exit

Each test runs as `run.py --one FILE FUNCTION` in its own process group,
with a timer that raises in the test when its time is up (default 60 s, or
what @cluster.timeout(S) says), so its teardown still runs; a child that
does not end a few seconds later is killed with its whole group. After each
test the runner checks that no process of the group is left and that the
test's nftables table (varde_test_<pid>) is gone, and cleans up if not.

One line per test, then "cluster: N passed, N failed[, N skipped]". Exits 1
if a test failed or none ran.
"""

import ctypes
import importlib.util
import inspect
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import cluster  # noqa: E402

DEFAULT_TIMEOUT = 60.0
GRACE = 10.0  # after the timer fires, for the test's own teardown


class TestTimeout(AssertionError):
    pass


def load(path):
    name = os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def discover():
    """[(file, function name, timeout)] in file order, then source order."""
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        mod = load(os.path.join(HERE, fname))
        fns = [(getattr(f, "__code__").co_firstlineno, n, f)
               for n, f in vars(mod).items()
               if n.startswith("test_") and inspect.isfunction(f)
               and f.__module__ == mod.__name__]
        for _, n, f in sorted(fns):
            tests.append((fname, n, float(getattr(f, "timeout",
                                                  DEFAULT_TIMEOUT))))
    return tests


# ---------------------------------------------------------------------------
# the child: one test


def run_one(fname, func, result_path):
    def on_alarm(signum, frame):
        raise TestTimeout("test timed out after %.0fs" % limit)

    mod = load(os.path.join(HERE, fname))
    fn = getattr(mod, func)
    limit = float(getattr(fn, "timeout", DEFAULT_TIMEOUT))
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, limit)
    result = {"result": "pass"}
    try:
        fn()
    except cluster.Skip as e:
        result = {"result": "skip", "reason": str(e)}
    except AssertionError as e:
        traceback.print_exc()
        result = {"result": "fail", "reason": first_line(e)}
    except BaseException as e:
        traceback.print_exc()
        result = {"result": "fail",
                  "reason": "%s: %s" % (type(e).__name__, first_line(e))}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    sys.stdout.flush()
    sys.stderr.flush()
    with open(result_path, "w") as f:
        json.dump(result, f)
    return 0


def first_line(e):
    s = str(e).strip()
    return s.splitlines()[0] if s else type(e).__name__


# ---------------------------------------------------------------------------
# the parent


def become_subreaper():
    """Orphans of a test (daemons it failed to reap) become our children,
    so they can be found and reaped here."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
    except OSError:
        pass


def default_sigint():
    """preexec_fn: a test gets Ctrl-C as KeyboardInterrupt even when the
    runner was started with SIGINT ignored (in the background)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def group_alive(pgid):
    """Reap the group's zombies; True if a process of group PGID lives."""
    while True:
        try:
            pid, _ = os.waitpid(-pgid, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)


def run_test(fname, func, limit, tmpdir):
    """Run one test in a child. Returns (result, reason, output, seconds)."""
    result_path = os.path.join(tmpdir, "%s.%s.json" % (fname, func))
    out_path = result_path + ".out"
    start = time.monotonic()
    with open(out_path, "wb") as out:
        child = subprocess.Popen(
            [sys.executable, os.path.abspath(__file__), "--one", fname, func,
             result_path],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, preexec_fn=default_sigint)
        problems = []
        try:
            child.wait(timeout=limit + GRACE)
        except subprocess.TimeoutExpired:
            problems.append("did not end %.0fs after its time limit; killed"
                            % GRACE)
            kill_group(child.pid)
            child.wait()
        except KeyboardInterrupt:
            # Ctrl-C: let the test clean up (it gets KeyboardInterrupt),
            # then make sure, and stop the run.
            child.send_signal(signal.SIGINT)
            try:
                child.wait(timeout=GRACE)
            except subprocess.TimeoutExpired:
                pass
            kill_group(child.pid)
            cluster.nft_delete_table(cluster.nft_table_name(child.pid))
            raise
    seconds = time.monotonic() - start
    if group_alive(child.pid):
        problems.append("left processes running; killed them")
        kill_group(child.pid)
    try:
        if cluster.nft_delete_table(cluster.nft_table_name(child.pid)):
            problems.append("left its nftables table; deleted it")
    except Exception as e:
        problems.append("could not delete its nftables table: %s" % e)
    with open(out_path, "rb") as f:
        output = f.read().decode(errors="replace")
    try:
        with open(result_path) as f:
            res = json.load(f)
    except (OSError, ValueError):
        res = {"result": "fail", "reason": "no result"}
        if not problems:
            res["reason"] = ("test process ended with status %s and no "
                             "result" % child.returncode)
    if problems:
        reason = "; ".join(problems)
        if res["result"] == "fail" and res["reason"] != "no result":
            reason = res["reason"] + "; " + reason
        res = {"result": "fail", "reason": reason}
    return res["result"], res.get("reason", ""), output, seconds


def main(argv):
    if len(argv) >= 2 and argv[1] == "--one":
        return run_one(argv[2], argv[3], argv[4])

    patterns, verbose, list_only = [], False, False
    args = argv[1:]
    while args:
        a = args.pop(0)
        if a == "-k" and args:
            patterns.append(args.pop(0))
        elif a == "-v":
            verbose = True
        elif a == "--list":
            list_only = True
        else:
            print(__doc__.strip(), file=sys.stderr)
            return 2

    tests = [t for t in discover()
             if not patterns or any(p in "%s::%s" % (t[0], t[1])
                                    for p in patterns)]
    if list_only:
        for fname, func, limit in tests:
            print("%s::%s (%.0fs)" % (fname, func, limit))
        return 0
    if not tests:
        print("no test matches %s" % patterns, file=sys.stderr)
        print("cluster: 0 passed, 0 failed")
        return 1

    become_subreaper()
    counts = {"pass": 0, "fail": 0, "skip": 0}
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="varde-run-") as tmpdir:
        for fname, func, limit in tests:
            res, reason, output, secs = run_test(fname, func, limit, tmpdir)
            counts[res] += 1
            name = "%s::%s" % (fname, func)
            if res == "pass":
                print("PASS  %s (%.1fs)" % (name, secs))
            elif res == "skip":
                print("SKIP  %s: %s" % (name, reason))
            else:
                print("FAIL  %s (%.1fs): %s" % (name, secs, reason))
            if res == "pass" and not verbose:
                for line in output.splitlines():
                    if line.startswith("note: "):
                        print("      " + line[6:])
            if output.strip() and (res == "fail" or verbose):
                for line in output.rstrip().splitlines():
                    print("    | " + line)
            sys.stdout.flush()
    line = "cluster: %d passed, %d failed" % (counts["pass"], counts["fail"])
    if counts["skip"]:
        line += ", %d skipped" % counts["skip"]
    print("(%.1fs)" % (time.monotonic() - started))
    print(line)
    if counts["fail"] or counts["pass"] == 0 and counts["skip"] == 0:
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv))
    except KeyboardInterrupt:
        print("\ncluster: interrupted", file=sys.stderr)
        sys.exit(130)
