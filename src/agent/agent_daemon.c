/* agent_daemon.c - the agent daemon: its data dir, agent.json, signals,
 * the tick (agent_int.h).
 *
 * Saving. Every change that matters marks the agent dirty and activates
 * the save event, so agent.json is written once per loop turn however
 * many tasks changed. A child forked during the turn waits at its gate
 * until that save has reached the disk: a crash can then lose a start
 * only together with its process (the child sees its gate close and exits
 * unrun), never leave a process the file does not name. When a save
 * fails, the waiting children are let go unrun and their tasks start
 * again a second later; the save is retried every tick, and logged once.
 */
#include "agent/agent_int.h"

#include "agent/agent_proc.h"
#include "agent/agent_sys.h"
#include "storage/datadir.h"
#include "transport/http.h"
#include "util/clock.h"
#include "util/err.h"
#include "util/log.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DAEMON_MAX_REAPS 4096 /* per SIGCHLD */

void agent_touch(struct agent *a)
{
    a->dirty = true;
    if (a->save_ev != NULL) {
        event_active(a->save_ev, EV_TIMEOUT, 1);
    }
}

/* ------------------------------------------------------------------------
 * agent.json
 */

/* Save agent.json. 0, or -1 with a reason in ERR. */
static int daemon_save(struct agent *a, char *err, size_t errlen)
{
    const struct agent_task **tasks =
        calloc(a->n_runs ? a->n_runs : 1, sizeof(*tasks));
    char *text;
    size_t len = 0;
    int rc;

    if (tasks == NULL) {
        return err_fail(err, errlen, "out of memory");
    }
    for (size_t i = 0; i < a->n_runs; i++) {
        tasks[i] = &a->runs[i]->task;
    }
    text =
        agent_store_encode(a->opts->name, a->boot_id, tasks, a->n_runs, &len);
    free(tasks);
    if (text == NULL) {
        return err_fail(err, errlen, "out of memory");
    }
    rc = agent_store_save(a->opts->data_dir, text, len, err, errlen);
    free(text);
    return rc;
}

/* Let the children waiting at their gates go: to run when SAVED, unrun
 * otherwise. */
static void daemon_open_gates(struct agent *a, bool saved)
{
    for (size_t i = 0; i < a->n_runs; i++) {
        struct agent_run *r = a->runs[i];
        struct agent_child c = {r->task.pid, r->gate_fd, -1};

        if (r->gate_fd < 0) {
            continue;
        }
        if (saved) {
            agent_proc_release(&c);
        } else {
            agent_proc_abort(&c);
            r->aborted = true;
        }
        r->gate_fd = -1;
    }
}

static void daemon_save_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent *a = arg;
    char err[512];
    bool ok;

    (void)fd, (void)what;
    if (!a->dirty) {
        daemon_open_gates(a, true);
        return;
    }
    ok = daemon_save(a, err, sizeof(err)) == 0;
    if (ok) {
        a->dirty = false;
        a->st.saves++;
        if (a->save_failing) {
            log_info("agent", "agent.json saved again");
        }
    } else {
        a->st.save_failures++;
        if (!a->save_failing) {
            log_error("agent",
                      "cannot save agent.json: %s -> tasks being started "
                      "are not run (retried every tick)",
                      err);
        }
    }
    a->save_failing = !ok;
    daemon_open_gates(a, ok);
}

/* Load agent.json into runs. 0, or -1 with a reason in ERR. */
static int daemon_load(struct agent *a, char *err, size_t errlen)
{
    struct agent_store_doc doc;
    char why[512];
    char *text = NULL;
    size_t len = 0;
    int rc = agent_store_load(a->opts->data_dir, &text, &len, err, errlen);

    if (rc <= 0) {
        return rc;
    }
    rc = agent_store_decode(text, len, &doc, why, sizeof(why));
    free(text);
    if (rc < 0) {
        return err_fail(err, errlen,
                        "%s/%s: %s (the tasks it names may still run: stop "
                        "them, or repair the file, before moving it away)",
                        a->opts->data_dir, AGENT_STORE_FILE, why);
    }
    a->rebooted = strcmp(doc.boot_id, a->boot_id) != 0;
    if (strcmp(doc.agent, a->opts->name) != 0) {
        log_warn("agent",
                 "agent.json was written by agent %s, this is %s -> its "
                 "tasks are taken over",
                 doc.agent, a->opts->name);
    }
    for (size_t i = 0; i < doc.n; i++) {
        if (a->rebooted) {
            agent_policy_reset(&doc.tasks[i].policy); /* a past boot's */
        }
        agent_run_add(a, &doc.tasks[i]);
    }
    free(doc.tasks);
    return 0;
}

