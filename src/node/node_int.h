/* node_int.h - the raft daemon's state, shared by node.c (the driver around
 * the core), node_api.c (its HTTP endpoints), node_kv.c (the client
 * key-value API) and node_snap.c (snapshots). Not for other modules. */
#ifndef VARDE_NODE_INT_H
#define VARDE_NODE_INT_H

#include "node/hist.h"
#include "node/kvapi.h"
#include "node/node_flags.h"
#include "node/node_fleet.h"
#include "node/node_fwd.h"
#include "raft/raft.h"
#include "sm/kv.h"
#include "storage/meta.h"
#include "storage/snap.h"
#include "storage/wal.h"
#include "transport/codec.h"
#include "transport/http.h"
#include "transport/peer.h"
#include "util/token.h"

#include <stdbool.h>
#include <stdint.h>

#define NODE_PENDING_TIMEOUT_MS 1000 /* an inbound RPC unanswered: 503 */
/* Requests waiting on one peer: the core's window of appends (8 by
 * default) plus room for a heartbeat and a vote or TimeoutNow. */
#define NODE_MAX_IN_FLIGHT 10
#define NODE_LINGER_MS 20 /* flush replies before exiting */
/* A write waits this long for its entry to be applied, then 504. */
#define NODE_WRITE_TIMEOUT_MS 10000
/* A linearizable read waits this long for its confirmation, then 503. */
#define NODE_READ_TIMEOUT_MS 5000
#define NODE_READ_RETRY_MS 2 /* ask again: the leader has not committed yet */
/* Client requests waiting at once on this node; more get a 503. */
#define NODE_MAX_WRITES 8192
#define NODE_MAX_READS 4096 /* the core's own bound on reads waiting */
#define NODE_SWEEP_MS 100   /* deadlines of writes, reads, receives */
/* The group commit's fsync waits for a quiet turn of the event loop, but
 * never longer than this while events keep coming. */
#define NODE_SYNC_MAX_DELAY_US 2000
#define NODE_SNAP_CHUNK_BYTES (512u << 10)
#define NODE_SNAP_CHUNK_TIMEOUT_MS 30000 /* the last one installs */
#define NODE_SNAP_RETRY_MIN_MS 1000      /* after a failed transfer, doubling */
#define NODE_SNAP_RETRY_MAX_MS 30000
#define NODE_SNAP_RECV_IDLE_MS 60000 /* a receive without chunks: dropped */

/* Event priorities: 0 is unused, 1 is every ordinary event, 2 runs only
 * when nothing else is ready (the group commit). */
#define NODE_PRIORITIES 3
#define NODE_PRIORITY_FLUSH 2

/* An inbound request waiting for the core's result, found by (peer, rpc_id)
 * when the result comes out of raft_ready(). */
struct node_pending {
    struct node_pending *next, *prev;
    uint64_t peer;
    uint64_t rpc_id;
    uint64_t deadline;
    struct evhttp_request *req;
};

/* A client write waiting for its entry to be applied (node_kv.c). */
struct node_write {
    struct node_write *next, *prev;
    uint64_t index, term; /* what raft_propose() gave it */
    uint64_t started_us;  /* for the commit latency histogram */
    uint64_t deadline;
    struct evhttp_request *req;
    struct kvapi_req kr;
};

enum node_read_state {
    NODE_READ_RETRY = 1, /* the leader has not committed in its term yet */
    NODE_READ_CONFIRM,   /* waiting for a heartbeat round */
    NODE_READ_APPLY,     /* confirmed: serve once applied >= index */
};

/* A linearizable read on the leader (node_kv.c). */
struct node_read {
    struct node_read *next, *prev;
    enum node_read_state state;
    uint64_t ctx;   /* for raft_read_index() */
    uint64_t index; /* in NODE_READ_APPLY */
    uint64_t deadline;
    int hops; /* the request's NODE_FWD_HEADER */
    struct evhttp_request *req;
    struct kvapi_req kr;
};

/* A snapshot on its way to one peer (node_snap.c). */
struct node_snap_out {
    struct node *n;
    uint64_t peer;
    bool active;
    uint64_t index, term; /* the snapshot */
    uint64_t offset;      /* of the chunk in flight */
    uint64_t total;       /* the file's size, once known */
    int fd;               /* the file, open while the transfer lasts */
    bool last_sent;       /* the chunk in flight ends the file */
    unsigned refusals;    /* in a row */
    uint64_t started;
    unsigned retry_ms; /* the next wait after a failure */
    struct event *retry_ev;
};

struct node_metrics {
    uint64_t proposals;        /* accepted by raft_propose() */
    uint64_t proposals_failed; /* refused, or lost to another term */
    uint64_t snapshots_taken, snapshots_installed, snapshots_sent;
    struct hist fsync;  /* wal_sync() */
    struct hist commit; /* proposal to applied, on the node that proposed */
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

    /* The state machine and where it stands. */
    struct kv *kv;
    struct node_fleet *fleet; /* node_fleet.c */
    uint64_t applied, applied_term;
    uint64_t snap_index, snap_term; /* the newest snapshot on disk */
    uint64_t snap_prev_index;       /* the one before it (0: unknown) */
    uint64_t snap_next_try;         /* after a failed save: not before */

