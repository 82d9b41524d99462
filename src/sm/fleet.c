/* fleet.c - the fleet's tables: jobs, sites, tasks and the task index. */
#include "sm/fleet_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct fleet *fleet_new(void)
{
    return calloc(1, sizeof(struct fleet));
}

void fleet_task_free(struct fleet_task *t)
{
    free(t->job);
    free(t->agent);
    free(t->message);
    t->job = t->agent = t->message = NULL;
}

void fleet_clear(struct fleet *f)
{
    for (size_t i = 0; i < f->n_jobs; i++) {
        job_free(f->jobs[i].spec);
    }
    for (size_t i = 0; i < f->n_sites; i++) {
        fleet_labels_free(f->sites[i].labels, f->sites[i].n_labels);
    }
    for (size_t i = 0; i < f->n_tasks; i++) {
        fleet_task_free(&f->tasks[i]);
    }
    free(f->jobs);
    free(f->sites);
    free(f->tasks);
    free(f->slots);
    memset(f, 0, sizeof(*f));
}

void fleet_free(struct fleet *f)
{
    if (f != NULL) {
        fleet_clear(f);
        free(f);
    }
}

void fleet_reset(struct fleet *f)
{
    fleet_clear(f);
}

void fleet_swap(struct fleet *a, struct fleet *b)
{
    struct fleet t = *a;

    *a = *b;
    *b = t;
}

uint64_t fleet_index(const struct fleet *f)
{
    return f->index;
}

/* Make room for one more of N items of SIZE in *V (capacity *CAP). */
static int grow(void **v, size_t n, size_t *cap, size_t size)
{
    size_t ncap;
    void *p;

    if (n < *cap) {
        return 0;
    }
    ncap = *cap ? *cap * 2 : 16;
    p = realloc(*v, ncap * size);
    if (p == NULL) {
        return -1;
    }
    *v = p;
    *cap = ncap;
    return 0;
}

/* ---- Jobs. */

