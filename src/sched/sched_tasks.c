/* sched_tasks.c - names for the scheduler's changes, and a task table that
 * applies them: the reference for what each change means. */
#include "sched/sched.h"

#include <stdlib.h>
#include <string.h>

const char *sched_change_kind_str(enum sched_change_kind k)
{
    static const char *const names[] = {
        [SCHED_PLACE] = "place",     [SCHED_PENDING] = "pending",
        [SCHED_MOVE] = "move",       [SCHED_UNKNOWN] = "unknown",
        [SCHED_RUNNING] = "running", [SCHED_LOST] = "lost",
        [SCHED_STOP] = "stop",
    };

    if ((size_t)k >= sizeof(names) / sizeof(names[0]) || !names[k]) {
        return "?";
    }
    return names[k];
}

const char *sched_why_str(enum sched_why w)
{
    static const char *const names[] = {
        [SCHED_WHY_NONE] = "",
        [SCHED_WHY_NEW] = "new task",
        [SCHED_WHY_REPLACE] = "replaces a task that ended",
        [SCHED_WHY_SITE_SILENT] = "site silent",
        [SCHED_WHY_SITE_BACK] = "site back",
        [SCHED_WHY_SITE_LOST] = "site lost",
        [SCHED_WHY_SURPLUS] = "surplus copy",
        [SCHED_WHY_JOB_GONE] = "job removed",
        [SCHED_WHY_NOT_ALLOWED] = "site no longer allowed",
        [SCHED_WHY_NO_MATCH] = "no site meets the constraints",
        [SCHED_WHY_NO_CONNECTED] = "no matching site is connected",
        [SCHED_WHY_NO_CAPACITY] = "no matching site has room",
    };

    if ((size_t)w >= sizeof(names) / sizeof(names[0]) || !names[w]) {
        return "?";
    }
    return names[w];
}

void sched_tasks_init(struct sched_tasks *ts)
{
    memset(ts, 0, sizeof(*ts));
}

void sched_tasks_close(struct sched_tasks *ts)
{
    free(ts->v);
    sched_tasks_init(ts);
}

int sched_tasks_add(struct sched_tasks *ts, const struct sched_task *t)
{
    if (ts->n == ts->cap) {
        size_t cap = ts->cap ? ts->cap * 2 : 64;
        void *p = realloc(ts->v, cap * sizeof(*ts->v));

        if (p == NULL) {
            return -1;
        }
        ts->v = p;
        ts->cap = cap;
    }
    ts->v[ts->n++] = *t;
    return 0;
}

static struct sched_task *find(struct sched_tasks *ts, const char *job,
                               uint32_t index)
{
    for (size_t i = 0; i < ts->n; i++) {
        if (ts->v[i].index == index && strcmp(ts->v[i].job, job) == 0) {
            return &ts->v[i];
        }
    }
    return NULL;
}

static int create(struct sched_tasks *ts, const struct sched_change *c)
{
    struct sched_task t = {.job = c->job,
                           .index = c->index,
                           .is_replacement = c->is_replacement,
                           .replaces = c->replaces};

    if (c->kind != SCHED_PENDING) {
        t.site = c->site;
        t.state = SCHED_TASK_PLACED;
    }
    return sched_tasks_add(ts, &t);
}

int sched_tasks_apply(struct sched_tasks *ts, const struct sched_change *c)
{
    struct sched_task *t;

    if (c->created) {
        /* The scheduler never reuses an index: append, no search. */
        return create(ts, c);
    }
    t = find(ts, c->job, c->index);
    if (t == NULL) {
        return -1;
    }
    switch (c->kind) {
    case SCHED_PLACE:
        t->site = c->site;
        t->state = SCHED_TASK_PLACED;
        return 0;
    case SCHED_UNKNOWN:
        t->state = SCHED_TASK_UNKNOWN;
        return 0;
    case SCHED_RUNNING:
        t->state = SCHED_TASK_RUNNING;
        return 0;
    case SCHED_LOST:
        t->state = SCHED_TASK_LOST;
        return 0;
    case SCHED_STOP:
        t->stop = true;
        return 0;
    case SCHED_PENDING:
    case SCHED_MOVE:
        break;
    }
    return -1;
}
