/* relay.c - pass a request on, answer with what comes back (relay.h).
 *
 * How libevent 2.1 ends an outgoing request (see transport/link.c): the done
 * callback runs once, with the request on an answer or NULL when there
 * was none; with a chunked callback set, every piece of the body goes
 * through it first. The client's request stays ours until we reply; if
 * its connection closed meanwhile, libevent frees it on our reply.
 */
#include "transport/relay.h"

#include "transport/http.h"
#include "util/log.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>

#define RELAY_MAX_BODY (4u << 20) /* a buffered answer */
#define RELAY_MAX_HEADERS 16384

struct relay {
    struct relay *next;
    struct relays *rs;
    struct evhttp_request *client; /* NULL once answered */
    struct evhttp_connection *conn;
    struct event *free_ev;
    bool stream;
    bool started; /* the chunked answer to the client has begun */
    int fail_status;
    char fail_why[160];
};

void relays_init(struct relays *rs, struct event_base *base,
                 const char *local_host)
{
    memset(rs, 0, sizeof(*rs));
    rs->base = base;
    rs->local_host = local_host;
}

static void relay_copy_headers(struct evhttp_request *from,
                               struct evhttp_request *to)
{
    static const char *const names[] = {"Content-Type", "X-Varde-Log-Start",
                                        "X-Varde-Log-End", "Retry-After"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        const char *v = evhttp_find_header(
            evhttp_request_get_input_headers(from), names[i]);

        if (v != NULL) {
            evhttp_add_header(evhttp_request_get_output_headers(to), names[i],
                              v);
        }
    }
}

/* Unlink R and free it with its connection. */
static void relay_free(struct relay *r)
{
    struct relay **pp = &r->rs->head;

    while (*pp != NULL && *pp != r) {
        pp = &(*pp)->next;
    }
    if (*pp == r) {
        *pp = r->next;
        r->rs->n--;
    }
    if (r->conn != NULL) {
        evhttp_connection_free(r->conn);
    }
    if (r->free_ev != NULL) {
        event_free(r->free_ev);
    }
    free(r);
}

static void relay_free_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    relay_free(arg);
}

static void relay_chunk_cb(struct evhttp_request *resp, void *arg)
{
    struct relay *r = arg;
    const char *line;

    if (r->client == NULL) {
        return;
    }
    if (!r->started) {
        line = evhttp_request_get_response_code_line(resp);
        relay_copy_headers(resp, r->client);
        evhttp_send_reply_start(r->client,
                                evhttp_request_get_response_code(resp),
                                line ? line : "");
        r->started = true;
    }
    evhttp_send_reply_chunk(r->client, evhttp_request_get_input_buffer(resp));
}

static void relay_done_cb(struct evhttp_request *resp, void *arg)
{
    struct relay *r = arg;
    int code = resp ? evhttp_request_get_response_code(resp) : 0;
    const char *line;

    if (r->client != NULL && r->started && resp == NULL) {
        /* The answer broke off: break the client's connection too, rather
         * than end the reply as if the whole output had come. */
        struct evhttp_connection *cc = evhttp_request_get_connection(r->client);

        if (cc != NULL) {
            evhttp_connection_free(cc);
        } else {
            evhttp_send_reply_end(r->client);
        }
    } else if (r->client != NULL && r->started) {
        evhttp_send_reply_end(r->client);
    } else if (r->client != NULL && code != 0) {
        line = evhttp_request_get_response_code_line(resp);
        relay_copy_headers(resp, r->client);
        evhttp_send_reply(r->client, code, line ? line : "",
                          evhttp_request_get_input_buffer(resp));
    } else if (r->client != NULL) {
        if (r->fail_status == 503) {
            evhttp_add_header(evhttp_request_get_output_headers(r->client),
                              "Retry-After", "1");
        }
        http_reply_error(r->client, r->fail_status, "%s", r->fail_why);
    }
    r->client = NULL;
    event_active(r->free_ev, EV_TIMEOUT, 1);
}

