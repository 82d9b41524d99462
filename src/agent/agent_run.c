/* agent_run.c - supervise task processes: start, watch, stop, adopt,
 * restart (agent_int.h).
 *
 * The task state machine (agent_task.h) and the restart policy
 * (agent_policy.h) decide; this file carries out: the fork behind a start
 * gate (released once the pid is saved), the exec status pipe that tells
 * STARTING from RUNNING, SIGCHLD reaps, pidfds (or polling) for processes
 * adopted after an agent restart, SIGTERM then SIGKILL for a stop, and the
 * restart timer. Every state change marks the agent dirty, so agent.json
 * is saved at the end of the loop turn.
 */
#include "agent/agent_int.h"

#include "agent/agent_logs.h"
#include "agent/agent_proc.h"
#include "util/clock.h"
#include "util/log.h"

#include <errno.h>
#include <event2/event.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RUN_RETRY_MS 1000 /* after a start the agent itself failed */

/* "1500ms", "2s", "1m": MS in its largest exact unit, into BUF. */
static const char *run_dur(uint64_t ms, char *buf, size_t len)
{
    if (ms % 60000 == 0 && ms > 0) {
        snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
    } else if (ms % 1000 == 0) {
        snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
    } else {
        snprintf(buf, len, "%llums", (unsigned long long)ms);
    }
    return buf;
}

/* ------------------------------------------------------------------------
 * Starting.
 */

/* mkdir -p of R's dir and its work dir. 0, or -1 with errno. */
static int run_make_dirs(const struct agent_run *r, char *work, size_t len)
{
    snprintf(work, len, "%s/work", r->dir);
    if (mkdir(r->a->tasks_dir, 0700) < 0 && errno != EEXIST) {
        return -1;
    }
    if (mkdir(r->dir, 0700) < 0 && errno != EEXIST) {
        return -1;
    }
    return mkdir(work, 0755) < 0 && errno != EEXIST ? -1 : 0;
}

static void run_env_free(char **env)
{
    for (size_t i = 0; env[i] != NULL; i++) {
        free(env[i]);
    }
    free(env);
}

/* The task's environment: its job's, then the VARDE_ variables (which win
 * over the job's own of the same names). With an access token the task
 * gets it too, as VARDE_TOKEN: a task is part of the fleet, and the kv
 * store behind its controller asks for the token. A NULL-terminated
 * malloc'ed array of malloc'ed strings, or NULL out of memory. */
static char **run_env(const struct agent_run *r)
{
    const struct agent_task *t = &r->task;
    const struct agent_opts *o = r->a->opts;
    const struct job *j = t->spec;
    const char *ours[6][2] = {
        {"VARDE_TASK", t->id},    {"VARDE_JOB", t->job},
        {"VARDE_SITE", t->site},  {"VARDE_CONTROLLER", o->controller.text},
        {"VARDE_AGENT", o->name}, {"VARDE_TOKEN", r->a->token}};
    size_t n_ours = r->a->token[0] != '\0' ? 6 : 5;
    char **env = calloc(j->n_env + 7, sizeof(*env));
    size_t n = 0;
    bool ok = env != NULL;

    for (size_t i = 0; ok && i < j->n_env; i++) {
        bool shadowed = false;

        for (size_t k = 0; k < 6; k++) {
            shadowed |= strcmp(j->env[i].name, ours[k][0]) == 0;
        }
        if (!shadowed &&
            asprintf(&env[n], "%s=%s", j->env[i].name, j->env[i].value) < 0) {
            env[n] = NULL;
            ok = false;
        }
        n += !shadowed && ok;
    }
    for (size_t k = 0; ok && k < n_ours; k++) {
        if (asprintf(&env[n], "%s=%s", ours[k][0], ours[k][1]) < 0) {
            env[n] = NULL;
            ok = false;
        }
        n += ok;
    }
    if (!ok && env != NULL) {
        run_env_free(env);
        return NULL;
    }
    return env;
}

