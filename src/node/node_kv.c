/* node_kv.c - the client key-value API: GET, PUT and DELETE /v1/kv/KEY.
 *
 * Any node accepts any request. Bad input is refused where it arrives
 * (kvapi.c). What needs the leader (a write, a linearizable read) is
 * served by the leader, or forwarded to it by a follower (node_fwd.c); a
 * node that knows no leader, or gets a request that was already forwarded
 * NODE_FWD_MAX_HOPS times, answers 503 with Retry-After. ?stale reads are
 * served from the local store at once.
 *
 * Writes. The leader encodes the request as a command (sm/command.h) and
 * proposes it; the request then waits in n->writes, sorted by index, with
 * the (index, term) raft_propose() gave it. When the entry at that index is
 * applied (node_kv_apply), the write is answered: with the store's result
 * when the entry has the proposal's term, or 503 "not committed" when an
 * entry of another term took the index (the proposal was lost with a
 * change of leader and can never commit). Waiters survive a loss of
 * leadership: the entry may still commit under the next leader, and this
 * node keeps applying as a follower. Without an outcome after
 * NODE_WRITE_TIMEOUT_MS the answer is 504 "outcome unknown", as it is when
 * a snapshot from the leader replaces the log under a waiting write.
 * Nothing is acknowledged before it is applied, so before a majority holds
 * it durably.
 *
 * Reads. On the leader a read asks the core for a read index: the core
 * confirms with one heartbeat round that it still leads, and hands back
 * the commit index to wait for; the read is served once applied reaches
 * it. No log entry is written. A leader that has not yet committed an
 * entry of its own term cannot confirm; the read asks again every
 * NODE_READ_RETRY_MS (a fresh leader commits within a round trip). A read
 * not yet confirmed when the node stops leading is routed again (forwarded
 * to the new leader, or 503); one not confirmed within NODE_READ_TIMEOUT_MS
 * gets a 503.
 *
 *   read:  RETRY --(raft_read_index ok)--> CONFIRM --(ready.reads)--> APPLY
 *          --(applied >= index)--> served
 */
#include "node/node_int.h"

#include "util/log.h"

#include <event2/event.h>
#include <event2/http.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 503 with Retry-After: 1 and the formatted reason. */
__attribute__((format(printf, 2, 3))) static void
kv_reply_503(struct evhttp_request *req, const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      "1");
    http_reply_error(req, 503, "%s", msg);
}

/* ------------------------------------------------------------------------
 * Routing: here, forwarded, or refused.
 */

/* This node does not lead: forward REQ (HOPS so far) to the leader, or
 * answer 503. */
static void kv_route_away(struct node *n, struct evhttp_request *req, int hops,
                          bool write)
{
    struct raft_status st;

    raft_status(n->raft, &st);
    if (st.leader == 0 || st.leader == st.id) {
        kv_reply_503(req, "no leader");
        return;
    }
    if (hops >= NODE_FWD_MAX_HOPS) {
        kv_reply_503(req,
                     "not the leader (node %llu leads, as far as node %llu "
                     "knows), and the request was forwarded %d times already",
                     (unsigned long long)st.leader, (unsigned long long)st.id,
                     hops);
        return;
    }
    node_fwd_send(n->fwd, req, st.leader, hops, write);
}

static bool kv_is_leader(struct node *n)
{
    struct raft_status st;

    raft_status(n->raft, &st);
    return st.role == RAFT_LEADER;
}

/* ------------------------------------------------------------------------
 * Serving reads.
 */

static void kv_serve(struct node *n, struct evhttp_request *req,
                     const struct kvapi_req *kr)
{
    struct kv_entry e;

    if (!kv_get(n->kv, kr->key, kr->key_len, &e)) {
        http_reply_error(req, 404, "no such key");
    } else if (kr->raw) {
        http_reply_text(req, 200, "application/octet-stream",
                        (const char *)e.value, e.value_len);
    } else {
        http_reply_json(req, 200, kvapi_entry_json(&e));
    }
}

