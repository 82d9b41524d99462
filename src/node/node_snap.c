/* node_snap.c - snapshots: taken, restored on start, sent, received.
 *
 * Taking. After applying, once --snapshot-entries entries have been applied
 * since the last snapshot, the key-value store and the fleet are encoded
 * together (sm_state_encode, sm/state.h) and saved durably (snap_save) as of
 * the last applied entry; only then is the core told (raft_compact, keeping
 * --snapshot-keep entries for followers a little behind) and are the WAL's
 * segments below both the kept entries and the previous snapshot deleted
 * (wal_truncate_prefix): the storage layer keeps two snapshots, and an
 * operator whose newest one is damaged can fall back to the older one only
 * while the log reaches back to it (docs/storage.md). After a restart the
 * previous snapshot is not known, and the WAL is kept whole until the next
 * snapshot. A failed save keeps the whole log and is tried again after as
 * many entries more.
 *
 * Restoring, on start. The newest snapshot is decoded into the store and the
 * fleet (sm_state_decode), then the WAL is recovered and checked against it.
 * The WAL may still hold entries the snapshot covers (kept ones, or segments
 * whose deletion a crash cut short): those are skipped. It must hold no gap
 * after the snapshot: a WAL that starts past snapshot + 1 is refused. A WAL
 * that ends before the snapshot, or whose entry at the snapshot's index has
 * another term (a crash between installing a leader's snapshot and resetting
 * the WAL leaves the old log), is started afresh after the snapshot.
 *
 * Sending. When the core asks (RAFT_MSG_SNAPSHOT: a follower needs entries
 * compacted away), the snapshot file is streamed to the follower in
 * NODE_SNAP_CHUNK_BYTES chunks, each POSTed once the previous one is
 * answered, on a connection of its own (peer.h). A refused chunk is sent
 * again from the offset the receiver names (a few times at most). The
 * reply to the last chunk carries the follower core's SNAPSHOT_RESULT,
 * which is stepped into this core. A stale leader learns the higher term
 * from any reply. A transfer that fails is given up, and after a wait
 * (doubling from NODE_SNAP_RETRY_MIN_MS) the core is told the peer was
 * unreachable, which makes it ask again with its newest snapshot.
 *
 * Receiving. The first chunk (offset 0) opens a receive (snap_recv_open);
 * each chunk is written at its offset; the last one finishes the file
 * durably (snap_recv_finish) and only then steps a RAFT_MSG_SNAPSHOT into
 * the core, which answers with its SNAPSHOT_RESULT in the reply. When the
 * core accepts it (ready.snapshot_installed) the snapshot is decoded into
 * the store and the fleet (sm_state_decode) and the WAL restarts after it
 * (node_snap_install). A chunk from a term older than this node's is refused
 * with the current term.
 */
#include "node/node_int.h"
#include "sm/state.h"

#include "util/log.h"

#include <event2/event.h>
#include <event2/http.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNAP_MAX_REFUSALS 3 /* chunks refused in a row: give up */

/* ------------------------------------------------------------------------
 * Restoring on start.
 */

/* Load the newest snapshot into the store. */
static int snap_restore_state(struct node *n, char *err, size_t errlen)
{
    struct snap_info info;
    uint8_t *body = NULL;
    size_t len = 0;
    char why[256];

    if (snap_load_latest(n->opts.data_dir, &info, &body, &len, err, errlen) <
        0) {
        return -1;
    }
    if (info.index > 0 && sm_state_decode(n->kv, node_fleet_state(n), body, len,
                                          why, sizeof(why)) < 0) {
        snprintf(err, errlen, "snapshot %llu/%llu: %s",
                 (unsigned long long)info.term, (unsigned long long)info.index,
                 why);
        free(body);
        return -1;
    }
    free(body);
    n->snap_index = n->applied = info.index;
    n->snap_term = n->applied_term = info.term;
    return 0;
}

const char *node_snap_log_mismatch(uint64_t base, uint64_t base_term,
                                   const struct wal_entries *l, bool *gap)
{
    *gap = l->first_index > base + 1;
    if (*gap) {
        return "it starts after the snapshot, leaving a gap";
    }
    if (l->n == 0) {
        return l->first_index == base + 1 ? NULL : "it is empty";
    }
    if (l->last_index < base) {
        return "the snapshot covers all of it";
    }
    if (base >= l->first_index && base > 0 &&
        l->entries[base - l->first_index].term != base_term) {
        return "its entry at the snapshot's index has another term";
    }
    return NULL;
}

