/* agent_api.c - the agent's own API: GET /v1/status, GET /metrics, and the
 * route to the task logs (agent_logapi.c). docs/site-api.md has the
 * contract, docs/agent.md the details. */
#include "agent/agent_int.h"

#include "transport/http.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *api_labels(const struct agent_opts *o)
{
    json_t *labels = json_object();

    for (size_t i = 0; labels != NULL && i < o->n_labels; i++) {
        json_object_set_new(labels, o->labels[i].key,
                            json_string(o->labels[i].value));
    }
    return labels;
}

static json_t *api_task(const struct agent_task *t)
{
    return json_pack(
        "{s:s,s:s,s:I,s:s,s:o,s:i,s:o,s:o,s:o,s:o,s:I}", "id", t->id, "job",
        t->job, "job_version", (json_int_t)t->job_version, "state",
        agent_task_state_name(t->state), "pid",
        t->pid > 0 ? json_integer(t->pid) : json_null(), "restarts",
        (int)t->restarts, "exit_code",
        t->has_exit ? json_integer(t->exit_code) : json_null(), "signal",
        t->has_exit && t->exit_signal ? json_integer(t->exit_signal)
                                      : json_null(),
        "message", t->message[0] ? json_string(t->message) : json_null(),
        "site", t->site[0] ? json_string(t->site) : json_null(), "started_ms",
        (json_int_t)t->started_ms);
}

static void api_status(struct evhttp_request *req, void *arg)
{
    struct agent *a = arg;
    const struct agent_opts *o = a->opts;
    struct agent_upstream_stats up;
    json_t *tasks = json_array();
    uint64_t cpu, mem;

    agent_upstream_stats(a->up, &up);
    agent_sync_used(a, &cpu, &mem);
    cpu = cpu > o->cpu_milli ? o->cpu_milli : cpu;
    mem = mem > o->memory_mb ? o->memory_mb : mem;
    for (size_t i = 0; tasks != NULL && i < a->n_runs; i++) {
        json_array_append_new(tasks, api_task(&a->runs[i]->task));
    }
    http_reply_json(
        req, 200,
        json_pack("{s:s,s:s,s:s,s:b,s:o*,s:f,s:I,s:f,s:I,s:b,s:o,s:I,s:I,"
                  "s:o*}",
                  "name", o->name, "controller", o->controller.text, "listen",
                  o->listen.text, "connected", up.connected, "labels",
                  api_labels(o), "cpu", (double)o->cpu_milli / 1000.0,
                  "memory_mb", (json_int_t)o->memory_mb, "cpu_free",
                  (double)(o->cpu_milli - cpu) / 1000.0, "memory_free_mb",
                  (json_int_t)(o->memory_mb - mem), "cgroups", a->cgroup.on,
                  "cgroups_reason",
                  a->cgroup.on ? json_null() : json_string(a->cgroup.why),
                  "watch_index", (json_int_t)a->watch_index, "started_ms",
                  (json_int_t)a->started_ms, "tasks", tasks));
}

/* ------------------------------------------------------------------------
 * Metrics.
 */

static void api_metric(struct evbuffer *b, const char *name, const char *type,
                       const char *help, unsigned long long value)
{
    evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help,
                        name, type, name, value);
}

static void api_metrics_tasks(struct evbuffer *b, const struct agent *a)
{
    size_t by_state[AGENT_TASK_N_STATES] = {0};

    for (size_t i = 0; i < a->n_runs; i++) {
        by_state[a->runs[i]->task.state]++;
    }
    evbuffer_add_printf(b, "# HELP varde_agent_tasks Tasks held, by state.\n"
                           "# TYPE varde_agent_tasks gauge\n");
    for (int s = 0; s < AGENT_TASK_N_STATES; s++) {
        evbuffer_add_printf(b, "varde_agent_tasks{state=\"%s\"} %zu\n",
                            agent_task_state_name((enum agent_task_state)s),
                            by_state[s]);
    }
}

