/* ctl_place.c - task -> agent, in two passes (ctl_place.h). */
#include "controller/ctl_place.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NONE ((size_t)-1)
#define SHARE_ONE 1000000ull

struct place {
    const struct ctl_assign *as;
    const struct ctl_jobs *jobs;
    const struct ctl_agents *ag;
    struct ctl_place_out *out;
    size_t cap_events;
    uint64_t *cpu, *mem; /* held by run rows, per agent position */
    uint32_t *count;     /* run rows of the job being placed, per agent */
    size_t *first;       /* per task: its first row after pass 1 */
    size_t *n_rows;      /* per task: its rows after pass 1 */
    size_t *order;       /* task positions by job, then index */
};

bool ctl_task_live(const struct ctl_task *t)
{
    static const char *const live[] = {"placed", "assigned", "running",
                                       "unknown"};

    for (size_t i = 0; !t->stop && i < sizeof(live) / sizeof(live[0]); i++) {
        if (strcmp(t->state, live[i]) == 0) {
            return true;
        }
    }
    return false;
}

/* ------------------------------------------------------------------------
 * Small helpers.
 */

static int place_event(struct place *p, enum ctl_place_what what,
                       const char *task, const char *from, const char *to)
{
    struct ctl_place_out *o = p->out;
    struct ctl_place_event *e;

    if (o->n_events == p->cap_events) {
        size_t cap = p->cap_events ? p->cap_events * 2 : 16;
        struct ctl_place_event *v = realloc(o->events, cap * sizeof(*v));

        if (v == NULL) {
            return -1;
        }
        o->events = v;
        p->cap_events = cap;
    }
    e = &o->events[o->n_events++];
    e->what = what;
    snprintf(e->task, sizeof(e->task), "%s", task);
    snprintf(e->from, sizeof(e->from), "%s", from ? from : "");
    snprintf(e->to, sizeof(e->to), "%s", to ? to : "");
    return 0;
}

/* Note WHY (printable ASCII after this, cut at CTL_NOTE_MAX) for TASK. */
static int place_note(struct place *p, const char *task, const char *why)
{
    char buf[CTL_NOTE_MAX + 1];

    snprintf(buf, sizeof(buf), "%s", why);
    for (char *s = buf; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
            *s = '?';
        }
    }
    return json_object_set_new(p->out->notes, task, json_string(buf));
}

static void cores(uint64_t milli, char *buf, size_t len)
{
    snprintf(buf, len, "%llu.%03llu", (unsigned long long)(milli / 1000),
             (unsigned long long)(milli % 1000));
}

static const struct ctl_agent *agent_at(const struct place *p, size_t i)
{
    return p->ag->v[i];
}

static size_t agent_pos(const struct place *p, const char *name)
{
    const struct ctl_agent *g = ctl_agents_find(p->ag, name);

    return g ? ctl_agents_pos(p->ag, g) : NONE;
}

static bool fits(const struct place *p, size_t a, const struct ctl_job *j)
{
    const struct ctl_agent *g = agent_at(p, a);

    return p->cpu[a] + j->cpu_milli <= g->cpu_milli &&
           p->mem[a] + j->memory_mb <= g->memory_mb;
}

/* A run row of J on agent A from now on. */
static void use(struct place *p, size_t a, const struct ctl_job *j)
{
    p->cpu[a] += j->cpu_milli;
    p->mem[a] += j->memory_mb;
    p->count[a]++;
}

/* A run row of J no longer on agent A. */
static void unuse(struct place *p, size_t a, const struct ctl_job *j)
{
    p->cpu[a] -= j->cpu_milli < p->cpu[a] ? j->cpu_milli : p->cpu[a];
    p->mem[a] -= j->memory_mb < p->mem[a] ? j->memory_mb : p->mem[a];
    p->count[a] -= p->count[a] > 0;
}

