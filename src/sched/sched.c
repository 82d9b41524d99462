/* sched.c - the leader's scheduler.
 *
 * One call looks at the whole replicated state and returns what must change.
 * It works on a private copy, sorted so that the input order never matters
 * (sites by name, jobs by id, tasks by job then index), in three phases:
 *
 *   1. site status: tasks on a silent site become unknown, unknown tasks on
 *      a connected site become running again, tasks on a lost or vanished
 *      site become lost;
 *   2. stops, for every job: tasks of removed jobs, tasks on sites the job
 *      no longer allows, and copies beyond what the job asks for;
 *   3. placements, job after job: pending tasks first, then new tasks, each
 *      on the eligible site with the fewest tasks of that job, then the
 *      largest free share of its scarcer resource, then the lowest name.
 *
 * Every change is applied to the private copy as it is decided, so a later
 * decision sees the earlier ones. Stops come before all placements, and a
 * stopping task keeps its capacity until it ends: that is what makes a
 * second run on the applied state return nothing (docs/scheduler.md). */
#include "sched/sched.h"

#include "util/err.h"

#include <stdlib.h>
#include <string.h>

struct wsite {
    const struct sched_site *s;
    uint64_t cpu_used;
    uint64_t mem_used;
};

struct wtask {
    const struct sched_task *t;
    int job;    /* index into ctx.jobs, -1: the job is gone */
    int site;   /* index into ctx.sites, -1: none or not a known site */
    bool named; /* the record names a site (known or not) */
    enum sched_task_state state;
    bool stop;
};

struct ctx {
    uint64_t now;
    struct wsite *sites;
    size_t nsites;
    const struct sched_job **jobs;
    size_t njobs;
    struct wtask *tasks;
    size_t ntasks;
    bool *allowed;       /* per site: the current job's constraints hold */
    uint32_t *per_site;  /* per site: live tasks of the current job */
    struct wtask **pick; /* scratch: tasks of the current job */
    struct sched_result *out;
};

/* ---- sorting and lookup ---- */

static int site_cmp(const void *a, const void *b)
{
    const struct wsite *x = a, *y = b;

    return strcmp(x->s->name, y->s->name);
}

static int job_cmp(const void *a, const void *b)
{
    const struct sched_job *const *x = a, *const *y = b;

    return strcmp((*x)->id, (*y)->id);
}

static int task_cmp(const void *a, const void *b)
{
    const struct wtask *x = a, *y = b;
    int c = strcmp(x->t->job, y->t->job);

    if (c != 0) {
        return c;
    }
    return (x->t->index > y->t->index) - (x->t->index < y->t->index);
}

