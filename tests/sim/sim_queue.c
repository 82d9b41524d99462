/* sim_queue.c - a binary heap of events keyed by (time, seq).
 *
 * seq grows with every push, so two events at the same virtual time come
 * out in the order they went in: the tie rule that makes a seed replay. */
#include "sim_queue.h"

#include "sim_util.h"

#include <stdlib.h>

static bool before(const struct sim_event *a, const struct sim_event *b)
{
    if (a->time != b->time) {
        return a->time < b->time;
    }
    return a->seq < b->seq;
}

static void swap(struct sim_event *a, struct sim_event *b)
{
    struct sim_event t = *a;

    *a = *b;
    *b = t;
}

static void sift_up(struct sim_queue *q, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;

        if (!before(&q->heap[i], &q->heap[parent])) {
            return;
        }
        swap(&q->heap[i], &q->heap[parent]);
        i = parent;
    }
}

static void sift_down(struct sim_queue *q, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1;
        size_t r = l + 1;
        size_t min = i;

        if (l < q->n && before(&q->heap[l], &q->heap[min])) {
            min = l;
        }
        if (r < q->n && before(&q->heap[r], &q->heap[min])) {
            min = r;
        }
        if (min == i) {
            return;
        }
        swap(&q->heap[i], &q->heap[min]);
        i = min;
    }
}

void sim_queue_init(struct sim_queue *q)
{
    q->heap = NULL;
    q->n = 0;
    q->cap = 0;
    q->next_seq = 1;
}

void sim_queue_close(struct sim_queue *q)
{
    free(q->heap);
    sim_queue_init(q);
}

void sim_queue_push(struct sim_queue *q, const struct sim_event *ev)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? 2 * q->cap : 256;
        q->heap = sim_xrealloc(q->heap, q->cap, sizeof *q->heap);
    }
    q->heap[q->n] = *ev;
    q->heap[q->n].seq = q->next_seq++;
    sift_up(q, q->n);
    q->n++;
}

bool sim_queue_pop(struct sim_queue *q, struct sim_event *out)
{
    if (q->n == 0) {
        return false;
    }
    *out = q->heap[0];
    q->n--;
    if (q->n > 0) {
        q->heap[0] = q->heap[q->n];
        sift_down(q, 0);
    }
    return true;
}

const struct sim_event *sim_queue_peek(const struct sim_queue *q)
{
    return q->n ? &q->heap[0] : NULL;
}
