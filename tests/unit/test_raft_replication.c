/* test_raft_replication.c - log replication in the Raft core: proposals,
 * durability before acknowledgement, commitment, conflict repair, read
 * index, compaction, and releasing entry bodies. A small in-test cluster
 * delivers messages in order and persists everything a node hands out,
 * unless a test says otherwise; like the daemon, its driver keeps each
 * node's log "on disk" and reads released bodies back from it. */
#include "harness.h"
#include "raft/raft.h"

#include <stdlib.h>

#define N 3
#define QMAX 4096

struct applied {
    uint64_t index[1024];
    size_t n;
};

/* What a node's driver wrote: its log, as its WAL holds it. */
struct disk {
    struct raft_entry *e; /* e[i] has index i + 1; data owned */
    size_t n, cap;
    uint64_t from; /* entries below are gone (a WAL truncated further) */
};

struct net {
    struct raft *n[N];
    struct raft_msg q[QMAX];
    /* Each message in q owns a copy of its entries and their data. */
    struct raft_entry *qe[QMAX];
    size_t nq;
    bool down[N];
    bool hold_persist[N]; /* node writes but does not report durability */
    uint64_t written[N];  /* last index written by the "driver" */
    uint64_t written_term[N];
    struct applied ap[N];
    struct disk disk[N];
    size_t read_back[N]; /* released entries read back from the disk */
    size_t lost[N];      /* appends not sent: entries gone from the disk */
    size_t snaps[N];     /* snapshots asked for */
    uint64_t now;
};

/* The largest batch any AppendEntries carried. */
static size_t max_batch_seen;

static struct raft *mk(uint64_t id)
{
    struct raft_config cfg;

    raft_config_defaults(&cfg);
    cfg.id = id;
    cfg.n_nodes = N;
    for (size_t i = 0; i < N; i++) {
        cfg.ids[i] = i + 1;
    }
    cfg.seed = 7;
    return raft_new(&cfg, NULL, 0);
}

/* Drop the disk's entries from INDEX on. */
static void disk_cut(struct disk *d, uint64_t index)
{
    while (d->n >= index && d->n > 0) {
        free(d->e[--d->n].data);
    }
}

/* Write the N entries E, cutting the log where they start. */
static void disk_write(struct disk *d, const struct raft_entry *e, size_t n)
{
    if (n == 0) {
        return;
    }
    disk_cut(d, e[0].index);
    while (d->n + 1 < e[0].index) { /* after a snapshot: nothing before */
        if (d->n == d->cap) {
            d->cap = d->cap ? 2 * d->cap : 64;
            d->e = realloc(d->e, d->cap * sizeof(*d->e));
        }
        memset(&d->e[d->n], 0, sizeof(d->e[d->n]));
        d->n++;
    }
    for (size_t i = 0; i < n; i++) {
        struct raft_entry *c;

        if (d->n == d->cap) {
            d->cap = d->cap ? 2 * d->cap : 64;
            d->e = realloc(d->e, d->cap * sizeof(*d->e));
        }
        c = &d->e[d->n++];
        *c = e[i];
        c->data = e[i].len ? malloc(e[i].len) : NULL;
        if (e[i].len) {
            memcpy(c->data, e[i].data, e[i].len);
        }
    }
}

/* The entry at INDEX as the disk holds it, or NULL when gone. */
static const struct raft_entry *disk_get(const struct disk *d, uint64_t index)
{
    if (index < d->from || index < 1 || index > d->n ||
        d->e[index - 1].index != index) {
        return NULL;
    }
    return &d->e[index - 1];
}

static void disk_free(struct disk *d)
{
    disk_cut(d, 1);
    free(d->e);
    memset(d, 0, sizeof(*d));
}

/* A copy of the entries of append M (one block: the array, then the data),
 * released bodies read back from DISK. NULL when one is gone from it:
 * *LOST is then the highest index gone. */
static struct raft_entry *copy_entries(const struct raft_msg *m,
                                       const struct disk *disk, size_t *read,
                                       uint64_t *lost)
{
    const struct raft_append *a = &m->u.append;
    size_t bytes = a->n_entries * sizeof(struct raft_entry);
    struct raft_entry *c;
    uint8_t *data;

    for (size_t e = 0; e < a->n_entries; e++) {
        bytes += a->entries[e].len;
    }
    c = malloc(bytes);
    data = (uint8_t *)(c + a->n_entries);
    for (size_t e = 0; e < a->n_entries; e++) {
        const struct raft_entry *src = &a->entries[e];

        if (e < a->n_released && src->len > 0) {
            src = disk_get(disk, a->entries[e].index);
            if (src != NULL && src->term != a->entries[e].term) {
                HARNESS_FAIL("entry %llu sent without its data: term %llu, "
                             "the disk has term %llu",
                             (unsigned long long)a->entries[e].index,
                             (unsigned long long)a->entries[e].term,
                             (unsigned long long)src->term);
                src = NULL;
            }
            if (src == NULL) {
                /* Like the daemon: the highest index gone. */
                uint64_t last = a->entries[a->n_released - 1].index;

                *lost = disk->from - 1 < last ? disk->from - 1 : last;
                *lost = *lost < a->entries[e].index ? last : *lost;
                free(c);
                return NULL;
            }
            (*read)++;
        }
        c[e] = *src;
        if (src->len > 0) {
            memcpy(data, src->data, src->len);
            c[e].data = data;
            data += src->len;
        }
    }
    return c;
}