/* Check the recovered log L against the snapshot; hand the core what
 * follows it. */
static int snap_restore_log(struct node *n, const struct wal_entries *l,
                            char *err, size_t errlen)
{
    uint64_t base = n->snap_index;
    const struct raft_entry *after = NULL;
    size_t count = 0;
    bool gap;
    const char *why = node_snap_log_mismatch(base, n->snap_term, l, &gap);

    if (gap) {
        snprintf(err, errlen,
                 "the log in %s/wal starts at %llu but the snapshot ends at "
                 "%llu: entries are missing",
                 n->opts.data_dir, (unsigned long long)l->first_index,
                 (unsigned long long)base);
        return -1;
    }
    if (why != NULL) {
        log_warn("snap",
                 "log %llu-%llu does not follow snapshot %llu/%llu (%s) -> "
                 "start the log afresh at %llu",
                 (unsigned long long)l->first_index,
                 (unsigned long long)l->last_index,
                 (unsigned long long)n->snap_term, (unsigned long long)base,
                 why, (unsigned long long)(base + 1));
        if (wal_reset(n->wal, base + 1, err, errlen) < 0) {
            return -1;
        }
    } else if (l->n > 0) {
        after = &l->entries[base + 1 - l->first_index];
        count = (size_t)(l->last_index - base);
    }
    if (raft_restore_log(n->raft, base, n->snap_term, after, count) < 0) {
        snprintf(err, errlen, "cannot restore %zu log entries", count);
        return -1;
    }
    return 0;
}

int node_snap_restore(struct node *n, char *err, size_t errlen)
{
    struct wal_entries loaded;
    uint64_t t0 = node_now();
    int rc;

    if (snap_restore_state(n, err, errlen) < 0 ||
        wal_open(n->opts.data_dir, NULL, &n->wal, &loaded, err, errlen) < 0) {
        return -1;
    }
    rc = snap_restore_log(n, &loaded, err, errlen);
    if (rc == 0 && n->snap_index > 0) {
        log_info("snap",
                 "restored snapshot %llu/%llu (%zu keys) and log %llu-%llu "
                 "in %llu ms",
                 (unsigned long long)n->snap_term,
                 (unsigned long long)n->snap_index, kv_count(n->kv),
                 (unsigned long long)loaded.first_index,
                 (unsigned long long)loaded.last_index,
                 (unsigned long long)(node_now() - t0));
    } else if (rc == 0) {
        log_info("snap", "no snapshot; log %llu-%llu restored in %llu ms",
                 (unsigned long long)loaded.first_index,
                 (unsigned long long)loaded.last_index,
                 (unsigned long long)(node_now() - t0));
    }
    wal_entries_free(&loaded);
    return rc;
}

/* ------------------------------------------------------------------------
 * Taking a snapshot.
 */

/* Save the store as of the last applied entry. Returns 0, or -1 (logged)
 * when it could not be saved. */
static int snap_save_state(struct node *n, size_t *bytes)
{
    uint8_t *body;
    size_t len;
    char err[256];
    int rc;

    if (sm_state_encode(n->kv, node_fleet_state(n), &body, &len) < 0) {
        snprintf(err, sizeof(err), "out of memory encoding the store");
        rc = -1;
    } else {
        rc = snap_save(n->opts.data_dir, n->applied, n->applied_term, body, len,
                       err, sizeof(err));
        free(body);
    }
    if (rc < 0) {
        n->snap_next_try = n->applied + n->opts.snapshot_entries;
        log_error("snap",
                  "cannot save a snapshot at %llu: %s -> keep the whole log, "
                  "try again at %llu",
                  (unsigned long long)n->applied, err,
                  (unsigned long long)n->snap_next_try);
        return -1;
    }
    *bytes = len;
    return 0;
}

