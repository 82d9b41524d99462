/* raft_replication.c - AppendEntries, commitment, read index and
 * check-quorum.
 *
 * The leader keeps, for every follower, the next entry to send and the
 * highest entry known to be there (match). A follower whose match point is
 * unknown is probed with one request at a time; once a request succeeds,
 * the leader streams to it: up to max_inflight requests in flight, each
 * with up to max_append_bytes of entries, sent as soon as entries are
 * proposed rather than on the next heartbeat. Heartbeats carry what is
 * pending.
 *
 * Every AppendEntries carries the log position the follower must already
 * hold (prev_log_index/prev_log_term). A follower that does not hold it
 * answers with a hint: its last index when its log is too short, else the
 * first index of the term it holds at that position, so the leader skips a
 * whole term per round trip instead of one entry.
 *
 * A follower writes what it accepts, and acknowledges only once the driver
 * reports the entries durable (raft_persisted). The leader writes its own
 * entries while it sends them, and counts itself toward a majority only for
 * what is durable on its own disk. An entry is committed when a majority
 * holds it durably and it is of the leader's own term (earlier terms'
 * entries are committed with it: paper, 5.4.2); a new leader appends a
 * no-op so that this happens at once.
 *
 * Read index (dissertation 6.4): a read on the leader records the commit
 * index, starts a heartbeat round (seq), and is served once a majority
 * answered that round (the leader was still leader when the read came) and
 * the state machine has applied the recorded index.
 *
 * Check-quorum: the leader notes when each peer last answered in this
 * term. When fewer than a majority (itself included) answered within the
 * last election timeout (maximum), it steps down.
 *
 * Entry bodies (raft.h). At the start of every call the data of entries
 * nothing needs soon is freed, at most RAFT_RELEASE_MAX at a time: entries
 * applied (the driver is done with them: it was handed them by an earlier
 * ready) and, on a leader, held by every peer heard from within an election
 * timeout. A peer that is silent longer holds nothing back: it may be gone
 * for good, and when it returns the driver reads what it lacks from its
 * log; until it answers, it is probed without entries, so that nothing is
 * read back for a peer that may be down. The released entries are always
 * a prefix of the log (up to log.released), so an APPEND says with one
 * number how many of its entries lack data. The driver reports entries its
 * log no longer holds (raft_report_lost); for those the leader sends its
 * snapshot, like for entries it compacted itself, or waits for the next
 * snapshot when the one it has does not cover them.
 */
#include "raft/raft_int.h"

#include <stdlib.h>
#include <string.h>

/* Entries from P's next index, bounded by count and bytes (at least one). */
static size_t batch_size(const struct raft *r, const struct raft_peer *p)
{
    uint64_t last = raft_log_last_index(&r->log);
    size_t n = 0;
    uint64_t bytes = 0;

    for (uint64_t i = p->next_index; i <= last; i++) {
        const struct raft_entry *e = raft_log_get(&r->log, i);

        if (n > 0 && (n >= r->cfg.max_append_entries ||
                      bytes + e->len > r->cfg.max_append_bytes)) {
            break;
        }
        bytes += e->len;
        n++;
    }
    return n;
}

static struct raft_msg *new_append(struct raft *r, struct raft_peer *p,
                                   uint64_t prev)
{
    struct raft_msg *m = raft_send(r, RAFT_MSG_APPEND, p->id);

    if (m == NULL) {
        return NULL;
    }
    m->u.append.prev_log_index = prev;
    m->u.append.prev_log_term = raft_log_term_at(&r->log, prev);
    m->u.append.seq = r->read_seq;
    /* Never tell a follower to commit past what it is known to hold. */
    m->u.append.leader_commit =
        r->commit_index < p->match_index ? r->commit_index : p->match_index;
    return m;
}

/* True when entry INDEX can no longer be sent: compacted away, or its
 * body released and gone from the driver's log too. */
static bool entry_gone(const struct raft *r, uint64_t index)
{
    return index <= r->log.base_index || index <= r->lost_to;
}

/* The entries P needs are gone: ask the driver to send it the latest
 * snapshot. */
