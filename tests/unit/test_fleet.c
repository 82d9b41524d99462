/* test_fleet.c - the fleet state machine, driven as a leader drives it:
 * entries built with the fleet_entry_* functions, applied in log order,
 * the scheduler run on the state they leave, and the JSON views read. */
#include "harness.h"
#include "sm/fleet.h"

#include <stdlib.h>

#define MAX_ENTRIES 64

#define SITE_NORTH                                                             \
    "{\"labels\": {\"region\": \"north\"}, \"cpu\": 4.0, "                     \
    "\"memory_mb\": 8192, \"controller\": \"127.0.0.1:7201\"}"
#define SITE_SOUTH                                                             \
    "{\"labels\": {\"region\": \"south\"}, \"cpu\": 4, "                       \
    "\"memory_mb\": 8192, \"controller\": \"127.0.0.1:7202\"}"
#define JOB_WEB4                                                               \
    "{\"id\": \"web\", \"count\": 4, \"command\": [\"/bin/web\"], "            \
    "\"resources\": {\"cpu\": 0.5, \"memory_mb\": 256}}"

static uint64_t log_index; /* of the last entry applied */

/* Apply entry E (LEN bytes, freed here) at the next log index. */
static int apply_entry(struct fleet *f, uint8_t *e, size_t len,
                       struct fleet_result *res)
{
    int rc = fleet_apply(f, e, len, ++log_index, res);

    free(e);
    return rc < 0 ? -1 : res->status;
}

/* Register SITE with BODY. Returns the entry's refusal or the status. */
static int reg_res(struct fleet *f, const char *site, const char *body,
                   struct fleet_result *res)
{
    uint8_t *e = NULL;
    size_t len = 0;
    char err[200];
    int rc = fleet_entry_site_register(site, body, strlen(body), &e, &len, err,
                                       sizeof(err));

    if (rc != 0) {
        fprintf(stderr, "  (register %s: %d %s)\n", site, rc, err);
        return rc;
    }
    return apply_entry(f, e, len, res);
}

static int reg(struct fleet *f, const char *site, const char *body)
{
    struct fleet_result res;

    return reg_res(f, site, body, &res);
}

static int put_job(struct fleet *f, const char *text, struct fleet_result *res)
{
    struct job *j = NULL;
    uint8_t *e = NULL;
    size_t len = 0;
    char err[200];
    int rc = job_parse_json(text, strlen(text), &j, err, sizeof(err));

    if (rc != JOB_OK) {
        fprintf(stderr, "  (job: %s)\n", err);
        return -1;
    }
    rc = fleet_entry_job_put(j, &e, &len, err, sizeof(err));
    job_free(j);
    if (rc != 0) {
        fprintf(stderr, "  (job put: %d %s)\n", rc, err);
        return rc;
    }
    return apply_entry(f, e, len, res);
}

static int stop_job(struct fleet *f, const char *id)
{
    struct fleet_result res;
    uint8_t *e = NULL;
    size_t len = 0;
    char err[200];

    if (fleet_entry_job_stop(id, &e, &len, err, sizeof(err)) != 0) {
        return -1;
    }
    return apply_entry(f, e, len, &res);
}

static int set_status(struct fleet *f, const char *site,
                      enum sched_site_status st, uint64_t at_ms)
{
    struct fleet_result res;
    uint8_t *e = NULL;
    size_t len = 0;
    char err[200];

    if (fleet_entry_site_status(site, st, at_ms, &e, &len, err, sizeof(err)) !=
        0) {
        return -1;
    }
    return apply_entry(f, e, len, &res);
}

static int report(struct fleet *f, const char *site, const char *body,
                  struct fleet_result *res)
{
    uint8_t *e = NULL;
    size_t len = 0;
    char err[200];
    int rc = fleet_entry_report(site, body, strlen(body), &e, &len, err,
                                sizeof(err));

    if (rc != 0) {
        fprintf(stderr, "  (report %s: %d %s)\n", site, rc, err);
        return rc;
    }
    return apply_entry(f, e, len, res);
}

/* ---- The scheduler, as the leader runs it. */

/* One run's changes, packed into entries. */
struct batch {
    uint8_t *e[MAX_ENTRIES];
    size_t len[MAX_ENTRIES];
    size_t n;
    size_t changes;
};

static void batch_free(struct batch *b)
{
    for (size_t i = 0; i < b->n; i++) {
        free(b->e[i]);
    }
    memset(b, 0, sizeof(*b));
}

/* Pack the changes R holds into B, as many per entry as fit. */
static int batch_pack(struct batch *b, const struct sched_result *r)
{
    size_t i = 0;

    while (i < r->nchanges) {
        size_t k;

        if (b->n == MAX_ENTRIES) {
            return -1;
        }
        k = fleet_entry_sched(r->changes + i, r->nchanges - i, &b->e[b->n],
                              &b->len[b->n]);
        if (k == 0 || b->len[b->n] > FLEET_MAX_ENTRY) {
            return -1;
        }
        b->n++;
        i += k;
    }
    b->changes = r->nchanges;
    return 0;
}

/* Run the scheduler on F at NOW_MS and pack its changes into B. */
static int decide(const struct fleet *f, uint64_t now_ms, struct batch *b)
{
    struct fleet_sched_input in;
    struct sched_result r;
    char err[200];
    int rc = -1;

    memset(b, 0, sizeof(*b));
    if (fleet_sched_input(f, &in) != 0) {
        return -1;
    }
    sched_result_init(&r);
    if (sched_decide(&in.in, now_ms, &r, err, sizeof(err)) != 0) {
        fprintf(stderr, "  (sched_decide: %s)\n", err);
    } else {
        rc = batch_pack(b, &r);
    }
    sched_result_close(&r);
    fleet_sched_input_free(&in);
    if (rc != 0) {
        batch_free(b);
    }
    return rc;
}

/* Apply B's entries, each at its own index; the sums in SUM. */
static int batch_apply(struct fleet *f, const struct batch *b,
                       struct fleet_result *sum)
{
    memset(sum, 0, sizeof(*sum));
    for (size_t i = 0; i < b->n; i++) {
        struct fleet_result res;

        if (fleet_apply(f, b->e[i], b->len[i], ++log_index, &res) != 0 ||
            res.status != 200) {
            return -1;
        }
        sum->done += res.done;
        sum->skipped += res.skipped;
        if (sum->first_why == NULL) {
            sum->first_why = res.first_why;
        }
    }
    return 0;
}

/* Decide at NOW_MS and apply: every change must apply. Returns the number
 * of changes, or -1. */
static long schedule(struct fleet *f, uint64_t now_ms)
{
    struct fleet_result sum;
    struct batch b;
    long n;

    if (decide(f, now_ms, &b) != 0) {
        return -1;
    }
    n = batch_apply(f, &b, &sum) == 0 && sum.done == b.changes &&
                sum.skipped == 0
            ? (long)b.changes
            : -1;
    batch_free(&b);
    return n;
}

/* ---- The views. */

/* Task JOB.INDEX as GET /v1/tasks shows it (a new reference), or NULL. */
static json_t *task_get(const struct fleet *f, const char *job, uint32_t index)
{
    json_t *a = fleet_tasks_json(f, job, NULL), *t, *found = NULL;
    size_t i;

    json_array_foreach(a, i, t)
    {
        if (json_integer_value(json_object_get(t, "index")) == index) {
            found = json_incref(t);
        }
    }
    json_decref(a);
    return found;
}

/* A string field of a task: "(gone)" without the task, "(null)" for null. */
static const char *task_str(const struct fleet *f, const char *job,
                            uint32_t index, const char *field)
{
    static char buf[300];
    json_t *t = task_get(f, job, index);
    const json_t *v = json_object_get(t, field);

    snprintf(buf, sizeof(buf), "%s",
             t == NULL ? "(gone)"
                       : (json_is_string(v) ? json_string_value(v) : "(null)"));
    json_decref(t);
    return buf;
}

/* An integer field of a task: -1 for null, -2 without the task. */
static long long task_int(const struct fleet *f, const char *job,
                          uint32_t index, const char *field)
{
    json_t *t = task_get(f, job, index);
    const json_t *v = json_object_get(t, field);
    long long r = t == NULL ? -2 : json_is_null(v) ? -1 : json_integer_value(v);

    if (json_is_boolean(v)) {
        r = json_is_true(v);
    }
    json_decref(t);
    return r;
}

/* Tasks of JOB on SITE (NULL: any) in STATE (NULL: any), with the stop flag
 * STOP (-1: either). */