/* The free share of A's scarcer resource, 0..SHARE_ONE. */
static uint64_t share(const struct place *p, size_t a)
{
    const struct ctl_agent *g = agent_at(p, a);
    uint64_t c, m;

    if (g->cpu_milli == 0 || g->memory_mb == 0 || p->cpu[a] > g->cpu_milli ||
        p->mem[a] > g->memory_mb) {
        return 0;
    }
    c = (g->cpu_milli - p->cpu[a]) * SHARE_ONE / g->cpu_milli;
    m = (g->memory_mb - p->mem[a]) * SHARE_ONE / g->memory_mb;
    return c < m ? c : m;
}

static bool eligible(const struct place *p, size_t a, const struct ctl_job *j)
{
    const struct ctl_agent *g = agent_at(p, a);

    return g->up && ctl_agent_labels_match(g, j->labels);
}

/* The best agent for a task of J other than EXCLUDE, or NONE. */
static size_t choose(const struct place *p, const struct ctl_job *j,
                     size_t exclude)
{
    size_t best = NONE;

    for (size_t a = 0; a < p->ag->n; a++) {
        if (a == exclude || !eligible(p, a, j) || !fits(p, a, j)) {
            continue;
        }
        if (best == NONE || p->count[a] < p->count[best] ||
            (p->count[a] == p->count[best] && share(p, a) > share(p, best))) {
            best = a;
        }
    }
    return best;
}

/* "k=v,k2=v2" of LABELS, cut to fit BUF. */
static void labels_text(const json_t *labels, char *buf, size_t len)
{
    const char *key;
    json_t *v;
    size_t used = 0;

    buf[0] = '\0';
    json_object_foreach((json_t *)labels, key, v)
    {
        int w = snprintf(buf + used, len - used, "%s%s=%s", used ? "," : "",
                         key, json_string_value(v) ? json_string_value(v) : "");

        if (w < 0 || (size_t)w >= len - used) {
            return;
        }
        used += (size_t)w;
    }
}

/* What CAPACITY leaves once USED is taken (0 when overcommitted: kept
 * rows of an agent whose capacity shrank). */
static uint64_t room(uint64_t capacity, uint64_t used)
{
    return capacity > used ? capacity - used : 0;
}

/* Why no agent other than EXCLUDE can take a task of J, into BUF. */
static void why_not(const struct place *p, const struct ctl_job *j,
                    size_t exclude, char *buf, size_t len)
{
    size_t up = 0, matching = 0, most = NONE;
    char want_c[24], free_c[24], labels[128];

    for (size_t a = 0; a < p->ag->n; a++) {
        if (a == exclude || !agent_at(p, a)->up) {
            continue;
        }
        up++;
        if (eligible(p, a, j)) {
            matching++;
            most = most == NONE || share(p, a) > share(p, most) ? a : most;
        }
    }
    if (up == 0) {
        snprintf(buf, len, "%s",
                 p->ag->n ? "no other agent is up" : "no agent has registered");
        return;
    }
    if (matching == 0) {
        labels_text(j->labels, labels, sizeof(labels));
        snprintf(buf, len, "no up agent has the job's labels (%s)", labels);
        return;
    }
    cores(j->cpu_milli, want_c, sizeof(want_c));
    cores(room(agent_at(p, most)->cpu_milli, p->cpu[most]), free_c,
          sizeof(free_c));
    snprintf(
        buf, len,
        "no agent has room for %s cores and %llu MiB (the most free: "
        "%s, with %s cores and %llu MiB)",
        want_c, (unsigned long long)j->memory_mb, agent_at(p, most)->name,
        free_c,
        (unsigned long long)room(agent_at(p, most)->memory_mb, p->mem[most]));
}

/* ------------------------------------------------------------------------
 * Pass 1: keep.
 */

/* Whether to keep ROW of task T (job J). */
static bool keep_row(struct place *p, const struct ctl_task *t,
                     const struct ctl_job *j, const struct ctl_row *row)
{
    size_t a = agent_pos(p, row->agent);
    const struct ctl_agent *g = a != NONE ? agent_at(p, a) : NULL;

    if (g == NULL || (!t->stop && !ctl_task_live(t))) {
        return false;
    }
    if (t->stop || j->system) {
        return !row->held;
    }
    return true;
}

