/* fleet_entry.c - fleet entries as the leader builds them, and the strict
 * checks of what controllers send (the same checks guard the apply). */
#include "sm/fleet_int.h"
#include "util/num.h"

#include "util/err.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

bool fleet_is_entry(const void *data, size_t len)
{
    return len > 0 && ((const uint8_t *)data)[0] == FLEET_ENTRY_TAG;
}

/* Dump O (stolen) behind the tag into *OUT. */
static int finish(json_t *o, uint8_t **out, size_t *len, char *err,
                  size_t errlen)
{
    char *text;
    size_t n;

    if (o == NULL) {
        err_fail(err, errlen, "out of memory");
        return 500;
    }
    text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    if (text == NULL) {
        err_fail(err, errlen, "out of memory");
        return 500;
    }
    n = strlen(text);
    if (n + 1 > FLEET_MAX_ENTRY) {
        free(text);
        err_fail(err, errlen, "entry of %zu bytes is over the limit of %u",
                 n + 1, FLEET_MAX_ENTRY);
        return 413;
    }
    *out = malloc(n + 1);
    if (*out == NULL) {
        free(text);
        err_fail(err, errlen, "out of memory");
        return 500;
    }
    (*out)[0] = FLEET_ENTRY_TAG;
    memcpy(*out + 1, text, n);
    *len = n + 1;
    free(text);
    return 0;
}

int fleet_entry_job_put(const struct job *job, uint8_t **out, size_t *len,
                        char *err, size_t errlen)
{
    json_t *j = job_to_json(job);

    if (j == NULL) {
        err_fail(err, errlen, "out of memory");
        return 500;
    }
    return finish(json_pack("{s:s,s:o}", "op", "job_put", "job", j), out, len,
                  err, errlen);
}

int fleet_entry_job_stop(const char *id, uint8_t **out, size_t *len, char *err,
                         size_t errlen)
{
    return finish(json_pack("{s:s,s:s}", "op", "job_stop", "id", id), out, len,
                  err, errlen);
}

int fleet_entry_site_status(const char *site, enum sched_site_status status,
                            uint64_t at_ms, uint8_t **out, size_t *len,
                            char *err, size_t errlen)
{
    return finish(json_pack("{s:s,s:s,s:s,s:I}", "op", "site_status", "site",
                            site, "status", fleet_site_status_name(status),
                            "at_ms", (json_int_t)at_ms),
                  out, len, err, errlen);
}

size_t fleet_entry_sched(const struct sched_change *c, size_t n, uint8_t **out,
                         size_t *len)
{
    /* Half the entry bound: a change is small and its size is not known
     * before it is dumped, so stop early with room to spare. */
    const size_t budget = FLEET_MAX_ENTRY / 2;
    json_t *changes = json_array();
    size_t used = 64, i;
    char err[80];

    for (i = 0; changes != NULL && i < n && used < budget; i++) {
        json_t *o =
            json_pack("{s:s,s:s,s:I,s:b}", "kind",
                      sched_change_kind_str(c[i].kind), "job", c[i].job,
                      "index", (json_int_t)c[i].index, "created", c[i].created);

        if (o != NULL && c[i].site != NULL && c[i].site[0] != '\0') {
            json_object_set_new(o, "site", json_string(c[i].site));
        }
        if (o != NULL && c[i].from_site != NULL) {
            json_object_set_new(o, "from", json_string(c[i].from_site));
        }
        if (o != NULL && c[i].is_replacement) {
            json_object_set_new(o, "replaces",
                                json_integer((json_int_t)c[i].replaces));
        }
        if (o == NULL || json_array_append_new(changes, o) < 0) {
            json_decref(changes);
            return 0;
        }
        used += 100 + strlen(c[i].job) * 2;
    }
    if (changes == NULL ||
        finish(json_pack("{s:s,s:o}", "op", "sched", "changes", changes), out,
               len, err, sizeof(err)) != 0) {
        return 0;
    }
    return i;
}

/* ---- Registration. */

/* A JSON integer in [MIN, MAX]. */
static bool int_in(const json_t *v, long long min, long long max)
{
    return json_is_integer(v) && json_integer_value(v) >= min &&
           json_integer_value(v) <= max;
}

