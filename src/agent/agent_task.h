/* agent_task.h - one task on an agent: what it runs and the state machine
 * of its process.
 *
 * States, and the function behind every transition (each checks the state
 * it leaves, and refuses a transition the table does not have):
 *
 *   from                    function                 to
 *   NEW, RESTARTING,
 *   COMPLETE, FAILED,
 *   STOPPED                 agent_task_started       STARTING
 *   STARTING                agent_task_exec_ok       RUNNING
 *   STARTING, RUNNING       agent_task_exited        RESTARTING | COMPLETE
 *                                                    | FAILED (the policy's
 *                                                    decision)
 *   STOPPING                agent_task_exited        STOPPED
 *   STARTING, RUNNING       agent_task_stop          STOPPING (signal it)
 *   NEW, RESTARTING         agent_task_stop          STOPPED (no process)
 *   STARTING, RUNNING       agent_task_adopted       RUNNING
 *   STOPPING                agent_task_adopted       STOPPING
 *   NEW                     agent_task_refuse        FAILED (cannot run:
 *                                                    its spec was refused)
 *   NEW, RESTARTING,
 *   COMPLETE, FAILED,
 *   STOPPED                 agent_task_renew         NEW (a new spec)
 *
 * A process exists (pid > 0) exactly in STARTING, RUNNING and STOPPING.
 * STARTING lasts from the fork until the exec is known to have worked;
 * STOPPING from the SIGTERM until the exit. COMPLETE, FAILED and STOPPED
 * are terminal until a renew or a start. In the site API (heartbeats)
 * STOPPING reads "running" and NEW reads "starting"; the agent's own
 * status shows every state by its name.
 *
 * Pure: no I/O and no clock; times come in as arguments. The driver
 * (agent_run.c) does the fork, the signals and the timers.
 */
#ifndef VARDE_AGENT_TASK_H
#define VARDE_AGENT_TASK_H

#include "agent/agent_policy.h"
#include "sm/job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_TASK_ID_MAX 128 /* bytes in a task id */
#define AGENT_SITE_MAX 64     /* bytes in a site name */
#define AGENT_MSG_MAX 256     /* bytes in a task's message, NUL included */
#define AGENT_MAX_TASKS 4096  /* tasks in one answer of the controller */
#define AGENT_MAX_RUNS (2 * AGENT_MAX_TASKS) /* held, stopping ones too */

enum agent_task_state {
    AGENT_TASK_NEW = 0,    /* known, never started under this spec */
    AGENT_TASK_STARTING,   /* forked; the exec not confirmed yet */
    AGENT_TASK_RUNNING,    /* the command runs */
    AGENT_TASK_STOPPING,   /* SIGTERM sent; SIGKILL after kill_timeout */
    AGENT_TASK_RESTARTING, /* waiting out the restart delay */
    AGENT_TASK_COMPLETE,   /* a batch task that exited 0 */
    AGENT_TASK_FAILED,     /* gave up: the restart policy is spent */
    AGENT_TASK_STOPPED,    /* stopped because it was asked to */
};

#define AGENT_TASK_N_STATES (AGENT_TASK_STOPPED + 1)

/* What happens once the process of a STOPPING task is gone. */
enum agent_task_after {
    AGENT_AFTER_NOTHING = 0, /* stay STOPPED */
    AGENT_AFTER_START,       /* take next_spec (or the same) and start */
    AGENT_AFTER_FORGET,      /* drop the task once its stop is reported */
};

