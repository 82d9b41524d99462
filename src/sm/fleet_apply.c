/* fleet_apply.c - applying a fleet entry: the same on every replica. */
#include "sm/fleet_int.h"

#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

__attribute__((format(printf, 3, 4))) static int
refuse(struct fleet_result *res, int status, const char *fmt, ...)
{
    va_list ap;

    res->status = status;
    va_start(ap, fmt);
    vsnprintf(res->error, sizeof(res->error), fmt, ap);
    va_end(ap);
    return 0;
}

static const char *str(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));

    return s ? s : "";
}

/* The assignments of the site at POS changed at INDEX. */
static void touch(struct fleet *f, uint32_t pos, uint64_t index)
{
    if (pos != FLEET_NO_SITE) {
        f->sites[pos].assign_index = index;
    }
}

/* ---- Jobs. */

static void touch_job_sites(struct fleet *f, const char *id, uint64_t index)
{
    for (size_t i = 0; i < f->n_tasks; i++) {
        if (strcmp(f->tasks[i].job, id) == 0) {
            touch(f, f->tasks[i].site, index);
        }
    }
}

/* The tasks job J wants: its count, or one per site for a system job. */
static uint64_t job_tasks(const struct fleet *f, const struct job *j)
{
    return j->type == JOB_SYSTEM ? f->n_sites : j->count;
}

/* The tasks every job but EXCEPT wants. */
static uint64_t wanted_tasks(const struct fleet *f, const char *except)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < f->n_jobs; i++) {
        if (strcmp(f->jobs[i].spec->id, except) != 0) {
            sum += job_tasks(f, f->jobs[i].spec);
        }
    }
    return sum;
}

static int apply_job_put(struct fleet *f, const json_t *o, uint64_t index,
                         struct fleet_result *res)
{
    char *text = json_dumps(json_object_get(o, "job"),
                            JSON_COMPACT | JOB_JSON_REAL_FLAGS);
    struct job *job = NULL;
    char err[160];
    long pos;
    int rc;

    if (text == NULL) {
        return -1;
    }
    rc = job_parse_json(text, strlen(text), &job, err, sizeof(err));
    free(text);
    if (rc == JOB_ERR_NO_MEMORY) {
        return -1;
    }
    if (rc != JOB_OK) {
        return refuse(res, 400, "job: %s", err);
    }
    pos = fleet_job_pos(f, job->id);
    if (wanted_tasks(f, job->id) + job_tasks(f, job) > FLEET_MAX_WANTED) {
        job_free(job);
        return refuse(res, 400,
                      "count: the jobs would want more than %d tasks in all",
                      FLEET_MAX_WANTED);
    }
    if (pos >= 0) {
        struct fleet_job *old = &f->jobs[pos];

        res->version = old->spec->version;
        if (job_spec_equal(old->spec, job)) {
            job_free(job);
            return 0;
        }
        job->version = old->spec->version + 1;
        job_free(old->spec);
        old->spec = job;
        old->changed_index = index;
    } else {
        if (f->n_jobs >= FLEET_MAX_JOBS) {
            job_free(job);
            return refuse(res, 400, "%s", "too many jobs: at most 10000");
        }
        job->version = 1;
        if (fleet_job_insert(f, job, index) < 0) {
            return -1;
        }
    }
    res->version = job->version;
    res->changed = true;
    f->index = index;
    touch_job_sites(f, job->id, index);
    return 0;
}

static int apply_job_stop(struct fleet *f, const json_t *o, uint64_t index,
                          struct fleet_result *res)
{
    const char *id = str(o, "id");
    long pos = fleet_job_pos(f, id);

    if (pos < 0) {
        return refuse(res, 404, "no job \"%.64s\"", id);
    }
    fleet_job_remove(f, (size_t)pos);
    /* From the last down: a removal moves the last task into the hole,
     * and that one has been visited already. */
    for (size_t i = f->n_tasks; i-- > 0;) {
        struct fleet_task *t = &f->tasks[i];

        if (strcmp(t->job, id) != 0) {
            continue;
        }
        if (t->site == FLEET_NO_SITE || t->state == SCHED_TASK_COMPLETE ||
            t->state == SCHED_TASK_FAILED || t->state == SCHED_TASK_LOST) {
            /* Pending or ended: nothing runs it, nobody will report it. */
            touch(f, t->site, index);
            fleet_task_remove(f, i);
        } else {
            t->stop = true;
            touch(f, t->site, index);
        }
    }
    f->index = index;
    return 0;
}

