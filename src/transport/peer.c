/* peer.c - one peer's HTTP client: send, bound, time out, decode, report.
 *
 * Each request carries a small context (which client, which type) that
 * lives on the client's in-flight list until libevent calls back, so the
 * in-flight count is the list's length and peer_client_free() can reclaim
 * the contexts of requests libevent frees without calling back.
 *
 * How libevent 2.1 ends an outgoing request, and what we make of it:
 *   reply read             callback with the request, status set
 *   timeout, reset, EOF    error callback, then callback with NULL
 *   connect refused        callback with the request, status 0
 * Anything but a 200 with a valid result of the right type marks the peer
 * down; a valid result marks it up. Only a change of state is logged.
 *
 * Coalescing. libevent sends one request at a time on a connection, and
 * a follower fsyncs once per AppendEntries, so a leader that sent one
 * request per proposal would cap the cluster at one entry per round trip.
 * Instead, messages are queued here (copied: the core's pointers die at
 * its next call) and posted by a kick event, at most one request on the
 * wire at a time. When the connection frees up, the head of the queue goes
 * out with every APPEND behind it that continues it merged in (entries
 * that follow on from its last one, up to the codec's bounds), and
 * heartbeats absorbed: the merged request carries the highest commit index
 * and read-index round among them, and the follower caps the commit index
 * at what the request proves it holds. The core counts the merged batches
 * as separate requests in flight; the one reply's match index frees them
 * all. Anything else keeps its order.
 *
 * Snapshot chunks travel on a second connection, opened on the first
 * chunk, one chunk at a time; their outcomes go to chunk_cb and leave the
 * peer's state alone (the heartbeats speak for reachability).
 */
#include "transport/peer.h"

#include "transport/http.h"
#include "util/log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define PEER_MAX_HEADERS 8192

struct peer_call {
    struct peer_call *next, *prev;
    struct peer_client *pc;
    enum raft_msg_type type; /* the request's */
    bool entries;            /* it carried log entries */
    bool chunk;              /* a snapshot chunk, on the snapshot conn */
    enum evhttp_request_error error;
    bool failed; /* the error callback ran */
};

/* A message waiting for the connection; m's entries (and their data) are
 * in the same allocation. */
struct peer_msg {
    struct peer_msg *next;
    struct raft_msg m;
};

struct peer_client {
    struct peer_options opt;
    struct peer_msg *q_head, *q_tail; /* waiting, oldest first */
    unsigned q_len;
    struct event *kick_ev; /* posts from the queue */
    struct evhttp_connection *conn;
    struct evhttp_connection *snap_conn; /* NULL until the first chunk */
    bool chunk_busy;                     /* a chunk is in flight */
    struct peer_call calls;              /* sentinel of the in-flight list */
    unsigned in_flight;
    uint64_t dropped;
    enum peer_state state;
    bool closing;
    bool in_send;     /* inside peer_client_send(): no callbacks */
    bool send_failed; /* ... and the request failed there and then */
};

static const char *peer_error_name(enum evhttp_request_error e)
{
    switch (e) {
    case EVREQ_HTTP_TIMEOUT:
        return "timed out";
    case EVREQ_HTTP_EOF:
        return "connection closed";
    case EVREQ_HTTP_INVALID_HEADER:
        return "bad reply header";
    case EVREQ_HTTP_BUFFER_ERROR:
        return "connection error";
    case EVREQ_HTTP_REQUEST_CANCEL:
        return "cancelled";
    case EVREQ_HTTP_DATA_TOO_LONG:
        return "reply too long";
    }
    return "failed";
}

/* Move to STATE; log when the state changes, with WHY when it is down. */
static void peer_set_state(struct peer_client *pc, enum peer_state state,
                           const char *why)
{
    if (state == pc->state) {
        return;
    }
    if (state == PEER_UP) {
        log_info("peer", "node %llu at %s answers -> reachable",
                 (unsigned long long)pc->opt.id, pc->opt.addr.text);
    } else {
        log_warn("peer", "node %llu at %s: %s -> unreachable, retrying quietly",
                 (unsigned long long)pc->opt.id, pc->opt.addr.text, why);
    }
    pc->state = state;
}

static void peer_call_unlink(struct peer_call *call)
{
    call->prev->next = call->next;
    call->next->prev = call->prev;
    if (call->chunk) {
        call->pc->chunk_busy = false;
    } else {
        call->pc->in_flight--;
    }
}

