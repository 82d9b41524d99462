/* raft.h - the pure Raft protocol core: events in, actions out.
 *
 * The core owns no socket, file, clock or source of randomness. A driver
 * (the daemon in src/node, or the simulation in tests/sim) feeds it events:
 *
 *   raft_tick()       the time is now NOW (milliseconds, any monotonic origin)
 *   raft_step()       a message arrived from a peer
 *   raft_propose()    a command to replicate (leader only)
 *   raft_persisted()  log entries up to an index are durable on this node
 *   raft_read_index() a linearizable read wants a confirmed commit index
 *   raft_transfer()   hand leadership to a follower
 *
 * and after every event collects what must happen next with raft_ready():
 * the hard state (term, vote) to make durable, log entries to write,
 * committed entries to apply, reads that may be served, and messages to
 * send. The driver must make the hard state durable BEFORE it sends any
 * message of the same batch: a vote is granted by a message, and it must
 * survive a crash. Log entries need not be durable before the messages go:
 * the leader sends its entries while it writes them, and the core itself
 * holds back every acknowledgement of an entry until raft_persisted() says
 * the entry is durable (a follower's reply, the leader's own count toward a
 * quorum).
 *
 * Entry bodies. The core keeps the data of an entry only while it may be
 * needed soon: once the entry is applied and, on a leader, every follower
 * that answered within the last election timeout (election_max_ms) holds
 * it, the core frees the data and keeps the slot (index, term, type, len),
 * a little at every call. When it must send such entries after all (a
 * follower that was away, or one a new leader catches up), the APPEND
 * carries them with data NULL, and the driver reads them from its own
 * durable log before sending (see struct raft_append). Entries the core
 * hands out to write or to apply always carry their data.
 *
 * Randomness comes from the seed in the configuration, time from the
 * arguments, so a simulation that replays the same events gets the same
 * decisions.
 *
 * Roles and the rules that move between them are described at the top of
 * raft.c and in docs/raft.md.
 */
#ifndef VARDE_RAFT_H
#define VARDE_RAFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RAFT_MAX_NODES 5
#define RAFT_MIN_NODES 3

enum raft_role {
    RAFT_FOLLOWER = 0,
    RAFT_PRECANDIDATE, /* asking "would you vote for me?" without a new term */
    RAFT_CANDIDATE,
    RAFT_LEADER,
};

/* Kinds of log entry. */
enum raft_entry_type {
    RAFT_ENTRY_NORMAL = 0, /* a command for the state machine */
    RAFT_ENTRY_NOOP = 1,   /* appended by a fresh leader to commit its term */
};

struct raft_entry {
    uint64_t term;
    uint64_t index;
    uint8_t type;  /* enum raft_entry_type */
    uint32_t len;  /* bytes in data */
    uint8_t *data; /* owned by whoever owns the entry array */
};

enum raft_msg_type {
    RAFT_MSG_NONE = 0,
    RAFT_MSG_VOTE,            /* RequestVote, or a pre-vote when prevote set */
    RAFT_MSG_VOTE_RESULT,     /* reply to RAFT_MSG_VOTE */
    RAFT_MSG_APPEND,          /* AppendEntries: entries or a heartbeat */
    RAFT_MSG_APPEND_RESULT,   /* reply to RAFT_MSG_APPEND */
    RAFT_MSG_TIMEOUT_NOW,     /* "start an election now" (leader transfer) */
    RAFT_MSG_SNAPSHOT,        /* leader: "install my snapshot"; follower:
                                 "I have received it whole" (see below) */
    RAFT_MSG_SNAPSHOT_RESULT, /* reply to RAFT_MSG_SNAPSHOT */
};

struct raft_vote {
    bool prevote;  /* true: a pre-vote; term is the one it would use */
    bool transfer; /* the candidate was asked to take over: a voter
                      ignores that it still hears a leader */
    uint64_t last_log_index;
    uint64_t last_log_term;
};

struct raft_vote_result {
    bool prevote; /* echoes the request */
    bool granted;
};

/* AppendEntries. From the leader's core, the first N_RELEASED entries may
 * lack their data: the core released it (see "Entry bodies" above). Each of
 * them with len > 0 has data NULL, and the driver reads its data from its
 * own log (durable there: released entries are applied), checks that the
 * entry it read has the term the core gives, and sends a copy with the data
 * filled in; it must not write into ENTRIES. If its log no longer holds an
 * entry (compacted away) or holds it damaged, it does not send the message
 * and calls raft_report_lost(); a read that failed for another reason (an
 * I/O error) is raft_report_unreachable(). Received messages always carry
 * their data; n_released is then 0. */
struct raft_append {
    uint64_t prev_log_index;
    uint64_t prev_log_term;
    uint64_t leader_commit;
    uint64_t seq; /* read-index round of the leader, echoed in the result */
    size_t n_entries;
    struct raft_entry *entries; /* borrowed for the call that carries it */
    size_t n_released;          /* leading entries that may lack data */
};

