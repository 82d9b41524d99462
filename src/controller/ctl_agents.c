/* ctl_agents.c - the site's agents: register, heartbeat, expire, persist
 * (ctl_agents.h). */
#include "controller/ctl_agents.h"

#include "util/err.h"
#include "util/flags.h"
#include "util/labels.h"
#include "util/num.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CTL_JSON_INT_MAX (1ll << 53)
#define CTL_RESTARTS_MAX 2147483647ll

static const char *const ctl_run_names[] = {
    "starting", "running", "restarting", "complete", "failed", "stopped",
};

const char *ctl_run_name(enum ctl_run s)
{
    return ctl_run_names[s];
}

int ctl_run_parse(const char *name)
{
    for (size_t i = 0; i < sizeof(ctl_run_names) / sizeof(ctl_run_names[0]);
         i++) {
        if (strcmp(ctl_run_names[i], name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void ctl_agents_init(struct ctl_agents *a)
{
    memset(a, 0, sizeof(*a));
}

static void ctl_tasks_free(struct ctl_agent_task *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(t[i].message);
    }
    free(t);
}

static void ctl_agent_free(struct ctl_agent *g)
{
    if (g != NULL) {
        free(g->labels);
        ctl_tasks_free(g->tasks, g->n_tasks);
        free(g);
    }
}

void ctl_agents_free(struct ctl_agents *a)
{
    for (size_t i = 0; i < a->n; i++) {
        ctl_agent_free(a->v[i]);
    }
    free(a->v);
    memset(a, 0, sizeof(*a));
}

/* The position of NAME in A, or where it would go; *FOUND says which. */
static size_t ctl_agents_search(const struct ctl_agents *a, const char *name,
                                bool *found)
{
    size_t lo = 0, hi = a->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->v[mid]->name, name);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    *found = false;
    return lo;
}

struct ctl_agent *ctl_agents_find(const struct ctl_agents *a, const char *name)
{
    bool found;
    size_t at = ctl_agents_search(a, name, &found);

    return found ? a->v[at] : NULL;
}

size_t ctl_agents_pos(const struct ctl_agents *a, const struct ctl_agent *g)
{
    bool found;

    return ctl_agents_search(a, g->name, &found);
}

/* Insert a new agent NAME; NULL when out of memory. */
static struct ctl_agent *ctl_agents_insert(struct ctl_agents *a,
                                           const char *name)
{
    bool found;
    size_t at = ctl_agents_search(a, name, &found);
    struct ctl_agent **v = realloc(a->v, (a->n + 1) * sizeof(*v));
    struct ctl_agent *g;

    if (v == NULL) {
        return NULL;
    }
    a->v = v;
    g = calloc(1, sizeof(*g));
    if (g == NULL) {
        return NULL;
    }
    snprintf(g->name, sizeof(g->name), "%s", name);
    memmove(&v[at + 1], &v[at], (a->n - at) * sizeof(*v));
    v[at] = g;
    a->n++;
    return g;
}

/* ------------------------------------------------------------------------
 * Fields, checked.
 */

/* OBJ.KEY as an integer 0..MAX into *OUT; absent leaves *OUT alone unless
 * REQUIRED. */
static int ctl_get_int(const json_t *obj, const char *key, long long max,
                       bool required, uint64_t *out, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);

    if (v == NULL && !required) {
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        json_integer_value(v) > max) {
        return err_fail(err, errlen, "%s: expected an integer 0..%lld", key,
                        max);
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

/* Cores as a number 0..65536, in thousandths (rounded down: a machine's
 * capacity is a measurement, not a promise to the thousandth). */
static int ctl_get_cpu(const json_t *obj, uint64_t *out, char *err,
                       size_t errlen)
{
    const json_t *v = json_object_get(obj, "cpu");
    double x = json_number_value(v);

    if (!json_is_number(v) || !(x >= 0) ||
        x > (double)CTL_CPU_MAX_MILLI / 1000.0) {
        return err_fail(err, errlen, "cpu: expected cores, 0..%llu",
                        CTL_CPU_MAX_MILLI / 1000);
    }
    *out = (uint64_t)num_floor(x * 1000.0 + 1e-6);
    return 0;
}

static int ctl_label_cmp(const void *a, const void *b)
{
    return strcmp(((const struct label *)a)->key,
                  ((const struct label *)b)->key);
}

/* OBJ.labels (absent: none) into *OUT, sorted. */
static int ctl_get_labels(const json_t *obj, struct label **out, size_t *n,
                          char *err, size_t errlen)
{
    const json_t *labels = json_object_get(obj, "labels");
    const char *key;
    json_t *v;
    size_t i = 0;

    *out = NULL;
    *n = 0;
    if (labels == NULL || json_is_null(labels)) {
        return 0;
    }
    if (!json_is_object(labels) || json_object_size(labels) > LABELS_MAX) {
        return err_fail(err, errlen,
                        "labels: expected an object of at most %d strings",
                        LABELS_MAX);
    }
    *out = calloc(json_object_size(labels) + 1, sizeof(**out));
    if (*out == NULL) {
        return err_fail(err, errlen, "labels: out of memory");
    }
    json_object_foreach((json_t *)labels, key, v)
    {
        const char *s = json_string_value(v);

        if (s == NULL || !label_ok(key, strlen(key), s, strlen(s)) ||
            strlen(s) != json_string_length(v)) {
            return err_fail(err, errlen,
                            "labels: \"%.64s\": expected NAME: VALUE, NAME "
                            "1..64 of letters, digits, '-', '_', '.', '/', "
                            "VALUE at most 256 printable ASCII bytes",
                            key);
        }
        memcpy((*out)[i].key, key, strlen(key) + 1);
        memcpy((*out)[i].value, s, strlen(s) + 1);
        i++;
    }
    *n = i;
    qsort(*out, i, sizeof(**out), ctl_label_cmp);
    return 0;
}

/* OBJ.KEY, an optional printable string of at most MAX bytes, into BUF. */
static int ctl_get_text(const json_t *obj, const char *key, char *buf,
                        size_t max, char *err, size_t errlen)
{
    const json_t *v = json_object_get(obj, key);
    const char *s = json_string_value(v);

    buf[0] = '\0';
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (s == NULL || json_string_length(v) > max ||
        strlen(s) != json_string_length(v)) {
        return err_fail(err, errlen,
                        "%s: expected a string of at most %zu "
                        "bytes",
                        key, max);
    }
    for (const char *p = s; *p != '\0'; p++) {
        if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f) {
            return err_fail(err, errlen, "%s: expected printable ASCII", key);
        }
    }
    memcpy(buf, s, strlen(s) + 1);
    return 0;
}

/* The body as a JSON object; NULL with ERR when it is not one. */
static json_t *ctl_load_object(const char *body, size_t len, char *err,
                               size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);

    if (doc == NULL) {
        err_fail(err, errlen, "invalid JSON at line %d, column %d: %s",
                 jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(doc)) {
        json_decref(doc);
        err_fail(err, errlen, "expected a JSON object");
        return NULL;
    }
    return doc;
}

/* ------------------------------------------------------------------------
 * Register.
 */

void ctl_agent_reg_free(struct ctl_agent_reg *r)
{
    free(r->labels);
    memset(r, 0, sizeof(*r));
}

static int ctl_agent_reg_fields(const json_t *doc, struct ctl_agent_reg *out,
                                char *err, size_t errlen)
{
    const char *listen = json_string_value(json_object_get(doc, "listen"));
    char why[160];

    if (listen == NULL ||
        addr_parse(listen, &out->addr, why, sizeof(why)) < 0) {
        return err_fail(err, errlen, "listen: %s",
                        listen ? why : "expected \"HOST:PORT\"");
    }
    if (ctl_get_labels(doc, &out->labels, &out->n_labels, err, errlen) < 0 ||
        ctl_get_cpu(doc, &out->cpu_milli, err, errlen) < 0 ||
        ctl_get_int(doc, "memory_mb", (long long)CTL_MEMORY_MAX_MB, true,
                    &out->memory_mb, err, errlen) < 0 ||
        ctl_get_text(doc, "boot_id", out->boot_id, CTL_BOOT_ID_MAX, err,
                     errlen) < 0 ||
        ctl_get_int(doc, "started_ms", CTL_JSON_INT_MAX, false,
                    &out->started_ms, err, errlen) < 0) {
        return -1;
    }
    return 0;
}

int ctl_agent_reg_parse(const char *body, size_t len, struct ctl_agent_reg *out,
                        char *err, size_t errlen)
{
    json_t *doc;
    int rc;

    memset(out, 0, sizeof(*out));
    doc = ctl_load_object(body, len, err, errlen);
    if (doc == NULL) {
        return -1;
    }
    rc = ctl_agent_reg_fields(doc, out, err, errlen);
    json_decref(doc);
    return rc;
}

static bool ctl_labels_equal(const struct label *a, size_t na,
                             const struct label *b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (strcmp(a[i].key, b[i].key) != 0 ||
            strcmp(a[i].value, b[i].value) != 0) {
            return false;
        }
    }
    return true;
}

/* Copy REG into G (its labels moved), saying in *OUT what changed. */
static void ctl_agent_take_reg(struct ctl_agent *g, struct ctl_agent_reg *reg,
                               struct ctl_agent_reg_outcome *out)
{
    out->changed =
        out->added || !addr_equal(&g->addr, &reg->addr) ||
        g->cpu_milli != reg->cpu_milli || g->memory_mb != reg->memory_mb ||
        !ctl_labels_equal(g->labels, g->n_labels, reg->labels, reg->n_labels);
    out->restarted = !out->added && (strcmp(g->boot_id, reg->boot_id) != 0 ||
                                     g->started_ms != reg->started_ms);
    g->addr = reg->addr;
    free(g->labels);
    g->labels = reg->labels;
    g->n_labels = reg->n_labels;
    reg->labels = NULL;
    reg->n_labels = 0;
    g->cpu_milli = reg->cpu_milli;
    g->memory_mb = reg->memory_mb;
    memcpy(g->boot_id, reg->boot_id, sizeof(g->boot_id));
    g->started_ms = reg->started_ms;
}

int ctl_agents_register(struct ctl_agents *a, const char *name,
                        struct ctl_agent_reg *reg, uint64_t now,
                        uint32_t ttl_ms, struct ctl_agent_reg_outcome *out,
                        int *status, char *err, size_t errlen)
{
    struct ctl_agent *g = ctl_agents_find(a, name);

    memset(out, 0, sizeof(*out));
    if (g != NULL && g->up && now - g->last_ms <= ttl_ms &&
        !addr_equal(&g->addr, &reg->addr)) {
        *status = 409;
        return err_fail(err, errlen, "agent name %s is taken by %s", name,
                        g->addr.text);
    }
    if (g == NULL && a->n >= CTL_AGENTS_MAX) {
        *status = 503;
        return err_fail(err, errlen,
                        "this site has %d agents, the most a controller "
                        "serves",
                        CTL_AGENTS_MAX);
    }
    if (g == NULL) {
        g = ctl_agents_insert(a, name);
        if (g == NULL) {
            *status = 500;
            return err_fail(err, errlen, "out of memory");
        }
        out->added = true;
    }
    out->back = !out->added && !g->up;
    ctl_agent_take_reg(g, reg, out);
    g->up = true;
    g->synced = false;
    g->heard = true;
    g->last_ms = now;
    *status = 200;
    return 0;
}

int ctl_agents_remove(struct ctl_agents *a, const char *name)
{
    bool found;
    size_t at = ctl_agents_search(a, name, &found);

    if (!found) {
        return -1;
    }
    ctl_agent_free(a->v[at]);
    memmove(&a->v[at], &a->v[at + 1], (a->n - at - 1) * sizeof(*a->v));
    a->n--;
    return 0;
}

/* ------------------------------------------------------------------------
 * Heartbeat.
 */

void ctl_agent_hb_free(struct ctl_agent_hb *hb)
{
    ctl_tasks_free(hb->tasks, hb->n_tasks);
    memset(hb, 0, sizeof(*hb));
}

/* A message as the cluster takes it: printable ASCII, at most
 * CTL_MESSAGE_MAX bytes (a longer one is cut). NULL out of memory. */
static char *ctl_message_copy(const char *s)
{
    size_t n = strlen(s) > CTL_MESSAGE_MAX ? CTL_MESSAGE_MAX : strlen(s);
    char *m = malloc(n + 1);

    if (m == NULL) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        m[i] = c < 0x20 || c >= 0x7f ? '?' : (char)c;
    }
    m[n] = '\0';
    return m;
}

