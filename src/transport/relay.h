/* relay.h - requests a daemon passes on, answered with what comes back:
 * a task's logs from a raft node to the site's controller and from the
 * controller to the agent that runs the task, and the key-value calls of
 * tasks from the controller to the raft leader.
 *
 * Each relay has a connection of its own, bound to the daemon's host
 * and bounded in time, and carries the access token. The answer goes back
 * with its status, its body and the headers that matter (Content-Type,
 * Retry-After, X-Varde-Log-Start, X-Varde-Log-End). A streamed relay
 * copies the answer as it comes, in chunks, so that a log followed with
 * ?follow flows through; a buffered one answers once the whole body is
 * in. A relay ends once its answer is passed on; its connection is freed
 * from the event loop afterwards, never inside libevent's callback.
 */
#ifndef VARDE_RELAY_H
#define VARDE_RELAY_H

#include "util/addr.h"

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct evhttp_request;
struct relay;

#define RELAYS_MAX 64 /* in flight at once */

struct relays {
    struct event_base *base;
    const char *local_host; /* outlives the relays */
    struct relay *head;     /* in flight, or ended and not yet freed */
    size_t n;
};

/* How to pass one request on. */
struct relay_how {
    const struct addr *to;
    const char *uri;      /* path and query to ask TO for */
    bool stream;          /* chunked, as it comes */
    unsigned timeout_s;   /* connect, request and answer */
    int fail_status;      /* the answer when TO does not answer */
    const char *fail_why; /* its error message */
};

/* Prepare RS: relays on BASE, their connections bound to LOCAL_HOST. */
void relays_init(struct relays *rs, struct event_base *base,
                 const char *local_host);

/* Pass REQ (its method and body) on as HOW says, and answer REQ with what
 * comes back. REQ is answered in every case: 503 with Retry-After when
 * RELAYS_MAX relays are in flight, HOW's failure when TO does not
 * answer. */
void relay_pass(struct relays *rs, struct evhttp_request *req,
                const struct relay_how *how);

/* Drop every relay and its connection, ending what was relayed so far
 * or answering 503 with WHY ("the controller is stopping"): call it
 * before the server that holds the requests is freed. */
void relays_free(struct relays *rs, const char *why);

#endif