/* ------------------------------------------------------------------------
 * The data dir.
 */

static int daemon_lock(struct agent *a, char *err, size_t errlen)
{
    a->lock_fd = datadir_lock(a->opts->data_dir, NULL, err, errlen);
    if (a->lock_fd < 0) {
        return -1;
    }
    if (asprintf(&a->tasks_dir, "%s/tasks", a->opts->data_dir) < 0) {
        a->tasks_dir = NULL;
        return err_fail(err, errlen, "out of memory");
    }
    if (mkdir(a->tasks_dir, 0700) < 0 && errno != EEXIST) {
        return err_fail(err, errlen, "create %s: %s", a->tasks_dir,
                        strerror(errno));
    }
    return 0;
}

/* Read --token-file, if given: the controller gets it with every call,
 * and every request to the agent's API must carry it. */
static int daemon_token(struct agent *a, char *err, size_t errlen)
{
    bool loose = false;

    if (a->opts->token_file == NULL) {
        log_warn("agent",
                 "no --token-file: anyone who reaches %s can read task logs, "
                 "and the controller must run without one too",
                 a->opts->listen.text);
        return 0;
    }
    if (token_load(a->opts->token_file, a->token, &loose, err, errlen) < 0) {
        return -1;
    }
    if (loose) {
        log_warn("agent", "token file %s can be read by others: chmod 600 it",
                 a->opts->token_file);
    }
    http_set_client_token(a->token);
    return 0;
}

/* ------------------------------------------------------------------------
 * Signals and the tick.
 */

static void daemon_sigchld_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent *a = arg;
    int pid, status;

    (void)fd, (void)what;
    for (int i = 0; i < DAEMON_MAX_REAPS && agent_proc_reap(&pid, &status);
         i++) {
        agent_run_reaped(a, pid, status);
    }
}

static void daemon_stop_cb(evutil_socket_t sig, short what, void *arg)
{
    struct agent *a = arg;
    size_t running = 0;

    (void)what;
    for (size_t i = 0; i < a->n_runs; i++) {
        running += agent_task_has_process(&a->runs[i]->task);
    }
    daemon_save_cb(-1, 0, a);
    log_info("agent",
             "%s -> exiting; %zu task processes keep running (a restarted "
             "agent adopts them)",
             sig == SIGINT ? "SIGINT" : "SIGTERM", running);
    event_base_loopexit(a->base, NULL);
}

static void daemon_tick_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent *a = arg;

    (void)fd, (void)what;
    agent_run_tick(a);
    if (a->dirty && a->save_failing) {
        agent_touch(a);
    }
}

static int daemon_events(struct agent *a, char *err, size_t errlen)
{
    struct timeval tick = {0, AGENT_TICK_MS * 1000};

    signal(SIGPIPE, SIG_IGN);
    a->sigchld_ev = evsignal_new(a->base, SIGCHLD, daemon_sigchld_cb, a);
    a->sigterm_ev = evsignal_new(a->base, SIGTERM, daemon_stop_cb, a);
    a->sigint_ev = evsignal_new(a->base, SIGINT, daemon_stop_cb, a);
    a->tick_ev = event_new(a->base, -1, EV_PERSIST, daemon_tick_cb, a);
    a->save_ev = event_new(a->base, -1, 0, daemon_save_cb, a);
    if (a->sigchld_ev == NULL || a->sigterm_ev == NULL ||
        a->sigint_ev == NULL || a->tick_ev == NULL || a->save_ev == NULL ||
        event_add(a->sigchld_ev, NULL) < 0 ||
        event_add(a->sigterm_ev, NULL) < 0 ||
        event_add(a->sigint_ev, NULL) < 0 || event_add(a->tick_ev, &tick) < 0) {
        return err_fail(err, errlen, "cannot set up events: out of memory");
    }
    return 0;
}

