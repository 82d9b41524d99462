/* fleet_snap.c - the fleet in a snapshot: JSON text, and back.
 *
 * {"v": 1, "index", "jobs": [{"job", "changed_index"}], "sites": [...],
 *  "tasks": [...]}; sites in registration order, a task naming its site by
 * position (-1: none). Decoding checks what the apply relies on (names,
 * bounds, positions) and builds a new fleet before it replaces the old. */
#include "sm/fleet_int.h"

#include "util/err.h"

#include <stdlib.h>
#include <string.h>

#define SNAP_VERSION 1

static json_t *site_enc(const struct fleet_site *s)
{
    return json_pack(
        "{s:s,s:o?,s:I,s:I,s:s,s:i,s:I,s:I,s:I,s:I}", "name", s->name, "labels",
        fleet_labels_json(s->labels, s->n_labels), "cpu_milli",
        (json_int_t)s->cpu_milli, "memory_mb", (json_int_t)s->memory_mb,
        "controller", s->controller, "status", (int)s->status,
        "silent_since_ms", (json_int_t)s->silent_since_ms, "report_seq",
        (json_int_t)s->report_seq, "registered_index",
        (json_int_t)s->registered_index, "assign_index",
        (json_int_t)s->assign_index);
}

static json_t *task_enc(const struct fleet_task *t)
{
    return json_pack(
        "{s:s,s:I,s:I,s:i,s:b,s:I,s:I,s:s?,s:s?,s:I,s:I,s:I}", "job", t->job,
        "index", (json_int_t)t->index, "site",
        t->site == FLEET_NO_SITE ? (json_int_t)-1 : (json_int_t)t->site,
        "state", (int)t->state, "stop", t->stop, "replaces",
        (json_int_t)t->replaces, "job_version", (json_int_t)t->job_version,
        "agent", t->agent, "message", t->message, "pid", (json_int_t)t->pid,
        "exit_code", (json_int_t)t->exit_code, "restarts",
        (json_int_t)t->restarts);
}

int fleet_encode(const struct fleet *f, char **out, size_t *len)
{
    json_t *jobs = json_array(), *sites = json_array(), *tasks = json_array();
    json_t *o;
    int bad = !jobs || !sites || !tasks;

    for (size_t i = 0; !bad && i < f->n_jobs; i++) {
        bad = json_array_append_new(
            jobs,
            json_pack("{s:o?,s:I}", "job", job_to_json(f->jobs[i].spec),
                      "changed_index", (json_int_t)f->jobs[i].changed_index));
    }
    for (size_t i = 0; !bad && i < f->n_sites; i++) {
        bad = json_array_append_new(sites, site_enc(&f->sites[i]));
    }
    for (size_t i = 0; !bad && i < f->n_tasks; i++) {
        bad = json_array_append_new(tasks, task_enc(&f->tasks[i]));
    }
    if (bad) {
        json_decref(jobs);
        json_decref(sites);
        json_decref(tasks);
        return -1;
    }
    o = json_pack("{s:i,s:I,s:o,s:o,s:o}", "v", SNAP_VERSION, "index",
                  (json_int_t)f->index, "jobs", jobs, "sites", sites, "tasks",
                  tasks);
    *out = o ? json_dumps(o, JSON_COMPACT | JOB_JSON_REAL_FLAGS) : NULL;
    json_decref(o);
    if (*out == NULL) {
        return -1;
    }
    *len = strlen(*out);
    return 0;
}

/* ---- Decoding. */

static uint64_t u64(const json_t *o, const char *name)
{
    json_int_t v = json_integer_value(json_object_get(o, name));

    return v < 0 ? 0 : (uint64_t)v;
}

static int dec_jobs(struct fleet *f, const json_t *jobs, char *err,
                    size_t errlen)
{
    size_t i;
    json_t *j;

    json_array_foreach(jobs, i, j)
    {
        char *text = json_dumps(json_object_get(j, "job"),
                                JSON_COMPACT | JOB_JSON_REAL_FLAGS);
        struct job *job = NULL;
        char why[160];
        int rc =
            text ? job_parse_json(text, strlen(text), &job, why, sizeof(why))
                 : JOB_ERR_NO_MEMORY;

        free(text);
        if (rc != JOB_OK) {
            return err_fail(err, errlen, "fleet snapshot: job %zu: %s", i,
                            rc == JOB_ERR_NO_MEMORY ? "out of memory" : why);
        }
        if (fleet_job_pos(f, job->id) >= 0 ||
            (f->n_jobs > 0 &&
             strcmp(f->jobs[f->n_jobs - 1].spec->id, job->id) > 0)) {
            job_free(job);
            return err_fail(err, errlen,
                            "fleet snapshot: jobs out of order at %zu", i);
        }
        if (fleet_job_insert(f, job, u64(j, "changed_index")) < 0) {
            return err_fail(err, errlen, "out of memory");
        }
    }
    return 0;
}

