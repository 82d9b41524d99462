/* node_fwd.c - forward client requests to the leader (node_fwd.h).
 *
 * Each forwarded request has a call on the forwarder's list until libevent
 * calls back, so node_fwd_free() can answer the clients of requests that
 * libevent frees without calling back (connections freed at shutdown).
 *
 * libevent 2.1 ends an outgoing request in one of three ways (see peer.c):
 * a reply (status set), a failure after the connection was up (error
 * callback, then status 0) or a refused connect (status 0, no error
 * callback). Only the second can have delivered the request.
 */
#include "node/node_fwd.h"

#include "transport/http.h"
#include "util/log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FWD_MAX_REPLY_BODY (1u << 20)
#define FWD_MAX_HEADERS 16384

struct fwd_conn {
    struct evhttp_connection *evcon; /* NULL until first used */
    unsigned busy;                   /* requests queued on it */
};

struct fwd_peer {
    uint64_t id;
    struct addr addr;
    struct fwd_conn conns[NODE_FWD_CONNS];
};

struct fwd_call {
    struct fwd_call *next, *prev;
    struct node_fwd *f;
    struct fwd_conn *conn;
    struct evhttp_request *client; /* answered exactly once */
    uint64_t leader;
    bool write;
    bool failed; /* the error callback ran: the request may have arrived */
    enum evhttp_request_error error;
    bool in_send;   /* inside evhttp_make_request() */
    bool sent_done; /* ... and libevent called back there */
};

struct node_fwd {
    struct event_base *base;
    char local_host[ADDR_HOST_MAX];
    struct fwd_peer peers[PEERS_MAX];
    size_t n_peers;
    struct fwd_call calls; /* sentinel */
    size_t n_calls;
    uint64_t count, failed;
    bool closing;
};

struct node_fwd *node_fwd_new(struct event_base *base,
                              const struct peers *peers, const char *local_host)
{
    struct node_fwd *f = calloc(1, sizeof(*f));

    if (f == NULL) {
        return NULL;
    }
    f->base = base;
    snprintf(f->local_host, sizeof(f->local_host), "%s", local_host);
    for (size_t i = 0; i < peers->n; i++) {
        f->peers[i].id = peers->node[i].id;
        f->peers[i].addr = peers->node[i].addr;
    }
    f->n_peers = peers->n;
    f->calls.next = f->calls.prev = &f->calls;
    return f;
}

int node_fwd_hops(struct evhttp_request *req)
{
    const char *v = evhttp_find_header(evhttp_request_get_input_headers(req),
                                       NODE_FWD_HEADER);

    if (v == NULL) {
        return 0;
    }
    if (v[0] >= '0' && v[0] < '0' + NODE_FWD_MAX_HOPS && v[1] == '\0') {
        return v[0] - '0';
    }
    return NODE_FWD_MAX_HOPS;
}

uint64_t node_fwd_count(const struct node_fwd *f)
{
    return f->count;
}

uint64_t node_fwd_failed(const struct node_fwd *f)
{
    return f->failed;
}

/* 503 "leader LEADER unreachable (WHY), retry", with Retry-After. */
static void fwd_reply_503(struct evhttp_request *req, uint64_t leader,
                          const char *why)
{
    evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                      "1");
    http_reply_error(req, 503, "leader %llu unreachable (%s), retry",
                     (unsigned long long)leader, why);
}

/* The least busy connection to PEER, opened if needed; NULL out of
 * memory. */
static struct fwd_conn *fwd_pick(struct node_fwd *f, struct fwd_peer *p)
{
    struct fwd_conn *best = &p->conns[0];
    struct timeval tv = {NODE_FWD_TIMEOUT_MS / 1000,
                         (NODE_FWD_TIMEOUT_MS % 1000) * 1000};