static void send_snapshot(struct raft *r, struct raft_peer *p)
{
    struct raft_msg *m = raft_send(r, RAFT_MSG_SNAPSHOT, p->id);

    if (m == NULL) {
        return;
    }
    raft_trace(r, "%llu needs entry %llu, %s -> send snapshot at %llu",
               (unsigned long long)p->id, (unsigned long long)p->next_index,
               p->next_index <= r->log.base_index
                   ? "compacted away"
                   : "gone from the driver's log",
               (unsigned long long)r->snap_index);
    m->u.snapshot.last_index = r->snap_index;
    m->u.snapshot.last_term = r->snap_term;
    p->snapshotting = true;
    p->snapshot_at = r->now;
    p->probing = true; /* its match point is known again only after */
    p->infl_count = 0;
}

/* P needs entries that are gone (entry_gone): the snapshot, if it covers
 * what the driver lost; else P waits for one that does (the next
 * raft_compact), and hears only heartbeats meanwhile. */
static void send_instead(struct raft *r, struct raft_peer *p)
{
    if (p->next_index > r->log.base_index && r->lost_to > r->snap_index) {
        if (r->lost_traced != r->lost_to) {
            r->lost_traced = r->lost_to;
            raft_trace(r,
                       "%llu needs entry %llu, gone from the driver's log up "
                       "to %llu, past our snapshot at %llu -> wait for the "
                       "next snapshot",
                       (unsigned long long)p->id,
                       (unsigned long long)p->next_index,
                       (unsigned long long)r->lost_to,
                       (unsigned long long)r->snap_index);
        }
        return;
    }
    send_snapshot(r, p);
}

/* Trace once per catch-up that P is sent entries whose bodies were
 * released (the driver reads them back), N of them from its next index. */
static void note_read_back(struct raft *r, struct raft_peer *p, size_t n)
{
    uint64_t first = p->next_index;
    bool released = n > 0 && first <= r->log.released;

    if (released && !p->reading_back) {
        raft_trace(r,
                   "%llu needs entries from %llu, released from memory up "
                   "to %llu -> the driver reads them back from its log",
                   (unsigned long long)p->id, (unsigned long long)first,
                   (unsigned long long)r->log.released);
    }
    if (n > 0) {
        p->reading_back = released;
    }
}

/* Send P the entries from its next index (possibly none: a probe). */
static void send_entries(struct raft *r, struct raft_peer *p)
{
    uint64_t prev = p->next_index - 1;
    struct raft_msg *m;
    size_t n;

    if (p->snapshotting) {
        return;
    }
    if (entry_gone(r, p->next_index)) {
        send_instead(r, p);
        return;
    }
    n = batch_size(r, p);
    if (n > 0 && p->probing && p->next_index <= r->log.released &&
        r->now >= p->last_heard + r->cfg.election_max_ms) {
        /* Silent: maybe gone. Its entries are read back once it answers
         * an empty probe, not at every heartbeat while it is away. */
        n = 0;
        p->probe_sent = true;
    }
    note_read_back(r, p, n);
    m = new_append(r, p, prev);
    if (m == NULL) {
        return;
    }
    if (n > 0) {
        /* The entries pointer is filled in by raft_ready: the log array may
         * move before then (raft_resolve_entries). */
        m->u.append.n_entries = n;
        m->u.append.leader_commit =
            r->commit_index < prev + n ? r->commit_index : prev + n;
        if (p->probing) {
            p->probe_sent = true;
        } else {
            uint32_t slot = (p->infl_start + p->infl_count) % RAFT_MAX_INFLIGHT;

            p->infl[slot] = prev + n;
            p->infl_count++;
            p->next_index += n; /* optimistic: the next batch follows */
        }
    }
}

/* Forget the batches a reply acknowledging MATCH covers. If the window is
 * still full, a batch was lost on the way: free the oldest slot, so the
 * next batch goes out, meets the gap, is rejected, and the rejection
 * starts a probe. */