struct agent_task {
    char id[AGENT_TASK_ID_MAX + 1];
    char job[JOB_MAX_ID + 1];
    char site[AGENT_SITE_MAX + 1]; /* "" when the controller names none */
    struct job *spec;              /* owned; NULL only when refused */
    uint64_t job_version;
    enum agent_task_state state;
    int pid;             /* > 0 while a process exists; also its group */
    uint64_t start_time; /* field 22 of /proc/PID/stat: tells pid reuse */
    uint64_t started_ms; /* wall clock of the last start, 0: never */
    uint32_t restarts;   /* restarts under this spec */
    struct agent_policy policy;
    bool has_exit;               /* the fields below describe an exit */
    int exit_code;               /* the code, or 128 + the signal */
    int exit_signal;             /* the signal, 0: exited by itself */
    char message[AGENT_MSG_MAX]; /* why it failed or cannot run; "" */
    uint64_t log_start;          /* offset of the first output byte kept */
    enum agent_task_after after;
    struct job *next_spec; /* owned; for AFTER_START, NULL: the same */
    uint64_t next_version;
};

/* What agent_task_stop() asks of the caller. */
enum agent_stop_result {
    AGENT_STOP_SIGNAL = 0, /* now STOPPING: signal the process group */
    AGENT_STOP_DONE,       /* now STOPPED: there was no process */
    AGENT_STOP_PENDING,    /* already STOPPING: nothing to do */
    AGENT_STOP_ENDED,      /* terminal already: state unchanged */
};

/* A NEW task ID of job JOB on SITE, taking SPEC (owned from now, may be
 * NULL) at JOB_VERSION. T is overwritten. */
void agent_task_init(struct agent_task *t, const char *id, const char *job,
                     const char *site, struct job *spec, uint64_t job_version);

/* Free what T owns. */
void agent_task_free(struct agent_task *t);

/* The process PID (its own group) was forked at wall time NOW_WALL_MS. */
int agent_task_started(struct agent_task *t, int pid, uint64_t start_time,
                       uint64_t now_wall_ms);

/* The exec worked: the command runs. */
int agent_task_exec_ok(struct agent_task *t);

/* The process could not become the command (MSG says why); it exits 127
 * by itself. The state stays STARTING. */
int agent_task_exec_failed(struct agent_task *t, const char *msg);

/* A persisted task's process was found alive after an agent restart. */
int agent_task_adopted(struct agent_task *t);

/* The process ended: CODE (0..255, or 128 + SIGNAL when SIGNAL > 0; -1
 * when unknown) and DECISION, the policy's answer (ignored for a stop).
 * A RESTART counts one more restart; a RETRY restarts uncounted. */
int agent_task_exited(struct agent_task *t, int code, int signal,
                      enum agent_decision decision);

/* Asked to stop; see enum agent_stop_result. */
enum agent_stop_result agent_task_stop(struct agent_task *t);

/* It can never run: SPEC refused (MSG says why). NEW -> FAILED. */
int agent_task_refuse(struct agent_task *t, const char *msg);

/* Take SPEC (owned from now; NULL keeps the current one) at JOB_VERSION:
 * the restarts and their history start over. No process may exist. */
int agent_task_renew(struct agent_task *t, struct job *spec,
                     uint64_t job_version);

/* True while a process exists: STARTING, RUNNING, STOPPING. */
bool agent_task_has_process(const struct agent_task *t);

/* True in COMPLETE, FAILED and STOPPED. */
bool agent_task_ended(const struct agent_task *t);

/* True when the task holds its resources: every state but the terminal
 * ones. */
bool agent_task_active(const struct agent_task *t);

/* Set T's message from FMT (cut to fit, one line). */
void agent_task_set_message(struct agent_task *t, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The state's own name: "new", "starting", ..., "stopped". */
const char *agent_task_state_name(enum agent_task_state s);

/* The state as the site API reports it (docs/site-api.md): one of
 * starting, running, restarting, complete, failed, stopped. */
const char *agent_task_report_state(enum agent_task_state s);

/* Parse an own state name (agent_task_state_name's). 0, or -1. */
int agent_task_state_parse(const char *name, enum agent_task_state *out);

/* True when S is a valid task id: 1..128 of a-z, 0-9, '-', '_' and '.',
 * starting with a letter or digit (so never "." or ".." and never a
 * path). */
bool agent_task_id_ok(const char *s);

#endif
