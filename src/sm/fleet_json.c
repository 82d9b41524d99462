/* fleet_json.c - the fleet as the API shows it, and as the scheduler reads
 * it. */
#include "sm/fleet_int.h"
#include "util/num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- The scheduler's input. */

struct sched_mem {
    struct sched_site *sites;
    struct sched_job *jobs;
    struct sched_task *tasks;
    struct sched_label *labels;
};

static enum sched_job_type job_type(enum job_type t)
{
    switch (t) {
    case JOB_BATCH:
        return SCHED_JOB_BATCH;
    case JOB_SYSTEM:
        return SCHED_JOB_SYSTEM;
    case JOB_SERVICE:
        break;
    }
    return SCHED_JOB_SERVICE;
}

static uint64_t job_milli(const struct job *j)
{
    return (uint64_t)num_round(j->cpu * 1000.0);
}

/* Point the labels L (N of them) at the slots from *NEXT on. */
static const struct sched_label *labels_view(struct sched_label **next,
                                             const struct job_pair *l, size_t n)
{
    struct sched_label *start = *next;

    for (size_t i = 0; i < n; i++) {
        (*next)[i].key = l[i].name;
        (*next)[i].value = l[i].value;
    }
    *next += n;
    return start;
}

int fleet_sched_input(const struct fleet *f, struct fleet_sched_input *out)
{
    struct sched_mem *m = calloc(1, sizeof(*m));
    struct sched_label *next;
    size_t nl = 0;

    memset(out, 0, sizeof(*out));
    if (m == NULL) {
        return -1;
    }
    for (size_t i = 0; i < f->n_sites; i++) {
        nl += f->sites[i].n_labels;
    }
    for (size_t i = 0; i < f->n_jobs; i++) {
        nl += f->jobs[i].spec->n_labels;
    }
    m->sites = calloc(f->n_sites + 1, sizeof(*m->sites));
    m->jobs = calloc(f->n_jobs + 1, sizeof(*m->jobs));
    m->tasks = calloc(f->n_tasks + 1, sizeof(*m->tasks));
    m->labels = calloc(nl + 1, sizeof(*m->labels));
    out->mem = m;
    if (!m->sites || !m->jobs || !m->tasks || !m->labels) {
        fleet_sched_input_free(out);
        return -1;
    }
    next = m->labels;
    for (size_t i = 0; i < f->n_sites; i++) {
        const struct fleet_site *s = &f->sites[i];

        m->sites[i] = (struct sched_site){
            .name = s->name,
            .labels = labels_view(&next, s->labels, s->n_labels),
            .nlabels = s->n_labels,
            .cpu = s->cpu_milli,
            .memory_mb = s->memory_mb,
            .status = s->status,
            .silent_since_ms = s->silent_since_ms,
        };
    }
    for (size_t i = 0; i < f->n_jobs; i++) {
        const struct job *j = f->jobs[i].spec;

        m->jobs[i] = (struct sched_job){
            .id = j->id,
            .type = job_type(j->type),
            .count = j->count,
            .cpu = job_milli(j),
            .memory_mb = j->memory_mb,
            .sites = (const char *const *)j->sites,
            .nsites = j->n_sites,
            .labels = labels_view(&next, j->labels, j->n_labels),
            .nlabels = j->n_labels,
            .reschedule_after_ms = j->reschedule_after_ms,
        };
    }
    for (size_t i = 0; i < f->n_tasks; i++) {
        const struct fleet_task *t = &f->tasks[i];

        m->tasks[i] = (struct sched_task){
            .job = t->job,
            .index = t->index,
            .site = t->site == FLEET_NO_SITE ? NULL : f->sites[t->site].name,
            .state = t->state,
            .stop = t->stop,
            .is_replacement = t->replaces != FLEET_NONE,
            .replaces = t->replaces == FLEET_NONE ? 0 : (uint32_t)t->replaces,
        };
    }
    out->in = (struct sched_input){m->sites,  f->n_sites, m->jobs,
                                   f->n_jobs, m->tasks,   f->n_tasks};
    return 0;
}

void fleet_sched_input_free(struct fleet_sched_input *in)
{
    struct sched_mem *m = in->mem;

    if (m != NULL) {
        free(m->sites);
        free(m->jobs);
        free(m->tasks);
        free(m->labels);
        free(m);
    }
    memset(in, 0, sizeof(*in));
}