static void api_metrics_cgroups(struct evbuffer *b, const struct agent *a)
{
    uint64_t mem, cpu;

    api_metric(b, "varde_agent_cgroups", "gauge",
               "1 when tasks run under cgroup v2 limits.", a->cgroup.on);
    if (!a->cgroup.on) {
        return;
    }
    evbuffer_add_printf(b, "# HELP varde_agent_task_memory_bytes Memory in "
                           "use by a task's cgroup.\n"
                           "# TYPE varde_agent_task_memory_bytes gauge\n"
                           "# HELP varde_agent_task_cpu_seconds_total CPU "
                           "time used by a task's cgroup.\n"
                           "# TYPE varde_agent_task_cpu_seconds_total "
                           "counter\n");
    for (size_t i = 0; i < a->n_runs; i++) {
        const struct agent_task *t = &a->runs[i]->task;

        if (!agent_task_has_process(t) ||
            agent_cgroup_usage(&a->cgroup, t->id, &mem, &cpu) < 0) {
            continue;
        }
        evbuffer_add_printf(
            b,
            "varde_agent_task_memory_bytes{task=\"%s\"} %llu\n"
            "varde_agent_task_cpu_seconds_total{task=\"%s\"} %llu.%06llu\n",
            t->id, (unsigned long long)mem, t->id,
            (unsigned long long)(cpu / 1000000),
            (unsigned long long)(cpu % 1000000));
    }
}

static void api_metrics(struct evhttp_request *req, void *arg)
{
    struct agent *a = arg;
    struct evbuffer *b = evbuffer_new();
    struct agent_upstream_stats up;

    if (b == NULL) {
        http_reply_error(req, 500, "out of memory");
        return;
    }
    agent_upstream_stats(a->up, &up);
    api_metrics_tasks(b, a);
    api_metric(b, "varde_agent_task_starts_total", "counter",
               "Task processes started.", a->st.starts);
    api_metric(b, "varde_agent_task_exits_total", "counter",
               "Task processes that ended.", a->st.exits);
    api_metric(b, "varde_agent_task_restarts_total", "counter",
               "Restarts under a restart policy.", a->st.restarts);
    api_metric(b, "varde_agent_exec_failures_total", "counter",
               "Starts whose command could not be executed.",
               a->st.exec_failures);
    api_metric(b, "varde_agent_log_rotations_total", "counter",
               "Task output files rotated.", a->st.log_rotations);
    api_metric(b, "varde_agent_controller_connected", "gauge",
               "1 while registered with the controller.", up.connected);
    api_metric(b, "varde_agent_registers_total", "counter",
               "Successful registrations.", up.registers);
    api_metric(b, "varde_agent_register_conflicts_total", "counter",
               "Registrations refused: the name is taken.", up.conflicts);
    api_metric(b, "varde_agent_heartbeats_total", "counter",
               "Heartbeats answered 200.", up.heartbeats);
    api_metric(b, "varde_agent_heartbeats_failed_total", "counter",
               "Heartbeats not answered 200.", up.heartbeat_failures);
    api_metric(b, "varde_agent_watch_refused_total", "counter",
               "Tasks answers that did not parse.", a->st.watch_refused);
    api_metric(b, "varde_agent_saves_total", "counter", "Saves of agent.json.",
               a->st.saves);
    api_metric(b, "varde_agent_save_failures_total", "counter",
               "Failed saves of agent.json.", a->st.save_failures);
    api_metrics_cgroups(b, a);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      "text/plain; version=0.0.4");
    evhttp_send_reply(req, 200, "OK", b);
    evbuffer_free(b);
}

static const struct http_route api_routes[] = {
    {"/v1/status", EVHTTP_REQ_GET, 0, api_status},
    {"/metrics", EVHTTP_REQ_GET, 0, api_metrics},
    {"/v1/tasks/", EVHTTP_REQ_GET, 0, agent_logapi_handle},
};

int agent_api_open(struct agent *a, char *err, size_t errlen)
{
    a->http = http_server_new(a->base, &a->opts->listen, api_routes,
                              sizeof(api_routes) / sizeof(api_routes[0]), a,
                              err, errlen);
    if (a->http == NULL) {
        return -1;
    }
    if (a->token[0] != '\0' && http_server_set_token(a->http, a->token) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

void agent_api_close(struct agent *a)
{
    agent_logapi_close(a);
    http_server_free(a->http);
    a->http = NULL;
}
