/* agent_policy.c - restarts within an interval (agent_policy.h). */
#include "agent/agent_policy.h"

#include <stdlib.h>
#include <string.h>

void agent_policy_init(struct agent_policy *p)
{
    memset(p, 0, sizeof(*p));
}

void agent_policy_reset(struct agent_policy *p)
{
    p->n = 0;
}

void agent_policy_free(struct agent_policy *p)
{
    free(p->times);
    agent_policy_init(p);
}

/* Drop the restarts at or before NOW_MS - INTERVAL_MS. */
static void policy_prune(struct agent_policy *p, uint64_t interval_ms,
                         uint64_t now_ms)
{
    size_t old = 0;

    while (old < p->n && now_ms >= interval_ms &&
           p->times[old] <= now_ms - interval_ms) {
        old++;
    }
    if (old > 0) {
        memmove(p->times, p->times + old, (p->n - old) * sizeof(p->times[0]));
        p->n -= old;
    }
}

size_t agent_policy_recent(const struct agent_policy *p, uint64_t interval_ms,
                           uint64_t now_ms)
{
    size_t n = 0;

    for (size_t i = 0; i < p->n; i++) {
        n += now_ms < interval_ms || p->times[i] > now_ms - interval_ms;
    }
    return n;
}

/* Room for at least WANT times. 0, or -1 out of memory. */
static int policy_reserve(struct agent_policy *p, size_t want)
{
    uint64_t *t;

    if (want <= p->cap) {
        return 0;
    }
    t = realloc(p->times, want * sizeof(*t));
    if (t == NULL) {
        return -1;
    }
    p->times = t;
    p->cap = want;
    return 0;
}

enum agent_decision agent_policy_decide(struct agent_policy *p,
                                        const struct job_restart *r,
                                        enum job_type type, bool success,
                                        uint64_t now_ms)
{
    if (success && type == JOB_BATCH) {
        return AGENT_DECIDE_COMPLETE;
    }
    policy_prune(p, r->interval_ms, now_ms);
    if (p->n >= r->attempts) {
        return AGENT_DECIDE_FAIL;
    }
    if (policy_reserve(p, p->n + 1) < 0) {
        return AGENT_DECIDE_FAIL;
    }
    p->times[p->n++] = now_ms;
    return AGENT_DECIDE_RESTART;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

int agent_policy_load(struct agent_policy *p, const uint64_t *times, size_t n)
{
    size_t keep = n > JOB_MAX_ATTEMPTS ? JOB_MAX_ATTEMPTS : n;
    uint64_t *sorted;

    if (n == 0) {
        p->n = 0;
        return 0;
    }
    sorted = malloc(n * sizeof(*sorted));
    if (sorted == NULL || policy_reserve(p, keep) < 0) {
        free(sorted);
        return -1;
    }
    memcpy(sorted, times, n * sizeof(*sorted));
    qsort(sorted, n, sizeof(*sorted), cmp_u64);
    memcpy(p->times, sorted + (n - keep), keep * sizeof(*sorted));
    p->n = keep;
    free(sorted);
    return 0;
}

const char *agent_decision_name(enum agent_decision d)
{
    switch (d) {
    case AGENT_DECIDE_COMPLETE:
        return "complete";
    case AGENT_DECIDE_RESTART:
        return "restart";
    case AGENT_DECIDE_FAIL:
        return "fail";
    case AGENT_DECIDE_RETRY:
        return "retry";
    }
    return "?";
}