/* The PATH of the job's env, or the default. */
static const char *run_path(const struct job *j)
{
    for (size_t i = 0; i < j->n_env; i++) {
        if (strcmp(j->env[i].name, "PATH") == 0) {
            return j->env[i].value;
        }
    }
    return AGENT_DEFAULT_PATH;
}

/* A start the agent could not make (WHY): try again in a second. */
static void run_retry(struct agent_run *r, const char *why)
{
    struct timeval tv = clock_tv(RUN_RETRY_MS);

    agent_task_set_message(&r->task, "cannot start: %s", why);
    log_error("task", "task %s: cannot start: %s -> retry in 1s", r->task.id,
              why);
    evtimer_add(r->timer, &tv);
    agent_touch(r->a);
}

static void run_status_cb(evutil_socket_t fd, short what, void *arg);

/* The cgroup.procs for R's process in PROCS, or "" without one. */
static void run_cgroup(struct agent_run *r, char *procs, size_t len)
{
    const struct job *j = r->task.spec;
    char err[300];

    procs[0] = '\0';
    if (!r->a->cgroup.on) {
        return;
    }
    if (agent_cgroup_create(&r->a->cgroup, r->task.id,
                            (uint64_t)(j->cpu * 1000 + 0.5), j->memory_mb,
                            procs, len, err, sizeof(err)) < 0) {
        log_warn("task", "task %s: %s -> runs without limits", r->task.id, err);
        procs[0] = '\0';
    }
}

/* Fork R's child, held at its gate. 0, or -1 with a reason in ERR. */
static int run_fork(struct agent_run *r, struct agent_child *c, char *err,
                    size_t errlen)
{
    char work[PATH_MAX], log_path[PATH_MAX], procs[1200];
    char **env = run_env(r);
    struct agent_spawn s;
    int rc;

    if (env == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (run_make_dirs(r, work, sizeof(work)) < 0) {
        snprintf(err, errlen, "create %.200s: %s", work, strerror(errno));
        run_env_free(env);
        return -1;
    }
    snprintf(log_path, sizeof(log_path), "%s/%s", r->dir, AGENT_LOG_FILE);
    run_cgroup(r, procs, sizeof(procs));
    s.log_path = log_path;
    s.work_dir = work;
    s.cgroup_procs = procs[0] ? procs : NULL;
    s.path = run_path(r->task.spec);
    s.argv = r->task.spec->argv;
    s.envp = env;
    rc = agent_proc_spawn(&s, c, err, errlen);
    run_env_free(env);
    return rc;
}

void agent_run_start(struct agent_run *r)
{
    struct agent_proc_stat st = {0};
    struct agent_child c;
    char err[300];

    evtimer_del(r->timer);
    if (run_fork(r, &c, err, sizeof(err)) < 0) {
        run_retry(r, err);
        return;
    }
    agent_proc_read_stat(c.pid, &st);
    if (agent_task_started(&r->task, c.pid, st.start_time, clock_wall_ms()) <
        0) {
        log_error("task",
                  "task %s: cannot start from state %s (a bug) -> not run",
                  r->task.id, agent_task_state_name(r->task.state));
        agent_proc_abort(&c);
        close(c.status_fd);
        return;
    }
    r->gate_fd = c.gate_fd;
    r->status_fd = c.status_fd;
    r->status_ev = event_new(r->a->base, c.status_fd, EV_READ | EV_PERSIST,
                             run_status_cb, r);
    if (r->status_ev != NULL) {
        event_add(r->status_ev, NULL);
    }
    r->aborted = false;
    r->killed = false;
    r->adopted = false;
    r->a->st.starts++;
    agent_touch(r->a);
}

/* Read R's status pipe: the exec worked, or why it did not. */
static void run_read_status(struct agent_run *r)
{
    enum agent_exec_step step;
    char msg[AGENT_MSG_MAX];
    int errnum, rc;

    if (r->status_fd < 0) {
        return;
    }
    rc = agent_proc_read_status(r->status_fd, &step, &errnum);
    if (rc < 0) {
        return;
    }
    agent_run_close_status(r);
    if (r->task.state != AGENT_TASK_STARTING) {
        return;
    }
    if (rc == 1 && !r->aborted) {
        agent_task_exec_ok(&r->task);
        log_info("task", "task %s started: pid %d runs %s", r->task.id,
                 r->task.pid, r->task.spec->argv[0]);
        agent_touch(r->a);
    } else if (rc == 0) {
        agent_proc_describe(step, errnum, r->task.spec->argv[0], msg,
                            sizeof(msg));
        agent_task_exec_failed(&r->task, msg);
        r->a->st.exec_failures++;
    }
}

static void run_status_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    run_read_status(arg);
}

