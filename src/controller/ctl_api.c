/* ctl_api.c - the controller's own HTTP API, one small handler each.
 *
 *   GET /v1/status   the site, its link to the cluster, its tasks
 *   GET /metrics     Prometheus text
 *
 * Anything else gets the router's JSON 404, 405 or 413 (transport/http.h).
 */
#include "controller/ctl_int.h"

#include "transport/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_API_SMALL_BODY 4096

static json_t *ctl_api_labels(const struct ctl_opts *o)
{
    json_t *labels = json_object();

    for (size_t i = 0; labels != NULL && i < o->n_labels; i++) {
        json_object_set_new(labels, o->labels[i].key,
                            json_string(o->labels[i].value));
    }
    return labels;
}

/* The site's tasks, with their local state; NULL out of memory. */
static json_t *ctl_api_tasks(const struct ctl_assign *a)
{
    json_t *tasks = json_array();

    for (size_t i = 0; tasks != NULL && i < a->n_tasks; i++) {
        const struct ctl_task *t = &a->tasks[i];
        json_t *o = json_pack("{s:s,s:s,s:I,s:I,s:s,s:b}", "id", t->id, "job",
                              t->job, "index", (json_int_t)t->index,
                              "job_version", (json_int_t)t->job_version,
                              "state", t->local, "stop", t->stop);

        if (json_array_append_new(tasks, o) < 0) {
            json_decref(tasks);
            tasks = NULL;
        }
    }
    return tasks;
}

static json_t *ctl_api_status(struct ctl *c)
{
    struct ctl_upstream_stats st;

    ctl_upstream_stats(c->up, &st);
    return json_pack(
        "{s:s,s:o,s:f,s:I,s:o,s:b,s:I,s:I,s:I,s:{s:I,s:I},s:o}", "site",
        c->opts.site, "labels", ctl_api_labels(&c->opts), "cpu",
        (double)c->opts.cpu_milli / 1000.0, "memory_mb",
        (json_int_t)c->opts.memory_mb, "leader",
        st.leader[0] ? json_string(st.leader) : json_null(), "connected",
        st.connected, "index", (json_int_t)c->assign.index, "report_seq_sent",
        (json_int_t)st.report_seq_sent, "report_seq_applied",
        (json_int_t)c->outbox.applied_seq, "outbox", "sending",
        (json_int_t)ctl_outbox_sending_count(&c->outbox), "pending",
        (json_int_t)ctl_outbox_pending_count(&c->outbox), "tasks",
        ctl_api_tasks(&c->assign));
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
};

int ctl_api_listen(struct ctl *c, char *err, size_t errlen)
{
    c->http = http_server_new(
        c->base, &c->opts.listen, ctl_api_routes,
        sizeof(ctl_api_routes) / sizeof(ctl_api_routes[0]), c, err, errlen);
    return c->http == NULL ? -1 : 0;
}
