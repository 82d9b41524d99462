/* agent_policy.h - the restart policy of a task: what an exit leads to.
 *
 * A job's restart policy allows at most `attempts` restarts within any
 * window of `interval`, each after `delay` (docs/jobs.md). This module
 * keeps the times of a task's recent restarts and decides, for each exit,
 * whether the task is complete, restarts, or has failed:
 *
 *   batch job, exit 0                       -> complete (never restarted)
 *   any other exit (a service's exit 0 too,
 *   a signal, a command that cannot run)    -> restart, if fewer than
 *                                              attempts restarts fall in
 *                                              (now - interval, now]
 *                                           -> failed, otherwise
 *
 * Pure: the time comes in as an argument (milliseconds of a clock that
 * only moves forward, CLOCK_MONOTONIC in the daemon), so a test replays
 * any sequence of exits exactly.
 */
#ifndef VARDE_AGENT_POLICY_H
#define VARDE_AGENT_POLICY_H

#include "sm/job.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The times of recent restarts, oldest first; at most JOB_MAX_ATTEMPTS. */
struct agent_policy {
    size_t n;
    size_t cap;
    uint64_t *times; /* malloc'ed, cap entries; NULL while cap is 0 */
};

enum agent_decision {
    AGENT_DECIDE_COMPLETE = 0, /* done: a batch task that exited 0 */
    AGENT_DECIDE_RESTART,      /* start again after the restart delay */
    AGENT_DECIDE_FAIL,         /* the policy is spent: give up */
    AGENT_DECIDE_RETRY,        /* start again, uncounted: the start failed
                                  for the agent's own reasons (never
                                  returned by agent_policy_decide) */
};

/* An empty history. */
void agent_policy_init(struct agent_policy *p);

/* Forget every restart (a new spec starts over). */
void agent_policy_reset(struct agent_policy *p);

/* Free the history; P is empty afterwards. */
void agent_policy_free(struct agent_policy *p);

/* Decide what an exit of a task of type TYPE leads to, under restart
 * policy R, at NOW_MS. SUCCESS: the process exited 0. A RESTART is counted
 * at NOW_MS. Out of memory, a restart that could not be counted is refused
 * (FAIL). */
enum agent_decision agent_policy_decide(struct agent_policy *p,
                                        const struct job_restart *r,
                                        enum job_type type, bool success,
                                        uint64_t now_ms);

/* How many restarts fall in (NOW_MS - INTERVAL_MS, NOW_MS]. */
size_t agent_policy_recent(const struct agent_policy *p, uint64_t interval_ms,
                           uint64_t now_ms);

/* Replace the history with N times (sorted or not; the latest
 * JOB_MAX_ATTEMPTS are kept), as loaded from disk. Returns 0, or -1 out
 * of memory (P unchanged). */
int agent_policy_load(struct agent_policy *p, const uint64_t *times, size_t n);

/* "restart", "complete", "fail" or "retry". */
const char *agent_decision_name(enum agent_decision d);

#endif
