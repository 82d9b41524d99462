/* ctl_upstream.h - the controller's side of the fleet API: find the raft
 * leader and follow it; register, heartbeat, watch the site's
 * assignments, send report batches (docs/fleet.md, "Controllers").
 *
 * Phases, and what moves between them:
 *
 *   WAITING      a backoff timer runs (jittered, 100 ms doubling to 5 s);
 *                when it fires -> FINDING
 *   FINDING      GET /v1/status of every --raft address at once; the
 *                first answer that names a leader with its address ->
 *                REGISTERING with that leader; none does -> WAITING
 *   REGISTERING  POST /v1/sites/NAME/register to the leader; 200 ->
 *                CONNECTED (the backoff starts over)
 *   CONNECTED    a heartbeat every interval, the assignments watch in a
 *                loop (first ?index=0, answered at once: the reconcile
 *                after every (re)connect; then ?index=N&wait=30s), and
 *                report batches one at a time
 *
 * From REGISTERING and CONNECTED: a 503 "not the leader" that names
 * another leader is followed at once (at most three hops in a row, then
 * WAITING); a 404 on a heartbeat, watch or report means the cluster does
 * not know the site -> REGISTERING; any other failure (no answer, a
 * timeout, a 5xx) -> WAITING, every request dropped. A failure is logged
 * once, then the retries stay quiet until the leader answers again.
 *
 * The upstream holds no site state: it asks its owner, through callbacks,
 * for the index to watch from, the next batch to send and what to say in
 * a heartbeat (the site's agents), and hands over what the cluster
 * answers. The site's capacity is set with ctl_upstream_set_capacity();
 * when it changes while connected, the next heartbeat is a register
 * instead, which the cluster also counts as a heartbeat. Callbacks run from the
 * event loop, never from inside a ctl_upstream_* call, and must not call into
 * the upstream. After an assignments answer, a register and a heartbeat tick,
 * the upstream asks for the next batch itself.
 */
#ifndef VARDE_CTL_UPSTREAM_H
#define VARDE_CTL_UPSTREAM_H

#include "controller/ctl_flags.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct ctl_upstream;

#define CTL_WATCH_WAIT_S 30
#define CTL_PROBE_TIMEOUT_MS 2000
#define CTL_CALL_TIMEOUT_MS 5000 /* register, heartbeat */
/* Once the cluster's TTL is known, calls wait at most half of it, and at
 * least this. */
#define CTL_CALL_MIN_TIMEOUT_MS 500
#define CTL_REPORT_TIMEOUT_MS 10000 /* a batch waits for its commit */
#define CTL_WATCH_MAX_BODY (64u << 20)
#define CTL_MAX_HINT_HOPS 3
#define CTL_BACKOFF_MIN_MS 100
#define CTL_BACKOFF_MAX_MS 5000

struct ctl_upstream_cbs {
    /* The index of the site's assignments: the watch asks for changes
     * past it. */
    uint64_t (*index)(void *arg);
    /* An assignments answer, LEN bytes of BODY. Returns 0 when it is
     * valid (changed or not), or -1 when it is not (the callee logs why):
     * the upstream then backs off. */
    int (*assignments)(void *arg, const char *body, size_t len);
    /* The next batch to send: its reports (borrowed until the next call
     * into the owner) and *SEQ, saved durably before this returns. NULL
     * when there is nothing to send, or it could not be saved. */
    const json_t *(*next_batch)(void *arg, uint64_t *seq);
    /* The cluster has applied this site's batches up to SEQ (from a
     * register, heartbeat or reports answer). */
    void (*report_seq)(void *arg, uint64_t seq);
    /* The cluster refused batch SEQ outright (a 4xx, WHY its error): the
     * owner drops it. */
    void (*batch_refused)(void *arg, uint64_t seq, const char *why);
    /* The body of the next heartbeat, malloc'ed and NUL-terminated (the
     * upstream frees it), or NULL for "{}". */
    char *(*heartbeat_body)(void *arg);
    void *arg;
};

struct ctl_upstream_stats {
    bool connected;             /* registered with the leader we talk to */
    char leader[ADDR_TEXT_MAX]; /* the leader adopted; "" while finding */
    uint64_t registers;         /* successful registrations */
    uint64_t heartbeat_failures;
    uint64_t leader_changes;  /* a leader other than the last one adopted */
    uint64_t batches_sent;    /* report POSTs, resends included */
    uint64_t report_seq_sent; /* the seq of the last batch sent */
};

/* An upstream for the site of OPTS (which must outlive it), on BASE; SEED
 * seeds the backoff's jitter. Nothing is sent before ctl_upstream_start().
 * Returns NULL when out of memory. */
struct ctl_upstream *ctl_upstream_new(struct event_base *base,
                                      const struct ctl_opts *opts,
                                      const struct ctl_upstream_cbs *cbs,
                                      uint64_t seed);

/* The capacity the site offers: CPU_MILLI thousandths of a core and
 * MEMORY_MB MiB. Set it before ctl_upstream_start(); a change while
 * connected, or while a register is in flight (its body has the old
 * capacity), makes the next heartbeat a register. Sends nothing itself,
 * so a callback may call it. */
void ctl_upstream_set_capacity(struct ctl_upstream *u, uint64_t cpu_milli,
                               uint64_t memory_mb);

/* Start finding the leader. */
void ctl_upstream_start(struct ctl_upstream *u);

/* There may be a batch to send: send it now if connected and no batch is
 * in flight. */
void ctl_upstream_kick(struct ctl_upstream *u);

/* The counters and the connection state, for the API. */
void ctl_upstream_stats(const struct ctl_upstream *u,
                        struct ctl_upstream_stats *out);

/* Drop every request and connection, and free U. U may be NULL. */
void ctl_upstream_free(struct ctl_upstream *u);

#endif