static int count_tasks(const struct fleet *f, const char *job, const char *site,
                       const char *state, int stop)
{
    json_t *a = fleet_tasks_json(f, job, site), *t;
    size_t i;
    int n = 0;

    json_array_foreach(a, i, t)
    {
        const char *st = json_string_value(json_object_get(t, "state"));

        if ((state == NULL || strcmp(st, state) == 0) &&
            (stop < 0 || json_is_true(json_object_get(t, "stop")) == stop)) {
            n++;
        }
    }
    json_decref(a);
    return n;
}

/* The index of the first task of JOB on SITE that is not asked to stop,
 * or -1. */
static long task_on(const struct fleet *f, const char *job, const char *site)
{
    json_t *a = fleet_tasks_json(f, job, site), *t;
    long found = -1;
    size_t i;

    json_array_foreach(a, i, t)
    {
        if (found < 0 && !json_is_true(json_object_get(t, "stop"))) {
            found = (long)json_integer_value(json_object_get(t, "index"));
        }
    }
    json_decref(a);
    return found;
}

/* The indexes of JOB's tasks on SITE, at most MAX of them into OUT.
 * Returns how many there are. */
static size_t task_indexes(const struct fleet *f, const char *job,
                           const char *site, long *out, size_t max)
{
    json_t *a = fleet_tasks_json(f, job, site), *t;
    size_t i, n = json_array_size(a);

    json_array_foreach(a, i, t)
    {
        if (i < max) {
            out[i] = (long)json_integer_value(json_object_get(t, "index"));
        }
    }
    json_decref(a);
    return n;
}

/* Field NAME of site SITE in GET /v1/sites (a new reference), or NULL. */
static json_t *site_field(const struct fleet *f, const char *site,
                          const char *name)
{
    json_t *a = fleet_sites_json(f, NULL, NULL), *s, *v = NULL;
    size_t i;

    json_array_foreach(a, i, s)
    {
        if (strcmp(json_string_value(json_object_get(s, "name")), site) == 0) {
            v = json_incref(json_object_get(s, name));
        }
    }
    json_decref(a);
    return v;
}

static uint64_t assign_index(const struct fleet *f, const char *site)
{
    struct fleet_site_info si;

    return fleet_site_find(f, site, &si) ? si.assign_index : UINT64_MAX;
}

/* The fleet's snapshot encoding, malloc'ed (NULL on failure). */
static char *snapshot(const struct fleet *f, size_t *len)
{
    char *out = NULL;

    return fleet_encode(f, &out, len) == 0 ? out : NULL;
}

/* Whether F's encoding is the LEN bytes of WANT. */
static int snapshot_is(const struct fleet *f, const char *want, size_t len)
{
    size_t n;
    char *now = snapshot(f, &n);
    int same = now != NULL && n == len && memcmp(now, want, n) == 0;

    free(now);
    return same;
}

/* ---- Placement through the fleet. */

TEST(placement_spreads_over_two_sites_and_a_rerun_is_empty)
{
    struct fleet *f = fleet_new();
    struct fleet_result res;
    json_t *jobs, *v, *as;
    uint64_t at;

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(reg(f, "bergen-2", SITE_SOUTH), 200);
    EXPECT_EQ(put_job(f, JOB_WEB4, &res), 200);
    EXPECT_EQ(res.version, 1);
    EXPECT_TRUE(res.changed);
    EXPECT_EQ(schedule(f, 1000), 4);
    at = log_index;
    EXPECT_EQ(fleet_task_count(f), 4);
    EXPECT_EQ(count_tasks(f, "web", "oslo-1", "placed", 0), 2);
    EXPECT_EQ(count_tasks(f, "web", "bergen-2", "placed", 0), 2);
    EXPECT_EQ(task_int(f, "web", 0, "job_version"), 1);
    EXPECT_EQ(fleet_index(f), at);

    EXPECT_EQ(schedule(f, 1000), 0);
    EXPECT_EQ(schedule(f, 500000), 0);
    EXPECT_EQ(fleet_index(f), at);

    jobs = fleet_jobs_json(f);
    v = json_object_get(json_array_get(jobs, 0), "tasks");
    EXPECT_EQ(json_array_size(jobs), 1);
    EXPECT_EQ(json_integer_value(json_object_get(v, "placed")), 4);
    EXPECT_EQ(json_integer_value(json_object_get(v, "pending")), 0);
    json_decref(jobs);

    v = site_field(f, "oslo-1", "cpu_used");
    EXPECT_TRUE(json_is_real(v) && json_real_value(v) == 1.0);
    json_decref(v);
    v = site_field(f, "oslo-1", "memory_used_mb");
    EXPECT_EQ(json_integer_value(v), 512);
    json_decref(v);
    v = site_field(f, "bergen-2", "tasks");
    EXPECT_EQ(json_integer_value(v), 2);
    json_decref(v);

    EXPECT_EQ(assign_index(f, "oslo-1"), at);
    as = fleet_assignments_json(f, "oslo-1");
    EXPECT_TRUE(as != NULL);
    EXPECT_EQ(json_integer_value(json_object_get(as, "index")), at);
    EXPECT_EQ(json_array_size(json_object_get(as, "tasks")), 2);
    v = json_object_get(json_object_get(as, "jobs"), "web");
    EXPECT_EQ(json_integer_value(json_object_get(v, "version")), 1);
    json_decref(as);
    EXPECT_TRUE(fleet_assignments_json(f, "nowhere") == NULL);
    fleet_free(f);
}

TEST(a_big_run_is_packed_into_several_entries)
{
    static const char job[] =
        "{\"id\": \"a-job-with-a-rather-long-name-to-fill-the-entries-quickly-"
        "0123\", \"count\": 10000, \"command\": [\"/bin/x\"], "
        "\"resources\": {\"cpu\": 0.001, \"memory_mb\": 1}}";
    static const char big[] = "{\"cpu\": 16, \"memory_mb\": 65536}";
    struct fleet *f = fleet_new();
    struct fleet_result res;
    struct batch b;

    EXPECT_EQ(reg(f, "a", big), 200);
    EXPECT_EQ(reg(f, "b", big), 200);
    EXPECT_EQ(put_job(f, job, &res), 200);
    EXPECT_EQ(decide(f, 0, &b), 0);
    EXPECT_EQ(b.changes, 10000);
    EXPECT_TRUE(b.n > 1);
    EXPECT_EQ(batch_apply(f, &b, &res), 0);
    batch_free(&b);
    EXPECT_EQ(res.done, 10000);
    EXPECT_EQ(res.skipped, 0);
    EXPECT_EQ(fleet_task_count(f), 10000);
    EXPECT_EQ(count_tasks(f, NULL, "a", "placed", 0), 5000);
    EXPECT_EQ(count_tasks(f, NULL, "b", "placed", 0), 5000);
    EXPECT_EQ(schedule(f, 0), 0);
    fleet_free(f);
}

/* ---- Decisions that meet another state. */

TEST(a_sched_entry_applied_twice_changes_nothing_the_second_time)
{
    struct fleet *f = fleet_new();
    struct fleet_result res;
    struct batch b;
    uint64_t at;
    char *before;
    size_t blen;

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(reg(f, "bergen-2", SITE_SOUTH), 200);
    EXPECT_EQ(put_job(f, JOB_WEB4, &res), 200);
    EXPECT_EQ(decide(f, 1000, &b), 0);
    EXPECT_EQ(batch_apply(f, &b, &res), 0);
    EXPECT_EQ(res.done, 4);
    at = fleet_index(f);
    before = snapshot(f, &blen);
    EXPECT_TRUE(before != NULL);

    EXPECT_EQ(batch_apply(f, &b, &res), 0);
    batch_free(&b);
    EXPECT_EQ(res.done, 0);
    EXPECT_EQ(res.skipped, 4);
    EXPECT_STR(res.first_why, "place");
    EXPECT_EQ(fleet_task_count(f), 4);
    EXPECT_EQ(fleet_index(f), at);
    EXPECT_TRUE(snapshot_is(f, before, blen));
    free(before);
    fleet_free(f);
}