/* Queue M from node I; entries the disk lacks go into LOST (by peer). */
static void queue(struct net *net, int i, const struct raft_msg *m,
                  uint64_t *lost)
{
    size_t ne = m->type == RAFT_MSG_APPEND ? m->u.append.n_entries : 0;
    struct raft_entry *c = NULL;

    net->snaps[i] += m->type == RAFT_MSG_SNAPSHOT;
    if (ne > max_batch_seen) {
        max_batch_seen = ne;
    }
    if (ne > 0) {
        c = copy_entries(m, &net->disk[i], &net->read_back[i],
                         &lost[m->to - 1]);
        if (c == NULL) {
            net->lost[i]++;
            return;
        }
    }
    net->q[net->nq] = *m;
    net->qe[net->nq] = c;
    if (ne > 0) {
        net->q[net->nq].u.append.entries = c;
        net->q[net->nq].u.append.n_released = 0;
    }
    net->nq++;
}

static void collect(struct net *net, int i)
{
    struct raft_ready rd;
    struct raft *r = net->n[i];
    uint64_t lost[N] = {0};

    raft_ready(r, &rd);
    if (rd.snapshot_installed) {
        disk_cut(&net->disk[i], 1);
        net->disk[i].from = rd.snapshot.last_index + 1;
    }
    if (rd.n_entries > 0) {
        const struct raft_entry *last = &rd.entries[rd.n_entries - 1];

        disk_write(&net->disk[i], rd.entries, rd.n_entries);
        net->written[i] = last->index;
        net->written_term[i] = last->term;
    }
    for (size_t k = 0; k < rd.n_committed; k++) {
        struct applied *a = &net->ap[i];

        if (a->n < 1024) {
            a->index[a->n++] = rd.committed[k].index;
        }
    }
    for (size_t k = 0; k < rd.n_msgs && net->nq < QMAX; k++) {
        queue(net, i, &rd.msgs[k], lost);
    }
    /* The batch is done with: now the core may hear what was lost. */
    for (int p = 0; p < N; p++) {
        if (lost[p] != 0) {
            raft_report_lost(r, (uint64_t)p + 1, lost[p], net->now);
        }
    }
}

static void persist(struct net *net, int i)
{
    if (!net->hold_persist[i] && net->written[i] > 0) {
        raft_persisted(net->n[i], net->written[i], net->written_term[i],
                       net->now);
    }
}

/* Deliver messages (and persist) until nothing moves. */
static void settle(struct net *net)
{
    for (int round = 0; round < 100; round++) {
        size_t nq;
        struct raft_msg q[QMAX];
        struct raft_entry *qe[QMAX];

        for (int i = 0; i < N; i++) {
            if (!net->down[i]) {
                collect(net, i);
                persist(net, i);
                collect(net, i);
            }
        }
        if (net->nq == 0) {
            return;
        }
        nq = net->nq;
        for (size_t k = 0; k < nq; k++) {
            q[k] = net->q[k];
            qe[k] = net->qe[k];
        }
        net->nq = 0;
        for (size_t k = 0; k < nq; k++) {
            int to = (int)q[k].to - 1;
            int from = (int)q[k].from - 1;

            if (!net->down[to] && !net->down[from]) {
                raft_step(net->n[to], &q[k], net->now);
            }
            free(qe[k]);
        }
    }
}

static void advance(struct net *net, uint64_t ms)
{
    uint64_t end = net->now + ms;

    while (net->now < end) {
        net->now += 5;
        for (int i = 0; i < N; i++) {
            if (!net->down[i]) {
                raft_tick(net->n[i], net->now);
            }
        }
        settle(net);
    }
}

static struct raft_status st(struct raft *r)
{
    struct raft_status s;

    raft_status(r, &s);
    return s;
}

static void start(struct net *net)
{
    memset(net, 0, sizeof(*net));
    for (int i = 0; i < N; i++) {
        net->n[i] = mk((uint64_t)i + 1);
    }
    advance(net, 400);
}

static void stop(struct net *net)
{
    for (size_t k = 0; k < net->nq; k++) {
        free(net->qe[k]);
    }
    for (int i = 0; i < N; i++) {
        raft_free(net->n[i]);
        disk_free(&net->disk[i]);
    }
}

