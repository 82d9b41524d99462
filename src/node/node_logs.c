/* node_logs.c - GET /v1/tasks/ID/logs on a raft node: relayed to the
 * controller of the task's site, which relays it to the agent that runs
 * the task. So `varde task logs` works from anywhere that reaches the raft
 * cluster. Any node serves it from its own copy of the fleet (a task's
 * site rarely changes, and the controller answers 404 for a task it does
 * not run). The answer is streamed as it comes, so ?follow works through
 * it; each relay has a connection of its own, bounded in time
 * (transport/relay.h). */
#include "node/node_fleet.h"

#include "node/node_int.h"
#include "transport/relay.h"

#include <event2/http.h>
#include <string.h>

#define LOGS_TIMEOUT_S 75 /* above the one minute a follow lasts */

/* The relays of this process's one node, set up on its first relay. They
 * are not dropped when the node closes: the process exits then. */
static struct relays logs_relays;

/* Relay REQ's path and query to the controller at ADDR. */
static void logs_relay(struct node *n, struct evhttp_request *req,
                       const char *addr_text)
{
    struct relay_how how;
    struct addr a;
    char err[160];

    if (addr_parse(addr_text, &a, err, sizeof(err)) < 0) {
        http_reply_error(req, 502, "the site's controller address: %s", err);
        return;
    }
    if (logs_relays.base != n->base) {
        relays_init(&logs_relays, n->base, n->opts.listen.host);
    }
    how = (struct relay_how){&a,   evhttp_request_get_uri(req),
                             true, LOGS_TIMEOUT_S,
                             502,  "the site's controller did not answer"};
    relay_pass(&logs_relays, req, &how);
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
