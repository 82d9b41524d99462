/* demo_tour.c - the three faults of the tour, each timed from the moment
 * the demo acted to the first look that saw the fleet repaired:
 *
 *   1. kill -9 the raft leader: another node leads, the sites follow it;
 *      the old leader comes back as a follower.
 *   2. kill -9 an agent of oslo-1: after the agent TTL its tasks run on
 *      the other agent; restarted, it adopts the copies that kept running
 *      and the controller stops the replacements.
 *   3. cut oslo-1's controller off the raft nodes (demo_cut.c).
 *
 * Each step ends with `varde status`. A step that does not happen in time
 * ends the tour with a message naming what was awaited and what was seen.
 */
#include "cli/demo_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define TOUR_LEADER_MS 5000  /* a new leader, the old one back */
#define TOUR_FOLLOW_MS 10000 /* the sites register with the new leader */
#define TOUR_MOVE_MS (DEMO_AGENT_TTL_MS + 8000)
#define TOUR_ADOPT_MS 10000 /* a restarted agent's copies kept */
#define TOUR_SITE 0         /* oslo-1 */

static const char *const status_args[] = {"status", NULL};

/* ------------------------------------------------------------------
 * 1. the leader */

static bool new_leader(struct demo *d, void *arg)
{
    uint64_t old = *(const uint64_t *)arg;
    uint64_t now = demo_agreed_leader(d);

    snprintf(d->seen, sizeof d->seen, "agreed leader: %" PRIu64, now);
    if (now != 0 && now != old) {
        d->leader = now;
        return true;
    }
    return false;
}