static int dec_sites(struct fleet *f, const json_t *sites, char *err,
                     size_t errlen)
{
    size_t i;
    json_t *o;

    json_array_foreach(sites, i, o)
    {
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *ctl = json_string_value(json_object_get(o, "controller"));
        json_int_t st = json_integer_value(json_object_get(o, "status"));
        struct fleet_site *s;
        long pos;

        if (name == NULL || fleet_site_name_check(name, err, errlen) < 0 ||
            fleet_site_pos(f, name) >= 0 || st < 0 || st > SCHED_SITE_LOST ||
            u64(o, "cpu_milli") > SCHED_MAX_RESOURCE ||
            u64(o, "memory_mb") > SCHED_MAX_RESOURCE || i >= FLEET_MAX_SITES) {
            return err_fail(err, errlen, "fleet snapshot: bad site %zu", i);
        }
        if ((pos = fleet_site_add(f, name)) < 0) {
            return err_fail(err, errlen, "out of memory");
        }
        s = &f->sites[pos];
        if (fleet_labels_parse(json_object_get(o, "labels"), &s->labels,
                               &s->n_labels, err, errlen) < 0) {
            return -1;
        }
        s->cpu_milli = u64(o, "cpu_milli");
        s->memory_mb = u64(o, "memory_mb");
        snprintf(s->controller, sizeof(s->controller), "%s", ctl ? ctl : "");
        s->status = (enum sched_site_status)st;
        s->silent_since_ms = u64(o, "silent_since_ms");
        s->report_seq = u64(o, "report_seq");
        s->registered_index = u64(o, "registered_index");
        s->assign_index = u64(o, "assign_index");
    }
    return 0;
}

static char *opt_dup(const json_t *o, const char *name, bool *nomem)
{
    const char *s = json_string_value(json_object_get(o, name));
    char *d = s ? strdup(s) : NULL;

    if (s != NULL && d == NULL) {
        *nomem = true;
    }
    return d;
}

/* Whether a task in state ST may have SITE (-1: none) as the apply and
 * the scheduler expect: pending on none, on a site while it holds one. */
static bool task_site_fits(json_int_t st, json_int_t site)
{
    switch (st) {
    case SCHED_TASK_PENDING:
        return site < 0;
    case SCHED_TASK_PLACED:
    case SCHED_TASK_ASSIGNED:
    case SCHED_TASK_RUNNING:
    case SCHED_TASK_UNKNOWN:
        return site >= 0;
    }
    return true;
}

static int dec_tasks(struct fleet *f, const json_t *tasks, char *err,
                     size_t errlen)
{
    size_t i;
    json_t *o;

    json_array_foreach(tasks, i, o)
    {
        const char *job = json_string_value(json_object_get(o, "job"));
        json_int_t site = json_integer_value(json_object_get(o, "site"));
        json_int_t st = json_integer_value(json_object_get(o, "state"));
        json_int_t idx = json_integer_value(json_object_get(o, "index"));
        struct fleet_task t = {0};
        bool nomem = false;

        if (job == NULL || strlen(job) > JOB_MAX_ID || site < -1 ||
            site >= (json_int_t)f->n_sites || st < 0 ||
            st > SCHED_TASK_UNKNOWN || !task_site_fits(st, site) || idx < 0 ||
            idx >= UINT32_MAX || fleet_task_pos(f, job, (uint32_t)idx) >= 0 ||
            i >= FLEET_MAX_TASKS) {
            return err_fail(err, errlen, "fleet snapshot: bad task %zu", i);
        }
        t.job = strdup(job);
        t.agent = opt_dup(o, "agent", &nomem);
        t.message = opt_dup(o, "message", &nomem);
        t.index = (uint32_t)idx;
        t.site = site < 0 ? FLEET_NO_SITE : (uint32_t)site;
        t.state = (enum sched_task_state)st;
        t.stop = json_is_true(json_object_get(o, "stop"));
        t.replaces = json_integer_value(json_object_get(o, "replaces"));
        t.job_version = u64(o, "job_version");
        t.pid = json_integer_value(json_object_get(o, "pid"));
        t.exit_code = json_integer_value(json_object_get(o, "exit_code"));
        t.restarts = (uint32_t)u64(o, "restarts");
        if (t.job == NULL || nomem) {
            fleet_task_free(&t);
            return err_fail(err, errlen, "out of memory");
        }
        if (fleet_task_add(f, &t) < 0) {
            return err_fail(err, errlen, "out of memory");
        }
    }
    return 0;
}

int fleet_decode(struct fleet *f, const char *buf, size_t len, char *err,
                 size_t errlen)
{
    struct fleet fresh = {0};
    json_error_t je;
    json_t *o = json_loadb(buf, len, 0, &je);
    const json_t *jobs, *sites, *tasks;

    if (o == NULL) {
        return err_fail(err, errlen, "fleet snapshot is not JSON: %s", je.text);
    }
    jobs = json_object_get(o, "jobs");
    sites = json_object_get(o, "sites");
    tasks = json_object_get(o, "tasks");
    if (json_integer_value(json_object_get(o, "v")) != SNAP_VERSION ||
        !json_is_array(jobs) || !json_is_array(sites) ||
        !json_is_array(tasks) || json_array_size(jobs) > FLEET_MAX_JOBS) {
        json_decref(o);
        return err_fail(err, errlen,
                        "fleet snapshot: not version %d with jobs, sites and "
                        "tasks",
                        SNAP_VERSION);
    }
    if (dec_jobs(&fresh, jobs, err, errlen) < 0 ||
        dec_sites(&fresh, sites, err, errlen) < 0 ||
        dec_tasks(&fresh, tasks, err, errlen) < 0) {
        json_decref(o);
        fleet_clear(&fresh);
        return -1;
    }
    fresh.index = u64(o, "index");
    json_decref(o);
    fleet_clear(f);
    *f = fresh;
    return 0;
}