/* A 200 reply to a VOTE or APPEND: decode it and hand it over. */
static void peer_take_result(struct peer_client *pc, enum raft_msg_type type,
                             struct evhttp_request *req)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = (const char *)evbuffer_pullup(in, -1);
    struct raft_msg m;
    char err[200], why[256];

    if (codec_decode(codec_result_type(type), body ? body : "", len,
                     pc->opt.nodes, &m, err, sizeof(err)) < 0) {
        snprintf(why, sizeof(why), "bad reply to %s: %s", codec_path(type),
                 err);
        peer_set_state(pc, PEER_DOWN, why);
        return;
    }
    if (m.from != pc->opt.id) {
        snprintf(why, sizeof(why), "reply to %s comes from node %llu",
                 codec_path(type), (unsigned long long)m.from);
        peer_set_state(pc, PEER_DOWN, why);
        return;
    }
    peer_set_state(pc, PEER_UP, NULL);
    pc->opt.cb(pc->opt.cb_arg, &m);
}

/* A reply that is not a 200: note the peer's {"error"} in the log line. */
static void peer_take_refusal(struct peer_client *pc, enum raft_msg_type type,
                              struct evhttp_request *req, int status)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    const char *body = (const char *)evbuffer_pullup(in, -1);
    char why[320];

    snprintf(why, sizeof(why), "%s answered %d %.*s", codec_path(type), status,
             (int)(len > 200 ? 200 : len), body ? body : "");
    http_printable(why);
    peer_set_state(pc, PEER_DOWN, why);
}

/* The reply to a chunk (STATUS 0: none came): to chunk_cb. */
static void peer_take_chunk_reply(struct peer_client *pc,
                                  const struct peer_call *call,
                                  struct evhttp_request *req, int status)
{
    struct evbuffer *in = req ? evhttp_request_get_input_buffer(req) : NULL;
    size_t len = in ? evbuffer_get_length(in) : 0;
    const char *body = in ? (const char *)evbuffer_pullup(in, -1) : NULL;
    struct codec_chunk_result res;
    char err[200], why[320];

    if (status == 0) {
        snprintf(why, sizeof(why), "%s",
                 call->failed ? peer_error_name(call->error)
                              : "cannot connect");
    } else if (status != 200) {
        snprintf(why, sizeof(why), "answered %d %.*s", status,
                 (int)(len > 200 ? 200 : len), body ? body : "");
        http_printable(why);
    } else if (codec_decode_chunk_result(body ? body : "", len, pc->opt.nodes,
                                         &res, err, sizeof(err)) < 0) {
        snprintf(why, sizeof(why), "bad reply: %s", err);
    } else if (res.from != pc->opt.id) {
        snprintf(why, sizeof(why), "reply comes from node %llu",
                 (unsigned long long)res.from);
    } else {
        pc->opt.chunk_cb(pc->opt.cb_arg, pc->opt.id, &res, NULL);
        return;
    }
    pc->opt.chunk_cb(pc->opt.cb_arg, pc->opt.id, NULL, why);
}

static void peer_kick(struct peer_client *pc);
static void peer_kick_cb(evutil_socket_t fd, short what, void *arg);

static void peer_done_cb(struct evhttp_request *req, void *arg)
{
    struct peer_call *call = arg;
    struct peer_client *pc = call->pc;
    enum raft_msg_type type = call->type;
    bool entries = call->entries;
    int status = req ? evhttp_request_get_response_code(req) : 0;

    peer_call_unlink(call);
    if (pc->closing) {
        free(call);
        return;
    }
    if (pc->in_send && status == 0) {
        /* libevent failed the connect inside evhttp_make_request(). */
        pc->send_failed = true;
        if (!call->chunk) {
            peer_set_state(pc, PEER_DOWN, "cannot connect");
        }
        free(call);
        return;
    }
    if (call->chunk) {
        peer_take_chunk_reply(pc, call, req, status);
        free(call);
        return;
    }
    if (status == 0) {
        peer_set_state(pc, PEER_DOWN,
                       call->failed ? peer_error_name(call->error)
                                    : "cannot connect");
    } else if (status != 200) {
        peer_take_refusal(pc, type, req, status);
    } else if (codec_result_type(type) == RAFT_MSG_NONE) {
        peer_set_state(pc, PEER_UP, NULL);
    } else {
        peer_take_result(pc, type, req);
    }
    free(call);
    if (pc->state != PEER_UP && entries && pc->opt.fail_cb != NULL) {
        pc->opt.fail_cb(pc->opt.cb_arg, pc->opt.id);
    }
    peer_kick(pc);
}

static void peer_error_cb(enum evhttp_request_error error, void *arg)
{
    struct peer_call *call = arg;

    call->failed = true;
    call->error = error;
}

