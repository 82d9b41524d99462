/* demo_start.c - the fleet comes up, the job is submitted, its tasks run
 * and the values they write change. */
#include "cli/demo_int.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define START_FLEET_MS 20000 /* every daemon up and registered */
#define START_TASKS_MS 20000 /* the job's tasks running */
#define START_VALUE_MS 5000  /* a task writes a new value */
#define START_READINGS 3
#define FIND_UP_MAX 3 /* dirs above the binary's to look for the job in */

static const char *kind_role(const struct demo_daemon *x, char *buf, size_t len)
{
    if (x->kind == DEMO_KIND_RAFT) {
        snprintf(buf, len, "raft node");
    } else if (x->kind == DEMO_KIND_CONTROLLER) {
        snprintf(buf, len, "controller of site %s, region=%s", x->name,
                 x->site == 0 ? "east" : "west");
    } else {
        snprintf(buf, len, "agent in %s, camera=yes", demo_site_name(x->site));
    }
    return buf;
}

static void start_show_layout(const struct demo *d)
{
    char role[96];

    printf("varde demo: a whole fleet on this machine, each daemon on a "
           "loopback address\nof its own.\n\n"
           "  %-11s %-21s %s\n",
           "NAME", "ADDRESS", "ROLE");
    for (size_t i = 0; i < DEMO_DAEMONS; i++) {
        printf("  %-11s %-21s %s\n", d->d[i].name, d->d[i].addr,
               kind_role(&d->d[i], role, sizeof role));
    }
    printf("\n");
    demo_say(d,
             "The raft nodes hold the fleet's desired state and the leader "
             "decides which site runs what. Each site's controller places its "
             "tasks on its agents, which run them as processes. Data and logs "
             "in %s: NAME/ and NAME.log for each daemon, and token, the "
             "access token every daemon asks for.",
             d->dir);
}

/* Whether the controller at ADDR is connected upstream with all its
 * agents up; says what is missing in d->seen. */
static bool start_site_ready(struct demo *d, const struct demo_daemon *ctl)
{
    json_t *j = demo_get_at(ctl->addr, "/v1/status");
    json_t *up = json_object_get(json_object_get(j, "agents"), "up");
    bool connected = json_is_true(json_object_get(j, "connected"));
    long agents = (long)json_integer_value(up);

    json_decref(j);
    if (!connected || agents < DEMO_PER_SITE) {
        snprintf(d->seen, sizeof d->seen, "site %s: %s, %ld of %d agents up",
                 ctl->name, connected ? "connected" : "not connected", agents,
                 DEMO_PER_SITE);
        return false;
    }
    return true;
}

static bool start_fleet_ready(struct demo *d, void *arg)
{
    d->leader = demo_agreed_leader(d);
    if (d->leader == 0) {
        snprintf(d->seen, sizeof d->seen, "the raft nodes agree on no leader");
        return false;
    }
    for (int s = 0; s < DEMO_SITES; s++) {
        if (!start_site_ready(d, demo_ctl(d, s))) {
            return false;
        }
    }
    return true;
}

int demo_start_fleet(struct demo *d)
{
    int64_t start = demo_now_ms(), took;
    char t[32];

    start_show_layout(d);
    d->started = true;
    for (size_t i = 0; i < DEMO_DAEMONS; i++) {
        if (demo_daemon_start(d, &d->d[i]) < 0) {
            return -1;
        }
    }
    if (demo_wait(d, start_fleet_ready, NULL, start, START_FLEET_MS,
                  "start: a raft leader, both sites registered with their "
                  "agents",
                  &took) < 0) {
        return -1;
    }
    demo_saw(d,
             "%s leads the raft nodes; both sites registered, each with its "
             "%d agents: %s after the start",
             demo_raft(d, d->leader)->name, DEMO_PER_SITE,
             demo_ms(took, t, sizeof t));
    printf("\nTo follow along from another terminal:\n"
           "  export VARDE_ADDR=%s\n"
           "  export VARDE_TOKEN=%s\n",
           d->raft_list, d->token);
    return 0;
}

/* ------------------------------------------------------------------
 * the job */

/* Whether DIR/examples/jobs/... is there: into d->job_file. */
static bool find_in(struct demo *d, const char *dir)
{
    int n =
        snprintf(d->job_file, sizeof d->job_file, "%s/%s", dir, DEMO_JOB_FILE);

    return n > 0 && (size_t)n < sizeof d->job_file &&
           access(d->job_file, R_OK) == 0;
}

/* The job's program (its command's first word) must be there: a missing
 * python3 is better said now than as tasks that fail to start. */