static int find_site(const struct ctx *c, const char *name)
{
    size_t lo = 0, hi = c->nsites;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(name, c->sites[mid].s->name);

        if (r == 0) {
            return (int)mid;
        }
        if (r < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return -1;
}

static int find_job(const struct ctx *c, const char *id)
{
    size_t lo = 0, hi = c->njobs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int r = strcmp(id, c->jobs[mid]->id);

        if (r == 0) {
            return (int)mid;
        }
        if (r < 0) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    return -1;
}

/* ---- task classes ---- */

static bool on_site_state(enum sched_task_state s)
{
    return s == SCHED_TASK_PLACED || s == SCHED_TASK_ASSIGNED ||
           s == SCHED_TASK_RUNNING;
}

/* Placed on a site and holding its resources there. */
static bool uses_capacity(const struct wtask *w)
{
    return w->site >= 0 &&
           (on_site_state(w->state) || w->state == SCHED_TASK_UNKNOWN);
}

/* An unknown task whose job asked to move it, and whose delay has passed. */
static bool expired(const struct ctx *c, const struct wtask *w)
{
    const struct sched_job *j = w->job >= 0 ? c->jobs[w->job] : NULL;
    const struct sched_site *s;

    if (j == NULL || w->state != SCHED_TASK_UNKNOWN || w->site < 0 ||
        j->type == SCHED_JOB_SYSTEM || j->reschedule_after_ms == 0) {
        return false;
    }
    s = c->sites[w->site].s;
    return s->status == SCHED_SITE_SILENT && c->now >= s->silent_since_ms &&
           c->now - s->silent_since_ms >= j->reschedule_after_ms;
}

/* Counts toward the job's COUNT: wanted and not given up on. */
static bool live(const struct ctx *c, const struct wtask *w)
{
    if (w->stop) {
        return false;
    }
    if (w->state == SCHED_TASK_PENDING || on_site_state(w->state)) {
        return true;
    }
    return w->state == SCHED_TASK_UNKNOWN && !expired(c, w);
}

/* ---- output ---- */

static int emit(struct ctx *c, const struct sched_change *ch)
{
    struct sched_result *r = c->out;

    if (r->nchanges == r->changes_cap) {
        size_t cap = r->changes_cap ? r->changes_cap * 2 : 64;
        void *p = realloc(r->changes, cap * sizeof(*r->changes));

        if (p == NULL) {
            return -1;
        }
        r->changes = p;
        r->changes_cap = cap;
    }
    r->changes[r->nchanges++] = *ch;
    return 0;
}

static int note(struct ctx *c, const char *job, uint32_t index,
                const char *site, enum sched_why why)
{
    struct sched_result *r = c->out;

    if (r->nnotes == r->notes_cap) {
        size_t cap = r->notes_cap ? r->notes_cap * 2 : 16;
        void *p = realloc(r->notes, cap * sizeof(*r->notes));

        if (p == NULL) {
            return -1;
        }
        r->notes = p;
        r->notes_cap = cap;
    }
    r->notes[r->nnotes++] = (struct sched_note){
        .job = job, .index = index, .site = site, .why = why};
    return 0;
}

/* Emit a state change for task W and apply it to the private copy. */
static int set_state(struct ctx *c, struct wtask *w,
                     enum sched_change_kind kind, enum sched_task_state to,
                     enum sched_why why)
{
    struct sched_change ch = {.kind = kind,
                              .why = why,
                              .job = w->t->job,
                              .index = w->t->index,
                              .site = w->t->site};

    w->state = to;
    return emit(c, &ch);
}

static int stop(struct ctx *c, struct wtask *w, enum sched_why why)
{
    struct sched_change ch = {.kind = SCHED_STOP,
                              .why = why,
                              .job = w->t->job,
                              .index = w->t->index,
                              .site = w->named ? w->t->site : NULL};

    w->stop = true;
    return emit(c, &ch);
}

/* ---- the private copy ---- */

static int check_dups(const struct ctx *c, char *err, size_t errlen)
{
    for (size_t i = 1; i < c->nsites; i++) {
        if (site_cmp(&c->sites[i - 1], &c->sites[i]) == 0) {
            return err_fail(err, errlen, "duplicate site %s",
                            c->sites[i].s->name);
        }
    }
    for (size_t i = 1; i < c->njobs; i++) {
        if (job_cmp(&c->jobs[i - 1], &c->jobs[i]) == 0) {
            return err_fail(err, errlen, "duplicate job %s", c->jobs[i]->id);
        }
    }
    for (size_t i = 1; i < c->ntasks; i++) {
        if (task_cmp(&c->tasks[i - 1], &c->tasks[i]) == 0) {
            return err_fail(err, errlen, "duplicate task %s.%u",
                            c->tasks[i].t->job, c->tasks[i].t->index);
        }
    }
    return 0;
}

static bool labels_ok(const struct sched_label *l, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (l[i].key == NULL || l[i].value == NULL) {
            return false;
        }
    }
    return n == 0 || l != NULL;
}

static int check_sites(const struct sched_input *in, char *err, size_t errlen)
{
    for (size_t i = 0; i < in->nsites; i++) {
        const struct sched_site *s = &in->sites[i];

        if (s->name == NULL) {
            return err_fail(err, errlen, "site %zu has no name", i);
        }
        if (!labels_ok(s->labels, s->nlabels)) {
            return err_fail(err, errlen, "site %s: bad label", s->name);
        }
        if (s->cpu > SCHED_MAX_RESOURCE || s->memory_mb > SCHED_MAX_RESOURCE) {
            return err_fail(err, errlen, "site %s: capacity too large",
                            s->name);
        }
    }
    return 0;
}

