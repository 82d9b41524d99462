/* agent_link.c - one request at a time, its result recorded
 * (agent_link.h).
 *
 * libevent 2.1 ends an outgoing request in one of three ways: the answer
 * (callback with the request, status set); a failure once connected
 * (error callback, then callback with NULL); a refused connect (callback
 * with status 0). evhttp_make_request() may call back before it returns,
 * or fail without calling back. Freeing the connection drops the request
 * in flight without any callback: that is how a request is cancelled.
 */
#include "agent/agent_link.h"

#include "transport/http.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>

#define LINK_MAX_HEADERS 16384

void agent_link_init(struct agent_link *l, struct event_base *base,
                     const struct addr *to, const char *local_host,
                     size_t max_body, struct event *step_ev)
{
    memset(l, 0, sizeof(*l));
    l->base = base;
    l->to = to;
    l->local_host = local_host;
    l->max_body = max_body;
    l->step_ev = step_ev;
}

bool agent_link_busy(const struct agent_link *l)
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

static void link_record(struct agent_link *l, int status, struct evbuffer *body)
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
    struct agent_link *l = arg;
    int status = req ? evhttp_request_get_response_code(req) : 0;

    if (l->call == 0 || l->done) {
        return;
    }
    link_record(l, status,
                status ? evhttp_request_get_input_buffer(req) : NULL);
}

static void link_error_cb(enum evhttp_request_error error, void *arg)
{
    struct agent_link *l = arg;

    l->failed = true;
    l->error = error;
}

static struct evhttp_connection *link_connect(struct agent_link *l)
{
    struct evhttp_connection *conn =
        evhttp_connection_base_new(l->base, NULL, l->to->host, l->to->port);

    if (conn == NULL) {
        return NULL;
    }
    evhttp_connection_set_family(conn, l->to->family);
    evhttp_connection_set_local_address(conn, l->local_host);
    evhttp_connection_set_retries(conn, 0);
    evhttp_connection_set_max_body_size(conn, (ev_ssize_t)l->max_body);
    evhttp_connection_set_max_headers_size(conn, LINK_MAX_HEADERS);
    return conn;
}

static struct evhttp_request *link_request(struct agent_link *l,
                                           const char *body, size_t len)
{
    struct evhttp_request *req = evhttp_request_new(link_done_cb, l);
    struct evkeyvalq *h;

    if (req == NULL) {
        return NULL;
    }
    evhttp_request_set_error_cb(req, link_error_cb);
    h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", l->to->text);
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

void agent_link_send(struct agent_link *l, int call, unsigned timeout_ms,
                     enum evhttp_cmd_type method, const char *path,
                     const char *body, size_t len)
{
    struct timeval tv = {(time_t)(timeout_ms / 1000),
                         (suseconds_t)(timeout_ms % 1000) * 1000};
    struct evhttp_request *req;

    if (l->call != 0) {
        agent_link_cancel(l);
    }
    l->call = call;
    l->done = false;
    l->failed = false;
    if (l->conn == NULL) {
        l->conn = link_connect(l);
    }
    req = l->conn ? link_request(l, body, len) : NULL;
    if (req == NULL) {
        link_record(l, 0, NULL);
        return;
    }
    evhttp_connection_set_timeout_tv(l->conn, &tv);
    if (evhttp_make_request(l->conn, req, method, path) < 0) {
        evhttp_request_free(req); /* left to us; nothing was called */
        if (!l->done) {
            link_record(l, 0, NULL);
        }
        return;
    }
    http_nodelay(l->conn);
}

bool agent_link_take(struct agent_link *l, struct agent_link_result *r)
{
    if (!l->done) {
        return false;
    }
    r->call = l->call;
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

void agent_link_cancel(struct agent_link *l)
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
