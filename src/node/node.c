/* node.c - the driver around the raft core: clock, disk, network, signals.
 *
 * Every event goes the same way: give it to the core (raft_tick, raft_step,
 * raft_propose, raft_transfer, ...), then node_drive() drains raft_ready().
 * Each batch of ready is handled in this order:
 *
 *   1. the hard state (term, vote) is made durable: meta_save() fsyncs
 *      before it returns, and if it fails the node stops, because a vote
 *      must never be sent that a crash could forget;
 *   2. a snapshot received from the leader is loaded into the state
 *      machine and the WAL restarts after it (node_snap.c);
 *   3. new log entries are appended to the WAL, buffered, not yet synced
 *      (a conflicting suffix is cut first, durably);
 *   4. the messages go out: requests through the peer clients, results as
 *      the HTTP answers to the inbound requests they belong to. A leader's
 *      entries thus travel while its own disk works; the core never emits
 *      an acknowledgement of an entry that is not yet durable here. Entries
 *      whose bodies the core released (raft.h, "Entry bodies") are read
 *      back from the WAL into a copy of the message, which is sent and
 *      freed; entries the WAL no longer holds are reported to the core
 *      (raft_report_lost), which sends that follower a snapshot instead;
 *   5. committed entries are applied to the key-value store, and the
 *      writes waiting for them are answered (node_kv.c);
 *   6. reads the core confirmed are served once applied reaches them;
 *   7. once the batch's pointers are dead: a snapshot when enough entries
 *      were applied, raft_report_unreachable() for peers whose requests
 *      with entries could not be sent (or read back), raft_report_lost()
 *      for entries the WAL lacks.
 *
 * Group commit. Appending only marks the WAL dirty and activates flush_ev,
 * an event of the lowest priority: libevent runs it only when a turn of
 * the loop finds nothing else ready, so every request, reply and socket
 * write that arrived meanwhile is handled first, and ONE fdatasync covers
 * all the entries they appended. Then raft_persisted() and another drive.
 * While events keep coming the fsync waits at most NODE_SYNC_MAX_DELAY_US.
 * A failed write or sync stops the node: what reached the disk is unknown.
 *
 * Inbound peer requests are held in the pending list with an rpc_id the
 * core copies into its result. The core answers within the same event in
 * practice (a follower's acknowledgement waits for the next fsync);
 * whatever is still pending after NODE_PENDING_TIMEOUT_MS gets a 503, so no
 * HTTP request is held forever.
 *
 * Stopping: on SIGTERM or SIGINT a follower leaves at once. A leader asks
 * the core to hand over (raft_transfer to the most up-to-date follower),
 * keeps serving until a successor's higher term makes it a follower, or
 * until election_max_ms pass, then leaves. Leaving lingers NODE_LINGER_MS so
 * that replies already written (the vote for the successor) reach the wire.
 */
#include "node/node_int.h"

#include "util/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A failed read back from the WAL is logged at most this often. */
#define NODE_READ_BACK_LOG_EVERY_MS 10000

/* What a batch could not send, for the core once the batch's pointers are
 * dead (node_drive). By position in opts.peers. */
struct node_unsent {
    unsigned failed;          /* bit i: a request with entries failed */
    uint64_t lost[PEERS_MAX]; /* released entries up to here the WAL lacks */
};

uint64_t node_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

uint64_t node_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static struct timeval node_tv(uint64_t ms)
{
    struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};

    return tv;
}

