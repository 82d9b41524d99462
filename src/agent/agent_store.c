/* agent_store.c - agent.json: encode, decode, save, load (agent_store.h). */
#include "agent/agent_store.h"

#include "storage/datadir.h"
#include "util/err.h"

#include <jansson.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STORE_FORMAT 1
#define STORE_MAX_INT (1ll << 53)

static const char *const after_names[] = {"nothing", "start", "forget"};

/* ------------------------------------------------------------------------
 * Encoding.
 */

/* The job SPEC as JSON, or null. */
static json_t *store_spec(const struct job *spec)
{
    return spec ? job_to_json(spec) : json_null();
}

static json_t *store_recent(const struct agent_policy *p)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < p->n; i++) {
        json_array_append_new(a, json_integer((json_int_t)p->times[i]));
    }
    return a;
}

static json_t *store_task(const struct agent_task *t)
{
    return json_pack(
        "{s:s,s:s,s:s,s:I,s:s,s:i,s:I,s:I,s:I,s:o*,s:o,s:i,s:s,s:I,s:s,"
        "s:o*,s:o*,s:I}",
        "id", t->id, "job", t->job, "site", t->site, "job_version",
        (json_int_t)t->job_version, "state", agent_task_state_name(t->state),
        "pid", t->pid, "start_time", (json_int_t)t->start_time, "started_ms",
        (json_int_t)t->started_ms, "restarts", (json_int_t)t->restarts,
        "recent_restarts", store_recent(&t->policy), "exit_code",
        t->has_exit ? json_integer(t->exit_code) : json_null(), "exit_signal",
        t->exit_signal, "message", t->message, "log_start",
        (json_int_t)t->log_start, "after", after_names[t->after], "spec",
        store_spec(t->spec), "next_spec", store_spec(t->next_spec),
        "next_version", (json_int_t)t->next_version);
}

