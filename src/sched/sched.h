/* sched.h - the leader's scheduler: which site runs each task. Pure.
 *
 * Input: the replicated state as plain arrays (sites, jobs, tasks) and the
 * time now. Output: the changes the leader commits as log entries, plus
 * notes for display (why a task is still pending). No I/O, no clock, no
 * allocation that outlives the call except the result. The rules, the
 * tie-breaks and why idempotence matters are in docs/scheduler.md.
 *
 * Strings are borrowed: every string in the input stays owned by the caller,
 * and the result's strings point into the input, so the input must outlive
 * the result. Resources are integers: cpu in millicores ("cpu": 0.1 is 100),
 * memory in MB, each at most SCHED_MAX_RESOURCE. */
#ifndef VARDE_SCHED_H
#define VARDE_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCHED_MAX_RESOURCE (1ULL << 40)

struct sched_label {
    const char *key;
    const char *value;
};

enum sched_site_status {
    SCHED_SITE_CONNECTED = 0,
    SCHED_SITE_SILENT, /* no heartbeat for a TTL: its tasks are unknown */
    SCHED_SITE_LOST,   /* declared gone: its tasks are lost */
};

struct sched_site {
    const char *name; /* unique */
    const struct sched_label *labels;
    size_t nlabels;
    uint64_t cpu;       /* capacity, millicores */
    uint64_t memory_mb; /* capacity */
    enum sched_site_status status;
    uint64_t silent_since_ms; /* when it went silent (status SILENT) */
};

enum sched_job_type {
    SCHED_JOB_SERVICE = 0, /* keep COUNT tasks running */
    SCHED_JOB_BATCH,       /* COUNT tasks to completion */
    SCHED_JOB_SYSTEM,      /* one task per eligible site; COUNT ignored */
};

struct sched_job {
    const char *id; /* unique */
    enum sched_job_type type;
    uint32_t count;
    uint64_t cpu;             /* per task, millicores */
    uint64_t memory_mb;       /* per task */
    const char *const *sites; /* allowed sites; nsites 0: any */
    size_t nsites;
    const struct sched_label *labels; /* all must match the site's */
    size_t nlabels;
    uint64_t reschedule_after_ms; /* 0: a silent site keeps its tasks */
};

enum sched_task_state {
    SCHED_TASK_PENDING = 0, /* no site yet */
    SCHED_TASK_PLACED,      /* on a site */
    SCHED_TASK_ASSIGNED,    /* on an agent of that site */
    SCHED_TASK_RUNNING,
    SCHED_TASK_COMPLETE,
    SCHED_TASK_FAILED,
    SCHED_TASK_LOST,
    SCHED_TASK_UNKNOWN, /* its site is silent */
};

/* One task record. (JOB, INDEX) is unique. A zeroed record past its strings
 * is a pending task that nobody asked to stop and that replaces nothing. */
struct sched_task {
    const char *job;
    uint32_t index;
    const char *site; /* NULL or "": none (pending) */
    enum sched_task_state state;
    bool stop;           /* the scheduler asked for it to stop */
    bool is_replacement; /* placed for an unknown task on a silent site */
    uint32_t replaces;   /* that task's index, when is_replacement */
};

struct sched_input {
    const struct sched_site *sites;
    size_t nsites;
    const struct sched_job *jobs;
    size_t njobs;
    const struct sched_task *tasks;
    size_t ntasks;
};

/* What a change does to the task (JOB, INDEX) when it is applied; see
 * sched_tasks_apply for the reference. */
enum sched_change_kind {
    SCHED_PLACE,   /* on SITE, state placed (creates the task if CREATED) */
    SCHED_PENDING, /* create the task with no site: nothing fits yet */
    SCHED_MOVE,    /* create it on SITE replacing task REPLACES on FROM_SITE,
                      which stays recorded as unknown */
    SCHED_UNKNOWN, /* its site went silent */
    SCHED_RUNNING, /* its site came back and it kept running */
    SCHED_LOST,    /* its site is lost or no longer exists */
    SCHED_STOP,    /* set stop: surplus, job gone or site no longer allowed */
};

