/* agent_link.h - one HTTP request at a time to the controller, its answer
 * kept for the owner.
 *
 * A link is a keep-alive evhttp connection, bound to the agent's own host
 * (the host of --listen), carrying at most one request. libevent's
 * callback only records the answer (status and body) and activates the
 * owner's step event; the owner takes the result with agent_link_take()
 * outside libevent's callbacks, where it may send, cancel and free
 * freely. Every request ends in exactly one result unless cancelled: an
 * answer, or status 0 with a reason (cannot connect, timed out,
 * connection lost), a request that could not even be sent included.
 */
#ifndef VARDE_AGENT_LINK_H
#define VARDE_AGENT_LINK_H

#include "util/addr.h"

#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>

struct event;
struct event_base;

struct agent_link {
    struct event_base *base;
    const struct addr *to;          /* the controller; outlives the link */
    const char *local_host;         /* bound for connecting; outlives it */
    size_t max_body;                /* longer answers fail */
    struct event *step_ev;          /* activated when a result is recorded */
    struct evhttp_connection *conn; /* opened on first use */
    int call;                       /* the owner's tag; 0: idle */
    bool done;                      /* a result waits */
    int status;                     /* 0: no answer */
    bool failed;                    /* the error callback ran */
    enum evhttp_request_error error;
    char *body; /* the answer, NUL-terminated, malloc'ed */
    size_t len;
};

struct agent_link_result {
    int call;
    int status;      /* 0: no answer, see why */
    const char *why; /* "timed out", "cannot connect", ...; static */
    char *body;      /* NUL-terminated, the taker's to free; may be NULL */
    size_t len;
};

/* Prepare L for requests to TO from LOCAL_HOST; no connection yet. */
void agent_link_init(struct agent_link *l, struct event_base *base,
                     const struct addr *to, const char *local_host,
                     size_t max_body, struct event *step_ev);

/* True while a request is in flight or its result waits. */
bool agent_link_busy(const struct agent_link *l);

/* Send METHOD PATH with LEN bytes of BODY (copied; JSON when LEN > 0),
 * tagged CALL (> 0), answered within TIMEOUT_MS. A busy link cancels its
 * request first. A request that cannot be sent is recorded as failed (the
 * step event runs later, never inside this call). */
void agent_link_send(struct agent_link *l, int call, unsigned timeout_ms,
                     enum evhttp_cmd_type method, const char *path,
                     const char *body, size_t len);

/* Take L's result into *R and make L idle. False when none waits. */
bool agent_link_take(struct agent_link *l, struct agent_link_result *r);

/* Forget the request in flight (no result will come) and close the
 * connection. L stays usable. */
void agent_link_cancel(struct agent_link *l);

#endif