struct raft_append_result {
    bool success;
    /* On success: the last index now known to match the leader's log.
     * On failure: a hint where the logs may agree, so the leader finds the
     * match point in a round trip or two: the follower's last index when its
     * log is too short (conflict_term 0), else the first index of the
     * conflicting term it holds at prev_log_index. */
    uint64_t match_index;
    uint64_t conflict_index;
    uint64_t conflict_term;
    uint64_t seq; /* echoes the request's seq */
};

/* InstallSnapshot. The core only names the snapshot; its bytes travel
 * between the drivers. From the leader's core, RAFT_MSG_SNAPSHOT asks the
 * driver to send the peer the snapshot that covers LAST_INDEX (the one
 * raft_compact was told about), in chunks. The receiving driver writes the
 * chunks durably and, once it has them all, steps a RAFT_MSG_SNAPSHOT with
 * the same fields into its core. The core's RAFT_MSG_SNAPSHOT_RESULT (an
 * append_result: success and match_index) goes back to the leader, whose
 * driver steps it into the leader's core. */
struct raft_snapshot_ref {
    uint64_t last_index;
    uint64_t last_term;
};

struct raft_msg {
    enum raft_msg_type type;
    uint64_t from;
    uint64_t to;
    uint64_t term;
    /* Opaque to the core: a request's rpc_id is copied into its result, so a
     * transport that answers requests in the same exchange (HTTP) can pair
     * them. Requests the core makes carry 0; the transport assigns ids. */
    uint64_t rpc_id;
    union {
        struct raft_vote vote;
        struct raft_vote_result vote_result;
        struct raft_append append;
        struct raft_append_result append_result; /* also SNAPSHOT_RESULT */
        struct raft_snapshot_ref snapshot;
    } u;
};

struct raft_config {
    uint64_t id;                  /* this node, one of ids[] */
    size_t n_nodes;               /* RAFT_MIN_NODES..RAFT_MAX_NODES */
    uint64_t ids[RAFT_MAX_NODES]; /* every member, this node included */
    uint32_t election_min_ms;     /* default 150 */
    uint32_t election_max_ms;     /* default 300, > election_min_ms */
    uint32_t heartbeat_ms;        /* default 50, < election_min_ms */
    bool prevote;                 /* default on */
    bool check_quorum;            /* default on; also gives stickiness */
    uint32_t max_append_bytes;    /* entry bytes per AppendEntries, 1 MiB */
    uint32_t max_append_entries;  /* entries per AppendEntries, 1024 */
    uint32_t max_inflight; /* AppendEntries in flight per peer, 8 (<= 64) */
    uint64_t seed;         /* for election timeouts; any value */
};

/* What must survive a restart before anything depending on it is sent. */
struct raft_hard_state {
    uint64_t term;
    uint64_t vote; /* 0: no vote in this term */
};

/* A linearizable read the leader has confirmed: serve it once the state
 * machine has applied INDEX. CTX is the driver's, from raft_read_index. */
struct raft_read {
    uint64_t ctx;
    uint64_t index;
};

/* The output of one or more events. Pointers stay valid until the next call
 * into the core; entries (and their data) are owned by the core. */
struct raft_ready {
    bool hard_state_changed;
    struct raft_hard_state hard_state;
    /* Entries to append to the durable log, in index order. When the first
     * one's index is not past the last entry written, the driver first drops
     * its log from that index on (a follower replacing a conflicting
     * suffix). Once they are durable, call raft_persisted(). */
    size_t n_entries;
    const struct raft_entry *entries;
    /* Committed entries, durable here, to apply in order, exactly once. */
    size_t n_committed;
    const struct raft_entry *committed;
    /* A snapshot received from the leader was accepted: the driver loads
     * the state machine from it and drops its whole log (the core has
     * dropped its own; what follows the snapshot arrives again), BEFORE it
     * sends the messages of this batch. */
    bool snapshot_installed;
    struct raft_snapshot_ref snapshot;
    /* Reads confirmed by a round of heartbeats. */
    size_t n_reads;
    const struct raft_read *reads;
    size_t n_msgs;
    const struct raft_msg *msgs;
};

/* A snapshot of the node's view, for status pages and tests. */
struct raft_status {
    uint64_t id;
    enum raft_role role;
    uint64_t term;
    uint64_t vote;
    uint64_t leader; /* 0: unknown */
    uint64_t commit_index;
    uint64_t applied_index; /* handed out in raft_ready's committed */
    uint64_t durable_index; /* reported by raft_persisted */
    uint64_t last_log_index;
    uint64_t last_log_term;
    uint64_t transfer_target; /* 0: no transfer under way */
    uint64_t leader_changes;  /* times this node saw the leader change */
    uint64_t released_index;  /* entries up to here hold no data */
};

