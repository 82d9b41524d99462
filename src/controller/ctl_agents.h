/* ctl_agents.h - the site's agents: who they are, whether they are up,
 * and what they last said they run.
 *
 * An agent registers (POST /v1/agents/NAME/register, docs/site-api.md)
 * with its labels, its capacity and the address of its own API, then
 * heartbeats with the state of every task it knows. Per agent, the
 * registry keeps:
 *
 *   persisted   name, address, labels, capacity, boot id and start time,
 *               and the index of its task list (DIR/agents.json)
 *   in memory   up or down, when it was last heard, whether a heartbeat
 *               came since it registered or came back (synced), the
 *               tasks of its last heartbeat, the highest index its watch
 *               asked past
 *
 * The life of an agent:
 *
 *   (new) --register--> UP, not synced --heartbeat--> UP, synced
 *   UP --silent for the TTL (ctl_agents_expire)--> DOWN
 *   DOWN --register--> UP, not synced;  DOWN --heartbeat--> UP, synced
 *
 * A register under the name of an agent that is up, from another address,
 * is refused (a second machine that took the name by mistake); from the
 * same address it is the agent itself, restarted, or registering again.
 * Agents loaded from the data dir start up and not synced, as if they had
 * just registered: they get a TTL to be heard from.
 *
 * Pure: the time comes in as an argument (monotonic ms). The parsers check
 * what agents send at the edge, with messages that name the field; fields
 * they do not know are ignored, so that a newer agent can add some.
 */
#ifndef VARDE_CTL_AGENTS_H
#define VARDE_CTL_AGENTS_H

#include "controller/ctl_flags.h"
#include "controller/ctl_state.h"
#include "util/addr.h"
#include "util/labels.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_AGENTS_MAX 256       /* the most a site's heartbeat carries */
#define CTL_AGENT_NAME_MAX 64    /* the rules of a site name */
#define CTL_AGENT_TASKS_MAX 4096 /* tasks in one heartbeat */
#define CTL_BOOT_ID_MAX 128
#define CTL_MESSAGE_MAX 256 /* bytes of a task's message (the cluster's) */
#define CTL_MS_MAX (1ull << 53)

/* A task's state as its agent reports it. */
enum ctl_run {
    CTL_RUN_STARTING,
    CTL_RUN_RUNNING,
    CTL_RUN_RESTARTING, /* waiting out the restart delay */
    CTL_RUN_COMPLETE,
    CTL_RUN_FAILED,
    CTL_RUN_STOPPED, /* stopped because it was asked to */
};

struct ctl_agent_task {
    char id[CTL_TASK_ID_MAX + 1];
    enum ctl_run state;
    uint64_t job_version;
    int64_t pid;      /* -1: none */
    int64_t restarts; /* 0 when not given */
    bool has_exit_code;
    int64_t exit_code;
    char *message; /* printable ASCII, at most CTL_MESSAGE_MAX; NULL: none */
};

struct ctl_agent {
    /* Persisted. */
    char name[CTL_AGENT_NAME_MAX + 1];
    struct addr addr; /* its own API (logs) */
    struct label *labels;
    size_t n_labels; /* sorted by key */
    uint64_t cpu_milli, memory_mb;
    char boot_id[CTL_BOOT_ID_MAX + 1];
    uint64_t started_ms;
    uint64_t index; /* of its task list; moves when the list changes */

    /* In memory. */
    bool up;
    bool synced;         /* a heartbeat since it registered or came back */
    bool heard;          /* a register or heartbeat since we started */
    uint64_t last_ms;    /* the last register or heartbeat (or our start) */
    uint64_t seen_index; /* the highest index its watch asked past */
    uint64_t list_hash;  /* of the task list it was given INDEX for */
    struct ctl_agent_task *tasks;
    size_t n_tasks; /* of its last heartbeat, sorted by id */
};

struct ctl_agents {
    struct ctl_agent **v; /* sorted by name */
    size_t n;
    uint64_t index; /* the last task-list index handed out */
};

/* What a register asks: parsed by ctl_agent_reg_parse(). */
struct ctl_agent_reg {
    struct addr addr;
    struct label *labels;
    size_t n_labels;
    uint64_t cpu_milli, memory_mb;
    char boot_id[CTL_BOOT_ID_MAX + 1];
    uint64_t started_ms;
};