/* A connection to the peer, from our own host, with TIMEOUT_MS per
 * request. */
static struct evhttp_connection *peer_conn_new(struct event_base *base,
                                               const struct peer_options *opt,
                                               unsigned timeout_ms)
{
    struct timeval tv = {(time_t)(timeout_ms / 1000),
                         (suseconds_t)(timeout_ms % 1000) * 1000};
    struct evhttp_connection *conn =
        evhttp_connection_base_new(base, NULL, opt->addr.host, opt->addr.port);

    if (conn == NULL) {
        return NULL;
    }
    evhttp_connection_set_family(conn, opt->addr.family);
    evhttp_connection_set_local_address(conn, opt->local_host);
    evhttp_connection_set_timeout_tv(conn, &tv);
    evhttp_connection_set_retries(conn, 0);
    evhttp_connection_set_max_body_size(conn, CODEC_MAX_REPLY_BODY);
    evhttp_connection_set_max_headers_size(conn, PEER_MAX_HEADERS);
    return conn;
}

struct peer_client *peer_client_new(struct event_base *base,
                                    const struct peer_options *opt)
{
    struct peer_client *pc = calloc(1, sizeof(*pc));

    if (pc == NULL) {
        return NULL;
    }
    pc->opt = *opt;
    pc->calls.next = pc->calls.prev = &pc->calls;
    pc->conn = peer_conn_new(base, opt, opt->timeout_ms);
    pc->kick_ev = event_new(base, -1, 0, peer_kick_cb, pc);
    if (pc->conn == NULL || pc->kick_ev == NULL) {
        if (pc->conn != NULL) {
            evhttp_connection_free(pc->conn);
        }
        if (pc->kick_ev != NULL) {
            event_free(pc->kick_ev);
        }
        free(pc);
        return NULL;
    }
    return pc;
}

static void peer_free_text_cb(const void *data, size_t len, void *extra)
{
    (void)len;
    (void)extra;
    free((void *)data);
}

/* Build the HTTP request for the encoded body TEXT (taken over). */
static struct evhttp_request *peer_request(struct peer_client *pc,
                                           struct peer_call *call, char *text,
                                           size_t len)
{
    struct evhttp_request *req = evhttp_request_new(peer_done_cb, call);
    struct evkeyvalq *h;

    if (req == NULL) {
        free(text);
        return NULL;
    }
    evhttp_request_set_error_cb(req, peer_error_cb);
    h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", pc->opt.addr.text);
    http_add_auth(req);
    evhttp_add_header(h, "Content-Type", "application/json");
    if (evbuffer_add_reference(evhttp_request_get_output_buffer(req), text, len,
                               peer_free_text_cb, NULL) < 0) {
        free(text);
        evhttp_request_free(req);
        return NULL;
    }
    return req;
}

/* Queue CALL (filled in) with the body TEXT (taken over) on CONN. Returns
 * 0, or -1 when it could not be sent (CALL is freed). */
static int peer_post(struct peer_client *pc, struct evhttp_connection *conn,
                     struct peer_call *call, const char *path, char *text,
                     size_t len)
{
    struct evhttp_request *req = peer_request(pc, call, text, len);
    int rc;

    if (req == NULL) {
        free(call);
        return -1;
    }
    call->next = &pc->calls;
    call->prev = pc->calls.prev;
    call->prev->next = call;
    pc->calls.prev = call;
    if (call->chunk) {
        pc->chunk_busy = true;
    } else {
        pc->in_flight++;
    }
    pc->in_send = true;
    pc->send_failed = false;
    rc = evhttp_make_request(conn, req, EVHTTP_REQ_POST, path);
    pc->in_send = false;
    if (rc == 0 && !pc->send_failed) {
        http_nodelay(conn);
    }
    if (rc < 0) {
        /* libevent 2.1 leaves the request to us when the connect attempt
         * fails at once (the local address cannot be bound): no callback.
         * (It frees the request itself only when copying the path runs out
         * of memory, which a path this short does not.) */
        peer_call_unlink(call);
        if (!call->chunk) {
            peer_set_state(pc, PEER_DOWN, "cannot open a connection");
        }
        free(call);
        evhttp_request_free(req);
        return -1;
    }
    return pc->send_failed ? -1 : 0;
}

/* A copy of M that owns its entries, in one allocation; NULL out of
 * memory. */
static struct peer_msg *peer_msg_copy(const struct raft_msg *m)
{
    size_t n = m->type == RAFT_MSG_APPEND ? m->u.append.n_entries : 0;
    size_t bytes = sizeof(struct peer_msg) + n * sizeof(struct raft_entry);
    struct peer_msg *pm;
    uint8_t *data;