static void kv_read_unlink(struct node *n, struct node_read *r)
{
    r->prev->next = r->next;
    r->next->prev = r->prev;
    n->n_reads--;
    free(r);
}

static void kv_arm_retry(struct node *n)
{
    struct timeval tv = {0, NODE_READ_RETRY_MS * 1000};

    if (!evtimer_pending(n->retry_ev, NULL)) {
        evtimer_add(n->retry_ev, &tv);
    }
}

/* Ask the core to confirm read R. Returns false when this node no longer
 * leads (R is then routed away and freed). */
static bool kv_read_ask(struct node *n, struct node_read *r)
{
    if (raft_read_index(n->raft, r->ctx, node_now()) == 0) {
        r->state = NODE_READ_CONFIRM;
        node_flush_soon(n); /* one heartbeat round for every read so far */
        return true;
    }
    if (!kv_is_leader(n)) {
        struct evhttp_request *req = r->req;
        int hops = r->hops;

        kv_read_unlink(n, r);
        kv_route_away(n, req, hops, false);
        return false;
    }
    r->state = NODE_READ_RETRY;
    kv_arm_retry(n);
    return true;
}

static void kv_read_start(struct node *n, struct evhttp_request *req,
                          const struct kvapi_req *kr, int hops)
{
    struct node_read *r;

    if (n->n_reads >= NODE_MAX_READS) {
        kv_reply_503(req, "%d reads waiting on this node already, retry",
                     NODE_MAX_READS);
        return;
    }
    r = calloc(1, sizeof(*r));
    if (r == NULL) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    r->req = req;
    r->kr = *kr;
    r->hops = hops;
    r->ctx = ++n->next_read_ctx;
    r->deadline = node_now() + NODE_READ_TIMEOUT_MS;
    r->next = &n->reads;
    r->prev = n->reads.prev;
    r->prev->next = r;
    n->reads.prev = r;
    n->n_reads++;
    kv_read_ask(n, r);
}

/* The read waiting for confirmation with context CTX, searched from *AT
 * round the list: the core confirms reads in about the order they came,
 * so a batch is found in one pass. */
static struct node_read *kv_read_find(struct node *n, uint64_t ctx,
                                      struct node_read **at)
{
    struct node_read *r = *at;

    for (size_t i = 0; i <= n->n_reads; i++, r = r->next) {
        if (r == &n->reads) {
            continue;
        }
        if (r->ctx == ctx && r->state == NODE_READ_CONFIRM) {
            *at = r->next;
            return r;
        }
    }
    return NULL;
}

void node_kv_reads_confirmed(struct node *n, const struct raft_read *reads,
                             size_t count)
{
    struct node_read *at = n->reads.next;

    for (size_t i = 0; i < count; i++) {
        struct node_read *r = kv_read_find(n, reads[i].ctx, &at);

        if (r != NULL) {
            r->state = NODE_READ_APPLY;
            r->index = reads[i].index;
        }
    }
}

void node_kv_serve_reads(struct node *n)
{
    struct node_read *r = n->reads.next;

    while (r != &n->reads) {
        struct node_read *next = r->next;

        if (r->state == NODE_READ_APPLY && r->index <= n->applied) {
            kv_serve(n, r->req, &r->kr);
            kv_read_unlink(n, r);
        }
        r = next;
    }
}

void node_kv_leadership_lost(struct node *n)
{
    struct node_read *r = n->reads.next;

    while (r != &n->reads) {
        struct node_read *next = r->next;

        if (r->state != NODE_READ_APPLY) {
            struct evhttp_request *req = r->req;
            int hops = r->hops;

            kv_read_unlink(n, r);
            kv_route_away(n, req, hops, false);
        }
        r = next;
    }
}

static void kv_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct node *n = arg;
    struct node_read *r = n->reads.next;

    (void)fd, (void)what;
    while (!n->done && r != &n->reads) {
        struct node_read *next = r->next;

        if (r->state == NODE_READ_RETRY) {
            kv_read_ask(n, r);
        }
        r = next;
    }
}