static int check_command(const struct demo *d)
{
    json_t *job = json_load_file(d->job_file, 0, NULL);
    const char *prog =
        json_string_value(json_array_get(json_object_get(job, "command"), 0));
    int rc = 0;

    if (prog == NULL) {
        fprintf(stderr, "varde demo: %s: no command\n", d->job_file);
        rc = -1;
    } else if (prog[0] == '/' && access(prog, X_OK) < 0) {
        fprintf(stderr,
                "varde demo: the job runs %s, which is not here: %s "
                "(scripts/install-deps.sh installs it)\n",
                prog, strerror(errno));
        rc = -1;
    }
    json_decref(job);
    return rc;
}

int demo_find_job(struct demo *d)
{
    char exe[PATH_MAX], cwd[PATH_MAX];
    ssize_t r = readlink("/proc/self/exe", exe, sizeof exe - 1);

    if (r > 0) {
        exe[r] = '\0';
        for (int up = 0; up <= FIND_UP_MAX; up++) {
            char *slash = strrchr(exe, '/');

            if (slash == NULL) {
                break;
            }
            *slash = '\0';
            if (find_in(d, exe[0] != '\0' ? exe : "/")) {
                return check_command(d);
            }
        }
    }
    if (getcwd(cwd, sizeof cwd) != NULL && find_in(d, cwd)) {
        return check_command(d);
    }
    fprintf(stderr,
            "varde demo: cannot find %s beside the varde binary or in the "
            "current directory: run it from the repository\n",
            DEMO_JOB_FILE);
    return -1;
}

static bool tasks_running(struct demo *d, void *arg)
{
    struct demo_tasks ts;
    size_t running;

    if (demo_cluster_tasks(d, &ts) < 0) {
        snprintf(d->seen, sizeof d->seen, "no raft node answered");
        return false;
    }
    running = demo_tasks_count(&ts, NULL, "running");
    snprintf(d->seen, sizeof d->seen, "%zu of %d tasks running", running,
             DEMO_TASKS);
    if (running != DEMO_TASKS || ts.n != DEMO_TASKS) {
        return false;
    }
    snprintf(d->first_task, sizeof d->first_task, "%s", ts.t[0].id);
    return true;
}

struct value_wait {
    const char *task;
    struct demo_reading last;
    struct demo_reading now;
};

static bool value_changed(struct demo *d, void *arg)
{
    struct value_wait *w = arg;

    return demo_reading(d, w->task, &w->now) == 0 &&
           w->now.index != w->last.index;
}

/* Read sensors/TASK a few times, each time it has changed. */
static int start_show_values(struct demo *d)
{
    struct value_wait w = {.task = d->first_task};
    int64_t took;

    demo_say(d,
             "\nEach task makes a reading a second and writes a rolling "
             "average to the key-value store through its site's "
             "controller. sensors/%s, read as it changes:",
             w.task);
    for (int i = 0; i < START_READINGS; i++) {
        if (demo_wait(d, value_changed, &w, demo_now_ms(), START_VALUE_MS,
                      "a new value of the task's key", &took) < 0) {
            return -1;
        }
        printf("  avg %.2f over %ld reading%s (modify index %llu)\n", w.now.avg,
               w.now.n, w.now.n == 1 ? "" : "s",
               (unsigned long long)w.now.index);
        fflush(stdout);
        w.last = w.now;
    }
    fflush(stdout);
    return 0;
}

/* The job file as a path relative to the current dir when it is below it
 * (what a user would type), else as found. */
static const char *job_shown(const struct demo *d)
{
    char cwd[PATH_MAX];
    size_t n;

    if (getcwd(cwd, sizeof cwd) == NULL) {
        return d->job_file;
    }
    n = strlen(cwd);
    return strncmp(d->job_file, cwd, n) == 0 && d->job_file[n] == '/'
               ? d->job_file + n + 1
               : d->job_file;
}

int demo_start_job(struct demo *d)
{
    const char *run[] = {"job", "run", job_shown(d), NULL};
    const char *ls[] = {"task", "ls", "--job", DEMO_JOB, NULL};
    int64_t start, took;
    char t[32];

    demo_heading(d, "The job");
    demo_say(d,
             DEMO_JOB
             " is a service of %d tasks, pinned to the sites "
             "oslo-1 and bergen-2 and to machines labelled camera=yes.",
             DEMO_TASKS);
    start = demo_now_ms();
    d->job_submitted =
        true; /* maybe, even if interrupted: stop it at the end */
    if (demo_run_varde(d, run) != 0) {
        if (demo_signal == 0) {
            fprintf(stderr, "varde demo: the job was not taken\n");
        }
        return -1;
    }
    if (demo_wait(d, tasks_running, NULL, start, START_TASKS_MS,
                  "the job's tasks running", &took) < 0) {
        return -1;
    }
    demo_saw(d,
             "the leader placed the tasks on the sites, each controller on its "
             "agents: all %d running %s after the submit",
             DEMO_TASKS, demo_ms(took, t, sizeof t));
    demo_run_varde(d, ls);
    return d->tour ? start_show_values(d) : 0;
}
