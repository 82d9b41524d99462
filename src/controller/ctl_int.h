/* ctl_int.h - the controller daemon's state, shared by its own files
 * (ctl_daemon.c, ctl_reconcile.c, ctl_api.c, ctl_agent_api.c,
 * ctl_proxy.c); nothing outside src/controller includes it. */
#ifndef VARDE_CTL_INT_H
#define VARDE_CTL_INT_H

#include "controller/ctl_agents.h"
#include "controller/ctl_flags.h"
#include "controller/ctl_jobs.h"
#include "controller/ctl_outbox.h"
#include "controller/ctl_rows.h"
#include "controller/ctl_state.h"
#include "controller/ctl_upstream.h"
#include "transport/relay.h"
#include "util/token.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct event;
struct event_base;
struct evhttp_request;
struct http_server;

#define CTL_ASSIGN_FILE "assignments.json"
#define CTL_OUTBOX_FILE "outbox.json"
#define CTL_AGENTS_FILE "agents.json"
#define CTL_TICK_MS 100         /* agents' TTL and watches' deadlines */
#define CTL_RECONCILE_GAP_MS 50 /* between placements heartbeats ask for */
#define CTL_WATCHES_MAX 1024    /* agents' task watches held at once */
#define CTL_AGENT_WAIT_MAX_MS 60000
#define CTL_AGENT_WAIT_DEFAULT_MS 30000

/* An agent's blocking watch of its task list, held until the list moves
 * or its time is up. */
struct ctl_watch {
    struct ctl_watch *next;
    char agent[CTL_AGENT_NAME_MAX + 1];
    uint64_t index;    /* the index the agent holds */
    uint64_t deadline; /* monotonic ms */
    struct evhttp_request *req;
};

struct ctl {
    struct ctl_opts opts;
    struct event_base *base;
    int lock_fd;               /* DIR/LOCK, flock()ed; -1 when not held */
    char token[TOKEN_MAX + 1]; /* "" without --token-file */
    struct ctl_assign assign;
    struct ctl_jobs jobs; /* of ASSIGN, borrowing its jobs */
    struct ctl_outbox outbox;
    struct ctl_agents agents;
    struct ctl_rows rows; /* the placement table */
    json_t *notes;        /* {TASK: why}, from the last placement */
    json_t *reported;     /* {TASK: the last report made for it} */
    struct ctl_upstream *up;
    struct http_server *http;
    struct relays relays;
    struct ctl_watch *watches;
    size_t n_watches;
    struct event *sigterm_ev, *sigint_ev, *tick_ev;
    struct event *reconcile_ev;            /* a placement asked for soon */
    uint64_t reconciled_ms;                /* when the last placement ran */
    uint64_t cap_cpu_milli, cap_memory_mb; /* the capacity offered */
    bool cap_known;                        /* offered once already */
    size_t waiting_room;                   /* reports the full outbox refused */
    bool save_failing;        /* the last outbox save failed (logged) */
    bool registry_dirty;      /* agents.json is behind */
    bool registry_failing;    /* the last agents.json save failed */
    uint64_t batches_refused; /* batches the cluster refused outright */
    uint64_t assign_changes;  /* new assignment indexes taken */
    uint64_t moves;           /* tasks moved off an agent */
    uint64_t agents_down;     /* times an agent was declared down */
};

/* Open the data dir, load what it holds, listen on --listen and start
 * following the leader. Returns 0, or -1 with a one-line reason in ERR
 * (call ctl_close() either way). */
int ctl_open(struct ctl *c, const struct ctl_opts *opts, uint64_t seed,
             char *err, size_t errlen);

/* Run the event loop until SIGTERM or SIGINT. Returns the exit status. */
int ctl_run(struct ctl *c);

/* Release everything ctl_open() took. */
void ctl_close(struct ctl *c);

/* How often an agent should heartbeat: a fifth of the TTL, 20 ms to 1 s
 * (ctl_daemon.c). */
uint32_t ctl_agent_heartbeat_ms(const struct ctl *c);

/* Read --token-file, if given: every request served must carry it and
 * every request sent carries it (ctl_load.c). Returns 0, or -1 with a
 * one-line reason in ERR. */
int ctl_load_token(struct ctl *c, char *err, size_t errlen);

/* Load the data dir's files: assignments, outbox, agents and placements
 * (ctl_load.c). A file that does not exist is an empty start; one that
 * does not check out is an error naming it. Returns 0, or -1 with ERR. */
int ctl_load(struct ctl *c, char *err, size_t errlen);

/* Serve the controller's API on --listen (ctl_api.c). Returns 0, or -1
 * with a one-line reason in ERR. */
int ctl_api_listen(struct ctl *c, char *err, size_t errlen);

/* Place the site's tasks on its agents again and act on the result: log
 * what moved, give agents whose task list changed a new index, save the
 * registry, report what changed upstream, answer the watches that are
 * due, and offer the cluster the new capacity (ctl_reconcile.c). KICK:
 * send the reports now (false from inside an upstream callback, which
 * asks for them itself). */
void ctl_reconcile(struct ctl *c, bool kick);

/* Run ctl_reconcile() soon: at once if the last one is CTL_RECONCILE_GAP_MS
 * old, else when it will be, so that heartbeats arriving together cost one
 * placement. */
void ctl_reconcile_soon(struct ctl *c);

/* Compute the task-list hash of every agent without moving an index: the
 * lists as loaded are the ones the agents hold. */
void ctl_lists_settle(struct ctl *c);

/* Save DIR/outbox.json if the outbox changed (ctl_daemon.c). Returns 0,
 * or -1 (logged once per run of failures; the batch is then held back). */
int ctl_save_outbox(struct ctl *c);

/* Save DIR/agents.json if the registry changed. Returns 0, or -1 (logged
 * once per run of failures, retried every tick). */
int ctl_save_registry(struct ctl *c);

/* The agents as GET /v1/agents shows them: [{"name", "addr", "status",
 * "labels", "cpu", "memory_mb", "cpu_free", "memory_free_mb", "tasks",
 * "last_heartbeat_ms"}] (a new reference; NULL out of memory). */
json_t *ctl_agents_view(const struct ctl *c);

/* Answer the watches whose agent's list moved past what they hold, whose
 * time is up, or whose agent is gone (ctl_agent_api.c). */
void ctl_watches_sweep(struct ctl *c);

/* Answer every watch now (shutting down). */
void ctl_watches_flush(struct ctl *c);

/* The handlers of the agents' calls (ctl_agent_api.c), and of the
 * proxies (ctl_proxy.c). */
void ctl_agent_api_cb(struct evhttp_request *req, void *arg);
void ctl_agents_list_cb(struct evhttp_request *req, void *arg);
void ctl_proxy_logs_cb(struct evhttp_request *req, void *arg);
void ctl_proxy_kv_cb(struct evhttp_request *req, void *arg);

#endif