int node_snap_maybe_take(struct node *n)
{
    uint64_t t0 = node_now(), keep = n->opts.snapshot_keep, cut = 0;
    size_t bytes;
    char err[256];

    if (n->applied < n->snap_index + n->opts.snapshot_entries ||
        n->applied < n->snap_next_try || n->applied == 0) {
        return 0;
    }
    if (snap_save_state(n, &bytes) < 0) {
        return 0;
    }
    n->snap_prev_index = n->snap_index;
    n->snap_index = n->applied;
    n->snap_term = n->applied_term;
    n->m.snapshots_taken++;
    raft_compact(n->raft, n->snap_index, keep);
    /* The encoded store and the compacted entries were freed: hand the
     * pages back, or an edge machine pays for the peak forever. */
    malloc_trim(0);
    if (n->snap_index > keep && n->snap_prev_index > 0) {
        cut = n->snap_index - keep + 1;
        cut = cut < n->snap_prev_index + 1 ? cut : n->snap_prev_index + 1;
        if (wal_truncate_prefix(n->wal, cut, err, sizeof(err)) < 0) {
            log_error("snap", "cannot drop log segments below %llu: %s -> stop",
                      (unsigned long long)cut, err);
            return -1;
        }
    }
    log_info("snap",
             "applied %llu entries since the last snapshot -> snapshot at "
             "%llu/%llu: %zu keys, %zu bytes, %llu ms; log kept from %llu on "
             "disk",
             (unsigned long long)n->opts.snapshot_entries,
             (unsigned long long)n->snap_term,
             (unsigned long long)n->snap_index, kv_count(n->kv), bytes,
             (unsigned long long)(node_now() - t0),
             (unsigned long long)(cut ? cut : 1));
    return 0;
}

/* ------------------------------------------------------------------------
 * Installing a snapshot the leader sent.
 */

int node_snap_install(struct node *n, const struct raft_snapshot_ref *s)
{
    struct snap_info info;
    uint8_t *body = NULL;
    size_t len = 0;
    char err[256];

    if (snap_load(n->opts.data_dir, s->last_index, s->last_term, &info, &body,
                  &len, err, sizeof(err)) < 0 ||
        sm_state_decode(n->kv, node_fleet_state(n), body, len, err,
                        sizeof(err)) < 0 ||
        wal_reset(n->wal, s->last_index + 1, err, sizeof(err)) < 0) {
        log_error("snap", "cannot install snapshot %llu/%llu: %s -> stop",
                  (unsigned long long)s->last_term,
                  (unsigned long long)s->last_index, err);
        free(body);
        return -1;
    }
    free(body);
    n->snap_prev_index = 0; /* the log restarts after this one */
    n->applied = n->snap_index = s->last_index;
    n->applied_term = n->snap_term = s->last_term;
    n->unsynced_index = n->unsynced_term = 0;
    n->m.snapshots_installed++;
    log_info("snap",
             "installed snapshot %llu/%llu from the leader: %zu keys -> log "
             "restarts at %llu",
             (unsigned long long)s->last_term,
             (unsigned long long)s->last_index, kv_count(n->kv),
             (unsigned long long)(s->last_index + 1));
    node_kv_installed(n, s->last_index);
    node_fleet_installed(n, s->last_index);
    return 0;
}

/* ------------------------------------------------------------------------
 * Sending a snapshot to a follower.
 */

/* Transfer O is over: close its file. */
static void snap_out_end(struct node_snap_out *o)
{
    o->active = false;
    if (o->fd >= 0) {
        close(o->fd);
        o->fd = -1;
    }
}

/* Give up transfer O after WHY; tell the core to try again later. */
static void snap_send_failed(struct node_snap_out *o, const char *why)
{
    struct timeval tv = {(time_t)(o->retry_ms / 1000),
                         (suseconds_t)(o->retry_ms % 1000) * 1000};

    log_warn("snap",
             "snapshot %llu/%llu to node %llu failed at byte %llu of %llu: "
             "%s -> try again in %u ms",
             (unsigned long long)o->term, (unsigned long long)o->index,
             (unsigned long long)o->peer, (unsigned long long)o->offset,
             (unsigned long long)o->total, why, o->retry_ms);
    snap_out_end(o);
    evtimer_add(o->retry_ev, &tv);
    o->retry_ms = o->retry_ms * 2 > NODE_SNAP_RETRY_MAX_MS
                      ? NODE_SNAP_RETRY_MAX_MS
                      : o->retry_ms * 2;
}

