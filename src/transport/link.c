/* link.c - one request at a time, its result recorded (link.h).
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
#include "transport/link.h"

#include "transport/http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINK_MAX_HEADERS 16384

void link_init(struct link *l, struct event_base *base, const char *local_host,
               unsigned timeout_ms, size_t max_body, struct event *step_ev)
{
    memset(l, 0, sizeof(*l));
    l->base = base;
    l->local_host = local_host;
    l->timeout_ms = timeout_ms;
    l->max_body = max_body;
    l->step_ev = step_ev;
}

bool link_busy(const struct link *l)
{
    return l->call != 0;
}

static const char *link_error_name(enum evhttp_request_error e)
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
static void link_record(struct link *l, int status, struct evbuffer *body)
{
    size_t len = body ? evbuffer_get_length(body) : 0;

    l->body = malloc(len + 1);
    if (l->body == NULL) {
        status = 0;
        len = 0;
    } else {
        if (len > 0) {
            evbuffer_copyout(body, l->body, len);
        }
        l->body[len] = '\0';
    }
    l->len = len;
    l->status = status;
    l->done = true;
    event_active(l->step_ev, EV_TIMEOUT, 1);
}

static void link_done_cb(struct evhttp_request *req, void *arg)
{
    struct link *l = arg;
    int status = req ? evhttp_request_get_response_code(req) : 0;

    if (l->call == 0 || l->done) {
        return;
    }
    link_record(l, status,
                status ? evhttp_request_get_input_buffer(req) : NULL);
}

static void link_error_cb(enum evhttp_request_error error, void *arg)
{
    struct link *l = arg;

    l->failed = true;
    l->error = error;
}

void link_set_timeout(struct link *l, unsigned timeout_ms)
{
    struct timeval tv = {(time_t)(timeout_ms / 1000),
                         (suseconds_t)(timeout_ms % 1000) * 1000};

    l->timeout_ms = timeout_ms;
    if (l->conn != NULL) {
        evhttp_connection_set_timeout_tv(l->conn, &tv);
    }
}

/* A connection to TO from our own host; NULL when out of memory. */
static struct evhttp_connection *link_connect(struct link *l,
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
    evhttp_connection_set_max_headers_size(conn, LINK_MAX_HEADERS);
    return conn;
}

/* The request for BODY (LEN bytes, copied); NULL when out of memory. */
static struct evhttp_request *link_request(struct link *l, const char *body,
                                           size_t len)
{
    struct evhttp_request *req = evhttp_request_new(link_done_cb, l);
    struct evkeyvalq *h;

    if (req == NULL) {
        return NULL;
    }
    evhttp_request_set_error_cb(req, link_error_cb);
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

void link_send(struct link *l, const struct addr *to, int call, uint64_t tag,
               enum evhttp_cmd_type method, const char *path, const char *body,
               size_t len)
{
    struct evhttp_request *req;

    if (l->call != 0 || (l->conn != NULL && !addr_equal(&l->to, to))) {
        link_cancel(l);
    }
    l->to = *to;
    l->call = call;
    l->tag = tag;
    l->done = false;
    l->failed = false;
    if (l->conn == NULL) {
        l->conn = link_connect(l, to);
    }
    req = l->conn ? link_request(l, body, len) : NULL;
    if (req == NULL) {
        link_record(l, 0, NULL);
        return;
    }
    if (evhttp_make_request(l->conn, req, method, path) < 0) {
        /* libevent left the request to us, and called nothing. */
        evhttp_request_free(req);
        if (!l->done) {
            link_record(l, 0, NULL);
        }
        return;
    }
    http_nodelay(l->conn);
}

bool link_take(struct link *l, struct link_result *r)
{
    if (!l->done) {
        return false;
    }
    r->call = l->call;
    r->tag = l->tag;
    r->status = l->status;
    r->why = l->status   ? ""
             : l->failed ? link_error_name(l->error)
                         : "cannot connect";
    r->body = l->body;
    r->len = l->len;
    l->body = NULL;
    l->len = 0;
    l->call = 0;
    l->done = false;
    return true;
}

void link_cancel(struct link *l)
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

void link_describe(const struct link_result *r, char *buf, size_t len)
{
    json_t *doc =
        r->status && r->body ? json_loadb(r->body, r->len, 0, NULL) : NULL;
    const char *msg = json_string_value(json_object_get(doc, "error"));

    if (r->status == 0) {
        snprintf(buf, len, "%s", r->why);
    } else {
        snprintf(buf, len, "answered %d: %.200s", r->status,
                 msg ? msg : "(no error message)");
    }
    json_decref(doc);
    http_printable(buf);
}
