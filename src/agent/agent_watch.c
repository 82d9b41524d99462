/* agent_watch.c - parse a tasks watch answer; decide per task
 * (agent_watch.h). */
#include "agent/agent_watch.h"

#include "util/err.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WATCH_MAX_INT (1ll << 53)

/* A site name: 1..64 of letters, digits, '-', '_', '.', starting with a
 * letter or digit (docs/jobs.md). */
static bool site_ok(const char *s)
{
    size_t n = strlen(s);

    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9');

        if (!alnum && (i == 0 || strchr("-_.", c) == NULL)) {
            return false;
        }
    }
    return n > 0 && n <= AGENT_SITE_MAX;
}

/* An optional site at O.site into OUT (kept when absent). */
static int watch_site(const json_t *o, char *out, const char *where, char *err,
                      size_t errlen)
{
    const json_t *v = json_object_get(o, "site");

    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_string(v) || !site_ok(json_string_value(v))) {
        return err_fail(err, errlen, "%ssite: expected a site name", where);
    }
    snprintf(out, AGENT_SITE_MAX + 1, "%s", json_string_value(v));
    return 0;
}

/* Parse the job object J into W's spec, or note why it is refused. */
static void watch_spec(const json_t *j, struct agent_want *w)
{
    char why[300];
    char *text = json_dumps(j, JSON_COMPACT | JSON_REAL_PRECISION(17));

    if (text == NULL) {
        snprintf(w->refused, sizeof(w->refused), "job: out of memory");
        return;
    }
    if (job_parse_json(text, strlen(text), &w->spec, why, sizeof(why)) !=
        JOB_OK) {
        snprintf(w->refused, sizeof(w->refused), "job refused: %.230s", why);
        w->spec = NULL;
    }
    free(text);
}

/* The job of task T (in W): an object, or an id into JOBS. */
static int watch_job(const json_t *t, const json_t *jobs, struct agent_want *w,
                     const char *where, char *err, size_t errlen)
{
    const json_t *job = json_object_get(t, "job");
    const char *name = json_string_value(job);

    if (job == NULL || json_is_null(job)) {
        return w->stop ? 0
                       : err_fail(err, errlen,
                                  "%sjob: missing (needed unless stop is "
                                  "true)",
                                  where);
    }
    if (name != NULL) {
        snprintf(w->job, sizeof(w->job), "%.64s", name);
        job = json_object_get(jobs, name);
        if (job == NULL) {
            snprintf(w->refused, sizeof(w->refused),
                     "job \"%.64s\" is not among the answer's jobs", name);
            return 0;
        }
    }
    if (!json_is_object(job)) {
        return err_fail(err, errlen, "%sjob: expected a job or a job id",
                        where);
    }
    watch_spec(job, w);
    if (w->spec != NULL) {
        snprintf(w->job, sizeof(w->job), "%s", w->spec->id);
    }
    return 0;
}

static int watch_task(const json_t *t, const json_t *jobs, const char *site,
                      size_t i, struct agent_want *w, char *err, size_t errlen)
{
    const json_t *id = json_object_get(t, "id");
    const json_t *stop = json_object_get(t, "stop");
    const json_t *ver = json_object_get(t, "job_version");
    char where[48];

    snprintf(where, sizeof(where), "tasks[%zu].", i);
    if (!json_is_object(t)) {
        return err_fail(err, errlen, "tasks[%zu]: expected an object", i);
    }
    if (!json_is_string(id) || !agent_task_id_ok(json_string_value(id))) {
        return err_fail(err, errlen,
                        "%sid: expected a task id (1..128 of a-z, 0-9, '-', "
                        "'_', '.')",
                        where);
    }
    snprintf(w->id, sizeof(w->id), "%s", json_string_value(id));
    if (stop != NULL && !json_is_boolean(stop)) {
        return err_fail(err, errlen, "%sstop: expected true or false", where);
    }
    w->stop = json_is_true(stop);
    snprintf(w->site, sizeof(w->site), "%s", site);
    if (watch_site(t, w->site, where, err, errlen) < 0 ||
        watch_job(t, jobs, w, where, err, errlen) < 0) {
        return -1;
    }
    if (ver != NULL && (!json_is_integer(ver) || json_integer_value(ver) < 0 ||
                        json_integer_value(ver) > WATCH_MAX_INT)) {
        return err_fail(err, errlen, "%sjob_version: expected an integer",
                        where);
    }
    w->job_version = ver       ? (uint64_t)json_integer_value(ver)
                     : w->spec ? w->spec->version
                               : 0;
    return 0;
}

static int cmp_want(const void *a, const void *b)
{
    return strcmp(((const struct agent_want *)a)->id,
                  ((const struct agent_want *)b)->id);
}