/* What a register changed. */
struct ctl_agent_reg_outcome {
    bool added;     /* a name not seen before */
    bool back;      /* it was down */
    bool restarted; /* another boot id or start time than last time */
    bool changed;   /* address, labels or capacity changed */
};

/* A heartbeat, parsed by ctl_agent_hb_parse(). */
struct ctl_agent_hb {
    struct ctl_agent_task *tasks;
    size_t n_tasks; /* sorted by id, ids unique */
};

/* An empty registry. */
void ctl_agents_init(struct ctl_agents *a);

/* Release everything A holds; A is empty afterwards. */
void ctl_agents_free(struct ctl_agents *a);

/* The agent named NAME, or NULL. */
struct ctl_agent *ctl_agents_find(const struct ctl_agents *a, const char *name);

/* The position of agent G in A->v (G must be in A). */
size_t ctl_agents_pos(const struct ctl_agents *a, const struct ctl_agent *g);

/* Parse LEN bytes of BODY, a register (docs/site-api.md), into *OUT. Returns
 * 0, or -1 with a one-line reason naming the field in ERR. Free *OUT with
 * ctl_agent_reg_free() either way. */
int ctl_agent_reg_parse(const char *body, size_t len, struct ctl_agent_reg *out,
                        char *err, size_t errlen);

void ctl_agent_reg_free(struct ctl_agent_reg *r);

/* Register agent NAME (a valid name) as REG says, at NOW. An agent up
 * (heard within TTL_MS) with another address refuses it: -1, 409 in
 * *STATUS; a full registry: -1, 503. Otherwise 0: the agent is up and not
 * synced, REG's labels moved into it, and *OUT says what changed. */
int ctl_agents_register(struct ctl_agents *a, const char *name,
                        struct ctl_agent_reg *reg, uint64_t now,
                        uint32_t ttl_ms, struct ctl_agent_reg_outcome *out,
                        int *status, char *err, size_t errlen);

/* Forget agent NAME (an operator's DELETE of a machine that is gone).
 * Returns 0, or -1 when there is no such agent. */
int ctl_agents_remove(struct ctl_agents *a, const char *name);

/* Parse LEN bytes of BODY, a heartbeat, into *OUT. Returns 0, or -1 with a
 * one-line reason in ERR. Free *OUT with ctl_agent_hb_free() either way. */
int ctl_agent_hb_parse(const char *body, size_t len, struct ctl_agent_hb *out,
                       char *err, size_t errlen);

void ctl_agent_hb_free(struct ctl_agent_hb *hb);

/* Take HB (its tasks moved into G) as G's heartbeat at NOW: G is up and
 * synced. *BACK is set when G was down. Returns true when anything a
 * placement or a report reads changed: the tasks, up, synced. */
bool ctl_agent_heartbeat(struct ctl_agent *g, struct ctl_agent_hb *hb,
                         uint64_t now, bool *back);

/* Mark down every up agent silent for more than TTL_MS at NOW, and put
 * their positions in DOWN (room for A->n). Returns how many went down. */
size_t ctl_agents_expire(struct ctl_agents *a, uint64_t now, uint32_t ttl_ms,
                         size_t *down);

/* The task TASK of G's last heartbeat, or NULL. */
const struct ctl_agent_task *ctl_agent_task_find(const struct ctl_agent *g,
                                                 const char *task);

/* True when G carries every label of LABELS ({"name": "value"}, may be
 * NULL) with the same value. */
bool ctl_agent_labels_match(const struct ctl_agent *g, const json_t *labels);

/* G's labels as {"name": "value"} (a new reference; NULL out of memory). */
json_t *ctl_agent_labels_json(const struct ctl_agent *g);

/* The name of run state S ("running"), and back: -1 for an unknown name. */
const char *ctl_run_name(enum ctl_run s);
int ctl_run_parse(const char *name);

/* A's persisted part: [{"name", "addr", "labels", "cpu_milli", "memory_mb",
 * "boot_id", "started_ms", "index"}] (a new reference; NULL out of
 * memory). */
json_t *ctl_agents_to_json(const struct ctl_agents *a);

/* Read DOC (ctl_agents_to_json's form) and INDEX into A (initialised
 * here; free it either way). Every agent starts up and not synced, last
 * heard at NOW. Returns 0, or -1 with a one-line reason in ERR naming the
 * field. */
int ctl_agents_from_json(struct ctl_agents *a, const json_t *doc,
                         uint64_t index, uint64_t now, char *err,
                         size_t errlen);

#endif
