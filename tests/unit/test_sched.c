/* test_sched.c - the scheduler: placement, spread, silent sites, surplus. */
#include "harness.h"
#include "sched/sched.h"

#include <stdlib.h>

#define MAX_SITES 8
#define MAX_JOBS 8

/* The replicated state as the tests hold it. */
struct world {
    struct sched_site sites[MAX_SITES];
    size_t nsites;
    struct sched_job jobs[MAX_JOBS];
    size_t njobs;
    struct sched_tasks tasks;
    struct sched_result r;
};

static const struct sched_label edge_camera[] = {{"camera", "yes"},
                                                 {"arch", "arm"}};
static const struct sched_label no_camera[] = {{"camera", "no"},
                                               {"arch", "arm"}};
static const struct sched_label want_camera[] = {{"camera", "yes"}};

static void world_init(struct world *w)
{
    memset(w, 0, sizeof(*w));
    sched_tasks_init(&w->tasks);
    sched_result_init(&w->r);
}

static void world_close(struct world *w)
{
    sched_tasks_close(&w->tasks);
    sched_result_close(&w->r);
}

static struct sched_site *site(struct world *w, const char *name, uint64_t cpu,
                               uint64_t mem)
{
    struct sched_site *s = &w->sites[w->nsites++];

    *s = (struct sched_site){.name = name, .cpu = cpu, .memory_mb = mem};
    return s;
}

static struct sched_job *job(struct world *w, const char *id, uint32_t count,
                             uint64_t cpu, uint64_t mem)
{
    struct sched_job *j = &w->jobs[w->njobs++];

    *j = (struct sched_job){
        .id = id, .count = count, .cpu = cpu, .memory_mb = mem};
    return j;
}

static int decide(struct world *w, uint64_t now)
{
    struct sched_input in = {.sites = w->sites,
                             .nsites = w->nsites,
                             .jobs = w->jobs,
                             .njobs = w->njobs,
                             .tasks = w->tasks.v,
                             .ntasks = w->tasks.n};
    char err[128];

    return sched_decide(&in, now, &w->r, err, sizeof(err));
}

static int apply(struct world *w)
{
    for (size_t i = 0; i < w->r.nchanges; i++) {
        if (sched_tasks_apply(&w->tasks, &w->r.changes[i]) != 0) {
            return -1;
        }
    }
    return 0;
}

/* Decide and apply at NOW; then decide again: it must find nothing to do.
 * Returns the number of changes of the first run, or -1. */
static long step(struct world *w, uint64_t now)
{
    long n;

    if (decide(w, now) != 0 || apply(w) != 0) {
        return -1;
    }
    n = (long)w->r.nchanges;
    if (decide(w, now) != 0 || w->r.nchanges != 0) {
        return -1;
    }
    return n;
}

/* Live tasks of JOB on SITE (NULL: anywhere) in STATE (-1: any live). */
static int count_on(const struct world *w, const char *jobid,
                    const char *sitename, int state)
{
    int n = 0;

    for (size_t i = 0; i < w->tasks.n; i++) {
        const struct sched_task *t = &w->tasks.v[i];
        bool here = sitename == NULL ||
                    (t->site != NULL && strcmp(t->site, sitename) == 0);
        bool gone = t->stop || t->state == SCHED_TASK_COMPLETE ||
                    t->state == SCHED_TASK_FAILED ||
                    t->state == SCHED_TASK_LOST;

        if (strcmp(t->job, jobid) == 0 && here && !gone &&
            (state < 0 || (int)t->state == state)) {
            n++;
        }
    }
    return n;
}

static struct sched_task *task(struct world *w, const char *jobid,
                               uint32_t index)
{
    for (size_t i = 0; i < w->tasks.n; i++) {
        if (w->tasks.v[i].index == index &&
            strcmp(w->tasks.v[i].job, jobid) == 0) {
            return &w->tasks.v[i];
        }
    }
    return NULL;
}

/* Mark every task placed on a site as running, as its controller would. */
static void all_running(struct world *w)
{
    for (size_t i = 0; i < w->tasks.n; i++) {
        if (w->tasks.v[i].state == SCHED_TASK_PLACED) {
            w->tasks.v[i].state = SCHED_TASK_RUNNING;
        }
    }
}

static size_t count_kind(const struct world *w, enum sched_change_kind k)
{
    size_t n = 0;

    for (size_t i = 0; i < w->r.nchanges; i++) {
        n += w->r.changes[i].kind == k;
    }
    return n;
}

/* ---- constraints ---- */