/* ---- Sites. */

static int apply_register(struct fleet *f, const json_t *o, uint64_t index,
                          struct fleet_result *res)
{
    const char *name = str(o, "site");
    json_int_t cpu = json_integer_value(json_object_get(o, "cpu_milli"));
    json_int_t mem = json_integer_value(json_object_get(o, "memory_mb"));
    struct job_pair *labels;
    struct fleet_site *s;
    size_t nl;
    char err[160];
    long pos;

    /* The scheduler refuses a whole fleet with a capacity beyond its
     * bound, so one bad site must not get in. */
    if (cpu < 0 || (uint64_t)cpu > SCHED_MAX_RESOURCE || mem < 0 ||
        (uint64_t)mem > SCHED_MAX_RESOURCE) {
        return refuse(res, 400, "%s", "register: capacity out of bounds");
    }
    if (fleet_site_name_check(name, err, sizeof(err)) < 0 ||
        fleet_labels_parse(json_object_get(o, "labels"), &labels, &nl, err,
                           sizeof(err)) < 0) {
        return refuse(res, 400, "register: %s", err);
    }
    pos = fleet_site_pos(f, name);
    if (pos < 0) {
        if (f->n_sites >= FLEET_MAX_SITES) {
            fleet_labels_free(labels, nl);
            return refuse(res, 400, "%s", "too many sites: at most 1024");
        }
        pos = fleet_site_add(f, name);
        if (pos < 0) {
            fleet_labels_free(labels, nl);
            return -1;
        }
        f->sites[pos].registered_index = index;
    }
    s = &f->sites[pos];
    fleet_labels_free(s->labels, s->n_labels);
    s->labels = labels;
    s->n_labels = nl;
    s->cpu_milli = (uint64_t)cpu;
    s->memory_mb = (uint64_t)mem;
    snprintf(s->controller, sizeof(s->controller), "%s", str(o, "controller"));
    s->status = SCHED_SITE_CONNECTED;
    s->silent_since_ms = 0;
    res->report_seq = s->report_seq;
    f->index = index;
    return 0;
}

static int apply_site_status(struct fleet *f, const json_t *o, uint64_t index,
                             struct fleet_result *res)
{
    const char *name = str(o, "site"), *st = str(o, "status");
    long pos = fleet_site_pos(f, name);
    struct fleet_site *s;

    if (pos < 0) {
        return refuse(res, 404, "no site \"%.64s\"", name);
    }
    s = &f->sites[pos];
    if (strcmp(st, "silent") == 0) {
        if (s->status != SCHED_SITE_SILENT) {
            s->status = SCHED_SITE_SILENT;
            s->silent_since_ms =
                (uint64_t)json_integer_value(json_object_get(o, "at_ms"));
            f->index = index;
        }
    } else if (strcmp(st, "connected") == 0) {
        if (s->status != SCHED_SITE_CONNECTED) {
            s->status = SCHED_SITE_CONNECTED;
            s->silent_since_ms = 0;
            f->index = index;
        }
    } else {
        return refuse(res, 400, "site status \"%.16s\" is unknown", st);
    }
    return 0;
}

/* ---- The scheduler's changes. */

static int kind_parse(const char *name)
{
    for (int k = SCHED_PLACE; k <= SCHED_STOP; k++) {
        if (strcmp(sched_change_kind_str((enum sched_change_kind)k), name) ==
            0) {
            return k;
        }
    }
    return -1;
}

/* The position of a connected site NAME, or -1. */
static long connected_site(const struct fleet *f, const char *name)
{
    long pos = fleet_site_pos(f, name);

    return pos >= 0 && f->sites[pos].status == SCHED_SITE_CONNECTED ? pos : -1;
}

/* Create the task a change names. Returns 1 done, 0 no longer fits, -1
 * out of memory. */
