/* ctl_state.c - check, keep and write back a site's assignments
 * (ctl_state.h). */
#include "controller/ctl_state.h"

#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_JSON_INT_MAX (1ll << 53) /* exact in every JSON reader */

bool ctl_id_ok(const char *s, size_t max)
{
    size_t n = strlen(s);

    if (n == 0 || n > max) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

        if (!alnum && (i == 0 || strchr("-_.", c) == NULL)) {
            return false;
        }
    }
    return true;
}

static bool ctl_state_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > CTL_STATE_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < 'a' || s[i] > 'z') {
            return false;
        }
    }
    return true;
}

int ctl_assign_init(struct ctl_assign *a)
{
    memset(a, 0, sizeof(*a));
    a->jobs = json_object();
    return a->jobs == NULL ? -1 : 0;
}

void ctl_assign_free(struct ctl_assign *a)
{
    free(a->tasks);
    json_decref(a->jobs);
    memset(a, 0, sizeof(*a));
}

/* OBJ.KEY as an integer 0..2^53 in *OUT. */
static int ctl_get_uint(const json_t *obj, const char *key, const char *at,
                        uint64_t *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > CTL_JSON_INT_MAX) {
        return err_fail(err, errlen, "%s%s: expected an integer 0..2^53", at,
                        key);
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* OBJ.KEY as a string that ID_MAX bytes hold and OK accepts, into BUF. */
static int ctl_get_name(const json_t *obj, const char *key, const char *at,
                        char *buf, size_t max, bool (*ok)(const char *),
                        char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);

    if (s == NULL || strlen(s) > max || !ok(s)) {
        return err_fail(err, errlen, "%s%s: %s", at, key,
                        s ? "not a valid name" : "expected a string");
    }
    memcpy(buf, s, strlen(s) + 1);
    return 0;
}

static bool ctl_task_id_ok(const char *s)
{
    return ctl_id_ok(s, CTL_TASK_ID_MAX);
}

static bool ctl_job_id_ok(const char *s)
{
    return ctl_id_ok(s, CTL_JOB_ID_MAX);
}

/* tasks[I] into *T. */
static int ctl_task_from_json(const json_t *v, size_t i, struct ctl_task *t,
                              char *err, size_t errlen)
{
    char at[32];
    const json_t *stop = json_object_get(v, "stop");

    snprintf(at, sizeof(at), "tasks[%zu].", i);
    if (!json_is_object(v)) {
        return err_fail(err, errlen, "tasks[%zu]: expected an object", i);
    }
    if (ctl_get_name(v, "id", at, t->id, CTL_TASK_ID_MAX, ctl_task_id_ok, err,
                     errlen) < 0 ||
        ctl_get_name(v, "job", at, t->job, CTL_JOB_ID_MAX, ctl_job_id_ok, err,
                     errlen) < 0 ||
        ctl_get_uint(v, "index", at, &t->index, err, errlen) < 0 ||
        ctl_get_uint(v, "job_version", at, &t->job_version, err, errlen) < 0 ||
        ctl_get_name(v, "state", at, t->state, CTL_STATE_MAX, ctl_state_name_ok,
                     err, errlen) < 0) {
        return -1;
    }
    if (!json_is_boolean(stop)) {
        return err_fail(err, errlen, "%sstop: expected true or false", at);
    }
    t->stop = json_is_true(stop);
    return 0;
}

static int ctl_task_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ctl_task *)a)->id,
                  ((const struct ctl_task *)b)->id);
}

/* DOC.tasks into OUT, sorted, ids unique. */
static int ctl_tasks_from_json(const json_t *doc, struct ctl_assign *out,
                               char *err, size_t errlen)
{
    const json_t *tasks = json_object_get(doc, "tasks");
    size_t n = json_array_size(tasks);

    if (!json_is_array(tasks) || n > CTL_ASSIGN_MAX_TASKS) {
        return err_fail(err, errlen, "tasks: expected an array of at most %d",
                        CTL_ASSIGN_MAX_TASKS);
    }
    out->tasks = calloc(n > 0 ? n : 1, sizeof(*out->tasks));
    if (out->tasks == NULL) {
        return err_fail(err, errlen, "tasks: out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        if (ctl_task_from_json(json_array_get(tasks, i), i, &out->tasks[i], err,
                               errlen) < 0) {
            return -1;
        }
    }
    out->n_tasks = n;
    qsort(out->tasks, n, sizeof(*out->tasks), ctl_task_cmp);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(out->tasks[i - 1].id, out->tasks[i].id) == 0) {
            return err_fail(err, errlen, "tasks: task %s is listed twice",
                            out->tasks[i].id);
        }
    }
    return 0;
}