/* ------------------------------------------------------------------------
 * Writes.
 */

static void kv_write_unlink(struct node *n, struct node_write *w)
{
    w->prev->next = w->next;
    w->next->prev = w->prev;
    n->n_writes--;
    free(w);
}

/* Insert W by index; proposals come in index order, so from the tail. */
static void kv_write_insert(struct node *n, struct node_write *w)
{
    struct node_write *after = n->writes.prev;

    while (after != &n->writes && after->index > w->index) {
        after = after->prev;
    }
    w->prev = after;
    w->next = after->next;
    after->next->prev = w;
    after->next = w;
    n->n_writes++;
}

/* Propose write KR with BODY as its value, and wait for its entry. */
static void kv_propose(struct node *n, struct evhttp_request *req,
                       const struct kvapi_req *kr)
{
    struct node_write *w;
    struct sm_command c;
    struct raft_status st;
    size_t len, size;
    const char *body = http_body(req, &len);
    uint8_t *buf;
    int rc;

    if (n->n_writes >= NODE_MAX_WRITES) {
        kv_reply_503(req, "%d writes waiting on this node already, retry",
                     NODE_MAX_WRITES);
        return;
    }
    w = calloc(1, sizeof(*w));
    kvapi_command(kr, body, len, &c);
    size = sm_command_size(&c);
    buf = malloc(size);
    if (w == NULL || buf == NULL) {
        free(w);
        free(buf);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    sm_command_encode(&c, buf);
    w->started_us = node_now_us();
    rc = raft_propose(n->raft, buf, (uint32_t)size, node_now(), &w->index);
    free(buf);
    if (rc < 0) {
        free(w);
        n->m.proposals_failed++;
        if (rc == -2) {
            http_reply_error(req, 500, "out of memory");
        } else {
            kv_reply_503(req, "leadership transfer under way, retry");
        }
        return;
    }
    raft_status(n->raft, &st);
    n->m.proposals++;
    w->term = st.term;
    w->req = req;
    w->kr = *kr;
    w->deadline = node_now() + NODE_WRITE_TIMEOUT_MS;
    kv_write_insert(n, w);
    node_drive(n);
}

/* Answer write W, whose index has been applied as entry E with result
 * RES (HAVE: E was a command, and was applied). */
static void kv_write_done(struct node *n, struct node_write *w,
                          const struct raft_entry *e, bool have,
                          enum kv_result res)
{
    struct kv_entry cur;
    bool have_cur;
    int status;
    json_t *body;

    if (w->index < e->index) {
        http_reply_error(w->req, 504, "outcome unknown");
        return;
    }
    if (w->term != e->term) {
        n->m.proposals_failed++;
        kv_reply_503(w->req, "not committed: leadership changed, retry");
        return;
    }
    if (!have) {
        http_reply_error(w->req, 500, "entry %llu could not be applied",
                         (unsigned long long)e->index);
        return;
    }
    hist_observe(&n->m.commit, (double)(node_now_us() - w->started_us) / 1e6);
    have_cur = kv_get(n->kv, w->kr.key, w->kr.key_len, &cur);
    body = kvapi_write_json(&w->kr, res, e->index, have_cur ? &cur : NULL,
                            &status);
    http_reply_json(w->req, status, body);
}

int node_kv_apply(struct node *n, const struct raft_entry *e)
{
    enum kv_result res = KV_OK;
    struct sm_command c;
    bool have = false;
    char err[160];

    if (e->type == RAFT_ENTRY_NORMAL) {
        if (sm_command_decode(e->data, e->len, &c, err, sizeof(err)) < 0) {
            log_error("kv",
                      "entry %llu/%llu is not a command (%s) -> skip it, "
                      "as every replica does",
                      (unsigned long long)e->term, (unsigned long long)e->index,
                      err);
        } else {
            res = kv_apply(n->kv, &c, e->index);
            have = true;
        }
    }
    n->applied = e->index;
    n->applied_term = e->term;
    while (n->writes.next != &n->writes && n->writes.next->index <= e->index) {
        struct node_write *w = n->writes.next;

        kv_write_done(n, w, e, have, res);
        kv_write_unlink(n, w);
    }
    if (have && res == KV_NO_MEMORY) {
        log_error("kv",
                  "out of memory applying entry %llu -> stop: this replica "
                  "would differ from the others; a restart replays the log",
                  (unsigned long long)e->index);
        return -1;
    }
    return 0;
}

void node_kv_installed(struct node *n, uint64_t index)
{
    while (n->writes.next != &n->writes && n->writes.next->index <= index) {
        struct node_write *w = n->writes.next;

        http_reply_error(w->req, 504,
                         "outcome unknown: a snapshot from the leader "
                         "replaced this node's log");
        kv_write_unlink(n, w);
    }
    node_kv_serve_reads(n);
}

/* ------------------------------------------------------------------------
 * The endpoint.
 */

void node_kv_request(struct node *n, struct evhttp_request *req,
                     enum kvapi_op op)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    struct kvapi_req kr;
    char err[256];
    size_t len;
    int status, hops;

    if (n->done) {
        kv_reply_503(req, "shutting down");
        return;
    }
    http_body(req, &len);
    status = kvapi_parse(op, path ? path : "",
                         uri ? evhttp_uri_get_query(uri) : NULL, len, &kr, err,
                         sizeof(err));
    if (status != 0) {
        http_reply_error(req, status, "%s", err);
        return;
    }
    hops = node_fwd_hops(req);
    if (op == KVAPI_GET && kr.stale) {
        kv_serve(n, req, &kr);
    } else if (!kv_is_leader(n)) {
        kv_route_away(n, req, hops, op != KVAPI_GET);
    } else if (op == KVAPI_GET) {
        kv_read_start(n, req, &kr, hops);
    } else {
        kv_propose(n, req, &kr);
    }
}