/* ------------------------------------------------------------------------
 * Exits.
 */

static void run_after_stop(struct agent_run *r);
static void run_rotate(struct agent_run *r);

/* "exited with code 3", "killed by signal 9 (Killed)", ... into BUF. */
static void run_describe_exit(int code, int sig, char *buf, size_t len)
{
    if (code < 0) {
        snprintf(buf, len,
                 "ended, exit status unknown (adopted: not the "
                 "agent's child)");
    } else if (sig > 0) {
        snprintf(buf, len, "killed by signal %d (%s)", sig, strsignal(sig));
    } else {
        snprintf(buf, len, "exited with code %d", code);
    }
}

/* Log the policy's decision D for R after the exit described in HOW. */
static void run_log_decision(struct agent_run *r, enum agent_decision d,
                             const char *how, uint64_t delay_ms)
{
    const struct agent_task *t = &r->task;
    const struct job_restart *p = &t->spec->restart;
    const char *sep = t->message[0] ? ": " : "";
    char d1[32], d2[32];

    if (d == AGENT_DECIDE_COMPLETE) {
        log_info("task", "task %s %s -> complete", t->id, how);
    } else if (d == AGENT_DECIDE_FAIL) {
        log_warn("task",
                 "task %s %s%s%s -> failed: gave up (%u restarts allowed "
                 "within %s)",
                 t->id, how, sep, t->message, p->attempts,
                 run_dur(p->interval_ms, d1, sizeof(d1)));
    } else if (d == AGENT_DECIDE_RETRY) {
        log_info("task", "task %s %s -> start again in %s", t->id, how,
                 run_dur(delay_ms, d1, sizeof(d1)));
    } else {
        log_info(
            "task",
            "task %s %s%s%s -> restart in %s (%zu of %u restarts "
            "within %s)",
            t->id, how, sep, t->message, run_dur(delay_ms, d1, sizeof(d1)),
            agent_policy_recent(&t->policy, p->interval_ms, clock_mono_ms()),
            p->attempts, run_dur(p->interval_ms, d2, sizeof(d2)));
    }
}

/* R's process ended: CODE and SIG (CODE -1: unknown). */
static void run_exited(struct agent_run *r, int code, int sig)
{
    struct agent_task *t = &r->task;
    enum agent_decision d = AGENT_DECIDE_RETRY;
    uint64_t delay = RUN_RETRY_MS;
    char how[160];
    struct timeval tv;

    run_read_status(r); /* an exec failure may be waiting unread */
    agent_run_close_status(r);
    run_rotate(r); /* its last words within the bound too */
    agent_run_close_pidfd(r);
    evtimer_del(r->timer);
    r->cgroup_left = r->cgroup && agent_cgroup_remove(&r->a->cgroup, t->id) < 0;
    r->a->st.exits++;
    run_describe_exit(code, sig, how, sizeof(how));
    if (t->state == AGENT_TASK_STOPPING) {
        agent_task_exited(t, code, sig, AGENT_DECIDE_FAIL);
        log_info("task", "task %s stopped: %s", t->id, how);
        run_after_stop(r);
        agent_touch(r->a);
        return;
    }
    if (!r->aborted) {
        d = agent_policy_decide(&t->policy, &t->spec->restart, t->spec->type,
                                code == 0, clock_mono_ms());
        delay = t->spec->restart.delay_ms;
    }
    agent_task_exited(t, code, sig, d);
    r->a->st.restarts += d == AGENT_DECIDE_RESTART;
    run_log_decision(r, d, how, delay);
    if (t->state == AGENT_TASK_RESTARTING) {
        tv = clock_tv(delay);
        evtimer_add(r->timer, &tv);
    }
    agent_touch(r->a);
}