/* Whether every key of O is one of NAMES (NULL-terminated); else ERR. */
static int known_fields(const json_t *o, const char *const *names,
                        const char *what, char *err, size_t errlen)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)o, k, v)
    {
        size_t i = 0;

        while (names[i] != NULL && strcmp(names[i], k) != 0) {
            i++;
        }
        if (names[i] == NULL) {
            return err_fail(err, errlen, "%s: unknown field \"%.64s\"", what,
                            k);
        }
    }
    return 0;
}

static json_t *parse_body(const char *body, size_t len, char *err,
                          size_t errlen)
{
    json_error_t je;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);

    if (o == NULL) {
        err_fail(err, errlen, "body is not JSON: %s (line %d, column %d)",
                 je.text, je.line, je.column);
    } else if (!json_is_object(o)) {
        json_decref(o);
        o = NULL;
        err_fail(err, errlen, "body must be a JSON object");
    }
    return o;
}

/* cpu in cores (a multiple of 0.001, 0..JOB_MAX_CPU * 64) to millicores. */
static int cpu_milli(const json_t *v, uint64_t *out, char *err, size_t errlen)
{
    double x = json_number_value(v), m;

    if (!json_is_number(v) || !(x >= 0) || x > JOB_MAX_CPU * 64.0) {
        return err_fail(err, errlen, "cpu: must be a number of cores, 0..%d",
                        JOB_MAX_CPU * 64);
    }
    m = num_round(x * 1000);
    if (num_abs(m - x * 1000) > 1e-6) {
        return err_fail(err, errlen, "cpu: must be a multiple of 0.001");
    }
    *out = (uint64_t)m;
    return 0;
}

int fleet_entry_site_register(const char *site, const char *body,
                              size_t body_len, uint8_t **out, size_t *len,
                              char *err, size_t errlen)
{
    static const char *const fields[] = {"labels", "cpu", "memory_mb",
                                         "controller", NULL};
    json_t *o, *labels, *ctl, *mem, *e;
    struct job_pair *l;
    size_t nl;
    uint64_t milli = 0;

    if (fleet_site_name_check(site, err, errlen) < 0) {
        return 400;
    }
    o = parse_body(body, body_len, err, errlen);
    if (o == NULL || known_fields(o, fields, "register", err, errlen) < 0) {
        json_decref(o);
        return 400;
    }
    labels = json_object_get(o, "labels");
    ctl = json_object_get(o, "controller");
    mem = json_object_get(o, "memory_mb");
    if (fleet_labels_parse(labels, &l, &nl, err, errlen) < 0 ||
        (fleet_labels_free(l, nl), 0) ||
        (json_object_get(o, "cpu") != NULL &&
         cpu_milli(json_object_get(o, "cpu"), &milli, err, errlen) < 0)) {
        json_decref(o);
        return 400;
    }
    if (mem != NULL && !int_in(mem, 0, (long long)SCHED_MAX_RESOURCE)) {
        json_decref(o);
        err_fail(err, errlen, "memory_mb: must be an integer, 0..2^40");
        return 400;
    }
    if (ctl != NULL &&
        (!json_is_string(ctl) ||
         json_string_length(ctl) > FLEET_MAX_CONTROLLER ||
         strlen(json_string_value(ctl)) != json_string_length(ctl))) {
        json_decref(o);
        err_fail(err, errlen, "controller: must be HOST:PORT, at most %d bytes",
                 FLEET_MAX_CONTROLLER);
        return 400;
    }
    /* No labels is an empty object: the apply takes an object or nothing,
     * never null. */
    e = json_pack("{s:s,s:s,s:o,s:I,s:I,s:s}", "op", "site_register", "site",
                  site, "labels", labels ? json_incref(labels) : json_object(),
                  "cpu_milli", (json_int_t)milli, "memory_mb",
                  mem ? (json_int_t)json_integer_value(mem) : 0, "controller",
                  ctl ? json_string_value(ctl) : "");
    json_decref(o);
    return finish(e, out, len, err, errlen);
}

/* ---- Reports. */

int fleet_task_id_parse(const char *id, char job[JOB_MAX_ID + 1],
                        uint32_t *index)
{
    const char *dot = strrchr(id, '.');
    char *end;
    unsigned long long n;

    if (dot == NULL || dot == id || (size_t)(dot - id) > JOB_MAX_ID ||
        dot[1] < '0' || dot[1] > '9') {
        return -1;
    }
    errno = 0;
    n = strtoull(dot + 1, &end, 10);
    if (errno != 0 || *end != '\0' || n > UINT32_MAX ||
        (dot[1] == '0' && dot[2] != '\0')) {
        return -1;
    }
    memcpy(job, id, (size_t)(dot - id));
    job[dot - id] = '\0';
    *index = (uint32_t)n;
    return 0;
}

