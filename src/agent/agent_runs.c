/* agent_runs.c - the agent's set of runs, sorted by task id: find, add,
 * free, forget (with the task's directory and cgroup), and the sweep of
 * leftovers no run owns (agent_int.h). */
#include "agent/agent_int.h"

#include "agent/agent_proc.h"
#include "util/log.h"

#include <dirent.h>
#include <event2/event.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ------------------------------------------------------------------------
 * The set of runs, sorted by task id.
 */

static size_t run_pos(const struct agent *a, const char *id, bool *found)
{
    size_t lo = 0, hi = a->n_runs;

    *found = false;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(a->runs[mid]->task.id, id);

        if (c == 0) {
            *found = true;
            return mid;
        }
        if (c < 0) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

struct agent_run *agent_run_find(const struct agent *a, const char *id)
{
    bool found;
    size_t at = run_pos(a, id, &found);

    return found ? a->runs[at] : NULL;
}

/* Room for one more run. 0, or -1 out of memory. */
static int run_reserve(struct agent *a)
{
    size_t cap = a->cap_runs ? a->cap_runs * 2 : 16;
    struct agent_run **runs;

    if (a->n_runs < a->cap_runs) {
        return 0;
    }
    runs = realloc(a->runs, cap * sizeof(*runs));
    if (runs == NULL) {
        return -1;
    }
    a->runs = runs;
    a->cap_runs = cap;
    return 0;
}

struct agent_run *agent_run_add(struct agent *a, struct agent_task *t)
{
    struct agent_run *r;
    bool found;
    size_t at = run_pos(a, t->id, &found);

    if (found || a->n_runs >= AGENT_MAX_RUNS || run_reserve(a) < 0 ||
        (r = calloc(1, sizeof(*r))) == NULL) {
        agent_task_free(t);
        return NULL;
    }
    if (asprintf(&r->dir, "%s/%s", a->tasks_dir, t->id) < 0) {
        r->dir = NULL;
    }
    if (r->dir == NULL ||
        (r->timer = evtimer_new(a->base, agent_run_timer_cb, r)) == NULL) {
        free(r->dir);
        free(r);
        agent_task_free(t);
        return NULL;
    }
    r->task = *t;
    r->a = a;
    r->gate_fd = r->status_fd = r->pidfd = -1;
    r->cgroup = a->cgroup.on;
    memmove(&a->runs[at + 1], &a->runs[at],
            (a->n_runs - at) * sizeof(a->runs[0]));
    a->runs[at] = r;
    a->n_runs++;
    return r;
}

void agent_run_close_status(struct agent_run *r)
{
    if (r->status_ev != NULL) {
        event_free(r->status_ev);
        r->status_ev = NULL;
    }
    if (r->status_fd >= 0) {
        close(r->status_fd);
        r->status_fd = -1;
    }
}

void agent_run_close_pidfd(struct agent_run *r)
{
    if (r->pidfd_ev != NULL) {
        event_free(r->pidfd_ev);
        r->pidfd_ev = NULL;
    }
    if (r->pidfd >= 0) {
        close(r->pidfd);
        r->pidfd = -1;
    }
}

void agent_run_free(struct agent_run *r)
{
    struct agent_child c = {r->task.pid, r->gate_fd, -1};

    agent_proc_abort(&c); /* a child still at its gate exits unrun */
    agent_run_close_status(r);
    agent_run_close_pidfd(r);
    if (r->timer != NULL) {
        event_free(r->timer);
    }
    agent_task_free(&r->task);
    free(r->dir);
    free(r);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (flag == FTW_DP) {
        rmdir(path);
    } else {
        unlink(path);
    }
    return 0;
}

/* rm -rf PATH, never following a symlink out of it. */
static void runs_rm_tree(const char *path)
{
    nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

void agent_run_forget(struct agent_run *r)
{
    struct agent *a = r->a;
    bool found;
    size_t at = run_pos(a, r->task.id, &found);

    if (!found || a->runs[at] != r || agent_task_has_process(&r->task)) {
        return;
    }
    memmove(&a->runs[at], &a->runs[at + 1],
            (a->n_runs - at - 1) * sizeof(a->runs[0]));
    a->n_runs--;
    if (r->cgroup) {
        agent_cgroup_remove(&a->cgroup, r->task.id);
    }
    runs_rm_tree(r->dir);
    log_info("task",
             "task %s forgotten: gone from the controller's answer and its "
             "end reported -> removed %s",
             r->task.id, r->dir);
    agent_run_free(r);
    agent_touch(a);
}

/* ------------------------------------------------------------------------
 * Leftovers.
 */

void agent_run_sweep(struct agent *a)
{
    DIR *d = opendir(a->tasks_dir);
    struct dirent *e;
    char path[PATH_MAX];

    while (d != NULL && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || agent_run_find(a, e->d_name) != NULL) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", a->tasks_dir, e->d_name);
        log_info("task", "%s belongs to no known task -> removed", path);
        runs_rm_tree(path);
        agent_cgroup_remove(&a->cgroup, e->d_name);
    }
    if (d != NULL) {
        closedir(d);
    }
}