TEST(a_decision_made_before_a_job_stop_creates_nothing_after_it)
{
    static const char job[] = "{\"id\": \"late\", \"count\": 3, "
                              "\"command\": [\"/bin/late\"]}";
    struct fleet *f = fleet_new();
    struct fleet_result res;
    struct batch b;

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(put_job(f, JOB_WEB4, &res), 200);
    EXPECT_EQ(schedule(f, 0), 4);
    EXPECT_EQ(put_job(f, job, &res), 200);
    EXPECT_EQ(decide(f, 0, &b), 0);
    EXPECT_EQ(b.changes, 3);
    EXPECT_EQ(stop_job(f, "late"), 200);
    EXPECT_EQ(batch_apply(f, &b, &res), 0);
    batch_free(&b);
    EXPECT_EQ(res.done, 0);
    EXPECT_EQ(res.skipped, 3);
    EXPECT_EQ(count_tasks(f, "late", NULL, NULL, -1), 0);
    EXPECT_EQ(fleet_task_count(f), 4);
    EXPECT_EQ(schedule(f, 0), 0);
    fleet_free(f);
}

TEST(a_placement_on_a_site_that_went_silent_meanwhile_is_dropped)
{
    struct fleet *f = fleet_new();
    struct fleet_result res;
    struct batch b;

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(reg(f, "bergen-2", SITE_SOUTH), 200);
    EXPECT_EQ(put_job(f, JOB_WEB4, &res), 200);
    EXPECT_EQ(decide(f, 1000, &b), 0);
    EXPECT_EQ(set_status(f, "oslo-1", SCHED_SITE_SILENT, 1000), 200);
    EXPECT_EQ(batch_apply(f, &b, &res), 0);
    batch_free(&b);
    EXPECT_EQ(res.done, 2);
    EXPECT_EQ(res.skipped, 2);
    EXPECT_EQ(count_tasks(f, "web", "oslo-1", NULL, -1), 0);
    EXPECT_EQ(count_tasks(f, "web", "bergen-2", "placed", 0), 2);
    /* The leader decides again: the rest goes where there is room. */
    EXPECT_EQ(schedule(f, 1000), 2);
    EXPECT_EQ(count_tasks(f, "web", "bergen-2", "placed", 0), 4);
    fleet_free(f);
}

/* ---- Jobs. */

TEST(job_put_of_the_same_spec_keeps_its_version)
{
    static const char v1[] =
        "{\"id\": \"web\", \"count\": 2, \"command\": [\"/bin/web\"], "
        "\"sites\": [\"oslo-1\", \"bergen-2\"]}";
    static const char same[] =
        "{\"version\": 7, \"command\": [\"/bin/web\"], \"count\": 2, "
        "\"sites\": [\"oslo-1\", \"bergen-2\"], \"id\": \"web\"}";
    static const char v2[] =
        "{\"id\": \"web\", \"count\": 2, \"command\": [\"/bin/web\"], "
        "\"sites\": [\"oslo-1\", \"bergen-2\"], \"env\": {\"A\": \"1\"}}";
    struct fleet *f = fleet_new();
    struct fleet_result res;
    uint64_t at, quiet;

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(reg(f, "bergen-2", SITE_SOUTH), 200);
    EXPECT_EQ(reg(f, "tromso-3", SITE_NORTH), 200);
    EXPECT_EQ(put_job(f, v1, &res), 200);
    EXPECT_EQ(res.version, 1);
    EXPECT_TRUE(res.changed);
    EXPECT_EQ(schedule(f, 0), 2);
    at = fleet_index(f);
    quiet = assign_index(f, "tromso-3");

    EXPECT_EQ(put_job(f, same, &res), 200);
    EXPECT_TRUE(!res.changed);
    EXPECT_EQ(res.version, 1);
    EXPECT_EQ(fleet_index(f), at);
    EXPECT_EQ(assign_index(f, "oslo-1"), at);

    EXPECT_EQ(put_job(f, v2, &res), 200);
    EXPECT_TRUE(res.changed);
    EXPECT_EQ(res.version, 2);
    EXPECT_EQ(fleet_index(f), log_index);
    EXPECT_EQ(assign_index(f, "oslo-1"), log_index);
    EXPECT_EQ(assign_index(f, "bergen-2"), log_index);
    EXPECT_EQ(assign_index(f, "tromso-3"), quiet);
    EXPECT_EQ(task_int(f, "web", 0, "job_version"), 1);
    EXPECT_EQ(schedule(f, 0), 0);
    fleet_free(f);
}

TEST(job_stop_removes_pending_tasks_and_asks_placed_ones_to_stop)
{
    static const char pinned[] =
        "{\"id\": \"pin\", \"count\": 3, \"command\": [\"/bin/pin\"], "
        "\"sites\": [\"small\"], \"resources\": {\"cpu\": 0.4}}";
    struct fleet *f = fleet_new();
    struct fleet_result res;
    uint64_t at;
    long idx[4], i0, i1;
    char body[200];
    json_t *as;

    EXPECT_EQ(reg(f, "small", "{\"cpu\": 1, \"memory_mb\": 1024}"), 200);
    EXPECT_EQ(reg(f, "other", SITE_NORTH), 200);
    EXPECT_EQ(put_job(f, pinned, &res), 200);
    EXPECT_EQ(schedule(f, 0), 3);
    EXPECT_EQ(count_tasks(f, "pin", "small", "placed", 0), 2);
    EXPECT_EQ(count_tasks(f, "pin", NULL, "pending", 0), 1);

    at = fleet_index(f);
    EXPECT_EQ(stop_job(f, "nope"), 404);
    EXPECT_EQ(fleet_index(f), at);

    EXPECT_EQ(stop_job(f, "pin"), 200);
    EXPECT_TRUE(!fleet_job_exists(f, "pin"));
    EXPECT_EQ(fleet_job_count(f), 0);
    EXPECT_EQ(fleet_task_count(f), 2);
    EXPECT_EQ(count_tasks(f, "pin", "small", "placed", 1), 2);
    EXPECT_EQ(assign_index(f, "small"), log_index);
    EXPECT_EQ(schedule(f, 0), 0);

    /* The stopped tasks are still what the site's controller sees. */
    as = fleet_assignments_json(f, "small");
    EXPECT_EQ(json_array_size(json_object_get(as, "tasks")), 2);
    EXPECT_EQ(json_object_size(json_object_get(as, "jobs")), 0);
    json_decref(as);

    EXPECT_TRUE(task_on(f, "pin", "small") < 0); /* all asked to stop */
    EXPECT_EQ(task_indexes(f, "pin", "small", idx, 4), 2);
    i0 = idx[0];
    i1 = idx[1];
    snprintf(body, sizeof(body),
             "{\"seq\": 1, \"tasks\": [{\"id\": \"pin.%ld\", "
             "\"state\": \"stopped\"}]}",
             i0);
    EXPECT_EQ(report(f, "other", body, &res), 200);
    EXPECT_TRUE(res.applied);
    EXPECT_EQ(fleet_task_count(f), 2);
    EXPECT_EQ(report(f, "small", body, &res), 200);
    EXPECT_TRUE(res.applied);
    EXPECT_EQ(fleet_task_count(f), 1);
    EXPECT_STR(task_str(f, "pin", (uint32_t)i0, "state"), "(gone)");
    EXPECT_EQ(assign_index(f, "small"), log_index);

    snprintf(body, sizeof(body),
             "{\"seq\": 2, \"tasks\": [{\"id\": \"pin.%ld\", "
             "\"state\": \"complete\", \"exit_code\": 0}]}",
             i1);
    EXPECT_EQ(report(f, "small", body, &res), 200);
    EXPECT_EQ(fleet_task_count(f), 0);
    fleet_free(f);
}

/* ---- Reports. */

#define REPORT(seq, task, rest)                                                \
    "{\"seq\": " #seq ", \"tasks\": [{\"id\": \"" task "\", \"state\": " rest  \
    "}]}"

TEST(jobs_together_cannot_want_more_than_half_the_task_table)
{
    struct fleet *f = fleet_new();
    struct fleet_result res;
    char text[200];

    for (int i = 0; i < FLEET_MAX_WANTED / 10000; i++) {
        snprintf(text, sizeof(text),
                 "{\"id\": \"big-%d\", \"count\": 10000, \"command\": "
                 "[\"/bin/true\"]}",
                 i);
        EXPECT_EQ(put_job(f, text, &res), 200);
        EXPECT_EQ(res.status, 200);
    }
    EXPECT_EQ(put_job(f,
                      "{\"id\": \"one-more\", \"count\": 1, "
                      "\"command\": [\"/bin/true\"]}",
                      &res),
              400);
    EXPECT_TRUE(strstr(res.error, "more than 100000 tasks") != NULL);
    EXPECT_TRUE(!fleet_job_exists(f, "one-more"));
    /* Lowering a job's count makes room again. */
    EXPECT_EQ(put_job(f,
                      "{\"id\": \"big-0\", \"count\": 9999, "
                      "\"command\": [\"/bin/true\"]}",
                      &res),
              200);
    EXPECT_EQ(put_job(f,
                      "{\"id\": \"one-more\", \"count\": 1, "
                      "\"command\": [\"/bin/true\"]}",
                      &res),
              200);
    fleet_free(f);
}