int node_pos(const struct node *n, uint64_t id)
{
    for (size_t i = 0; i < n->opts.peers.n; i++) {
        if (n->opts.peers.node[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

/* ------------------------------------------------------------------------
 * Pending inbound requests.
 */

static void node_pending_arm(struct node *n)
{
    struct node_pending *oldest = n->pending.next;
    uint64_t now = node_now();
    struct timeval tv;

    if (n->pending_ev == NULL) {
        return;
    }
    if (oldest == &n->pending) {
        evtimer_del(n->pending_ev);
        return;
    }
    tv = node_tv(oldest->deadline > now ? oldest->deadline - now : 0);
    evtimer_add(n->pending_ev, &tv);
}

static void node_pending_unlink(struct node_pending *p)
{
    p->prev->next = p->next;
    p->next->prev = p->prev;
    free(p);
}

static struct node_pending *node_pending_find(struct node *n, uint64_t peer,
                                              uint64_t rpc_id)
{
    for (struct node_pending *p = n->pending.next; p != &n->pending;
         p = p->next) {
        if (p->peer == peer && p->rpc_id == rpc_id) {
            return p;
        }
    }
    return NULL;
}

/* Answer every pending request due by NOW (all when NOW is UINT64_MAX)
 * with a 503 saying WHY. */
static void node_pending_expire(struct node *n, uint64_t now, const char *why)
{
    while (n->pending.next != &n->pending && n->pending.next->deadline <= now) {
        struct node_pending *p = n->pending.next;

        http_reply_error(p->req, 503, "%s", why);
        node_pending_unlink(p);
    }
    node_pending_arm(n);
}

static void node_pending_cb(evutil_socket_t fd, short what, void *arg)
{
    struct node *n = arg;

    (void)fd, (void)what;
    node_pending_expire(n, node_now(), "no answer from the raft core in time");
}

/* ------------------------------------------------------------------------
 * Acting on the core's output.
 */

/* The JSON of result M: a chunk result for SNAPSHOT_RESULT (the reply to
 * the last chunk), else the message itself. */
static char *node_encode_result(const struct raft_msg *m, size_t *len,
                                char *err, size_t errlen)
{
    struct codec_chunk_result r;

    if (m->type != RAFT_MSG_SNAPSHOT_RESULT) {
        return codec_encode(m, len, err, errlen);
    }
    memset(&r, 0, sizeof(r));
    r.term = m->term;
    r.from = m->from;
    r.to = m->to;
    r.success = m->u.append_result.success;
    r.match_index = m->u.append_result.match_index;
    return codec_encode_chunk_result(&r, len, err, errlen);
}

/* A result for an inbound request: it becomes that request's HTTP reply. */
static void node_answer(struct node *n, const struct raft_msg *m)
{
    struct node_pending *p = node_pending_find(n, m->to, m->rpc_id);
    char err[200];
    size_t len;
    char *text;

    if (p == NULL) {
        log_debug("node", "%s for node %llu rpc %llu: request already gone",
                  raft_msg_type_name(m->type), (unsigned long long)m->to,
                  (unsigned long long)m->rpc_id);
        return;
    }
    text = node_encode_result(m, &len, err, sizeof(err));
    if (text == NULL) {
        log_error("node", "cannot encode %s: %s -> 500",
                  raft_msg_type_name(m->type), err);
        http_reply_error(p->req, 500, "%s", err);
    } else {
        http_reply_text(p->req, 200, "application/json", text, len);
        free(text);
    }
    node_pending_unlink(p);
    node_pending_arm(n);
}

/* Read the released entries of A (its first n_released) back from the
 * WAL into OUT, with their data in *BUF (the caller frees it), and check
 * that they are the entries the core names. Returns 0, or a wal_error
 * with ERR. */
static int node_read_back(struct node *n, const struct raft_append *a,
                          struct raft_entry *out, uint8_t **buf, char *err,
                          size_t errlen)
{
    uint64_t first = a->prev_log_index + 1;
    int rc = wal_read(n->wal, first, a->n_released, out, buf, err, errlen);

    for (size_t i = 0; rc == 0 && i < a->n_released; i++) {
        if (out[i].term != a->entries[i].term ||
            out[i].len != a->entries[i].len) {
            snprintf(err, errlen,
                     "entry %llu in the log has term %llu and %u bytes, the "
                     "core's has term %llu and %u",
                     (unsigned long long)(first + i),
                     (unsigned long long)out[i].term, (unsigned)out[i].len,
                     (unsigned long long)a->entries[i].term,
                     (unsigned)a->entries[i].len);
            free(*buf);
            *buf = NULL;
            rc = WAL_ERR_CORRUPT;
        }
    }
    return rc;
}

/* The read back of A's released entries for member POS failed with RC:
 * note in U what to tell the core, and say why (repeats muted). */
static void node_read_back_failed(struct node *n, int pos,
                                  const struct raft_append *a, int rc,
                                  const char *err, struct node_unsent *u)
{
    static uint64_t logged_at;
    uint64_t first = a->prev_log_index + 1, last = first + a->n_released - 1;
    uint64_t lost = last, now = node_now();
    bool quiet = now - logged_at < NODE_READ_BACK_LOG_EVERY_MS;

    if (rc == WAL_ERR_RANGE && wal_first_index(n->wal) > first &&
        wal_first_index(n->wal) - 1 < last) {
        lost = wal_first_index(n->wal) - 1; /* the rest is there */
    }
    if (rc == WAL_ERR_RANGE) {
        log_info("node", "entries %llu-%llu for node %llu: %s -> a snapshot",
                 (unsigned long long)first, (unsigned long long)last,
                 (unsigned long long)n->opts.peers.node[pos].id, err);
    } else if (!quiet) {
        logged_at = now;
        log_error("node",
                  "cannot read entries %llu-%llu back for node %llu: %s -> "
                  "%s (repeats muted for %d s)",
                  (unsigned long long)first, (unsigned long long)last,
                  (unsigned long long)n->opts.peers.node[pos].id, err,
                  rc == WAL_ERR_CORRUPT ? "a snapshot once one covers them"
                                        : "retry on the next heartbeat",
                  NODE_READ_BACK_LOG_EVERY_MS / 1000);
    }
    if (rc == WAL_ERR_RANGE || rc == WAL_ERR_CORRUPT) {
        u->lost[pos] = lost > u->lost[pos] ? lost : u->lost[pos];
    } else {
        u->failed |= 1u << pos;
    }
}

/* Send APPEND M to member POS with the data of its released entries read
 * back from the WAL: a copy of its entries, sent (the peer client copies
 * it) and freed. What cannot be read goes into U. */
static void node_send_read_back(struct node *n, int pos,
                                const struct raft_msg *m, struct node_unsent *u)
{
    const struct raft_append *a = &m->u.append;
    struct raft_msg copy = *m;
    struct raft_entry *e = malloc(a->n_entries * sizeof(*e));
    uint8_t *buf = NULL;
    char err[512];
    int rc = e == NULL ? WAL_ERR_NOMEM : WAL_OK;

    if (rc == WAL_OK) {
        rc = node_read_back(n, a, e, &buf, err, sizeof(err));
    } else {
        snprintf(err, sizeof(err), "out of memory");
    }
    if (rc != WAL_OK) {
        node_read_back_failed(n, pos, a, rc, err, u);
    } else {
        memcpy(e + a->n_released, a->entries + a->n_released,
               (a->n_entries - a->n_released) * sizeof(*e));
        copy.u.append.entries = e;
        copy.u.append.n_released = 0;
        if (peer_client_send(n->clients[pos], &copy) < 0) {
            u->failed |= 1u << pos;
        }
    }
    free(buf);
    free(e);
}

/* Send M; note in U what could not be sent. */
static void node_send(struct node *n, const struct raft_msg *m,
                      struct node_unsent *u)
{
    int pos;

    switch (m->type) {
    case RAFT_MSG_VOTE:
    case RAFT_MSG_APPEND:
    case RAFT_MSG_TIMEOUT_NOW:
        pos = node_pos(n, m->to);
        if (pos < 0 || n->clients[pos] == NULL) {
            return;
        }
        if (m->type == RAFT_MSG_APPEND && m->u.append.n_released > 0) {
            node_send_read_back(n, pos, m, u);
        } else if (peer_client_send(n->clients[pos], m) < 0 &&
                   m->type == RAFT_MSG_APPEND && m->u.append.n_entries > 0) {
            u->failed |= 1u << pos;
        }
        return;
    case RAFT_MSG_SNAPSHOT:
        node_snap_send(n, m);
        return;
    case RAFT_MSG_VOTE_RESULT:
    case RAFT_MSG_APPEND_RESULT:
    case RAFT_MSG_SNAPSHOT_RESULT:
        node_answer(n, m);
        return;
    default:
        log_error("node", "core emitted message type %d -> drop", (int)m->type);
        return;
    }
}

void node_flush_soon(struct node *n)
{
    if (!n->flush_armed && n->flush_ev != NULL && !n->done) {
        n->flush_armed = true;
        event_active(n->flush_ev, EV_TIMEOUT, 1);
    }
}

/* Append the batch's log entries to the WAL, buffered: the group commit
 * syncs them. Returns 0, or -1 (logged) when the log could not be
 * written. */
static int node_store_entries(struct node *n, const struct raft_ready *rd)
{
    const struct raft_entry *first, *last;
    char err[256];

    if (rd->n_entries == 0) {
        return 0;
    }
    first = &rd->entries[0];
    last = &rd->entries[rd->n_entries - 1];
    if ((first->index <= wal_last_index(n->wal) &&
         wal_truncate_suffix(n->wal, first->index, err, sizeof(err)) < 0) ||
        wal_append(n->wal, rd->entries, rd->n_entries, err, sizeof(err)) < 0) {
        log_error("node",
                  "cannot write entries %llu-%llu to the log: %s -> stop",
                  (unsigned long long)first->index,
                  (unsigned long long)last->index, err);
        return -1;
    }
    if (n->unsynced_index == 0) {
        n->unsynced_since_us = node_now_us();
    }
    n->unsynced_index = last->index;
    n->unsynced_term = last->term;
    node_flush_soon(n);
    return 0;
}

/* The group commit: one fdatasync for everything appended, then tell the
 * core. Returns 0, or -1 (logged) when the sync failed. */
static int node_sync(struct node *n)
{
    uint64_t index = n->unsynced_index, term = n->unsynced_term;
    uint64_t t0;
    char err[256];

    if (index == 0) {
        return 0;
    }
    t0 = node_now_us();
    if (wal_sync(n->wal, NULL, err, sizeof(err)) < 0) {
        log_error("node", "cannot sync the log up to %llu: %s -> stop",
                  (unsigned long long)index, err);
        return -1;
    }
    hist_observe(&n->m.fsync, (double)(node_now_us() - t0) / 1e6);
    n->unsynced_index = n->unsynced_term = 0;
    raft_persisted(n->raft, index, term, node_now());
    return 0;
}

static void node_flush_cb(evutil_socket_t fd, short what, void *arg)
{
    struct node *n = arg;

    (void)fd, (void)what;
    n->flush_armed = false;
    if (n->done) {
        return;
    }
    if (node_sync(n) < 0) {
        node_finish(n, 1);
        return;
    }
    node_drive(n);
}

void node_finish(struct node *n, int code)
{
    struct timeval tv = node_tv(NODE_LINGER_MS);

    if (n->done) {
        return;
    }
    n->done = true;
    n->exit_code = code;
    evtimer_del(n->tick_ev);
    evtimer_del(n->stop_ev);
    event_base_loopexit(n->base, code == 0 ? &tv : NULL);
}

static int node_persist(struct node *n, const struct raft_hard_state *hs)
{
    char err[256];

    if (meta_save(n->meta, hs, err, sizeof(err)) < 0) {
        log_error("node",
                  "cannot make term %llu vote %llu durable: %s -> stop, a "
                  "vote must be on disk before it is sent",
                  (unsigned long long)hs->term, (unsigned long long)hs->vote,
                  err);
        return -1;
    }
    return 0;
}

/* A leader that was asked to stop and is no longer leader has handed
 * over (or lost leadership anyway): time to go. */
static void node_check_stop(struct node *n)
{
    struct raft_status st;
    char who[48];

    if (!n->stopping || n->done) {
        return;
    }
    raft_status(n->raft, &st);
    if (st.role == RAFT_LEADER) {
        return;
    }
    if (st.leader != 0) {
        snprintf(who, sizeof(who), "node %llu leads",
                 (unsigned long long)st.leader);
    } else {
        snprintf(who, sizeof(who), "the successor is campaigning");
    }
    log_info("node",
             "stepped down in term %llu, %llu ms after the signal, %s -> exit",
             (unsigned long long)st.term,
             (unsigned long long)(node_now() - n->stop_started), who);
    node_finish(n, 0);
}

static void node_arm_tick(struct node *n)
{
    uint64_t now = node_now(), deadline = raft_next_deadline(n->raft);
    uint64_t wait = deadline > now ? deadline - now : 0;
    struct timeval tv = node_tv(wait > 1000 ? 1000 : wait);

    evtimer_add(n->tick_ev, &tv);
}

/* Tell the core what a batch could not send: entries the WAL lacks, and
 * peers whose requests with entries failed in this drive, except those
 * already told (REPORTED, updated). */
static void node_report_unsent(struct node *n, const struct node_unsent *u,
                               unsigned *reported)
{
    for (size_t i = 0; i < n->opts.peers.n; i++) {
        uint64_t id = n->opts.peers.node[i].id;

        if (u->lost[i] != 0) {
            raft_report_lost(n->raft, id, u->lost[i], node_now());
        }
        if ((u->failed & (1u << i)) && !(*reported & (1u << i))) {
            *reported |= 1u << i;
            raft_report_unreachable(n->raft, id, node_now());
        }
    }
}

/* Apply committed entry E: a fleet entry to the fleet, anything else to the
 * key-value store. A fleet entry still passes through the store as a no-op,
 * which moves the applied index and answers a key-value write whose entry
 * it replaced. Returns 0, or -1 when the node must stop. */
static int node_apply(struct node *n, const struct raft_entry *e)
{
    struct raft_entry skip;

    if (e->type != RAFT_ENTRY_NORMAL || !fleet_is_entry(e->data, e->len)) {
        return node_kv_apply(n, e);
    }
    if (node_fleet_apply(n, e) < 0) {
        return -1;
    }
    skip = *e;
    skip.type = RAFT_ENTRY_NOOP;
    return node_kv_apply(n, &skip);
}

/* Steps 4 to 6 of a batch: send, apply, serve reads. Notes in U what
 * could not be sent. Returns 0, or -1 when the node must stop. */
static int node_batch_out(struct node *n, const struct raft_ready *rd,
                          struct node_unsent *u)
{
    for (size_t i = 0; i < rd->n_msgs; i++) {
        node_send(n, &rd->msgs[i], u);
    }
    for (size_t i = 0; i < rd->n_committed; i++) {
        if (node_apply(n, &rd->committed[i]) < 0) {
            return -1;
        }
    }
    if (rd->n_committed > 0) {
        node_fleet_applied(n);
    }
    node_kv_reads_confirmed(n, rd->reads, rd->n_reads);
    node_kv_serve_reads(n);
    return 0;
}

/* One batch of ready, in the order described at the top of the file.
 * Returns 0, or -1 when the node must stop. */
static int node_batch(struct node *n, const struct raft_ready *rd,
                      struct node_unsent *u)
{
    if (rd->hard_state_changed && node_persist(n, &rd->hard_state) < 0) {
        return -1;
    }
    if (rd->snapshot_installed && node_snap_install(n, &rd->snapshot) < 0) {
        return -1;
    }
    if (node_store_entries(n, rd) < 0) {
        return -1;
    }
    return node_batch_out(n, rd, u);
}

/* The fsync has waited long enough while events kept coming. */
static bool node_sync_overdue(const struct node *n)
{
    return n->unsynced_index != 0 &&
           node_now_us() - n->unsynced_since_us >= NODE_SYNC_MAX_DELAY_US;
}

/* Leadership changes that concern the client API. */
static void node_check_role(struct node *n)
{
    struct raft_status st;

    raft_status(n->raft, &st);
    if (n->was_leader && st.role != RAFT_LEADER) {
        node_kv_leadership_lost(n);
    }
    n->was_leader = st.role == RAFT_LEADER;
    node_fleet_role(n, n->was_leader);
}

void node_drive(struct node *n)
{
    struct raft_ready rd;
    unsigned reported = 0;

    while (!n->done) {
        struct node_unsent u;

        if (!raft_ready(n->raft, &rd)) {
            if (!node_sync_overdue(n)) {
                break;
            }
            if (node_sync(n) < 0) {
                node_finish(n, 1);
                return;
            }
            continue;
        }
        memset(&u, 0, sizeof(u));
        if (node_batch(n, &rd, &u) < 0) {
            node_finish(n, 1);
            return;
        }
        /* rd's pointers are dead from here on: calls into the core. */
        if (node_snap_maybe_take(n) < 0) {
            node_finish(n, 1);
            return;
        }
        node_report_unsent(n, &u, &reported);
    }
    if (n->done) {
        return;
    }
    node_check_role(n);
    node_check_stop(n);
    if (!n->done) {
        node_arm_tick(n);
    }
}

void node_step(struct node *n, const struct raft_msg *m)
{
    if (n->done) {
        return;
    }
    raft_step(n->raft, m, node_now());
    node_drive(n);
}

void node_handle_request(struct node *n, struct evhttp_request *req,
                         const struct raft_msg *m)
{
    struct node_pending *p = calloc(1, sizeof(*p));
    struct raft_msg copy = *m;

    if (n->done || p == NULL) {
        free(p);
        http_reply_error(req, 503, n->done ? "shutting down" : "out of memory");
        return;
    }
    p->peer = m->from;
    p->rpc_id = copy.rpc_id = ++n->next_rpc_id;
    p->deadline = node_now() + NODE_PENDING_TIMEOUT_MS;
    p->req = req;
    p->next = &n->pending;
    p->prev = n->pending.prev;
    p->prev->next = p;
    n->pending.prev = p;
    if (raft_step(n->raft, &copy, node_now()) < 0) {
        http_reply_error(req, 503, "the raft core dropped the message");
        node_pending_unlink(p);
    }
    node_drive(n);
    node_pending_arm(n);
}

/* ------------------------------------------------------------------------
 * Timers, peers' results, signals.
 */

static void node_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct node *n = arg;

    (void)fd, (void)what;
    raft_tick(n->raft, node_now());
    node_drive(n);
}

static void node_result_cb(void *arg, const struct raft_msg *m)
{
    node_step(arg, m);
}

static void node_fail_cb(void *arg, uint64_t peer)
{
    struct node *n = arg;

    if (n->done) {
        return;
    }
    raft_report_unreachable(n->raft, peer, node_now());
    node_drive(n);
}

static void node_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct node *n = arg;

    (void)fd, (void)what;
    log_warn("node", "no successor took over within %u ms -> exit anyway",
             n->opts.election_max_ms);
    node_finish(n, 0);
}

static void node_signal_cb(evutil_socket_t sig, short what, void *arg)
{
    struct node *n = arg;
    const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";
    uint64_t now = node_now();
    struct raft_status st;
    struct timeval tv;

    (void)what;
    raft_status(n->raft, &st);
    if (n->stopping || st.role != RAFT_LEADER) {
        log_info("node", "%s as %s in term %llu -> exit", name,
                 n->stopping ? "leader handing over" : raft_role_name(st.role),
                 (unsigned long long)st.term);
        node_finish(n, 0);
        return;
    }
    log_info("node", "%s as leader of term %llu -> hand over, then exit", name,
             (unsigned long long)st.term);
    if (raft_transfer(n->raft, 0, now) < 0) {
        log_warn("node", "no follower to hand over to -> exit now");
        node_finish(n, 0);
        return;
    }
    n->stopping = true;
    n->stop_started = now;
    tv = node_tv(n->opts.election_max_ms);
    evtimer_add(n->stop_ev, &tv);
    node_drive(n);
}

/* ------------------------------------------------------------------------
 * Setup and teardown.
 */

static void node_trace_cb(void *arg, const char *line)
{
    (void)arg;
    log_info("raft", "%s", line);
}

static uint64_t node_seed(void)
{
    uint64_t seed;

    if (getrandom(&seed, sizeof(seed), 0) == (ssize_t)sizeof(seed)) {
        return seed;
    }
    log_warn("node", "getrandom: %s -> seed from the clock and pid",
             strerror(errno));
    return node_now() ^ ((uint64_t)getpid() << 32);
}

static int node_check_local(const struct addr *self, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t len;
    int fd, rc;

    memset(&ss, 0, sizeof(ss));
    if (self->family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

        s6->sin6_family = AF_INET6;
        inet_pton(AF_INET6, self->host, &s6->sin6_addr);
        len = sizeof(*s6);
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

        s4->sin_family = AF_INET;
        inet_pton(AF_INET, self->host, &s4->sin_addr);
        len = sizeof(*s4);
    }
    fd = socket(self->family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "socket: %s", strerror(errno));
        return -1;
    }
    rc = bind(fd, (struct sockaddr *)&ss, len);
    if (rc < 0) {
        snprintf(err, errlen,
                 "cannot send from %s (this node's address in "
                 "--peers): %s",
                 self->host, strerror(errno));
    }
    close(fd);
    return rc < 0 ? -1 : 0;
}

static int node_open_core(struct node *n, char *err, size_t errlen)
{
    struct raft_hard_state hs;
    struct raft_config cfg;

    if (meta_open(n->opts.data_dir, &n->meta, &hs, err, errlen) < 0) {
        return -1;
    }
    raft_config_defaults(&cfg);
    cfg.id = n->opts.id;
    cfg.n_nodes = n->opts.peers.n;
    for (size_t i = 0; i < cfg.n_nodes; i++) {
        cfg.ids[i] = n->opts.peers.node[i].id;
        n->nodes.ids[i] = cfg.ids[i];
    }
    n->nodes.self = cfg.id;
    n->nodes.n = cfg.n_nodes;
    cfg.election_min_ms = n->opts.election_min_ms;
    cfg.election_max_ms = n->opts.election_max_ms;
    cfg.heartbeat_ms = n->opts.heartbeat_ms;
    cfg.prevote = n->opts.prevote;
    cfg.check_quorum = n->opts.check_quorum;
    cfg.max_append_entries = CODEC_MAX_ENTRIES;
    cfg.max_append_bytes = CODEC_MAX_ENTRY_BYTES;
    cfg.seed = node_seed();
    if (raft_config_check(&cfg, err, errlen) < 0) {
        return -1;
    }
    n->raft = raft_new(&cfg, &hs, node_now());
    if (n->raft == NULL) {
        snprintf(err, errlen, "raft core: out of memory");
        return -1;
    }
    raft_set_trace(n->raft, node_trace_cb, n);
    return 0;
}

static int node_open_peers(struct node *n, char *err, size_t errlen)
{
    const struct addr *self = peers_find(&n->opts.peers, n->opts.id);

    if (node_check_local(self, err, errlen) < 0) {
        return -1;
    }
    for (size_t i = 0; i < n->opts.peers.n; i++) {
        struct peer_options po = {
            .id = n->opts.peers.node[i].id,
            .addr = n->opts.peers.node[i].addr,
            .local_host = self->host,
            .timeout_ms = n->opts.election_min_ms,
            .max_in_flight = NODE_MAX_IN_FLIGHT,
            .nodes = &n->nodes,
            .cb = node_result_cb,
            .fail_cb = node_fail_cb,
            .chunk_cb = node_snap_chunk_result,
            .chunk_timeout_ms = NODE_SNAP_CHUNK_TIMEOUT_MS,
            .cb_arg = n,
        };

        if (po.id == n->opts.id) {
            continue;
        }
        n->clients[i] = peer_client_new(n->base, &po);
        if (n->clients[i] == NULL) {
            snprintf(err, errlen, "peer client: out of memory");
            return -1;
        }
    }
    n->fwd = node_fwd_new(n->base, &n->opts.peers, self->host);
    if (n->fwd == NULL) {
        snprintf(err, errlen, "forwarder: out of memory");
        return -1;
    }
    return 0;
}

static int node_open_events(struct node *n, char *err, size_t errlen)
{
    n->tick_ev = evtimer_new(n->base, node_tick_cb, n);
    n->pending_ev = evtimer_new(n->base, node_pending_cb, n);
    n->stop_ev = evtimer_new(n->base, node_stop_cb, n);
    n->sigterm_ev = evsignal_new(n->base, SIGTERM, node_signal_cb, n);
    n->sigint_ev = evsignal_new(n->base, SIGINT, node_signal_cb, n);
    n->flush_ev = event_new(n->base, -1, 0, node_flush_cb, n);
    if (!n->tick_ev || !n->pending_ev || !n->stop_ev || !n->sigterm_ev ||
        !n->sigint_ev || !n->flush_ev ||
        event_priority_set(n->flush_ev, NODE_PRIORITY_FLUSH) < 0 ||
        evsignal_add(n->sigterm_ev, NULL) < 0 ||
        evsignal_add(n->sigint_ev, NULL) < 0) {
        snprintf(err, errlen, "event setup failed");
        return -1;
    }
    return 0;
}

static void node_log_start(const struct node *n)
{
    char peers[512];
    struct raft_status st;

    peers_format(&n->opts.peers, peers, sizeof(peers));
    raft_status(n->raft, &st);
    log_info("node",
             "node %llu listening on %s; peers %s; election timeout %u-%u "
             "ms, heartbeat %u ms, prevote %s, check-quorum %s; snapshot "
             "every %llu entries, keep %llu; data dir %s: term %llu, vote "
             "%llu, log up to %llu (term %llu)",
             (unsigned long long)n->opts.id, n->opts.listen.text, peers,
             n->opts.election_min_ms, n->opts.election_max_ms,
             n->opts.heartbeat_ms, n->opts.prevote ? "on" : "off",
             n->opts.check_quorum ? "on" : "off",
             (unsigned long long)n->opts.snapshot_entries,
             (unsigned long long)n->opts.snapshot_keep, n->opts.data_dir,
             (unsigned long long)st.term, (unsigned long long)st.vote,
             (unsigned long long)st.last_log_index,
             (unsigned long long)st.last_log_term);
}

/* Read --token-file: every request served must carry it, every request
 * sent carries it. Without one the API is open, and the log says so. */
static int node_load_token(struct node *n, char *err, size_t errlen)
{
    bool loose = false;

    if (n->opts.token_file == NULL) {
        log_warn("node",
                 "no --token-file: anyone who reaches %s can use the API",
                 n->opts.listen.text);
        return 0;
    }
    if (token_load(n->opts.token_file, n->token, &loose, err, errlen) < 0) {
        return -1;
    }
    if (loose) {
        log_warn("node", "token file %s can be read by others: chmod 600 it",
                 n->opts.token_file);
    }
    http_set_client_token(n->token);
    return 0;
}

int node_open(struct node *n, const struct node_opts *opts, char *err,
              size_t errlen)
{
    memset(n, 0, sizeof(*n));
    n->opts = *opts;
    n->pending.next = n->pending.prev = &n->pending;
    n->writes.next = n->writes.prev = &n->writes;
    n->reads.next = n->reads.prev = &n->reads;
    signal(SIGPIPE, SIG_IGN); /* a peer that hangs up is an error, not death */
    n->base = event_base_new();
    n->kv = kv_new();
    if (n->base == NULL || n->kv == NULL ||
        event_base_priority_init(n->base, NODE_PRIORITIES) < 0) {
        snprintf(err, errlen, "cannot create the event loop");
        return -1;
    }
    if (node_load_token(n, err, errlen) < 0 ||
        node_fleet_open(n, err, errlen) < 0 ||
        node_open_core(n, err, errlen) < 0 ||
        node_snap_restore(n, err, errlen) < 0 ||
        node_open_events(n, err, errlen) < 0 ||
        node_kv_open(n, err, errlen) < 0 ||
        node_snap_open(n, err, errlen) < 0 ||
        node_open_peers(n, err, errlen) < 0 ||
        node_api_listen(n, err, errlen) < 0) {
        return -1;
    }
    node_log_start(n);
    node_arm_tick(n);
    return 0;
}

int node_run(struct node *n)
{
    if (event_base_dispatch(n->base) < 0) {
        log_error("node", "event loop failed -> exit");
        return 1;
    }
    return n->exit_code;
}

static void node_free_event(struct event **ev)
{
    if (*ev != NULL) {
        event_free(*ev);
        *ev = NULL;
    }
}

void node_close(struct node *n)
{
    n->done = true;
    node_pending_expire(n, UINT64_MAX, "shutting down");
    node_kv_close(n);
    node_fleet_close(n);
    node_fwd_free(n->fwd);
    n->fwd = NULL;
    node_snap_close(n);
    for (size_t i = 0; i < PEERS_MAX; i++) {
        peer_client_free(n->clients[i]);
        n->clients[i] = NULL;
    }
    http_server_free(n->http);
    n->http = NULL;
    node_free_event(&n->tick_ev);
    node_free_event(&n->pending_ev);
    node_free_event(&n->stop_ev);
    node_free_event(&n->sigterm_ev);
    node_free_event(&n->sigint_ev);
    node_free_event(&n->flush_ev);
    raft_free(n->raft);
    n->raft = NULL;
    /* Entries appended and not synced were never acknowledged. */
    wal_close(n->wal);
    n->wal = NULL;
    kv_free(n->kv);
    n->kv = NULL;
    meta_close(n->meta);
    n->meta = NULL;
    if (n->base != NULL) {
        event_base_free(n->base);
        n->base = NULL;
    }
}
