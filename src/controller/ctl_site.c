/* ctl_site.c - task views and the reports they make (ctl_site.h). */
#include "controller/ctl_site.h"

#include "controller/ctl_place.h"

#include <stdio.h>
#include <string.h>

#define CTL_REPORT_PID_MAX 2147483647ll
#define CTL_REPORT_EXIT_MIN -1000 /* the cluster's bounds */
#define CTL_REPORT_EXIT_MAX 1000

static void view_init(struct ctl_view *v, const char *state)
{
    memset(v, 0, sizeof(*v));
    v->state = state;
    v->pid = -1;
    v->restarts = -1;
}

static const char *site_note(const struct ctl_site *s, const char *task)
{
    return json_string_value(json_object_get(s->notes, task));
}

/* The instance of task T on agent G, as G's last heartbeat says. */
static void view_instance(const struct ctl_site *s, const struct ctl_task *t,
                          const struct ctl_agent *g, struct ctl_view *v)
{
    const struct ctl_agent_task *e = ctl_agent_task_find(g, t->id);
    const char *note = site_note(s, t->id);

    view_init(v, "assigned");
    v->agent = g->name;
    if (!g->up) {
        v->state = "unknown";
        snprintf(v->message, sizeof(v->message), "%s",
                 note ? note : "its agent is down");
        return;
    }
    v->report = g->synced;
    if (!g->synced || e == NULL) {
        return;
    }
    switch (e->state) {
    case CTL_RUN_RUNNING:
        v->pid = e->pid;
        /* fall through */
    case CTL_RUN_RESTARTING:
        v->state = "running";
        v->restarts = e->restarts;
        break;
    case CTL_RUN_COMPLETE:
    case CTL_RUN_FAILED:
        v->state = e->state == CTL_RUN_COMPLETE ? "complete" : "failed";
        v->restarts = e->restarts;
        v->has_exit_code = e->has_exit_code;
        v->exit_code = e->exit_code;
        snprintf(v->message, sizeof(v->message), "%s",
                 e->message && e->state == CTL_RUN_FAILED ? e->message : "");
        break;
    case CTL_RUN_STARTING:
    case CTL_RUN_STOPPED: /* not asked to: it is started again */
        break;
    }
}

/* Append TEXT to V's message, after SEP when it holds something already;
 * a message cut short ends in "...". */
static void view_append(struct ctl_view *v, const char *sep, const char *text)
{
    size_t used = strlen(v->message), room = sizeof(v->message) - used;
    int w = snprintf(v->message + used, room, "%s%s", used ? sep : "", text);

    if (w >= 0 && (size_t)w >= room) {
        memcpy(v->message + sizeof(v->message) - 4, "...", 4);
    }
}

/* A system task: its instances summed up. */
static void view_system(const struct ctl_site *s, const struct ctl_task *t,
                        size_t first, struct ctl_view *out)
{
    size_t n = 0, running = 0, assigned = 0, complete = 0, failed = 0;
    const char *note = site_note(s, t->id);
    char item[CTL_AGENT_NAME_MAX + 32];
    bool report = true;

    view_init(out, "placed");
    out->restarts = 0;
    for (size_t r = first;
         r < s->rows->n && strcmp(s->rows->v[r].task, t->id) == 0; r++) {
        const struct ctl_agent *g = ctl_agents_find(s->ag, s->rows->v[r].agent);
        struct ctl_view v;

        if (g == NULL || s->rows->v[r].held) {
            continue;
        }
        view_instance(s, t, g, &v);
        n++;
        running += strcmp(v.state, "running") == 0;
        assigned += strcmp(v.state, "assigned") == 0;
        complete += strcmp(v.state, "complete") == 0;
        failed += strcmp(v.state, "failed") == 0;
        out->restarts += v.restarts > 0 ? v.restarts : 0;
        report = report && (v.report || !g->up);
        snprintf(item, sizeof(item), "%s %s", g->name,
                 g->up ? v.state : "down");
        view_append(out, ", ", item);
    }
    out->state = n == 0                   ? "placed"
                 : running > 0            ? "running"
                 : assigned > 0           ? "assigned"
                 : complete == n          ? "complete"
                 : complete + failed == n ? "failed"
                                          : "unknown";
    out->report = report && n > 0 && strcmp(out->state, "unknown") != 0;
    if (note != NULL) {
        view_append(out, "; ", note);
    }
}

/* The first row of task T in S's table, and whether one is a run row. */
static size_t site_rows(const struct ctl_site *s, const struct ctl_task *t,
                        size_t *run)
{
    size_t first = ctl_rows_first(s->rows, t->id);

    *run = (size_t)-1;
    for (size_t r = first;
         r < s->rows->n && strcmp(s->rows->v[r].task, t->id) == 0; r++) {
        if (!s->rows->v[r].held && *run == (size_t)-1) {
            *run = r;
        }
    }
    return first;
}

/* A task that is not a system task. */
static void view_one(const struct ctl_site *s, const struct ctl_task *t,
                     struct ctl_view *out)
{
    size_t run;
    const struct ctl_agent *g;
    const char *note = site_note(s, t->id);

    site_rows(s, t, &run);
    g = run != (size_t)-1 ? ctl_agents_find(s->ag, s->rows->v[run].agent)
                          : NULL;
    if (g == NULL) {
        view_init(out, "placed");
        snprintf(out->message, sizeof(out->message), "%s", note ? note : "");
        /* On no agent, for a reason: the cluster shows why. */
        out->report = note != NULL;
        return;
    }
    view_instance(s, t, g, out);
}