static void snap_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    struct node_snap_out *o = arg;
    struct node *n = o->n;

    (void)fd, (void)what;
    if (n->done) {
        return;
    }
    raft_report_unreachable(n->raft, o->peer, node_now());
    node_drive(n);
}

/* Read and send the chunk of O at o->offset. */
static void snap_send_chunk(struct node *n, struct node_snap_out *o)
{
    struct codec_chunk c;
    uint8_t *buf;
    struct raft_status st;
    char err[256];
    size_t len;
    bool last;

    raft_status(n->raft, &st);
    if (st.role != RAFT_LEADER) {
        snap_out_end(o); /* the new leader sends its own */
        return;
    }
    /* The file stays open for the whole transfer: a newer snapshot may
     * prune it from the directory meanwhile. The buffer lives only while
     * the chunk is encoded, so that a leader does not keep half a
     * megabyte after its first transfer. */
    if (o->fd < 0 && snap_open_send(n->opts.data_dir, o->index, o->term, &o->fd,
                                    &o->total, err, sizeof(err)) < 0) {
        snap_send_failed(o, err);
        return;
    }
    buf = malloc(NODE_SNAP_CHUNK_BYTES);
    if (buf == NULL) {
        snap_send_failed(o, "out of memory");
        return;
    }
    if (snap_read_fd(o->fd, o->total, o->offset, buf, NODE_SNAP_CHUNK_BYTES,
                     &len, &last, err, sizeof(err)) < 0) {
        free(buf);
        snap_send_failed(o, err);
        return;
    }
    memset(&c, 0, sizeof(c));
    c.term = st.term;
    c.from = st.id;
    c.to = o->peer;
    c.last_index = o->index;
    c.last_term = o->term;
    c.offset = o->offset;
    c.total = o->total;
    c.done = last;
    c.data = buf;
    c.len = len;
    o->last_sent = last;
    if (peer_client_send_chunk(n->clients[node_pos(n, o->peer)], &c) < 0) {
        snap_send_failed(o, "cannot send the chunk");
    }
    free(buf);
}

void node_snap_send(struct node *n, const struct raft_msg *m)
{
    int pos = node_pos(n, m->to);
    struct node_snap_out *o;

    if (pos < 0 || n->clients[pos] == NULL) {
        return;
    }
    o = &n->snap_out[pos];
    if (o->active || evtimer_pending(o->retry_ev, NULL)) {
        return; /* one transfer at a time; after a failure, the wait */
    }
    snap_out_end(o);
    o->active = true;
    o->index = m->u.snapshot.last_index;
    o->term = m->u.snapshot.last_term;
    o->offset = 0;
    o->total = 0;
    o->refusals = 0;
    o->started = node_now();
    snap_send_chunk(n, o);
}

/* Step the follower's verdict on the snapshot into the core. */
static void snap_step_result(struct node *n, uint64_t peer,
                             const struct codec_chunk_result *res)
{
    struct raft_msg m;

    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_SNAPSHOT_RESULT;
    m.from = peer;
    m.to = n->opts.id;
    m.term = res->term;
    m.u.append_result.success = res->success;
    m.u.append_result.match_index = res->match_index;
    node_step(n, &m);
}

/* The last chunk was answered: the transfer is over. */
static void snap_send_done(struct node *n, struct node_snap_out *o,
                           const struct codec_chunk_result *res)
{
    snap_out_end(o);
    o->retry_ms = NODE_SNAP_RETRY_MIN_MS;
    n->m.snapshots_sent++;
    log_info("snap",
             "sent snapshot %llu/%llu to node %llu: %llu bytes in %llu ms -> "
             "it %s, holds up to %llu",
             (unsigned long long)o->term, (unsigned long long)o->index,
             (unsigned long long)o->peer, (unsigned long long)o->total,
             (unsigned long long)(node_now() - o->started),
             res->success ? "took it" : "refused it",
             (unsigned long long)res->match_index);
    snap_step_result(n, o->peer, res);
}