/* ------------------------------------------------------------------------
 * Open, loop, close.
 */

static void daemon_log_start(const struct agent *a)
{
    const struct agent_opts *o = a->opts;

    log_info("agent",
             "agent %s: controller %s, API on %s, data dir %s, %llu.%03llu "
             "cores and %llu MiB for tasks, %zu tasks from agent.json%s",
             o->name, o->controller.text, o->listen.text, o->data_dir,
             (unsigned long long)(o->cpu_milli / 1000),
             (unsigned long long)(o->cpu_milli % 1000),
             (unsigned long long)o->memory_mb, a->n_runs,
             a->rebooted && a->n_runs
                 ? " (written before a reboot: their processes are gone)"
                 : "");
    if (a->cgroup.on) {
        log_info("agent", "cgroups: limits applied under %s", a->cgroup.dir);
    } else {
        log_warn("agent", "cgroups unavailable: %s, tasks run without limits",
                 a->cgroup.why);
    }
}

int agent_open(struct agent *a, struct agent_opts *opts, uint64_t seed,
               char *err, size_t errlen)
{
    struct agent_upstream_cbs cbs;

    memset(a, 0, sizeof(*a));
    a->opts = opts;
    a->lock_fd = -1;
    a->started_ms = clock_wall_ms();
    agent_sys_boot_id(a->boot_id, sizeof(a->boot_id));
    if (daemon_token(a, err, errlen) < 0 || daemon_lock(a, err, errlen) < 0) {
        return -1;
    }
    a->base = event_base_new();
    if (a->base == NULL) {
        return err_fail(err, errlen, "cannot create the event loop");
    }
    agent_cgroup_open(&a->cgroup, AGENT_CGROUP_MOUNT, opts->name);
    if (daemon_load(a, err, errlen) < 0 || daemon_events(a, err, errlen) < 0 ||
        agent_api_open(a, err, errlen) < 0) {
        return -1;
    }
    cbs = agent_sync_cbs(a);
    a->up = agent_upstream_new(a->base, opts, &cbs, seed);
    if (a->up == NULL) {
        return err_fail(err, errlen, "out of memory");
    }
    daemon_log_start(a);
    agent_run_sweep(a);
    for (size_t i = 0; i < a->n_runs; i++) {
        agent_run_resume(a->runs[i]);
    }
    agent_upstream_start(a->up);
    return 0;
}

int agent_loop(struct agent *a)
{
    if (event_base_dispatch(a->base) < 0) {
        log_error("agent", "event loop failed");
        return 1;
    }
    return a->exit_code;
}

static void daemon_free_event(struct event **ev)
{
    if (*ev != NULL) {
        event_free(*ev);
        *ev = NULL;
    }
}

void agent_close(struct agent *a)
{
    agent_api_close(a);
    agent_upstream_free(a->up);
    a->up = NULL;
    for (size_t i = 0; i < a->n_runs; i++) {
        agent_run_free(a->runs[i]);
    }
    free(a->runs);
    a->runs = NULL;
    a->n_runs = 0;
    daemon_free_event(&a->sigchld_ev);
    daemon_free_event(&a->sigterm_ev);
    daemon_free_event(&a->sigint_ev);
    daemon_free_event(&a->tick_ev);
    daemon_free_event(&a->save_ev);
    if (a->base != NULL) {
        event_base_free(a->base);
        a->base = NULL;
    }
    free(a->tasks_dir);
    a->tasks_dir = NULL;
    if (a->lock_fd >= 0) {
        close(a->lock_fd);
        a->lock_fd = -1;
    }
}