static int check_jobs(const struct sched_input *in, char *err, size_t errlen)
{
    for (size_t i = 0; i < in->njobs; i++) {
        const struct sched_job *j = &in->jobs[i];

        if (j->id == NULL) {
            return err_fail(err, errlen, "job %zu has no id", i);
        }
        if (!labels_ok(j->labels, j->nlabels)) {
            return err_fail(err, errlen, "job %s: bad label", j->id);
        }
        for (size_t k = 0; k < j->nsites; k++) {
            if (j->sites == NULL || j->sites[k] == NULL) {
                return err_fail(err, errlen, "job %s: bad site list", j->id);
            }
        }
        if (j->cpu > SCHED_MAX_RESOURCE || j->memory_mb > SCHED_MAX_RESOURCE) {
            return err_fail(err, errlen, "job %s: resources too large", j->id);
        }
    }
    return 0;
}

static int check_tasks(const struct sched_input *in, char *err, size_t errlen)
{
    for (size_t i = 0; i < in->ntasks; i++) {
        const struct sched_task *t = &in->tasks[i];
        bool held = on_site_state(t->state) || t->state == SCHED_TASK_UNKNOWN;

        if (t->job == NULL) {
            return err_fail(err, errlen, "task %zu has no job", i);
        }
        if (t->index == UINT32_MAX) {
            return err_fail(err, errlen, "task %s.%u: index too large", t->job,
                            t->index);
        }
        if (held && (t->site == NULL || t->site[0] == '\0')) {
            return err_fail(err, errlen, "task %s.%u: on no site", t->job,
                            t->index);
        }
    }
    return 0;
}

static int alloc_ctx(struct ctx *c, const struct sched_input *in)
{
    size_t ns = in->nsites ? in->nsites : 1;
    size_t nj = in->njobs ? in->njobs : 1;
    size_t nt = in->ntasks ? in->ntasks : 1;

    c->sites = calloc(ns, sizeof(*c->sites));
    c->jobs = calloc(nj, sizeof(*c->jobs));
    c->tasks = calloc(nt, sizeof(*c->tasks));
    c->allowed = calloc(ns, sizeof(*c->allowed));
    c->per_site = calloc(ns, sizeof(*c->per_site));
    c->pick = calloc(nt, sizeof(*c->pick));
    if (!c->sites || !c->jobs || !c->tasks || !c->allowed || !c->per_site ||
        !c->pick) {
        return -1;
    }
    return 0;
}

static void free_ctx(struct ctx *c)
{
    free(c->sites);
    free(c->jobs);
    free(c->tasks);
    free(c->allowed);
    free(c->per_site);
    free(c->pick);
}

static void link_tasks(struct ctx *c)
{
    for (size_t i = 0; i < c->ntasks; i++) {
        struct wtask *w = &c->tasks[i];
        const char *site = w->t->site;

        w->job = find_job(c, w->t->job);
        w->named = site != NULL && site[0] != '\0';
        w->site = w->named ? find_site(c, site) : -1;
        w->state = w->t->state;
        w->stop = w->t->stop;
    }
}

static int prepare(struct ctx *c, const struct sched_input *in, char *err,
                   size_t errlen)
{
    if (check_sites(in, err, errlen) != 0 || check_jobs(in, err, errlen) != 0 ||
        check_tasks(in, err, errlen) != 0) {
        return -1;
    }
    if (alloc_ctx(c, in) != 0) {
        return err_fail(err, errlen, "scheduler: out of memory");
    }

    c->nsites = in->nsites;
    c->njobs = in->njobs;
    c->ntasks = in->ntasks;
    for (size_t i = 0; i < c->nsites; i++) {
        c->sites[i].s = &in->sites[i];
    }
    for (size_t i = 0; i < c->njobs; i++) {
        c->jobs[i] = &in->jobs[i];
    }
    for (size_t i = 0; i < c->ntasks; i++) {
        c->tasks[i].t = &in->tasks[i];
    }

    qsort(c->sites, c->nsites, sizeof(*c->sites), site_cmp);
    qsort(c->jobs, c->njobs, sizeof(*c->jobs), job_cmp);
    qsort(c->tasks, c->ntasks, sizeof(*c->tasks), task_cmp);
    if (check_dups(c, err, errlen) != 0) {
        return -1;
    }
    link_tasks(c);
    return 0;
}

/* The tasks of job J: [*LO, *HI) in the sorted tasks. */
static void job_range(const struct ctx *c, int j, size_t *lo, size_t *hi)
{
    const char *id = c->jobs[j]->id;
    size_t a = 0, b = c->ntasks;

    while (a < b) {
        size_t mid = a + (b - a) / 2;

        if (strcmp(c->tasks[mid].t->job, id) < 0) {
            a = mid + 1;
        } else {
            b = mid;
        }
    }
    *lo = a;
    for (b = a; b < c->ntasks && c->tasks[b].job == j; b++) {
    }
    *hi = b;
}

