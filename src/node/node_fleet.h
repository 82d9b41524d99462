/* node_fleet.h - jobs, sites and tasks on a raft node (node_fleet*.c).
 *
 * Every node applies fleet entries to its copy of the fleet (sm/fleet.h).
 * The leader, besides, holds what never enters the log: the time each site
 * was last heard from (a site silent past --site-ttl is declared silent by
 * an entry; a new leader gives every site a fresh TTL), the requests
 * waiting for their entry to apply, and the controllers' blocking watches.
 * It runs the scheduler whenever the fleet changed and its previous
 * decision has been applied, and commits the changes the scheduler returns.
 * docs/fleet.md is the API. */
#ifndef VARDE_NODE_FLEET_H
#define VARDE_NODE_FLEET_H

#include "raft/raft.h"
#include "sm/fleet.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct node;
struct evhttp_request;

#define NODE_FLEET_MAX_WAITS 4096   /* fleet writes waiting at once */
#define NODE_FLEET_MAX_WATCHES 4096 /* blocking watches at once */
#define NODE_FLEET_WATCH_DEFAULT_MS 30000
#define NODE_FLEET_WATCH_MAX_MS 60000
#define NODE_FLEET_TICK_MS 250       /* liveness checks, deadlines */
#define NODE_FLEET_HEARTBEAT_MS 1000 /* what controllers are told */
#define NODE_FLEET_MAX_AGENTS 256    /* in one site's heartbeat */

/* Create the fleet and its timers on N. Returns 0, or -1 with ERR. */
int node_fleet_open(struct node *n, char *err, size_t errlen);

/* Answer everything waiting and free it all. */
void node_fleet_close(struct node *n);

/* The fleet itself (for snapshots). */
struct fleet *node_fleet_state(struct node *n);

/* Apply the committed fleet entry E and answer the request waiting on it.
 * Returns 0, or -1 when the node must stop (out of memory). */
int node_fleet_apply(struct node *n, const struct raft_entry *e);

/* After a batch of entries was applied: wake watches, schedule. */
void node_fleet_applied(struct node *n);

/* This node became leader (LEADER true) or stopped being it. */
void node_fleet_role(struct node *n, bool leader);

/* A snapshot up to INDEX replaced the state: requests waiting at or below
 * it cannot know their outcome (504). */
void node_fleet_installed(struct node *n, uint64_t index);

/* Prometheus lines for the fleet. */
void node_fleet_metrics(struct node *n, FILE *f);

/* ---- The HTTP endpoints (node_fleet_api.c). */

/* /v1/jobs, /v1/jobs/ID, /v1/tasks, /v1/sites, /v1/agents, and the
 * controllers' /v1/sites/NAME/... */
void node_fleet_jobs_cb(struct evhttp_request *req, void *arg);
void node_fleet_job_cb(struct evhttp_request *req, void *arg);
void node_fleet_tasks_cb(struct evhttp_request *req, void *arg);
void node_fleet_sites_cb(struct evhttp_request *req, void *arg);
void node_fleet_site_cb(struct evhttp_request *req, void *arg);
void node_fleet_agents_cb(struct evhttp_request *req, void *arg);

/* GET /v1/tasks/ID/logs, relayed to the controller of the task's site
 * (node_logs.c). */
void node_fleet_task_cb(struct evhttp_request *req, void *arg);

/* ---- Between node_fleet.c and node_fleet_api.c. */

enum node_fleet_kind {
    NODE_FLEET_JOB_PUT = 1,
    NODE_FLEET_JOB_STOP,
    NODE_FLEET_REGISTER,
    NODE_FLEET_REPORT,
};

/* Propose ENTRY (LEN bytes) for request REQ of KIND about NAME (a job or
 * a site); REQ is answered once the entry is applied, or on failure. */
void node_fleet_propose(struct node *n, struct evhttp_request *req,
                        enum node_fleet_kind kind, const char *name,
                        uint8_t *entry, size_t len);

/* A heartbeat from site NAME (registered): remember it, and commit
 * "connected" if the fleet holds the site as silent. */
void node_fleet_heard(struct node *n, const char *name);

/* The agents site NAME reported in its last heartbeat (AGENTS, stolen: a
 * JSON array of objects). */
struct json_t;
void node_fleet_set_agents(struct node *n, const char *name,
                           struct json_t *agents);

/* Every site's agents, each with "site" added: a new JSON array, NULL out
 * of memory. */
struct json_t *node_fleet_agents_json(struct node *n);

/* Milliseconds since site NAME was last heard from, -1 unknown (the
 * fleet_sites_json callback; ARG is the node). */
int64_t node_fleet_heard_ago(void *arg, const char *name);

/* Hold REQ, a watch of site SITE's assignments past INDEX, until they
 * change or WAIT_MS pass. */
void node_fleet_watch(struct node *n, struct evhttp_request *req,
                      const char *site, uint64_t index, uint64_t wait_ms);

/* The notes of the last scheduler run about job ID, as a JSON array. */
struct json_t *node_fleet_notes_json(struct node *n, const char *id);

/* Whether this node leads and has applied an entry of its own term (its
 * view of the fleet is then complete). */
bool node_fleet_leading(struct node *n);

#endif
