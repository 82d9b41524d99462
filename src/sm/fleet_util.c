/* fleet_util.c - names of states, and labels as the fleet keeps them. */
#include "sm/fleet_int.h"

#include "util/err.h"

#include <stdlib.h>
#include <string.h>

static const char *const state_names[] = {
    [SCHED_TASK_PENDING] = "pending",   [SCHED_TASK_PLACED] = "placed",
    [SCHED_TASK_ASSIGNED] = "assigned", [SCHED_TASK_RUNNING] = "running",
    [SCHED_TASK_COMPLETE] = "complete", [SCHED_TASK_FAILED] = "failed",
    [SCHED_TASK_LOST] = "lost",         [SCHED_TASK_UNKNOWN] = "unknown",
};

#define N_STATES (sizeof(state_names) / sizeof(state_names[0]))

const char *fleet_state_name(enum sched_task_state s)
{
    return (size_t)s < N_STATES ? state_names[s] : "?";
}

int fleet_state_parse(const char *name)
{
    for (size_t i = 0; i < N_STATES; i++) {
        if (strcmp(state_names[i], name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

const char *fleet_site_status_name(enum sched_site_status s)
{
    switch (s) {
    case SCHED_SITE_CONNECTED:
        return "connected";
    case SCHED_SITE_SILENT:
        return "silent";
    case SCHED_SITE_LOST:
        return "lost";
    }
    return "?";
}

int fleet_site_name_check(const char *name, char *err, size_t errlen)
{
    size_t len = strlen(name);

    if (len == 0 || len > JOB_MAX_ID) {
        return err_fail(err, errlen, "site name must be 1..%d bytes",
                        JOB_MAX_ID);
    }
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');

        if (!alnum && (i == 0 || (c != '-' && c != '_' && c != '.'))) {
            return err_fail(err, errlen,
                            "site name must be a-z, 0-9, '-', '_' and '.', "
                            "starting with a letter or digit");
        }
    }
    return 0;
}

/* A label key: 1..JOB_MAX_LABEL_KEY of [A-Za-z0-9._/-]. */
static bool label_key_ok(const char *k)
{
    size_t len = strlen(k);

    if (len == 0 || len > JOB_MAX_LABEL_KEY) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = k[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
              c == '/')) {
            return false;
        }
    }
    return true;
}

/* A label value: 0..JOB_MAX_LABEL_VALUE printable ASCII bytes. */
static bool label_value_ok(const char *v, size_t len)
{
    if (len > JOB_MAX_LABEL_VALUE) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

static int pair_cmp(const void *a, const void *b)
{
    return strcmp(((const struct job_pair *)a)->name,
                  ((const struct job_pair *)b)->name);
}

void fleet_labels_free(struct job_pair *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(l[i].name);
        free(l[i].value);
    }
    free(l);
}

int fleet_labels_parse(const json_t *o, struct job_pair **out, size_t *n,
                       char *err, size_t errlen)
{
    struct job_pair *l;
    const char *k;
    json_t *v;
    size_t i = 0;

    *out = NULL;
    *n = 0;
    if (o == NULL) {
        return 0;
    }
    if (!json_is_object(o)) {
        return err_fail(err, errlen, "labels: must be an object of strings");
    }
    if (json_object_size(o) > JOB_MAX_LABELS) {
        return err_fail(err, errlen, "labels: at most %d", JOB_MAX_LABELS);
    }
    l = calloc(json_object_size(o) + 1, sizeof(*l));
    if (l == NULL) {
        return err_fail(err, errlen, "out of memory");
    }
    json_object_foreach((json_t *)o, k, v)
    {
        if (!label_key_ok(k) || !json_is_string(v) ||
            !label_value_ok(json_string_value(v), json_string_length(v))) {
            fleet_labels_free(l, i);
            return err_fail(err, errlen,
                            "labels: \"%.64s\" must be a name of a-z, A-Z, "
                            "0-9, '.', '_', '-', '/' with a printable string "
                            "of at most %d bytes",
                            k, JOB_MAX_LABEL_VALUE);
        }
        l[i].name = strdup(k);
        l[i].value = strdup(json_string_value(v));
        if (l[i].name == NULL || l[i].value == NULL) {
            fleet_labels_free(l, i + 1);
            return err_fail(err, errlen, "out of memory");
        }
        i++;
    }
    qsort(l, i, sizeof(*l), pair_cmp);
    *out = l;
    *n = i;
    return 0;
}

json_t *fleet_labels_json(const struct job_pair *l, size_t n)
{
    json_t *o = json_object();

    for (size_t i = 0; o != NULL && i < n; i++) {
        if (json_object_set_new(o, l[i].name, json_string(l[i].value)) < 0) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

json_t *fleet_cpu_json(uint64_t milli)
{
    return json_real((double)milli / 1000.0);
}