/* ---- phase 1: site status ---- */

static int status_one(struct ctx *c, struct wtask *w)
{
    enum sched_site_status st;

    if (!w->named ||
        !(on_site_state(w->state) || w->state == SCHED_TASK_UNKNOWN)) {
        return 0;
    }
    st = w->site < 0 ? SCHED_SITE_LOST : c->sites[w->site].s->status;
    if (st == SCHED_SITE_LOST) {
        return set_state(c, w, SCHED_LOST, SCHED_TASK_LOST,
                         SCHED_WHY_SITE_LOST);
    }
    if (st == SCHED_SITE_SILENT && w->state != SCHED_TASK_UNKNOWN) {
        return set_state(c, w, SCHED_UNKNOWN, SCHED_TASK_UNKNOWN,
                         SCHED_WHY_SITE_SILENT);
    }
    if (st == SCHED_SITE_CONNECTED && w->state == SCHED_TASK_UNKNOWN) {
        return set_state(c, w, SCHED_RUNNING, SCHED_TASK_RUNNING,
                         SCHED_WHY_SITE_BACK);
    }
    return 0;
}

static int phase_status(struct ctx *c)
{
    for (size_t i = 0; i < c->ntasks; i++) {
        if (status_one(c, &c->tasks[i]) != 0) {
            return -1;
        }
    }
    return 0;
}

/* What the tasks of known jobs hold on each site. A task of a removed job
 * holds nothing here: its resources went with the job record. */
static void account(struct ctx *c)
{
    for (size_t i = 0; i < c->ntasks; i++) {
        const struct wtask *w = &c->tasks[i];

        if (w->job >= 0 && uses_capacity(w)) {
            c->sites[w->site].cpu_used += c->jobs[w->job]->cpu;
            c->sites[w->site].mem_used += c->jobs[w->job]->memory_mb;
        }
    }
}

/* ---- constraints ---- */

static bool label_present(const struct sched_site *s,
                          const struct sched_label *l)
{
    for (size_t i = 0; i < s->nlabels; i++) {
        if (strcmp(s->labels[i].key, l->key) == 0) {
            return strcmp(s->labels[i].value, l->value) == 0;
        }
    }
    return false;
}

static bool site_allowed(const struct sched_job *j, const struct sched_site *s)
{
    bool listed = j->nsites == 0;

    for (size_t i = 0; i < j->nsites && !listed; i++) {
        listed = strcmp(j->sites[i], s->name) == 0;
    }
    if (!listed) {
        return false;
    }
    for (size_t i = 0; i < j->nlabels; i++) {
        if (!label_present(s, &j->labels[i])) {
            return false;
        }
    }
    return true;
}

static void compute_allowed(struct ctx *c, const struct sched_job *j)
{
    for (size_t s = 0; s < c->nsites; s++) {
        c->allowed[s] = site_allowed(j, c->sites[s].s);
    }
}

/* ---- phase 2: stops ---- */

/* Lower ranks are stopped first: a copy still waiting, then one nobody can
 * see, then a placed one, and a running one last. */
static int rank(const struct wtask *w)
{
    if (w->state == SCHED_TASK_PENDING) {
        return 0;
    }
    if (w->state == SCHED_TASK_UNKNOWN) {
        return 1;
    }
    return w->state == SCHED_TASK_RUNNING ? 3 : 2;
}

/* Stop order: rank ascending, then the newest (highest index) first. A
 * replacement is always newer than the task it replaces, so when a site
 * comes back its survivors (running again) outlive their replacements. */
static int surplus_cmp(const void *a, const void *b)
{
    const struct wtask *x = *(const struct wtask *const *)a;
    const struct wtask *y = *(const struct wtask *const *)b;

    if (rank(x) != rank(y)) {
        return rank(x) - rank(y);
    }
    return (x->t->index < y->t->index) - (x->t->index > y->t->index);
}

