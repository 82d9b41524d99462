/* fleet.h - the fleet in the replicated state: jobs, sites and tasks.
 *
 * The second part of the state machine, beside the key-value store. Every
 * node applies the same fleet entries in the same order and reaches the
 * same fleet; the leader alone decides what to propose (node_fleet.c). Pure:
 * no I/O, no clock (times arrive inside the entries).
 *
 * A fleet entry is one log entry: the byte FLEET_ENTRY_TAG, then a JSON
 * object whose "op" names it:
 *
 *   job_put      {"job": {...}}  a job, as job_encode writes it
 *   job_stop     {"id"}
 *   site_register {"site", "labels", "cpu", "memory_mb", "controller"}
 *   site_status  {"site", "status": "silent"|"connected", "at_ms"}
 *   sched        {"changes": [{"kind", "job", "index", "site", "from",
 *                              "created", "replaces"}]}
 *   report       {"site", "seq", "tasks": [{"id", "state", ...}]}
 *
 * The tag is SM_OP_FLEET in command.h's numbering, so a fleet entry can
 * never be mistaken for a key-value command. A malformed entry is skipped by
 * every replica alike. A scheduler change is applied only if it still fits
 * the state it meets (the task it creates does not exist yet, the task it
 * moves is still unknown, ...), so a decision that raced with another entry
 * is dropped, never applied twice: the leader decides again from the state
 * that resulted. docs/fleet.md describes the API built on this. */
#ifndef VARDE_SM_FLEET_H
#define VARDE_SM_FLEET_H

#include "sched/sched.h"
#include "sm/job.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLEET_ENTRY_TAG 3
#define FLEET_MAX_ENTRY (1u << 20) /* bytes in one entry, the tag included */
#define FLEET_MAX_JOBS 10000
#define FLEET_MAX_SITES 1024
#define FLEET_MAX_TASKS 200000
#define FLEET_MAX_REPORT 1000    /* tasks in one report batch */
#define FLEET_MAX_MESSAGE 256    /* bytes of a task's message */
#define FLEET_MAX_CONTROLLER 128 /* bytes of a controller's address */
#define FLEET_MAX_ENDED 10       /* failed and lost records kept per job */
/* Tasks all jobs together may want: half the table, the rest for ended
 * and stopping records. */
#define FLEET_MAX_WANTED (FLEET_MAX_TASKS / 2)

struct fleet;

/* What applying one entry did, for the request that proposed it. */
struct fleet_result {
    const char *op;        /* the entry's op, "" when malformed */
    int status;            /* 200; 400 malformed or refused; 404 unknown */
    char error[200];       /* when status is not 200 */
    uint64_t version;      /* job_put: the job's version now */
    bool changed;          /* job_put: a new version was made */
    bool applied;          /* report: the batch was new (not a repeat) */
    uint64_t report_seq;   /* report, site_register: the site's now */
    size_t done, skipped;  /* sched: changes applied, changes dropped */
    const char *first_why; /* sched: why the first dropped one was */
};

struct fleet *fleet_new(void);
void fleet_free(struct fleet *f);

/* Empty F; exchange the contents of A and B. */
void fleet_reset(struct fleet *f);
void fleet_swap(struct fleet *a, struct fleet *b);

/* Whether the LEN bytes of DATA are a fleet entry (by the tag alone). */
bool fleet_is_entry(const void *data, size_t len);

/* Apply the fleet entry DATA (LEN bytes) committed at log INDEX and say
 * what it did in RES. Returns 0, or -1 when memory ran out half-way: the
 * replica must stop (a restart replays the log). */
int fleet_apply(struct fleet *f, const void *data, size_t len, uint64_t index,
                struct fleet_result *res);

/* The log index of the last entry that changed anything. */
uint64_t fleet_index(const struct fleet *f);

/* ---- Building entries (the leader, before proposing). Each returns 0
 * with a malloc'ed entry in *OUT (*LEN bytes), or an HTTP status (400, 413,
 * 500 out of memory) with a one-line reason in ERR. */

/* A job put for JOB, already parsed and valid. */
int fleet_entry_job_put(const struct job *job, uint8_t **out, size_t *len,
                        char *err, size_t errlen);