TEST(constraints_sites_list_limits_placement)
{
    struct world w;
    const char *only[] = {"b"};
    struct sched_job *j;

    world_init(&w);
    site(&w, "a", 4000, 4096);
    site(&w, "b", 4000, 4096);
    site(&w, "c", 4000, 4096);
    j = job(&w, "web", 3, 100, 64);
    j->sites = only;
    j->nsites = 1;
    EXPECT_EQ(step(&w, 0), 3);
    EXPECT_EQ(count_on(&w, "web", "b", SCHED_TASK_PLACED), 3);
    world_close(&w);
}

TEST(constraints_labels_must_all_match)
{
    struct world w;
    struct sched_job *j;

    world_init(&w);
    site(&w, "a", 4000, 4096)->labels = no_camera;
    w.sites[0].nlabels = 2;
    site(&w, "b", 4000, 4096)->labels = edge_camera;
    w.sites[1].nlabels = 2;
    site(&w, "c", 4000, 4096); /* no labels at all */
    j = job(&w, "cam", 2, 100, 64);
    j->labels = want_camera;
    j->nlabels = 1;
    EXPECT_EQ(step(&w, 0), 2);
    EXPECT_EQ(count_on(&w, "cam", "b", -1), 2);
    world_close(&w);
}

TEST(constraints_no_match_leaves_pending_with_reason)
{
    struct world w;
    const char *only[] = {"nowhere"};
    struct sched_job *j;

    world_init(&w);
    site(&w, "a", 4000, 4096);
    j = job(&w, "web", 1, 100, 64);
    j->sites = only;
    j->nsites = 1;
    EXPECT_EQ(decide(&w, 0), 0);
    EXPECT_EQ(w.r.nchanges, 1);
    EXPECT_EQ(w.r.changes[0].kind, SCHED_PENDING);
    EXPECT_EQ(w.r.nnotes, 1);
    EXPECT_EQ(w.r.notes[0].why, SCHED_WHY_NO_MATCH);
    EXPECT_EQ(apply(&w), 0);
    EXPECT_EQ(decide(&w, 0), 0);
    EXPECT_EQ(w.r.nchanges, 0);
    EXPECT_EQ(w.r.nnotes, 1); /* still shown, not committed again */
    world_close(&w);
}

TEST(job_changed_to_exclude_a_site_moves_its_tasks)
{
    struct world w;
    const char *only[] = {"b"};
    struct sched_job *j;

    world_init(&w);
    site(&w, "a", 4000, 4096);
    site(&w, "b", 4000, 4096);
    j = job(&w, "web", 2, 100, 64);
    EXPECT_EQ(step(&w, 0), 2);
    EXPECT_EQ(count_on(&w, "web", "a", -1), 1);
    j->sites = only;
    j->nsites = 1;
    EXPECT_EQ(step(&w, 1), 2); /* stop the one on a, place one on b */
    EXPECT_EQ(count_on(&w, "web", "a", -1), 0);
    EXPECT_EQ(count_on(&w, "web", "b", -1), 2);
    world_close(&w);
}

/* ---- capacity ---- */

TEST(capacity_is_never_overcommitted)
{
    struct world w;

    world_init(&w);
    site(&w, "a", 1000, 1024);
    site(&w, "b", 1000, 1024);
    job(&w, "big", 3, 600, 100);
    job(&w, "mem", 4, 100, 500);
    EXPECT_TRUE(step(&w, 0) >= 0);
    /* 600 + 100*k <= 1000 cpu and 100 + 500*k <= 1024 memory per site */
    EXPECT_EQ(count_on(&w, "big", NULL, SCHED_TASK_PLACED), 2);
    EXPECT_EQ(count_on(&w, "mem", NULL, SCHED_TASK_PLACED), 2);
    EXPECT_EQ(count_on(&w, "big", NULL, SCHED_TASK_PENDING), 1);
    EXPECT_EQ(count_on(&w, "mem", NULL, SCHED_TASK_PENDING), 2);
    for (size_t s = 0; s < 2; s++) {
        const char *n = w.sites[s].name;
        int big = count_on(&w, "big", n, -1);
        int mem = count_on(&w, "mem", n, -1);

        EXPECT_TRUE(600 * big + 100 * mem <= 1000);
        EXPECT_TRUE(100 * big + 500 * mem <= 1024);
    }
    world_close(&w);
}