/* ---- Tasks. */

static json_t *opt_int(long long v)
{
    return v == FLEET_NONE ? json_null() : json_integer(v);
}

static json_t *opt_str(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *task_json(const struct fleet *f, const struct fleet_task *t)
{
    char id[JOB_MAX_ID + 16];

    snprintf(id, sizeof(id), "%s.%u", t->job, t->index);
    return json_pack(
        "{s:s,s:s,s:I,s:I,s:o,s:o,s:s,s:o,s:I,s:b,s:o,s:o,s:o}", "id", id,
        "job", t->job, "index", (json_int_t)t->index, "job_version",
        (json_int_t)t->job_version, "site",
        opt_str(t->site == FLEET_NO_SITE ? NULL : f->sites[t->site].name),
        "agent", opt_str(t->agent), "state", fleet_state_name(t->state), "pid",
        opt_int(t->pid), "restarts", (json_int_t)t->restarts, "stop", t->stop,
        "exit_code", opt_int(t->exit_code), "replaces", opt_int(t->replaces),
        "message", opt_str(t->message));
}

static int task_cmp(const void *a, const void *b)
{
    const struct fleet_task *x = *(const struct fleet_task *const *)a;
    const struct fleet_task *y = *(const struct fleet_task *const *)b;
    int c = strcmp(x->job, y->job);

    if (c != 0) {
        return c;
    }
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The tasks matching JOB and SITE (positions; NULL: any), sorted, as a JSON
 * array. */
static json_t *tasks_array(const struct fleet *f, const char *job, long site)
{
    const struct fleet_task **v = malloc((f->n_tasks + 1) * sizeof(*v));
    json_t *a = json_array();
    size_t n = 0;

    if (v == NULL || a == NULL) {
        free(v);
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < f->n_tasks; i++) {
        const struct fleet_task *t = &f->tasks[i];

        if ((job == NULL || strcmp(t->job, job) == 0) &&
            (site < 0 || t->site == (uint32_t)site)) {
            v[n++] = t;
        }
    }
    qsort(v, n, sizeof(*v), task_cmp);
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(a, task_json(f, v[i])) < 0) {
            json_decref(a);
            a = NULL;
            break;
        }
    }
    free(v);
    return a;
}

json_t *fleet_tasks_json(const struct fleet *f, const char *job,
                         const char *site)
{
    long spos = -1;

    if (site != NULL && (spos = fleet_site_pos(f, site)) < 0) {
        return json_array();
    }
    return tasks_array(f, job, site ? spos : -1);
}

int fleet_task_where(const struct fleet *f, const char *id, const char **site,
                     const char **controller)
{
    char job[JOB_MAX_ID + 1];
    uint32_t index;
    long pos;

    if (fleet_task_id_parse(id, job, &index) < 0 ||
        (pos = fleet_task_pos(f, job, index)) < 0) {
        return -1;
    }
    *site = *controller = NULL;
    if (f->tasks[pos].site != FLEET_NO_SITE) {
        *site = f->sites[f->tasks[pos].site].name;
        *controller = f->sites[f->tasks[pos].site].controller;
    }
    return 0;
}

/* ---- Jobs. */

#define N_STATES (SCHED_TASK_UNKNOWN + 1)

json_t *fleet_jobs_json(const struct fleet *f)
{
    size_t(*counts)[N_STATES] = calloc(f->n_jobs + 1, sizeof(*counts));
    json_t *a = json_array();

    if (counts == NULL || a == NULL) {
        free(counts);
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < f->n_tasks; i++) {
        long j = f->tasks[i].stop ? -1 : fleet_job_pos(f, f->tasks[i].job);

        if (j >= 0) {
            counts[j][f->tasks[i].state]++;
        }
    }
    for (size_t i = 0; a != NULL && i < f->n_jobs; i++) {
        const struct job *j = f->jobs[i].spec;
        json_t *c = json_object(), *o;

        for (int s = 0; c != NULL && s < N_STATES; s++) {
            json_object_set_new(c, fleet_state_name((enum sched_task_state)s),
                                json_integer((json_int_t)counts[i][s]));
        }
        o = json_pack("{s:s,s:s,s:I,s:I,s:o?}", "id", j->id, "type",
                      job_type_name(j->type), "version", (json_int_t)j->version,
                      "count", (json_int_t)j->count, "tasks", c);
        if (o == NULL || json_array_append_new(a, o) < 0) {
            json_decref(a);
            a = NULL;
        }
    }
    free(counts);
    return a;
}

