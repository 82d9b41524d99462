/* peer.h - the HTTP client that carries raft requests to one peer.
 *
 * One keep-alive evhttp connection per peer, on the daemon's event loop.
 * Outgoing connections are bound to this node's own host, so that a test can
 * cut exactly one link with a firewall rule on (source, destination), and a
 * multi-homed machine sends from the address its peers know.
 *
 * Requests wait in a queue of the client's and go out one at a time (libevent
 * does not pipeline); when the connection frees up, the APPENDs waiting
 * behind the next request that continue it are merged into it, so a busy
 * leader sends a follower everything proposed during the last round trip
 * in one request (and the follower fsyncs once for it).
 *
 * A slow or dead peer never holds up anything else: at most max_in_flight
 * requests wait for it (more are dropped and counted: Raft resends what
 * matters on its timers), and each one fails after timeout_ms. Reachability
 * is logged when it changes, once, never per failed heartbeat.
 *
 * Snapshot chunks go on a second connection of their own, one at a time,
 * with a longer timeout: a 512 KiB chunk, or the receiver installing a
 * large snapshot on the last one, must not hold up the heartbeats and
 * appends queued behind it (libevent sends one request at a time on a
 * connection).
 */
#ifndef VARDE_PEER_H
#define VARDE_PEER_H

#include "raft/raft.h"
#include "transport/codec.h"
#include "util/addr.h"

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct peer_client;

/* The decoded result (VOTE_RESULT or APPEND_RESULT) of a request this client
 * sent, already checked to come from the peer and be addressed to us. M and
 * what it points to are valid for the call only. The callback may send more
 * requests (to any peer) but must not free the client. */
typedef void (*peer_result_cb)(void *arg, const struct raft_msg *m);

/* A request this client sent earlier that carried log entries got no valid
 * answer: connect failure, timeout, a refusal or a bad reply. Lost entries
 * break the leader's stream to the peer, so the core must hear of them; a
 * lost heartbeat is only silence, which the core's timers handle. Called
 * from the event loop, never from inside peer_client_send(). The rules of
 * peer_result_cb apply. */
typedef void (*peer_fail_cb)(void *arg, uint64_t peer);

/* The reply to the snapshot chunk sent last: RES, already checked to come
 * from the peer and be addressed to us; or RES NULL when no valid reply
 * came, with WHY saying what happened. Valid for the call only; the rules
 * of peer_result_cb apply. */
typedef void (*peer_chunk_cb)(void *arg, uint64_t peer,
                              const struct codec_chunk_result *res,
                              const char *why);

struct peer_options {
    uint64_t id;                     /* the peer's node id */
    struct addr addr;                /* where it listens */
    const char *local_host;          /* our own host, bound for connecting */
    unsigned timeout_ms;             /* connect + request + reply */
    unsigned max_in_flight;          /* requests waiting at once, >= 1 */
    const struct codec_nodes *nodes; /* for decoding replies; outlives us */
    peer_result_cb cb;
    peer_fail_cb fail_cb;
    peer_chunk_cb chunk_cb;    /* may be NULL when no chunk is ever sent */
    unsigned chunk_timeout_ms; /* a chunk's connect + request + reply */
    void *cb_arg;              /* for all callbacks */
};

enum peer_state {
    PEER_UNKNOWN = 0, /* nothing sent yet */
    PEER_UP,          /* the last request was answered */
    PEER_DOWN,        /* the last request found no answer (or a bad one) */
};

/* Create the client. Nothing is sent or connected until peer_client_send().
 * Returns NULL when out of memory. */
struct peer_client *peer_client_new(struct event_base *base,
                                    const struct peer_options *opt);

/* Queue request M (VOTE, APPEND or TIMEOUT_NOW, addressed to this peer;
 * copied, entries included) to be sent once the current event is handled.
 * Returns 0 when it is queued, or -1 when it was dropped: max_in_flight
 * requests are already waiting, it is not such a request (logged), or
 * memory ran out. No callback runs before this returns. A queued request
 * that cannot be encoded is logged and dropped; one whose connect fails
 * at once is dropped silently (the core's timers probe again). */
int peer_client_send(struct peer_client *pc, const struct raft_msg *m);

/* Send snapshot chunk C on the snapshot connection. Returns 0 when it is
 * on its way (chunk_cb will be called once), or -1 when another chunk is
 * still in flight, it could not be encoded (logged), or the connection
 * failed at once. No callback runs before this returns; C's data may be
 * reused as soon as it does. */
int peer_client_send_chunk(struct peer_client *pc, const struct codec_chunk *c);

/* The peer's state as the last answered or failed request left it. */
enum peer_state peer_client_state(const struct peer_client *pc);

/* Requests dropped because too many were in flight, since creation. */
uint64_t peer_client_dropped(const struct peer_client *pc);

/* Close the connection and free PC; callbacks of requests still in flight
 * are never called. PC may be NULL. */
void peer_client_free(struct peer_client *pc);

#endif