TEST(reports_are_applied_once_in_seq_order)
{
    static const char job[] = "{\"id\": \"svc\", \"command\": [\"/bin/svc\"]}";
    struct fleet *f = fleet_new();
    struct fleet_result res;
    struct fleet_site_info si;
    uint64_t at;

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(put_job(f, job, &res), 200);
    EXPECT_EQ(schedule(f, 0), 1);

    EXPECT_EQ(report(f, "oslo-1",
                     REPORT(1, "svc.0",
                            "\"running\", \"agent\": \"oslo-1-a\", "
                            "\"pid\": 4242, \"restarts\": 0"),
                     &res),
              200);
    EXPECT_TRUE(res.applied);
    EXPECT_EQ(res.report_seq, 1);
    EXPECT_STR(task_str(f, "svc", 0, "state"), "running");
    EXPECT_STR(task_str(f, "svc", 0, "agent"), "oslo-1-a");
    EXPECT_EQ(task_int(f, "svc", 0, "pid"), 4242);

    at = fleet_index(f);
    EXPECT_EQ(report(f, "oslo-1", REPORT(1, "svc.0", "\"failed\""), &res), 200);
    EXPECT_TRUE(!res.applied);
    EXPECT_EQ(res.report_seq, 1);
    EXPECT_STR(task_str(f, "svc", 0, "state"), "running");
    EXPECT_EQ(fleet_index(f), at);

    EXPECT_EQ(report(f, "oslo-1",
                     REPORT(3, "svc.0", "\"running\", \"restarts\": 2"), &res),
              200);
    EXPECT_TRUE(res.applied);
    EXPECT_EQ(res.report_seq, 3);
    EXPECT_EQ(task_int(f, "svc", 0, "restarts"), 2);
    EXPECT_EQ(report(f, "oslo-1", REPORT(2, "svc.0", "\"failed\""), &res), 200);
    EXPECT_TRUE(!res.applied);
    EXPECT_EQ(res.report_seq, 3);
    EXPECT_STR(task_str(f, "svc", 0, "state"), "running");

    /* A controller that registers again learns what it may forget. */
    EXPECT_EQ(reg_res(f, "oslo-1", SITE_NORTH, &res), 200);
    EXPECT_EQ(res.report_seq, 3);
    EXPECT_TRUE(fleet_site_find(f, "oslo-1", &si));
    EXPECT_EQ(si.report_seq, 3);

    EXPECT_EQ(report(f, "nowhere", REPORT(9, "svc.0", "\"failed\""), &res),
              404);
    fleet_free(f);
}

TEST(a_failed_task_is_replaced_and_few_failures_are_kept)
{
    static const char job[] = "{\"id\": \"svc\", \"command\": [\"/bin/svc\"]}";
    struct fleet *f = fleet_new();
    struct fleet_result res;
    json_t *jobs, *c;
    char body[200];

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(put_job(f, job, &res), 200);
    EXPECT_EQ(schedule(f, 0), 1);
    EXPECT_EQ(report(f, "oslo-1",
                     REPORT(1, "svc.0",
                            "\"failed\", \"exit_code\": 3, "
                            "\"message\": \"boom\""),
                     &res),
              200);
    EXPECT_STR(task_str(f, "svc", 0, "state"), "failed");
    EXPECT_STR(task_str(f, "svc", 0, "message"), "boom");
    EXPECT_EQ(task_int(f, "svc", 0, "exit_code"), 3);
    EXPECT_EQ(schedule(f, 0), 1);
    EXPECT_STR(task_str(f, "svc", 1, "state"), "placed");
    EXPECT_EQ(fleet_task_count(f), 2);

    for (int k = 1; k < 15; k++) {
        snprintf(body, sizeof(body),
                 "{\"seq\": %d, \"tasks\": [{\"id\": \"svc.%d\", "
                 "\"state\": \"failed\", \"exit_code\": 1}]}",
                 k + 1, k);
        EXPECT_EQ(report(f, "oslo-1", body, &res), 200);
        EXPECT_TRUE(count_tasks(f, "svc", NULL, "failed", -1) <=
                    FLEET_MAX_ENDED);
        EXPECT_EQ(schedule(f, 0), 1);
    }
    EXPECT_EQ(count_tasks(f, "svc", NULL, "failed", -1), FLEET_MAX_ENDED);
    EXPECT_EQ(count_tasks(f, "svc", NULL, "placed", 0), 1);
    EXPECT_EQ(fleet_task_count(f), FLEET_MAX_ENDED + 1);
    /* The oldest went first. */
    EXPECT_STR(task_str(f, "svc", 4, "state"), "(gone)");
    EXPECT_STR(task_str(f, "svc", 5, "state"), "failed");
    EXPECT_STR(task_str(f, "svc", 15, "state"), "placed");

    jobs = fleet_jobs_json(f);
    c = json_object_get(json_array_get(jobs, 0), "tasks");
    EXPECT_EQ(json_integer_value(json_object_get(c, "failed")),
              FLEET_MAX_ENDED);
    EXPECT_EQ(json_integer_value(json_object_get(c, "placed")), 1);
    json_decref(jobs);
    fleet_free(f);
}

/* ---- Silent sites. */

TEST(a_silent_site_keeps_its_tasks_unknown_until_it_is_back)
{
    static const char job[] = "{\"id\": \"keep\", \"count\": 2, "
                              "\"command\": [\"/bin/keep\"]}";
    struct fleet *f = fleet_new();
    struct fleet_result res;
    struct fleet_site_info si;
    long on_a;
    json_t *v;

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(reg(f, "bergen-2", SITE_SOUTH), 200);
    EXPECT_EQ(put_job(f, job, &res), 200);
    EXPECT_EQ(schedule(f, 0), 2);
    on_a = task_on(f, "keep", "oslo-1");
    EXPECT_TRUE(on_a >= 0);
    EXPECT_EQ(report(f, "oslo-1",
                     "{\"seq\": 1, \"tasks\": [{\"id\": \"keep.0\", "
                     "\"state\": \"running\"}, {\"id\": \"keep.1\", "
                     "\"state\": \"running\"}]}",
                     &res),
              200);
    EXPECT_STR(task_str(f, "keep", (uint32_t)on_a, "state"), "running");

    EXPECT_EQ(set_status(f, "oslo-1", SCHED_SITE_SILENT, 5000), 200);
    EXPECT_TRUE(fleet_site_find(f, "oslo-1", &si));
    EXPECT_EQ(si.status, SCHED_SITE_SILENT);
    EXPECT_EQ(si.silent_since_ms, 5000);
    v = site_field(f, "oslo-1", "status");
    EXPECT_STR(json_string_value(v), "silent");
    json_decref(v);
    EXPECT_EQ(schedule(f, 6000), 1);
    EXPECT_STR(task_str(f, "keep", (uint32_t)on_a, "state"), "unknown");
    EXPECT_EQ(schedule(f, 10 * 3600 * 1000), 0);
    EXPECT_EQ(fleet_task_count(f), 2);

    EXPECT_EQ(set_status(f, "oslo-1", SCHED_SITE_CONNECTED, 0), 200);
    EXPECT_TRUE(fleet_site_find(f, "oslo-1", &si));
    EXPECT_EQ(si.status, SCHED_SITE_CONNECTED);
    EXPECT_STR(task_str(f, "keep", (uint32_t)on_a, "state"), "unknown");
    EXPECT_EQ(schedule(f, 10 * 3600 * 1000), 1);
    EXPECT_STR(task_str(f, "keep", (uint32_t)on_a, "state"), "running");
    EXPECT_EQ(fleet_task_count(f), 2);
    EXPECT_EQ(schedule(f, 10 * 3600 * 1000), 0);
    fleet_free(f);
}