/* Whether agent G is done with task T, which it was asked to stop. */
static bool stop_done(const struct ctl_agent *g, const struct ctl_task *t)
{
    const struct ctl_agent_task *e = ctl_agent_task_find(g, t->id);

    if (!g->up) {
        return true; /* it stops the task when it is back */
    }
    if (!g->synced) {
        return false;
    }
    if (e == NULL) {
        return g->seen_index >= g->index;
    }
    return e->state == CTL_RUN_STOPPED || e->state == CTL_RUN_COMPLETE ||
           e->state == CTL_RUN_FAILED;
}

/* A task the cluster asks to stop: stopped once every agent is done. */
static void view_stop(const struct ctl_site *s, const struct ctl_task *t,
                      const struct ctl_job *j, struct ctl_view *out)
{
    size_t run, first = site_rows(s, t, &run);

    for (size_t r = first;
         r < s->rows->n && strcmp(s->rows->v[r].task, t->id) == 0; r++) {
        const struct ctl_agent *g = ctl_agents_find(s->ag, s->rows->v[r].agent);

        if (g != NULL && !s->rows->v[r].held && !stop_done(g, t)) {
            if (j->system) {
                view_system(s, t, first, out);
            } else {
                view_instance(s, t, g, out);
            }
            out->report = false;
            return;
        }
    }
    view_init(out, "stopped");
    out->report = true;
}

void ctl_site_view(const struct ctl_site *s, const struct ctl_task *t,
                   struct ctl_view *out)
{
    const struct ctl_job *j = ctl_jobs_find(s->jobs, t->job);
    size_t run;

    if (t->stop) {
        view_stop(s, t, j, out);
    } else if (!ctl_task_live(t)) {
        view_init(out, t->state);
    } else if (j->system) {
        view_system(s, t, site_rows(s, t, &run), out);
    } else {
        view_one(s, t, out);
    }
}

/* Add KEY: VALUE to R unless VALUE is NULL; false when that failed. */
static bool report_set(json_t *r, const char *key, json_t *value)
{
    return value == NULL || json_object_set_new(r, key, value) == 0;
}

json_t *ctl_view_report(const char *id, const struct ctl_view *v)
{
    bool stopped = strcmp(v->state, "stopped") == 0;
    bool ended =
        strcmp(v->state, "complete") == 0 || strcmp(v->state, "failed") == 0;
    json_t *r;

    if (!v->report) {
        return NULL;
    }
    r = json_pack("{s:s,s:s}", "id", id, "state", v->state);
    if (r == NULL || stopped) {
        return r;
    }
    if (strcmp(v->state, "placed") == 0) {
        /* On no agent now: clear what the cluster knew of the last one. */
        if (json_object_set_new(r, "agent", json_null()) < 0 ||
            json_object_set_new(r, "pid", json_null()) < 0) {
            json_decref(r);
            return NULL;
        }
    }
    if (!report_set(r, "agent", v->agent ? json_string(v->agent) : NULL) ||
        !report_set(r, "pid",
                    v->pid >= 0 && v->pid <= CTL_REPORT_PID_MAX
                        ? json_integer(v->pid)
                        : NULL) ||
        !report_set(r, "restarts",
                    v->restarts >= 0 && v->restarts <= CTL_REPORT_PID_MAX
                        ? json_integer(v->restarts)
                        : NULL) ||
        !report_set(r, "exit_code",
                    ended && v->has_exit_code &&
                            v->exit_code >= CTL_REPORT_EXIT_MIN &&
                            v->exit_code <= CTL_REPORT_EXIT_MAX
                        ? json_integer(v->exit_code)
                        : NULL) ||
        !report_set(r, "message",
                    v->message[0] != '\0' ? json_string(v->message) : NULL)) {
        json_decref(r);
        return NULL;
    }
    return r;
}

/* Report task T if its view changed. */
static void site_report_one(const struct ctl_site *s, const struct ctl_task *t,
                            json_t *reported, struct ctl_outbox *ob,
                            struct ctl_site_changes *out)
{
    struct ctl_view v;
    json_t *r;

    ctl_site_view(s, t, &v);
    r = ctl_view_report(t->id, &v);
    if (r == NULL || json_equal(r, json_object_get(reported, t->id))) {
        json_decref(r);
        return;
    }
    switch (ctl_outbox_add(ob, r)) {
    case CTL_OUTBOX_ADDED:
        out->reported++;
        /* fall through */
    case CTL_OUTBOX_SAME:
        json_object_set_new(reported, t->id, r);
        return;
    case CTL_OUTBOX_FULL:
    case CTL_OUTBOX_ERROR:
        out->refused++;
        break;
    }
    json_decref(r);
}

void ctl_site_report(const struct ctl_site *s, json_t *reported,
                     struct ctl_outbox *ob, struct ctl_site_changes *out)
{
    const char *key;
    json_t *v, *gone = json_array();
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < s->as->n_tasks; i++) {
        site_report_one(s, &s->as->tasks[i], reported, ob, out);
    }
    json_object_foreach(reported, key, v)
    {
        if (gone != NULL && ctl_assign_find(s->as, key) == NULL) {
            json_array_append_new(gone, json_string(key));
        }
    }
    json_array_foreach(gone, i, v)
    {
        json_object_del(reported, json_string_value(v));
    }
    json_decref(gone);
}