static int keep_task(struct place *p, size_t i, const struct ctl_rows *prev)
{
    const struct ctl_task *t = &p->as->tasks[i];
    const struct ctl_job *j = ctl_jobs_find(p->jobs, t->job);
    bool have_run = false;

    p->first[i] = p->out->rows.n;
    for (size_t r = ctl_rows_first(prev, t->id);
         r < prev->n && strcmp(prev->v[r].task, t->id) == 0; r++) {
        const struct ctl_row *row = &prev->v[r];
        size_t a = agent_pos(p, row->agent);

        if (!keep_row(p, t, j, row) || (!row->held && have_run && !j->system)) {
            continue;
        }
        if (j->system && !t->stop && agent_at(p, a)->up &&
            !ctl_agent_labels_match(agent_at(p, a), j->labels)) {
            if (place_event(p, CTL_PLACE_RELEASED, t->id, row->agent, NULL) <
                0) {
                return -1;
            }
            continue;
        }
        if (ctl_rows_add(&p->out->rows, row->task, row->agent, row->held,
                         row->moved) < 0) {
            return -1;
        }
        if (!row->held) {
            have_run = true;
            use(p, a, j);
        }
    }
    p->n_rows[i] = p->out->rows.n - p->first[i];
    return 0;
}

/* ------------------------------------------------------------------------
 * Pass 2: place.
 */

static struct ctl_row *row_at(struct place *p, size_t r)
{
    return &p->out->rows.v[r];
}

/* True for a run state whose process may be alive. */
static bool run_active(enum ctl_run s)
{
    return s == CTL_RUN_STARTING || s == CTL_RUN_RUNNING ||
           s == CTL_RUN_RESTARTING;
}

/* Whether RUN (a run row, or NONE) is a replacement a copy that kept
 * running may take the task back from. */
static bool is_replacement(struct place *p, size_t run)
{
    return run == NONE || row_at(p, run)->moved;
}

/* The held row H of task T (job J): decide which copy stays, now that its
 * agent is heard again. *RUN is the task's run row (NONE: none). */
static int resolve_held(struct place *p, const struct ctl_task *t,
                        const struct ctl_job *j, size_t h, size_t *run)
{
    size_t x = agent_pos(p, row_at(p, h)->agent);
    const struct ctl_agent *gx = agent_at(p, x);
    const struct ctl_agent_task *e = ctl_agent_task_find(gx, t->id);
    char from[CTL_AGENT_NAME_MAX + 1] = "";

    if (!gx->up || !gx->synced) {
        return 0; /* not heard yet: its copy may still run */
    }
    if (e != NULL && e->state == CTL_RUN_RUNNING && is_replacement(p, *run) &&
        ctl_agent_labels_match(gx, j->labels) && fits(p, x, j)) {
        if (*run != NONE) {
            size_t y = agent_pos(p, row_at(p, *run)->agent);

            snprintf(from, sizeof(from), "%s", agent_at(p, y)->name);
            unuse(p, y, j);
            row_at(p, h)->agent[0] = '\0';
            h = *run;
        }
        snprintf(row_at(p, h)->agent, sizeof(row_at(p, h)->agent), "%s",
                 gx->name);
        row_at(p, h)->held = row_at(p, h)->moved = false;
        *run = h;
        use(p, x, j);
        return place_event(p, CTL_PLACE_KEPT, t->id, from, gx->name);
    }
    row_at(p, h)->agent[0] = '\0';
    if (e != NULL && run_active(e->state) && *run != NONE) {
        return place_event(p, CTL_PLACE_SURPLUS, t->id, gx->name,
                           row_at(p, *run)->agent);
    }
    return 0;
}

/* The run row RUN of task T (job J): keep it, or move it off a down agent
 * or one without the job's labels. */