/* The position of ID, or where it would go (then *FOUND is false). */
static size_t job_search(const struct fleet *f, const char *id, bool *found)
{
    size_t lo = 0, hi = f->n_jobs;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(f->jobs[mid].spec->id, id);

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

long fleet_job_pos(const struct fleet *f, const char *id)
{
    bool found;
    size_t pos = job_search(f, id, &found);

    return found ? (long)pos : -1;
}

long fleet_job_insert(struct fleet *f, struct job *job, uint64_t index)
{
    bool found;
    size_t pos;

    if (grow((void **)&f->jobs, f->n_jobs, &f->cap_jobs, sizeof(*f->jobs)) <
        0) {
        job_free(job);
        return -1;
    }
    pos = job_search(f, job->id, &found);
    memmove(&f->jobs[pos + 1], &f->jobs[pos],
            (f->n_jobs - pos) * sizeof(*f->jobs));
    f->jobs[pos].spec = job;
    f->jobs[pos].changed_index = index;
    f->n_jobs++;
    return (long)pos;
}

void fleet_job_remove(struct fleet *f, size_t pos)
{
    job_free(f->jobs[pos].spec);
    memmove(&f->jobs[pos], &f->jobs[pos + 1],
            (f->n_jobs - pos - 1) * sizeof(*f->jobs));
    f->n_jobs--;
}

bool fleet_job_exists(const struct fleet *f, const char *id)
{
    return fleet_job_pos(f, id) >= 0;
}

size_t fleet_job_count(const struct fleet *f)
{
    return f->n_jobs;
}

/* ---- Sites. */

long fleet_site_pos(const struct fleet *f, const char *name)
{
    for (size_t i = 0; i < f->n_sites; i++) {
        if (strcmp(f->sites[i].name, name) == 0) {
            return (long)i;
        }
    }
    return -1;
}

long fleet_site_add(struct fleet *f, const char *name)
{
    struct fleet_site *s;

    if (grow((void **)&f->sites, f->n_sites, &f->cap_sites, sizeof(*f->sites)) <
        0) {
        return -1;
    }
    s = &f->sites[f->n_sites];
    memset(s, 0, sizeof(*s));
    snprintf(s->name, sizeof(s->name), "%s", name);
    return (long)f->n_sites++;
}

size_t fleet_site_count(const struct fleet *f)
{
    return f->n_sites;
}

void fleet_site_at(const struct fleet *f, size_t i, struct fleet_site_info *out)
{
    const struct fleet_site *s = &f->sites[i];

    out->name = s->name;
    out->status = s->status;
    out->silent_since_ms = s->silent_since_ms;
    out->report_seq = s->report_seq;
    out->assign_index = s->assign_index;
}

bool fleet_site_find(const struct fleet *f, const char *name,
                     struct fleet_site_info *out)
{
    long pos = fleet_site_pos(f, name);

    if (pos < 0) {
        return false;
    }
    fleet_site_at(f, (size_t)pos, out);
    return true;
}

/* ---- Tasks and their index: linear probing over positions + 1. */

static uint64_t task_hash(const char *job, uint32_t index)
{
    uint64_t h = 1469598103934665603ull ^ index;

    for (const unsigned char *p = (const unsigned char *)job; *p; p++) {
        h = (h ^ *p) * 1099511628211ull;
    }
    h ^= h >> 29;
    return h * 0xbf58476d1ce4e5b9ull;
}

static size_t slot_of(const struct fleet *f, const char *job, uint32_t index)
{
    size_t mask = f->n_slots - 1;
    size_t i = (size_t)task_hash(job, index) & mask;

    for (;;) {
        uint32_t v = f->slots[i];

        if (v == 0) {
            return i;
        }
        if (f->tasks[v - 1].index == index &&
            strcmp(f->tasks[v - 1].job, job) == 0) {
            return i;
        }
        i = (i + 1) & mask;
    }
}

static int slots_rebuild(struct fleet *f, size_t n_slots)
{
    uint32_t *slots = calloc(n_slots, sizeof(*slots));

    if (slots == NULL) {
        return -1;
    }
    free(f->slots);
    f->slots = slots;
    f->n_slots = n_slots;
    for (size_t i = 0; i < f->n_tasks; i++) {
        f->slots[slot_of(f, f->tasks[i].job, f->tasks[i].index)] =
            (uint32_t)i + 1;
    }
    return 0;
}

long fleet_task_pos(const struct fleet *f, const char *job, uint32_t index)
{
    uint32_t v;

    if (f->n_slots == 0) {
        return -1;
    }
    v = f->slots[slot_of(f, job, index)];
    return v == 0 ? -1 : (long)v - 1;
}

long fleet_task_add(struct fleet *f, struct fleet_task *t)
{
    if (grow((void **)&f->tasks, f->n_tasks, &f->cap_tasks, sizeof(*f->tasks)) <
            0 ||
        ((f->n_tasks + 1) * 2 > f->n_slots &&
         slots_rebuild(f, f->n_slots ? f->n_slots * 2 : 64) < 0)) {
        fleet_task_free(t);
        return -1;
    }
    f->tasks[f->n_tasks] = *t;
    f->slots[slot_of(f, t->job, t->index)] = (uint32_t)f->n_tasks + 1;
    return (long)f->n_tasks++;
}

/* Empty slot I, then move back the entries of its run that can no longer
 * be found past the hole. */
static void slot_delete(struct fleet *f, size_t i)
{
    size_t mask = f->n_slots - 1;
    size_t j = i;

    f->slots[i] = 0;
    for (;;) {
        uint32_t v;
        size_t home;

        j = (j + 1) & mask;
        v = f->slots[j];
        if (v == 0) {
            return;
        }
        home = (size_t)task_hash(f->tasks[v - 1].job, f->tasks[v - 1].index) &
               mask;
        /* Does HOME lie cyclically in (I, J]? Then the entry stays. */
        if (i <= j ? (i < home && home <= j) : (i < home || home <= j)) {
            continue;
        }
        f->slots[i] = v;
        f->slots[j] = 0;
        i = j;
    }
}

void fleet_task_remove(struct fleet *f, size_t pos)
{
    size_t last = f->n_tasks - 1;
    struct fleet_task *t = &f->tasks[pos];

    slot_delete(f, slot_of(f, t->job, t->index));
    fleet_task_free(t);
    if (pos != last) {
        f->slots[slot_of(f, f->tasks[last].job, f->tasks[last].index)] =
            (uint32_t)pos + 1;
        f->tasks[pos] = f->tasks[last];
    }
    f->n_tasks--;
}

size_t fleet_task_count(const struct fleet *f)
{
    return f->n_tasks;
}
