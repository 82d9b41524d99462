/* node_fwd.h - relay a client request to the leader and its answer back.
 *
 * A follower that receives a write or a linearizable read passes it on, as
 * an HTTP request with the same method, path, query and body, to the node
 * it believes leads, and relays the status, the body, Content-Type and
 * Retry-After. The relayed request carries NODE_FWD_HEADER with the number
 * of hops so far, so that a request is forwarded at most NODE_FWD_MAX_HOPS
 * times (two nodes that each believe the other leads cannot bounce it).
 *
 * Each peer gets a small pool of keep-alive connections bound to this
 * node's own host: libevent sends one request at a time on a connection,
 * and a write waits there until it commits.
 *
 * When no answer comes: a request that never left (the leader refused the
 * connection) is answered 503 with Retry-After, safe to retry; a write that
 * may have reached the leader is answered 504 {"error": "outcome unknown"},
 * because it may have committed.
 */
#ifndef VARDE_NODE_FWD_H
#define VARDE_NODE_FWD_H

#include "util/peers.h"

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct evhttp_request;
struct node_fwd;

#define NODE_FWD_HEADER "X-Varde-Forwarded"
#define NODE_FWD_MAX_HOPS 2
#define NODE_FWD_CONNS 16       /* connections per peer, opened as needed */
#define NODE_FWD_MAX_CALLS 4096 /* forwarded at once; more get a 503 */
/* Above the time a write may wait on the leader for its outcome. */
#define NODE_FWD_TIMEOUT_MS 15000

/* A forwarder to the members of PEERS (copied), connecting from
 * LOCAL_HOST (copied). Returns NULL when out of memory. */
struct node_fwd *node_fwd_new(struct event_base *base,
                              const struct peers *peers,
                              const char *local_host);

/* Forward the client request REQ to node LEADER (a member), marked as hop
 * HOPS + 1. WRITE: the request changes state (its failure after sending
 * is "outcome unknown"). REQ is answered in every case, now or later. */
void node_fwd_send(struct node_fwd *f, struct evhttp_request *req,
                   uint64_t leader, int hops, bool write);

/* The hops REQ has made so far: its NODE_FWD_HEADER, 0 when absent, and
 * NODE_FWD_MAX_HOPS when it is not a number in 0..NODE_FWD_MAX_HOPS. */
int node_fwd_hops(struct evhttp_request *req);

/* Requests forwarded, and those that got no answer, since creation. */
uint64_t node_fwd_count(const struct node_fwd *f);
uint64_t node_fwd_failed(const struct node_fwd *f);

/* Answer every request still waiting with a 503, close the connections
 * and free F. F may be NULL. */
void node_fwd_free(struct node_fwd *f);

#endif
