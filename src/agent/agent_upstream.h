/* agent_upstream.h - the agent's side of the site API: register with the
 * controller, heartbeat, watch the agent's tasks (docs/site-api.md).
 *
 * Phases, and what moves between them:
 *
 *   WAITING      a backoff timer runs (jittered, 200 ms doubling to 5 s
 *                or to two heartbeat intervals, whichever is less); when
 *                it fires -> REGISTERING
 *   REGISTERING  POST /v1/agents/NAME/register; 200 -> CONNECTED (the
 *                backoff starts over); a 409 (the name is taken by a live
 *                agent elsewhere), a 401 or 403 (the token), or any
 *                failure -> WAITING
 *   CONNECTED    a heartbeat every interval (the smaller of
 *                --heartbeat-interval and the controller's heartbeat_ms),
 *                and the tasks watch in a loop: first ?index=0 (answered
 *                at once: the reconcile after every (re)connect), then
 *                ?index=N&wait=30s
 *
 * From CONNECTED: a 404 to a heartbeat or a watch (the controller does
 * not know the agent: it restarted without its registry) -> REGISTERING
 * at once; no answer, a timeout or any other status -> WAITING, every
 * request dropped. Tasks keep running through all of it. A failure is
 * logged once (an error for a refusal the operator must fix, a warning
 * otherwise); the retries that follow stay quiet until the controller
 * answers again, which is logged too.
 *
 * The upstream holds no task state: it asks its owner, through callbacks,
 * for the bodies to send and the index to watch from, and hands over the
 * watch answers. Callbacks run from the event loop, never from inside an
 * agent_upstream_* call.
 */
#ifndef VARDE_AGENT_UPSTREAM_H
#define VARDE_AGENT_UPSTREAM_H

#include "agent/agent_flags.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct agent_upstream;

#define AGENT_WATCH_WAIT_S 30
#define AGENT_CALL_TIMEOUT_MS 5000   /* register, heartbeat */
#define AGENT_WATCH_TIMEOUT_MS 45000 /* the wait, and room to answer */
#define AGENT_BACKOFF_MIN_MS 200
#define AGENT_BACKOFF_MAX_MS 5000
/* No backoff step passes this many heartbeat intervals (the controller's
 * once it gave one): with the jitter a retry comes within three, under the
 * five of the controller's agent TTL, so that a controller restarted after
 * a long absence hears its agents before it would declare them down and
 * move their tasks, which would then run twice. */
#define AGENT_BACKOFF_MAX_HEARTBEATS 2

struct agent_upstream_cbs {
    /* The register body (malloc'ed JSON, *LEN bytes), or NULL. */
    char *(*register_body)(void *arg, size_t *len);
    /* The heartbeat body (malloc'ed JSON, *LEN bytes), or NULL. */
    char *(*heartbeat_body)(void *arg, size_t *len);
    /* The last heartbeat body made was answered 200. */
    void (*heartbeat_ok)(void *arg);
    /* The index of the tasks the owner holds: the watch asks past it. */
    uint64_t (*index)(void *arg);
    /* A watch answer of LEN bytes. Returns 0 when valid (changed or not),
     * -1 when not (the owner logs why; the watch is retried later). */
    int (*tasks)(void *arg, const char *body, size_t len);
    void *arg;
};

struct agent_upstream_stats {
    bool connected;
    uint64_t registers;  /* successful registrations */
    uint64_t conflicts;  /* 409s to a register */
    uint64_t heartbeats; /* answered 200 */
    uint64_t heartbeat_failures;
    uint64_t watch_answers; /* valid answers */
};

/* An upstream for the agent of OPTS (which must outlive it) on BASE; SEED
 * seeds the backoff's jitter. Nothing is sent before agent_upstream_start.
 * NULL out of memory. */
struct agent_upstream *agent_upstream_new(struct event_base *base,
                                          const struct agent_opts *opts,
                                          const struct agent_upstream_cbs *cbs,
                                          uint64_t seed);

/* Register now. */
void agent_upstream_start(struct agent_upstream *u);

/* The counters and the connection state. */
void agent_upstream_stats(const struct agent_upstream *u,
                          struct agent_upstream_stats *out);

/* Drop every request and connection, and free U (NULL is fine). */
void agent_upstream_free(struct agent_upstream *u);

#endif