enum sched_why {
    SCHED_WHY_NONE = 0,
    SCHED_WHY_NEW,          /* a task the job needs */
    SCHED_WHY_REPLACE,      /* a failed or lost task's successor */
    SCHED_WHY_SITE_SILENT,  /* UNKNOWN, MOVE */
    SCHED_WHY_SITE_BACK,    /* RUNNING */
    SCHED_WHY_SITE_LOST,    /* LOST */
    SCHED_WHY_SURPLUS,      /* STOP: more copies than the job asks for */
    SCHED_WHY_JOB_GONE,     /* STOP: the job was removed */
    SCHED_WHY_NOT_ALLOWED,  /* STOP: the site no longer meets constraints */
    SCHED_WHY_NO_MATCH,     /* note: no site meets the constraints */
    SCHED_WHY_NO_CONNECTED, /* note: matching sites exist, none connected */
    SCHED_WHY_NO_CAPACITY,  /* note: matching connected sites are full */
};

struct sched_change {
    enum sched_change_kind kind;
    enum sched_why why;
    const char *job; /* borrowed from the input, as are the sites */
    uint32_t index;
    const char *site;      /* PLACE, MOVE: the target; else the task's */
    const char *from_site; /* MOVE: the silent site */
    bool created;          /* the change creates the task record */
    bool is_replacement;   /* MOVE, and PENDING for a replacement */
    uint32_t replaces;
};

/* A task that stays unplaced, for display (never committed). For a system
 * job INDEX is meaningless and SITE names the site that lacks room. */
struct sched_note {
    const char *job;
    uint32_t index;
    const char *site;
    enum sched_why why;
};

struct sched_result {
    struct sched_change *changes; /* in the order to commit them */
    size_t nchanges;
    size_t changes_cap;
    struct sched_note *notes;
    size_t nnotes;
    size_t notes_cap;
};

/* An empty result, and freeing one (safe on an empty or failed result). */
void sched_result_init(struct sched_result *r);
void sched_result_close(struct sched_result *r);

/* Decide the changes for the state IN at time NOW_MS into OUT (initialized by
 * the caller; its previous contents are dropped). Deterministic: the order of
 * the input arrays does not matter, ties are broken by name. Idempotent:
 * applied to the state after its own changes, at the same NOW_MS, it returns
 * no change. Returns 0, or -1 with a reason in ERR on bad input (a missing
 * name or label, a duplicate site, job or task, a task placed on no site,
 * resources beyond SCHED_MAX_RESOURCE) or no memory; OUT is then empty. */
int sched_decide(const struct sched_input *in, uint64_t now_ms,
                 struct sched_result *out, char *err, size_t errlen);

/* Short names for logs and the API: "place", "silent site", ... */
const char *sched_change_kind_str(enum sched_change_kind k);
const char *sched_why_str(enum sched_why w);

/* A growable task table that applies changes: the reference for what each
 * change means, used by the tests and the benchmark. Strings in the tasks
 * are borrowed from the changes applied. */
struct sched_tasks {
    struct sched_task *v;
    size_t n;
    size_t cap;
};

void sched_tasks_init(struct sched_tasks *ts);
void sched_tasks_close(struct sched_tasks *ts);

/* Append a copy of T. Returns 0, or -1 out of memory. */
int sched_tasks_add(struct sched_tasks *ts, const struct sched_task *t);

/* Apply change C. A change that creates a task is appended without a search
 * (the scheduler never reuses an index); the others find the task by (job,
 * index), linearly. Returns 0, or -1 when that task does not exist or
 * memory runs out. */
int sched_tasks_apply(struct sched_tasks *ts, const struct sched_change *c);

#endif