char *agent_store_encode(const char *agent, const char *boot_id,
                         const struct agent_task *const *tasks, size_t n,
                         size_t *len)
{
    json_t *arr = json_array();
    json_t *doc;
    char *text;

    for (size_t i = 0; arr != NULL && i < n; i++) {
        json_t *t = store_task(tasks[i]);

        if (t == NULL || json_array_append_new(arr, t) < 0) {
            json_decref(arr);
            return NULL;
        }
    }
    doc = json_pack("{s:i,s:s,s:s,s:o*}", "format", STORE_FORMAT, "agent",
                    agent, "boot_id", boot_id, "tasks", arr);
    if (doc == NULL) {
        return NULL;
    }
    text = json_dumps(doc, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
    json_decref(doc);
    if (text != NULL) {
        *len = strlen(text);
    }
    return text;
}

/* ------------------------------------------------------------------------
 * Decoding: every field checked, errors naming it.
 */

struct store_ctx {
    char *err;
    size_t errlen;
    char where[48]; /* "tasks[3]" */
};

static int store_fail(struct store_ctx *c, const char *field, const char *why)
{
    return err_fail(c->err, c->errlen, "%s%s%s: %s", c->where,
                    c->where[0] ? "." : "", field, why);
}

static int get_uint(struct store_ctx *c, const json_t *o, const char *field,
                    uint64_t max, uint64_t *out)
{
    const json_t *v = json_object_get(o, field);

    if (!json_is_integer(v)) {
        return store_fail(c, field, v ? "expected an integer" : "missing");
    }
    if (json_integer_value(v) < 0 || (uint64_t)json_integer_value(v) > max) {
        return store_fail(c, field, "out of bounds");
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int get_str(struct store_ctx *c, const json_t *o, const char *field,
                   char *out, size_t size)
{
    const json_t *v = json_object_get(o, field);

    if (!json_is_string(v)) {
        return store_fail(c, field, v ? "expected a string" : "missing");
    }
    if (json_string_length(v) >= size) {
        return store_fail(c, field, "too long");
    }
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return 0;
}

/* A job at FIELD (null: *OUT NULL), through the strict job parser. */
static int get_spec(struct store_ctx *c, const json_t *o, const char *field,
                    struct job **out)
{
    const json_t *v = json_object_get(o, field);
    char why[300];
    char *text;
    int rc;

    *out = NULL;
    if (json_is_null(v)) {
        return 0;
    }
    if (!json_is_object(v)) {
        return store_fail(c, field, "expected a job or null");
    }
    text = json_dumps(v, JSON_COMPACT | JSON_REAL_PRECISION(17));
    if (text == NULL) {
        return store_fail(c, field, "out of memory");
    }
    rc = job_parse_json(text, strlen(text), out, why, sizeof(why));
    free(text);
    return rc == JOB_OK ? 0 : store_fail(c, field, why);
}

static int get_recent(struct store_ctx *c, const json_t *o,
                      struct agent_policy *p)
{
    const json_t *a = json_object_get(o, "recent_restarts");
    uint64_t times[JOB_MAX_ATTEMPTS];
    size_t n = json_array_size(a);

    if (!json_is_array(a) || n > JOB_MAX_ATTEMPTS) {
        return store_fail(c, "recent_restarts",
                          "expected an array of at most 1000 times");
    }
    for (size_t i = 0; i < n; i++) {
        const json_t *v = json_array_get(a, i);

        if (!json_is_integer(v) || json_integer_value(v) < 0) {
            return store_fail(c, "recent_restarts", "expected times in ms");
        }
        times[i] = (uint64_t)json_integer_value(v);
    }
    if (agent_policy_load(p, times, n) < 0) {
        return store_fail(c, "recent_restarts", "out of memory");
    }
    return 0;
}

static int get_exit(struct store_ctx *c, const json_t *o, struct agent_task *t)
{
    const json_t *v = json_object_get(o, "exit_code");
    uint64_t sig;

    if (json_is_null(v)) {
        t->has_exit = false;
    } else if (json_is_integer(v) && json_integer_value(v) >= 0 &&
               json_integer_value(v) <= 255) {
        t->has_exit = true;
        t->exit_code = (int)json_integer_value(v);
    } else {
        return store_fail(c, "exit_code", "expected 0..255 or null");
    }
    if (get_uint(c, o, "exit_signal", 64, &sig) < 0) {
        return -1;
    }
    t->exit_signal = (int)sig;
    return 0;
}

static int get_after(struct store_ctx *c, const json_t *o, struct agent_task *t)
{
    char after[16];

    if (get_str(c, o, "after", after, sizeof(after)) < 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(after_names) / sizeof(after_names[0]); i++) {
        if (strcmp(after, after_names[i]) == 0) {
            t->after = (enum agent_task_after)i;
            return 0;
        }
    }
    return store_fail(c, "after", "expected nothing, start or forget");
}

static int get_state(struct store_ctx *c, const json_t *o, struct agent_task *t)
{
    char name[32];
    uint64_t pid, start_time;

    if (get_str(c, o, "state", name, sizeof(name)) < 0 ||
        get_after(c, o, t) < 0 || get_uint(c, o, "pid", INT_MAX, &pid) < 0 ||
        get_uint(c, o, "start_time", STORE_MAX_INT, &start_time) < 0) {
        return -1;
    }
    if (agent_task_state_parse(name, &t->state) < 0) {
        return store_fail(c, "state", "unknown state");
    }
    t->pid = (int)pid;
    t->start_time = start_time;
    if (agent_task_has_process(t) != (pid > 1)) {
        return store_fail(c, "pid",
                          pid > 1 ? "a pid for a task without a process"
                                  : "no pid for a task with a process");
    }
    return 0;
}

static int get_numbers(struct store_ctx *c, const json_t *o,
                       struct agent_task *t)
{
    uint64_t restarts;

    if (get_uint(c, o, "job_version", STORE_MAX_INT, &t->job_version) < 0 ||
        get_uint(c, o, "started_ms", STORE_MAX_INT, &t->started_ms) < 0 ||
        get_uint(c, o, "restarts", UINT32_MAX, &restarts) < 0 ||
        get_uint(c, o, "log_start", STORE_MAX_INT, &t->log_start) < 0 ||
        get_uint(c, o, "next_version", STORE_MAX_INT, &t->next_version) < 0) {
        return -1;
    }
    t->restarts = (uint32_t)restarts;
    return 0;
}

static int get_task(struct store_ctx *c, const json_t *o, struct agent_task *t)
{
    char id[AGENT_TASK_ID_MAX + 1], job[JOB_MAX_ID + 1];
    char site[AGENT_SITE_MAX + 1];

    if (!json_is_object(o)) {
        return err_fail(c->err, c->errlen, "%s: expected an object", c->where);
    }
    if (get_str(c, o, "id", id, sizeof(id)) < 0 ||
        get_str(c, o, "job", job, sizeof(job)) < 0 ||
        get_str(c, o, "site", site, sizeof(site)) < 0) {
        return -1;
    }
    if (!agent_task_id_ok(id)) {
        return store_fail(c, "id", "not a task id");
    }
    agent_task_init(t, id, job, site, NULL, 0);
    if (get_numbers(c, o, t) < 0 || get_state(c, o, t) < 0 ||
        get_exit(c, o, t) < 0 ||
        get_str(c, o, "message", t->message, sizeof(t->message)) < 0 ||
        get_recent(c, o, &t->policy) < 0 ||
        get_spec(c, o, "spec", &t->spec) < 0 ||
        get_spec(c, o, "next_spec", &t->next_spec) < 0) {
        return -1;
    }
    if (t->spec == NULL && t->state != AGENT_TASK_FAILED) {
        return store_fail(c, "spec", "null for a task that can run");
    }
    return 0;
}

static int get_header(struct store_ctx *c, const json_t *doc,
                      struct agent_store_doc *out)
{
    uint64_t format;

    if (!json_is_object(doc)) {
        return err_fail(c->err, c->errlen, "expected a JSON object");
    }
    if (get_uint(c, doc, "format", 1000, &format) < 0) {
        return -1;
    }
    if (format != STORE_FORMAT) {
        return err_fail(c->err, c->errlen,
                        "format %llu: this agent reads format %d",
                        (unsigned long long)format, STORE_FORMAT);
    }
    if (get_str(c, doc, "agent", out->agent, sizeof(out->agent)) < 0 ||
        get_str(c, doc, "boot_id", out->boot_id, sizeof(out->boot_id)) < 0) {
        return -1;
    }
    return 0;
}

static int get_tasks(struct store_ctx *c, const json_t *arr,
                     struct agent_store_doc *out)
{
    size_t n = json_array_size(arr);

    if (!json_is_array(arr) || n > AGENT_MAX_RUNS) {
        return err_fail(c->err, c->errlen,
                        "tasks: expected an array of at most %d tasks",
                        AGENT_MAX_RUNS);
    }
    out->tasks = calloc(n ? n : 1, sizeof(*out->tasks));
    if (out->tasks == NULL) {
        return err_fail(c->err, c->errlen, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        snprintf(c->where, sizeof(c->where), "tasks[%zu]", i);
        out->n = i + 1;
        if (get_task(c, json_array_get(arr, i), &out->tasks[i]) < 0) {
            return -1;
        }
        for (size_t j = 0; j < i; j++) {
            if (strcmp(out->tasks[j].id, out->tasks[i].id) == 0) {
                return store_fail(c, "id", "given twice");
            }
        }
    }
    return 0;
}

int agent_store_decode(const char *text, size_t len,
                       struct agent_store_doc *out, char *err, size_t errlen)
{
    struct store_ctx c = {err, errlen, ""};
    json_error_t jerr;
    json_t *doc;
    int rc;

    memset(out, 0, sizeof(*out));
    doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        return err_fail(err, errlen, "bad JSON at line %d, column %d: %s",
                        jerr.line, jerr.column, jerr.text);
    }
    rc = get_header(&c, doc, out);
    if (rc == 0) {
        rc = get_tasks(&c, json_object_get(doc, "tasks"), out);
    }
    json_decref(doc);
    if (rc < 0) {
        agent_store_doc_free(out);
    }
    return rc;
}

void agent_store_doc_free(struct agent_store_doc *doc)
{
    for (size_t i = 0; i < doc->n; i++) {
        agent_task_free(&doc->tasks[i]);
    }
    free(doc->tasks);
    memset(doc, 0, sizeof(*doc));
}

/* ------------------------------------------------------------------------
 * The file.
 */

int agent_store_save(const char *dir, const char *text, size_t len, char *err,
                     size_t errlen)
{
    return datadir_replace(dir, AGENT_STORE_FILE, text, len, err, errlen);
}

int agent_store_load(const char *dir, char **text, size_t *len, char *err,
                     size_t errlen)
{
    return datadir_read(dir, AGENT_STORE_FILE, AGENT_STORE_MAX, text, len, err,
                        errlen);
}
