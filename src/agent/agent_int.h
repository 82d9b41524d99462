/* agent_int.h - the agent daemon's state, shared by its files: the
 * daemon (agent_daemon.c: open, run, signals, saving), the set of tasks
 * (agent_runs.c), the supervision of their processes (agent_run.c), the
 * reconcile with the controller's
 * answer and the bodies sent to it (agent_sync.c), and the API
 * (agent_api.c, agent_logapi.c). Not a public interface: agent.h is.
 */
#ifndef VARDE_AGENT_INT_H
#define VARDE_AGENT_INT_H

#include "agent/agent_cgroup.h"
#include "agent/agent_flags.h"
#include "agent/agent_store.h"
#include "agent/agent_task.h"
#include "agent/agent_upstream.h"
#include "agent/agent_watch.h"
#include "util/token.h"

#include <event2/util.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;
struct evhttp_request;
struct http_server;
struct agent_follow;

#define AGENT_TICK_MS 500 /* log rotation, polling adopted pids, cgroups */

/* One task and the driver's handles on its process. */
struct agent_run {
    struct agent_task task;
    struct agent *a;
    char *dir;           /* DIR/tasks/ID, malloc'ed */
    struct event *timer; /* the restart delay, or the kill timeout */
    int gate_fd;         /* held shut until the start is saved; -1 */
    int status_fd;       /* the exec status pipe; -1 */
    struct event *status_ev;
    int pidfd; /* an adopted process's pidfd; -1 */
    struct event *pidfd_ev;
    bool adopted;        /* not our child: pidfd or polling tells its exit */
    bool aborted;        /* its gate was closed without a release */
    bool killed;         /* SIGKILL sent during a stop */
    bool cgroup;         /* it may have a cgroup to remove */
    bool cgroup_left;    /* its cgroup was busy at the exit: retry */
    uint64_t report_seq; /* the heartbeat that carried its end; 0 */
};

struct agent_stats {
    uint64_t starts;
    uint64_t exits;
    uint64_t restarts; /* counted restarts, all tasks */
    uint64_t exec_failures;
    uint64_t log_rotations;
    uint64_t saves;
    uint64_t save_failures;
    uint64_t watch_refused; /* answers that did not parse */
};

struct agent {
    struct agent_opts *opts;
    struct event_base *base;
    struct http_server *http;
    struct agent_upstream *up;
    struct agent_cgroup cgroup;
    char boot_id[AGENT_BOOT_ID_MAX + 1];
    char token[TOKEN_MAX + 1]; /* "" without --token-file */
    uint64_t started_ms;       /* wall clock */
    int lock_fd;
    char *tasks_dir; /* DIR/tasks */

    struct agent_run **runs; /* sorted by task id */
    size_t n_runs, cap_runs;

    bool rebooted;        /* agent.json is from another boot */
    uint64_t watch_index; /* of the last answer applied; 0: none yet */
    uint64_t hb_seq;      /* heartbeat bodies made */
    char last_watch_error[512];

    struct event *sigchld_ev, *sigterm_ev, *sigint_ev;
    struct event *tick_ev;
    struct event *save_ev; /* a save at the end of this loop turn */
    bool dirty;
    bool save_failing;

    struct agent_follow *follows; /* log readers that follow */
    size_t n_follows;
    struct event *follow_ev;

    struct agent_stats st;
    int exit_code;
};

/* ---- agent_daemon.c ---- */

/* Open the agent of OPTS (which must outlive it) into A: lock and load
 * the data dir, serve the API, adopt or restart the tasks agent.json
 * lists, start talking to the controller. SEED seeds the backoff's
 * jitter. Returns 0, or -1 with a reason in ERR (agent_close() A then). */
int agent_open(struct agent *a, struct agent_opts *opts, uint64_t seed,
               char *err, size_t errlen);

/* Run until SIGTERM or SIGINT. Returns the exit status. */
int agent_loop(struct agent *a);

/* Free A; the tasks keep running. */
void agent_close(struct agent *a);

/* Something to save changed: save at the end of this loop turn (and then
 * release the gates of the children forked meanwhile). */
void agent_touch(struct agent *a);

/* ---- agent_runs.c: the set of runs ---- */

/* The run of task ID, or NULL. */
struct agent_run *agent_run_find(const struct agent *a, const char *id);

/* Add a run for T (moved from: T's specs now belong to the run). Returns
 * it, or NULL out of memory or over AGENT_MAX_RUNS (T is freed then). */
struct agent_run *agent_run_add(struct agent *a, struct agent_task *t);

/* Remove R for good: its directory, its cgroup, its memory. R must have
 * no process. */
void agent_run_forget(struct agent_run *r);

/* Free R's handles and memory (no removal on disk; its process goes on). */
void agent_run_free(struct agent_run *r);

/* Remove DIR/tasks entries and cgroups that no run owns. */
void agent_run_sweep(struct agent *a);

/* Close R's exec status pipe, and its pidfd, with their events. */
void agent_run_close_status(struct agent_run *r);
void agent_run_close_pidfd(struct agent_run *r);

/* ---- agent_run.c: task processes ---- */

/* R's timer: the restart delay is over, or the kill timeout. */
void agent_run_timer_cb(evutil_socket_t fd, short what, void *arg);

/* Start R's command (R in NEW or RESTARTING). A start that fails for the
 * agent's own reasons (fork, pipes, directories) is retried later. */
void agent_run_start(struct agent_run *r);

/* Stop R (see agent_task_stop), then do AFTER (NEXT_SPEC, owned from now,
 * and NEXT_VERSION for a start). */
void agent_run_stop(struct agent_run *r, enum agent_task_after after,
                    struct job *next_spec, uint64_t next_version);

/* Take over R, loaded from agent.json: adopt its live process, account
 * for a dead one, schedule its restart or start it. */
void agent_run_resume(struct agent_run *r);

/* A child exited with wait status STATUS: handle it. */
void agent_run_reaped(struct agent *a, int pid, int status);

/* The tick: rotate logs, poll adopted processes, remove cgroups. */
void agent_run_tick(struct agent *a);

/* ---- agent_sync.c: the controller's answers, and what we send ---- */

/* The upstream's callbacks for A. */
struct agent_upstream_cbs agent_sync_cbs(struct agent *a);

/* Cores (thousandths) and MiB the active tasks hold. */
void agent_sync_used(const struct agent *a, uint64_t *cpu_milli,
                     uint64_t *memory_mb);

/* ---- agent_api.c, agent_logapi.c ---- */

/* Serve A's API on --listen. Returns 0, or -1 with a reason in ERR. */
int agent_api_open(struct agent *a, char *err, size_t errlen);

/* Close the API, ending every log follow. */
void agent_api_close(struct agent *a);

/* GET /v1/tasks/ID/logs (agent_logapi.c). */
void agent_logapi_handle(struct evhttp_request *req, void *arg);

/* End every follow, answering its client. */
void agent_logapi_close(struct agent *a);

#endif