static void free_inflight(struct raft_peer *p, uint64_t match, uint32_t max)
{
    while (p->infl_count > 0 && p->infl[p->infl_start] <= match) {
        p->infl_start = (p->infl_start + 1) % RAFT_MAX_INFLIGHT;
        p->infl_count--;
    }
    if (p->infl_count >= max) {
        p->infl_start = (p->infl_start + 1) % RAFT_MAX_INFLIGHT;
        p->infl_count--;
    }
}

/* An empty AppendEntries at the point known to match. */
static void send_heartbeat(struct raft *r, struct raft_peer *p)
{
    if (p->snapshotting || entry_gone(r, p->next_index)) {
        /* Keep its timer quiet while the snapshot travels; it may not hold
         * our base entry, and its rejection is ignored meanwhile. */
        new_append(r, p, r->log.base_index);
        if (!p->snapshotting) {
            send_instead(r, p);
        }
        return;
    }
    if (p->probing) {
        if (!p->probe_sent) {
            send_entries(r, p);
        } else {
            new_append(r, p, p->next_index - 1); /* a probe without data */
        }
        return;
    }
    new_append(r, p, p->match_index);
}

void raft_replicate(struct raft *r)
{
    uint64_t last = raft_log_last_index(&r->log);

    if (r->role != RAFT_LEADER) {
        return;
    }
    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        struct raft_peer *p = &r->peers[i];

        if (p->id == r->cfg.id) {
            continue;
        }
        if (p->probing) {
            if (!p->probe_sent && p->next_index <= last) {
                send_entries(r, p);
            }
            continue;
        }
        while (!p->snapshotting && p->infl_count < r->cfg.max_inflight &&
               p->next_index <= last) {
            uint64_t before = p->next_index;

            send_entries(r, p);
            if (p->next_index == before) {
                break; /* nothing went out (out of memory): try later */
            }
        }
    }
}

void raft_broadcast_append(struct raft *r)
{
    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        struct raft_peer *p = &r->peers[i];

        if (p->id == r->cfg.id) {
            continue;
        }
        /* Requests lost without an answer must not stall the stream: a
         * peer silent for an election timeout is probed afresh. */
        if ((p->infl_count > 0 || p->probe_sent) &&
            r->now >= p->last_heard + r->cfg.election_min_ms) {
            raft_peer_reset(r, p);
        }
        /* A snapshot that never arrived is offered again. */
        if (p->snapshotting &&
            r->now >= p->snapshot_at + 20 * r->cfg.election_max_ms) {
            raft_peer_reset(r, p);
        }
        send_heartbeat(r, p);
    }
    raft_replicate(r);
}

void raft_peer_reset(struct raft *r, struct raft_peer *p)
{
    /* A streaming peer restarts right after what it is known to hold; a
     * probing one keeps its probe point, which is still the best guess
     * (a fresh leader knows no match yet: falling back to 1 would send a
     * snapshot to a follower that lacks nothing). */
    if (!p->probing) {
        p->next_index = p->match_index + 1;
    }
    p->probing = true;
    p->probe_sent = false;
    p->snapshotting = false;
    p->infl_count = 0;
    (void)r;
}

void raft_report_lost(struct raft *r, uint64_t id, uint64_t index, uint64_t now)
{
    int pos;

    raft_begin_call(r, now);
    if (index > r->log.released) {
        index = r->log.released;
    }
    if (index > r->lost_to && index > r->log.base_index) {
        raft_trace(r,
                   "driver cannot read entries up to %llu for %llu -> "
                   "followers that need them get a snapshot",
                   (unsigned long long)index, (unsigned long long)id);
        r->lost_to = index;
    }
    pos = raft_peer_pos(r, id);
    if (r->role == RAFT_LEADER && pos >= 0 && id != r->cfg.id) {
        raft_peer_reset(r, &r->peers[pos]);
        send_entries(r, &r->peers[pos]);
    }
}

/* The highest index whose body may be released: applied, and on a leader
 * held by every peer heard from within an election timeout. */