TEST(capacity_full_leaves_pending_until_a_site_joins)
{
    struct world w;

    world_init(&w);
    site(&w, "a", 1000, 1024);
    job(&w, "web", 3, 400, 64);
    EXPECT_EQ(step(&w, 0), 3); /* 2 placed, 1 pending */
    EXPECT_EQ(count_on(&w, "web", NULL, SCHED_TASK_PENDING), 1);
    EXPECT_EQ(decide(&w, 0), 0);
    EXPECT_EQ(w.r.nnotes, 1);
    EXPECT_EQ(w.r.notes[0].why, SCHED_WHY_NO_CAPACITY);

    site(&w, "b", 1000, 1024);
    EXPECT_EQ(step(&w, 1), 1);
    EXPECT_EQ(count_on(&w, "web", "b", SCHED_TASK_PLACED), 1);
    EXPECT_EQ(count_on(&w, "web", NULL, SCHED_TASK_PENDING), 0);
    world_close(&w);
}

/* ---- spread ---- */

TEST(spread_puts_a_job_evenly_across_sites)
{
    struct world w;

    world_init(&w);
    site(&w, "a", 8000, 8192);
    site(&w, "b", 8000, 8192);
    site(&w, "c", 8000, 8192);
    job(&w, "web", 7, 100, 64);
    EXPECT_EQ(step(&w, 0), 7);
    EXPECT_EQ(count_on(&w, "web", "a", -1), 3); /* tie: lowest name */
    EXPECT_EQ(count_on(&w, "web", "b", -1), 2);
    EXPECT_EQ(count_on(&w, "web", "c", -1), 2);
    world_close(&w);
}

TEST(spread_breaks_ties_by_largest_free_share)
{
    struct world w;
    const char *on_b[] = {"b"};
    struct sched_job *j;

    world_init(&w);
    site(&w, "a", 1000, 1024);
    site(&w, "b", 4000, 4096);
    j = job(&w, "other", 1, 2000, 64);
    j->sites = on_b;
    j->nsites = 1;
    EXPECT_EQ(step(&w, 0), 1);
    /* a: 1000 free of 1000; b: 2000 free of 4000: a has the larger share */
    job(&w, "web", 1, 100, 64);
    EXPECT_EQ(step(&w, 1), 1);
    EXPECT_EQ(count_on(&w, "web", "a", -1), 1);
    job(&w, "api", 1, 100, 64);
    EXPECT_EQ(step(&w, 2), 1);
    EXPECT_EQ(count_on(&w, "api", "a", -1), 1);
    world_close(&w);
}

TEST(pinned_job_uses_only_its_sites_even_when_others_are_emptier)
{
    struct world w;
    const char *pin[] = {"c", "a"};
    struct sched_job *j;

    world_init(&w);
    site(&w, "a", 4000, 4096);
    site(&w, "b", 64000, 65536);
    site(&w, "c", 4000, 4096);
    j = job(&w, "db", 4, 100, 64);
    j->sites = pin;
    j->nsites = 2;
    EXPECT_EQ(step(&w, 0), 4);
    EXPECT_EQ(count_on(&w, "db", "a", -1), 2);
    EXPECT_EQ(count_on(&w, "db", "b", -1), 0);
    EXPECT_EQ(count_on(&w, "db", "c", -1), 2);
    world_close(&w);
}

/* ---- system jobs ---- */

TEST(system_job_runs_one_task_per_eligible_site)
{
    struct world w;
    struct sched_job *j;

    world_init(&w);
    site(&w, "a", 4000, 4096)->labels = edge_camera;
    w.sites[0].nlabels = 2;
    site(&w, "b", 4000, 4096);
    site(&w, "c", 4000, 4096)->labels = edge_camera;
    w.sites[2].nlabels = 2;
    j = job(&w, "logs", 99, 100, 64);
    j->type = SCHED_JOB_SYSTEM;
    j->labels = want_camera;
    j->nlabels = 1;
    EXPECT_EQ(step(&w, 0), 2);
    EXPECT_EQ(count_on(&w, "logs", "a", -1), 1);
    EXPECT_EQ(count_on(&w, "logs", "c", -1), 1);

    site(&w, "d", 4000, 4096)->labels = edge_camera;
    w.sites[3].nlabels = 2;
    EXPECT_EQ(step(&w, 1), 1); /* a site joins: one more */
    EXPECT_EQ(count_on(&w, "logs", "d", -1), 1);
    world_close(&w);
}

TEST(system_job_task_on_silent_site_is_never_moved)
{
    struct world w;
    struct sched_job *j;

    world_init(&w);
    site(&w, "a", 4000, 4096);
    site(&w, "b", 4000, 4096);
    j = job(&w, "logs", 1, 100, 64);
    j->type = SCHED_JOB_SYSTEM;
    j->reschedule_after_ms = 1000;
    EXPECT_EQ(step(&w, 0), 2);
    w.sites[0].status = SCHED_SITE_SILENT;
    w.sites[0].silent_since_ms = 10;
    EXPECT_EQ(step(&w, 100000), 1); /* only: unknown */
    EXPECT_EQ(count_on(&w, "logs", "a", SCHED_TASK_UNKNOWN), 1);
    EXPECT_EQ(count_on(&w, "logs", "b", -1), 1);
    world_close(&w);
}