static int handle_run(struct place *p, const struct ctl_task *t,
                      const struct ctl_job *j, size_t run)
{
    size_t a = agent_pos(p, row_at(p, run)->agent), b;
    const struct ctl_agent *ga = agent_at(p, a);
    const struct ctl_agent_task *e = ctl_agent_task_find(ga, t->id);
    char why[CTL_NOTE_MAX], note[CTL_NOTE_MAX + 100];

    if (ga->up && ctl_agent_labels_match(ga, j->labels)) {
        return 0;
    }
    if (!ga->up && e != NULL &&
        (e->state == CTL_RUN_COMPLETE || e->state == CTL_RUN_FAILED)) {
        return 0;
    }
    b = choose(p, j, a);
    if (b == NONE) {
        why_not(p, j, a, why, sizeof(why));
        snprintf(note, sizeof(note), "agent %s %s; %s", ga->name,
                 ga->up ? "lacks the job's labels" : "is down", why);
        return place_note(p, t->id, note);
    }
    unuse(p, a, j);
    use(p, b, j);
    snprintf(row_at(p, run)->agent, sizeof(row_at(p, run)->agent), "%s",
             agent_at(p, b)->name);
    row_at(p, run)->moved = true;
    if (!ga->up &&
        ctl_rows_add(&p->out->rows, t->id, ga->name, true, false) < 0) {
        return -1;
    }
    return place_event(p, CTL_PLACE_MOVED, t->id, ga->name,
                       agent_at(p, b)->name);
}

static int place_new(struct place *p, const struct ctl_task *t,
                     const struct ctl_job *j)
{
    size_t b = choose(p, j, NONE);
    char why[CTL_NOTE_MAX];

    if (b == NONE) {
        why_not(p, j, NONE, why, sizeof(why));
        return place_note(p, t->id, why);
    }
    if (ctl_rows_add(&p->out->rows, t->id, agent_at(p, b)->name, false, false) <
        0) {
        return -1;
    }
    use(p, b, j);
    return place_event(p, CTL_PLACE_PLACED, t->id, NULL, agent_at(p, b)->name);
}

static int place_task(struct place *p, size_t i)
{
    const struct ctl_task *t = &p->as->tasks[i];
    const struct ctl_job *j = ctl_jobs_find(p->jobs, t->job);
    size_t run = NONE;

    for (size_t r = p->first[i]; r < p->first[i] + p->n_rows[i]; r++) {
        if (!row_at(p, r)->held) {
            run = r;
        }
    }
    for (size_t r = p->first[i]; r < p->first[i] + p->n_rows[i]; r++) {
        if (row_at(p, r)->held && row_at(p, r)->agent[0] != '\0' &&
            resolve_held(p, t, j, r, &run) < 0) {
            return -1;
        }
    }
    return run != NONE ? handle_run(p, t, j, run) : place_new(p, t, j);
}

/* Whether task I has an instance (a run row) on agent A. */
static bool has_instance(struct place *p, size_t i, size_t a)
{
    for (size_t r = p->first[i]; r < p->first[i] + p->n_rows[i]; r++) {
        if (strcmp(row_at(p, r)->agent, agent_at(p, a)->name) == 0) {
            return true;
        }
    }
    return false;
}

static int place_system(struct place *p, size_t i)
{
    const struct ctl_task *t = &p->as->tasks[i];
    const struct ctl_job *j = ctl_jobs_find(p->jobs, t->job);
    size_t instances = p->n_rows[i], short_of_room = 0;
    char why[CTL_NOTE_MAX], names[160] = "";

    for (size_t a = 0; a < p->ag->n; a++) {
        if (has_instance(p, i, a) || !eligible(p, a, j)) {
            continue;
        }
        if (!fits(p, a, j)) {
            size_t used = strlen(names);

            if (short_of_room++ < 4) {
                snprintf(names + used, sizeof(names) - used, "%s%s",
                         used ? ", " : "", agent_at(p, a)->name);
            }
            continue;
        }
        if (ctl_rows_add(&p->out->rows, t->id, agent_at(p, a)->name, false,
                         false) < 0 ||
            place_event(p, CTL_PLACE_PLACED, t->id, NULL,
                        agent_at(p, a)->name) < 0) {
            return -1;
        }
        use(p, a, j);
        instances++;
    }
    if (instances == 0) {
        why_not(p, j, NONE, why, sizeof(why));
        return place_note(p, t->id, why);
    }
    if (short_of_room > 0) {
        snprintf(why, sizeof(why),
                 "no room for it on %zu agent%s with its "
                 "labels (%s%s)",
                 short_of_room, short_of_room > 1 ? "s" : "", names,
                 short_of_room > 4 ? ", ..." : "");
        return place_note(p, t->id, why);
    }
    return 0;
}

