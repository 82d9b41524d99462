/* node_int.h - the raft daemon's state, shared by node.c (the driver around
 * the core) and node_api.c (its HTTP endpoints). Not for other modules. */
#ifndef VARDE_NODE_INT_H
#define VARDE_NODE_INT_H

#include "node/node_flags.h"
#include "raft/raft.h"
#include "storage/meta.h"
#include "storage/wal.h"
#include "transport/codec.h"
#include "transport/http.h"
#include "transport/peer.h"

#include <stdbool.h>
#include <stdint.h>

#define NODE_PENDING_TIMEOUT_MS 1000 /* an inbound RPC unanswered: 503 */
/* Requests waiting on one peer: the core's window of appends (8 by
 * default) plus room for a heartbeat and a vote or TimeoutNow. */
#define NODE_MAX_IN_FLIGHT 10
#define NODE_LINGER_MS 20 /* flush replies before exiting */

/* An inbound request waiting for the core's result, found by (peer, rpc_id)
 * when the result comes out of raft_ready(). */
struct node_pending {
    struct node_pending *next, *prev;
    uint64_t peer;
    uint64_t rpc_id;
    uint64_t deadline;
    struct evhttp_request *req;
};

struct node {
    struct node_opts opts;
    struct event_base *base;
    struct raft *raft;
    struct meta_store *meta;
    struct wal *wal;
    struct http_server *http;
    struct codec_nodes nodes;
    struct peer_client *clients[PEERS_MAX]; /* by position in opts.peers */
    struct event *tick_ev;                  /* raft_next_deadline() */
    struct event *pending_ev;               /* the oldest pending deadline */
    struct event *stop_ev;                  /* handover deadline */
    struct event *sigterm_ev, *sigint_ev;
    struct node_pending pending; /* sentinel of the oldest-first list */
    uint64_t next_rpc_id;
    bool stopping;         /* a signal came; handing over */
    uint64_t stop_started; /* when */
    bool done;             /* leaving the loop: answer nothing more */
    int exit_code;
};

/* Milliseconds on the monotonic clock. */
uint64_t node_now(void);

/* Open the data dir, restore the hard state, create the core, listen, and
 * set up peers, timers and signals. Returns 0, or -1 with a one-line reason
 * in ERR; node_close() cleans up either way. */
int node_open(struct node *n, const struct node_opts *opts, char *err,
              size_t errlen);

/* Run the event loop until the node stops; returns the exit status. */
int node_run(struct node *n);

/* Answer what is still pending (503), free everything. */
void node_close(struct node *n);

/* Hand an inbound request M, which arrived as the HTTP request REQ, to the
 * core; REQ is answered with its result (or a 503) now or later. M is only
 * borrowed. */
void node_handle_request(struct node *n, struct evhttp_request *req,
                         const struct raft_msg *m);

/* Hand the core a message that expects no HTTP answer (TIMEOUT_NOW, or a
 * result from a peer) and act on what it decides. */
void node_step(struct node *n, const struct raft_msg *m);

/* Act on the core's output: persist, then send; re-arm the timer. Called
 * after every event given to the core. */
void node_drive(struct node *n);

/* Register the HTTP endpoints (node_api.c). Returns 0, or -1 with ERR. */
int node_api_listen(struct node *n, char *err, size_t errlen);

#endif