/* A node of a 3-node cluster restarted with hard state (TERM, VOTE) and
 * the durable log LOG (N entries, from index 1). */
static struct raft *restored(uint64_t id, uint64_t term, uint64_t vote,
                             const struct raft_entry *log, size_t n,
                             bool prevote)
{
    struct raft_hard_state hs = {term, vote};
    struct raft_config cfg;
    struct raft *r;

    raft_config_defaults(&cfg);
    cfg.id = id;
    cfg.n_nodes = 3;
    cfg.ids[0] = 1;
    cfg.ids[1] = 2;
    cfg.ids[2] = 3;
    cfg.prevote = prevote;
    r = raft_new(&cfg, &hs, 0);
    if (r != NULL && raft_restore_log(r, 0, 0, log, n) != 0) {
        raft_free(r);
        return NULL;
    }
    return r;
}

static int propose(struct net *net, int i, const char *s, uint64_t *idx)
{
    return raft_propose(net->n[i], s, (uint32_t)strlen(s), net->now, idx);
}

TEST(new_leader_commits_a_noop_of_its_term)
{
    struct net net;

    start(&net);
    EXPECT_EQ(st(net.n[0]).role, RAFT_LEADER);
    EXPECT_EQ(st(net.n[0]).commit_index, 1);
    EXPECT_EQ(st(net.n[1]).last_log_index, 1);
    EXPECT_EQ(st(net.n[1]).last_log_term, 1);
    stop(&net);
}

TEST(proposal_is_sent_at_once_not_on_the_next_heartbeat)
{
    struct net net;
    uint64_t idx;
    struct raft_ready rd;
    size_t appends = 0;

    start(&net);
    EXPECT_EQ(propose(&net, 0, "x", &idx), 0);
    EXPECT_EQ(idx, 2);
    raft_ready(net.n[0], &rd);
    for (size_t k = 0; k < rd.n_msgs; k++) {
        appends += rd.msgs[k].type == RAFT_MSG_APPEND &&
                   rd.msgs[k].u.append.n_entries == 1;
    }
    EXPECT_EQ(appends, 2);
    EXPECT_EQ(rd.n_entries, 1); /* and written locally in parallel */
    stop(&net);
}

TEST(follower_acknowledges_only_after_its_write_is_durable)
{
    struct net net;
    uint64_t idx;

    start(&net);
    net.hold_persist[1] = true;
    net.hold_persist[2] = true;
    propose(&net, 0, "x", &idx);
    settle(&net);
    EXPECT_EQ(st(net.n[1]).last_log_index, 2);
    EXPECT_EQ(st(net.n[0]).commit_index, 1); /* nobody acknowledged */
    net.hold_persist[1] = false;
    settle(&net);
    EXPECT_EQ(st(net.n[0]).commit_index, 2);
    stop(&net);
}

TEST(leader_counts_itself_only_for_what_it_has_made_durable)
{
    struct net net;
    uint64_t idx;

    start(&net);
    net.hold_persist[0] = true;
    net.hold_persist[2] = true;
    propose(&net, 0, "x", &idx);
    settle(&net);
    /* Only node 2 holds it durably: one of three is no majority. */
    EXPECT_EQ(st(net.n[0]).commit_index, 1);
    net.hold_persist[0] = false;
    settle(&net);
    EXPECT_EQ(st(net.n[0]).commit_index, 2);
    stop(&net);
}

TEST(committed_entries_are_applied_in_order_exactly_once)
{
    struct net net;
    uint64_t idx;

    start(&net);
    for (int k = 0; k < 50; k++) {
        propose(&net, 0, "v", &idx);
        if (k % 7 == 0) {
            settle(&net);
        }
    }
    advance(&net, 200); /* heartbeats carry the commit index */
    for (int i = 0; i < N; i++) {
        EXPECT_EQ(net.ap[i].n, 51);
        for (size_t k = 0; k < net.ap[i].n; k++) {
            EXPECT_EQ(net.ap[i].index[k], k + 1);
        }
    }
    stop(&net);
}

TEST(old_term_entries_are_not_committed_by_counting_replicas)
{
    /* Figure 8 of the paper: a leader of term 3 finds an entry of term 2
     * on a majority. It must not call it committed until an entry of term 3
     * is on a majority too. */
    struct raft_entry old[2] = {{.term = 1, .index = 1},
                                {.term = 2, .index = 2}};
    struct raft *r = restored(1, 3, 1, old, 2, false);
    struct raft_msg ok = {
        .type = RAFT_MSG_APPEND_RESULT, .from = 2, .to = 1, .term = 4};
    struct raft_msg v = {
        .type = RAFT_MSG_VOTE_RESULT, .from = 2, .to = 1, .term = 4};
    struct raft_ready rd;

    EXPECT_TRUE(r != NULL);
    raft_tick(r, raft_next_deadline(r)); /* candidate, term 4 */
    v.u.vote_result.granted = true;
    raft_step(r, &v, 300);
    EXPECT_EQ(st(r).role, RAFT_LEADER);
    raft_ready(r, &rd);
    ok.u.append_result.success = true;
    ok.u.append_result.match_index = 2; /* holds the term-2 entry only */
    raft_step(r, &ok, 301);
    EXPECT_EQ(st(r).commit_index, 0);
    raft_persisted(r, 3, 4, 302); /* our no-op, durable */
    EXPECT_EQ(st(r).commit_index, 0);
    ok.u.append_result.match_index = 3;
    raft_step(r, &ok, 303);
    EXPECT_EQ(st(r).commit_index, 3);
    raft_free(r);
}