TEST(a_silent_site_is_replaced_after_the_delay_and_the_surplus_stopped)
{
    static const char job[] = "{\"id\": \"mv\", \"count\": 2, "
                              "\"command\": [\"/bin/mv\"], "
                              "\"reschedule_after\": \"30s\"}";
    struct fleet *f = fleet_new();
    struct fleet_result res;
    long on_a, moved;
    char body[200];

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(reg(f, "bergen-2", SITE_SOUTH), 200);
    EXPECT_EQ(put_job(f, job, &res), 200);
    EXPECT_EQ(schedule(f, 0), 2);
    on_a = task_on(f, "mv", "oslo-1");
    EXPECT_TRUE(on_a >= 0);

    EXPECT_EQ(set_status(f, "oslo-1", SCHED_SITE_SILENT, 10000), 200);
    EXPECT_EQ(schedule(f, 10000), 1);
    EXPECT_STR(task_str(f, "mv", (uint32_t)on_a, "state"), "unknown");
    EXPECT_EQ(schedule(f, 39999), 0);
    EXPECT_EQ(fleet_task_count(f), 2);

    EXPECT_EQ(schedule(f, 40000), 1);
    EXPECT_EQ(fleet_task_count(f), 3);
    EXPECT_EQ(task_int(f, "mv", 2, "replaces"), on_a);
    EXPECT_STR(task_str(f, "mv", 2, "site"), "bergen-2");
    EXPECT_STR(task_str(f, "mv", 2, "state"), "placed");
    EXPECT_STR(task_str(f, "mv", (uint32_t)on_a, "state"), "unknown");
    EXPECT_EQ(schedule(f, 40000), 0);

    EXPECT_EQ(set_status(f, "oslo-1", SCHED_SITE_CONNECTED, 0), 200);
    EXPECT_EQ(schedule(f, 41000), 2);
    EXPECT_STR(task_str(f, "mv", (uint32_t)on_a, "state"), "running");
    EXPECT_EQ(task_int(f, "mv", (uint32_t)on_a, "stop"), 0);
    EXPECT_EQ(task_int(f, "mv", 2, "stop"), 1);
    EXPECT_EQ(count_tasks(f, "mv", NULL, NULL, 0), 2);
    EXPECT_EQ(schedule(f, 41000), 0);

    moved = 2;
    snprintf(body, sizeof(body),
             "{\"seq\": 1, \"tasks\": [{\"id\": \"mv.%ld\", "
             "\"state\": \"stopped\"}]}",
             moved);
    EXPECT_EQ(report(f, "bergen-2", body, &res), 200);
    EXPECT_EQ(fleet_task_count(f), 2);
    EXPECT_EQ(schedule(f, 41000), 0);
    fleet_free(f);
}

/* ---- What controllers send. */

/* BODY must be refused with 400 and a one-line reason. */
static int register_refused(const char *site, const char *body)
{
    uint8_t *e = (uint8_t *)&e;
    size_t len = 0;
    char err[200] = "";
    int rc = fleet_entry_site_register(site, body, strlen(body), &e, &len, err,
                                       sizeof(err));

    if (rc != 400 || err[0] == '\0' || strchr(err, '\n') != NULL ||
        e != (uint8_t *)&e) {
        fprintf(stderr, "  register %s %s: %d \"%s\"\n", site, body, rc, err);
        return 0;
    }
    return 1;
}

static int report_refused(const char *body)
{
    uint8_t *e = (uint8_t *)&e;
    size_t len = 0;
    char err[200] = "";
    int rc = fleet_entry_report("oslo-1", body, strlen(body), &e, &len, err,
                                sizeof(err));

    if (rc != 400 || err[0] == '\0' || strchr(err, '\n') != NULL ||
        e != (uint8_t *)&e) {
        fprintf(stderr, "  report %s: %d \"%s\"\n", body, rc, err);
        return 0;
    }
    return 1;
}

static int report_ok(const char *body)
{
    uint8_t *e = NULL;
    size_t len = 0;
    char err[200] = "";
    int rc = fleet_entry_report("oslo-1", body, strlen(body), &e, &len, err,
                                sizeof(err));
    int ok = rc == 0 && fleet_is_entry(e, len);

    if (!ok) {
        fprintf(stderr, "  report %s: %d \"%s\"\n", body, rc, err);
    }
    free(e);
    return ok;
}

/* A report of one failed task with a message of LEN bytes. */
static void message_report(char *buf, size_t size, size_t len)
{
    int n = snprintf(buf, size,
                     "{\"seq\": 1, \"tasks\": [{\"id\": \"x.1\", "
                     "\"state\": \"failed\", \"message\": \"%*s\"}]}",
                     (int)len, "");

    for (char *p = strstr(buf, "\"message\": \"") + 12; n > 0 && *p == ' ';
         p++) {
        *p = 'm';
    }
}

TEST(registration_refuses_bad_bodies_and_takes_good_ones)
{
    struct fleet *f = fleet_new();
    struct fleet_result res;
    json_t *v;

    EXPECT_TRUE(register_refused("oslo-1", "{\"cpus\": 4}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"cpu\": \"4\"}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"cpu\": -1}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"cpu\": 0.0005}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"memory_mb\": 1.5}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"memory_mb\": -1}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"memory_mb\": \"8\"}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"labels\": {\"a\": 1}}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"labels\": [\"a\"]}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"labels\": null}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"controller\": 7201}"));
    EXPECT_TRUE(register_refused("oslo-1", "{\"cpu\": 1, \"cpu\": 2}"));
    EXPECT_TRUE(register_refused("oslo-1", "[]"));
    EXPECT_TRUE(register_refused("oslo-1", "{"));
    EXPECT_TRUE(register_refused("oslo-1", ""));
    EXPECT_TRUE(register_refused("Oslo-1", "{}"));
    EXPECT_TRUE(register_refused("", "{}"));
    EXPECT_TRUE(register_refused("-oslo", "{}"));
    EXPECT_TRUE(register_refused("oslo 1", "{}"));
    EXPECT_TRUE(register_refused(
        "a1234567890123456789012345678901234567890123456789012345678901234",
        "{}"));
    EXPECT_EQ(fleet_site_count(f), 0);

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(reg(f, "bare", "{}"), 200);
    EXPECT_EQ(reg(f, "no-labels", "{\"cpu\": 2, \"memory_mb\": 1024}"), 200);
    EXPECT_EQ(reg_res(f, "empty-labels", "{\"labels\": {}}", &res), 200);
    EXPECT_EQ(res.report_seq, 0);
    EXPECT_EQ(fleet_site_count(f), 4);

    v = site_field(f, "oslo-1", "labels");
    EXPECT_STR(json_string_value(json_object_get(v, "region")), "north");
    json_decref(v);
    v = site_field(f, "oslo-1", "controller");
    EXPECT_STR(json_string_value(v), "127.0.0.1:7201");
    json_decref(v);
    v = site_field(f, "no-labels", "cpu");
    EXPECT_TRUE(json_real_value(v) == 2.0);
    json_decref(v);
    v = site_field(f, "no-labels", "memory_mb");
    EXPECT_EQ(json_integer_value(v), 1024);
    json_decref(v);
    fleet_free(f);
}

