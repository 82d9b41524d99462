/* ctl_api.c - the controller's own HTTP API, one small handler each.
 *
 *   GET /v1/status          the site, its link to the cluster, its tasks
 *   GET /metrics            Prometheus text
 *   /v1/agents, /v1/agents/NAME/...      the agents (ctl_agent_api.c)
 *   /v1/tasks/ID/logs, /v1/kv/KEY        passed on (ctl_proxy.c)
 *
 * Anything else gets the router's JSON 404, 405 or 413 (transport/http.h).
 * With --token-file, every route asks for the token.
 */
#include "controller/ctl_int.h"

#include "controller/ctl_site.h"
#include "sm/command.h"
#include "transport/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_API_SMALL_BODY 4096
#define CTL_API_AGENT_BODY (2u << 20) /* a heartbeat of 4096 tasks */

static json_t *ctl_api_labels(const struct ctl_opts *o)
{
    json_t *labels = json_object();

    for (size_t i = 0; labels != NULL && i < o->n_labels; i++) {
        json_object_set_new(labels, o->labels[i].key,
                            json_string(o->labels[i].value));
    }
    return labels;
}

/* One task as the site sees it (ctl_site.h). */
static json_t *ctl_api_task(const struct ctl_site *site,
                            const struct ctl_task *t)
{
    struct ctl_view v;
    json_t *o;

    ctl_site_view(site, t, &v);
    o = json_pack("{s:s,s:s,s:I,s:I,s:s,s:b,s:o,s:o,s:o,s:o}", "id", t->id,
                  "job", t->job, "index", (json_int_t)t->index, "job_version",
                  (json_int_t)t->job_version, "state", v.state, "stop", t->stop,
                  "agent", v.agent ? json_string(v.agent) : json_null(), "pid",
                  v.pid >= 0 ? json_integer(v.pid) : json_null(), "restarts",
                  json_integer(v.restarts > 0 ? v.restarts : 0), "message",
                  v.message[0] ? json_string(v.message) : json_null());
    return o;
}

/* The site's tasks, as the site sees them; NULL out of memory. */
static json_t *ctl_api_tasks(const struct ctl *c)
{
    struct ctl_site site = {&c->assign, &c->jobs, &c->rows, &c->agents,
                            c->notes};
    json_t *tasks = json_array();

    for (size_t i = 0; tasks != NULL && i < c->assign.n_tasks; i++) {
        if (json_array_append_new(
                tasks, ctl_api_task(&site, &c->assign.tasks[i])) < 0) {
            json_decref(tasks);
            tasks = NULL;
        }
    }
    return tasks;
}

/* How many agents are up. */
static size_t ctl_api_agents_up(const struct ctl *c)
{
    size_t up = 0;

    for (size_t a = 0; a < c->agents.n; a++) {
        up += c->agents.v[a]->up;
    }
    return up;
}

static json_t *ctl_api_status(struct ctl *c)
{
    struct ctl_upstream_stats st;

    ctl_upstream_stats(c->up, &st);
    return json_pack(
        "{s:s,s:o,s:f,s:I,s:{s:I,s:I},s:o,s:b,s:I,s:I,s:I,s:{s:I,s:I},s:o}",
        "site", c->opts.site, "labels", ctl_api_labels(&c->opts), "cpu",
        (double)c->cap_cpu_milli / 1000.0, "memory_mb",
        (json_int_t)c->cap_memory_mb, "agents", "up",
        (json_int_t)ctl_api_agents_up(c), "down",
        (json_int_t)(c->agents.n - ctl_api_agents_up(c)), "leader",
        st.leader[0] ? json_string(st.leader) : json_null(), "connected",
        st.connected, "index", (json_int_t)c->assign.index, "report_seq_sent",
        (json_int_t)st.report_seq_sent, "report_seq_applied",
        (json_int_t)c->outbox.applied_seq, "outbox", "sending",
        (json_int_t)ctl_outbox_sending_count(&c->outbox), "pending",
        (json_int_t)ctl_outbox_pending_count(&c->outbox), "tasks",
        ctl_api_tasks(c));
}

static void ctl_api_status_cb(struct evhttp_request *req, void *arg)
{
    json_t *doc = ctl_api_status(arg);
    char *text =
        doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;
    char *line = NULL;
    int n = text ? asprintf(&line, "%s\n", text) : -1;

    json_decref(doc);
    free(text);
    if (n < 0) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    /* Dumped here rather than by http_reply_json(), so that a cpu of 0.1
     * reads 0.1. */
    http_reply_text(req, 200, "application/json", line, (size_t)n);
    free(line);
}

