/* ctl_proxy.c - the calls the controller passes on (transport/relay.h):
 *
 *   GET /v1/tasks/ID/logs[?...][&agent=NAME]   to the agent that runs ID,
 *        streamed; the raft nodes relay the same call here, so a task's
 *        logs are reachable from anywhere the cluster is, and from the
 *        site alone while the cluster is away
 *   GET, PUT, DELETE /v1/kv/KEY[?...]          to the raft leader: a
 *        task's way to the key-value store (VARDE_CONTROLLER); 503 while
 *        the cluster is out of reach
 *
 * The agent of a task is the one the placement table runs it on; a
 * system task runs on several, and ?agent=NAME picks one (without it,
 * the first up agent by name). A task no agent runs any more (a batch
 * task complete, say) is found in the agents' heartbeats.
 */
#include "controller/ctl_int.h"

#include "transport/http.h"

#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_TASKS_PATH "/v1/tasks/"
#define CTL_LOGS_TIMEOUT_S 75 /* above the minute a follow lasts */
#define CTL_KV_TIMEOUT_S 10
#define CTL_URI_MAX 2048

/* The query of URI without its "agent=" parameter, into BUF ("" or
 * "?..."); the agent's own API does not know it. */
static void ctl_query_without_agent(const char *query, char *buf, size_t len)
{
    size_t used = 0;

    buf[0] = '\0';
    while (query != NULL && *query != '\0') {
        const char *amp = strchr(query, '&');
        size_t n = amp ? (size_t)(amp - query) : strlen(query);

        if (n > 0 && strncmp(query, "agent=", 6) != 0 && used + n + 2 < len) {
            buf[used] = used ? '&' : '?';
            used++;
            memcpy(buf + used, query, n);
            used += n;
            buf[used] = '\0';
        }
        query = amp ? amp + 1 : NULL;
    }
}

/* The value of agent= in QUERY, into BUF ("" when absent). */
static void ctl_query_agent(const char *query, char *buf, size_t len)
{
    buf[0] = '\0';
    while (query != NULL && *query != '\0') {
        const char *amp = strchr(query, '&');
        size_t n = amp ? (size_t)(amp - query) : strlen(query);

        if (strncmp(query, "agent=", 6) == 0 && n - 6 < len) {
            snprintf(buf, len, "%.*s", (int)(n - 6), query + 6);
        }
        query = amp ? amp + 1 : NULL;
    }
}

/* Whether agent G has task ID: a run row, or (ANY) its heartbeat. */
static bool ctl_agent_has(const struct ctl *c, const struct ctl_agent *g,
                          const char *id, bool any)
{
    for (size_t r = ctl_rows_first(&c->rows, id);
         r < c->rows.n && strcmp(c->rows.v[r].task, id) == 0; r++) {
        if (!c->rows.v[r].held && strcmp(c->rows.v[r].agent, g->name) == 0) {
            return true;
        }
    }
    return any && ctl_agent_task_find(g, id) != NULL;
}

/* The agent to ask for the logs of task ID: WANT when given, else the
 * first up agent that runs it, else the first that ran it. */
static const struct ctl_agent *ctl_logs_agent(const struct ctl *c,
                                              const char *id, const char *want)
{
    const struct ctl_agent *best = NULL;
    int best_rank = 0;

    if (want[0] != '\0') {
        const struct ctl_agent *g = ctl_agents_find(&c->agents, want);

        return g != NULL && ctl_agent_has(c, g, id, true) ? g : NULL;
    }
    for (size_t a = 0; a < c->agents.n; a++) {
        const struct ctl_agent *g = c->agents.v[a];
        int rank = ctl_agent_has(c, g, id, false)  ? 2 + g->up
                   : ctl_agent_has(c, g, id, true) ? 1
                                                   : 0;

        if (rank > best_rank) {
            best = g;
            best_rank = rank;
        }
    }
    return best;
}

void ctl_proxy_logs_cb(struct evhttp_request *req, void *arg)
{
    struct ctl *c = arg;
    const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(req);
    const char *path = evhttp_uri_get_path(u), *query = evhttp_uri_get_query(u);
    const char *id = path + strlen(CTL_TASKS_PATH), *slash = strchr(id, '/');
    char tid[CTL_TASK_ID_MAX + 1], want[CTL_AGENT_NAME_MAX + 2];
    char q[CTL_URI_MAX], uri[CTL_URI_MAX + 160], why[200];
    const struct ctl_agent *g;
    struct relay_how how;

    if (slash == NULL || slash == id || strcmp(slash, "/logs") != 0 ||
        (size_t)(slash - id) > CTL_TASK_ID_MAX) {
        http_reply_error(req, 404,
                         "no such path: expected "
                         "/v1/tasks/JOB.INDEX/logs");
        return;
    }
    snprintf(tid, sizeof(tid), "%.*s", (int)(slash - id), id);
    ctl_query_agent(query, want, sizeof(want));
    g = ctl_logs_agent(c, tid, want);
    if (g == NULL) {
        http_reply_error(req, 404, "task %s runs on %s%s of site %s", tid,
                         want[0] ? "no agent named " : "no agent",
                         want[0] ? want : "", c->opts.site);
        return;
    }
    ctl_query_without_agent(query, q, sizeof(q));
    snprintf(uri, sizeof(uri), "%s%s%s", CTL_TASKS_PATH, tid, "/logs");
    snprintf(uri + strlen(uri), sizeof(uri) - strlen(uri), "%s", q);
    snprintf(why, sizeof(why), "agent %s (%s) did not answer", g->name,
             g->addr.text);
    how = (struct relay_how){&g->addr, uri, true, CTL_LOGS_TIMEOUT_S, 502, why};
    relay_pass(&c->relays, req, &how);
}

void ctl_proxy_kv_cb(struct evhttp_request *req, void *arg)
{
    struct ctl *c = arg;
    struct ctl_upstream_stats st;
    struct relay_how how;
    struct addr leader;
    char err[160];

    ctl_upstream_stats(c->up, &st);
    if (st.leader[0] == '\0' ||
        addr_parse(st.leader, &leader, err, sizeof(err)) < 0) {
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After",
                          "1");
        http_reply_error(req, 503,
                         "the raft cluster is out of reach from site %s: no "
                         "leader known, retry",
                         c->opts.site);
        return;
    }
    how = (struct relay_how){&leader, evhttp_request_get_uri(req),
                             false,   CTL_KV_TIMEOUT_S,
                             503,     "the raft leader did not answer, retry"};
    relay_pass(&c->relays, req, &how);
}
