/* fleet_int.h - the fleet's tables, shared by the sm/fleet*.c files only.
 *
 * Jobs are kept sorted by id (binary search), sites in registration order
 * (never removed, so a task names its site by position), tasks in a dense
 * array with an open-addressing index on (job, index). */
#ifndef VARDE_SM_FLEET_INT_H
#define VARDE_SM_FLEET_INT_H

#include "sm/fleet.h"

#define FLEET_NO_SITE UINT32_MAX
#define FLEET_NONE (-1LL) /* pid, exit code, replaces: not known */

struct fleet_job {
    struct job *spec; /* owned; its version is the job's */
    uint64_t changed_index;
};

struct fleet_site {
    char name[JOB_MAX_ID + 1];
    struct job_pair *labels; /* owned, sorted by name */
    size_t n_labels;
    uint64_t cpu_milli;
    uint64_t memory_mb;
    char controller[FLEET_MAX_CONTROLLER + 1];
    enum sched_site_status status;
    uint64_t silent_since_ms;
    uint64_t report_seq;
    uint64_t registered_index;
    uint64_t assign_index;
};

struct fleet_task {
    char *job; /* owned: the task may outlive its job */
    uint32_t index;
    uint32_t site; /* position in sites, or FLEET_NO_SITE */
    enum sched_task_state state;
    bool stop;
    long long replaces; /* FLEET_NONE: not a replacement */
    uint64_t job_version;
    char *agent;   /* owned, or NULL */
    char *message; /* owned, or NULL */
    long long pid, exit_code;
    uint32_t restarts;
};

struct fleet {
    struct fleet_job *jobs; /* sorted by spec->id */
    size_t n_jobs, cap_jobs;
    struct fleet_site *sites;
    size_t n_sites, cap_sites;
    struct fleet_task *tasks;
    size_t n_tasks, cap_tasks;
    uint32_t *slots; /* task position + 1; 0: empty */
    size_t n_slots;  /* a power of two, at least twice n_tasks */
    uint64_t index;  /* the last change */
};

/* Job ID's position, or -1. */
long fleet_job_pos(const struct fleet *f, const char *id);

/* Insert JOB (owned from now on, also on failure) at its sorted place.
 * Returns its position, or -1 out of memory. */
long fleet_job_insert(struct fleet *f, struct job *job, uint64_t index);

/* Remove the job at POS and free it. */
void fleet_job_remove(struct fleet *f, size_t pos);

/* Site NAME's position, or -1. */
long fleet_site_pos(const struct fleet *f, const char *name);

/* Append a zeroed site named NAME. Returns its position, or -1 out of
 * memory. */
long fleet_site_add(struct fleet *f, const char *name);

/* Task (JOB, INDEX)'s position, or -1. */
long fleet_task_pos(const struct fleet *f, const char *job, uint32_t index);

/* Add task T (its strings owned from now on, also on failure). Returns its
 * position, or -1 out of memory. */
long fleet_task_add(struct fleet *f, struct fleet_task *t);

/* Remove the task at POS (the last task takes its place). */
void fleet_task_remove(struct fleet *f, size_t pos);

/* Free everything in F, leaving it empty. */
void fleet_clear(struct fleet *f);

/* Free a task's strings. */
void fleet_task_free(struct fleet_task *t);

/* The task's state as the API spells it, and back (-1: unknown name). */
const char *fleet_state_name(enum sched_task_state s);
int fleet_state_parse(const char *name);
const char *fleet_site_status_name(enum sched_site_status s);

/* A report's "stopped": the task ended because it was asked to. */
#define FLEET_REPORT_STOPPED 100

/* Split a task id "JOB.INDEX". Returns 0, or -1 when it is not one. */
int fleet_task_id_parse(const char *id, char job[JOB_MAX_ID + 1],
                        uint32_t *index);

/* A reported state (assigned, running, complete, failed, lost, or
 * FLEET_REPORT_STOPPED), or -1. */
int fleet_report_state_parse(const char *name);

/* Check one task of a report batch strictly. Returns 0, or -1 with ERR. */
int fleet_report_task_check(const json_t *t, char *err, size_t errlen);

/* Labels from a JSON object of strings (sorted by name, checked as job
 * labels are). Returns 0, or -1 with ERR. */
int fleet_labels_parse(const json_t *o, struct job_pair **out, size_t *n,
                       char *err, size_t errlen);
void fleet_labels_free(struct job_pair *l, size_t n);
json_t *fleet_labels_json(const struct job_pair *l, size_t n);

/* Millicores of CPU, as a JSON real in cores. */
json_t *fleet_cpu_json(uint64_t milli);

#endif
