/* ctl_link.h - one HTTP request at a time to a raft node, its answer kept
 * for later.
 *
 * A link is a keep-alive evhttp connection bound to the controller's own
 * host, carrying at most one request. libevent's callback does nothing but
 * copy the answer (status and body) into the link and activate the
 * owner's step event; the owner takes it from there with ctl_link_take(),
 * outside libevent's callbacks, where it may send, cancel and free
 * connections freely. Every request ends in exactly one recorded result,
 * unless it is cancelled: a reply, or status 0 with a reason (could not
 * connect, timed out, connection lost), including a request that could not
 * even be sent.
 */
#ifndef VARDE_CTL_LINK_H
#define VARDE_CTL_LINK_H

#include "util/addr.h"

#include <event2/http.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;

struct ctl_link {
    /* Set by ctl_link_init(). */
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

/* What a request came to, handed over by ctl_link_take(). */
struct ctl_link_result {
    int call;
    uint64_t tag;
    int status;      /* 0: no answer, see why */
    const char *why; /* "timed out", "cannot connect", ...; static */
    char *body;      /* NUL-terminated, owned by the taker: free() it; NULL
                        only when status is 0 */
    size_t len;
};

/* Prepare L (no connection yet). */
void ctl_link_init(struct ctl_link *l, struct event_base *base,
                   const char *local_host, unsigned timeout_ms, size_t max_body,
                   struct event *step_ev);

/* True while a request is in flight or its result waits. */
bool ctl_link_busy(const struct ctl_link *l);

/* Send METHOD PATH with LEN bytes of BODY (copied; a JSON body when LEN >
 * 0) to TO, tagged CALL (> 0) and TAG, on a connection to TO (the one L
 * has, or a new one when L had another address). When L is busy, its
 * request is cancelled first. A request that cannot be sent is recorded
 * as failed at once (the step event runs later, never inside this call). */
void ctl_link_send(struct ctl_link *l, const struct addr *to, int call,
                   uint64_t tag, enum evhttp_cmd_type method, const char *path,
                   const char *body, size_t len);

/* Take L's result into *R and make L idle. Returns false (R untouched)
 * when no result waits. */
bool ctl_link_take(struct ctl_link *l, struct ctl_link_result *r);

/* Forget the request in flight (no result will be recorded) and close the
 * connection, if any. L stays usable. */
void ctl_link_cancel(struct ctl_link *l);

#endif