/* For a system job: by site, then in stop order. */
static int system_cmp(const void *a, const void *b)
{
    const struct wtask *x = *(const struct wtask *const *)a;
    const struct wtask *y = *(const struct wtask *const *)b;

    if (x->site != y->site) {
        return x->site - y->site;
    }
    return surplus_cmp(a, b);
}

/* How many live tasks job J wants: COUNT, less the batch tasks done. */
static uint32_t wanted(const struct ctx *c, int j, size_t lo, size_t hi)
{
    const struct sched_job *job = c->jobs[j];
    uint32_t done = 0;

    if (job->type != SCHED_JOB_BATCH) {
        return job->count;
    }
    for (size_t i = lo; i < hi; i++) {
        if (!c->tasks[i].stop && c->tasks[i].state == SCHED_TASK_COMPLETE) {
            done++;
        }
    }
    return done >= job->count ? 0 : job->count - done;
}

static int stop_surplus(struct ctx *c, int j, size_t lo, size_t hi)
{
    uint32_t want = wanted(c, j, lo, hi);
    size_t n = 0;

    for (size_t i = lo; i < hi; i++) {
        if (live(c, &c->tasks[i])) {
            c->pick[n++] = &c->tasks[i];
        }
    }
    if (n <= want) {
        return 0;
    }
    qsort(c->pick, n, sizeof(*c->pick), surplus_cmp);
    for (size_t k = 0; k < n - want; k++) {
        if (stop(c, c->pick[k], SCHED_WHY_SURPLUS) != 0) {
            return -1;
        }
    }
    return 0;
}

/* A system job keeps one live task per site and none without a site. */
static int stop_system_extra(struct ctx *c, size_t lo, size_t hi)
{
    size_t n = 0;

    for (size_t i = lo; i < hi; i++) {
        struct wtask *w = &c->tasks[i];

        if (!live(c, w)) {
            continue;
        }
        if (w->site < 0) {
            if (stop(c, w, SCHED_WHY_SURPLUS) != 0) {
                return -1;
            }
            continue;
        }
        c->pick[n++] = w;
    }
    qsort(c->pick, n, sizeof(*c->pick), system_cmp);
    for (size_t k = 0; k + 1 < n; k++) {
        if (c->pick[k]->site == c->pick[k + 1]->site &&
            stop(c, c->pick[k], SCHED_WHY_SURPLUS) != 0) {
            return -1;
        }
    }
    return 0;
}

static int stop_not_allowed(struct ctx *c, size_t lo, size_t hi)
{
    for (size_t i = lo; i < hi; i++) {
        struct wtask *w = &c->tasks[i];

        if (!w->stop && uses_capacity(w) && !c->allowed[w->site] &&
            stop(c, w, SCHED_WHY_NOT_ALLOWED) != 0) {
            return -1;
        }
    }
    return 0;
}

static int stop_orphans(struct ctx *c)
{
    for (size_t i = 0; i < c->ntasks; i++) {
        struct wtask *w = &c->tasks[i];
        bool wanted_state = w->state == SCHED_TASK_PENDING ||
                            on_site_state(w->state) ||
                            w->state == SCHED_TASK_UNKNOWN;

        if (w->job < 0 && !w->stop && wanted_state &&
            stop(c, w, SCHED_WHY_JOB_GONE) != 0) {
            return -1;
        }
    }
    return 0;
}

