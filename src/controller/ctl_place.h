/* ctl_place.h - where each of the site's tasks runs: task -> agent.
 *
 * A pure function of the site's assignments, its jobs, its agents (up or
 * down, labels, capacity, what their last heartbeat said) and the
 * placement table before; it returns the table after, the events worth a
 * log line, and a note for every task it could not place. The same input
 * gives the same output: agents are taken in name order, tasks in job
 * then index order, and every tie ends with the lowest name.
 *
 * A run has two passes over a copy of the table.
 *
 * 1. Keep. A task the cluster no longer assigns, or holds as ended
 *    (complete, failed, lost), loses its rows. A task asked to stop keeps
 *    its run rows (its agents are told to stop it, and the site reports
 *    it stopped once they did: ctl_site.h). A system task keeps its
 *    instances, except on an up agent that no longer has the job's labels.
 *    Any other task keeps its run row and its held rows. Every run row
 *    kept holds its job's cpu and memory on its agent, whether the agent
 *    is up or down: capacity is never counted twice.
 *
 * 2. Place, job after job, task after task:
 *
 *    - a held row whose agent is heard again (up and synced): if that
 *      agent runs the task ("running" in its heartbeat), the run row is a
 *      replacement made by a move, and the agent has the labels and the
 *      room, the task goes back to it (KEPT: the copy that kept running
 *      stays, the replacement is stopped); otherwise the held row goes
 *      (SURPLUS when that agent runs a copy: it is stopped);
 *    - a run row on an up agent with the job's labels stays;
 *    - a run row on a down agent whose last heartbeat said the task
 *      ended (complete, failed) stays: there is nothing to move;
 *    - a run row on a down agent, or on one that lost the job's labels,
 *      moves to the best other agent (MOVED); from a down agent it leaves
 *      a held row behind. With no agent to take it, it stays, with a note;
 *    - a task without a run row is placed on the best agent (PLACED), or
 *      stays placed with a note saying why;
 *    - a system task gets an instance on every up agent with its labels
 *      and room for it (PLACED), noted when some lack the room.
 *
 * The best agent: up, other than the one the task leaves, with every
 * label of the job, and room (the job's cpu and memory within the agent's
 * capacity minus what its run rows hold). Among those, the fewest run
 * rows of the same job (spread), then the largest free share of the
 * scarcer resource (free over capacity, the smaller of cpu and memory,
 * in integer arithmetic), then the lowest name.
 */
#ifndef VARDE_CTL_PLACE_H
#define VARDE_CTL_PLACE_H

#include "controller/ctl_agents.h"
#include "controller/ctl_jobs.h"
#include "controller/ctl_rows.h"
#include "controller/ctl_state.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#define CTL_NOTE_MAX 256 /* bytes of a note: it becomes a task's message */

enum ctl_place_what {
    CTL_PLACE_PLACED,   /* TASK placed on TO */
    CTL_PLACE_MOVED,    /* TASK moved from FROM to TO */
    CTL_PLACE_KEPT,     /* TO's copy kept running: back there, FROM's
                           replacement stopped (FROM "" if none) */
    CTL_PLACE_SURPLUS,  /* FROM's copy stopped: TO runs the task */
    CTL_PLACE_RELEASED, /* a system task's instance on FROM stopped: the
                           agent no longer has the job's labels */
};

struct ctl_place_event {
    enum ctl_place_what what;
    char task[CTL_TASK_ID_MAX + 1];
    char from[CTL_AGENT_NAME_MAX + 1];
    char to[CTL_AGENT_NAME_MAX + 1];
};

struct ctl_place_out {
    struct ctl_rows rows; /* the table after, sorted */
    struct ctl_place_event *events;
    size_t n_events;
    json_t *notes; /* {TASK: "why it is not (fully) placed"} */
};

/* True when the site should run T: not asked to stop, and placed,
 * assigned, running or unknown in the cluster. */
bool ctl_task_live(const struct ctl_task *t);

/* Decide the table after PREV for the tasks of AS, whose jobs JOBS holds,
 * on the agents of AG, into *OUT (free it with ctl_place_out_free() either
 * way). Returns 0, or -1 when out of memory. */
int ctl_place(const struct ctl_assign *as, const struct ctl_jobs *jobs,
              const struct ctl_agents *ag, const struct ctl_rows *prev,
              struct ctl_place_out *out);

void ctl_place_out_free(struct ctl_place_out *out);

#endif
