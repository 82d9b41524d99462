/* agent_sync.c - the agent's side of the conversation with its
 * controller: the register and heartbeat bodies, and the reconcile of a
 * tasks watch answer with what the agent runs (agent_int.h).
 *
 * The watch answer is the truth: a task it lists that the agent does not
 * have is created and started; one it no longer lists is stopped and,
 * once its end has been reported in an acknowledged heartbeat, forgotten;
 * one with "stop": true is stopped and kept; one whose job_version grew is
 * stopped and started again with the new job. agent_watch_action()
 * decides each case; this file carries it out.
 */
#include "agent/agent_int.h"

#include "util/log.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sync_counts {
    size_t started, stopped, dropped, replaced, refused;
};

/* ------------------------------------------------------------------------
 * Bodies.
 */

void agent_sync_used(const struct agent *a, uint64_t *cpu_milli,
                     uint64_t *memory_mb)
{
    *cpu_milli = 0;
    *memory_mb = 0;
    for (size_t i = 0; i < a->n_runs; i++) {
        const struct agent_task *t = &a->runs[i]->task;

        if (agent_task_active(t) && t->spec != NULL) {
            *cpu_milli += (uint64_t)(t->spec->cpu * 1000 + 0.5);
            *memory_mb += t->spec->memory_mb;
        }
    }
}

static char *sync_dump(json_t *doc, size_t *len)
{
    char *text =
        doc ? json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;

    json_decref(doc);
    if (text != NULL) {
        *len = strlen(text);
    }
    return text;
}

static char *sync_register_body(void *arg, size_t *len)
{
    struct agent *a = arg;
    const struct agent_opts *o = a->opts;
    json_t *labels = json_object();

    for (size_t i = 0; labels != NULL && i < o->n_labels; i++) {
        json_object_set_new(labels, o->labels[i].key,
                            json_string(o->labels[i].value));
    }
    return sync_dump(json_pack("{s:o*,s:f,s:I,s:s,s:s,s:I}", "labels", labels,
                               "cpu", (double)o->cpu_milli / 1000.0,
                               "memory_mb", (json_int_t)o->memory_mb, "listen",
                               o->listen.text, "boot_id", a->boot_id,
                               "started_ms", (json_int_t)a->started_ms),
                     len);
}

static json_t *sync_task(const struct agent_task *t)
{
    return json_pack(
        "{s:s,s:I,s:s,s:o,s:i,s:o,s:o}", "id", t->id, "job_version",
        (json_int_t)t->job_version, "state", agent_task_report_state(t->state),
        "pid", t->pid > 0 ? json_integer(t->pid) : json_null(), "restarts",
        (int)t->restarts, "exit_code",
        t->has_exit ? json_integer(t->exit_code) : json_null(), "message",
        t->message[0] ? json_string(t->message) : json_null());
}

static char *sync_heartbeat_body(void *arg, size_t *len)
{
    struct agent *a = arg;
    json_t *tasks = json_array();
    uint64_t cpu, mem;

    a->hb_seq++;
    for (size_t i = 0; tasks != NULL && i < a->n_runs; i++) {
        struct agent_run *r = a->runs[i];

        json_array_append_new(tasks, sync_task(&r->task));
        if (r->task.after == AGENT_AFTER_FORGET && agent_task_ended(&r->task) &&
            r->report_seq == 0) {
            r->report_seq = a->hb_seq;
        }
    }
    agent_sync_used(a, &cpu, &mem);
    cpu = cpu > a->opts->cpu_milli ? a->opts->cpu_milli : cpu;
    mem = mem > a->opts->memory_mb ? a->opts->memory_mb : mem;
    return sync_dump(
        json_pack("{s:f,s:I,s:o*}", "cpu_free",
                  (double)(a->opts->cpu_milli - cpu) / 1000.0, "memory_free_mb",
                  (json_int_t)(a->opts->memory_mb - mem), "tasks", tasks),
        len);
}

/* The heartbeat made last was acknowledged: forget the tasks whose end it
 * carried and that the controller no longer lists. */
static void sync_heartbeat_ok(void *arg)
{
    struct agent *a = arg;

    for (size_t i = a->n_runs; i-- > 0;) {
        struct agent_run *r = a->runs[i];

        if (r->report_seq != 0 && r->report_seq <= a->hb_seq &&
            r->task.after == AGENT_AFTER_FORGET && agent_task_ended(&r->task)) {
            agent_run_forget(r);
        }
    }
}

static uint64_t sync_index(void *arg)
{
    struct agent *a = arg;

    return a->watch_index;
}

/* ------------------------------------------------------------------------
 * The reconcile.
 */

/* A task new to the agent: create it, start it (or fail it, refused). */
static void sync_create(struct agent *a, struct agent_want *w, bool refused,
                        struct sync_counts *n)
{
    struct agent_task t;
    struct agent_run *r;