/* DOC.jobs (absent: none) into OUT: an object of objects. */
static int ctl_jobs_from_json(const json_t *doc, struct ctl_assign *out,
                              char *err, size_t errlen)
{
    json_t *jobs = json_object_get(doc, "jobs");
    const char *key;
    json_t *v;

    if (jobs == NULL) {
        out->jobs = json_object();
        return out->jobs ? 0 : err_fail(err, errlen, "jobs: out of memory");
    }
    if (!json_is_object(jobs)) {
        return err_fail(err, errlen, "jobs: expected an object");
    }
    json_object_foreach(jobs, key, v)
    {
        if (!ctl_job_id_ok(key) || !json_is_object(v)) {
            return err_fail(err, errlen,
                            "jobs: expected {\"JOB\": {job}, ...}, got a bad "
                            "entry");
        }
    }
    out->jobs = json_incref(jobs);
    return 0;
}

int ctl_assign_from_json(const json_t *doc, const char *site,
                         struct ctl_assign *out, char *err, size_t errlen)
{
    const char *s = json_string_value(json_object_get(doc, "site"));

    memset(out, 0, sizeof(*out));
    if (!json_is_object(doc)) {
        return err_fail(err, errlen, "expected a JSON object");
    }
    if (s == NULL || strcmp(s, site) != 0) {
        return err_fail(err, errlen, "site: expected \"%s\"", site);
    }
    if (ctl_get_uint(doc, "index", "", &out->index, err, errlen) < 0 ||
        ctl_tasks_from_json(doc, out, err, errlen) < 0 ||
        ctl_jobs_from_json(doc, out, err, errlen) < 0) {
        ctl_assign_free(out);
        return -1;
    }
    return 0;
}

int ctl_assign_parse(const char *text, size_t len, const char *site,
                     struct ctl_assign *out, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    int rc;

    if (doc == NULL) {
        memset(out, 0, sizeof(*out));
        return err_fail(err, errlen, "invalid JSON at line %d, column %d: %s",
                        jerr.line, jerr.column, jerr.text);
    }
    rc = ctl_assign_from_json(doc, site, out, err, errlen);
    json_decref(doc);
    return rc;
}

static json_t *ctl_task_to_json(const struct ctl_task *t)
{
    return json_pack("{s:s,s:s,s:I,s:I,s:s,s:b}", "id", t->id, "job", t->job,
                     "index", (json_int_t)t->index, "job_version",
                     (json_int_t)t->job_version, "state", t->state, "stop",
                     t->stop);
}

json_t *ctl_assign_to_json(const struct ctl_assign *a, const char *site)
{
    json_t *tasks = json_array();
    json_t *jobs;

    for (size_t i = 0; tasks != NULL && i < a->n_tasks; i++) {
        if (json_array_append_new(tasks, ctl_task_to_json(&a->tasks[i])) < 0) {
            json_decref(tasks);
            tasks = NULL;
        }
    }
    if (tasks == NULL) {
        return NULL;
    }
    jobs = a->jobs ? json_incref(a->jobs) : json_object();
    return json_pack("{s:s,s:I,s:o,s:o}", "site", site, "index",
                     (json_int_t)a->index, "tasks", tasks, "jobs", jobs);
}

struct ctl_task *ctl_assign_find(const struct ctl_assign *a, const char *id)
{
    struct ctl_task key;

    if (a->n_tasks == 0 || strlen(id) > CTL_TASK_ID_MAX) {
        return NULL;
    }
    memcpy(key.id, id, strlen(id) + 1);
    return bsearch(&key, a->tasks, a->n_tasks, sizeof(*a->tasks), ctl_task_cmp);
}