TEST(follower_replaces_a_conflicting_suffix)
{
    struct raft_entry mine[3] = {{.term = 1, .index = 1},
                                 {.term = 2, .index = 2},
                                 {.term = 2, .index = 3}};
    struct raft_entry theirs[2] = {{.term = 3, .index = 2},
                                   {.term = 3, .index = 3}};
    struct raft *r = restored(2, 3, 0, mine, 3, true);
    struct raft_msg m = {
        .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 3};
    struct raft_ready rd;
    EXPECT_TRUE(r != NULL);
    m.u.append.prev_log_index = 1;
    m.u.append.prev_log_term = 1;
    m.u.append.entries = theirs;
    m.u.append.n_entries = 2;
    raft_step(r, &m, 1);
    raft_ready(r, &rd);
    EXPECT_EQ(rd.n_entries, 2);
    EXPECT_EQ(rd.entries[0].index, 2); /* the driver truncates from here */
    EXPECT_EQ(rd.entries[0].term, 3);
    EXPECT_EQ(st(r).durable_index, 1);
    EXPECT_EQ(rd.n_msgs, 0); /* no reply before the write is durable */
    raft_persisted(r, 3, 3, 2);
    raft_ready(r, &rd);
    EXPECT_EQ(rd.n_msgs, 1);
    EXPECT_TRUE(rd.msgs[0].u.append_result.success);
    EXPECT_EQ(rd.msgs[0].u.append_result.match_index, 3);
    raft_free(r);
}

TEST(rejection_hint_names_the_start_of_the_conflicting_term)
{
    struct raft_entry mine[4] = {{.term = 1, .index = 1},
                                 {.term = 2, .index = 2},
                                 {.term = 2, .index = 3},
                                 {.term = 2, .index = 4}};
    struct raft *r = restored(2, 3, 0, mine, 4, true);
    struct raft_msg m = {
        .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 3};
    struct raft_ready rd;
    EXPECT_TRUE(r != NULL);
    m.u.append.prev_log_index = 4;
    m.u.append.prev_log_term = 3;
    raft_step(r, &m, 1);
    raft_ready(r, &rd);
    EXPECT_EQ(rd.n_msgs, 1);
    EXPECT_TRUE(!rd.msgs[0].u.append_result.success);
    EXPECT_EQ(rd.msgs[0].u.append_result.conflict_term, 2);
    EXPECT_EQ(rd.msgs[0].u.append_result.conflict_index, 2);
    raft_free(r);
}

TEST(leader_repairs_a_diverged_follower_in_few_round_trips)
{
    struct net net;
    uint64_t idx;
    int rounds = 0;

    start(&net);
    /* Node 3 is away while the leader appends 300 entries. */
    net.down[2] = true;
    for (int k = 0; k < 300; k++) {
        propose(&net, 0, "abc", &idx);
    }
    settle(&net);
    EXPECT_EQ(st(net.n[0]).commit_index, 301);
    net.down[2] = false;
    while (st(net.n[2]).last_log_index < 301 && rounds < 20) {
        advance(&net, 50);
        rounds++;
    }
    EXPECT_EQ(st(net.n[2]).last_log_index, 301);
    EXPECT_TRUE(rounds <= 3);
    stop(&net);
}

TEST(appends_are_bounded_in_entries_and_in_flight)
{
    struct net net;
    uint64_t idx;
    struct raft_ready rd;
    size_t to2 = 0;

    start(&net);
    for (int k = 0; k < 5000; k++) {
        propose(&net, 0, "abc", &idx);
    }
    raft_ready(net.n[0], &rd);
    for (size_t k = 0; k < rd.n_msgs; k++) {
        to2 += rd.msgs[k].type == RAFT_MSG_APPEND && rd.msgs[k].to == 2;
    }
    EXPECT_EQ(to2, 8); /* the window, then the rest waits for replies */
    /* What waited goes in batches as the window opens, none too large. */
    max_batch_seen = 0;
    net.hold_persist[0] = false;
    for (int k = 0; k < 8; k++) {
        propose(&net, 0, "abc", &idx);
    }
    advance(&net, 200);
    EXPECT_EQ(st(net.n[1]).last_log_index, 5009);
    EXPECT_EQ(max_batch_seen, 1024);
    stop(&net);
}