static uint64_t release_limit(const struct raft *r)
{
    uint64_t limit = r->applied_index;

    if (r->role != RAFT_LEADER) {
        return limit;
    }
    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        const struct raft_peer *p = &r->peers[i];

        if (p->id != r->cfg.id && p->match_index < limit &&
            r->now < p->last_heard + r->cfg.election_max_ms) {
            limit = p->match_index;
        }
    }
    return limit;
}

void raft_release_bodies(struct raft *r)
{
    raft_log_release(&r->log, release_limit(r), RAFT_RELEASE_MAX);
}

void raft_report_unreachable(struct raft *r, uint64_t id, uint64_t now)
{
    int pos;

    raft_begin_call(r, now);
    pos = raft_peer_pos(r, id);
    if (r->role == RAFT_LEADER && pos >= 0 && id != r->cfg.id) {
        raft_peer_reset(r, &r->peers[pos]);
    }
}

void raft_maybe_commit(struct raft *r)
{
    uint64_t m[RAFT_MAX_NODES];
    size_t n = r->cfg.n_nodes;
    uint64_t idx;

    if (r->role != RAFT_LEADER) {
        return;
    }
    for (size_t i = 0; i < n; i++) {
        m[i] = r->cfg.ids[i] == r->cfg.id ? r->durable_index
                                          : r->peers[i].match_index;
    }
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && m[j] > m[j - 1]; j--) {
            uint64_t x = m[j];

            m[j] = m[j - 1];
            m[j - 1] = x;
        }
    }
    idx = m[r->quorum - 1];
    if (idx > r->commit_index && raft_log_term_at(&r->log, idx) == r->term) {
        r->commit_index = idx;
    }
}

static void reply_append(struct raft *r, const struct raft_msg *req,
                         bool success, uint64_t match)
{
    struct raft_msg *m = raft_send(r, RAFT_MSG_APPEND_RESULT, req->from);
    uint64_t prev = req->u.append.prev_log_index;
    uint64_t last = raft_log_last_index(&r->log);

    if (m == NULL) {
        return;
    }
    m->rpc_id = req->rpc_id;
    m->u.append_result.seq = req->u.append.seq;
    m->u.append_result.success = success;
    m->u.append_result.match_index = match;
    if (success || req->term < r->term) {
        return;
    }
    if (prev > last) {
        m->u.append_result.conflict_index = last;
        m->u.append_result.conflict_term = 0;
    } else {
        m->u.append_result.conflict_term = raft_log_term_at(&r->log, prev);
        m->u.append_result.conflict_index = raft_log_term_start(&r->log, prev);
    }
}

/* Hold a success reply until MATCH is durable. */
static void defer_ack(struct raft *r, const struct raft_msg *req,
                      uint64_t match)
{
    struct raft_pending_ack *a;

    if (r->n_acks == RAFT_MAX_PENDING_ACKS) {
        /* The leader resends what is never answered; drop the oldest. */
        memmove(r->acks, r->acks + 1, (r->n_acks - 1) * sizeof(r->acks[0]));
        r->n_acks--;
    }
    a = &r->acks[r->n_acks++];
    a->to = req->from;
    a->rpc_id = req->rpc_id;
    a->term = r->term;
    a->match = match;
    a->match_term = raft_log_term_at(&r->log, match);
    a->seq = req->u.append.seq;
}

void raft_flush_acks(struct raft *r)
{
    size_t keep = 0;

    for (size_t i = 0; i < r->n_acks; i++) {
        struct raft_pending_ack *a = &r->acks[i];
        struct raft_msg *m;

        if (a->term != r->term ||
            raft_log_term_at(&r->log, a->match) != a->match_term) {
            continue; /* overtaken: a new term or a replaced entry */
        }
        if (r->durable_index < a->match) {
            r->acks[keep++] = *a;
            continue;
        }
        m = raft_send(r, RAFT_MSG_APPEND_RESULT, a->to);
        if (m != NULL) {
            m->rpc_id = a->rpc_id;
            m->u.append_result.success = true;
            m->u.append_result.match_index = a->match;
            m->u.append_result.seq = a->seq;
        }
    }
    r->n_acks = keep;
}