    for (size_t i = 0; i < NODE_FWD_CONNS && best->busy > 0; i++) {
        if (p->conns[i].busy < best->busy || p->conns[i].evcon == NULL) {
            best = &p->conns[i];
        }
    }
    if (best->evcon == NULL) {
        best->evcon = evhttp_connection_base_new(f->base, NULL, p->addr.host,
                                                 p->addr.port);
        if (best->evcon == NULL) {
            return NULL;
        }
        evhttp_connection_set_family(best->evcon, p->addr.family);
        evhttp_connection_set_local_address(best->evcon, f->local_host);
        evhttp_connection_set_timeout_tv(best->evcon, &tv);
        evhttp_connection_set_retries(best->evcon, 0);
        evhttp_connection_set_max_body_size(best->evcon, FWD_MAX_REPLY_BODY);
        evhttp_connection_set_max_headers_size(best->evcon, FWD_MAX_HEADERS);
    }
    return best;
}

static void fwd_unlink(struct fwd_call *call)
{
    call->prev->next = call->next;
    call->next->prev = call->prev;
    call->conn->busy--;
    call->f->n_calls--;
}

static void fwd_copy_header(struct evhttp_request *from,
                            struct evhttp_request *to, const char *name)
{
    const char *v =
        evhttp_find_header(evhttp_request_get_input_headers(from), name);

    if (v != NULL) {
        evhttp_add_header(evhttp_request_get_output_headers(to), name, v);
    }
}

/* The leader's answer, or its absence, becomes the client's answer. */
static void fwd_answer(struct fwd_call *call, struct evhttp_request *resp)
{
    int status = resp ? evhttp_request_get_response_code(resp) : 0;
    const char *line;

    if (status != 0) {
        line = evhttp_request_get_response_code_line(resp);
        fwd_copy_header(resp, call->client, "Content-Type");
        fwd_copy_header(resp, call->client, "Retry-After");
        evhttp_send_reply(call->client, status, line ? line : "",
                          evhttp_request_get_input_buffer(resp));
        return;
    }
    call->f->failed++;
    if (call->failed && call->write) {
        http_reply_error(call->client, 504,
                         "outcome unknown: leader %llu did not answer the "
                         "forwarded write (%s)",
                         (unsigned long long)call->leader,
                         call->error == EVREQ_HTTP_TIMEOUT ? "timed out"
                                                           : "connection lost");
        return;
    }
    fwd_reply_503(call->client, call->leader,
                  call->failed ? "connection lost" : "cannot connect");
}

static void fwd_done_cb(struct evhttp_request *resp, void *arg)
{
    struct fwd_call *call = arg;

    fwd_unlink(call);
    if (call->f->closing) {
        free(call); /* the client was answered by node_fwd_free() */
        return;
    }
    if (call->in_send) {
        call->sent_done = true; /* node_fwd_send() answers and frees */
        return;
    }
    fwd_answer(call, resp);
    free(call);
}

static void fwd_error_cb(enum evhttp_request_error error, void *arg)
{
    struct fwd_call *call = arg;

    call->failed = true;
    call->error = error;
}

/* The outgoing copy of client request REQ for hop HOPS + 1. */
static struct evhttp_request *fwd_request(struct fwd_call *call,
                                          struct fwd_peer *p, int hops)
{
    struct evhttp_request *out = evhttp_request_new(fwd_done_cb, call);
    struct evbuffer *in = evhttp_request_get_input_buffer(call->client);
    struct evkeyvalq *h;
    char hop[16];

    if (out == NULL) {
        return NULL;
    }
    evhttp_request_set_error_cb(out, fwd_error_cb);
    h = evhttp_request_get_output_headers(out);
    snprintf(hop, sizeof(hop), "%d", hops + 1);
    evhttp_add_header(h, "Host", p->addr.text);
    http_add_auth(out);
    evhttp_add_header(h, NODE_FWD_HEADER, hop);
    fwd_copy_header(call->client, out, "Content-Type");
    if (evbuffer_get_length(in) > 0 &&
        evbuffer_add(evhttp_request_get_output_buffer(out),
                     evbuffer_pullup(in, -1), evbuffer_get_length(in)) < 0) {
        evhttp_request_free(out);
        return NULL;
    }
    return out;
}