TEST(read_index_waits_for_a_heartbeat_round_from_a_majority)
{
    struct net net;
    struct raft_ready rd;

    start(&net);
    EXPECT_EQ(raft_read_index(net.n[1], 1, net.now), -1); /* follower */
    EXPECT_EQ(raft_read_index(net.n[0], 42, net.now), 0);
    raft_ready(net.n[0], &rd);
    EXPECT_EQ(rd.n_reads, 0);
    /* The round's heartbeats were in that batch; deliver them. */
    net.nq = 0;
    for (size_t k = 0; k < rd.n_msgs; k++) {
        net.q[net.nq] = rd.msgs[k];
        net.qe[net.nq++] = NULL;
    }
    {
        size_t nq = net.nq;
        struct raft_msg q[16];

        for (size_t k = 0; k < nq; k++) {
            q[k] = net.q[k];
        }
        net.nq = 0;
        for (size_t k = 0; k < nq; k++) {
            raft_step(net.n[q[k].to - 1], &q[k], net.now);
        }
    }
    collect(&net, 1); /* node 2's answer */
    for (size_t k = 0; k < net.nq; k++) {
        raft_step(net.n[0], &net.q[k], net.now);
        free(net.qe[k]);
    }
    net.nq = 0;
    raft_ready(net.n[0], &rd);
    EXPECT_EQ(rd.n_reads, 1);
    EXPECT_EQ(rd.reads[0].ctx, 42);
    EXPECT_EQ(rd.reads[0].index, 1);
    stop(&net);
}

TEST(read_index_is_not_confirmed_without_a_majority)
{
    struct net net;
    struct raft_ready rd;

    start(&net);
    net.down[1] = true;
    net.down[2] = true;
    EXPECT_EQ(raft_read_index(net.n[0], 5, net.now), 0);
    advance(&net, 100);
    raft_ready(net.n[0], &rd);
    EXPECT_EQ(rd.n_reads, 0);
    stop(&net);
}

TEST(proposals_are_refused_by_followers_and_during_transfer)
{
    struct net net;
    uint64_t idx;

    start(&net);
    EXPECT_EQ(propose(&net, 1, "x", &idx), -1);
    EXPECT_EQ(raft_transfer(net.n[0], 2, net.now), 0);
    EXPECT_EQ(propose(&net, 0, "x", &idx), -1);
    settle(&net);
    EXPECT_EQ(st(net.n[1]).role, RAFT_LEADER);
    EXPECT_EQ(propose(&net, 1, "x", &idx), 0);
    stop(&net);
}

TEST(transfer_target_is_caught_up_before_timeout_now)
{
    struct net net;
    uint64_t idx;

    start(&net);
    net.down[1] = true;
    for (int k = 0; k < 10; k++) {
        propose(&net, 0, "x", &idx);
    }
    settle(&net);
    net.down[1] = false;
    EXPECT_EQ(raft_transfer(net.n[0], 2, net.now), 0);
    advance(&net, 100);
    EXPECT_EQ(st(net.n[1]).role, RAFT_LEADER);
    EXPECT_TRUE(st(net.n[1]).last_log_index >= 11);
    stop(&net);
}

TEST(compaction_keeps_trailing_entries_and_the_log_position)
{
    struct net net;
    uint64_t idx;

    start(&net);
    for (int k = 0; k < 100; k++) {
        propose(&net, 0, "x", &idx);
    }
    advance(&net, 100);
    raft_compact(net.n[0], 90, 10);
    EXPECT_EQ(st(net.n[0]).last_log_index, 101);
    propose(&net, 0, "y", &idx);
    advance(&net, 100);
    EXPECT_EQ(st(net.n[1]).last_log_index, 102);
    EXPECT_EQ(st(net.n[1]).commit_index, 102);
    stop(&net);
}

