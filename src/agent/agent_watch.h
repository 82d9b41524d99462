/* agent_watch.h - the controller's answer to an agent's tasks watch, and
 * what the agent does about each task in it.
 *
 * GET /v1/agents/NAME/tasks answers (docs/site-api.md):
 *
 *   {"agent": NAME, "index": 18, "site": "oslo-1",
 *    "tasks": [{"id": "sensor-average.2", "job": {the job, with
 *               "version"}, "index": 2, "job_version": 2, "stop": false}]}
 *
 * The contract's example gives "job" twice in a task, once as the job id
 * and once as the job; this parser takes a task's "job" as either: the
 * job itself (an object), or its id (a string) with the job in a
 * top-level "jobs" object under that id, the way the cluster's
 * assignments carry them (docs/fleet.md). "site" is optional (at the top,
 * or per task); "job_version" falls back to the job's "version". A task
 * with "stop": true needs no job. Fields the agent does not know are
 * ignored, so a newer controller can add some.
 *
 * A malformed answer (not an object, no index, a task without a valid id,
 * an id twice, over AGENT_MAX_TASKS tasks) is refused whole. A task whose
 * job the strict job parser refuses is kept, with the parser's message,
 * so that the agent can report it failed instead of silently running
 * nothing.
 *
 * Pure: no I/O.
 */
#ifndef VARDE_AGENT_WATCH_H
#define VARDE_AGENT_WATCH_H

#include "agent/agent_task.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_WATCH_MAX_BODY (64u << 20)

/* One task the controller wants on this agent. */
struct agent_want {
    char id[AGENT_TASK_ID_MAX + 1];
    char job[JOB_MAX_ID + 1];      /* "" when only a stop */
    char site[AGENT_SITE_MAX + 1]; /* "" when none is named */
    uint64_t job_version;
    bool stop;
    struct job *spec;            /* owned; NULL when stop or refused */
    char refused[AGENT_MSG_MAX]; /* why the job was refused; "" */
};

struct agent_wanted {
    uint64_t index;
    size_t n;
    struct agent_want *tasks; /* sorted by id */
};

/* Parse LEN bytes of BODY, the watch answer for agent NAME, into *OUT
 * (freed with agent_wanted_free). Returns 0, or -1 with a one-line reason
 * in ERR (*OUT then empty). */
int agent_watch_parse(const char *body, size_t len, const char *name,
                      struct agent_wanted *out, char *err, size_t errlen);

/* The task ID in W, or NULL. */
struct agent_want *agent_wanted_find(const struct agent_wanted *w,
                                     const char *id);

/* Free what W owns; W is empty afterwards. */
void agent_wanted_free(struct agent_wanted *w);

/* What to do about one task, from what the agent has (T, NULL when it has
 * no such task) and what the controller wants (W, NULL when the task is
 * not in the answer). */
enum agent_action {
    AGENT_ACT_KEEP = 0, /* nothing to change */
    AGENT_ACT_START,    /* new to the agent: create it and start it */
    AGENT_ACT_STOP,     /* stop it, keep it (stop: true) */
    AGENT_ACT_DROP,     /* gone from the answer: stop it, then forget it */
    AGENT_ACT_REPLACE,  /* a newer job_version, or stopped and wanted again:
                           stop if running, then start the wanted spec */
    AGENT_ACT_REFUSE,   /* its job was refused: a new task is created
                           FAILED with the reason; a known one keeps what
                           it runs and notes the reason */
};

/* The action for T and W (see above). Pure. */
enum agent_action agent_watch_action(const struct agent_task *t,
                                     const struct agent_want *w);

/* "keep", "start", ... */
const char *agent_action_name(enum agent_action a);

#endif
