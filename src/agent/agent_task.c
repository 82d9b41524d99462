/* agent_task.c - a task's state machine (agent_task.h). Every transition
 * goes through task_move(), which checks it against the table of allowed
 * moves and refuses any other, so a driver bug shows as an error, never as
 * a task in a state that cannot be. */
#include "agent/agent_task.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define BIT(s) (1u << (s))

#define ENDED_STATES                                                           \
    (BIT(AGENT_TASK_COMPLETE) | BIT(AGENT_TASK_FAILED) |                       \
     BIT(AGENT_TASK_STOPPED))
#define IDLE_STATES                                                            \
    (BIT(AGENT_TASK_NEW) | BIT(AGENT_TASK_RESTARTING) | ENDED_STATES)
#define PROCESS_STATES                                                         \
    (BIT(AGENT_TASK_STARTING) | BIT(AGENT_TASK_RUNNING) |                      \
     BIT(AGENT_TASK_STOPPING))

static const char *const state_names[AGENT_TASK_N_STATES] = {
    "new",        "starting", "running", "stopping",
    "restarting", "complete", "failed",  "stopped",
};

/* allowed[to] is the set of states a task may move to TO from. */
static const unsigned allowed[AGENT_TASK_N_STATES] = {
    [AGENT_TASK_NEW] = IDLE_STATES,
    [AGENT_TASK_STARTING] = IDLE_STATES,
    [AGENT_TASK_RUNNING] = BIT(AGENT_TASK_STARTING) | BIT(AGENT_TASK_RUNNING),
    [AGENT_TASK_STOPPING] = PROCESS_STATES,
    [AGENT_TASK_RESTARTING] =
        BIT(AGENT_TASK_STARTING) | BIT(AGENT_TASK_RUNNING),
    [AGENT_TASK_COMPLETE] = BIT(AGENT_TASK_STARTING) | BIT(AGENT_TASK_RUNNING),
    [AGENT_TASK_FAILED] = BIT(AGENT_TASK_NEW) | BIT(AGENT_TASK_STARTING) |
                          BIT(AGENT_TASK_RUNNING),
    [AGENT_TASK_STOPPED] = BIT(AGENT_TASK_NEW) | BIT(AGENT_TASK_RESTARTING) |
                           BIT(AGENT_TASK_STOPPING),
};

/* Move T to TO if the table allows it from T's state. 0, or -1. */
static int task_move(struct agent_task *t, enum agent_task_state to)
{
    if (!(allowed[to] & BIT(t->state))) {
        return -1;
    }
    t->state = to;
    return 0;
}

static bool task_in(const struct agent_task *t, unsigned states)
{
    return (BIT(t->state) & states) != 0;
}

void agent_task_init(struct agent_task *t, const char *id, const char *job,
                     const char *site, struct job *spec, uint64_t job_version)
{
    memset(t, 0, sizeof(*t));
    snprintf(t->id, sizeof(t->id), "%s", id);
    snprintf(t->job, sizeof(t->job), "%s", job);
    snprintf(t->site, sizeof(t->site), "%s", site);
    t->spec = spec;
    t->job_version = job_version;
    t->state = AGENT_TASK_NEW;
    agent_policy_init(&t->policy);
}

void agent_task_free(struct agent_task *t)
{
    job_free(t->spec);
    job_free(t->next_spec);
    agent_policy_free(&t->policy);
    t->spec = NULL;
    t->next_spec = NULL;
}

int agent_task_started(struct agent_task *t, int pid, uint64_t start_time,
                       uint64_t now_wall_ms)
{
    if (pid <= 0 || t->spec == NULL || task_move(t, AGENT_TASK_STARTING) < 0) {
        return -1;
    }
    t->pid = pid;
    t->start_time = start_time;
    t->started_ms = now_wall_ms;
    t->message[0] = '\0';
    return 0;
}

int agent_task_exec_ok(struct agent_task *t)
{
    if (t->state != AGENT_TASK_STARTING) {
        return -1;
    }
    return task_move(t, AGENT_TASK_RUNNING);
}

int agent_task_exec_failed(struct agent_task *t, const char *msg)
{
    if (t->state != AGENT_TASK_STARTING) {
        return -1;
    }
    agent_task_set_message(t, "%s", msg);
    return 0;
}