/* ---- idempotence and determinism ---- */

/* A busy world: every kind of change at once. */
static void busy_world(struct world *w)
{
    struct sched_job *j;

    site(w, "a", 2000, 2048);
    site(w, "b", 2000, 2048);
    site(w, "c", 1000, 1024);
    site(w, "d", 3000, 4096);
    job(w, "web", 6, 200, 128);
    j = job(w, "mover", 3, 300, 256);
    j->reschedule_after_ms = 500;
    j = job(w, "batch", 4, 100, 64);
    j->type = SCHED_JOB_BATCH;
    j = job(w, "sys", 0, 50, 32);
    j->type = SCHED_JOB_SYSTEM;
    job(w, "huge", 2, 2500, 64);
}

TEST(idempotence_rerun_after_applying_finds_nothing)
{
    struct world w;

    world_init(&w);
    busy_world(&w);
    EXPECT_TRUE(step(&w, 0) > 0);
    all_running(&w);
    task(&w, "batch", 0)->state = SCHED_TASK_COMPLETE;
    task(&w, "web", 1)->state = SCHED_TASK_FAILED;
    w.sites[1].status = SCHED_SITE_SILENT;
    w.sites[1].silent_since_ms = 100;
    EXPECT_TRUE(step(&w, 200) > 0);
    EXPECT_TRUE(step(&w, 700) > 0); /* mover's delay passed */
    w.sites[2].status = SCHED_SITE_LOST;
    EXPECT_TRUE(step(&w, 800) > 0);
    w.sites[1].status = SCHED_SITE_CONNECTED;
    EXPECT_TRUE(step(&w, 900) > 0);
    w.jobs[0].count = 2;
    EXPECT_TRUE(step(&w, 1000) > 0);
    w.njobs--; /* "huge" removed */
    EXPECT_TRUE(step(&w, 1100) > 0);
    world_close(&w);
}

/* The changes of a run as text, to compare runs. */
static void render(const struct world *w, char *buf, size_t len)
{
    size_t off = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < w->r.nchanges && off < len; i++) {
        const struct sched_change *c = &w->r.changes[i];
        int n = snprintf(buf + off, len - off, "%s %s.%u %s|",
                         sched_change_kind_str(c->kind), c->job, c->index,
                         c->site ? c->site : "-");

        off += n > 0 ? (size_t)n : 0;
    }
}

TEST(determinism_input_order_does_not_matter)
{
    struct world w, v;
    static char one[8192], two[8192];

    world_init(&w);
    world_init(&v);
    busy_world(&w);
    busy_world(&v);
    EXPECT_TRUE(step(&w, 0) > 0);
    EXPECT_TRUE(step(&v, 0) > 0);
    all_running(&w);
    all_running(&v);
    w.sites[0].status = SCHED_SITE_SILENT;
    v.sites[0].status = SCHED_SITE_SILENT;

    /* v: every array reversed */
    for (size_t i = 0; i < v.nsites / 2; i++) {
        struct sched_site t = v.sites[i];

        v.sites[i] = v.sites[v.nsites - 1 - i];
        v.sites[v.nsites - 1 - i] = t;
    }
    for (size_t i = 0; i < v.njobs / 2; i++) {
        struct sched_job t = v.jobs[i];

        v.jobs[i] = v.jobs[v.njobs - 1 - i];
        v.jobs[v.njobs - 1 - i] = t;
    }
    for (size_t i = 0; i < v.tasks.n / 2; i++) {
        struct sched_task t = v.tasks.v[i];

        v.tasks.v[i] = v.tasks.v[v.tasks.n - 1 - i];
        v.tasks.v[v.tasks.n - 1 - i] = t;
    }
    EXPECT_EQ(decide(&w, 5000), 0);
    EXPECT_EQ(decide(&v, 5000), 0);
    EXPECT_TRUE(w.r.nchanges > 0);
    render(&w, one, sizeof(one));
    render(&v, two, sizeof(two));
    EXPECT_STR(one, two);
    world_close(&w);
    world_close(&v);
}