int fleet_entry_job_stop(const char *id, uint8_t **out, size_t *len, char *err,
                         size_t errlen);

/* A registration of SITE from the request body BODY (docs/fleet.md),
 * checked strictly. */
int fleet_entry_site_register(const char *site, const char *body,
                              size_t body_len, uint8_t **out, size_t *len,
                              char *err, size_t errlen);

/* SITE went silent at AT_MS (wall clock), or is connected again. */
int fleet_entry_site_status(const char *site, enum sched_site_status status,
                            uint64_t at_ms, uint8_t **out, size_t *len,
                            char *err, size_t errlen);

/* A report batch of SITE from the request body BODY, checked strictly. */
int fleet_entry_report(const char *site, const char *body, size_t body_len,
                       uint8_t **out, size_t *len, char *err, size_t errlen);

/* Scheduler changes C[0..N): packs as many as fit in one entry, at least
 * one. Returns how many it packed, with the entry in *OUT, *LEN; 0 out of
 * memory. */
size_t fleet_entry_sched(const struct sched_change *c, size_t n, uint8_t **out,
                         size_t *len);

/* Check a site name: the rules of a job id. Returns 0, or -1 with ERR. */
int fleet_site_name_check(const char *name, char *err, size_t errlen);

/* ---- Reading the state. */

struct fleet_site_info {
    const char *name;
    enum sched_site_status status;
    uint64_t silent_since_ms;
    uint64_t report_seq;
    uint64_t assign_index; /* the last change to its assignments */
};

size_t fleet_site_count(const struct fleet *f);

/* Site I (0 <= I < fleet_site_count), in the order they registered. */
void fleet_site_at(const struct fleet *f, size_t i,
                   struct fleet_site_info *out);

/* Find site NAME; returns false when it is not registered. */
bool fleet_site_find(const struct fleet *f, const char *name,
                     struct fleet_site_info *out);

/* Where task ID ("JOB.INDEX") is: its site's name and controller address
 * (NULL when pending), borrowed until F changes. Returns 0, or -1 when no
 * such task exists. */
int fleet_task_where(const struct fleet *f, const char *id, const char **site,
                     const char **controller);

/* Whether job ID exists. */
bool fleet_job_exists(const struct fleet *f, const char *id);

size_t fleet_job_count(const struct fleet *f);
size_t fleet_task_count(const struct fleet *f);

/* The scheduler's input, built from the state: strings borrowed from F,
 * valid until F changes. Returns 0, or -1 out of memory. */
struct fleet_sched_input {
    struct sched_input in;
    void *mem; /* everything allocated for it */
};
int fleet_sched_input(const struct fleet *f, struct fleet_sched_input *out);
void fleet_sched_input_free(struct fleet_sched_input *in);

/* ---- JSON views for the API (docs/fleet.md). Each returns a new
 * reference, or NULL out of memory (or, for one job or site, when it does
 * not exist). */

json_t *fleet_jobs_json(const struct fleet *f);
json_t *fleet_job_json(const struct fleet *f, const char *id);

/* Tasks, of job JOB and on site SITE when not NULL. */
json_t *fleet_tasks_json(const struct fleet *f, const char *job,
                         const char *site);

/* Sites; HEARD(ARG, name) gives milliseconds since the last heartbeat, or
 * -1 when not known (HEARD may be NULL). */
json_t *fleet_sites_json(const struct fleet *f,
                         int64_t (*heard)(void *arg, const char *site),
                         void *arg);

/* {"site", "index", "tasks", "jobs"}: what site SITE's controller runs. */
json_t *fleet_assignments_json(const struct fleet *f, const char *site);

/* ---- Snapshots: the fleet as JSON text, and back. */

/* Encode F into a malloc'ed buffer. Returns 0, or -1 out of memory. */
int fleet_encode(const struct fleet *f, char **out, size_t *len);

/* Replace F's contents with an encoding. Returns 0, or -1 with ERR (F is
 * then unchanged). */
int fleet_decode(struct fleet *f, const char *buf, size_t len, char *err,
                 size_t errlen);

#endif