TEST(reports_refuse_bad_bodies_and_take_good_ones)
{
    char big[1024];
    uint8_t *e = NULL;
    size_t len = 0;
    char err[200];

    EXPECT_TRUE(report_refused("{\"seq\": 1, \"tasks\": [], \"x\": 1}"));
    EXPECT_TRUE(report_refused("{\"seq\": 0, \"tasks\": []}"));
    EXPECT_TRUE(report_refused("{\"seq\": -1, \"tasks\": []}"));
    EXPECT_TRUE(report_refused("{\"seq\": \"1\", \"tasks\": []}"));
    EXPECT_TRUE(report_refused("{\"seq\": 1.0, \"tasks\": []}"));
    EXPECT_TRUE(report_refused("{\"tasks\": []}"));
    EXPECT_TRUE(report_refused("{\"seq\": 1}"));
    EXPECT_TRUE(report_refused("{\"seq\": 1, \"tasks\": {}}"));
    EXPECT_TRUE(report_refused("{\"seq\": 1, \"tasks\": [1]}"));
    EXPECT_TRUE(report_refused(REPORT(1, "x", "\"running\"")));
    EXPECT_TRUE(report_refused(REPORT(1, "x.01", "\"running\"")));
    EXPECT_TRUE(report_refused(REPORT(1, ".1", "\"running\"")));
    EXPECT_TRUE(report_refused(REPORT(1, "x.", "\"running\"")));
    EXPECT_TRUE(report_refused(REPORT(1, "x.-1", "\"running\"")));
    EXPECT_TRUE(report_refused(REPORT(1, "x.4294967296", "\"running\"")));
    EXPECT_TRUE(report_refused(REPORT(1, "x.1", "\"pending\"")));
    EXPECT_TRUE(report_refused(REPORT(1, "x.1", "\"unknown\"")));
    EXPECT_TRUE(report_refused(REPORT(1, "x.1", "3")));
    EXPECT_TRUE(report_refused(REPORT(1, "x.1", "\"running\", \"pid\": -1")));
    EXPECT_TRUE(
        report_refused(REPORT(1, "x.1", "\"running\", \"pid\": \"1\"")));
    EXPECT_TRUE(
        report_refused(REPORT(1, "x.1", "\"running\", \"restarts\": null")));
    EXPECT_TRUE(
        report_refused(REPORT(1, "x.1", "\"failed\", \"exit_code\": 5000")));
    EXPECT_TRUE(
        report_refused(REPORT(1, "x.1", "\"running\", \"agent\": \"A B\"")));
    EXPECT_TRUE(report_refused(REPORT(1, "x.1", "\"running\", \"zz\": 1")));
    EXPECT_TRUE(report_refused("{\"seq\": 1, \"tasks\": [{\"state\": "
                               "\"running\"}]}"));

    message_report(big, sizeof(big), FLEET_MAX_MESSAGE + 1);
    EXPECT_TRUE(report_refused(big));
    message_report(big, sizeof(big), FLEET_MAX_MESSAGE);
    EXPECT_TRUE(report_ok(big));
    message_report(big, sizeof(big), 0);
    EXPECT_TRUE(report_ok(big));

    /* 1001 tasks. */
    {
        size_t cap = 64 * 1024, at;
        char *many = malloc(cap);
        int ok;

        EXPECT_TRUE(many != NULL);
        at = (size_t)snprintf(many, cap, "{\"seq\": 1, \"tasks\": [");
        for (int i = 0; i <= FLEET_MAX_REPORT; i++) {
            at += (size_t)snprintf(many + at, cap - at,
                                   "%s{\"id\": \"x.%d\", \"state\": "
                                   "\"running\"}",
                                   i ? "," : "", i);
        }
        snprintf(many + at, cap - at, "]}");
        ok = report_refused(many);
        free(many);
        EXPECT_TRUE(ok);
    }

    EXPECT_EQ(fleet_entry_report("Oslo", "{\"seq\": 1, \"tasks\": []}", 24, &e,
                                 &len, err, sizeof(err)),
              400);

    EXPECT_TRUE(report_ok("{\"seq\": 1, \"tasks\": []}"));
    EXPECT_TRUE(report_ok(REPORT(1, "x.0", "\"running\"")));
    EXPECT_TRUE(
        report_ok(REPORT(9007199254740992, "a.b.c.12", "\"assigned\"")));
    EXPECT_TRUE(report_ok(
        REPORT(2, "x.1",
               "\"failed\", \"agent\": \"oslo-1-a\", \"pid\": 7, "
               "\"restarts\": 3, \"exit_code\": -9, \"message\": \"oom\"")));
    EXPECT_TRUE(report_ok(
        REPORT(2, "x.1", "\"complete\", \"exit_code\": null, \"pid\": null")));
    EXPECT_TRUE(report_ok(REPORT(2, "x.4294967295", "\"lost\"")));
    EXPECT_TRUE(report_ok(REPORT(2, "x.1", "\"stopped\"")));
}

TEST(a_report_skips_tasks_it_does_not_know)
{
    static const char job[] = "{\"id\": \"svc\", \"command\": [\"/bin/svc\"]}";
    struct fleet *f = fleet_new();
    struct fleet_result res;

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(reg(f, "bergen-2", SITE_SOUTH), 200);
    EXPECT_EQ(put_job(f, job, &res), 200);
    EXPECT_EQ(schedule(f, 0), 1);
    EXPECT_STR(task_str(f, "svc", 0, "site"), "bergen-2");
    EXPECT_EQ(report(f, "oslo-1",
                     "{\"seq\": 5, \"tasks\": [{\"id\": \"svc.0\", "
                     "\"state\": \"failed\"}, {\"id\": \"svc.9\", "
                     "\"state\": \"running\"}, {\"id\": \"nope.0\", "
                     "\"state\": \"stopped\"}]}",
                     &res),
              200);
    EXPECT_TRUE(res.applied);
    EXPECT_EQ(res.report_seq, 5);
    EXPECT_STR(task_str(f, "svc", 0, "state"), "placed");
    EXPECT_EQ(fleet_task_count(f), 1);
    fleet_free(f);
}

/* ---- Snapshots. */

/* A fleet with something of everything in it. */
static int build_rich(struct fleet *f)
{
    static const char mv[] = "{\"id\": \"mv\", \"count\": 2, "
                             "\"command\": [\"/bin/mv\"], "
                             "\"labels\": {\"region\": \"north\"}, "
                             "\"reschedule_after\": \"1s\"}";
    static const char sys[] = "{\"id\": \"sys\", \"type\": \"system\", "
                              "\"command\": [\"/bin/sys\"]}";
    static const char batch[] =
        "{\"id\": \"batch\", \"type\": \"batch\", \"count\": 2, "
        "\"command\": [\"/bin/b\"], \"resources\": {\"cpu\": 0.25}}";
    static const char gone[] = "{\"id\": \"gone\", \"count\": 2, "
                               "\"command\": [\"/bin/g\"]}";
    struct fleet_result res;

    if (reg(f, "oslo-1", SITE_NORTH) != 200 ||
        reg(f, "bergen-2", SITE_SOUTH) != 200 ||
        reg(f, "tromso-3", SITE_NORTH) != 200 ||
        put_job(f, JOB_WEB4, &res) != 200 || put_job(f, mv, &res) != 200 ||
        put_job(f, sys, &res) != 200 || put_job(f, batch, &res) != 200 ||
        put_job(f, gone, &res) != 200 || schedule(f, 0) <= 0 ||
        report(f, "oslo-1",
               "{\"seq\": 4, \"tasks\": [{\"id\": \"web.0\", \"state\": "
               "\"running\", \"agent\": \"oslo-1-a\", \"pid\": 12, "
               "\"restarts\": 1, \"message\": \"ok \\\"fine\\\"\"}]}",
               &res) != 200 ||
        stop_job(f, "gone") != 200 ||
        set_status(f, "tromso-3", SCHED_SITE_SILENT, 100) != 200 ||
        schedule(f, 2000) <= 0) {
        return -1;
    }
    return 0;
}

TEST(a_snapshot_decodes_to_the_same_fleet)
{
    struct fleet *f = fleet_new(), *g = fleet_new();
    char err[200], *a, *b;
    size_t la, lb;
    json_t *x, *y;
    uint64_t mark;

    EXPECT_EQ(build_rich(f), 0);
    EXPECT_EQ(reg(g, "other", "{}"), 200);
    a = snapshot(f, &la);
    EXPECT_TRUE(a != NULL);
    EXPECT_EQ(fleet_decode(g, a, la, err, sizeof(err)), 0);
    b = snapshot(g, &lb);
    EXPECT_TRUE(b != NULL);
    EXPECT_EQ(la, lb);
    EXPECT_TRUE(memcmp(a, b, la) == 0);
    free(b);
    EXPECT_EQ(fleet_index(g), fleet_index(f));
    EXPECT_EQ(fleet_site_count(g), 3);
    EXPECT_EQ(fleet_task_count(g), fleet_task_count(f));

    x = fleet_tasks_json(f, NULL, NULL);
    y = fleet_tasks_json(g, NULL, NULL);
    EXPECT_TRUE(json_equal(x, y));
    json_decref(x);
    json_decref(y);
    x = fleet_sites_json(f, NULL, NULL);
    y = fleet_sites_json(g, NULL, NULL);
    EXPECT_TRUE(json_equal(x, y));
    json_decref(x);
    json_decref(y);

    /* Both go on alike: the decoded one's task index works. */
    mark = log_index;
    EXPECT_EQ(set_status(f, "tromso-3", SCHED_SITE_CONNECTED, 0), 200);
    EXPECT_TRUE(schedule(f, 5000) > 0);
    log_index = mark;
    EXPECT_EQ(set_status(g, "tromso-3", SCHED_SITE_CONNECTED, 0), 200);
    EXPECT_TRUE(schedule(g, 5000) > 0);
    free(a);
    a = snapshot(f, &la);
    EXPECT_TRUE(a != NULL && snapshot_is(g, a, la));
    free(a);
    fleet_free(f);
    fleet_free(g);
}