TEST(bad_input_is_refused_with_a_reason)
{
    struct world w;
    struct sched_input in = {0};
    char err[128] = "";

    world_init(&w);
    site(&w, "a", 1000, 1024);
    site(&w, "a", 1000, 1024);
    in.sites = w.sites;
    in.nsites = w.nsites;
    EXPECT_EQ(sched_decide(&in, 0, &w.r, err, sizeof(err)), -1);
    EXPECT_STR(err, "duplicate site a");
    EXPECT_EQ(w.r.nchanges, 0);

    in.nsites = 1;
    in.tasks = &(struct sched_task){
        .job = "web", .index = 0, .state = SCHED_TASK_RUNNING};
    in.ntasks = 1;
    EXPECT_EQ(sched_decide(&in, 0, &w.r, err, sizeof(err)), -1);
    EXPECT_STR(err, "task web.0: on no site");
    world_close(&w);
}

/* ---- silent sites ---- */

/* Two sites, a job of count 2 running one task on each; then a goes
 * silent at 1000. */
static void two_running(struct world *w, uint64_t reschedule_after)
{
    static const char *const abc[] = {"a", "b", "c"};
    struct sched_job *j;

    site(w, "a", 4000, 4096);
    site(w, "b", 4000, 4096);
    site(w, "c", 4000, 4096);
    j = job(w, "web", 2, 100, 64);
    j->sites = abc;
    j->reschedule_after_ms = reschedule_after;
    w->sites[2].status = SCHED_SITE_SILENT; /* c: not yet up */
    w->sites[2].silent_since_ms = 0;
}

TEST(silent_site_keep_policy_marks_unknown_and_replaces_nothing)
{
    struct world w;

    world_init(&w);
    two_running(&w, 0);
    EXPECT_EQ(step(&w, 0), 2);
    all_running(&w);
    w.sites[2].status = SCHED_SITE_CONNECTED;
    w.sites[0].status = SCHED_SITE_SILENT;
    w.sites[0].silent_since_ms = 1000;
    EXPECT_EQ(step(&w, 1000), 1);
    EXPECT_EQ(w.r.nchanges, 0);
    EXPECT_EQ(count_on(&w, "web", "a", SCHED_TASK_UNKNOWN), 1);
    EXPECT_EQ(step(&w, 1000 + 24 * 3600 * 1000ULL), 0); /* a day later */
    EXPECT_EQ(count_on(&w, "web", "c", -1), 0);
    world_close(&w);
}

TEST(silent_site_reschedule_moves_after_the_delay_not_before)
{
    struct world w;
    struct sched_task *old;

    world_init(&w);
    two_running(&w, 30000);
    EXPECT_EQ(step(&w, 0), 2);
    all_running(&w);
    w.sites[2].status = SCHED_SITE_CONNECTED;
    w.sites[0].status = SCHED_SITE_SILENT;
    w.sites[0].silent_since_ms = 1000;
    EXPECT_EQ(step(&w, 1000), 1);
    EXPECT_EQ(step(&w, 30999), 0); /* 1 ms before the delay */

    EXPECT_EQ(decide(&w, 31000), 0);
    EXPECT_EQ(w.r.nchanges, 1);
    EXPECT_EQ(w.r.changes[0].kind, SCHED_MOVE);
    EXPECT_STR(w.r.changes[0].from_site, "a");
    EXPECT_STR(w.r.changes[0].site, "c"); /* b already has one */
    EXPECT_EQ(step(&w, 31000), 1);
    old = task(&w, "web", 0);
    EXPECT_TRUE(old != NULL);
    EXPECT_EQ(old->state, SCHED_TASK_UNKNOWN); /* still recorded */
    EXPECT_STR(old->site, "a");
    EXPECT_EQ(task(&w, "web", 2)->replaces, 0);
    world_close(&w);
}

TEST(site_comes_back_keep_policy_restarts_nothing)
{
    struct world w;

    world_init(&w);
    two_running(&w, 0);
    EXPECT_EQ(step(&w, 0), 2);
    all_running(&w);
    w.sites[0].status = SCHED_SITE_SILENT;
    w.sites[0].silent_since_ms = 1000;
    EXPECT_EQ(step(&w, 1000), 1);
    w.sites[0].status = SCHED_SITE_CONNECTED;
    EXPECT_EQ(decide(&w, 50000), 0);
    EXPECT_EQ(w.r.nchanges, 1);
    EXPECT_EQ(w.r.changes[0].kind, SCHED_RUNNING);
    EXPECT_EQ(step(&w, 50000), 1);
    EXPECT_EQ(count_on(&w, "web", "a", SCHED_TASK_RUNNING), 1);
    EXPECT_EQ(w.tasks.n, 2); /* no new task, none stopped */
    EXPECT_EQ(count_on(&w, "web", NULL, -1), 2);
    world_close(&w);
}