TEST(follower_behind_the_compaction_point_gets_the_snapshot)
{
    struct net net;
    uint64_t idx;
    struct raft_ready rd;
    struct raft_msg snap = {0};
    bool asked = false;

    start(&net);
    net.down[2] = true;
    for (int k = 0; k < 100; k++) {
        propose(&net, 0, "x", &idx);
    }
    advance(&net, 100);
    raft_compact(net.n[0], 100, 10); /* node 3 needs entry 2: gone */
    net.down[2] = false;
    /* Run the leader by hand until it asks its driver for a snapshot. */
    for (int t = 0; t < 20 && !asked; t++) {
        net.now += 50;
        raft_tick(net.n[0], net.now);
        raft_ready(net.n[0], &rd);
        for (size_t k = 0; k < rd.n_msgs; k++) {
            if (rd.msgs[k].type == RAFT_MSG_SNAPSHOT && rd.msgs[k].to == 3) {
                snap = rd.msgs[k];
                asked = true;
            }
        }
        for (size_t k = 0; k < rd.n_msgs && !asked; k++) {
            const struct raft_msg *m = &rd.msgs[k];

            if (m->to == 3) {
                raft_step(net.n[2], m, net.now);
                raft_ready(net.n[2], &rd); /* node 3's replies */
                for (size_t j = 0; j < rd.n_msgs; j++) {
                    raft_step(net.n[0], &rd.msgs[j], net.now);
                }
                break;
            }
        }
    }
    EXPECT_TRUE(asked);
    EXPECT_EQ(snap.u.snapshot.last_index, 100);
    /* The drivers moved the bytes; node 3's driver steps it in. */
    raft_step(net.n[2], &snap, net.now);
    raft_ready(net.n[2], &rd);
    EXPECT_TRUE(rd.snapshot_installed);
    EXPECT_EQ(rd.snapshot.last_index, 100);
    EXPECT_EQ(rd.n_msgs, 1);
    EXPECT_EQ(rd.msgs[0].type, RAFT_MSG_SNAPSHOT_RESULT);
    raft_step(net.n[0], &rd.msgs[0], net.now);
    advance(&net, 200);
    EXPECT_EQ(st(net.n[2]).last_log_index, 101);
    EXPECT_EQ(st(net.n[2]).commit_index, 101);
    stop(&net);
}

TEST(caught_up_follower_that_was_reset_still_hears_heartbeats)
{
    struct net net;
    uint64_t t0;

    start(&net);
    raft_report_unreachable(net.n[0], 2, net.now);
    t0 = net.now;
    advance(&net, 1000);
    EXPECT_EQ(st(net.n[1]).leader, 1);
    EXPECT_EQ(st(net.n[1]).term, 1);
    EXPECT_TRUE(net.now - t0 >= 1000);
    stop(&net);
}

TEST(unreachable_report_keeps_a_fresh_leaders_probe_point)
{
    struct net net;
    uint64_t idx;
    struct raft_ready rd;
    size_t snaps = 0;

    start(&net);
    for (int k = 0; k < 50; k++) {
        propose(&net, 0, "x", &idx);
    }
    advance(&net, 100);
    raft_compact(net.n[0], 51, 5);
    /* Node 2 takes over while node 3, which holds everything, is away:
     * its first probe to node 3 is reported lost. */
    raft_compact(net.n[1], 51, 5);
    net.down[2] = true;
    EXPECT_EQ(raft_transfer(net.n[0], 2, net.now), 0);
    settle(&net);
    EXPECT_EQ(st(net.n[1]).role, RAFT_LEADER);
    raft_report_unreachable(net.n[1], 3, net.now);
    net.down[2] = false;
    for (int t = 0; t < 10; t++) {
        net.now += 50;
        raft_tick(net.n[1], net.now);
        raft_ready(net.n[1], &rd);
        for (size_t k = 0; k < rd.n_msgs; k++) {
            snaps += rd.msgs[k].type == RAFT_MSG_SNAPSHOT;
        }
    }
    EXPECT_EQ(snaps, 0);
    stop(&net);
}

TEST(snapshot_covering_a_prefix_of_our_log_keeps_what_follows)
{
    /* Paper, figure 13: the entries after the snapshot may already be
     * acknowledged by this follower, so they must survive. */
    struct raft_entry mine[5] = {{.term = 1, .index = 1},
                                 {.term = 1, .index = 2},
                                 {.term = 1, .index = 3},
                                 {.term = 1, .index = 4},
                                 {.term = 1, .index = 5}};
    struct raft *r = restored(2, 1, 0, mine, 5, true);
    struct raft_msg m = {
        .type = RAFT_MSG_SNAPSHOT, .from = 1, .to = 2, .term = 1};
    struct raft_ready rd;
    EXPECT_TRUE(r != NULL);
    m.u.snapshot.last_index = 3;
    m.u.snapshot.last_term = 1;
    raft_step(r, &m, 1);
    raft_ready(r, &rd);
    EXPECT_TRUE(!rd.snapshot_installed);
    EXPECT_EQ(st(r).last_log_index, 5);
    EXPECT_EQ(st(r).commit_index, 3);
    EXPECT_EQ(rd.n_committed, 3); /* applied from the log instead */
    raft_free(r);
}

/* ---- entry bodies ---- */

/* Every entry up to INDEX of node I holds its data in the core's log, as
 * seen through what the core reports as released. */
static uint64_t released(struct net *net, int i)
{
    return st(net->n[i]).released_index;
}

TEST(bodies_are_released_once_applied_and_held_by_every_follower)
{
    struct net net;
    uint64_t idx;

    start(&net);
    for (int k = 0; k < 50; k++) {
        propose(&net, 0, "body", &idx);
    }
    advance(&net, 100); /* applied everywhere, acknowledged */
    for (int i = 0; i < N; i++) {
        EXPECT_EQ(st(net.n[i]).applied_index, 51);
        EXPECT_EQ(released(&net, i), 51);
    }
    EXPECT_EQ(net.read_back[0], 0); /* nobody needed them back */
    stop(&net);
}