static bool sites_follow(struct demo *d, void *arg)
{
    const char *addr = demo_raft(d, d->leader)->addr;

    for (int s = 0; s < DEMO_SITES; s++) {
        json_t *j = demo_get_at(demo_ctl(d, s)->addr, "/v1/status");
        const char *l = json_string_value(json_object_get(j, "leader"));
        bool ok = l != NULL && strcmp(l, addr) == 0 &&
                  json_is_true(json_object_get(j, "connected"));

        snprintf(d->seen, sizeof d->seen, "site %s: leader %s, %s",
                 demo_site_name(s), l != NULL ? l : "none",
                 json_is_true(json_object_get(j, "connected"))
                     ? "connected"
                     : "not connected");
        json_decref(j);
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool all_agree(struct demo *d, void *arg)
{
    uint64_t now = demo_agreed_leader(d);

    snprintf(d->seen, sizeof d->seen, "agreed leader: %" PRIu64, now);
    if (now != 0) {
        d->leader = now;
        return true;
    }
    return false;
}

static int tour_leader(struct demo *d)
{
    uint64_t old = d->leader;
    struct demo_daemon *x = demo_raft(d, old);
    int64_t start, took;
    char t[32];
    pid_t pid;

    demo_heading(d, "1. The leader crashes");
    demo_say(d, "Only the raft leader commits changes to the fleet's desired "
                "state. Kill it without warning: the other two nodes elect a "
                "new leader within about an election timeout, and the sites' "
                "controllers find it by themselves. Nothing on the sites "
                "stops meanwhile.");
    start = demo_now_ms();
    pid = demo_daemon_kill(x);
    demo_act(d, "kill -9 %s (pid %d), the leader in term %" PRIu64, x->name,
             (int)pid, d->ms.term);
    if (demo_wait(d, new_leader, &old, start, TOUR_LEADER_MS,
                  "a new leader after the kill", &took) < 0) {
        return -1;
    }
    demo_saw(d, "%s leads in term %" PRIu64 ": %s after the kill",
             demo_raft(d, d->leader)->name, d->ms.term,
             demo_ms(took, t, sizeof t));
    if (demo_wait(d, sites_follow, NULL, start, TOUR_FOLLOW_MS,
                  "both sites registered with the new leader", &took) < 0) {
        return -1;
    }
    demo_saw(d, "oslo-1 and bergen-2 report to %s: %s after the kill",
             demo_raft(d, d->leader)->name, demo_ms(took, t, sizeof t));

    demo_act(d, "restart %s on its data dir", x->name);
    start = demo_now_ms();
    if (demo_daemon_start(d, x) < 0 ||
        demo_wait(d, all_agree, NULL, start, TOUR_LEADER_MS,
                  "the old leader back as a follower", &took) < 0) {
        return -1;
    }
    demo_saw(d, "%s follows %s: %s after its restart", x->name,
             demo_raft(d, d->leader)->name, demo_ms(took, t, sizeof t));
    demo_run_varde(d, status_args);
    return 0;
}

/* ------------------------------------------------------------------
 * 2. an agent */

struct moved {
    const char *from, *to; /* agents */
    size_t n;              /* tasks that were on FROM */
    char id[DEMO_TASKS][80];
    long old_pid[DEMO_TASKS];
    long new_pid[DEMO_TASKS];
};

/* Whether every task of M runs on AGENT, with its old pid (OLD) or any
 * other; the pids seen go to M->new_pid. */
static bool tasks_on(struct demo *d, struct moved *m, const char *agent,
                     bool old)
{
    struct demo_tasks ts;

    if (demo_cluster_tasks(d, &ts) < 0) {
        snprintf(d->seen, sizeof d->seen, "no raft node answered");
        return false;
    }
    for (size_t i = 0; i < m->n; i++) {
        const struct demo_task *t = demo_task_find(&ts, m->id[i]);

        if (t == NULL || strcmp(t->agent, agent) != 0 ||
            strcmp(t->state, "running") != 0 ||
            (old ? t->pid != m->old_pid[i] : t->pid == m->old_pid[i])) {
            snprintf(d->seen, sizeof d->seen, "%s: %s on %s, pid %ld", m->id[i],
                     t != NULL ? t->state : "gone",
                     t != NULL && t->agent[0] ? t->agent : "no agent",
                     t != NULL ? t->pid : 0L);
            return false;
        }
        m->new_pid[i] = old ? m->new_pid[i] : t->pid;
    }
    return true;
}

static bool moved_away(struct demo *d, void *arg)
{
    struct moved *m = arg;

    return tasks_on(d, m, m->to, false);
}

/* Back on FROM with the old pids, and the replacements gone. */
static bool moved_back(struct demo *d, void *arg)
{
    struct moved *m = arg;

    if (!tasks_on(d, m, m->from, true)) {
        return false;
    }
    for (size_t i = 0; i < m->n; i++) {
        if (demo_pid_alive(m->new_pid[i])) {
            snprintf(d->seen, sizeof d->seen,
                     "the replacement of %s (pid %ld) still runs", m->id[i],
                     m->new_pid[i]);
            return false;
        }
    }
    return true;
}

/* The agent of SITE that runs the first of the site's tasks, into
 * M->from, the site's other agent into M->to, and the tasks on M->from. */
static int pick_agent(struct demo *d, int site, struct moved *m)
{
    struct demo_tasks ts;
    const struct demo_daemon *x = NULL;

    memset(m, 0, sizeof *m);
    if (demo_cluster_tasks(d, &ts) < 0) {
        fprintf(stderr, "varde demo: no raft node answered\n");
        return -1;
    }
    for (size_t i = 0; i < ts.n && x == NULL; i++) {
        if (strcmp(ts.t[i].site, demo_site_name(site)) == 0) {
            x = demo_daemon_named(d, ts.t[i].agent);
        }
    }
    if (x == NULL || x->kind != DEMO_KIND_AGENT) {
        fprintf(stderr, "varde demo: no agent of site %s runs a task\n",
                demo_site_name(site));
        return -1;
    }
    for (size_t i = 0; i < ts.n && m->n < DEMO_TASKS; i++) {
        if (strcmp(ts.t[i].agent, x->name) == 0) {
            snprintf(m->id[m->n], sizeof m->id[m->n], "%s", ts.t[i].id);
            m->old_pid[m->n++] = ts.t[i].pid;
        }
    }
    m->from = x->name;
    m->to = x == demo_agent(d, site, 0) ? demo_agent(d, site, 1)->name
                                        : demo_agent(d, site, 0)->name;
    return 0;
}

static int tour_agent(struct demo *d)
{
    struct moved m;
    struct demo_daemon *x;
    int64_t start, took;
    char t[32];
    pid_t pid;

    if (pick_agent(d, TOUR_SITE, &m) < 0) {
        return -1;
    }
    x = demo_daemon_named(d, m.from);
    demo_heading(d, "2. An agent dies");
    demo_say(d,
             "%s runs %s%s. Kill that agent: the task's process lives in a "
             "process group of its own and keeps going, but nobody watches "
             "over it now. The controller of %s hears no heartbeat from %s "
             "for its agent TTL (%d s), declares it down and starts its tasks "
             "on %s, the site's other machine. The raft cluster takes no "
             "part: the site heals itself.",
             m.from, m.id[0], m.n > 1 ? " and more" : "",
             demo_site_name(TOUR_SITE), m.from, DEMO_AGENT_TTL_MS / 1000, m.to);
    start = demo_now_ms();
    pid = demo_daemon_kill(x);
    demo_act(d, "kill -9 agent %s (pid %d)", m.from, (int)pid);
    if (demo_wait(d, moved_away, &m, start, TOUR_MOVE_MS,
                  "the dead agent's tasks running on the other agent",
                  &took) < 0) {
        return -1;
    }
    demo_saw(d,
             "%s runs on %s as pid %ld: %s after the kill; the old copy, "
             "pid %ld, runs on unwatched",
             m.id[0], m.to, m.new_pid[0], demo_ms(took, t, sizeof t),
             m.old_pid[0]);

    demo_act(d,
             "restart agent %s: it finds pid %ld still running and adopts "
             "it",
             m.from, m.old_pid[0]);
    start = demo_now_ms();
    if (demo_daemon_start(d, x) < 0 ||
        demo_wait(d, moved_back, &m, start, TOUR_ADOPT_MS,
                  "the adopted copies kept, the replacements stopped",
                  &took) < 0) {
        return -1;
    }
    demo_saw(d,
             "the controller keeps the copy that kept running (%s on %s, "
             "pid %ld) and stops the replacement: no task runs twice "
             "(%s after the restart)",
             m.id[0], m.from, m.old_pid[0], demo_ms(took, t, sizeof t));
    demo_run_varde(d, status_args);
    return 0;
}

int demo_tour(struct demo *d)
{
    int64_t start = demo_now_ms();
    char t[32], all[32];

    if (tour_leader(d) < 0 || tour_agent(d) < 0 || demo_tour_cut(d) < 0) {
        return -1;
    }
    printf("\n");
    demo_say(d, "The tour took %s, the whole demo %s so far.",
             demo_ms(demo_now_ms() - start, t, sizeof t),
             demo_ms(demo_now_ms() - d->started_ms, all, sizeof all));
    return 0;
}