TEST(site_comes_back_stops_the_replacement_not_the_survivor)
{
    struct world w;

    world_init(&w);
    two_running(&w, 5000);
    EXPECT_EQ(step(&w, 0), 2);
    w.sites[2].status = SCHED_SITE_CONNECTED;
    all_running(&w);
    w.sites[0].status = SCHED_SITE_SILENT;
    w.sites[0].silent_since_ms = 1000;
    EXPECT_EQ(step(&w, 1000), 1);
    EXPECT_EQ(step(&w, 7000), 1); /* the move */
    all_running(&w);

    w.sites[0].status = SCHED_SITE_CONNECTED;
    EXPECT_EQ(decide(&w, 9000), 0);
    EXPECT_EQ(w.r.nchanges, 2);
    EXPECT_EQ(count_kind(&w, SCHED_RUNNING), 1);
    EXPECT_EQ(count_kind(&w, SCHED_STOP), 1);
    EXPECT_EQ(step(&w, 9000), 2);
    EXPECT_EQ(task(&w, "web", 0)->stop, false);
    EXPECT_EQ(task(&w, "web", 0)->state, SCHED_TASK_RUNNING);
    EXPECT_EQ(task(&w, "web", 2)->stop, true); /* the replacement on c */
    EXPECT_EQ(count_on(&w, "web", NULL, -1), 2);
    world_close(&w);
}

TEST(reschedule_with_nowhere_to_go_waits_and_is_dropped_on_return)
{
    struct world w;

    world_init(&w);
    two_running(&w, 5000);
    EXPECT_EQ(step(&w, 0), 2);
    all_running(&w);
    w.sites[0].status = SCHED_SITE_SILENT;
    w.sites[0].silent_since_ms = 1000;
    w.sites[1].cpu = 100; /* b is full, c still silent */
    EXPECT_EQ(step(&w, 1000), 1);
    EXPECT_EQ(decide(&w, 6000), 0);
    EXPECT_EQ(w.r.nchanges, 1);
    EXPECT_EQ(w.r.changes[0].kind, SCHED_PENDING);
    EXPECT_EQ(w.r.changes[0].is_replacement, true);
    EXPECT_EQ(w.r.nnotes, 1);
    EXPECT_EQ(w.r.notes[0].why, SCHED_WHY_NO_CAPACITY);
    EXPECT_EQ(step(&w, 6000), 1);

    w.sites[0].status = SCHED_SITE_CONNECTED;
    EXPECT_EQ(step(&w, 9000), 2); /* running again; stop the pending one */
    EXPECT_EQ(task(&w, "web", 0)->state, SCHED_TASK_RUNNING);
    EXPECT_EQ(task(&w, "web", 2)->stop, true);
    EXPECT_EQ(count_on(&w, "web", NULL, -1), 2);
    world_close(&w);
}

TEST(lost_site_marks_tasks_lost_and_replaces_them)
{
    struct world w;

    world_init(&w);
    two_running(&w, 0);
    w.sites[2].status = SCHED_SITE_CONNECTED;
    EXPECT_EQ(step(&w, 0), 2);
    all_running(&w);
    w.sites[0].status = SCHED_SITE_LOST;
    EXPECT_EQ(step(&w, 10), 2); /* lost, and a new one */
    EXPECT_EQ(task(&w, "web", 0)->state, SCHED_TASK_LOST);
    EXPECT_EQ(count_on(&w, "web", NULL, -1), 2);
    EXPECT_EQ(count_on(&w, "web", "a", -1), 0);
    world_close(&w);
}

/* ---- failures, batch, removal ---- */

TEST(failed_task_is_replaced_within_count)
{
    struct world w;

    world_init(&w);
    site(&w, "a", 4000, 4096);
    job(&w, "web", 3, 100, 64);
    EXPECT_EQ(step(&w, 0), 3);
    all_running(&w);
    task(&w, "web", 1)->state = SCHED_TASK_FAILED;
    EXPECT_EQ(decide(&w, 1), 0);
    EXPECT_EQ(w.r.nchanges, 1);
    EXPECT_EQ(w.r.changes[0].why, SCHED_WHY_REPLACE);
    EXPECT_EQ(w.r.changes[0].index, 3);
    EXPECT_EQ(step(&w, 1), 1);
    EXPECT_EQ(count_on(&w, "web", NULL, -1), 3);
    EXPECT_EQ(w.tasks.n, 4); /* the failed one stays recorded */
    world_close(&w);
}

