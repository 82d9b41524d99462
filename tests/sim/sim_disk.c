/* sim_disk.c - ordered writes with the messages behind them.
 *
 * The driver contract of raft.h: the hard state is durable before any
 * message of the same batch leaves (and an installed snapshot replaces the
 * log before), while log entries need not be: the core itself holds back
 * what acknowledges them until raft_persisted(). So messages wait for the
 * newest hard-state or snapshot write (the barrier), never for entries
 * alone. Messages from a later batch wait behind that barrier too, since
 * they may depend on it (a term adopted in memory but not yet on disk).
 *
 * Group commit, as in the daemon: while one fsync runs, every write that
 * arrives waits for the next one, which covers them all. So a burst of
 * proposals costs two fsyncs, not one each, and a vote never waits behind
 * more than that. */
#include "sim_disk.h"

#include "sim_util.h"

#include <stdlib.h>

void sim_disk_init(struct sim_disk *d)
{
    d->head = NULL;
    d->tail = NULL;
    d->barrier = NULL;
    d->pending = 0;
    d->sync_end = 0;
    d->next_end = 0;
}

/* When a write arriving at NOW is durable: the end of the fsync it joins. */
static uint64_t next_sync(struct sim_disk *d, uint64_t now, uint64_t delay)
{
    if (d->next_end != 0 && d->sync_end <= now) {
        d->sync_end = d->next_end; /* the queued fsync has started */
        d->next_end = 0;
    }
    if (d->sync_end <= now) {
        d->sync_end = now + delay; /* idle: start one now */
        return d->sync_end;
    }
    if (d->next_end == 0) {
        d->next_end = d->sync_end + delay;
    }
    return d->next_end;
}

uint64_t sim_disk_write(struct sim_disk *d, const struct raft_hard_state *hs,
                        const struct raft_entry *e, size_t n,
                        const struct sim_snap *install, uint64_t now,
                        uint64_t delay)
{
    struct sim_batch *b = sim_xcalloc(1, sizeof *b);
    struct sim_snap before = {.index = n ? e[0].index - 1 : 0};

    b->has_hs = hs != NULL;
    if (hs != NULL) {
        b->hs = *hs;
    }
    sim_log_init(&b->entries, &before);
    sim_log_write(&b->entries, e, n); /* the caller checked the indexes */
    b->install = install != NULL;
    if (install != NULL) {
        b->snap = *install;
    }
    b->done_at = next_sync(d, now, delay);
    if (d->tail != NULL) {
        d->tail->next = b;
    } else {
        d->head = b;
    }
    d->tail = b;
    if (b->has_hs || b->install) {
        d->barrier = b;
    }
    d->pending++;
    return b->done_at;
}

bool sim_disk_busy(const struct sim_disk *d)
{
    return d->barrier != NULL;
}

void sim_disk_hold(struct sim_disk *d, struct raft_msg *m)
{
    struct sim_batch *b = d->barrier;

    if (b->n_msgs == b->cap_msgs) {
        b->cap_msgs = b->cap_msgs ? 2 * b->cap_msgs : 8;
        b->msgs = sim_xrealloc(b->msgs, b->cap_msgs, sizeof *b->msgs);
    }
    b->msgs[b->n_msgs++] = m;
}

struct sim_batch *sim_disk_complete(struct sim_disk *d)
{
    struct sim_batch *b = d->head;

    if (b == NULL) {
        return NULL;
    }
    d->head = b->next;
    if (d->head == NULL) {
        d->tail = NULL;
    }
    if (d->barrier == b) {
        d->barrier = NULL; /* it was the newest: no barrier behind it */
    }
    d->pending--;
    b->next = NULL;
    return b;
}

void sim_batch_free(struct sim_batch *b)
{
    for (size_t i = 0; i < b->n_msgs; i++) {
        free(b->msgs[i]);
    }
    free(b->msgs);
    sim_log_free(&b->entries);
    free(b);
}

size_t sim_disk_drop(struct sim_disk *d)
{
    size_t dropped = 0;
    struct sim_batch *b;

    while ((b = sim_disk_complete(d)) != NULL) {
        dropped += b->n_msgs;
        sim_batch_free(b);
    }
    d->sync_end = 0;
    d->next_end = 0;
    return dropped;
}
