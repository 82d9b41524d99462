/* fuzz_fleet.c - libFuzzer target for the fleet state machine.
 *
 * The input is lines, applied in order to a fleet that starts the same for
 * every input (two sites, a service and a system job placed on them). A
 * line that starts with 'S' is a snapshot: the rest is decoded into the
 * fleet. One that starts with 'R' is an entry as it is. Any other line is
 * the JSON of an entry: it gets FLEET_ENTRY_TAG in front and is applied at
 * the next log index. At most FUZZ_MAX_LINES lines are read. After each:
 *
 * - the apply answered 200, 400 or 404, a refusal with a one-line reason
 *   and the fleet as it was (the same for a refused snapshot);
 * - the scheduler accepts the state, every change it decides applies (none
 *   skipped), and a rerun at the same time decides nothing (skipped when
 *   the jobs ask for more than FUZZ_MAX_WANTED tasks, to keep runs fast).
 *
 * At the end every JSON view builds, and the snapshot decodes into a new
 * fleet that encodes to the same bytes. No crash, no leak (ASan, LSan).
 *
 * Build and run: scripts/fuzz.sh tests/fuzz/fuzz_fleet.c
 */
#include "sm/fleet.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define FUZZ_MAX_LINES 8
#define FUZZ_T0 1000000     /* the scheduler's clock at the first line, ms */
#define FUZZ_MAX_WANTED 256 /* tasks the jobs ask for, beyond: no scheduler */

static char *fuzz_base; /* the starting fleet's snapshot */
static size_t fuzz_base_len;
static uint64_t fuzz_index;

static void fuzz_check(bool ok)
{
    if (!ok) {
        abort();
    }
}

/* Apply entry E (LEN bytes, freed here): it must be taken. */
static void fuzz_take(struct fleet *f, uint8_t *e, size_t len)
{
    struct fleet_result res;

    fuzz_check(fleet_apply(f, e, len, ++fuzz_index, &res) == 0 &&
               res.status == 200);
    free(e);
}

/* One run of the scheduler, packed into entries. */
struct fuzz_run {
    uint8_t **e;
    size_t *len;
    size_t n;       /* entries */
    size_t changes; /* in them */
};

/* Decide at NOW_MS into RUN. The changes borrow from F, so all of them are
 * packed before any is applied. */
static void fuzz_decide(const struct fleet *f, uint64_t now_ms,
                        struct fuzz_run *run)
{
    struct fleet_sched_input in;
    struct sched_result r;
    char err[200];
    size_t at = 0;

    sched_result_init(&r);
    fuzz_check(fleet_sched_input(f, &in) == 0);
    fuzz_check(sched_decide(&in.in, now_ms, &r, err, sizeof(err)) == 0);
    run->e = calloc(r.nchanges + 1, sizeof(*run->e));
    run->len = calloc(r.nchanges + 1, sizeof(*run->len));
    fuzz_check(run->e != NULL && run->len != NULL);
    for (run->n = 0; at < r.nchanges; run->n++) {
        size_t k = fleet_entry_sched(r.changes + at, r.nchanges - at,
                                     &run->e[run->n], &run->len[run->n]);

        fuzz_check(k > 0 && run->len[run->n] <= FLEET_MAX_ENTRY);
        at += k;
    }
    run->changes = r.nchanges;
    sched_result_close(&r);
    fleet_sched_input_free(&in);
}

static void fuzz_run_free(struct fuzz_run *run)
{
    for (size_t i = 0; i < run->n; i++) {
        free(run->e[i]);
    }
    free(run->e);
    free(run->len);
}

/* The tasks F's jobs ask for (a system job's count is 0). */
static json_int_t fuzz_wanted(const struct fleet *f)
{
    json_t *jobs = fleet_jobs_json(f), *j;
    json_int_t n = 0;
    size_t i;

    fuzz_check(jobs != NULL);
    json_array_foreach(jobs, i, j)
    {
        n += json_integer_value(json_object_get(j, "count"));
    }
    json_decref(jobs);
    return n;
}