/* Decoding TEXT into F must fail with a reason and leave F as it was. */
static int decode_refused(struct fleet *f, const char *text, size_t len)
{
    size_t blen;
    char *before = snapshot(f, &blen), err[200] = "";
    int rc = fleet_decode(f, text, len, err, sizeof(err));
    int ok = rc == -1 && err[0] != '\0' && snapshot_is(f, before, blen);

    if (!ok) {
        fprintf(stderr, "  decode %.80s: %d \"%s\"\n", text, rc, err);
    }
    free(before);
    return ok;
}

/* F's snapshot with EDIT applied to its JSON form, as text. */
static char *snapshot_edited(const struct fleet *f,
                             void (*edit)(json_t *o, void *arg), void *arg)
{
    size_t len;
    char *text = snapshot(f, &len), *out;
    json_t *o = json_loadb(text, len, 0, NULL);

    free(text);
    if (o == NULL) {
        return NULL;
    }
    edit(o, arg);
    out = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return out;
}

static void edit_reverse_jobs(json_t *o, void *arg)
{
    json_t *jobs = json_object_get(o, "jobs");
    json_t *first = json_incref(json_array_get(jobs, 0));

    json_array_remove(jobs, 0);
    json_array_append_new(jobs, first);
}

static void edit_version(json_t *o, void *arg)
{
    json_object_set_new(o, "v", json_integer(2));
}

/* Set field NAME of the first element of ARRAY to V. */
struct edit_field {
    const char *array, *name;
    json_t *v;
};

static void edit_field(json_t *o, void *arg)
{
    struct edit_field *e = arg;

    json_object_set(json_array_get(json_object_get(o, e->array), 0), e->name,
                    e->v);
}

TEST(a_bad_snapshot_is_refused_and_the_fleet_is_left_alone)
{
    struct fleet *f = fleet_new();
    char *text;
    struct edit_field ef;

    EXPECT_EQ(build_rich(f), 0);
    EXPECT_TRUE(decode_refused(f, "", 0));
    EXPECT_TRUE(decode_refused(f, "garbage", 7));
    EXPECT_TRUE(decode_refused(f, "{}", 2));
    EXPECT_TRUE(decode_refused(f, "[]", 2));
    EXPECT_TRUE(decode_refused(
        f, "{\"v\": 1, \"jobs\": {}, \"sites\": [], \"tasks\": []}", 47));

    text = snapshot_edited(f, edit_version, NULL);
    EXPECT_TRUE(text != NULL && decode_refused(f, text, strlen(text)));
    free(text);
    text = snapshot_edited(f, edit_reverse_jobs, NULL);
    EXPECT_TRUE(text != NULL && decode_refused(f, text, strlen(text)));
    free(text);

    /* What the scheduler would refuse, or the apply trip over. */
    ef = (struct edit_field){"tasks", "site", json_integer(-1)};
    text = snapshot_edited(f, edit_field, &ef);
    json_decref(ef.v);
    EXPECT_TRUE(text != NULL && decode_refused(f, text, strlen(text)));
    free(text);
    ef = (struct edit_field){"tasks", "state", json_integer(0)};
    text = snapshot_edited(f, edit_field, &ef);
    json_decref(ef.v);
    EXPECT_TRUE(text != NULL && decode_refused(f, text, strlen(text)));
    free(text);
    ef = (struct edit_field){"tasks", "site", json_integer(3)};
    text = snapshot_edited(f, edit_field, &ef);
    json_decref(ef.v);
    EXPECT_TRUE(text != NULL && decode_refused(f, text, strlen(text)));
    free(text);
    ef = (struct edit_field){"tasks", "index", json_integer(UINT32_MAX)};
    text = snapshot_edited(f, edit_field, &ef);
    json_decref(ef.v);
    EXPECT_TRUE(text != NULL && decode_refused(f, text, strlen(text)));
    free(text);
    ef = (struct edit_field){"sites", "cpu_milli",
                             json_integer((json_int_t)1 << 41)};
    text = snapshot_edited(f, edit_field, &ef);
    json_decref(ef.v);
    EXPECT_TRUE(text != NULL && decode_refused(f, text, strlen(text)));
    free(text);
    ef = (struct edit_field){"sites", "name", json_string("Oslo")};
    text = snapshot_edited(f, edit_field, &ef);
    json_decref(ef.v);
    EXPECT_TRUE(text != NULL && decode_refused(f, text, strlen(text)));
    free(text);
    fleet_free(f);
}

/* ---- Malformed entries. */

/* The bytes TEXT behind the tag must be refused with STATUS, changing
 * nothing. */
static int entry_refused(struct fleet *f, const char *text, int status)
{
    size_t n = strlen(text), blen;
    uint8_t *e = malloc(n + 1);
    char *before = snapshot(f, &blen);
    uint64_t at = fleet_index(f);
    struct fleet_result res;
    int rc, ok;

    if (e == NULL || before == NULL) {
        free(e);
        free(before);
        return 0;
    }
    e[0] = FLEET_ENTRY_TAG;
    memcpy(e + 1, text, n);
    rc = fleet_apply(f, e, n + 1, ++log_index, &res);
    ok = rc == 0 && res.status == status && res.error[0] != '\0' &&
         fleet_index(f) == at && snapshot_is(f, before, blen);
    if (!ok) {
        fprintf(stderr, "  entry %s: rc %d, status %d \"%s\"\n", text, rc,
                res.status, res.error);
    }
    free(e);
    free(before);
    return ok;
}

TEST(a_malformed_entry_is_refused_and_changes_nothing)
{
    static const char *const bad[] = {
        "",
        "not json",
        "[]",
        "{}",
        "{\"op\": 3}",
        "{\"op\": \"nope\"}",
        "{\"op\": \"job_put\"}",
        "{\"op\": \"job_put\", \"job\": 1}",
        "{\"op\": \"job_put\", \"job\": {\"id\": \"x\"}}",
        "{\"op\": \"job_stop\"}",
        "{\"op\": \"job_stop\", \"id\": 5}",
        "{\"op\": \"site_register\"}",
        "{\"op\": \"site_register\", \"site\": \"Bad\"}",
        "{\"op\": \"site_register\", \"site\": \"ok\", \"labels\": 3}",
        "{\"op\": \"site_register\", \"site\": \"ok\", \"cpu_milli\": 1}",
        "{\"op\": \"site_register\", \"site\": \"ok\", \"cpu_milli\": -1, "
        "\"memory_mb\": 1, \"controller\": \"\"}",
        "{\"op\": \"site_register\", \"site\": \"ok\", \"cpu_milli\": 1, "
        "\"memory_mb\": 2199023255553, \"controller\": \"\"}",
        "{\"op\": \"site_register\", \"site\": \"ok\", \"cpu_milli\": 1, "
        "\"memory_mb\": 1, \"controller\": 5}",
        "{\"op\": \"site_status\", \"site\": \"oslo-1\"}",
        "{\"op\": \"site_status\", \"site\": \"oslo-1\", \"status\": \"x\"}",
        "{\"op\": \"site_status\", \"status\": \"silent\"}",
        "{\"op\": \"sched\"}",
        "{\"op\": \"sched\", \"changes\": {}}",
        "{\"op\": \"report\", \"site\": \"oslo-1\"}",
        "{\"op\": \"report\", \"site\": \"oslo-1\", \"seq\": 9}",
        "{\"op\": \"report\", \"site\": \"oslo-1\", \"tasks\": []}",
        "{\"op\": \"report\", \"site\": \"oslo-1\", \"seq\": 0, "
        "\"tasks\": []}",
        "{\"op\": \"report\", \"seq\": 9, \"tasks\": []}",
    };
    struct fleet *f = fleet_new();
    struct fleet_result res;
    uint8_t kv[] = {1, '{', '}'};

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(put_job(f, JOB_WEB4, &res), 200);
    EXPECT_EQ(schedule(f, 0), 4);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_TRUE(entry_refused(f, bad[i], 400));
    }
    EXPECT_EQ(fleet_apply(f, kv, sizeof(kv), ++log_index, &res), 0);
    EXPECT_EQ(res.status, 400);
    EXPECT_TRUE(!fleet_is_entry(kv, sizeof(kv)));
    EXPECT_TRUE(!fleet_is_entry(kv, 0));
    EXPECT_EQ(fleet_apply(f, kv, 0, ++log_index, &res), 0);
    EXPECT_EQ(res.status, 400);
    EXPECT_TRUE(entry_refused(
        f,
        "{\"op\": \"site_status\", \"site\": \"nope\", \"status\": "
        "\"silent\", \"at_ms\": 1}",
        404));
    EXPECT_EQ(fleet_task_count(f), 4);
    fleet_free(f);
}