static int change_create(struct fleet *f, int kind, const json_t *c,
                         const char *job, uint32_t index)
{
    long jpos = fleet_job_pos(f, job), spos = -1;
    const json_t *rep = json_object_get(c, "replaces");
    struct fleet_task t = {0};

    if (jpos < 0 || fleet_task_pos(f, job, index) >= 0 ||
        f->n_tasks >= FLEET_MAX_TASKS) {
        return 0;
    }
    if (kind != SCHED_PENDING &&
        (spos = connected_site(f, str(c, "site"))) < 0) {
        return 0;
    }
    if (kind == SCHED_MOVE) {
        long r = json_is_integer(rep)
                     ? fleet_task_pos(f, job, (uint32_t)json_integer_value(rep))
                     : -1;

        if (r < 0 || f->tasks[r].state != SCHED_TASK_UNKNOWN) {
            return 0;
        }
    }
    t.job = strdup(job);
    if (t.job == NULL) {
        return -1;
    }
    t.index = index;
    t.site = spos < 0 ? FLEET_NO_SITE : (uint32_t)spos;
    t.state = spos < 0 ? SCHED_TASK_PENDING : SCHED_TASK_PLACED;
    t.replaces = json_is_integer(rep) ? json_integer_value(rep) : FLEET_NONE;
    t.job_version = f->jobs[jpos].spec->version;
    t.pid = t.exit_code = FLEET_NONE;
    return fleet_task_add(f, &t) < 0 ? -1 : 1;
}

/* Apply a change to an existing task at POS. Returns 1 done, 0 no longer
 * fits. */
static int change_task(struct fleet *f, int kind, const json_t *c, size_t pos,
                       uint64_t index)
{
    struct fleet_task *t = &f->tasks[pos];
    long spos;

    switch (kind) {
    case SCHED_PLACE:
        spos = connected_site(f, str(c, "site"));
        if (t->site != FLEET_NO_SITE || t->stop || spos < 0 ||
            fleet_job_pos(f, t->job) < 0) {
            return 0;
        }
        t->site = (uint32_t)spos;
        t->state = SCHED_TASK_PLACED;
        t->job_version = f->jobs[fleet_job_pos(f, t->job)].spec->version;
        break;
    case SCHED_UNKNOWN:
        if (t->site == FLEET_NO_SITE ||
            f->sites[t->site].status != SCHED_SITE_SILENT ||
            (t->state != SCHED_TASK_PLACED && t->state != SCHED_TASK_ASSIGNED &&
             t->state != SCHED_TASK_RUNNING)) {
            return 0;
        }
        t->state = SCHED_TASK_UNKNOWN;
        break;
    case SCHED_RUNNING:
        if (t->state != SCHED_TASK_UNKNOWN ||
            f->sites[t->site].status != SCHED_SITE_CONNECTED) {
            return 0;
        }
        t->state = SCHED_TASK_RUNNING;
        break;
    case SCHED_LOST:
        if (t->state == SCHED_TASK_COMPLETE || t->state == SCHED_TASK_LOST) {
            return 0;
        }
        t->state = SCHED_TASK_LOST;
        break;
    case SCHED_STOP:
        if (t->stop) {
            return 0;
        }
        if (t->site == FLEET_NO_SITE) {
            fleet_task_remove(f, pos);
            return 1;
        }
        t->stop = true;
        break;
    default:
        return 0;
    }
    touch(f, t->site, index);
    return 1;
}

static int apply_change(struct fleet *f, const json_t *c, uint64_t index)
{
    int kind = kind_parse(str(c, "kind"));
    const char *job = str(c, "job");
    const json_t *idx = json_object_get(c, "index");
    uint32_t i;
    long pos;
    int rc;

    /* UINT32_MAX is no task: the scheduler refuses such an index. */
    if (kind < 0 || !json_is_integer(idx) || json_integer_value(idx) < 0 ||
        json_integer_value(idx) >= UINT32_MAX) {
        return 0;
    }
    i = (uint32_t)json_integer_value(idx);
    if (json_is_true(json_object_get(c, "created"))) {
        rc = change_create(f, kind, c, job, i);
        if (rc > 0) {
            touch(f, f->tasks[f->n_tasks - 1].site, index);
        }
        return rc;
    }
    pos = fleet_task_pos(f, job, i);
    return pos < 0 ? 0 : change_task(f, kind, c, (size_t)pos, index);
}

