/* sim_queue.h - the event queue: always the earliest event next, ties
 * broken by the order in which events were pushed. */
#ifndef VARDE_SIM_QUEUE_H
#define VARDE_SIM_QUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One scheduled event. The queue orders by (time, seq) and never looks at
 * the other fields: their meaning belongs to whoever pushes the event. */
struct sim_event {
    uint64_t time; /* virtual milliseconds */
    uint64_t seq;  /* assigned by sim_queue_push(): the tie breaker */
    int kind;
    uint64_t node;
    uint64_t tag; /* e.g. the node's incarnation, to spot stale events */
    void *ptr;    /* e.g. a message; owned by the event */
};

struct sim_queue {
    struct sim_event *heap; /* a binary min-heap */
    size_t n;
    size_t cap;
    uint64_t next_seq;
};

void sim_queue_init(struct sim_queue *q);

/* Free the heap. Events still queued are dropped; their PTR is not freed:
 * drain with sim_queue_pop() first if they own memory. */
void sim_queue_close(struct sim_queue *q);

/* Queue a copy of EV with the next sequence number. */
void sim_queue_push(struct sim_queue *q, const struct sim_event *ev);

/* Remove the earliest event into OUT. Returns false when the queue is
 * empty. */
bool sim_queue_pop(struct sim_queue *q, struct sim_event *out);

/* The earliest event, still queued; NULL when empty. */
const struct sim_event *sim_queue_peek(const struct sim_queue *q);

#endif