    /* Group commit: the last entry appended and not yet fsynced. */
    uint64_t unsynced_index, unsynced_term; /* 0: none */
    uint64_t unsynced_since_us;
    struct event *flush_ev; /* low priority: fsync, then drive */
    bool flush_armed;

    /* Client requests waiting (node_kv.c). */
    struct node_write writes; /* sentinel; by index */
    struct node_read reads;   /* sentinel; oldest first */
    size_t n_writes, n_reads;
    uint64_t next_read_ctx;
    struct event *retry_ev, *sweep_ev;
    bool was_leader;
    struct node_fwd *fwd;

    /* Snapshots in flight (node_snap.c). */
    struct node_snap_out snap_out[PEERS_MAX]; /* by position in peers */
    struct snap_recv *snap_in;
    uint64_t snap_in_from, snap_in_at;

    char token[TOKEN_MAX + 1]; /* "": the API is open */
    struct node_metrics m;
    bool stopping;         /* a signal came; handing over */
    uint64_t stop_started; /* when */
    bool done;             /* leaving the loop: answer nothing more */
    int exit_code;
};

/* Milliseconds on the monotonic clock. */
uint64_t node_now(void);

/* Microseconds on the monotonic clock. */
uint64_t node_now_us(void);

/* The position of member ID in opts.peers, or -1. */
int node_pos(const struct node *n, uint64_t id);

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

/* Make sure the group commit runs soon: an fsync of what was appended,
 * then a drive, once the event loop has nothing more urgent to do. */
void node_flush_soon(struct node *n);

/* Stop the node with exit status CODE, after a short linger that lets
 * replies already written reach the wire. */
void node_finish(struct node *n, int code);

/* Register the HTTP endpoints (node_api.c). Returns 0, or -1 with ERR. */
int node_api_listen(struct node *n, char *err, size_t errlen);

/* Log a refused request (node_api.c): once per reason in a while. */
void node_api_log_refusal(struct evhttp_request *req, const char *path,
                          const char *why);

/* ---- node_kv.c: the client key-value API. */

/* Create the API's timers. Returns 0, or -1 with ERR. */
int node_kv_open(struct node *n, char *err, size_t errlen);

/* Serve GET, PUT or DELETE /v1/kv/KEY. */
void node_kv_request(struct node *n, struct evhttp_request *req,
                     enum kvapi_op op);

/* Apply the committed entry E (in order, exactly once) and answer the
 * write waiting at its index. Returns 0, or -1 when the node must stop
 * (the store ran out of memory: this replica would diverge). */
int node_kv_apply(struct node *n, const struct raft_entry *e);

/* Reads the core confirmed: each is served once applied reaches its
 * index. */
void node_kv_reads_confirmed(struct node *n, const struct raft_read *reads,
                             size_t count);

/* Serve the confirmed reads whose index has been applied. */
void node_kv_serve_reads(struct node *n);

/* This node stopped leading: reads not yet confirmed go to the new leader
 * (or get a 503); writes keep waiting for their entries. */
void node_kv_leadership_lost(struct node *n);

/* A snapshot up to INDEX replaced the state machine and the log: writes
 * waiting at or below it cannot know their outcome (504). */
void node_kv_installed(struct node *n, uint64_t index);

/* Answer everything still waiting and free the timers. */
void node_kv_close(struct node *n);

/* ---- node_snap.c: snapshots. */

/* On start: load the newest snapshot into the store, recover the log, and
 * check that it follows the snapshot; hand both to the core. Returns 0, or
 * -1 with ERR (a corrupt snapshot, a log with a gap after it). */
int node_snap_restore(struct node *n, char *err, size_t errlen);

/* Whether the log L recovered on start follows a snapshot ending at BASE
 * (0: none) of term BASE_TERM: NULL when the entries after BASE can be
 * used as they are; else why not, and then the log must start afresh
 * after the snapshot, unless *GAP is set: the log starts past BASE + 1,
 * entries are missing, and the node must not start. Pure. */
const char *node_snap_log_mismatch(uint64_t base, uint64_t base_term,
                                   const struct wal_entries *l, bool *gap);

/* Create the senders' timers. Returns 0, or -1 with ERR. */
int node_snap_open(struct node *n, char *err, size_t errlen);

/* After applying: take a snapshot when --snapshot-entries have been
 * applied since the last, then compact the core's log and the WAL.
 * Returns 0, or -1 when the node must stop (the WAL failed). */
int node_snap_maybe_take(struct node *n);

/* The core accepted a snapshot from the leader: load it into the store
 * and start the WAL after it. Returns 0, or -1 when the node must stop. */
int node_snap_install(struct node *n, const struct raft_snapshot_ref *s);

/* The core asks for the snapshot M names to be sent to M->to. */
void node_snap_send(struct node *n, const struct raft_msg *m);

/* The reply to a chunk this node sent (a peer_chunk_cb; ARG is the
 * node). */
void node_snap_chunk_result(void *arg, uint64_t peer,
                            const struct codec_chunk_result *res,
                            const char *why);

/* Serve POST /raft/install_snapshot: one chunk from the leader. */
void node_snap_receive(struct node *n, struct evhttp_request *req);

/* Drop a receive that has been idle too long (from the sweep). */
void node_snap_sweep(struct node *n, uint64_t now);

/* Abort receives and sends, free the timers. */
void node_snap_close(struct node *n);

#endif
