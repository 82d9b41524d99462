/* ctl_site.c - local task states and the reports they make (ctl_site.h). */
#include "controller/ctl_site.h"

#include <stdio.h>
#include <string.h>

/* Report that task T stopped; count what became of it in *OUT. Returns
 * false when the outbox refused the report. */
static bool ctl_site_report_stop(const struct ctl_task *t,
                                 struct ctl_outbox *ob,
                                 struct ctl_site_changes *out)
{
    json_t *r = json_pack("{s:s,s:s}", "id", t->id, "state", CTL_LOCAL_STOPPED);
    bool ok = true;

    switch (r ? ctl_outbox_add(ob, r) : CTL_OUTBOX_ERROR) {
    case CTL_OUTBOX_ADDED:
        out->reported++;
        break;
    case CTL_OUTBOX_SAME:
        break;
    case CTL_OUTBOX_FULL:
    case CTL_OUTBOX_ERROR:
        out->refused++;
        ok = false;
        break;
    }
    json_decref(r);
    return ok;
}

/* Tasks of PREV that NEXT no longer has. */
static size_t ctl_site_gone(const struct ctl_assign *prev,
                            const struct ctl_assign *next)
{
    size_t gone = 0;

    for (size_t i = 0; prev != NULL && i < prev->n_tasks; i++) {
        if (ctl_assign_find(next, prev->tasks[i].id) == NULL) {
            gone++;
        }
    }
    return gone;
}

void ctl_site_reconcile(const struct ctl_assign *prev, struct ctl_assign *next,
                        struct ctl_outbox *ob, struct ctl_site_changes *out)
{
    memset(out, 0, sizeof(*out));
    for (size_t i = 0; i < next->n_tasks; i++) {
        struct ctl_task *t = &next->tasks[i];
        const struct ctl_task *was = prev ? ctl_assign_find(prev, t->id) : NULL;
        bool was_stopped =
            was != NULL && strcmp(was->local, CTL_LOCAL_STOPPED) == 0;

        if (was == NULL) {
            out->added++;
        }
        if (!t->stop) {
            snprintf(t->local, sizeof(t->local), "%s", t->state);
            continue;
        }
        if (was_stopped) {
            snprintf(t->local, sizeof(t->local), "%s", CTL_LOCAL_STOPPED);
            continue;
        }
        /* Stopped once reported; a refused report is tried again on the
         * next reconcile, the task keeping the cluster's state meanwhile. */
        if (ctl_site_report_stop(t, ob, out)) {
            snprintf(t->local, sizeof(t->local), "%s", CTL_LOCAL_STOPPED);
            out->stopped++;
        } else {
            snprintf(t->local, sizeof(t->local), "%s", t->state);
        }
    }
    out->gone = ctl_site_gone(prev, next);
}