struct raft;

/* Fill CFG with the defaults; the caller then sets id, n_nodes, ids and
 * seed. */
void raft_config_defaults(struct raft_config *cfg);

/* Check a configuration. Returns 0, or -1 and a one-line reason in ERR. */
int raft_config_check(const struct raft_config *cfg, char *err, size_t errlen);

/* Create a node from its configuration and its restored hard state (zeros on
 * a fresh node). NOW starts the first election timer. Returns NULL on an
 * invalid configuration or out of memory. */
struct raft *raft_new(const struct raft_config *cfg,
                      const struct raft_hard_state *restored, uint64_t now);
void raft_free(struct raft *r);

/* Before the first event: the log as the driver restored it. BASE_INDEX and
 * BASE_TERM name the last entry covered by the restored snapshot (0, 0 when
 * none); ENTRIES follow it, durable. The core copies them. Returns 0, or -1
 * when the entries do not follow on from the base or memory runs out. */
int raft_restore_log(struct raft *r, uint64_t base_index, uint64_t base_term,
                     const struct raft_entry *entries, size_t n);

/* Propose a command of LEN bytes (copied). On the leader, appends it to the
 * log, sends it to the followers at once and stores its index in *INDEX.
 * Returns 0; -1 when this node is not the leader or is handing over;
 * -2 when out of memory. The command is committed when a majority holds it
 * durably; the driver learns that when it comes back in ready's committed
 * (with the same index and this term). */
int raft_propose(struct raft *r, const void *data, uint32_t len, uint64_t now,
                 uint64_t *index);

/* Entries up to INDEX, whose entry at INDEX has term TERM, are durable in
 * this node's log. A report about an entry the core has since replaced is
 * ignored. */
void raft_persisted(struct raft *r, uint64_t index, uint64_t term,
                    uint64_t now);

/* Ask for a linearizable read. On the leader, once it has committed an
 * entry of its own term, a heartbeat round confirms it still leads, and the
 * read comes back in ready's reads with the commit index to wait for.
 * Returns 0, or -1 when this node is not the leader (forward the read) or
 * has not committed in its term yet (retry shortly). */
int raft_read_index(struct raft *r, uint64_t ctx, uint64_t now);

/* A request to peer ID failed (connection refused, timed out, or dropped
 * by the transport). The leader stops streaming to it and probes instead. */
void raft_report_unreachable(struct raft *r, uint64_t id, uint64_t now);

/* The driver could not give peer ID the data of released entries up to
 * INDEX: its log no longer holds them (compacted further than the core's
 * log) or holds them damaged. The core takes every released entry up to
 * INDEX as gone: a follower that needs one gets the snapshot instead, as
 * for entries the core compacted itself, once a snapshot covers INDEX (until
 * then it waits, and the core says so). Only released entries can be lost:
 * a larger INDEX counts as the last released one. */
void raft_report_lost(struct raft *r, uint64_t id, uint64_t index,
                      uint64_t now);

/* The state machine has been snapshotted, durably, at INDEX (<= applied).
 * The core forgets the log up to INDEX - KEEP (KEEP entries stay for
 * followers that are a little behind), and offers this snapshot to any
 * follower that needs entries it no longer holds. */
void raft_compact(struct raft *r, uint64_t index, uint64_t keep);

/* The time has advanced to NOW: fire whatever timers are due. */
void raft_tick(struct raft *r, uint64_t now);

/* The earliest time at which raft_tick() has something to do. A driver
 * sleeps until then (or until a message arrives). */
uint64_t raft_next_deadline(const struct raft *r);

/* A message from a peer. Messages not addressed to this node, from unknown
 * ids or of an unknown type are dropped. Returns 0, or -1 if dropped. */
int raft_step(struct raft *r, const struct raft_msg *m, uint64_t now);

/* Ask the leader to hand over to TO, or to the most up-to-date follower when
 * TO is 0. Returns 0 when a transfer started (or TO is already leader),
 * -1 when this node is not the leader or TO is not a peer. The transfer ends
 * when another node takes over, or is abandoned after an election timeout. */
int raft_transfer(struct raft *r, uint64_t to, uint64_t now);

/* Collect the actions produced since the last raft_ready() call. Returns
 * false when there is nothing to do. */
bool raft_ready(struct raft *r, struct raft_ready *out);

void raft_status(const struct raft *r, struct raft_status *out);

const char *raft_role_name(enum raft_role role);
const char *raft_msg_type_name(enum raft_msg_type type);

/* A log line from the core: one decision, e.g. "term 3: log is behind ours
 * (12 < 15) -> reject vote for 2". The driver decides where it goes. */
typedef void (*raft_trace_cb)(void *arg, const char *line);
void raft_set_trace(struct raft *r, raft_trace_cb cb, void *arg);

#endif
