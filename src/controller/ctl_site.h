/* ctl_site.h - what the site makes of its tasks: a view of each, and a
 * report upstream whenever a view changes.
 *
 * A task's view is its state as the site knows it, with the agent that
 * runs it, its pid, restarts, exit code and a message. It comes from the
 * placement table (ctl_rows.h) and the last heartbeat of that agent,
 * mapped to the cluster's states:
 *
 *   agent says   view                     reported as
 *   (nothing)    assigned                 assigned, agent
 *   starting     assigned                 assigned, agent
 *   running      running                  running, agent, pid, restarts
 *   restarting   running                  running, agent, restarts
 *   complete     complete                 complete, agent, exit_code
 *   failed       failed                   failed, agent, exit_code, message
 *   stopped      assigned (it runs again, unless asked to stop)
 *
 * A task no agent could take is "placed", with the placement's note as its
 * message; one whose agent is down and that could not move is "unknown".
 * Neither is reported: the cluster's report states cannot say it, and the
 * controller's own GET /v1/status shows both. Nothing is reported for the
 * tasks of an agent not heard since it registered or since the controller
 * started: what it runs is not known yet.
 *
 * A task the cluster asks to stop is reported "stopped" once each of its
 * agents says so: the heartbeat shows it stopped, complete or failed, or
 * no longer lists it after the agent fetched its latest list. It is
 * reported at once when no agent runs it, or when its agents are down
 * (they stop it when they come back: it is no longer in their lists).
 *
 * A system task has one instance per agent; its view sums them up:
 * running if any instance runs, assigned if any is starting, complete when
 * all are, failed when all ended and one failed; its message lists each
 * agent's instance ("oslo-1-a running, oslo-1-b down"), and it carries no
 * agent and no pid.
 *
 * Reports go to the outbox only when they differ from the last one made
 * for the task in this run. Pure: no I/O.
 */
#ifndef VARDE_CTL_SITE_H
#define VARDE_CTL_SITE_H

#include "controller/ctl_agents.h"
#include "controller/ctl_jobs.h"
#include "controller/ctl_outbox.h"
#include "controller/ctl_rows.h"
#include "controller/ctl_state.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ctl_view {
    const char *state; /* placed, assigned, running, complete, failed,
                          stopped, unknown, lost */
    const char *agent; /* borrowed; NULL: none, or a system task */
    int64_t pid;       /* -1: none */
    int64_t restarts;  /* -1: none */
    bool has_exit_code;
    int64_t exit_code;
    char message[CTL_MESSAGE_MAX + 1]; /* "": none */
    bool report;                       /* worth a report upstream */
};

/* What the site knows of its tasks: everything a view reads. */
struct ctl_site {
    const struct ctl_assign *as;
    const struct ctl_jobs *jobs;
    const struct ctl_rows *rows;
    const struct ctl_agents *ag;
    const json_t *notes; /* {TASK: why}, from the placement */
};

/* The view of T (a task of S->as) into *OUT. */
void ctl_site_view(const struct ctl_site *s, const struct ctl_task *t,
                   struct ctl_view *out);

/* The report of task ID's view V: {"id", "state", ...} (a new reference),
 * or NULL when V is not worth one (or out of memory). */
json_t *ctl_view_report(const char *id, const struct ctl_view *v);

struct ctl_site_changes {
    size_t reported; /* reports added to the outbox */
    size_t refused;  /* reports the full outbox refused: tried again on the
                        next call */
};

/* Add to OB the report of every task of S whose view changed since the
 * last report made for it, as REPORTED ({TASK: report}) remembers; update
 * REPORTED, and forget the tasks S no longer has. */
void ctl_site_report(const struct ctl_site *s, json_t *reported,
                     struct ctl_outbox *ob, struct ctl_site_changes *out);

#endif