json_t *fleet_job_json(const struct fleet *f, const char *id)
{
    long pos = fleet_job_pos(f, id);

    if (pos < 0) {
        return NULL;
    }
    return json_pack("{s:o?,s:o?}", "job", job_to_json(f->jobs[pos].spec),
                     "tasks", tasks_array(f, id, -1));
}

/* ---- Sites. */

/* Whether a task holds its site's capacity (as the scheduler counts). */
static bool holds(const struct fleet_task *t)
{
    return t->site != FLEET_NO_SITE &&
           (t->state == SCHED_TASK_PLACED || t->state == SCHED_TASK_ASSIGNED ||
            t->state == SCHED_TASK_RUNNING || t->state == SCHED_TASK_UNKNOWN);
}

json_t *fleet_sites_json(const struct fleet *f,
                         int64_t (*heard)(void *arg, const char *site),
                         void *arg)
{
    uint64_t *use = calloc(f->n_sites * 3 + 1, sizeof(*use));
    json_t *a = json_array();

    if (use == NULL || a == NULL) {
        free(use);
        json_decref(a);
        return NULL;
    }
    for (size_t i = 0; i < f->n_tasks; i++) {
        const struct fleet_task *t = &f->tasks[i];
        long j = fleet_job_pos(f, t->job);

        if (t->site == FLEET_NO_SITE) {
            continue;
        }
        if (!t->stop && holds(t)) {
            use[t->site * 3 + 2]++; /* live tasks */
        }
        /* As the scheduler counts: a stopping task holds its room until
         * it has ended. */
        if (j >= 0 && holds(t)) {
            use[t->site * 3] += job_milli(f->jobs[j].spec);
            use[t->site * 3 + 1] += f->jobs[j].spec->memory_mb;
        }
    }
    for (size_t i = 0; a != NULL && i < f->n_sites; i++) {
        const struct fleet_site *s = &f->sites[i];
        int64_t ms = heard ? heard(arg, s->name) : -1;
        json_t *o = json_pack(
            "{s:s,s:o?,s:o?,s:I,s:o?,s:I,s:s,s:s,s:I,s:I,s:o}", "name", s->name,
            "labels", fleet_labels_json(s->labels, s->n_labels), "cpu",
            fleet_cpu_json(s->cpu_milli), "memory_mb", (json_int_t)s->memory_mb,
            "cpu_used", fleet_cpu_json(use[i * 3]), "memory_used_mb",
            (json_int_t)use[i * 3 + 1], "status",
            fleet_site_status_name(s->status), "controller", s->controller,
            "registered_index", (json_int_t)s->registered_index, "tasks",
            (json_int_t)use[i * 3 + 2], "last_heartbeat_ms",
            ms < 0 ? json_null() : json_integer(ms));

        if (o == NULL || json_array_append_new(a, o) < 0) {
            json_decref(a);
            a = NULL;
        }
    }
    free(use);
    return a;
}

json_t *fleet_assignments_json(const struct fleet *f, const char *site)
{
    long spos = fleet_site_pos(f, site);
    json_t *tasks, *jobs, *t;
    size_t i;

    if (spos < 0) {
        return NULL;
    }
    tasks = tasks_array(f, NULL, spos);
    jobs = json_object();
    if (tasks == NULL || jobs == NULL) {
        json_decref(tasks);
        json_decref(jobs);
        return NULL;
    }
    json_array_foreach(tasks, i, t)
    {
        const char *job = json_string_value(json_object_get(t, "job"));
        long j = fleet_job_pos(f, job);

        if (j >= 0 && json_object_get(jobs, job) == NULL) {
            json_object_set_new(jobs, job, job_to_json(f->jobs[j].spec));
        }
    }
    return json_pack("{s:s,s:I,s:o,s:o}", "site", site, "index",
                     (json_int_t)f->sites[spos].assign_index, "tasks", tasks,
                     "jobs", jobs);
}
