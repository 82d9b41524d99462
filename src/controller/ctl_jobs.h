/* ctl_jobs.h - what placing a task needs of its job: its type, its
 * resources and its labels, read from the jobs of the site's assignments
 * (the cluster checked them; a field that is missing takes the job file's
 * default, docs/jobs.md). Pure. */
#ifndef VARDE_CTL_JOBS_H
#define VARDE_CTL_JOBS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_JOB_CPU_DEFAULT_MILLI 100
#define CTL_JOB_MEMORY_DEFAULT_MB 64

struct ctl_job {
    const char *id; /* borrowed from the jobs object */
    bool system;    /* one task on every agent that matches */
    uint64_t cpu_milli, memory_mb;
    const json_t *labels; /* {"name": "value"}, borrowed; NULL: none */
};

struct ctl_jobs {
    struct ctl_job *v; /* sorted by id */
    size_t n;
};

/* Read JOBS ({"ID": {job}, ...}, borrowed: it must outlive OUT) into
 * *OUT. Returns 0, or -1 when out of memory (*OUT then empty). */
int ctl_jobs_read(const json_t *jobs, struct ctl_jobs *out);

/* The job ID, or a job of no type, resources or labels when the
 * assignments do not carry it (the task of a removed job). */
const struct ctl_job *ctl_jobs_find(const struct ctl_jobs *js, const char *id);

void ctl_jobs_free(struct ctl_jobs *js);

#endif