/* Append one Prometheus metric (HELP, TYPE, one unlabelled sample). */
static void ctl_api_metric(FILE *f, const char *name, const char *type,
                           const char *help, unsigned long long value)
{
    fprintf(f, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type,
            name, value);
}

static void ctl_api_metrics_write(struct ctl *c, FILE *f)
{
    struct ctl_upstream_stats st;

    ctl_upstream_stats(c->up, &st);
    ctl_api_metric(f, "varde_controller_connected", "gauge",
                   "1 while registered with the raft leader.", st.connected);
    ctl_api_metric(f, "varde_controller_assignments_index", "gauge",
                   "Log index of the site's assignments held here.",
                   c->assign.index);
    ctl_api_metric(f, "varde_controller_tasks", "gauge",
                   "Tasks assigned to this site.", c->assign.n_tasks);
    ctl_api_metric(f, "varde_controller_report_batches_sent_total", "counter",
                   "Report batches sent, resends included.", st.batches_sent);
    ctl_api_metric(f, "varde_controller_report_seq_sent", "gauge",
                   "Seq of the last report batch sent.", st.report_seq_sent);
    ctl_api_metric(f, "varde_controller_report_seq_applied", "gauge",
                   "Last report batch the cluster says it applied.",
                   c->outbox.applied_seq);
    ctl_api_metric(f, "varde_controller_reports_waiting", "gauge",
                   "Reports in the outbox, not yet applied by the cluster.",
                   ctl_outbox_sending_count(&c->outbox) +
                       ctl_outbox_pending_count(&c->outbox));
    ctl_api_metric(f, "varde_controller_report_batches_refused_total",
                   "counter", "Report batches the cluster refused (dropped).",
                   c->batches_refused);
    ctl_api_metric(f, "varde_controller_registers_total", "counter",
                   "Successful registrations with a leader.", st.registers);
    ctl_api_metric(f, "varde_controller_heartbeat_failures_total", "counter",
                   "Heartbeats that failed or were refused.",
                   st.heartbeat_failures);
    ctl_api_metric(f, "varde_controller_leader_changes_total", "counter",
                   "Times a leader other than the last one was adopted.",
                   st.leader_changes);
    ctl_api_metric(f, "varde_controller_agents_up", "gauge",
                   "Agents heard from within the TTL.", ctl_api_agents_up(c));
    ctl_api_metric(f, "varde_controller_agents_down", "gauge",
                   "Agents the registry holds that are down.",
                   c->agents.n - ctl_api_agents_up(c));
    ctl_api_metric(f, "varde_controller_agents_down_total", "counter",
                   "Times an agent was declared down.", c->agents_down);
    ctl_api_metric(f, "varde_controller_tasks_moved_total", "counter",
                   "Tasks moved off a down agent or one without their "
                   "labels.",
                   c->moves);
    ctl_api_metric(f, "varde_controller_tasks_unplaced", "gauge",
                   "Tasks no agent can take (see their message).",
                   json_object_size(c->notes));
    ctl_api_metric(f, "varde_controller_agent_watches", "gauge",
                   "Agents' task watches held.", c->n_watches);
}

static void ctl_api_metrics_cb(struct evhttp_request *req, void *arg)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);

    if (f == NULL) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    ctl_api_metrics_write(arg, f);
    if (fclose(f) != 0 || text == NULL) {
        free(text);
        http_reply_error(req, 500, "out of memory");
        return;
    }
    http_reply_text(req, 200, "text/plain; version=0.0.4", text, len);
    free(text);
}

static const struct http_route ctl_api_routes[] = {
    {"/v1/status", EVHTTP_REQ_GET, CTL_API_SMALL_BODY, ctl_api_status_cb},
    {"/metrics", EVHTTP_REQ_GET, CTL_API_SMALL_BODY, ctl_api_metrics_cb},
    {"/v1/agents", EVHTTP_REQ_GET, CTL_API_SMALL_BODY, ctl_agents_list_cb},
    {"/v1/agents/", EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE,
     CTL_API_AGENT_BODY, ctl_agent_api_cb},
    {"/v1/tasks/", EVHTTP_REQ_GET, CTL_API_SMALL_BODY, ctl_proxy_logs_cb},
    {"/v1/kv/", EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE,
     SM_MAX_VALUE, ctl_proxy_kv_cb},
};

int ctl_api_listen(struct ctl *c, char *err, size_t errlen)
{
    c->http = http_server_new(
        c->base, &c->opts.listen, ctl_api_routes,
        sizeof(ctl_api_routes) / sizeof(ctl_api_routes[0]), c, err, errlen);
    if (c->http != NULL && c->token[0] != '\0' &&
        http_server_set_token(c->http, c->token) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return c->http == NULL ? -1 : 0;
}