TEST(batch_tasks_that_completed_stay_complete)
{
    struct world w;

    world_init(&w);
    site(&w, "a", 4000, 4096);
    job(&w, "etl", 2, 100, 64)->type = SCHED_JOB_BATCH;
    EXPECT_EQ(step(&w, 0), 2);
    task(&w, "etl", 0)->state = SCHED_TASK_COMPLETE;
    task(&w, "etl", 1)->state = SCHED_TASK_COMPLETE;
    EXPECT_EQ(step(&w, 1), 0);
    EXPECT_EQ(w.tasks.n, 2);
    world_close(&w);
}

TEST(count_lowered_stops_the_newest_copies)
{
    struct world w;

    world_init(&w);
    site(&w, "a", 4000, 4096);
    job(&w, "web", 4, 100, 64);
    EXPECT_EQ(step(&w, 0), 4);
    all_running(&w);
    w.jobs[0].count = 2;
    EXPECT_EQ(step(&w, 1), 2);
    EXPECT_EQ(task(&w, "web", 3)->stop, true);
    EXPECT_EQ(task(&w, "web", 2)->stop, true);
    EXPECT_EQ(task(&w, "web", 1)->stop, false);
    world_close(&w);
}

TEST(removed_job_has_its_tasks_stopped)
{
    struct world w;

    world_init(&w);
    site(&w, "a", 4000, 4096);
    job(&w, "web", 2, 100, 64);
    EXPECT_EQ(step(&w, 0), 2);
    w.njobs = 0;
    EXPECT_EQ(decide(&w, 1), 0);
    EXPECT_EQ(w.r.nchanges, 2);
    EXPECT_EQ(w.r.changes[0].why, SCHED_WHY_JOB_GONE);
    EXPECT_EQ(step(&w, 1), 2);
    world_close(&w);
}

/* ---- random stories ---- */

static uint64_t rng_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static const struct sched_job *job_of(const struct world *w, const char *id)
{
    for (size_t i = 0; i < w->njobs; i++) {
        if (strcmp(w->jobs[i].id, id) == 0) {
            return &w->jobs[i];
        }
    }
    return NULL;
}

static const struct sched_site *site_of(const struct world *w, const char *name)
{
    for (size_t i = 0; name != NULL && i < w->nsites; i++) {
        if (strcmp(w->sites[i].name, name) == 0) {
            return &w->sites[i];
        }
    }
    return NULL;
}

static bool holds_resources(const struct sched_task *t)
{
    return t->state == SCHED_TASK_PLACED || t->state == SCHED_TASK_ASSIGNED ||
           t->state == SCHED_TASK_RUNNING || t->state == SCHED_TASK_UNKNOWN;
}

/* No site holds more than its capacity. */
static bool fits_everywhere(const struct world *w)
{
    for (size_t s = 0; s < w->nsites; s++) {
        uint64_t cpu = 0, mem = 0;

        for (size_t i = 0; i < w->tasks.n; i++) {
            const struct sched_task *t = &w->tasks.v[i];
            const struct sched_job *j = job_of(w, t->job);

            if (j != NULL && holds_resources(t) && t->site != NULL &&
                strcmp(t->site, w->sites[s].name) == 0) {
                cpu += j->cpu;
                mem += j->memory_mb;
            }
        }
        if (cpu > w->sites[s].cpu || mem > w->sites[s].memory_mb) {
            return false;
        }
    }
    return true;
}

/* Counted as one of the job's copies (pending ones too). */
static bool is_live(const struct world *w, const struct sched_task *t,
                    uint64_t now)
{
    const struct sched_job *j = job_of(w, t->job);
    const struct sched_site *s = site_of(w, t->site);

    if (t->stop || j == NULL) {
        return false;
    }
    if (t->state != SCHED_TASK_UNKNOWN) {
        return t->state == SCHED_TASK_PENDING || holds_resources(t);
    }
    return j->type == SCHED_JOB_SYSTEM || j->reschedule_after_ms == 0 ||
           now - s->silent_since_ms < j->reschedule_after_ms;
}

/* Every counted job has exactly what it asks for, a system job at most one
 * copy per site, and task states agree with site states. */
static bool counts_hold(const struct world *w, uint64_t now)
{
    for (size_t k = 0; k < w->njobs; k++) {
        const struct sched_job *j = &w->jobs[k];
        uint32_t live = 0, done = 0, want;

        for (size_t i = 0; i < w->tasks.n; i++) {
            const struct sched_task *t = &w->tasks.v[i];

            if (strcmp(t->job, j->id) != 0) {
                continue;
            }
            live += is_live(w, t, now);
            done += !t->stop && t->state == SCHED_TASK_COMPLETE;
            if (j->type == SCHED_JOB_SYSTEM && is_live(w, t, now) &&
                count_on(w, j->id, t->site, -1) > 1) {
                return false;
            }
        }
        want = j->type != SCHED_JOB_BATCH ? j->count
               : done >= j->count         ? 0
                                          : j->count - done;
        if (j->type != SCHED_JOB_SYSTEM && live != want) {
            return false;
        }
    }
    return true;
}