TEST(bad_changes_in_a_sched_entry_are_skipped_one_by_one)
{
    struct fleet *f = fleet_new();
    struct fleet_result res;
    static const char changes[] =
        "{\"op\": \"sched\", \"changes\": ["
        "{\"kind\": \"jump\", \"job\": \"web\", \"index\": 9, "
        "\"created\": true, \"site\": \"oslo-1\"},"
        "{\"kind\": \"place\", \"job\": \"web\", \"index\": -1, "
        "\"created\": true, \"site\": \"oslo-1\"},"
        "{\"kind\": \"place\", \"job\": \"web\", \"index\": 4294967295, "
        "\"created\": true, \"site\": \"oslo-1\"},"
        "{\"kind\": \"place\", \"job\": \"nope\", \"index\": 0, "
        "\"created\": true, \"site\": \"oslo-1\"},"
        "{\"kind\": \"place\", \"job\": \"web\", \"index\": 7, "
        "\"created\": true, \"site\": \"nowhere\"},"
        "{\"kind\": \"move\", \"job\": \"web\", \"index\": 8, "
        "\"created\": true, \"site\": \"oslo-1\", \"replaces\": 0},"
        "{\"kind\": \"running\", \"job\": \"web\", \"index\": 0},"
        "3,"
        "{\"kind\": \"place\", \"job\": \"web\", \"index\": 6, "
        "\"created\": true, \"site\": \"oslo-1\"}"
        "]}";
    size_t n = strlen(changes);
    uint8_t *e = malloc(n + 1);

    EXPECT_EQ(reg(f, "oslo-1", SITE_NORTH), 200);
    EXPECT_EQ(put_job(f, JOB_WEB4, &res), 200);
    EXPECT_EQ(schedule(f, 0), 4);
    EXPECT_TRUE(e != NULL);
    e[0] = FLEET_ENTRY_TAG;
    memcpy(e + 1, changes, n);
    EXPECT_EQ(apply_entry(f, e, n + 1, &res), 200);
    EXPECT_EQ(res.done, 1);
    EXPECT_EQ(res.skipped, 8);
    EXPECT_EQ(fleet_task_count(f), 5);
    EXPECT_STR(task_str(f, "web", 6, "state"), "placed");
    /* The scheduler takes the surplus back. */
    EXPECT_EQ(schedule(f, 0), 1);
    EXPECT_EQ(count_tasks(f, "web", NULL, NULL, 0), 4);
    fleet_free(f);
}

/* ---- The task index. */

/* Apply one sched entry of KIND changes for (JOB_K, I) for every I in
 * [0, N) with I % STEP == 0 and K = I % 5. Returns the changes done. */
static long pending_changes(struct fleet *f, enum sched_change_kind kind,
                            bool created, uint32_t n, uint32_t step)
{
    static const char *const jobs[] = {"j0", "j1", "j2", "j3", "j4"};
    struct sched_change *c = calloc(n, sizeof(*c));
    struct fleet_result sum = {0};
    size_t k = 0, at = 0;

    if (c == NULL) {
        return -1;
    }
    for (uint32_t i = 0; i < n; i += step) {
        c[k++] = (struct sched_change){.kind = kind,
                                       .job = jobs[i % 5],
                                       .index = i / 5,
                                       .created = created};
    }
    while (at < k) {
        struct fleet_result res;
        uint8_t *e;
        size_t len, m = fleet_entry_sched(c + at, k - at, &e, &len);

        if (m == 0 || apply_entry(f, e, len, &res) != 200) {
            free(c);
            return -1;
        }
        sum.done += res.done;
        at += m;
    }
    free(c);
    return (long)sum.done;
}

/* Whether the tasks of job JOB_K are exactly the I / 5 for I in [0, N)
 * with I % 5 == K and KEEP(I). */
static int tasks_are(const struct fleet *f, uint32_t n, int (*keep)(uint32_t))
{
    static const char *const jobs[] = {"j0", "j1", "j2", "j3", "j4"};
    int ok = 1;

    for (uint32_t k = 0; k < 5 && ok; k++) {
        json_t *a = fleet_tasks_json(f, jobs[k], NULL);
        size_t at = 0;

        for (uint32_t i = k; i < n && ok; i += 5) {
            if (!keep(i)) {
                continue;
            }
            ok = json_integer_value(json_object_get(json_array_get(a, at++),
                                                    "index")) == i / 5;
        }
        ok = ok && at == json_array_size(a);
        json_decref(a);
    }
    return ok;
}

static int keep_all(uint32_t i)
{
    return 1;
}

static int keep_not_third(uint32_t i)
{
    return i % 3 != 0;
}

TEST(the_task_index_survives_many_adds_and_removes)
{
    static const char *const jobs[] = {"j0", "j1", "j2", "j3", "j4"};
    const uint32_t n = 5000, removed = (n + 2) / 3;
    struct fleet *f = fleet_new();
    struct fleet_result res;
    char text[200];

    for (int k = 0; k < 5; k++) {
        snprintf(text, sizeof(text),
                 "{\"id\": \"%s\", \"count\": 10000, \"command\": [\"x\"]}",
                 jobs[k]);
        EXPECT_EQ(put_job(f, text, &res), 200);
    }
    EXPECT_EQ(pending_changes(f, SCHED_PENDING, true, n, 1), n);
    EXPECT_EQ(fleet_task_count(f), n);
    EXPECT_TRUE(tasks_are(f, n, keep_all));
    /* Again: every one is found, nothing is created twice. */
    EXPECT_EQ(pending_changes(f, SCHED_PENDING, true, n, 1), 0);

    EXPECT_EQ(pending_changes(f, SCHED_STOP, false, n, 3), removed);
    EXPECT_EQ(fleet_task_count(f), n - removed);
    EXPECT_TRUE(tasks_are(f, n, keep_not_third));
    EXPECT_EQ(pending_changes(f, SCHED_STOP, false, n, 3), 0);

    /* Each one looked up: the removed are created again, the rest found. */
    for (uint32_t i = 0; i < n; i++) {
        struct sched_change c = {.kind = SCHED_PENDING,
                                 .job = jobs[i % 5],
                                 .index = i / 5,
                                 .created = true};
        uint8_t *e;
        size_t len;

        EXPECT_EQ(fleet_entry_sched(&c, 1, &e, &len), 1);
        EXPECT_EQ(apply_entry(f, e, len, &res), 200);
        EXPECT_EQ(res.done, i % 3 == 0);
    }
    EXPECT_EQ(fleet_task_count(f), n);
    EXPECT_TRUE(tasks_are(f, n, keep_all));

    /* All gone, one by one, from the first. */
    EXPECT_EQ(pending_changes(f, SCHED_STOP, false, n, 1), n);
    EXPECT_EQ(fleet_task_count(f), 0);
    fleet_free(f);
}

int main(void)
{
    RUN(placement_spreads_over_two_sites_and_a_rerun_is_empty);
    RUN(a_big_run_is_packed_into_several_entries);
    RUN(a_sched_entry_applied_twice_changes_nothing_the_second_time);
    RUN(a_decision_made_before_a_job_stop_creates_nothing_after_it);
    RUN(a_placement_on_a_site_that_went_silent_meanwhile_is_dropped);
    RUN(job_put_of_the_same_spec_keeps_its_version);
    RUN(job_stop_removes_pending_tasks_and_asks_placed_ones_to_stop);
    RUN(jobs_together_cannot_want_more_than_half_the_task_table);
    RUN(reports_are_applied_once_in_seq_order);
    RUN(a_failed_task_is_replaced_and_few_failures_are_kept);
    RUN(a_silent_site_keeps_its_tasks_unknown_until_it_is_back);
    RUN(a_silent_site_is_replaced_after_the_delay_and_the_surplus_stopped);
    RUN(registration_refuses_bad_bodies_and_takes_good_ones);
    RUN(reports_refuse_bad_bodies_and_take_good_ones);
    RUN(a_report_skips_tasks_it_does_not_know);
    RUN(a_snapshot_decodes_to_the_same_fleet);
    RUN(a_bad_snapshot_is_refused_and_the_fleet_is_left_alone);
    RUN(a_malformed_entry_is_refused_and_changes_nothing);
    RUN(bad_changes_in_a_sched_entry_are_skipped_one_by_one);
    RUN(the_task_index_survives_many_adds_and_removes);
    DONE();
}