    for (size_t i = 0; i < n; i++) {
        bytes += m->u.append.entries[i].len;
    }
    pm = malloc(bytes);
    if (pm == NULL) {
        return NULL;
    }
    pm->next = NULL;
    pm->m = *m;
    if (n == 0) {
        return pm;
    }
    pm->m.u.append.entries = (struct raft_entry *)(pm + 1);
    data = (uint8_t *)(pm->m.u.append.entries + n);
    for (size_t i = 0; i < n; i++) {
        struct raft_entry *e = &pm->m.u.append.entries[i];

        *e = m->u.append.entries[i];
        if (e->len > 0) {
            memcpy(data, e->data, e->len);
            e->data = data;
            data += e->len;
        }
    }
    return pm;
}

static struct peer_msg *peer_pop(struct peer_client *pc)
{
    struct peer_msg *pm = pc->q_head;

    pc->q_head = pm->next;
    if (pc->q_head == NULL) {
        pc->q_tail = NULL;
    }
    pc->q_len--;
    pm->next = NULL;
    return pm;
}

static uint64_t peer_max(uint64_t a, uint64_t b)
{
    return a > b ? a : b;
}

/* Whether NEXT can join the APPEND OUT, which holds N entries with BYTES
 * of data so far: a heartbeat of the same term always can; entries when
 * OUT holds none yet (they take its place), or when they follow on from
 * OUT's last one, within the codec's bounds. */
static bool peer_can_merge(const struct raft_msg *out, size_t n, size_t bytes,
                           const struct raft_msg *next)
{
    const struct raft_append *a = &next->u.append;
    size_t more = 0;

    if (next->type != RAFT_MSG_APPEND || next->term != out->term) {
        return false;
    }
    if (a->n_entries == 0) {
        return true;
    }
    if ((n > 0 && a->prev_log_index != out->u.append.prev_log_index + n) ||
        n + a->n_entries > CODEC_MAX_ENTRIES) {
        return false;
    }
    for (size_t i = 0; i < a->n_entries; i++) {
        more += a->entries[i].len;
    }
    return bytes + more <= CODEC_MAX_BATCH_BYTES;
}

/* Fold the APPEND PM into OUT, whose entries are listed in ARR (*N of
 * them, *BYTES of data). */
static void peer_fold(struct raft_msg *out, struct raft_entry *arr, size_t *n,
                      size_t *bytes, const struct peer_msg *pm)
{
    const struct raft_append *a = &pm->m.u.append;

    if (*n == 0 && a->n_entries > 0) {
        out->u.append.prev_log_index = a->prev_log_index;
        out->u.append.prev_log_term = a->prev_log_term;
    }
    if (a->n_entries > 0) {
        memcpy(arr + *n, a->entries, a->n_entries * sizeof(*arr));
    }
    *n += a->n_entries;
    for (size_t i = 0; i < a->n_entries; i++) {
        *bytes += a->entries[i].len;
    }
    out->u.append.leader_commit =
        peer_max(out->u.append.leader_commit, a->leader_commit);
    out->u.append.seq = peer_max(out->u.append.seq, a->seq);
}

/* Pop the head of the queue into *OUT, with the APPENDs behind it that can
 * join it. The merged entries are listed in *ARR (malloc'ed, NULL when
 * none merged); the popped messages, which own the data, are chained from
 * *USED. */
static void peer_merge(struct peer_client *pc, struct raft_msg *out,
                       struct raft_entry **arr, struct peer_msg **used)
{
    struct peer_msg *pm = peer_pop(pc), **tail = &pm->next;
    size_t n = 0, bytes = 0;

    *out = pm->m;
    *arr = NULL;
    *used = pm;
    if (out->type != RAFT_MSG_APPEND || pc->q_head == NULL ||
        !peer_can_merge(out, out->u.append.n_entries, 0, &pc->q_head->m) ||
        (*arr = malloc(CODEC_MAX_ENTRIES * sizeof(**arr))) == NULL) {
        return; /* alone, as it came */
    }
    out->u.append.n_entries = 0;
    peer_fold(out, *arr, &n, &bytes, pm);
    while (pc->q_head != NULL &&
           peer_can_merge(out, n, bytes, &pc->q_head->m)) {
        pm = peer_pop(pc);
        *tail = pm;
        tail = &pm->next;
        peer_fold(out, *arr, &n, &bytes, pm);
    }
    out->u.append.n_entries = n;
    out->u.append.entries = n > 0 ? *arr : NULL;
}