/* The scheduler at NOW_MS: its changes all apply, a rerun finds none. */
static void fuzz_schedule(struct fleet *f, uint64_t now_ms)
{
    struct fuzz_run run;
    size_t done = 0;

    fuzz_decide(f, now_ms, &run);
    for (size_t i = 0; i < run.n; i++) {
        struct fleet_result res;
        int rc = fleet_apply(f, run.e[i], run.len[i], ++fuzz_index, &res);

        fuzz_check(rc == 0 && res.status == 200 && res.skipped == 0);
        done += res.done;
    }
    fuzz_check(done == run.changes);
    fuzz_run_free(&run);
    fuzz_decide(f, now_ms, &run);
    fuzz_check(run.changes == 0);
    fuzz_run_free(&run);
}

static void fuzz_register(struct fleet *f, const char *site, const char *body)
{
    uint8_t *e;
    size_t len;
    char err[200];

    fuzz_check(fleet_entry_site_register(site, body, strlen(body), &e, &len,
                                         err, sizeof(err)) == 0);
    fuzz_take(f, e, len);
}

static void fuzz_job(struct fleet *f, const char *text)
{
    struct job *j = NULL;
    uint8_t *e;
    size_t len;
    char err[200];

    fuzz_check(job_parse_json(text, strlen(text), &j, err, sizeof(err)) ==
               JOB_OK);
    fuzz_check(fleet_entry_job_put(j, &e, &len, err, sizeof(err)) == 0);
    job_free(j);
    fuzz_take(f, e, len);
}

/* The starting fleet, built once as a leader builds it. */
static void fuzz_init_base(void)
{
    struct fleet *f = fleet_new();
    uint8_t *e;
    size_t len;
    char err[200];
    static const char report[] =
        "{\"seq\": 1, \"tasks\": [{\"id\": \"web.0\", \"state\": "
        "\"running\", \"agent\": \"a-1\", \"pid\": 10}]}";

    fuzz_check(f != NULL);
    fuzz_register(f, "a",
                  "{\"labels\": {\"region\": \"north\"}, \"cpu\": 4, "
                  "\"memory_mb\": 4096, \"controller\": \"127.0.0.1:7201\"}");
    fuzz_register(f, "b", "{\"cpu\": 2, \"memory_mb\": 2048}");
    fuzz_job(f, "{\"id\": \"web\", \"count\": 3, \"command\": [\"/bin/w\"], "
                "\"reschedule_after\": \"1s\"}");
    fuzz_job(f, "{\"id\": \"sys\", \"type\": \"system\", "
                "\"command\": [\"/bin/s\"], \"labels\": {\"region\": "
                "\"north\"}}");
    fuzz_schedule(f, FUZZ_T0);
    fuzz_check(fleet_entry_report("a", report, strlen(report), &e, &len, err,
                                  sizeof(err)) == 0);
    fuzz_take(f, e, len);
    fuzz_check(fleet_encode(f, &fuzz_base, &fuzz_base_len) == 0);
    fleet_free(f);
}

/* Every view builds and dumps. */
static void fuzz_views(const struct fleet *f)
{
    json_t *v[3] = {fleet_jobs_json(f), fleet_tasks_json(f, NULL, NULL),
                    fleet_sites_json(f, NULL, NULL)};
    size_t i;
    json_t *x;

    for (int k = 0; k < 3; k++) {
        char *text = v[k] ? json_dumps(v[k], JSON_COMPACT) : NULL;

        fuzz_check(text != NULL);
        free(text);
    }
    json_array_foreach(v[0], i, x)
    {
        json_t *j =
            fleet_job_json(f, json_string_value(json_object_get(x, "id")));

        fuzz_check(j != NULL);
        json_decref(j);
    }
    for (i = 0; i < fleet_site_count(f); i++) {
        struct fleet_site_info si;
        json_t *a, *t;

        fleet_site_at(f, i, &si);
        a = fleet_assignments_json(f, si.name);
        t = fleet_tasks_json(f, NULL, si.name);
        fuzz_check(a != NULL && t != NULL &&
                   json_equal(t, json_object_get(a, "tasks")));
        json_decref(a);
        json_decref(t);
    }
    for (int k = 0; k < 3; k++) {
        json_decref(v[k]);
    }
}