/* Append the entries of A that the log lacks, replacing a conflicting
 * suffix. Returns 0, or -1 out of memory. */
static int accept_entries(struct raft *r, const struct raft_append *a)
{
    for (size_t i = 0; i < a->n_entries; i++) {
        const struct raft_entry *e = &a->entries[i];
        uint64_t idx = a->prev_log_index + 1 + i;
        struct raft_entry copy = *e;

        if (idx <= r->log.base_index) {
            continue; /* covered by our snapshot: committed, so equal */
        }
        if (idx <= raft_log_last_index(&r->log)) {
            if (raft_log_term_at(&r->log, idx) == e->term) {
                continue;
            }
            raft_trace(r,
                       "entry %llu conflicts (term %llu, leader has "
                       "%llu) -> drop our log from there",
                       (unsigned long long)idx,
                       (unsigned long long)raft_log_term_at(&r->log, idx),
                       (unsigned long long)e->term);
            raft_log_truncate_from(&r->log, idx);
            if (r->unstable_from > idx) {
                r->unstable_from = idx;
            }
            if (r->durable_index >= idx) {
                r->durable_index = idx - 1;
            }
        }
        copy.index = idx;
        if (raft_log_append(&r->log, &copy) != 0) {
            return -1;
        }
    }
    return 0;
}

void raft_on_append(struct raft *r, const struct raft_msg *m)
{
    const struct raft_append *a = &m->u.append;
    uint64_t match = a->prev_log_index + a->n_entries;
    uint64_t commit;

    if (m->term < r->term) {
        /* Answer with our term: a leader of an older term learns it is
         * stale and steps down (see raft_election.c on terms that ran
         * ahead). */
        reply_append(r, m, false, 0);
        return;
    }
    raft_become_follower(r, m->term, m->from);
    r->leader_contact = r->now;
    raft_reset_election_timer(r);

    if (a->prev_log_index > raft_log_last_index(&r->log) ||
        (a->prev_log_index >= r->log.base_index &&
         raft_log_term_at(&r->log, a->prev_log_index) != a->prev_log_term)) {
        raft_trace(r, "log does not hold %llu/%llu from %llu -> reject",
                   (unsigned long long)a->prev_log_term,
                   (unsigned long long)a->prev_log_index,
                   (unsigned long long)m->from);
        reply_append(r, m, false, 0);
        return;
    }
    if (accept_entries(r, a) != 0) {
        reply_append(r, m, false, 0); /* out of memory: the leader retries */
        return;
    }
    commit = a->leader_commit < match ? a->leader_commit : match;
    if (commit > r->commit_index) {
        r->commit_index = commit;
    }
    if (r->durable_index >= match) {
        reply_append(r, m, true, match);
    } else {
        defer_ack(r, m, match);
    }
}

static void on_rejected(struct raft *r, struct raft_peer *p,
                        const struct raft_append_result *res)
{
    uint64_t last = raft_log_last_index(&r->log);
    uint64_t next;

    /* Move next back to where the hint says the logs may agree, never
     * below what is known to match. */
    if (res->conflict_term == 0) {
        next = res->conflict_index + 1;
    } else {
        /* If we hold entries of that term, resume after our last one;
         * otherwise skip the follower's whole run of it. */
        next = res->conflict_index;
        for (uint64_t i = last; i > r->log.base_index; i--) {
            uint64_t t = raft_log_term_at(&r->log, i);

            if (t == res->conflict_term) {
                next = i + 1;
                break;
            }
            if (t < res->conflict_term) {
                break;
            }
        }
    }
    if (next <= p->match_index) {
        next = p->match_index + 1;
    }
    if (next > last + 1) {
        next = last + 1;
    }
    p->next_index = next ? next : 1;
    p->probing = true;
    p->probe_sent = false;
    p->infl_count = 0;
    send_entries(r, p);
}

