/* ctl_state.h - a site's assignments: what the cluster asks it to run.
 *
 * The answer of GET /v1/sites/NAME/assignments (docs/fleet.md) is checked
 * and kept here: the tasks, sorted by id, and the jobs they belong to as
 * the cluster sent them. The same document, written back by
 * ctl_assign_to_json(), is what DIR/assignments.json holds, so one parser
 * reads both the wire and the disk. Fields this version does not know are
 * ignored, so that a newer cluster can add some; a field it needs that is
 * missing or of the wrong type refuses the whole answer. Pure: no I/O.
 */
#ifndef VARDE_CTL_STATE_H
#define VARDE_CTL_STATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_TASK_ID_MAX 96          /* bytes in a task id: "JOB.INDEX" */
#define CTL_JOB_ID_MAX 64           /* bytes in a job id */
#define CTL_STATE_MAX 15            /* bytes in a state name */
#define CTL_ASSIGN_MAX_TASKS 100000 /* tasks of one site */

struct ctl_task {
    char id[CTL_TASK_ID_MAX + 1];
    char job[CTL_JOB_ID_MAX + 1];
    uint64_t index;                /* the task's index within its job */
    uint64_t job_version;          /* the job version it runs */
    char state[CTL_STATE_MAX + 1]; /* as the cluster knows it */
    bool stop;                     /* the cluster asks it to stop */
};

struct ctl_assign {
    uint64_t index; /* the log index of the last change; 0: none yet */
    size_t n_tasks;
    struct ctl_task *tasks; /* sorted by id, ids unique */
    json_t *jobs;           /* {"JOB": {job}}, owned; never NULL once set */
};

/* An empty assignment (index 0, no task, no job) in *A. Returns 0, or -1
 * when out of memory. */
int ctl_assign_init(struct ctl_assign *a);

/* Read DOC, an assignments answer for site SITE, into *OUT (which the
 * caller frees with ctl_assign_free()). Returns 0, or -1 with a one-line
 * reason in ERR naming the field ("tasks[3].index: expected an integer
 * 0..2^53"), *OUT then empty. Local states are left empty. */
int ctl_assign_from_json(const json_t *doc, const char *site,
                         struct ctl_assign *out, char *err, size_t errlen);

/* The same from LEN bytes of JSON text. */
int ctl_assign_parse(const char *text, size_t len, const char *site,
                     struct ctl_assign *out, char *err, size_t errlen);

/* A as the document ctl_assign_from_json() reads for SITE (a new
 * reference; NULL when out of memory). */
json_t *ctl_assign_to_json(const struct ctl_assign *a, const char *site);

/* The task with id ID, or NULL. */
struct ctl_task *ctl_assign_find(const struct ctl_assign *a, const char *id);

/* Release what A holds; A is empty (index 0) afterwards. */
void ctl_assign_free(struct ctl_assign *a);

/* True when S is a valid id of a job or task: 1..MAX of a-z, 0-9, '-',
 * '_', '.', starting with a letter or digit. */
bool ctl_id_ok(const char *s, size_t max);

#endif