void node_snap_chunk_result(void *arg, uint64_t peer,
                            const struct codec_chunk_result *res,
                            const char *why)
{
    struct node *n = arg;
    struct node_snap_out *o = &n->snap_out[node_pos(n, peer)];
    struct raft_status st;

    if (n->done || !o->active) {
        return;
    }
    if (res == NULL) {
        snap_send_failed(o, why);
        return;
    }
    raft_status(n->raft, &st);
    if (res->term > st.term) {
        snap_out_end(o); /* we are a stale leader: the core steps down */
        snap_step_result(n, peer, res);
        return;
    }
    if (res->success && (o->last_sent || res->match_index > 0)) {
        /* The follower's core answered: after the last chunk, or at the
         * first when it already held the snapshot's entries. */
        snap_send_done(n, o, res);
        return;
    }
    if (!res->success &&
        (++o->refusals > SNAP_MAX_REFUSALS || res->next_offset > o->total)) {
        snap_send_failed(o, "the follower refused the chunks");
        return;
    }
    if (res->success) {
        o->refusals = 0;
    }
    o->offset = res->next_offset;
    snap_send_chunk(n, o);
}

/* ------------------------------------------------------------------------
 * Receiving a snapshot from the leader.
 */

static void snap_reply(struct evhttp_request *req,
                       const struct codec_chunk_result *r)
{
    char err[200];
    size_t len;
    char *text = codec_encode_chunk_result(r, &len, err, sizeof(err));

    if (text == NULL) {
        http_reply_error(req, 500, "%s", err);
        return;
    }
    http_reply_text(req, 200, "application/json", text, len);
    free(text);
}

static void snap_recv_drop(struct node *n)
{
    snap_recv_abort(n->snap_in);
    n->snap_in = NULL;
}

/* Step the RAFT_MSG_SNAPSHOT that chunk C carries into the core, which
 * answers REQ. */
static void snap_recv_step(struct node *n, struct evhttp_request *req,
                           const struct codec_chunk *c)
{
    struct raft_msg m;

    memset(&m, 0, sizeof(m));
    m.type = RAFT_MSG_SNAPSHOT;
    m.from = c->from;
    m.to = c->to;
    m.term = c->term;
    m.u.snapshot.last_index = c->last_index;
    m.u.snapshot.last_term = c->last_term;
    node_handle_request(n, req, &m);
}

/* A snapshot this node has committed up to needs no transfer: the core
 * answers at once that it holds the log that far (and installs nothing).
 * Returns true when REQ has been answered so. */
static bool snap_recv_committed(struct node *n, struct evhttp_request *req,
                                const struct codec_chunk *c)
{
    struct raft_status st;

    raft_status(n->raft, &st);
    if (st.commit_index < c->last_index) {
        return false;
    }
    snap_recv_step(n, req, c);
    return true;
}

/* Open a receive for chunk C, the first of its transfer. Returns 0, or -1
 * when REQ has been answered. */
static int snap_recv_start(struct node *n, struct evhttp_request *req,
                           const struct codec_chunk *c,
                           struct codec_chunk_result *r)
{
    char err[256];
    int rc;

    if (c->offset != 0) {
        snap_reply(req, r); /* start over from 0 */
        return -1;
    }
    if (snap_recv_committed(n, req, c)) {
        return -1;
    }
    rc = snap_recv_open(n->opts.data_dir, c->last_index, c->last_term,
                        &n->snap_in, err, sizeof(err));
    if (rc == SNAP_ERR_STALE) {
        /* A newer snapshot is here, but the core has not committed this
         * far (one received, then refused): start over later. */
        log_warn("snap",
                 "snapshot %llu/%llu from node %llu is older than one "
                 "already here -> refuse it",
                 (unsigned long long)c->last_term,
                 (unsigned long long)c->last_index,
                 (unsigned long long)c->from);
        snap_reply(req, r);
        return -1;
    }
    if (rc < 0) {
        log_warn("snap", "cannot receive snapshot %llu/%llu from node %llu: %s",
                 (unsigned long long)c->last_term,
                 (unsigned long long)c->last_index, (unsigned long long)c->from,
                 err);
        snap_reply(req, r);
        return -1;
    }
    n->snap_in_from = c->from;
    return 0;
}

/* The last chunk is in: make the file durable, then ask the core. */
static void snap_recv_complete(struct node *n, struct evhttp_request *req,
                               const struct codec_chunk *c,
                               struct codec_chunk_result *r)
{
    char err[256];
    int rc = snap_recv_finish(n->snap_in, err, sizeof(err));