int agent_task_adopted(struct agent_task *t)
{
    if (t->pid <= 0 || !task_in(t, PROCESS_STATES)) {
        return -1;
    }
    return t->state == AGENT_TASK_STOPPING ? 0
                                           : task_move(t, AGENT_TASK_RUNNING);
}

int agent_task_exited(struct agent_task *t, int code, int signal,
                      enum agent_decision decision)
{
    enum agent_task_state to = AGENT_TASK_STOPPED;

    if (t->state != AGENT_TASK_STOPPING) {
        to = decision == AGENT_DECIDE_COMPLETE ? AGENT_TASK_COMPLETE
             : decision == AGENT_DECIDE_FAIL   ? AGENT_TASK_FAILED
                                               : AGENT_TASK_RESTARTING;
    }
    if (!task_in(t, PROCESS_STATES) || task_move(t, to) < 0) {
        return -1;
    }
    t->pid = 0;
    t->start_time = 0;
    t->has_exit = code >= 0;
    t->exit_code = code;
    t->exit_signal = signal;
    if (to == AGENT_TASK_RESTARTING && decision == AGENT_DECIDE_RESTART) {
        t->restarts++;
    }
    return 0;
}

enum agent_stop_result agent_task_stop(struct agent_task *t)
{
    switch (t->state) {
    case AGENT_TASK_STARTING:
    case AGENT_TASK_RUNNING:
        task_move(t, AGENT_TASK_STOPPING);
        return AGENT_STOP_SIGNAL;
    case AGENT_TASK_NEW:
    case AGENT_TASK_RESTARTING:
        task_move(t, AGENT_TASK_STOPPED);
        return AGENT_STOP_DONE;
    case AGENT_TASK_STOPPING:
        return AGENT_STOP_PENDING;
    default:
        return AGENT_STOP_ENDED;
    }
}

int agent_task_refuse(struct agent_task *t, const char *msg)
{
    if (t->state != AGENT_TASK_NEW || task_move(t, AGENT_TASK_FAILED) < 0) {
        return -1;
    }
    agent_task_set_message(t, "%s", msg);
    return 0;
}

int agent_task_renew(struct agent_task *t, struct job *spec,
                     uint64_t job_version)
{
    if (task_in(t, PROCESS_STATES) || task_move(t, AGENT_TASK_NEW) < 0) {
        return -1;
    }
    if (spec != NULL) {
        job_free(t->spec);
        t->spec = spec;
    }
    t->job_version = job_version;
    t->restarts = 0;
    t->message[0] = '\0';
    agent_policy_reset(&t->policy);
    return 0;
}

bool agent_task_has_process(const struct agent_task *t)
{
    return task_in(t, PROCESS_STATES);
}

bool agent_task_ended(const struct agent_task *t)
{
    return task_in(t, ENDED_STATES);
}

bool agent_task_active(const struct agent_task *t)
{
    return !task_in(t, ENDED_STATES);
}

void agent_task_set_message(struct agent_task *t, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(t->message, sizeof(t->message), fmt, ap);
    va_end(ap);
    for (char *p = t->message; *p != '\0'; p++) {
        if (*p == '\n' || *p == '\r') {
            *p = ' ';
        }
    }
}

const char *agent_task_state_name(enum agent_task_state s)
{
    return (unsigned)s < AGENT_TASK_N_STATES ? state_names[s] : "?";
}

const char *agent_task_report_state(enum agent_task_state s)
{
    switch (s) {
    case AGENT_TASK_NEW:
        return "starting";
    case AGENT_TASK_STOPPING:
        return "running";
    default:
        return agent_task_state_name(s);
    }
}

int agent_task_state_parse(const char *name, enum agent_task_state *out)
{
    for (int i = 0; i < AGENT_TASK_N_STATES; i++) {
        if (strcmp(name, state_names[i]) == 0) {
            *out = (enum agent_task_state)i;
            return 0;
        }
    }
    return -1;
}

bool agent_task_id_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > AGENT_TASK_ID_MAX ||
        !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9'))) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '_' || c == '.')) {
            return false;
        }
    }
    return true;
}