/* Encode and post OUT. Returns 0, or -1 when it could not be sent. */
static int peer_post_msg(struct peer_client *pc, const struct raft_msg *out)
{
    const char *path = codec_path(out->type);
    struct peer_call *call;
    char err[200];
    size_t len;
    char *text = path ? codec_encode(out, &len, err, sizeof(err)) : NULL;

    if (text == NULL) {
        log_error("peer", "cannot send %s to node %llu: %s -> drop",
                  raft_msg_type_name(out->type), (unsigned long long)pc->opt.id,
                  path ? err : "not a request");
        return -1;
    }
    call = calloc(1, sizeof(*call));
    if (call == NULL) {
        free(text);
        return -1;
    }
    call->pc = pc;
    call->type = out->type;
    call->entries = out->type == RAFT_MSG_APPEND && out->u.append.n_entries > 0;
    return peer_post(pc, pc->conn, call, path, text, len);
}

/* Post from the queue while the connection is free. A request that fails
 * here and then (our own address cannot be bound) is not reported to
 * fail_cb: the core would answer with a probe that fails the same way, in
 * a tight loop; its own timer probes the peer again instead. */
static void peer_flush(struct peer_client *pc)
{
    while (pc->in_flight == 0 && pc->q_head != NULL && !pc->closing) {
        struct peer_msg *used, *next;
        struct raft_entry *arr;
        struct raft_msg out;

        peer_merge(pc, &out, &arr, &used);
        peer_post_msg(pc, &out);
        free(arr);
        for (; used != NULL; used = next) {
            next = used->next;
            free(used);
        }
    }
}

static void peer_kick_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    peer_flush(arg);
}

/* Post from the queue soon: once the current event is done, so that every
 * message the core emits in it can be merged. */
static void peer_kick(struct peer_client *pc)
{
    if (pc->q_head != NULL && !pc->closing) {
        event_active(pc->kick_ev, EV_TIMEOUT, 1);
    }
}

int peer_client_send(struct peer_client *pc, const struct raft_msg *m)
{
    struct peer_msg *pm;

    if (codec_path(m->type) == NULL || m->type == RAFT_MSG_SNAPSHOT) {
        log_error("peer", "cannot send %s to node %llu: not a request -> drop",
                  raft_msg_type_name(m->type), (unsigned long long)pc->opt.id);
        return -1;
    }
    if (pc->q_len >= pc->opt.max_in_flight) {
        pc->dropped++;
        return -1;
    }
    pm = peer_msg_copy(m);
    if (pm == NULL) {
        return -1;
    }
    if (pc->q_tail != NULL) {
        pc->q_tail->next = pm;
    } else {
        pc->q_head = pm;
    }
    pc->q_tail = pm;
    pc->q_len++;
    peer_kick(pc);
    return 0;
}

int peer_client_send_chunk(struct peer_client *pc, const struct codec_chunk *c)
{
    struct peer_call *call;
    char err[200];
    size_t len;
    char *text;

    if (pc->chunk_busy || pc->opt.chunk_cb == NULL) {
        return -1;
    }
    if (pc->snap_conn == NULL) {
        pc->snap_conn = peer_conn_new(evhttp_connection_get_base(pc->conn),
                                      &pc->opt, pc->opt.chunk_timeout_ms);
        if (pc->snap_conn == NULL) {
            return -1;
        }
    }
    text = codec_encode_chunk(c, &len, err, sizeof(err));
    if (text == NULL) {
        log_error("peer", "cannot send a snapshot chunk to node %llu: %s",
                  (unsigned long long)pc->opt.id, err);
        return -1;
    }
    call = calloc(1, sizeof(*call));
    if (call == NULL) {
        free(text);
        return -1;
    }
    call->pc = pc;
    call->type = RAFT_MSG_SNAPSHOT;
    call->chunk = true;
    return peer_post(pc, pc->snap_conn, call, CODEC_PATH_INSTALL_SNAPSHOT, text,
                     len);
}

enum peer_state peer_client_state(const struct peer_client *pc)
{
    return pc->state;
}

uint64_t peer_client_dropped(const struct peer_client *pc)
{
    return pc->dropped;
}

void peer_client_free(struct peer_client *pc)
{
    if (pc == NULL) {
        return;
    }
    pc->closing = true;
    event_free(pc->kick_ev);
    while (pc->q_head != NULL) {
        free(peer_pop(pc));
    }
    evhttp_connection_free(pc->conn);
    if (pc->snap_conn != NULL) {
        evhttp_connection_free(pc->snap_conn);
    }
    while (pc->calls.next != &pc->calls) {
        struct peer_call *call = pc->calls.next;

        peer_call_unlink(call);
        free(call);
    }
    free(pc);
}
