/* agent_store.h - what an agent runs, on disk: DIR/agent.json.
 *
 * The file is one JSON object, rewritten whole on every change that
 * matters (a start with its pid, an exit, a restart, a stop, a new spec, a
 * log rotation): written to agent.json.tmp, fsynced, renamed over
 * agent.json, and the directory fsynced, so a crash leaves the old file
 * or the new one.
 *
 *   {"format": 1, "agent": NAME, "boot_id": "...",
 *    "tasks": [{"id", "job", "site", "job_version", "state", "pid",
 *               "start_time", "started_ms", "restarts",
 *               "recent_restarts": [ms, ...], "exit_code", "exit_signal",
 *               "message", "log_start", "after", "spec", "next_spec",
 *               "next_version"}]}
 *
 * `state` is an own state name (agent_task.h); `pid` and `start_time`
 * (field 22 of /proc/PID/stat) identify the process across an agent
 * restart; `recent_restarts` are CLOCK_MONOTONIC milliseconds, valid
 * while `boot_id` is this boot's; `spec` and `next_spec` are jobs in the
 * job file format (null when absent); `exit_code` is null before the first
 * exit. docs/agent.md describes the file.
 *
 * Decoding is strict: a field missing or of the wrong type, a value out of
 * bounds, a state that contradicts the pid, a task id given twice: each is
 * refused with one line naming the field ("tasks[2].pid: expected an
 * integer"), and the agent will not start on such a file rather than
 * guess what runs.
 */
#ifndef VARDE_AGENT_STORE_H
#define VARDE_AGENT_STORE_H

#include "agent/agent_task.h"

#include <stddef.h>
#include <stdint.h>

#define AGENT_STORE_FILE "agent.json"
#define AGENT_STORE_MAX (256u << 20) /* bytes in agent.json */
#define AGENT_BOOT_ID_MAX 64

struct agent_store_doc {
    char agent[65];
    char boot_id[AGENT_BOOT_ID_MAX + 1];
    size_t n;
    struct agent_task *tasks; /* n of them, malloc'ed; each owns its specs */
};

/* The file's text for agent AGENT on boot BOOT_ID with the N tasks TASKS,
 * malloc'ed (*LEN bytes, NUL after them). NULL out of memory. */
char *agent_store_encode(const char *agent, const char *boot_id,
                         const struct agent_task *const *tasks, size_t n,
                         size_t *len);

/* Decode LEN bytes of TEXT into *OUT (freed with agent_store_doc_free).
 * Returns 0, or -1 with a one-line reason naming the field in ERR (*OUT
 * then empty). */
int agent_store_decode(const char *text, size_t len,
                       struct agent_store_doc *out, char *err, size_t errlen);

/* Free what DOC owns; DOC is empty afterwards. */
void agent_store_doc_free(struct agent_store_doc *doc);

/* Replace DIR/agent.json with LEN bytes of TEXT, durably (see above).
 * Returns 0 once the file and the directory are fsynced, or -1 with a
 * reason in ERR. */
int agent_store_save(const char *dir, const char *text, size_t len, char *err,
                     size_t errlen);

/* Read DIR/agent.json into a malloc'ed *TEXT (*LEN bytes, NUL after
 * them), after removing a leftover agent.json.tmp. Returns 1 when read, 0
 * when there is no file, -1 with a reason in ERR. */
int agent_store_load(const char *dir, char **text, size_t *len, char *err,
                     size_t errlen);

#endif