/* "PATH?QUERY" of REQ, malloc'ed; NULL out of memory or without a path. */
static char *fwd_target(struct evhttp_request *req)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
    char *target = NULL;

    if (path == NULL || asprintf(&target, "%s%s%s", path, query ? "?" : "",
                                 query ? query : "") < 0) {
        return NULL;
    }
    return target;
}

static struct fwd_peer *fwd_find(struct node_fwd *f, uint64_t id)
{
    for (size_t i = 0; i < f->n_peers; i++) {
        if (f->peers[i].id == id) {
            return &f->peers[i];
        }
    }
    return NULL;
}

/* Send CALL's request on its connection. Returns 0, or -1 (CALL freed,
 * the client not yet answered) when it could not be sent. */
static int fwd_start(struct node_fwd *f, struct fwd_call *call,
                     struct fwd_peer *p, int hops)
{
    struct evhttp_request *out = fwd_request(call, p, hops);
    char *target = fwd_target(call->client);
    int rc = -1;

    if (out != NULL && target != NULL) {
        call->next = &f->calls;
        call->prev = f->calls.prev;
        call->prev->next = call;
        f->calls.prev = call;
        call->conn->busy++;
        f->n_calls++;
        call->in_send = true;
        rc = evhttp_make_request(call->conn->evcon, out,
                                 evhttp_request_get_command(call->client),
                                 target);
        call->in_send = false;
        if (rc < 0) {
            fwd_unlink(call); /* libevent left OUT to us, no callback */
            evhttp_request_free(out);
        } else if (call->sent_done) {
            rc = -1; /* the connect failed at once; libevent freed OUT */
        } else {
            http_nodelay(call->conn->evcon);
        }
        out = NULL;
    }
    if (out != NULL) {
        evhttp_request_free(out);
    }
    free(target);
    if (rc < 0) {
        free(call);
    }
    return rc;
}

void node_fwd_send(struct node_fwd *f, struct evhttp_request *req,
                   uint64_t leader, int hops, bool write)
{
    struct fwd_peer *p = fwd_find(f, leader);
    struct fwd_call *call;

    if (f->n_calls >= NODE_FWD_MAX_CALLS) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
        http_reply_error(req, 503, "%d requests forwarded already, retry",
                         NODE_FWD_MAX_CALLS);
        return;
    }
    call = calloc(1, sizeof(*call));
    if (p == NULL || call == NULL || (call->conn = fwd_pick(f, p)) == NULL) {
        free(call);
        http_reply_error(req, 500, "cannot forward to node %llu: %s",
                         (unsigned long long)leader,
                         p ? "out of memory" : "not a member");
        return;
    }
    call->f = f;
    call->client = req;
    call->leader = leader;
    call->write = write;
    f->count++;
    if (fwd_start(f, call, p, hops) < 0) {
        f->failed++;
        fwd_reply_503(req, leader, "cannot connect");
    }
}

void node_fwd_free(struct node_fwd *f)
{
    if (f == NULL) {
        return;
    }
    f->closing = true;
    for (struct fwd_call *c = f->calls.next; c != &f->calls; c = c->next) {
        evhttp_add_header(evhttp_request_get_output_headers(c->client),
                          "Retry-After", "1");
        http_reply_error(c->client, 503,
                         "this node is shutting down; the request may have "
                         "reached leader %llu",
                         (unsigned long long)c->leader);
    }
    for (size_t i = 0; i < f->n_peers; i++) {
        for (size_t j = 0; j < NODE_FWD_CONNS; j++) {
            if (f->peers[i].conns[j].evcon != NULL) {
                evhttp_connection_free(f->peers[i].conns[j].evcon);
            }
        }
    }
    while (f->calls.next != &f->calls) {
        struct fwd_call *c = f->calls.next;

        fwd_unlink(c);
        free(c);
    }
    free(f);
}