/* ------------------------------------------------------------------------
 * Deadlines, setup, teardown.
 */

static void kv_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
    struct node *n = arg;
    uint64_t now = node_now();
    struct node_write *w = n->writes.next;
    struct node_read *r = n->reads.next;

    (void)fd, (void)what;
    while (w != &n->writes) {
        struct node_write *next = w->next;

        if (w->deadline <= now) {
            http_reply_error(w->req, 504, "outcome unknown");
            kv_write_unlink(n, w);
        }
        w = next;
    }
    while (r != &n->reads) {
        struct node_read *next = r->next;

        if (r->deadline <= now) {
            kv_reply_503(r->req, "read not confirmed in time, retry");
            kv_read_unlink(n, r);
        }
        r = next;
    }
    node_snap_sweep(n, now);
}

int node_kv_open(struct node *n, char *err, size_t errlen)
{
    struct timeval tv = {0, NODE_SWEEP_MS * 1000};

    n->retry_ev = evtimer_new(n->base, kv_retry_cb, n);
    n->sweep_ev = event_new(n->base, -1, EV_PERSIST, kv_sweep_cb, n);
    if (n->retry_ev == NULL || n->sweep_ev == NULL ||
        evtimer_add(n->sweep_ev, &tv) < 0) {
        snprintf(err, errlen, "event setup failed");
        return -1;
    }
    return 0;
}

void node_kv_close(struct node *n)
{
    while (n->writes.next != NULL && n->writes.next != &n->writes) {
        struct node_write *w = n->writes.next;

        http_reply_error(w->req, 504, "outcome unknown: node shutting down");
        kv_write_unlink(n, w);
    }
    while (n->reads.next != NULL && n->reads.next != &n->reads) {
        struct node_read *r = n->reads.next;

        kv_reply_503(r->req, "shutting down");
        kv_read_unlink(n, r);
    }
    if (n->retry_ev != NULL) {
        event_free(n->retry_ev);
        n->retry_ev = NULL;
    }
    if (n->sweep_ev != NULL) {
        event_free(n->sweep_ev);
        n->sweep_ev = NULL;
    }
}