static int phase_stops(struct ctx *c)
{
    if (stop_orphans(c) != 0) {
        return -1;
    }
    for (size_t j = 0; j < c->njobs; j++) {
        size_t lo, hi;
        int rc;

        job_range(c, (int)j, &lo, &hi);
        compute_allowed(c, c->jobs[j]);
        rc = stop_not_allowed(c, lo, hi);
        if (rc == 0 && c->jobs[j]->type == SCHED_JOB_SYSTEM) {
            rc = stop_system_extra(c, lo, hi);
        } else if (rc == 0) {
            rc = stop_surplus(c, (int)j, lo, hi);
        }
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- phase 3: placements ---- */

static bool fits(const struct wsite *s, const struct sched_job *j)
{
    return s->cpu_used + j->cpu <= s->s->cpu &&
           s->mem_used + j->memory_mb <= s->s->memory_mb;
}

/* Free share of the scarcer resource, scaled to 2^20: an integer, so that
 * the comparison is exact. */
static uint64_t free_score(const struct wsite *s)
{
    uint64_t fc = s->cpu_used >= s->s->cpu ? 0 : s->s->cpu - s->cpu_used;
    uint64_t fm =
        s->mem_used >= s->s->memory_mb ? 0 : s->s->memory_mb - s->mem_used;
    uint64_t sc = s->s->cpu ? (fc << 20) / s->s->cpu : 0;
    uint64_t sm = s->s->memory_mb ? (fm << 20) / s->s->memory_mb : 0;

    return sc < sm ? sc : sm;
}

/* Better than site B: fewer tasks of this job, then more free capacity.
 * Sites are visited by name, so an exact tie keeps the lower name. */
static bool better(const struct ctx *c, size_t a, size_t b)
{
    if (c->per_site[a] != c->per_site[b]) {
        return c->per_site[a] < c->per_site[b];
    }
    return free_score(&c->sites[a]) > free_score(&c->sites[b]);
}

/* The site for one more task of J, or -1 with the reason in *WHY. */
static int pick_site(const struct ctx *c, const struct sched_job *j,
                     enum sched_why *why)
{
    bool any_allowed = false, any_connected = false;
    int best = -1;

    for (size_t s = 0; s < c->nsites; s++) {
        if (!c->allowed[s]) {
            continue;
        }
        any_allowed = true;
        if (c->sites[s].s->status != SCHED_SITE_CONNECTED) {
            continue;
        }
        any_connected = true;
        if (fits(&c->sites[s], j) && (best < 0 || better(c, s, (size_t)best))) {
            best = (int)s;
        }
    }
    if (best < 0) {
        *why = !any_allowed     ? SCHED_WHY_NO_MATCH
               : !any_connected ? SCHED_WHY_NO_CONNECTED
                                : SCHED_WHY_NO_CAPACITY;
    }
    return best;
}

static void take(struct ctx *c, const struct sched_job *j, int s)
{
    c->sites[s].cpu_used += j->cpu;
    c->sites[s].mem_used += j->memory_mb;
    c->per_site[s]++;
}

static int place_pending(struct ctx *c, const struct sched_job *j,
                         struct wtask *w)
{
    enum sched_why why = SCHED_WHY_NONE;
    int s = pick_site(c, j, &why);
    struct sched_change ch = {.kind = SCHED_PLACE,
                              .why = SCHED_WHY_NEW,
                              .job = j->id,
                              .index = w->t->index};

    if (s < 0) {
        return note(c, j->id, w->t->index, NULL, why);
    }
    take(c, j, s);
    ch.site = c->sites[s].s->name;
    w->state = SCHED_TASK_PLACED;
    w->site = s;
    return emit(c, &ch);
}

/* Does a live task of [LO, HI) replace task W? */
static bool replaced(const struct ctx *c, const struct wtask *w, size_t lo,
                     size_t hi)
{
    for (size_t i = lo; i < hi; i++) {
        const struct wtask *r = &c->tasks[i];

        if (r->t->is_replacement && r->t->replaces == w->t->index &&
            live(c, r)) {
            return true;
        }
    }
    return false;
}

/* Expired unknown tasks that no live task replaces yet, into c->pick. */
static size_t unreplaced(struct ctx *c, size_t lo, size_t hi)
{
    size_t n = 0;

    for (size_t i = lo; i < hi; i++) {
        struct wtask *w = &c->tasks[i];

        if (!w->stop && expired(c, w) && !replaced(c, w, lo, hi)) {
            c->pick[n++] = w;
        }
    }
    return n;
}

/* A new task INDEX of J, replacing R when R is not NULL. */
static int place_new(struct ctx *c, const struct sched_job *j, uint32_t index,
                     const struct wtask *r)
{
    enum sched_why why = SCHED_WHY_NONE;
    int s = pick_site(c, j, &why);
    struct sched_change ch = {.kind = SCHED_PLACE,
                              .why = SCHED_WHY_NEW,
                              .job = j->id,
                              .index = index,
                              .created = true};

    if (r != NULL) {
        ch.is_replacement = true;
        ch.replaces = r->t->index;
        ch.from_site = r->t->site;
        ch.why = SCHED_WHY_SITE_SILENT;
    }
    if (s < 0) {
        ch.kind = SCHED_PENDING;
        if (note(c, j->id, index, NULL, why) != 0) {
            return -1;
        }
        return emit(c, &ch);
    }
    take(c, j, s);
    ch.site = c->sites[s].s->name;
    if (r != NULL) {
        ch.kind = SCHED_MOVE;
    }
    return emit(c, &ch);
}

static int place_counted(struct ctx *c, int j, size_t lo, size_t hi)
{
    const struct sched_job *job = c->jobs[j];
    uint32_t want = wanted(c, j, lo, hi), have = 0;
    uint32_t next = hi > lo ? c->tasks[hi - 1].t->index + 1 : 0;
    bool lost_before = false;
    size_t nrep, k = 0;

    for (size_t i = lo; i < hi; i++) {
        struct wtask *w = &c->tasks[i];

        lost_before |= !w->stop && (w->state == SCHED_TASK_FAILED ||
                                    w->state == SCHED_TASK_LOST);
        if (!live(c, w)) {
            continue;
        }
        have++;
        if (w->state == SCHED_TASK_PENDING && place_pending(c, job, w) != 0) {
            return -1;
        }
    }
    if (have >= want) {
        return 0;
    }

    nrep = unreplaced(c, lo, hi);
    for (; have < want; have++) {
        const struct wtask *r = k < nrep ? c->pick[k++] : NULL;
        size_t at = c->out->nchanges;

        if (place_new(c, job, next++, r) != 0) {
            return -1;
        }
        if (r == NULL && lost_before) {
            c->out->changes[at].why = SCHED_WHY_REPLACE;
        }
    }
    return 0;
}

static int place_system(struct ctx *c, int j)
{
    const struct sched_job *job = c->jobs[j];
    size_t lo, hi;
    uint32_t next;

    job_range(c, j, &lo, &hi);
    next = hi > lo ? c->tasks[hi - 1].t->index + 1 : 0;
    for (size_t s = 0; s < c->nsites; s++) {
        struct sched_change ch = {.kind = SCHED_PLACE,
                                  .why = SCHED_WHY_NEW,
                                  .job = job->id,
                                  .created = true};
        const char *name = c->sites[s].s->name;

        if (!c->allowed[s] || c->per_site[s] > 0 ||
            c->sites[s].s->status != SCHED_SITE_CONNECTED) {
            continue;
        }
        if (!fits(&c->sites[s], job)) {
            if (note(c, job->id, 0, name, SCHED_WHY_NO_CAPACITY) != 0) {
                return -1;
            }
            continue;
        }
        take(c, job, (int)s);
        ch.index = next++;
        ch.site = name;
        if (emit(c, &ch) != 0) {
            return -1;
        }
    }
    return 0;
}

static int phase_places(struct ctx *c)
{
    for (size_t j = 0; j < c->njobs; j++) {
        size_t lo, hi;
        int rc;

        job_range(c, (int)j, &lo, &hi);
        compute_allowed(c, c->jobs[j]);
        memset(c->per_site, 0, c->nsites * sizeof(*c->per_site));
        for (size_t i = lo; i < hi; i++) {
            if (live(c, &c->tasks[i]) && c->tasks[i].site >= 0) {
                c->per_site[c->tasks[i].site]++;
            }
        }
        rc = c->jobs[j]->type == SCHED_JOB_SYSTEM
                 ? place_system(c, (int)j)
                 : place_counted(c, (int)j, lo, hi);
        if (rc != 0) {
            return -1;
        }
    }
    return 0;
}

/* ---- the entry points ---- */

void sched_result_init(struct sched_result *r)
{
    memset(r, 0, sizeof(*r));
}

void sched_result_close(struct sched_result *r)
{
    free(r->changes);
    free(r->notes);
    sched_result_init(r);
}

int sched_decide(const struct sched_input *in, uint64_t now_ms,
                 struct sched_result *out, char *err, size_t errlen)
{
    struct ctx c = {.now = now_ms, .out = out};
    int rc;

    out->nchanges = 0;
    out->nnotes = 0;
    rc = prepare(&c, in, err, errlen);
    if (rc == 0) {
        rc = phase_status(&c);
        if (rc == 0) {
            account(&c);
            rc = phase_stops(&c);
        }
        if (rc == 0) {
            rc = phase_places(&c);
        }
        if (rc != 0) {
            err_fail(err, errlen, "scheduler: out of memory");
        }
    }
    free_ctx(&c);
    if (rc != 0) {
        out->nchanges = 0;
        out->nnotes = 0;
    }
    return rc;
}