static bool states_agree(const struct world *w)
{
    for (size_t i = 0; i < w->tasks.n; i++) {
        const struct sched_task *t = &w->tasks.v[i];
        const struct sched_site *s = site_of(w, t->site);
        bool held = holds_resources(t) && t->state != SCHED_TASK_UNKNOWN;

        if (s == NULL) {
            continue;
        }
        if (t->state == SCHED_TASK_UNKNOWN && s->status != SCHED_SITE_SILENT) {
            return false;
        }
        if (held && s->status != SCHED_SITE_CONNECTED) {
            return false;
        }
    }
    return true;
}

/* One thing that happens in the fleet, picked by R. */
static void random_event(struct world *w, uint64_t r, uint64_t now)
{
    struct sched_site *s = &w->sites[(r >> 8) % w->nsites];
    struct sched_task *t =
        w->tasks.n ? &w->tasks.v[(r >> 16) % w->tasks.n] : NULL;

    switch (r % 8) {
    case 0:
        s->status = s->status == SCHED_SITE_CONNECTED ? SCHED_SITE_SILENT
                                                      : SCHED_SITE_CONNECTED;
        s->silent_since_ms = now;
        break;
    case 1:
        if ((r >> 32) % 8 == 0 && s->status == SCHED_SITE_SILENT) {
            s->status = SCHED_SITE_LOST;
        }
        break;
    case 2:
        if (t && t->state == SCHED_TASK_RUNNING) {
            t->state = (r >> 32) % 2 ? SCHED_TASK_FAILED : SCHED_TASK_COMPLETE;
        }
        break;
    case 3:
        if (t && t->stop && holds_resources(t) &&
            t->state != SCHED_TASK_UNKNOWN) {
            t->state = SCHED_TASK_COMPLETE; /* a stop took effect */
        }
        break;
    case 4:
        w->jobs[0].count = (uint32_t)((r >> 32) % 9);
        break;
    default:
        all_running(w);
        break;
    }
}

TEST(random_stories_keep_capacity_counts_and_idempotence)
{
    for (uint64_t seed = 1; seed <= 30; seed++) {
        struct world w;
        uint64_t x = seed * 0x9E3779B97F4A7C15ULL, now = 0;

        world_init(&w);
        busy_world(&w);
        for (int i = 0; i < 300; i++) {
            long n = step(&w, now);

            if (n < 0 || !fits_everywhere(&w) || !counts_hold(&w, now) ||
                !states_agree(&w)) {
                HARNESS_FAIL("seed %llu step %d: n %ld",
                             (unsigned long long)seed, i, n);
                world_close(&w);
                return;
            }
            random_event(&w, rng_next(&x), now);
            now += rng_next(&x) % 1500;
        }
        world_close(&w);
    }
}

int main(void)
{
    RUN(constraints_sites_list_limits_placement);
    RUN(constraints_labels_must_all_match);
    RUN(constraints_no_match_leaves_pending_with_reason);
    RUN(job_changed_to_exclude_a_site_moves_its_tasks);
    RUN(capacity_is_never_overcommitted);
    RUN(capacity_full_leaves_pending_until_a_site_joins);
    RUN(spread_puts_a_job_evenly_across_sites);
    RUN(spread_breaks_ties_by_largest_free_share);
    RUN(pinned_job_uses_only_its_sites_even_when_others_are_emptier);
    RUN(system_job_runs_one_task_per_eligible_site);
    RUN(system_job_task_on_silent_site_is_never_moved);
    RUN(idempotence_rerun_after_applying_finds_nothing);
    RUN(determinism_input_order_does_not_matter);
    RUN(bad_input_is_refused_with_a_reason);
    RUN(silent_site_keep_policy_marks_unknown_and_replaces_nothing);
    RUN(silent_site_reschedule_moves_after_the_delay_not_before);
    RUN(site_comes_back_keep_policy_restarts_nothing);
    RUN(site_comes_back_stops_the_replacement_not_the_survivor);
    RUN(reschedule_with_nowhere_to_go_waits_and_is_dropped_on_return);
    RUN(lost_site_marks_tasks_lost_and_replaces_them);
    RUN(failed_task_is_replaced_within_count);
    RUN(batch_tasks_that_completed_stay_complete);
    RUN(count_lowered_stops_the_newest_copies);
    RUN(removed_job_has_its_tasks_stopped);
    RUN(random_stories_keep_capacity_counts_and_idempotence);
    DONE();
}