void raft_on_append_result(struct raft *r, const struct raft_msg *m)
{
    const struct raft_append_result *res = &m->u.append_result;
    struct raft_peer *p = &r->peers[raft_peer_pos(r, m->from)];
    uint64_t last = raft_log_last_index(&r->log);

    if (m->term > r->term) {
        raft_trace(r, "%llu is at term %llu -> step down",
                   (unsigned long long)m->from, (unsigned long long)m->term);
        raft_become_follower(r, m->term, 0);
        return;
    }
    if (r->role != RAFT_LEADER || m->term != r->term) {
        return;
    }
    p->last_heard = r->now;
    if (res->seq > p->acked_seq) {
        p->acked_seq = res->seq;
        raft_confirm_reads(r);
    }
    if (!res->success) {
        if (!p->snapshotting) {
            on_rejected(r, p, res);
        }
        return;
    }
    p->probe_sent = false;
    free_inflight(p, res->match_index, r->cfg.max_inflight);
    if (res->match_index > p->match_index && res->match_index <= last) {
        p->match_index = res->match_index;
        raft_maybe_commit(r);
    }
    if (p->probing && res->match_index >= p->next_index - 1) {
        p->probing = false; /* found the match point: stream from here */
    }
    if (p->next_index <= p->match_index) {
        p->next_index = p->match_index + 1;
    }
    raft_transfer_check(r, p->id);
    raft_replicate(r);
}

int raft_propose(struct raft *r, const void *data, uint32_t len, uint64_t now,
                 uint64_t *index)
{
    struct raft_entry e = {.term = r->term,
                           .type = RAFT_ENTRY_NORMAL,
                           .len = len,
                           .data = (uint8_t *)data};

    raft_begin_call(r, now);
    if (r->role != RAFT_LEADER || r->transfer_target != 0) {
        return -1;
    }
    e.index = raft_log_last_index(&r->log) + 1;
    if (raft_log_append(&r->log, &e) != 0) {
        return -2;
    }
    *index = e.index;
    raft_replicate(r);
    return 0;
}

void raft_persisted(struct raft *r, uint64_t index, uint64_t term, uint64_t now)
{
    raft_begin_call(r, now);
    if (index > raft_log_last_index(&r->log) ||
        raft_log_term_at(&r->log, index) != term || index < r->durable_index) {
        return;
    }
    r->durable_index = index;
    raft_maybe_commit(r);
    raft_flush_acks(r);
}

int raft_read_index(struct raft *r, uint64_t ctx, uint64_t now)
{
    struct raft_read_wait *w;

    raft_begin_call(r, now);
    if (r->role != RAFT_LEADER ||
        raft_log_term_at(&r->log, r->commit_index) != r->term) {
        return -1;
    }
    if (r->n_reads_waiting == RAFT_MAX_READS) {
        return -1;
    }
    if (r->reads_waiting == NULL) {
        r->reads_waiting = calloc(RAFT_MAX_READS, sizeof(*r->reads_waiting));
        r->reads_ready = calloc(RAFT_MAX_READS, sizeof(*r->reads_ready));
        if (r->reads_waiting == NULL || r->reads_ready == NULL) {
            return -1;
        }
    }
    w = &r->reads_waiting[r->n_reads_waiting++];
    w->ctx = ctx;
    w->index = r->commit_index;
    w->seq = r->read_seq + 1;
    r->read_round_wanted = true;
    return 0;
}

/* Start the heartbeat round that the waiting reads need (one round serves
 * every read that came since the last one). */
void raft_start_read_round(struct raft *r)
{
    if (!r->read_round_wanted || r->role != RAFT_LEADER) {
        return;
    }
    r->read_round_wanted = false;
    r->read_seq++;
    for (size_t i = 0; i < r->cfg.n_nodes; i++) {
        if (r->cfg.ids[i] != r->cfg.id) {
            send_heartbeat(r, &r->peers[i]);
        }
    }
}