static int apply_sched(struct fleet *f, const json_t *o, uint64_t index,
                       struct fleet_result *res)
{
    const json_t *changes = json_object_get(o, "changes");
    size_t i;
    json_t *c;

    json_array_foreach(changes, i, c)
    {
        int rc = apply_change(f, c, index);

        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            res->done++;
            f->index = index;
        } else {
            if (res->skipped++ == 0) {
                res->first_why = sched_change_kind_str(
                    (enum sched_change_kind)kind_parse(str(c, "kind")));
            }
        }
    }
    return 0;
}

/* ---- Reports. */

/* Keep at most FLEET_MAX_ENDED ended records of JOB: failed, lost, and
 * complete unless the job is a batch job (whose complete tasks count
 * toward its count); drop the oldest (lowest index). */
static void trim_ended(struct fleet *f, const char *job)
{
    long jpos = fleet_job_pos(f, job);
    bool batch = jpos >= 0 && f->jobs[jpos].spec->type == JOB_BATCH;

    for (;;) {
        size_t n = 0, oldest = 0;

        for (size_t i = 0; i < f->n_tasks; i++) {
            const struct fleet_task *t = &f->tasks[i];

            if ((t->state == SCHED_TASK_FAILED || t->state == SCHED_TASK_LOST ||
                 (t->state == SCHED_TASK_COMPLETE && !batch)) &&
                strcmp(t->job, job) == 0) {
                if (n++ == 0 || t->index < f->tasks[oldest].index) {
                    oldest = i;
                }
            }
        }
        if (n <= FLEET_MAX_ENDED) {
            return;
        }
        fleet_task_remove(f, oldest);
    }
}

static int set_str(char **dst, const json_t *v)
{
    char *s = NULL;

    if (!json_is_string(v)) {
        return 0;
    }
    s = strdup(json_string_value(v));
    if (s == NULL) {
        return -1;
    }
    free(*dst);
    *dst = s;
    return 0;
}

/* Apply one reported task of the site at SPOS. Returns 1 when a record
 * was removed, 0 otherwise, -1 out of memory. */
static int report_task(struct fleet *f, uint32_t spos, const json_t *r)
{
    char job[JOB_MAX_ID + 1], err[80];
    const json_t *v;
    struct fleet_task *t;
    uint32_t index;
    long pos;
    int st;

    if (fleet_report_task_check(r, err, sizeof(err)) < 0 ||
        fleet_task_id_parse(str(r, "id"), job, &index) < 0) {
        return 0;
    }
    pos = fleet_task_pos(f, job, index);
    if (pos < 0 || f->tasks[pos].site != spos) {
        return 0;
    }
    t = &f->tasks[pos];
    st = fleet_report_state_parse(str(r, "state"));
    if (st == FLEET_REPORT_STOPPED ||
        (t->stop && (st == SCHED_TASK_COMPLETE || st == SCHED_TASK_FAILED ||
                     st == SCHED_TASK_LOST))) {
        fleet_task_remove(f, (size_t)pos);
        return 1;
    }
    t->state = (enum sched_task_state)st;
    if (set_str(&t->agent, json_object_get(r, "agent")) < 0 ||
        set_str(&t->message, json_object_get(r, "message")) < 0) {
        return -1;
    }
    /* A field given as null clears what was known (a moved task has no
     * pid until it runs again); a field left out keeps it. */
    if ((v = json_object_get(r, "pid")) != NULL) {
        t->pid = json_is_integer(v) ? json_integer_value(v) : FLEET_NONE;
    }
    if ((v = json_object_get(r, "exit_code")) != NULL) {
        t->exit_code = json_is_integer(v) ? json_integer_value(v) : FLEET_NONE;
    }
    if (json_is_null(json_object_get(r, "agent"))) {
        free(t->agent);
        t->agent = NULL;
    }
    if (json_is_null(json_object_get(r, "message"))) {
        free(t->message);
        t->message = NULL;
    }
    if (json_is_integer(v = json_object_get(r, "restarts"))) {
        t->restarts = (uint32_t)json_integer_value(v);
    }
    if (st == SCHED_TASK_FAILED || st == SCHED_TASK_LOST ||
        st == SCHED_TASK_COMPLETE) {
        trim_ended(f, job);
        return 1;
    }
    return 0;
}