TEST(body_is_never_released_before_it_is_applied)
{
    struct net net;
    uint64_t idx;

    start(&net);
    advance(&net, 100);
    EXPECT_EQ(released(&net, 0), 1);
    /* The leader's disk lags: committed by nodes 2 and 3, not applied. */
    net.hold_persist[0] = true;
    propose(&net, 0, "x", &idx);
    advance(&net, 100);
    EXPECT_EQ(st(net.n[0]).commit_index, 2);
    EXPECT_EQ(st(net.n[0]).applied_index, 1);
    EXPECT_EQ(released(&net, 0), 1);
    EXPECT_EQ(released(&net, 1), 2); /* durable, committed, applied */
    /* Node 2's disk lags: it does not apply 3, the leader keeps it. */
    net.hold_persist[0] = false;
    net.hold_persist[1] = true;
    propose(&net, 0, "y", &idx);
    advance(&net, 100);
    EXPECT_EQ(st(net.n[0]).applied_index, 3);
    EXPECT_EQ(st(net.n[1]).applied_index, 2);
    EXPECT_EQ(released(&net, 1), 2);
    EXPECT_EQ(released(&net, 0), 2); /* node 2 is live and lacks 3 */
    net.hold_persist[1] = false;
    advance(&net, 100);
    EXPECT_EQ(released(&net, 1), 3);
    EXPECT_EQ(released(&net, 0), 3);
    stop(&net);
}

/* A follower that answers holds back the bodies it lacks; one silent for
 * an election timeout does not. */
TEST(leader_releases_only_what_every_live_follower_holds)
{
    struct net net;
    uint64_t idx;

    start(&net);
    advance(&net, 100);
    net.down[2] = true;
    for (int k = 0; k < 20; k++) {
        propose(&net, 0, "x", &idx);
    }
    advance(&net, 100); /* node 3 silent for 100 ms: still counted */
    EXPECT_EQ(st(net.n[0]).applied_index, 21);
    EXPECT_EQ(released(&net, 1), 21); /* a follower: once applied */
    EXPECT_EQ(released(&net, 0), 1);  /* node 3 holds only the no-op */
    advance(&net, 300);               /* past the election timeout */
    EXPECT_EQ(released(&net, 0), 21);
    stop(&net);
}

TEST(follower_back_after_silence_is_sent_bodies_read_back)
{
    struct net net;
    uint64_t idx;
    char body[32];

    start(&net);
    advance(&net, 100);
    net.down[2] = true;
    for (int k = 0; k < 300; k++) {
        snprintf(body, sizeof(body), "value-%d", k);
        propose(&net, 0, body, &idx);
    }
    advance(&net, 400);
    EXPECT_EQ(released(&net, 0), 301);
    net.down[2] = false;
    advance(&net, 200);
    EXPECT_EQ(st(net.n[2]).last_log_index, 301);
    EXPECT_EQ(st(net.n[2]).commit_index, 301);
    EXPECT_EQ(net.read_back[0], 300);
    /* What node 3 wrote is what the leader proposed, byte for byte. */
    for (uint64_t i = 2; i <= 301; i++) {
        const struct raft_entry *a = disk_get(&net.disk[0], i);
        const struct raft_entry *b = disk_get(&net.disk[2], i);

        EXPECT_TRUE(a != NULL && b != NULL);
        EXPECT_EQ(b->len, a->len);
        EXPECT_EQ(memcmp(a->data, b->data, a->len), 0);
    }
    stop(&net);
}

/* A follower releases bodies once applied; when it leads, a follower that
 * lags is caught up from what its driver reads back. */
TEST(new_leader_asks_its_driver_for_bodies_it_released)
{
    struct net net;
    uint64_t idx;

    start(&net);
    advance(&net, 100);
    net.down[2] = true;
    for (int k = 0; k < 30; k++) {
        propose(&net, 0, "x", &idx);
    }
    advance(&net, 100);
    EXPECT_EQ(released(&net, 1), 31);
    EXPECT_EQ(raft_transfer(net.n[0], 2, net.now), 0);
    advance(&net, 100);
    EXPECT_EQ(st(net.n[1]).role, RAFT_LEADER);
    EXPECT_EQ(net.read_back[1], 0);
    net.down[2] = false;
    advance(&net, 300);
    EXPECT_EQ(st(net.n[2]).last_log_index, st(net.n[1]).last_log_index);
    EXPECT_EQ(st(net.n[2]).commit_index, st(net.n[1]).commit_index);
    EXPECT_TRUE(net.read_back[1] >= 30);
    stop(&net);
}

/* Node 3 holds 1..21 and is away while 80 more entries are written and the
 * leader snapshots at SNAP keeping 90; its driver's log then loses entries
 * below 60. */
