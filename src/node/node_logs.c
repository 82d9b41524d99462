/* node_logs.c - GET /v1/tasks/ID/logs on a raft node: relayed to the
 * controller of the task's site, which relays it to the agent that runs
 * the task. So `varde task logs` works from anywhere that reaches the raft
 * cluster. Any node serves it from its own copy of the fleet (a task's
 * site rarely changes, and the controller answers 404 for a task it does
 * not run). The answer is streamed as it comes, so ?follow works through
 * it; each relay has a connection of its own, bounded in time. */
#include "node/node_fleet.h"

#include "node/node_int.h"
#include "util/log.h"

#include <event2/event.h>
#include <event2/http.h>
#include <stdlib.h>
#include <string.h>

#define LOGS_TIMEOUT_S 75 /* above the one minute a follow lasts */
#define LOGS_MAX_RELAYS 64

struct logs_relay {
    struct node *n;
    struct evhttp_request *client;
    struct evhttp_connection *conn;
    bool started; /* the chunked reply to the client has begun */
};

static size_t logs_relays; /* in flight, on this process's one node */

static void logs_copy_headers(struct evhttp_request *from,
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

/* Free a finished relay from the event loop, outside libevent's
 * callbacks on its connection. */
static void logs_free_cb(evutil_socket_t fd, short what, void *arg)
{
    struct logs_relay *r = arg;

    (void)fd;
    (void)what;
    evhttp_connection_free(r->conn);
    free(r);
    logs_relays--;
}

static void logs_chunk_cb(struct evhttp_request *resp, void *arg)
{
    struct logs_relay *r = arg;

    if (!r->started) {
        const char *line = evhttp_request_get_response_code_line(resp);

        logs_copy_headers(resp, r->client);
        evhttp_send_reply_start(r->client,
                                evhttp_request_get_response_code(resp),
                                line ? line : "");
        r->started = true;
    }
    evhttp_send_reply_chunk(r->client, evhttp_request_get_input_buffer(resp));
}

static void logs_done_cb(struct evhttp_request *resp, void *arg)
{
    struct logs_relay *r = arg;
    int code = resp ? evhttp_request_get_response_code(resp) : 0;
    struct timeval now = {0, 0};

    if (r->started && resp == NULL) {
        /* The controller's answer broke off: end the client's connection
         * without the last chunk, so that it sees the break too and does
         * not take what it got for the whole output. */
        struct evhttp_connection *cc = evhttp_request_get_connection(r->client);

        if (cc != NULL) {
            evhttp_connection_free(cc);
        } else {
            evhttp_send_reply_end(r->client);
        }
    } else if (r->started) {
        evhttp_send_reply_end(r->client);
    } else if (code != 0) {
        const char *line = evhttp_request_get_response_code_line(resp);

        logs_copy_headers(resp, r->client);
        evhttp_send_reply(r->client, code, line ? line : "",
                          evhttp_request_get_input_buffer(resp));
    } else {
        http_reply_error(r->client, 502,
                         "the site's controller did not answer");
    }
    if (event_base_once(r->n->base, -1, EV_TIMEOUT, logs_free_cb, r, &now) <
        0) {
        log_error("logs", "cannot schedule the end of a relay -> leak it");
    }
}

/* Relay REQ's path and query to the controller at ADDR. */
static void logs_relay(struct node *n, struct evhttp_request *req,
                       const char *addr_text)
{
    struct logs_relay *r;
    struct evhttp_request *out;
    struct addr a;
    char err[160];
    const char *uri = evhttp_request_get_uri(req);

    if (addr_parse(addr_text, &a, err, sizeof(err)) < 0) {
        http_reply_error(req, 502, "the site's controller address: %s", err);
        return;
    }
    if (logs_relays >= LOGS_MAX_RELAYS || (r = calloc(1, sizeof(*r))) == NULL) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
        http_reply_error(req, 503, "too many log relays at once, retry");
        return;
    }
    r->n = n;
    r->client = req;
    r->conn = evhttp_connection_base_new(n->base, NULL, a.host, a.port);
    out = r->conn ? evhttp_request_new(logs_done_cb, r) : NULL;
    if (out == NULL) {
        if (r->conn != NULL) {
            evhttp_connection_free(r->conn);
        }
        free(r);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    evhttp_connection_set_local_address(r->conn, n->opts.listen.host);
    evhttp_connection_set_timeout(r->conn, LOGS_TIMEOUT_S);
    evhttp_request_set_chunked_cb(out, logs_chunk_cb);
    http_add_auth(out);
    evhttp_add_header(evhttp_request_get_output_headers(out), "Host", a.text);
    logs_relays++;
    /* On success the answer comes through logs_done_cb, possibly at once
     * (a refused connection); R is freed only later, from the loop. */
    if (evhttp_make_request(r->conn, out, EVHTTP_REQ_GET, uri) < 0) {
        evhttp_request_free(out);
        evhttp_connection_free(r->conn);
        free(r);
        logs_relays--;
        http_reply_error(req, 502, "cannot reach the site's controller");
    }
}

void node_fleet_task_cb(struct evhttp_request *req, void *arg)
{
    struct node *n = arg;
    const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
    const char *id = path + strlen("/v1/tasks/"), *slash = strchr(id, '/');
    const char *site, *ctl;
    char tid[JOB_MAX_ID + 16];

    if (slash == NULL || strcmp(slash, "/logs") != 0 || slash == id ||
        (size_t)(slash - id) >= sizeof(tid)) {
        http_reply_error(req, 404,
                         "no such path: expected "
                         "/v1/tasks/JOB.INDEX/logs");
        return;
    }
    memcpy(tid, id, (size_t)(slash - id));
    tid[slash - id] = '\0';
    if (fleet_task_where(node_fleet_state(n), tid, &site, &ctl) < 0) {
        http_reply_error(req, 404, "no task \"%s\"", tid);
        return;
    }
    if (site == NULL) {
        http_reply_error(req, 404, "task %s is pending: it runs nowhere yet",
                         tid);
        return;
    }
    if (ctl == NULL || ctl[0] == '\0') {
        http_reply_error(
            req, 502, "site %s registered no controller address to ask", site);
        return;
    }
    logs_relay(n, req, ctl);
}
