/* ctl_rows.c - the placement table (ctl_rows.h). */
#include "controller/ctl_rows.h"

#include "util/err.h"

#include <stdlib.h>
#include <string.h>

void ctl_rows_init(struct ctl_rows *r)
{
    memset(r, 0, sizeof(*r));
}

void ctl_rows_free(struct ctl_rows *r)
{
    free(r->v);
    memset(r, 0, sizeof(*r));
}

int ctl_rows_add(struct ctl_rows *r, const char *task, const char *agent,
                 bool held, bool moved)
{
    struct ctl_row *row;

    if (strlen(task) > CTL_TASK_ID_MAX || strlen(agent) > CTL_AGENT_NAME_MAX ||
        r->n >= CTL_ROWS_MAX) {
        return -1;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 64;
        struct ctl_row *v = realloc(r->v, cap * sizeof(*v));

        if (v == NULL) {
            return -1;
        }
        r->v = v;
        r->cap = cap;
    }
    row = &r->v[r->n++];
    memcpy(row->task, task, strlen(task) + 1);
    memcpy(row->agent, agent, strlen(agent) + 1);
    row->held = held;
    row->moved = moved;
    return 0;
}

static int ctl_row_cmp(const void *a, const void *b)
{
    const struct ctl_row *x = a, *y = b;
    int c = strcmp(x->task, y->task);

    return c != 0 ? c : strcmp(x->agent, y->agent);
}

void ctl_rows_sort(struct ctl_rows *r)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n; i++) {
        if (r->v[i].agent[0] != '\0') {
            r->v[n++] = r->v[i];
        }
    }
    if (n > 1) {
        qsort(r->v, n, sizeof(*r->v), ctl_row_cmp);
    }
    r->n = 0;
    for (size_t i = 0; i < n; i++) {
        if (r->n == 0 || ctl_row_cmp(&r->v[r->n - 1], &r->v[i]) != 0) {
            r->v[r->n++] = r->v[i];
        }
    }
}

size_t ctl_rows_first(const struct ctl_rows *r, const char *task)
{
    size_t lo = 0, hi = r->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(r->v[mid].task, task) < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

bool ctl_rows_equal(const struct ctl_rows *a, const struct ctl_rows *b)
{
    if (a->n != b->n) {
        return false;
    }
    for (size_t i = 0; i < a->n; i++) {
        if (ctl_row_cmp(&a->v[i], &b->v[i]) != 0 ||
            a->v[i].held != b->v[i].held || a->v[i].moved != b->v[i].moved) {
            return false;
        }
    }
    return true;
}

json_t *ctl_rows_to_json(const struct ctl_rows *r)
{
    json_t *arr = json_array();

    for (size_t i = 0; arr != NULL && i < r->n; i++) {
        const struct ctl_row *row = &r->v[i];

        if (json_array_append_new(arr, json_pack("{s:s,s:s,s:b,s:b}", "task",
                                                 row->task, "agent", row->agent,
                                                 "held", row->held, "moved",
                                                 row->moved)) < 0) {
            json_decref(arr);
            arr = NULL;
        }
    }
    return arr;
}

int ctl_rows_from_json(struct ctl_rows *r, const json_t *doc, char *err,
                       size_t errlen)
{
    size_t i;
    json_t *v;

    ctl_rows_init(r);
    if (!json_is_array(doc) || json_array_size(doc) > CTL_ROWS_MAX) {
        return err_fail(err, errlen,
                        "placements: expected an array of at "
                        "most %d rows",
                        CTL_ROWS_MAX);
    }
    json_array_foreach(doc, i, v)
    {
        const char *task = json_string_value(json_object_get(v, "task"));
        const char *agent = json_string_value(json_object_get(v, "agent"));
        const json_t *held = json_object_get(v, "held");
        const json_t *moved = json_object_get(v, "moved");

        if (task == NULL || !ctl_id_ok(task, CTL_TASK_ID_MAX) ||
            agent == NULL || !ctl_id_ok(agent, CTL_AGENT_NAME_MAX) ||
            !json_is_boolean(held) || !json_is_boolean(moved)) {
            return err_fail(err, errlen,
                            "placements[%zu]: expected {\"task\", \"agent\", "
                            "\"held\", \"moved\"}",
                            i);
        }
        if (ctl_rows_add(r, task, agent, json_is_true(held),
                         json_is_true(moved)) < 0) {
            return err_fail(err, errlen, "placements: out of memory");
        }
    }
    ctl_rows_sort(r);
    return 0;
}