    agent_task_init(&t, w->id, w->job, w->site, w->spec, w->job_version);
    w->spec = NULL;
    r = agent_run_add(a, &t);
    if (r == NULL) {
        log_error("task",
                  "task %s: cannot take it (out of memory, or %d tasks held) "
                  "-> not run",
                  w->id, AGENT_MAX_RUNS);
        return;
    }
    if (refused) {
        agent_task_refuse(&r->task, w->refused);
        log_error("task", "task %s: %s -> failed, not run", w->id, w->refused);
        n->refused++;
        agent_touch(a);
        return;
    }
    log_info("task", "task %s of job %s (version %llu) is new -> start it",
             w->id, w->job, (unsigned long long)w->job_version);
    agent_run_start(r);
    n->started++;
}

/* A newer version (or a task stopped and wanted again): stop what runs,
 * then start the wanted spec. */
static void sync_replace(struct agent_run *r, struct agent_want *w,
                         struct sync_counts *n)
{
    struct agent_task *t = &r->task;

    log_info("task", "task %s: job version %llu -> %llu%s -> (re)start it",
             t->id, (unsigned long long)t->job_version,
             (unsigned long long)w->job_version,
             t->state == AGENT_TASK_STOPPED ? ", wanted again" : "");
    snprintf(t->site, sizeof(t->site), "%s", w->site);
    snprintf(t->job, sizeof(t->job), "%s", w->job);
    r->report_seq = 0;
    agent_run_stop(r, AGENT_AFTER_START, w->spec, w->job_version);
    w->spec = NULL;
    n->replaced++;
}

/* A job version the agent cannot run: keep what runs, say why. */
static void sync_refuse(struct agent_run *r, const struct agent_want *w,
                        struct sync_counts *n)
{
    agent_task_set_message(&r->task, "%s", w->refused);
    log_error("task", "task %s: version %llu: %s -> keep version %llu",
              r->task.id, (unsigned long long)w->job_version, w->refused,
              (unsigned long long)r->task.job_version);
    n->refused++;
    agent_touch(r->a);
}

static void sync_one(struct agent *a, struct agent_run *r, struct agent_want *w,
                     struct sync_counts *n)
{
    switch (agent_watch_action(r ? &r->task : NULL, w)) {
    case AGENT_ACT_KEEP:
        break;
    case AGENT_ACT_START:
        sync_create(a, w, false, n);
        break;
    case AGENT_ACT_REFUSE:
        if (r == NULL) {
            sync_create(a, w, true, n);
        } else {
            sync_refuse(r, w, n);
        }
        break;
    case AGENT_ACT_STOP:
        r->report_seq = 0;
        agent_run_stop(r, AGENT_AFTER_NOTHING, NULL, 0);
        n->stopped++;
        break;
    case AGENT_ACT_DROP:
        agent_run_stop(r, AGENT_AFTER_FORGET, NULL, 0);
        n->dropped++;
        break;
    case AGENT_ACT_REPLACE:
        sync_replace(r, w, n);
        break;
    }
}

static void sync_apply(struct agent *a, struct agent_wanted *want)
{
    struct sync_counts n = {0, 0, 0, 0, 0};
    uint64_t was = a->watch_index;
    struct agent_run **gone;
    size_t n_gone = 0;

    /* The runs the answer does not list, before new ones join. */
    gone = calloc(a->n_runs ? a->n_runs : 1, sizeof(*gone));
    for (size_t i = 0; gone != NULL && i < a->n_runs; i++) {
        if (agent_wanted_find(want, a->runs[i]->task.id) == NULL) {
            gone[n_gone++] = a->runs[i];
        }
    }
    for (size_t i = 0; i < want->n; i++) {
        struct agent_want *w = &want->tasks[i];

        sync_one(a, agent_run_find(a, w->id), w, &n);
    }
    for (size_t i = 0; i < n_gone; i++) {
        sync_one(a, gone[i], NULL, &n);
    }
    free(gone);
    a->watch_index = want->index;
    if (n.started + n.stopped + n.dropped + n.replaced + n.refused > 0) {
        log_info("agent",
                 "tasks index %llu -> %llu: %zu listed (%zu started, %zu "
                 "stopped, %zu gone, %zu replaced, %zu refused)",
                 (unsigned long long)was, (unsigned long long)want->index,
                 want->n, n.started, n.stopped, n.dropped, n.replaced,
                 n.refused);
    }
}

static int sync_tasks(void *arg, const char *body, size_t len)
{
    struct agent *a = arg;
    struct agent_wanted want;
    char err[512];

    if (agent_watch_parse(body, len, a->opts->name, &want, err, sizeof(err)) <
        0) {
        a->st.watch_refused++;
        if (strcmp(err, a->last_watch_error) != 0) {
            log_error("agent",
                      "controller %s: bad tasks answer: %s -> ignored, "
                      "watch again in 1s",
                      a->opts->controller.text, err);
            memcpy(a->last_watch_error, err, sizeof(err));
        }
        return -1;
    }
    a->last_watch_error[0] = '\0';
    sync_apply(a, &want);
    agent_wanted_free(&want);
    return 0;
}

struct agent_upstream_cbs agent_sync_cbs(struct agent *a)
{
    struct agent_upstream_cbs cbs = {
        sync_register_body, sync_heartbeat_body, sync_heartbeat_ok,
        sync_index,         sync_tasks,          a,
    };

    return cbs;
}
