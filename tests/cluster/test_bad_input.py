"""test_bad_input.py - bad input to any endpoint of a raft node gets a 4xx
with a JSON {"error": ...} body, and changes nothing: afterwards the node is
alive, in the cluster, and the leader and term are what they were.

Each test collects every input that was answered wrongly and reports them
all at once; it stops at the first input after which the node no longer
answers, naming that input.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cluster  # noqa: E402
from cluster import Cluster, note  # noqa: E402

BIG = 4 * 1024 * 1024  # an oversized body: a few MiB


class Checker:
    """Sends bad requests to one node and records what was wrong with the
    answers."""

    def __init__(self, c):
        self.c = c
        self.problems = []
        self.count = 0

    def alive_after(self, node, what):
        if node.status() is None:
            raise AssertionError("node %d stopped answering after %s\n%s"
                                 % (node.id, what, self.c.describe()))

    def expect_4xx(self, node, method, path, body=None, what=None,
                   statuses=None):
        """One request; the answer must be 4xx (or one of STATUSES) with a
        JSON object body holding an "error" string."""
        what = what or "%s %s" % (method, path)
        self.count += 1
        try:
            if body is not None and not isinstance(body, (bytes, str)):
                body = json.dumps(body)
            st, hdrs, data = node.request(
                method, path, body, {"Content-Type": "application/json"})
        except Exception as e:
            self.alive_after(node, what)
            self.problems.append("%s: no answer (%s)" % (what, e))
            return
        self.check_answer(what, st, data, statuses)
        if st == 405 and not any(k.lower() == "allow" for k in hdrs):
            self.problems.append("%s: 405 without an Allow header" % what)
        self.alive_after(node, what)

    def expect_raw(self, node, data, what, statuses=None, json_body=True):
        """Send raw bytes; the answer must be 4xx (or one of STATUSES) with
        a JSON error (unless not JSON_BODY)."""
        self.count += 1
        try:
            st, body = cluster.raw_exchange(node.host, node.port, data, 5.0)
        except OSError as e:
            st, body = None, str(e).encode()
        if st is None:
            self.problems.append("%s: no HTTP answer (%r)" % (what,
                                                               body[:80]))
        elif json_body:
            self.check_answer(what, st, body, statuses)
        elif st not in (statuses or range(400, 500)):
            self.problems.append("%s: got %d %r" % (what, st, body[:100]))
        self.alive_after(node, what)

    def check_answer(self, what, st, data, statuses):
        ok_status = (st in statuses) if statuses else 400 <= st <= 499
        try:
            obj = json.loads(data)
            ok_body = isinstance(obj, dict) and isinstance(
                obj.get("error"), str) and obj["error"] != ""
        except ValueError:
            ok_body = False
        if not ok_status or not ok_body:
            self.problems.append("%s: got %d %r" % (what, st, data[:100]))

    def done(self, lead, term):
        note("%d bad requests answered" % self.count)
        assert not self.problems, "%d of %d answered wrongly:\n  %s" % (
            len(self.problems), self.count, "\n  ".join(self.problems))
        self.c.watch_stable(lead, term, 0.5)


# ---------------------------------------------------------------------------
# the peer RPCs (docs/wire.md)


def rpc_templates(c, target, term):
    """A valid body for each peer RPC to node TARGET, from another member,
    in the current term (so that one broken field is the only fault)."""
    sender = next(i for i in c.ids() if i != target)
    head = {"term": term, "from": sender, "to": target}
    return {
        "/raft/request_vote": dict(head, prevote=True, transfer=False,
                                   last_log_index=0, last_log_term=0),
        "/raft/append_entries": dict(head, prev_log_index=0,
                                     prev_log_term=0, leader_commit=0,
                                     entries=[]),
        "/raft/timeout_now": dict(head),
    }


INT_FIELD_BAD = ["x", None, 1.5, -1, True, [], {}, 2 ** 64]
BOOL_FIELD_BAD = ["yes", 1, None, [], {}]


def mutations(tmpl, c, target):
    """(description, body) for every way to break one field of TMPL."""
    out = []
    for k, v in tmpl.items():
        broken = dict(tmpl)
        del broken[k]
        out.append(("missing %s" % k, broken))
        bads = BOOL_FIELD_BAD if isinstance(v, bool) else (
            ["x", None, 1, {}, [1], [{}], [{"term": "x"}]]
            if isinstance(v, list) else INT_FIELD_BAD)
        for bad in bads:
            out.append(("%s=%s" % (k, json.dumps(bad)),
                        dict(tmpl, **{k: bad})))
    unknown = max(c.ids()) + 90
    others = [i for i in c.ids() if i != target]
    out.append(("from an unknown id", dict(tmpl, **{"from": unknown})))
    out.append(("from id 0", dict(tmpl, **{"from": 0})))
    out.append(("to another node", dict(tmpl, to=others[-1])))
    out.append(("to an unknown id", dict(tmpl, to=unknown)))
    out.append(("from the receiver itself", dict(tmpl, **{"from": target})))
    for k in ("last_log_term", "prev_log_term"):
        if k in tmpl:
            out.append(("%s above term" % k,
                        dict(tmpl, **{k: tmpl["term"] + 1})))
    if "entries" in tmpl:
        out += entry_mutations(tmpl)
    return out


def entry_mutations(tmpl):
    """APPEND bodies whose entries break the rules of docs/wire.md: indexes
    that do not follow prev_log_index, terms past the message's, bad data,
    too many or too large entries."""
    t = tmpl["term"]

    def entry(index=1, term=t, data=""):
        return {"term": term, "index": index, "type": 0, "data": data}

    def with_entries(entries):
        return dict(tmpl, entries=entries)

    no_data = entry()
    del no_data["data"]
    return [
        ("an entry index that skips one", with_entries([entry(index=2)])),
        ("entry indexes out of order",
         with_entries([entry(index=1), entry(index=3)])),
        ("an entry term past the message's",
         with_entries([entry(term=t + 1)])),
        ("an entry with data not base64", with_entries([entry(data="!!*")])),
        ("base64 without padding", with_entries([entry(data="QQ")])),
        ("base64 with unused bits set", with_entries([entry(data="QR==")])),
        ("base64 with a misplaced =", with_entries([entry(data="Q=Q=")])),
        ("an unknown entry type",
         with_entries([dict(entry(), type=7)])),
        ("an entry term below the one before",
         dict(tmpl, term=t, entries=[entry(index=1, term=t),
                                     entry(index=2, term=t - 1)])),
        ("an entry without data", with_entries([no_data])),
        ("an entry that is a string", with_entries(["x"])),
        ("an entry over 1 MiB",
         with_entries([entry(data="QUFB" * (350 * 1024))])),
        ("1025 entries",
         with_entries([entry(index=i) for i in range(1, 1026)])),
    ]


MALFORMED = [
    ("an empty body", b""),
    ("malformed JSON", b'{"term": 1,'),
    ("not JSON", b"hello"),
    ("a JSON array", b"[1, 2, 3]"),
    ("a JSON string", b'"term"'),
    ("JSON null", b"null"),
    ("a JSON number", b"42"),
    ("an empty object", b"{}"),
    ("trailing garbage", b'{"term": 1} x'),
    ("deep nesting", b"[" * 100000),
    ("invalid UTF-8", b'{"term": "\xff\xfe"}'),
    ("a NUL byte", b'{"term": 1\x00}'),
]


def duplicate_key(tmpl):
    """TMPL as JSON with its "term" given twice."""
    body = json.dumps(tmpl)
    return ('{"term": %d, ' % tmpl["term"]) + body[1:]


def check_rpcs(chk, c, node, term):
    for path, tmpl in rpc_templates(c, node.id, term).items():
        for what, body in MALFORMED:
            chk.expect_4xx(node, "POST", path, body,
                           "%s to node %d: %s" % (path, node.id, what))
        chk.expect_4xx(node, "POST", path, duplicate_key(tmpl),
                       "%s to node %d: a duplicate key" % (path, node.id))
        for what, body in mutations(tmpl, c, node.id):
            chk.expect_4xx(node, "POST", path, body,
                           "%s to node %d: %s" % (path, node.id, what))
        for method in ("GET", "PUT", "DELETE"):
            chk.expect_4xx(node, method, path, None,
                           "%s %s to node %d" % (method, path, node.id),
                           statuses=(405,))


def test_peer_rpcs_answer_bad_bodies_with_4xx_json():
    with Cluster(3) as c:
        lead, term = c.wait_leader(3.0)
        chk = Checker(c)
        follower = next(i for i in c.ids() if i != lead)
        check_rpcs(chk, c, c[follower], term)
        check_rpcs(chk, c, c[lead], term)
        chk.done(lead, term)


# ---------------------------------------------------------------------------
# the HTTP API


def test_http_api_answers_bad_requests_with_4xx_json():
    with Cluster(3) as c:
        lead, term = c.wait_leader(3.0)
        chk = Checker(c)
        ld = c[lead]
        unknown = max(c.ids()) + 90
        for to in ("abc", "-1", "1.5", "", "18446744073709551616",
                   str(unknown), "2x", "%00"):
            chk.expect_4xx(ld, "POST", "/v1/leader/transfer?to=" + to,
                           what="transfer to %r" % to)
        for node in (ld, c[next(i for i in c.ids() if i != lead)]):
            for method, path in (
                    ("POST", "/v1/status"), ("PUT", "/v1/status"),
                    ("DELETE", "/v1/status"), ("GET", "/v1/leader/transfer"),
                    ("PUT", "/v1/leader/transfer"), ("POST", "/metrics"),
                    ("DELETE", "/metrics")):
                chk.expect_4xx(node, method, path, statuses=(405,),
                               what="%s %s on node %d"
                               % (method, path, node.id))
            for path in ("/", "/nope", "/v1", "/v1/", "/v1/statusx",
                         "/v1/status/1", "/raft/", "/raft/nope",
                         "/raft/request_vote/x", "/v1/leader",
                         "/" + "a" * 4000):
                chk.expect_4xx(node, "GET", path, statuses=(404,),
                               what="GET %s on node %d"
                               % (path[:40], node.id))
        chk.done(lead, term)


def oversized(path, size):
    head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            "\r\nContent-Length: %d\r\n\r\n" % (path, size)).encode()
    return head + b"[" + b" " * (size - 2) + b"]"


def test_oversized_bodies_get_413():
    # Each route has its bound (docs/wire.md): 2 MiB for append_entries,
    # 4 KiB for the rest. Up to twice the largest bound the router answers
    # with a JSON 413; beyond that libevent refuses the body itself, with a
    # 413 of its own, before reading it.
    with Cluster(3) as c:
        lead, term = c.wait_leader(3.0)
        chk = Checker(c)
        for node in (c[lead], c[next(i for i in c.ids() if i != lead)]):
            for path in ("/raft/request_vote", "/raft/append_entries",
                         "/raft/timeout_now", "/v1/leader/transfer"):
                for size in (BIG, 5 * 1024):
                    if path == "/raft/append_entries" and size < BIG:
                        continue  # within its bound
                    chk.expect_raw(node, oversized(path, size),
                                   "%d KiB body to %s on node %d"
                                   % (size >> 10, path, node.id),
                                   statuses=(413,))
                chk.expect_raw(node, oversized(path, 2 * BIG),
                               "%d MiB body to %s on node %d"
                               % (2 * BIG >> 20, path, node.id),
                               statuses=(413,), json_body=False)
        chk.done(lead, term)


def test_malformed_http_gets_4xx_or_nothing_and_node_keeps_running():
    # Broken HTTP is caught by libevent before any handler runs; what
    # matters is a 4xx (or no answer at all, for a request that never
    # ends) and a node that goes on serving its cluster.
    with Cluster(3) as c:
        lead, term = c.wait_leader(3.0)
        node = c[next(i for i in c.ids() if i != lead)]
        junk = [
            ("a TLS hello", b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" +
             b"\x00" * 64),
            ("a garbage request line", b"GARBAGE\r\n\r\n"),
            ("HTTP/9.9", b"GET / HTTP/9.9\r\n\r\n"),
            ("a 4 MiB header", b"GET /v1/status HTTP/1.1\r\nHost: x\r\nX: " +
             b"a" * BIG + b"\r\n\r\n"),
            ("a body shorter than its Content-Length",
             b"POST /raft/append_entries HTTP/1.1\r\nHost: x\r\n"
             b"Content-Length: 100\r\n\r\n{\"term\":"),
            ("Content-Length -5",
             b"POST /raft/append_entries HTTP/1.1\r\nHost: x\r\n"
             b"Content-Length: -5\r\n\r\n"),
            ("a 4 GiB chunk",
             b"POST /raft/append_entries HTTP/1.1\r\nHost: x\r\n"
             b"Transfer-Encoding: chunked\r\n\r\nffffffff\r\n{}"),
        ]
        answers = []
        for what, data in junk:
            try:
                st, body = cluster.raw_exchange(node.host, node.port, data,
                                                1.0)
            except OSError as e:
                st, body = None, str(e).encode()
            if st is not None:
                assert 400 <= st <= 499, "%s: got %d %r" % (what, st,
                                                            body[:80])
                kind = "JSON" if body.lstrip().startswith(b"{") else "HTML"
                answers.append("%s %d %s" % (what, st, kind))
            else:
                answers.append("%s: no answer" % what)
            if node.status() is None:
                raise AssertionError("node %d stopped answering after %s"
                                     % (node.id, what))
        note("; ".join(answers))
        c.watch_stable(lead, term, 0.5)