/* The outgoing request for REQ: its body (moved), the token, Host. */
static struct evhttp_request *relay_request(struct relay *r,
                                            struct evhttp_request *req,
                                            const struct addr *to)
{
    struct evhttp_request *out = evhttp_request_new(relay_done_cb, r);
    const char *type = evhttp_find_header(evhttp_request_get_input_headers(req),
                                          "Content-Type");
    struct evbuffer *in = evhttp_request_get_input_buffer(req);

    if (out == NULL) {
        return NULL;
    }
    if (r->stream) {
        evhttp_request_set_chunked_cb(out, relay_chunk_cb);
    }
    http_add_auth(out);
    evhttp_add_header(evhttp_request_get_output_headers(out), "Host", to->text);
    if (type != NULL) {
        evhttp_add_header(evhttp_request_get_output_headers(out),
                          "Content-Type", type);
    }
    if (evbuffer_get_length(in) > 0 &&
        evbuffer_add_buffer(evhttp_request_get_output_buffer(out), in) < 0) {
        evhttp_request_free(out);
        return NULL;
    }
    return out;
}

/* A new relay for REQ on a connection to HOW->to; NULL out of memory. */
static struct relay *relay_new(struct relays *rs, struct evhttp_request *req,
                               const struct relay_how *how)
{
    struct relay *r = calloc(1, sizeof(*r));

    if (r == NULL) {
        return NULL;
    }
    r->rs = rs;
    r->client = req;
    r->stream = how->stream;
    r->fail_status = how->fail_status;
    snprintf(r->fail_why, sizeof(r->fail_why), "%s", how->fail_why);
    r->free_ev = event_new(rs->base, -1, 0, relay_free_cb, r);
    r->conn = evhttp_connection_base_new(rs->base, NULL, how->to->host,
                                         how->to->port);
    r->next = rs->head;
    rs->head = r;
    rs->n++;
    if (r->free_ev == NULL || r->conn == NULL) {
        relay_free(r);
        return NULL;
    }
    evhttp_connection_set_family(r->conn, how->to->family);
    evhttp_connection_set_local_address(r->conn, rs->local_host);
    evhttp_connection_set_timeout(r->conn, (int)how->timeout_s);
    evhttp_connection_set_retries(r->conn, 0);
    evhttp_connection_set_max_headers_size(r->conn, RELAY_MAX_HEADERS);
    if (!how->stream) {
        evhttp_connection_set_max_body_size(r->conn, RELAY_MAX_BODY);
    }
    return r;
}

void relay_pass(struct relays *rs, struct evhttp_request *req,
                const struct relay_how *how)
{
    struct relay *r;
    struct evhttp_request *out;

    if (rs->n >= RELAYS_MAX) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
        http_reply_error(req, 503, "%d requests are being relayed, retry",
                         RELAYS_MAX);
        return;
    }
    r = relay_new(rs, req, how);
    out = r ? relay_request(r, req, how->to) : NULL;
    if (out == NULL) {
        if (r != NULL) {
            relay_free(r);
        }
        http_reply_error(req, 500, "out of memory");
        return;
    }
    /* On success the answer comes through relay_done_cb, possibly at once
     * (a refused connection); R is freed only later, from the loop. */
    if (evhttp_make_request(r->conn, out, evhttp_request_get_command(req),
                            how->uri) < 0) {
        evhttp_request_free(out);
        if (r->client != NULL) {
            r->client = NULL;
            relay_free(r);
            http_reply_error(req, how->fail_status, "%s", how->fail_why);
        }
        return;
    }
    http_nodelay(r->conn);
}

void relays_free(struct relays *rs, const char *why)
{
    while (rs->head != NULL) {
        struct relay *r = rs->head;

        /* Answered, the client's request is freed: at once when its
         * client went away (libevent left it to us), else with its
         * connection. */
        if (r->client != NULL && r->started) {
            evhttp_send_reply_end(r->client);
        } else if (r->client != NULL) {
            http_reply_error(r->client, 503, "%s", why);
        }
        r->client = NULL;
        relay_free(r);
    }
}