static void lose_entries_below_60(struct net *net, uint64_t snap)
{
    uint64_t idx;

    start(net);
    for (int k = 0; k < 20; k++) {
        propose(net, 0, "x", &idx);
    }
    advance(net, 100);
    net->down[2] = true;
    for (int k = 0; k < 80; k++) {
        propose(net, 0, "y", &idx);
    }
    advance(net, 400);
    raft_compact(net->n[0], snap, 90);
    net->disk[0].from = 60;
}

TEST(entries_gone_from_the_drivers_log_are_sent_as_a_snapshot)
{
    struct net net;

    lose_entries_below_60(&net, 100);
    EXPECT_EQ(st(net.n[2]).last_log_index, 21);
    net.down[2] = false;
    advance(&net, 300);
    EXPECT_TRUE(net.lost[0] >= 1);
    EXPECT_EQ(net.snaps[0], 1);
    EXPECT_EQ(st(net.n[2]).last_log_index, 101);
    EXPECT_EQ(st(net.n[2]).commit_index, 101);
    EXPECT_EQ(net.read_back[0], 1); /* 101, after the snapshot */
    stop(&net);
}

/* When the snapshot does not reach the lost entries, the follower waits
 * for one that does instead of getting one that cannot help. */
TEST(entries_gone_past_the_snapshot_wait_for_the_next_one)
{
    struct net net;

    lose_entries_below_60(&net, 50);
    net.down[2] = false;
    advance(&net, 300);
    EXPECT_TRUE(net.lost[0] >= 1);
    EXPECT_EQ(net.snaps[0], 0);
    EXPECT_EQ(st(net.n[2]).last_log_index, 21);
    EXPECT_EQ(st(net.n[2]).role, RAFT_FOLLOWER); /* heartbeats go on */
    EXPECT_EQ(st(net.n[2]).leader, 1);
    raft_compact(net.n[0], 100, 90);
    advance(&net, 200);
    EXPECT_EQ(net.snaps[0], 1);
    EXPECT_EQ(st(net.n[2]).last_log_index, 101);
    stop(&net);
}

/* Only released bodies can be lost: a report about an entry the core still
 * holds changes nothing. */
TEST(lost_report_about_a_held_body_changes_nothing)
{
    struct net net;
    uint64_t idx;

    start(&net);
    advance(&net, 100);
    net.hold_persist[0] = true;
    propose(&net, 0, "x", &idx);
    advance(&net, 100);
    EXPECT_EQ(released(&net, 0), 1);
    raft_report_lost(net.n[0], 3, 2, net.now);
    net.hold_persist[0] = false;
    advance(&net, 100);
    EXPECT_EQ(net.snaps[0], 0);
    EXPECT_EQ(st(net.n[2]).commit_index, 2);
    stop(&net);
}

int main(void)
{
    RUN(new_leader_commits_a_noop_of_its_term);
    RUN(proposal_is_sent_at_once_not_on_the_next_heartbeat);
    RUN(follower_acknowledges_only_after_its_write_is_durable);
    RUN(leader_counts_itself_only_for_what_it_has_made_durable);
    RUN(committed_entries_are_applied_in_order_exactly_once);
    RUN(old_term_entries_are_not_committed_by_counting_replicas);
    RUN(follower_replaces_a_conflicting_suffix);
    RUN(rejection_hint_names_the_start_of_the_conflicting_term);
    RUN(leader_repairs_a_diverged_follower_in_few_round_trips);
    RUN(appends_are_bounded_in_entries_and_in_flight);
    RUN(read_index_waits_for_a_heartbeat_round_from_a_majority);
    RUN(read_index_is_not_confirmed_without_a_majority);
    RUN(proposals_are_refused_by_followers_and_during_transfer);
    RUN(transfer_target_is_caught_up_before_timeout_now);
    RUN(compaction_keeps_trailing_entries_and_the_log_position);
    RUN(follower_behind_the_compaction_point_gets_the_snapshot);
    RUN(caught_up_follower_that_was_reset_still_hears_heartbeats);
    RUN(unreachable_report_keeps_a_fresh_leaders_probe_point);
    RUN(snapshot_covering_a_prefix_of_our_log_keeps_what_follows);
    RUN(bodies_are_released_once_applied_and_held_by_every_follower);
    RUN(body_is_never_released_before_it_is_applied);
    RUN(leader_releases_only_what_every_live_follower_holds);
    RUN(follower_back_after_silence_is_sent_bodies_read_back);
    RUN(new_leader_asks_its_driver_for_bodies_it_released);
    RUN(entries_gone_from_the_drivers_log_are_sent_as_a_snapshot);
    RUN(entries_gone_past_the_snapshot_wait_for_the_next_one);
    RUN(lost_report_about_a_held_body_changes_nothing);
    DONE();
}