void raft_confirm_reads(struct raft *r)
{
    size_t done = 0;

    if (r->n_reads_waiting == 0) {
        return;
    }
    while (done < r->n_reads_waiting && r->n_reads_ready < RAFT_MAX_READS) {
        struct raft_read_wait *w = &r->reads_waiting[done];
        size_t acks = 1;

        for (size_t i = 0; i < r->cfg.n_nodes; i++) {
            acks +=
                r->cfg.ids[i] != r->cfg.id && r->peers[i].acked_seq >= w->seq;
        }
        if (acks < r->quorum) {
            break; /* later reads wait for later rounds */
        }
        r->reads_ready[r->n_reads_ready].ctx = w->ctx;
        r->reads_ready[r->n_reads_ready].index = w->index;
        r->n_reads_ready++;
        done++;
    }
    memmove(r->reads_waiting, r->reads_waiting + done,
            (r->n_reads_waiting - done) * sizeof(*r->reads_waiting));
    r->n_reads_waiting -= done;
}

uint64_t raft_quorum_contact(const struct raft *r)
{
    uint64_t t[RAFT_MAX_NODES];
    size_t n = r->cfg.n_nodes;

    for (size_t i = 0; i < n; i++) {
        t[i] = r->cfg.ids[i] == r->cfg.id ? r->now : r->peers[i].last_heard;
    }
    /* Sort descending (n <= 5): the quorum-th newest contact is the time
     * until which a majority, this node included, is known to be in touch. */
    for (size_t i = 1; i < n; i++) {
        for (size_t j = i; j > 0 && t[j] > t[j - 1]; j--) {
            uint64_t x = t[j];

            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    }
    return t[r->quorum - 1];
}

void raft_on_snapshot(struct raft *r, const struct raft_msg *m)
{
    const struct raft_snapshot_ref *s = &m->u.snapshot;
    struct raft_msg *res;

    if (m->term < r->term) {
        res = raft_send(r, RAFT_MSG_SNAPSHOT_RESULT, m->from);
        if (res != NULL) {
            res->rpc_id = m->rpc_id;
        }
        return;
    }
    raft_become_follower(r, m->term, m->from);
    r->leader_contact = r->now;
    raft_reset_election_timer(r);
    res = raft_send(r, RAFT_MSG_SNAPSHOT_RESULT, m->from);
    if (res == NULL) {
        return;
    }
    res->rpc_id = m->rpc_id;
    res->u.append_result.success = true;
    if (s->last_index <= r->commit_index) {
        /* We already hold all of it, committed. */
        res->u.append_result.match_index = r->commit_index;
        return;
    }
    if (s->last_index <= raft_log_last_index(&r->log) &&
        raft_log_term_at(&r->log, s->last_index) == s->last_term) {
        /* Our log holds the snapshot's last entry: keep what follows, we
         * may have acknowledged it (paper, figure 13). */
        r->commit_index = s->last_index;
        res->u.append_result.match_index = s->last_index;
        return;
    }
    raft_trace(r, "snapshot at %llu/%llu from %llu -> install, drop log",
               (unsigned long long)s->last_term,
               (unsigned long long)s->last_index, (unsigned long long)m->from);
    raft_log_reset(&r->log, s->last_index, s->last_term);
    r->commit_index = s->last_index;
    r->applied_index = s->last_index;
    r->durable_index = s->last_index;
    r->unstable_from = s->last_index + 1;
    r->snap_index = s->last_index;
    r->snap_term = s->last_term;
    r->snapshot_installed = true;
    r->n_acks = 0;
    res->u.append_result.match_index = s->last_index;
}

void raft_on_snapshot_result(struct raft *r, const struct raft_msg *m)
{
    struct raft_peer *p = &r->peers[raft_peer_pos(r, m->from)];

    if (m->term > r->term) {
        raft_become_follower(r, m->term, 0);
        return;
    }
    if (r->role != RAFT_LEADER || m->term != r->term) {
        return;
    }
    p->last_heard = r->now;
    raft_peer_reset(r, p);
    if (m->u.append_result.success &&
        m->u.append_result.match_index > p->match_index) {
        p->match_index = m->u.append_result.match_index;
        p->next_index = p->match_index + 1;
        raft_maybe_commit(r);
    }
    raft_trace(r, "%llu installed the snapshot -> resume at %llu",
               (unsigned long long)p->id, (unsigned long long)p->next_index);
    raft_replicate(r);
}
