/* link.h - one HTTP request at a time to a peer, its answer kept for the
 * owner to take outside libevent's callbacks.
 *
 * A link is a keep-alive evhttp connection, bound to the daemon's own host
 * (the host of its --listen), carrying at most one request: an agent's
 * calls to its controller, a controller's calls to the raft leader.
 * libevent's callback only records the answer (status and body) and
 * activates the owner's step event; the owner takes the result with
 * link_take() from that event, outside libevent's callbacks, where it may
 * send, cancel and free freely. Every request ends in exactly one result
 * unless it is cancelled: an answer, or status 0 with a reason (cannot
 * connect, timed out, connection lost), a request that could not even be
 * sent included.
 */
#ifndef VARDE_LINK_H
#define VARDE_LINK_H

#include "util/addr.h"

#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;

struct link {
    /* Set by link_init(). */
    struct event_base *base;
    const char *local_host; /* bound for connecting; outlives the link */
    unsigned timeout_ms;    /* connect + request + answer */
    size_t max_body;        /* longer answers fail */
    struct event *step_ev;  /* activated when a result is recorded */

    /* The connection, opened on first use, to TO. */
    struct evhttp_connection *conn;
    struct addr to;

    /* The request in flight, or the result waiting to be taken. */
    int call;     /* the owner's tag for it; 0: the link is idle */
    uint64_t tag; /* the owner's number for it (a seq, an index) */
    bool done;
    int status; /* 0: no answer */
    bool failed;
    enum evhttp_request_error error;
    char *body; /* the answer, NUL-terminated, malloc'ed */
    size_t len;
};

/* What a request came to, handed over by link_take(). */
struct link_result {
    int call;
    uint64_t tag;
    int status;      /* 0: no answer, see why */
    const char *why; /* "timed out", "cannot connect", ...; static */
    char *body;      /* NUL-terminated, owned by the taker: free() it; NULL
                        only when status is 0 */
    size_t len;
};

/* Prepare L (no connection yet): requests from LOCAL_HOST, each answered
 * within TIMEOUT_MS with at most MAX_BODY bytes, STEP_EV activated when a
 * result waits. */
void link_init(struct link *l, struct event_base *base, const char *local_host,
               unsigned timeout_ms, size_t max_body, struct event *step_ev);

/* True while a request is in flight or its result waits. */
bool link_busy(const struct link *l);

/* From now on, give a request TIMEOUT_MS (the connection open now too). */
void link_set_timeout(struct link *l, unsigned timeout_ms);

/* Send METHOD PATH with LEN bytes of BODY (copied; a JSON body when LEN >
 * 0) to TO, tagged CALL (> 0) and TAG, on a connection to TO (the one L
 * has, or a new one when L had another address). When L is busy, its
 * request is cancelled first. A request that cannot be sent is recorded
 * as failed at once (the step event runs later, never inside this call). */
void link_send(struct link *l, const struct addr *to, int call, uint64_t tag,
               enum evhttp_cmd_type method, const char *path, const char *body,
               size_t len);

/* Take L's result into *R and make L idle. Returns false (R untouched)
 * when no result waits. */
bool link_take(struct link *l, struct link_result *r);

/* Forget the request in flight (no result will be recorded) and close the
 * connection, if any. L stays usable. */
void link_cancel(struct link *l);

/* What went wrong with R, for a log line, into BUF (LEN bytes, printable
 * ASCII): "answered 503: not the leader" (the answer's "error"), or why
 * there was no answer ("timed out"). */
void link_describe(const struct link_result *r, char *buf, size_t len);

#endif