static int apply_report(struct fleet *f, const json_t *o, uint64_t index,
                        struct fleet_result *res)
{
    const char *name = str(o, "site");
    long spos = fleet_site_pos(f, name);
    json_int_t seq = json_integer_value(json_object_get(o, "seq"));
    const json_t *r;
    size_t i;

    if (seq <= 0) {
        return refuse(res, 400, "report: seq must be from 1, got %lld",
                      (long long)seq);
    }
    if (spos < 0) {
        return refuse(res, 404, "no site \"%.64s\"", name);
    }
    if ((uint64_t)seq <= f->sites[spos].report_seq) {
        res->report_seq = f->sites[spos].report_seq;
        return 0;
    }
    json_array_foreach(json_object_get(o, "tasks"), i, r)
    {
        int rc = report_task(f, (uint32_t)spos, r);

        if (rc < 0) {
            return -1;
        }
        if (rc > 0) {
            touch(f, (uint32_t)spos, index);
        }
    }
    f->sites[spos].report_seq = (uint64_t)seq;
    res->report_seq = (uint64_t)seq;
    res->applied = true;
    f->index = index;
    return 0;
}

/* ---- Dispatch. */

/* A field an entry must carry, and its JSON type. */
struct field {
    const char *name;
    json_type type;
};

#define OP_FIELDS 4

/* Whether O carries every one of FIELDS (up to a NULL name) with its type;
 * else refuse it. The handlers rely on this. */
static bool has_fields(const json_t *o, const struct field *fields,
                       struct fleet_result *res)
{
    for (size_t i = 0; i < OP_FIELDS && fields[i].name != NULL; i++) {
        const json_t *v = json_object_get(o, fields[i].name);

        if (v == NULL || json_typeof(v) != fields[i].type) {
            refuse(res, 400, "%s: \"%s\" missing or of the wrong type", res->op,
                   fields[i].name);
            return false;
        }
    }
    return true;
}

int fleet_apply(struct fleet *f, const void *data, size_t len, uint64_t index,
                struct fleet_result *res)
{
    static const struct {
        const char *op;
        int (*fn)(struct fleet *, const json_t *, uint64_t,
                  struct fleet_result *);
        struct field fields[OP_FIELDS];
    } ops[] = {
        {"job_put", apply_job_put, {{"job", JSON_OBJECT}}},
        {"job_stop", apply_job_stop, {{"id", JSON_STRING}}},
        {"site_register",
         apply_register,
         {{"site", JSON_STRING},
          {"cpu_milli", JSON_INTEGER},
          {"memory_mb", JSON_INTEGER},
          {"controller", JSON_STRING}}},
        {"site_status",
         apply_site_status,
         {{"site", JSON_STRING},
          {"status", JSON_STRING},
          {"at_ms", JSON_INTEGER}}},
        {"sched", apply_sched, {{"changes", JSON_ARRAY}}},
        {"report",
         apply_report,
         {{"site", JSON_STRING}, {"seq", JSON_INTEGER}, {"tasks", JSON_ARRAY}}},
    };
    json_error_t je;
    json_t *o;
    const char *op;
    int rc = 0;
    size_t i;

    memset(res, 0, sizeof(*res));
    res->op = "";
    res->status = 200;
    if (!fleet_is_entry(data, len)) {
        return refuse(res, 400, "%s", "not a fleet entry");
    }
    o = json_loadb((const char *)data + 1, len - 1, 0, &je);
    if (o == NULL) {
        return refuse(res, 400, "fleet entry is not JSON: %s", je.text);
    }
    op = str(o, "op");
    for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
        if (strcmp(ops[i].op, op) == 0) {
            res->op = ops[i].op;
            if (has_fields(o, ops[i].fields, res)) {
                rc = ops[i].fn(f, o, index, res);
            }
            break;
        }
    }
    if (i == sizeof(ops) / sizeof(ops[0])) {
        refuse(res, 400, "unknown fleet op \"%.32s\"", op);
    }
    json_decref(o);
    return rc;
}
