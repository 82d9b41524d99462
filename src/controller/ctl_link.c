/* ctl_link.c - one request at a time, its result recorded (ctl_link.h).
 *
 * How libevent 2.1 ends an outgoing request (see transport/peer.c):
 *   reply read             callback with the request, status set
 *   timeout, reset, EOF    error callback, then callback with NULL
 *   connect refused        callback with the request, status 0
 * and evhttp_make_request() may run the callback before it returns, or
 * fail without running it. Each of these becomes one recorded result.
 * Freeing the connection drops the request in flight without a callback,
 * which is how a request is cancelled.
 */
#include "controller/ctl_link.h"

#include "transport/http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>

#define CTL_LINK_MAX_HEADERS 16384

void ctl_link_init(struct ctl_link *l, struct event_base *base,
                   const char *local_host, unsigned timeout_ms, size_t max_body,
                   struct event *step_ev)
{
    memset(l, 0, sizeof(*l));
    l->base = base;
    l->local_host = local_host;
    l->timeout_ms = timeout_ms;
    l->max_body = max_body;
    l->step_ev = step_ev;
}

bool ctl_link_busy(const struct ctl_link *l)
{
    return l->call != 0;
}

static const char *ctl_link_error_name(enum evhttp_request_error e)
{
    switch (e) {
    case EVREQ_HTTP_TIMEOUT:
        return "timed out";
    case EVREQ_HTTP_EOF:
        return "connection closed";
    case EVREQ_HTTP_INVALID_HEADER:
        return "bad answer header";
    case EVREQ_HTTP_BUFFER_ERROR:
        return "connection error";
    case EVREQ_HTTP_REQUEST_CANCEL:
        return "cancelled";
    case EVREQ_HTTP_DATA_TOO_LONG:
        return "answer too long";
    }
    return "failed";
}

/* Record that the request in flight ended with STATUS and BODY. */
static void ctl_link_record(struct ctl_link *l, int status,
                            struct evbuffer *body)
{
    size_t len = body ? evbuffer_get_length(body) : 0;

    l->body = malloc(len + 1);
    if (l->body == NULL) {
        status = 0;
        len = 0;
    } else if (len > 0) {
        evbuffer_copyout(body, l->body, len);
    }
    if (l->body != NULL) {
        l->body[len] = '\0';
    }
    l->len = len;
    l->status = status;
    l->done = true;
    event_active(l->step_ev, EV_TIMEOUT, 1);
}

static void ctl_link_done_cb(struct evhttp_request *req, void *arg)
{
    struct ctl_link *l = arg;
    int status = req ? evhttp_request_get_response_code(req) : 0;

    if (l->call == 0 || l->done) {
        return;
    }
    ctl_link_record(l, status,
                    status ? evhttp_request_get_input_buffer(req) : NULL);
}

static void ctl_link_error_cb(enum evhttp_request_error error, void *arg)
{
    struct ctl_link *l = arg;

    l->failed = true;
    l->error = error;
}

/* A connection to TO from our own host; NULL when out of memory. */
static struct evhttp_connection *ctl_link_connect(struct ctl_link *l,
                                                  const struct addr *to)
{
    struct timeval tv = {(time_t)(l->timeout_ms / 1000),
                         (suseconds_t)(l->timeout_ms % 1000) * 1000};
    struct evhttp_connection *conn =
        evhttp_connection_base_new(l->base, NULL, to->host, to->port);

    if (conn == NULL) {
        return NULL;
    }
    evhttp_connection_set_family(conn, to->family);
    evhttp_connection_set_local_address(conn, l->local_host);
    evhttp_connection_set_timeout_tv(conn, &tv);
    evhttp_connection_set_retries(conn, 0);
    evhttp_connection_set_max_body_size(conn, (ev_ssize_t)l->max_body);
    evhttp_connection_set_max_headers_size(conn, CTL_LINK_MAX_HEADERS);
    return conn;
}

/* The request for BODY (LEN bytes, copied); NULL when out of memory. */
static struct evhttp_request *ctl_link_request(struct ctl_link *l,
                                               const char *body, size_t len)
{
    struct evhttp_request *req = evhttp_request_new(ctl_link_done_cb, l);
    struct evkeyvalq *h;

    if (req == NULL) {
        return NULL;
    }
    evhttp_request_set_error_cb(req, ctl_link_error_cb);
    h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", l->to.text);
    http_add_auth(req);
    if (len > 0) {
        evhttp_add_header(h, "Content-Type", "application/json");
        if (evbuffer_add(evhttp_request_get_output_buffer(req), body, len) <
            0) {
            evhttp_request_free(req);
            return NULL;
        }
    }
    return req;
}

void ctl_link_send(struct ctl_link *l, const struct addr *to, int call,
                   uint64_t tag, enum evhttp_cmd_type method, const char *path,
                   const char *body, size_t len)
{
    struct evhttp_request *req;

    if (l->call != 0 || (l->conn != NULL && !addr_equal(&l->to, to))) {
        ctl_link_cancel(l);
    }
    l->to = *to;
    l->call = call;
    l->tag = tag;
    l->done = false;
    l->failed = false;
    if (l->conn == NULL) {
        l->conn = ctl_link_connect(l, to);
    }
    req = l->conn ? ctl_link_request(l, body, len) : NULL;
    if (req == NULL) {
        ctl_link_record(l, 0, NULL);
        return;
    }
    if (evhttp_make_request(l->conn, req, method, path) < 0) {
        /* libevent left the request to us, and called nothing. */
        evhttp_request_free(req);
        if (!l->done) {
            ctl_link_record(l, 0, NULL);
        }
        return;
    }
    http_nodelay(l->conn);
}

bool ctl_link_take(struct ctl_link *l, struct ctl_link_result *r)
{
    if (!l->done) {
        return false;
    }
    r->call = l->call;
    r->tag = l->tag;
    r->status = l->status;
    r->why = l->status   ? ""
             : l->failed ? ctl_link_error_name(l->error)
                         : "cannot connect";
    r->body = l->body;
    r->len = l->len;
    l->body = NULL;
    l->len = 0;
    l->call = 0;
    l->done = false;
    return true;
}

void ctl_link_cancel(struct ctl_link *l)
{
    if (l->conn != NULL) {
        evhttp_connection_free(l->conn);
        l->conn = NULL;
    }
    free(l->body);
    l->body = NULL;
    l->len = 0;
    l->call = 0;
    l->done = false;
}