void agent_run_reaped(struct agent *a, int pid, int status)
{
    int code, sig;

    for (size_t i = 0; i < a->n_runs; i++) {
        struct agent_run *r = a->runs[i];

        if (r->task.pid == pid && !r->adopted &&
            agent_task_has_process(&r->task)) {
            agent_proc_exit_code(status, &code, &sig);
            run_exited(r, code, sig);
            return;
        }
    }
}

/* An adopted process is gone: its status if it is still a zombie. */
static void run_adopted_gone(struct agent_run *r)
{
    struct agent_proc_stat st;
    int code = -1, sig = 0;

    if (!r->a->rebooted && agent_proc_read_stat(r->task.pid, &st) == 0 &&
        st.start_time == r->task.start_time && st.state == 'Z') {
        agent_proc_signal_group(r->task.pid, SIGKILL); /* its leftovers */
        if (st.exit_status >= 0) {
            agent_proc_exit_code(st.exit_status, &code, &sig);
        }
    }
    run_exited(r, code, sig);
}

static void run_pidfd_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what;
    run_adopted_gone(arg);
}

/* ------------------------------------------------------------------------
 * Stopping.
 */

/* What follows a stop, once R has no process. */
static void run_after_stop(struct agent_run *r)
{
    struct agent_task *t = &r->task;
    struct job *next = t->next_spec;

    if (t->after != AGENT_AFTER_START) {
        return; /* NOTHING stays; FORGET waits for the report */
    }
    t->next_spec = NULL;
    t->after = AGENT_AFTER_NOTHING;
    if (agent_task_renew(
            t, next, t->next_version ? t->next_version : t->job_version) < 0) {
        job_free(next);
        return;
    }
    agent_run_start(r);
}

static void run_send(struct agent_run *r, int sig)
{
    if (agent_proc_signal_group(r->task.pid, sig) < 0 && errno != ESRCH) {
        log_warn("task", "task %s: signal %d to process group %d: %s",
                 r->task.id, sig, r->task.pid, strerror(errno));
    }
}

/* SIGTERM to R's group, SIGKILL after the kill timeout. */
static void run_signal_stop(struct agent_run *r)
{
    uint64_t grace = r->task.spec->kill_timeout_ms;
    struct timeval tv = clock_tv(grace);
    char d[32];

    if (r->gate_fd >= 0) {
        struct agent_child c = {r->task.pid, r->gate_fd, -1};

        agent_proc_abort(&c); /* never ran: it exits at its gate */
        r->gate_fd = -1;
        r->aborted = true;
        return;
    }
    if (grace == 0) {
        r->killed = true;
        run_send(r, SIGKILL);
        log_info("task", "task %s stopping: SIGKILL to process group %d",
                 r->task.id, r->task.pid);
        return;
    }
    run_send(r, SIGTERM);
    evtimer_add(r->timer, &tv);
    log_info("task",
             "task %s stopping: SIGTERM to process group %d (SIGKILL after "
             "%s)",
             r->task.id, r->task.pid, run_dur(grace, d, sizeof(d)));
}

void agent_run_stop(struct agent_run *r, enum agent_task_after after,
                    struct job *next_spec, uint64_t next_version)
{
    struct agent_task *t = &r->task;

    job_free(t->next_spec);
    t->next_spec = next_spec;
    t->next_version = next_version;
    t->after = after;
    switch (agent_task_stop(t)) {
    case AGENT_STOP_SIGNAL:
        r->killed = false;
        run_signal_stop(r);
        break;
    case AGENT_STOP_DONE:
        evtimer_del(r->timer);
        log_info("task", "task %s stopped (it had no process)", t->id);
        run_after_stop(r);
        break;
    case AGENT_STOP_PENDING:
        break;
    case AGENT_STOP_ENDED:
        run_after_stop(r);
        break;
    }
    agent_touch(r->a);
}