/* Count the run rows of job JOB on each agent, from the tasks of ORDER
 * starting at K. */
static void count_job(struct place *p, size_t k, const char *job)
{
    memset(p->count, 0, p->ag->n * sizeof(*p->count));
    for (; k < p->as->n_tasks; k++) {
        size_t i = p->order[k];

        if (strcmp(p->as->tasks[i].job, job) != 0) {
            return;
        }
        for (size_t r = p->first[i]; r < p->first[i] + p->n_rows[i]; r++) {
            size_t a = agent_pos(p, row_at(p, r)->agent);

            if (!row_at(p, r)->held && !p->as->tasks[i].stop && a != NONE) {
                p->count[a]++;
            }
        }
    }
}

static int order_cmp(const void *a, const void *b, void *arg)
{
    const struct ctl_assign *as = arg;
    const struct ctl_task *x = &as->tasks[*(const size_t *)a];
    const struct ctl_task *y = &as->tasks[*(const size_t *)b];
    int c = strcmp(x->job, y->job);

    return c != 0 ? c : (x->index > y->index) - (x->index < y->index);
}

static int place_all(struct place *p)
{
    const char *job = NULL;

    for (size_t k = 0; k < p->as->n_tasks; k++) {
        size_t i = p->order[k];
        const struct ctl_task *t = &p->as->tasks[i];

        if (job == NULL || strcmp(job, t->job) != 0) {
            job = t->job;
            count_job(p, k, job);
        }
        if (!ctl_task_live(t)) {
            continue;
        }
        if ((ctl_jobs_find(p->jobs, t->job)->system ? place_system(p, i)
                                                    : place_task(p, i)) < 0) {
            return -1;
        }
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * The whole run.
 */

static int place_alloc(struct place *p)
{
    size_t na = p->ag->n + 1, nt = p->as->n_tasks + 1;

    p->cpu = calloc(na, sizeof(*p->cpu));
    p->mem = calloc(na, sizeof(*p->mem));
    p->count = calloc(na, sizeof(*p->count));
    p->first = calloc(nt, sizeof(*p->first));
    p->n_rows = calloc(nt, sizeof(*p->n_rows));
    p->order = calloc(nt, sizeof(*p->order));
    p->out->notes = json_object();
    if (!p->cpu || !p->mem || !p->count || !p->first || !p->n_rows ||
        !p->order || !p->out->notes) {
        return -1;
    }
    for (size_t i = 0; i < p->as->n_tasks; i++) {
        p->order[i] = i;
    }
    qsort_r(p->order, p->as->n_tasks, sizeof(*p->order), order_cmp,
            (void *)p->as);
    return 0;
}

static void place_release(struct place *p)
{
    free(p->cpu);
    free(p->mem);
    free(p->count);
    free(p->first);
    free(p->n_rows);
    free(p->order);
}

int ctl_place(const struct ctl_assign *as, const struct ctl_jobs *jobs,
              const struct ctl_agents *ag, const struct ctl_rows *prev,
              struct ctl_place_out *out)
{
    struct place p = {as, jobs, ag, out, 0, NULL, NULL, NULL, NULL, NULL, NULL};
    int rc = -1;

    memset(out, 0, sizeof(*out));
    if (place_alloc(&p) < 0) {
        goto done;
    }
    for (size_t i = 0; i < as->n_tasks; i++) {
        if (keep_task(&p, i, prev) < 0) {
            goto done;
        }
    }
    if (place_all(&p) < 0) {
        goto done;
    }
    ctl_rows_sort(&out->rows);
    rc = 0;
done:
    place_release(&p);
    return rc;
}

void ctl_place_out_free(struct ctl_place_out *out)
{
    ctl_rows_free(&out->rows);
    free(out->events);
    json_decref(out->notes);
    memset(out, 0, sizeof(*out));
}