int fleet_report_state_parse(const char *name)
{
    if (strcmp(name, "stopped") == 0) {
        return FLEET_REPORT_STOPPED;
    }
    int s = fleet_state_parse(name);

    /* "placed": on the site, on no agent yet (the message says why). */
    if (s == SCHED_TASK_PLACED || s == SCHED_TASK_ASSIGNED ||
        s == SCHED_TASK_RUNNING || s == SCHED_TASK_COMPLETE ||
        s == SCHED_TASK_FAILED || s == SCHED_TASK_LOST) {
        return s;
    }
    return -1;
}

int fleet_report_task_check(const json_t *t, char *err, size_t errlen)
{
    static const char *const fields[] = {"id",      "state",    "agent",
                                         "pid",     "restarts", "exit_code",
                                         "message", NULL};
    const json_t *id = json_object_get(t, "id");
    const json_t *st = json_object_get(t, "state");
    const json_t *agent = json_object_get(t, "agent");
    const json_t *pid = json_object_get(t, "pid");
    const json_t *restarts = json_object_get(t, "restarts");
    const json_t *code = json_object_get(t, "exit_code");
    const json_t *msg = json_object_get(t, "message");
    char job[JOB_MAX_ID + 1];
    uint32_t index;

    if (!json_is_object(t)) {
        return err_fail(err, errlen, "tasks: each must be an object");
    }
    if (known_fields(t, fields, "tasks", err, errlen) < 0) {
        return -1;
    }
    if (!json_is_string(id) ||
        fleet_task_id_parse(json_string_value(id), job, &index) < 0) {
        return err_fail(err, errlen, "tasks: id must be \"JOB.INDEX\"");
    }
    if (!json_is_string(st) ||
        fleet_report_state_parse(json_string_value(st)) < 0) {
        return err_fail(err, errlen,
                        "tasks: state must be placed, assigned, running, "
                        "complete, failed, lost or stopped");
    }
    if ((agent && !json_is_null(agent) &&
         (!json_is_string(agent) ||
          fleet_site_name_check(json_string_value(agent), err, errlen) < 0)) ||
        (pid && !json_is_null(pid) && !int_in(pid, 0, INT32_MAX)) ||
        (restarts && !int_in(restarts, 0, INT32_MAX)) ||
        (code && !json_is_null(code) && !int_in(code, -1000, 1000)) ||
        (msg && (!json_is_string(msg) ||
                 json_string_length(msg) > FLEET_MAX_MESSAGE))) {
        return err_fail(err, errlen,
                        "tasks: %s: agent must be a name, pid and restarts "
                        "counts, exit_code -1000..1000, message a string of "
                        "at most %d bytes",
                        json_string_value(id), FLEET_MAX_MESSAGE);
    }
    return 0;
}

int fleet_entry_report(const char *site, const char *body, size_t body_len,
                       uint8_t **out, size_t *len, char *err, size_t errlen)
{
    static const char *const fields[] = {"seq", "tasks", NULL};
    json_t *o, *seq, *tasks, *t, *e;
    size_t i;

    if (fleet_site_name_check(site, err, errlen) < 0) {
        return 400;
    }
    o = parse_body(body, body_len, err, errlen);
    if (o == NULL || known_fields(o, fields, "report", err, errlen) < 0) {
        json_decref(o);
        return 400;
    }
    seq = json_object_get(o, "seq");
    tasks = json_object_get(o, "tasks");
    if (!int_in(seq, 1, (long long)JOB_MAX_VERSION) || !json_is_array(tasks) ||
        json_array_size(tasks) > FLEET_MAX_REPORT) {
        json_decref(o);
        err_fail(err, errlen,
                 "report: seq must be an integer from 1, tasks an array of "
                 "at most %d",
                 FLEET_MAX_REPORT);
        return 400;
    }
    json_array_foreach(tasks, i, t)
    {
        if (fleet_report_task_check(t, err, errlen) < 0) {
            json_decref(o);
            return 400;
        }
    }
    e = json_pack("{s:s,s:s,s:O,s:O}", "op", "report", "site", site, "seq", seq,
                  "tasks", tasks);
    json_decref(o);
    return finish(e, out, len, err, errlen);
}
