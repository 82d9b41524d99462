/* ctl_site.h - what the site makes of its assignments, until agents exist.
 *
 * Every assigned task gets a local state, the site's own view of it, shown
 * by the controller's GET /v1/status. With no agent to run anything yet, a
 * task keeps the state the cluster gave it ("placed"), and a task the
 * cluster asks to stop becomes "stopped" at once: nothing runs it, so it
 * has ended. Each task that becomes stopped is reported upstream
 * ({"id", "state": "stopped"}), which lets the cluster remove it.
 *
 * A task carries its local state over from the previous assignments (same
 * id), so a stop is reported once, not on every change of the site's
 * assignments. After a restart there is no previous assignment: the stops
 * are reported again, which the outbox and the cluster both take as a
 * no-op when they have it already. A report the full outbox refuses
 * leaves the task in the cluster's state, so the next reconcile (the
 * caller runs one when the outbox drains) tries again. Pure: no I/O.
 */
#ifndef VARDE_CTL_SITE_H
#define VARDE_CTL_SITE_H

#include "controller/ctl_outbox.h"
#include "controller/ctl_state.h"

#include <stddef.h>

#define CTL_LOCAL_STOPPED "stopped"

/* What a reconcile changed. */
struct ctl_site_changes {
    size_t added;    /* tasks in NEXT, not in PREV */
    size_t gone;     /* tasks in PREV, not in NEXT */
    size_t stopped;  /* tasks that became stopped */
    size_t reported; /* reports added to the outbox */
    size_t refused;  /* reports the full outbox refused */
};

/* Set the local state of every task of NEXT, from its assignment and from
 * PREV (the assignments before NEXT; NULL after a start), and add the
 * reports that follow to OB. *OUT says what changed. PREV may be NEXT
 * itself: a second pass that retries reports the outbox refused. */
void ctl_site_reconcile(const struct ctl_assign *prev, struct ctl_assign *next,
                        struct ctl_outbox *ob, struct ctl_site_changes *out);

#endif
