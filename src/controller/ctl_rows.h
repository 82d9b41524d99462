/* ctl_rows.h - the placement table: which agent runs which task.
 *
 * One row per (task, agent), sorted by task, then agent:
 *
 *   run    the agent runs the task. A system task has a run row on every
 *          agent that runs an instance of it; any other task at most one.
 *          MOVED marks a row made when the task left an agent that went
 *          down: a copy that kept running there may take the task back.
 *   held   the agent went down while it ran the task, and the task moved
 *          on. It stays in that agent's list until the agent is heard
 *          again, so that a copy that kept running is not stopped before
 *          the controller knows it runs; the agent's first heartbeat back
 *          decides which copy stays (ctl_place.h).
 *
 * An agent's task list (GET /v1/agents/NAME/tasks) is its rows, run and
 * held. The table is saved with the agents in DIR/agents.json, as
 * [{"task", "agent", "held", "moved"}]. Pure.
 */
#ifndef VARDE_CTL_ROWS_H
#define VARDE_CTL_ROWS_H

#include "controller/ctl_agents.h"
#include "controller/ctl_state.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_ROWS_MAX (4 * CTL_ASSIGN_MAX_TASKS)

struct ctl_row {
    char task[CTL_TASK_ID_MAX + 1];
    char agent[CTL_AGENT_NAME_MAX + 1]; /* "": deleted, until sorted */
    bool held;
    bool moved;
};

struct ctl_rows {
    struct ctl_row *v;
    size_t n, cap;
};

void ctl_rows_init(struct ctl_rows *r);
void ctl_rows_free(struct ctl_rows *r);

/* Append a row (the table is unsorted until ctl_rows_sort()). Returns 0,
 * or -1 when out of memory or past CTL_ROWS_MAX. */
int ctl_rows_add(struct ctl_rows *r, const char *task, const char *agent,
                 bool held, bool moved);

/* Drop deleted rows (agent ""), sort, and drop later duplicates of a
 * (task, agent). */
void ctl_rows_sort(struct ctl_rows *r);

/* The index of the first row of TASK, or of the first row past it. */
size_t ctl_rows_first(const struct ctl_rows *r, const char *task);

/* True when A and B hold the same rows. */
bool ctl_rows_equal(const struct ctl_rows *a, const struct ctl_rows *b);

/* R as [{"task", "agent", "held", "moved"}] (a new reference; NULL out of
 * memory). */
json_t *ctl_rows_to_json(const struct ctl_rows *r);

/* Read DOC into R (initialised here; free it either way), sorted. Returns
 * 0, or -1 with a one-line reason in ERR naming the row. */
int ctl_rows_from_json(struct ctl_rows *r, const json_t *doc, char *err,
                       size_t errlen);

#endif