    n->snap_in = NULL;
    if (rc < 0) {
        log_warn("snap", "snapshot %llu/%llu from node %llu: %s -> refuse it",
                 (unsigned long long)c->last_term,
                 (unsigned long long)c->last_index, (unsigned long long)c->from,
                 err);
        snap_reply(req, r);
        return;
    }
    snap_recv_step(n, req, c);
}

/* Take chunk C (decoded) and answer REQ. */
static void snap_recv_chunk(struct node *n, struct evhttp_request *req,
                            const struct codec_chunk *c)
{
    struct codec_chunk_result r;
    struct raft_status st;
    char err[256];
    int rc;

    raft_status(n->raft, &st);
    memset(&r, 0, sizeof(r));
    r.term = st.term;
    r.from = st.id;
    r.to = c->from;
    if (c->term < st.term) {
        snap_reply(req, &r); /* a stale leader: it learns our term */
        return;
    }
    if (n->snap_in != NULL &&
        (snap_recv_index(n->snap_in) != c->last_index ||
         snap_recv_term(n->snap_in) != c->last_term || c->offset == 0)) {
        snap_recv_drop(n); /* another transfer, or this one from the top */
    }
    if (n->snap_in == NULL && snap_recv_start(n, req, c, &r) < 0) {
        return;
    }
    n->snap_in_at = node_now();
    rc = snap_recv_write(n->snap_in, c->offset, c->data, c->len, err,
                         sizeof(err));
    if (rc < 0 && rc != SNAP_ERR_OFFSET) {
        log_warn("snap", "snapshot %llu/%llu from node %llu: %s -> start over",
                 (unsigned long long)c->last_term,
                 (unsigned long long)c->last_index, (unsigned long long)c->from,
                 err);
        snap_recv_drop(n);
        snap_reply(req, &r);
        return;
    }
    r.success = rc == 0;
    r.next_offset = snap_recv_offset(n->snap_in);
    if (rc == 0 && c->done) {
        snap_recv_complete(n, req, c, &r);
        return;
    }
    snap_reply(req, &r);
}

void node_snap_receive(struct node *n, struct evhttp_request *req)
{
    struct codec_chunk c;
    char err[256];
    size_t len;
    const char *body = http_body(req, &len);

    if (n->done) {
        http_reply_error(req, 503, "shutting down");
        return;
    }
    if (codec_decode_chunk(body, len, &n->nodes, &c, err, sizeof(err)) < 0) {
        node_api_log_refusal(req, CODEC_PATH_INSTALL_SNAPSHOT, err);
        http_reply_error(req, 400, "%s", err);
        return;
    }
    snap_recv_chunk(n, req, &c);
    codec_chunk_release(&c);
}

void node_snap_sweep(struct node *n, uint64_t now)
{
    if (n->snap_in != NULL && now - n->snap_in_at > NODE_SNAP_RECV_IDLE_MS) {
        log_warn("snap",
                 "snapshot %llu/%llu from node %llu: no chunk for %d s -> "
                 "drop the partial file",
                 (unsigned long long)snap_recv_term(n->snap_in),
                 (unsigned long long)snap_recv_index(n->snap_in),
                 (unsigned long long)n->snap_in_from,
                 NODE_SNAP_RECV_IDLE_MS / 1000);
        snap_recv_drop(n);
    }
}

/* ------------------------------------------------------------------------
 * Setup and teardown.
 */

int node_snap_open(struct node *n, char *err, size_t errlen)
{
    for (size_t i = 0; i < n->opts.peers.n; i++) {
        struct node_snap_out *o = &n->snap_out[i];

        o->n = n;
        o->fd = -1;
        o->peer = n->opts.peers.node[i].id;
        o->retry_ms = NODE_SNAP_RETRY_MIN_MS;
        o->retry_ev = evtimer_new(n->base, snap_retry_cb, o);
        if (o->retry_ev == NULL) {
            snprintf(err, errlen, "event setup failed");
            return -1;
        }
    }
    return 0;
}

void node_snap_close(struct node *n)
{
    snap_recv_drop(n);
    for (size_t i = 0; i < PEERS_MAX; i++) {
        if (n->snap_out[i].retry_ev != NULL) {
            snap_out_end(&n->snap_out[i]); /* opened: fd is set */
            event_free(n->snap_out[i].retry_ev);
            n->snap_out[i].retry_ev = NULL;
        }
    }
}
