/* http.h - the HTTP server layer the varde daemons share: a route table,
 * bounded bodies, JSON replies and JSON errors.
 *
 * A daemon declares its endpoints as a table of small handlers. The server
 * answers what no handler should have to: 404 for an unknown path, 405 (with
 * Allow) for a method the route does not take, 413 for a body over the
 * route's bound, each as {"error": "..."}. A handler replies exactly once,
 * now or later (a held request must still be answered: see node.c); after
 * the reply the request is libevent's and must not be touched.
 */
#ifndef VARDE_HTTP_H
#define VARDE_HTTP_H

#include "util/addr.h"

#include <event2/http.h>
#include <jansson.h>
#include <stddef.h>

struct event_base;
struct evkeyvalq;

typedef void (*http_handler_cb)(struct evhttp_request *req, void *arg);

struct http_route {
    const char *path;   /* exact path, or a prefix when it ends in '/' */
    int methods;        /* EVHTTP_REQ_GET | EVHTTP_REQ_POST | ... */
    size_t max_body;    /* request bodies above this get 413 */
    http_handler_cb cb; /* called with the server's ARG */
};

struct http_server;

/* Listen on LISTEN and serve ROUTES (N of them; the table must outlive the
 * server), passing ARG to every handler. Returns the server, or NULL with a
 * one-line reason in ERR (address in use, out of memory). */
struct http_server *http_server_new(struct event_base *base,
                                    const struct addr *listen,
                                    const struct http_route *routes, size_t n,
                                    void *arg, char *err, size_t errlen);

/* Require TOKEN (copied; NULL: none) on every request S serves: a request
 * without "Authorization: Bearer TOKEN" gets a 401. Returns 0, or -1 out
 * of memory. */
int http_server_set_token(struct http_server *s, const char *token);

/* The token every outgoing request of this process carries (NULL or "":
 * none), and adding it to the request OUT. */
void http_set_client_token(const char *token);
void http_add_auth(struct evhttp_request *out);

/* Close the listener and every connection. Requests a handler still holds
 * must have been answered first: they are freed with their connection. */
void http_server_free(struct http_server *s);

/* The request body as one contiguous run of *LEN bytes (not NUL-terminated),
 * valid until the reply. Never NULL: an empty body is "" with *LEN 0. The
 * router has already refused bodies over the route's bound. */
const char *http_body(struct evhttp_request *req, size_t *len);

/* Parse the query string of REQ into Q (empty when there is none). The
 * caller frees Q with evhttp_clear_headers(). Returns 0, or -1 when the
 * query is malformed (Q is then empty). */
int http_query(struct evhttp_request *req, struct evkeyvalq *q);

/* Reply STATUS with BODY as JSON. Steals the reference to BODY; a NULL BODY
 * (a failed allocation upstream) becomes a 500. */
void http_reply_json(struct evhttp_request *req, int status, json_t *body);

/* Reply STATUS with {"error": MESSAGE}, MESSAGE formatted from FMT, with
 * every byte that is not printable ASCII replaced by '?'. */
void http_reply_error(struct evhttp_request *req, int status, const char *fmt,
                      ...) __attribute__((format(printf, 3, 4)));

/* Replace every byte of S that is not printable ASCII by '?': for quoting
 * what a peer or client sent in a log line or a JSON string. */
void http_printable(char *s);

/* Turn off Nagle's algorithm on CONN's socket (when it has one), client
 * or server side. A request or reply larger than a segment otherwise
 * leaves its tail waiting for the peer's delayed ACK, 40 ms on Linux. */
void http_nodelay(struct evhttp_connection *conn);

/* Reply STATUS with LEN bytes of TEXT and the given Content-Type. */
void http_reply_text(struct evhttp_request *req, int status,
                     const char *content_type, const char *text, size_t len);

#endif