/* F's snapshot (malloc'ed) decodes into a new fleet that encodes the same. */
static char *fuzz_round_trip(const struct fleet *f, size_t *len)
{
    struct fleet *g = fleet_new();
    char *a = NULL, *b = NULL, err[200];
    size_t lb;

    fuzz_check(g != NULL && fleet_encode(f, &a, len) == 0);
    fuzz_check(fleet_decode(g, a, *len, err, sizeof(err)) == 0);
    fuzz_check(fleet_encode(g, &b, &lb) == 0);
    fuzz_check(lb == *len && memcmp(a, b, lb) == 0 &&
               fleet_index(g) == fleet_index(f));
    free(b);
    fleet_free(g);
    return a;
}

/* F encodes to the LEN bytes of WANT. */
static void fuzz_unchanged(const struct fleet *f, const char *want, size_t len)
{
    char *now;
    size_t n;

    fuzz_check(fleet_encode(f, &now, &n) == 0);
    fuzz_check(n == len && memcmp(now, want, n) == 0);
    free(now);
}

static bool fuzz_one_line(const char *s)
{
    return s[0] != '\0' && strchr(s, '\n') == NULL;
}

/* Apply one line (LEN bytes at P). Returns whether the fleet may have
 * changed. */
static bool fuzz_line(struct fleet *f, const uint8_t *p, size_t len)
{
    struct fleet_result res;
    char err[200] = "";
    uint8_t *e;

    if (len > 0 && p[0] == 'S') {
        if (fleet_decode(f, (const char *)p + 1, len - 1, err, sizeof(err)) ==
            0) {
            return true;
        }
        fuzz_check(fuzz_one_line(err));
        return false;
    }
    e = malloc(len + 1);
    fuzz_check(e != NULL);
    if (len > 0 && p[0] == 'R') {
        memcpy(e, p + 1, len - 1);
        len--;
    } else {
        e[0] = FLEET_ENTRY_TAG;
        memcpy(e + 1, p, len);
        len++;
    }
    fuzz_check(fleet_apply(f, e, len, ++fuzz_index, &res) == 0);
    free(e);
    if (res.status == 200) {
        return true;
    }
    fuzz_check((res.status == 400 || res.status == 404) &&
               fuzz_one_line(res.error));
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fleet *f = fleet_new();
    char err[200], *before;
    size_t at = 0, blen;
    int lines = 0;

    if (fuzz_base == NULL) {
        fuzz_init_base();
    }
    fuzz_index = 1000;
    fuzz_check(f != NULL && fleet_decode(f, fuzz_base, fuzz_base_len, err,
                                         sizeof(err)) == 0);
    fuzz_check(fleet_encode(f, &before, &blen) == 0);
    while (at < size && lines++ < FUZZ_MAX_LINES) {
        const uint8_t *nl = memchr(data + at, '\n', size - at);
        size_t len = nl ? (size_t)(nl - (data + at)) : size - at;

        if (!fuzz_line(f, data + at, len)) {
            fuzz_unchanged(f, before, blen);
        }
        /* Thousands of tasks are slow, and their rules are the same. */
        if (fuzz_wanted(f) <= FUZZ_MAX_WANTED) {
            fuzz_schedule(f, FUZZ_T0 + (uint64_t)lines * 60000);
        }
        free(before);
        fuzz_check(fleet_encode(f, &before, &blen) == 0);
        at += len + 1;
    }
    fuzz_views(f);
    free(before);
    before = fuzz_round_trip(f, &blen);
    free(before);
    fleet_free(f);
    return 0;
}