static int watch_header(const json_t *doc, const char *name,
                        struct agent_wanted *out, char *site, char *err,
                        size_t errlen)
{
    const json_t *agent = json_object_get(doc, "agent");
    const json_t *index = json_object_get(doc, "index");
    const json_t *jobs = json_object_get(doc, "jobs");

    if (!json_is_object(doc)) {
        return err_fail(err, errlen, "expected a JSON object");
    }
    if (agent != NULL && (!json_is_string(agent) ||
                          strcmp(json_string_value(agent), name) != 0)) {
        return err_fail(err, errlen, "agent: the answer is for another agent");
    }
    if (!json_is_integer(index) || json_integer_value(index) < 0 ||
        json_integer_value(index) > WATCH_MAX_INT) {
        return err_fail(err, errlen, "index: expected an integer");
    }
    if (jobs != NULL && !json_is_object(jobs)) {
        return err_fail(err, errlen, "jobs: expected an object");
    }
    out->index = (uint64_t)json_integer_value(index);
    return watch_site(doc, site, "", err, errlen);
}

int agent_watch_parse(const char *body, size_t len, const char *name,
                      struct agent_wanted *out, char *err, size_t errlen)
{
    char site[AGENT_SITE_MAX + 1] = "";
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, 0, &jerr);
    const json_t *tasks = json_object_get(doc, "tasks");
    size_t n = json_array_size(tasks);
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (doc == NULL) {
        return err_fail(err, errlen, "bad JSON at line %d, column %d: %s",
                        jerr.line, jerr.column, jerr.text);
    }
    if (watch_header(doc, name, out, site, err, errlen) < 0) {
        goto done;
    }
    if (!json_is_array(tasks) || n > AGENT_MAX_TASKS) {
        err_fail(err, errlen, "tasks: expected an array of at most %d tasks",
                 AGENT_MAX_TASKS);
        goto done;
    }
    out->tasks = calloc(n ? n : 1, sizeof(*out->tasks));
    if (out->tasks == NULL) {
        err_fail(err, errlen, "out of memory");
        goto done;
    }
    for (out->n = 0; out->n < n; out->n++) {
        if (watch_task(json_array_get(tasks, out->n),
                       json_object_get(doc, "jobs"), site, out->n,
                       &out->tasks[out->n], err, errlen) < 0) {
            out->n++; /* free its spec too */
            goto done;
        }
    }
    qsort(out->tasks, n, sizeof(*out->tasks), cmp_want);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(out->tasks[i - 1].id, out->tasks[i].id) == 0) {
            err_fail(err, errlen, "tasks: \"%s\" is given twice",
                     out->tasks[i].id);
            goto done;
        }
    }
    rc = 0;
done:
    json_decref(doc);
    if (rc < 0) {
        agent_wanted_free(out);
    }
    return rc;
}

struct agent_want *agent_wanted_find(const struct agent_wanted *w,
                                     const char *id)
{
    struct agent_want key;

    if (w->n == 0) {
        return NULL;
    }
    snprintf(key.id, sizeof(key.id), "%s", id);
    return bsearch(&key, w->tasks, w->n, sizeof(*w->tasks), cmp_want);
}

void agent_wanted_free(struct agent_wanted *w)
{
    for (size_t i = 0; i < w->n; i++) {
        job_free(w->tasks[i].spec);
    }
    free(w->tasks);
    memset(w, 0, sizeof(*w));
}

/* Wanted running (W not a stop): what T needs. */
static enum agent_action want_running(const struct agent_task *t,
                                      const struct agent_want *w)
{
    if (w->spec == NULL) {
        /* A refused job: run nothing new; note it once on a known task. */
        return w->job_version > t->job_version &&
                       strcmp(t->message, w->refused) != 0
                   ? AGENT_ACT_REFUSE
                   : AGENT_ACT_KEEP;
    }
    if (w->job_version > t->job_version || t->after == AGENT_AFTER_FORGET ||
        t->state == AGENT_TASK_STOPPED ||
        (t->state == AGENT_TASK_STOPPING && t->after == AGENT_AFTER_NOTHING)) {
        return AGENT_ACT_REPLACE;
    }
    return AGENT_ACT_KEEP;
}

enum agent_action agent_watch_action(const struct agent_task *t,
                                     const struct agent_want *w)
{
    if (t == NULL) {
        if (w == NULL || w->stop) {
            return AGENT_ACT_KEEP;
        }
        return w->spec ? AGENT_ACT_START : AGENT_ACT_REFUSE;
    }
    if (w == NULL) {
        return t->after == AGENT_AFTER_FORGET ? AGENT_ACT_KEEP : AGENT_ACT_DROP;
    }
    if (w->stop) {
        bool settled = t->after == AGENT_AFTER_NOTHING &&
                       (t->state == AGENT_TASK_STOPPING || agent_task_ended(t));

        return settled ? AGENT_ACT_KEEP : AGENT_ACT_STOP;
    }
    return want_running(t, w);
}

const char *agent_action_name(enum agent_action a)
{
    static const char *const names[] = {"keep", "start",   "stop",
                                        "drop", "replace", "refuse"};

    return (unsigned)a < sizeof(names) / sizeof(names[0]) ? names[a] : "?";
}