/* OBJ.KEY: an integer in LO..HI, or null or absent (then *HAS is false). */
static int ctl_get_opt_int(const json_t *obj, const char *key, long long lo,
                           long long hi, bool *has, int64_t *out)
{
    const json_t *v = json_object_get(obj, key);

    *has = false;
    if (v == NULL || json_is_null(v)) {
        return 0;
    }
    if (!json_is_integer(v) || json_integer_value(v) < lo ||
        json_integer_value(v) > hi) {
        return -1;
    }
    *has = true;
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* tasks[I] into *T. */
static int ctl_hb_task(const json_t *v, size_t i, struct ctl_agent_task *t,
                       char *err, size_t errlen)
{
    const char *id = json_string_value(json_object_get(v, "id"));
    const char *st = json_string_value(json_object_get(v, "state"));
    const json_t *msg = json_object_get(v, "message");
    bool has_pid, has_restarts, has_version;
    int64_t version = 0;
    int state = st ? ctl_run_parse(st) : -1;

    if (!json_is_object(v) || id == NULL || !ctl_id_ok(id, CTL_TASK_ID_MAX)) {
        return err_fail(err, errlen, "tasks[%zu].id: expected a task id", i);
    }
    memcpy(t->id, id, strlen(id) + 1);
    if (state < 0) {
        return err_fail(err, errlen,
                        "tasks[%zu].state: expected starting, running, "
                        "restarting, complete, failed or stopped",
                        i);
    }
    t->state = (enum ctl_run)state;
    t->pid = -1;
    if (ctl_get_opt_int(v, "job_version", 0, CTL_JSON_INT_MAX, &has_version,
                        &version) < 0 ||
        ctl_get_opt_int(v, "pid", 0, CTL_JSON_INT_MAX, &has_pid, &t->pid) < 0 ||
        ctl_get_opt_int(v, "restarts", 0, CTL_RESTARTS_MAX, &has_restarts,
                        &t->restarts) < 0 ||
        ctl_get_opt_int(v, "exit_code", -CTL_JSON_INT_MAX, CTL_JSON_INT_MAX,
                        &t->has_exit_code, &t->exit_code) < 0 ||
        (msg != NULL && !json_is_null(msg) && !json_is_string(msg))) {
        return err_fail(err, errlen,
                        "tasks[%zu] (%s): job_version, pid and restarts must "
                        "be counts, exit_code an integer or null, message a "
                        "string or null",
                        i, id);
    }
    t->job_version = (uint64_t)version;
    t->pid = has_pid ? t->pid : -1;
    t->restarts = has_restarts ? t->restarts : 0;
    if (json_is_string(msg) &&
        (t->message = ctl_message_copy(json_string_value(msg))) == NULL) {
        return err_fail(err, errlen, "out of memory");
    }
    return 0;
}

static int ctl_task_cmp(const void *a, const void *b)
{
    return strcmp(((const struct ctl_agent_task *)a)->id,
                  ((const struct ctl_agent_task *)b)->id);
}

static int ctl_hb_fields(const json_t *doc, struct ctl_agent_hb *out, char *err,
                         size_t errlen)
{
    const json_t *tasks = json_object_get(doc, "tasks");
    size_t n = json_array_size(tasks);

    if (tasks != NULL && (!json_is_array(tasks) || n > CTL_AGENT_TASKS_MAX)) {
        return err_fail(err, errlen, "tasks: expected an array of at most %d",
                        CTL_AGENT_TASKS_MAX);
    }
    out->tasks = calloc(n > 0 ? n : 1, sizeof(*out->tasks));
    if (out->tasks == NULL) {
        return err_fail(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        out->n_tasks = i + 1; /* so that a failure frees what was taken */
        if (ctl_hb_task(json_array_get(tasks, i), i, &out->tasks[i], err,
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

int ctl_agent_hb_parse(const char *body, size_t len, struct ctl_agent_hb *out,
                       char *err, size_t errlen)
{
    json_t *doc;
    int rc;

    memset(out, 0, sizeof(*out));
    doc = ctl_load_object(body, len, err, errlen);
    if (doc == NULL) {
        return -1;
    }
    rc = ctl_hb_fields(doc, out, err, errlen);
    json_decref(doc);
    return rc;
}

static bool ctl_task_equal(const struct ctl_agent_task *a,
                           const struct ctl_agent_task *b)
{
    return strcmp(a->id, b->id) == 0 && a->state == b->state &&
           a->job_version == b->job_version && a->pid == b->pid &&
           a->restarts == b->restarts && a->has_exit_code == b->has_exit_code &&
           (!a->has_exit_code || a->exit_code == b->exit_code) &&
           (a->message == NULL) == (b->message == NULL) &&
           (a->message == NULL || strcmp(a->message, b->message) == 0);
}

static bool ctl_tasks_equal(const struct ctl_agent_task *a, size_t na,
                            const struct ctl_agent_task *b, size_t nb)
{
    if (na != nb) {
        return false;
    }
    for (size_t i = 0; i < na; i++) {
        if (!ctl_task_equal(&a[i], &b[i])) {
            return false;
        }
    }
    return true;
}

bool ctl_agent_heartbeat(struct ctl_agent *g, struct ctl_agent_hb *hb,
                         uint64_t now, bool *back)
{
    bool changed =
        !g->up || !g->synced ||
        !ctl_tasks_equal(g->tasks, g->n_tasks, hb->tasks, hb->n_tasks);

    *back = !g->up;
    ctl_tasks_free(g->tasks, g->n_tasks);
    g->tasks = hb->tasks;
    g->n_tasks = hb->n_tasks;
    hb->tasks = NULL;
    hb->n_tasks = 0;
    g->up = g->synced = g->heard = true;
    g->last_ms = now;
    return changed;
}

size_t ctl_agents_expire(struct ctl_agents *a, uint64_t now, uint32_t ttl_ms,
                         size_t *down)
{
    size_t n = 0;

    for (size_t i = 0; i < a->n; i++) {
        struct ctl_agent *g = a->v[i];

        if (g->up && now - g->last_ms > ttl_ms) {
            g->up = false;
            g->synced = false;
            down[n++] = i;
        }
    }
    return n;
}

const struct ctl_agent_task *ctl_agent_task_find(const struct ctl_agent *g,
                                                 const char *task)
{
    struct ctl_agent_task key;

    if (g->n_tasks == 0 || strlen(task) > CTL_TASK_ID_MAX) {
        return NULL;
    }
    memcpy(key.id, task, strlen(task) + 1);
    return bsearch(&key, g->tasks, g->n_tasks, sizeof(*g->tasks), ctl_task_cmp);
}

bool ctl_agent_labels_match(const struct ctl_agent *g, const json_t *labels)
{
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)labels, key, v)
    {
        struct label k;
        const struct label *have;

        if (strlen(key) > LABEL_KEY_MAX || !json_is_string(v)) {
            return false;
        }
        memcpy(k.key, key, strlen(key) + 1);
        have = g->n_labels ? bsearch(&k, g->labels, g->n_labels,
                                     sizeof(*g->labels), ctl_label_cmp)
                           : NULL;
        if (have == NULL || strcmp(have->value, json_string_value(v)) != 0) {
            return false;
        }
    }
    return true;
}

json_t *ctl_agent_labels_json(const struct ctl_agent *g)
{
    json_t *labels = json_object();

    for (size_t i = 0; labels != NULL && i < g->n_labels; i++) {
        if (json_object_set_new(labels, g->labels[i].key,
                                json_string(g->labels[i].value)) < 0) {
            json_decref(labels);
            return NULL;
        }
    }
    return labels;
}

/* ------------------------------------------------------------------------
 * The persisted part.
 */

static json_t *ctl_agent_to_json(const struct ctl_agent *g)
{
    return json_pack("{s:s,s:s,s:o,s:I,s:I,s:s,s:I,s:I}", "name", g->name,
                     "addr", g->addr.text, "labels", ctl_agent_labels_json(g),
                     "cpu_milli", (json_int_t)g->cpu_milli, "memory_mb",
                     (json_int_t)g->memory_mb, "boot_id", g->boot_id,
                     "started_ms", (json_int_t)g->started_ms, "index",
                     (json_int_t)g->index);
}

json_t *ctl_agents_to_json(const struct ctl_agents *a)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < a->n; i++) {
        if (json_array_append_new(arr, ctl_agent_to_json(a->v[i])) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

/* agents[I] into a new agent of A. */
static int ctl_agent_from_json(struct ctl_agents *a, const json_t *v, size_t i,
                               uint64_t index, uint64_t now, char *err,
                               size_t errlen)
{
    const char *name = json_string_value(json_object_get(v, "name"));
    const char *addr = json_string_value(json_object_get(v, "addr"));
    struct ctl_agent_reg reg;
    struct ctl_agent *g;
    char why[300];
    uint64_t gi = 0;

    memset(&reg, 0, sizeof(reg));
    if (!json_is_object(v) || name == NULL || !flags_name_ok(name) ||
        ctl_agents_find(a, name) != NULL) {
        return err_fail(err, errlen, "agents[%zu].name: a name, once", i);
    }
    if (addr == NULL || addr_parse(addr, &reg.addr, why, sizeof(why)) < 0 ||
        ctl_get_labels(v, &reg.labels, &reg.n_labels, why, sizeof(why)) < 0 ||
        ctl_get_int(v, "cpu_milli", (long long)CTL_CPU_MAX_MILLI, true,
                    &reg.cpu_milli, why, sizeof(why)) < 0 ||
        ctl_get_int(v, "memory_mb", (long long)CTL_MEMORY_MAX_MB, true,
                    &reg.memory_mb, why, sizeof(why)) < 0 ||
        ctl_get_text(v, "boot_id", reg.boot_id, CTL_BOOT_ID_MAX, why,
                     sizeof(why)) < 0 ||
        ctl_get_int(v, "started_ms", CTL_JSON_INT_MAX, true, &reg.started_ms,
                    why, sizeof(why)) < 0 ||
        ctl_get_int(v, "index", (long long)index, true, &gi, why, sizeof(why)) <
            0) {
        ctl_agent_reg_free(&reg);
        return err_fail(err, errlen, "agents[%zu] (%s): %s", i, name,
                        addr ? why : "addr: expected \"HOST:PORT\"");
    }
    g = ctl_agents_insert(a, name);
    if (g == NULL) {
        ctl_agent_reg_free(&reg);
        return err_fail(err, errlen, "out of memory");
    }
    g->addr = reg.addr;
    g->labels = reg.labels;
    g->n_labels = reg.n_labels;
    g->cpu_milli = reg.cpu_milli;
    g->memory_mb = reg.memory_mb;
    memcpy(g->boot_id, reg.boot_id, sizeof(g->boot_id));
    g->started_ms = reg.started_ms;
    g->index = gi;
    g->up = true;
    g->last_ms = now;
    return 0;
}

int ctl_agents_from_json(struct ctl_agents *a, const json_t *doc,
                         uint64_t index, uint64_t now, char *err, size_t errlen)
{
    size_t i;
    json_t *v;

    ctl_agents_init(a);
    if (!json_is_array(doc) || json_array_size(doc) > CTL_AGENTS_MAX) {
        return err_fail(err, errlen,
                        "agents: expected an array of at most %d agents",
                        CTL_AGENTS_MAX);
    }
    a->index = index;
    json_array_foreach(doc, i, v)
    {
        if (ctl_agent_from_json(a, v, i, index, now, err, errlen) < 0) {
            return -1;
        }
    }
    return 0;
}