void agent_run_timer_cb(evutil_socket_t fd, short what, void *arg)
{
    struct agent_run *r = arg;
    struct agent_task *t = &r->task;

    (void)fd, (void)what;
    if (t->state == AGENT_TASK_STOPPING && !r->killed) {
        r->killed = true;
        run_send(r, SIGKILL);
        log_warn("task",
                 "task %s: still running after its kill timeout -> SIGKILL "
                 "to process group %d",
                 t->id, t->pid);
    } else if (t->state == AGENT_TASK_RESTARTING ||
               t->state == AGENT_TASK_NEW) {
        agent_run_start(r);
    }
}

/* ------------------------------------------------------------------------
 * Resuming after an agent restart.
 */

/* Watch R's adopted process: a pidfd when the kernel has them, else the
 * tick polls it. */
static void run_adopt(struct agent_run *r)
{
    struct agent_task *t = &r->task;

    r->adopted = true;
    r->pidfd = agent_proc_pidfd(t->pid);
    if (r->pidfd >= 0 && !agent_proc_alive(t->pid, t->start_time)) {
        agent_run_close_pidfd(r); /* it went meanwhile, or the pid is reused */
        run_adopted_gone(r);
        return;
    }
    if (r->pidfd >= 0) {
        r->pidfd_ev = event_new(r->a->base, r->pidfd, EV_READ, run_pidfd_cb, r);
        if (r->pidfd_ev == NULL || event_add(r->pidfd_ev, NULL) < 0) {
            agent_run_close_pidfd(r);
        }
    }
    agent_task_adopted(t);
    log_info("task", "task %s adopted: pid %d still runs (%s)%s", t->id, t->pid,
             r->pidfd >= 0 ? "watched by pidfd" : "polled",
             t->state == AGENT_TASK_STOPPING ? " -> finish stopping it" : "");
    if (t->state == AGENT_TASK_STOPPING) {
        run_signal_stop(r);
    }
}

void agent_run_resume(struct agent_run *r)
{
    struct agent_task *t = &r->task;
    struct timeval tv;

    if (agent_task_has_process(t)) {
        if (!r->a->rebooted && agent_proc_alive(t->pid, t->start_time)) {
            run_adopt(r);
        } else {
            r->adopted = true;
            run_adopted_gone(r);
        }
        return;
    }
    if (t->state == AGENT_TASK_RESTARTING) {
        tv = clock_tv(t->spec->restart.delay_ms);
        evtimer_add(r->timer, &tv);
    } else if (t->state == AGENT_TASK_NEW && t->spec != NULL) {
        agent_run_start(r);
    }
}

/* ------------------------------------------------------------------------
 * The tick.
 */

static void run_rotate(struct agent_run *r)
{
    char err[300];
    int rc = agent_log_rotate(r->dir, r->a->opts->log_max_bytes,
                              &r->task.log_start, err, sizeof(err));

    if (rc > 0) {
        r->a->st.log_rotations++;
        agent_touch(r->a);
    } else if (rc < 0) {
        log_warn("task", "task %s: log rotation: %s", r->task.id, err);
    }
}

void agent_run_tick(struct agent *a)
{
    for (size_t i = 0; i < a->n_runs; i++) {
        struct agent_run *r = a->runs[i];
        struct agent_task *t = &r->task;

        if (r->cgroup_left && !agent_task_has_process(t)) {
            r->cgroup_left = agent_cgroup_remove(&a->cgroup, t->id) < 0;
        }
        if (!agent_task_has_process(t)) {
            continue;
        }
        run_rotate(r);
        if (r->adopted && r->pidfd < 0 &&
            !agent_proc_alive(t->pid, t->start_time)) {
            run_adopted_gone(r); /* never removes r: the loop holds */
        }
    }
}
