/* test_agent_task.c - a task's state machine (every transition, and the
 * ones refused) and the restart policy (attempts within an interval, with
 * the time given). */
#include "agent/agent_policy.h"
#include "agent/agent_task.h"

#include "harness.h"

#include <stdlib.h>

static struct job *spec(const char *text)
{
    struct job *j = NULL;
    char err[256];

    if (job_parse_json(text, strlen(text), &j, err, sizeof(err)) != JOB_OK) {
        fprintf(stderr, "bad test job: %s\n", err);
        abort();
    }
    return j;
}

static struct job *service(void)
{
    return spec("{\"id\": \"web\", \"command\": [\"/bin/sleep\", \"9\"]}");
}

static void fresh(struct agent_task *t)
{
    agent_task_init(t, "web.0", "web", "oslo-1", service(), 1);
}

static const enum agent_task_state all_states[] = {
    AGENT_TASK_NEW,      AGENT_TASK_STARTING,   AGENT_TASK_RUNNING,
    AGENT_TASK_STOPPING, AGENT_TASK_RESTARTING, AGENT_TASK_COMPLETE,
    AGENT_TASK_FAILED,   AGENT_TASK_STOPPED,
};

#define N_STATES (sizeof(all_states) / sizeof(all_states[0]))

/* T forced into state S, with a pid when S has a process. */
static void force(struct agent_task *t, enum agent_task_state s)
{
    t->state = s;
    t->pid = agent_task_has_process(t) ? 4242 : 0;
}

TEST(task_starts_runs_and_is_restarted_by_the_policy)
{
    struct agent_task t;

    fresh(&t);
    EXPECT_EQ(t.state, AGENT_TASK_NEW);
    EXPECT_EQ(agent_task_started(&t, 100, 777, 5000), 0);
    EXPECT_EQ(t.state, AGENT_TASK_STARTING);
    EXPECT_EQ(t.pid, 100);
    EXPECT_EQ(t.start_time, 777);
    EXPECT_EQ(t.started_ms, 5000);
    EXPECT_EQ(agent_task_exec_ok(&t), 0);
    EXPECT_EQ(t.state, AGENT_TASK_RUNNING);
    EXPECT_EQ(agent_task_exited(&t, 137, 9, AGENT_DECIDE_RESTART), 0);
    EXPECT_EQ(t.state, AGENT_TASK_RESTARTING);
    EXPECT_EQ(t.pid, 0);
    EXPECT_EQ(t.restarts, 1);
    EXPECT_TRUE(t.has_exit);
    EXPECT_EQ(t.exit_code, 137);
    EXPECT_EQ(t.exit_signal, 9);
    EXPECT_EQ(agent_task_started(&t, 101, 778, 6000), 0);
    EXPECT_EQ(agent_task_exited(&t, 1, 0, AGENT_DECIDE_FAIL), 0);
    EXPECT_EQ(t.state, AGENT_TASK_FAILED);
    EXPECT_EQ(t.restarts, 1);
    agent_task_free(&t);
}

TEST(task_that_cannot_exec_keeps_its_reason)
{
    struct agent_task t;

    fresh(&t);
    agent_task_started(&t, 100, 1, 1);
    EXPECT_EQ(agent_task_exec_failed(&t, "cannot execute \"x\":\nENOENT"), 0);
    EXPECT_EQ(t.state, AGENT_TASK_STARTING);
    EXPECT_STR(t.message, "cannot execute \"x\": ENOENT"); /* one line */
    EXPECT_EQ(agent_task_exited(&t, 127, 0, AGENT_DECIDE_RESTART), 0);
    EXPECT_STR(t.message, "cannot execute \"x\": ENOENT");
    EXPECT_EQ(agent_task_started(&t, 101, 2, 2), 0);
    EXPECT_STR(t.message, ""); /* a new run starts clean */
    EXPECT_EQ(agent_task_exec_ok(&t), 0);
    EXPECT_EQ(agent_task_exec_failed(&t, "late"), -1);
    agent_task_free(&t);
}

TEST(task_batch_completes_and_retry_is_uncounted)
{
    struct agent_task t;

    fresh(&t);
    agent_task_started(&t, 100, 1, 1);
    EXPECT_EQ(agent_task_exited(&t, -1, 0, AGENT_DECIDE_RETRY), 0);
    EXPECT_EQ(t.state, AGENT_TASK_RESTARTING);
    EXPECT_EQ(t.restarts, 0);
    EXPECT_TRUE(!t.has_exit); /* unknown code */
    agent_task_started(&t, 101, 1, 1);
    agent_task_exec_ok(&t);
    EXPECT_EQ(agent_task_exited(&t, 0, 0, AGENT_DECIDE_COMPLETE), 0);
    EXPECT_EQ(t.state, AGENT_TASK_COMPLETE);
    EXPECT_TRUE(agent_task_ended(&t));
    EXPECT_TRUE(!agent_task_active(&t));
    agent_task_free(&t);
}

TEST(task_stop_from_every_state)
{
    static const struct {
        enum agent_task_state from;
        enum agent_stop_result result;
        enum agent_task_state to;
    } cases[] = {
        {AGENT_TASK_NEW, AGENT_STOP_DONE, AGENT_TASK_STOPPED},
        {AGENT_TASK_STARTING, AGENT_STOP_SIGNAL, AGENT_TASK_STOPPING},
        {AGENT_TASK_RUNNING, AGENT_STOP_SIGNAL, AGENT_TASK_STOPPING},
        {AGENT_TASK_STOPPING, AGENT_STOP_PENDING, AGENT_TASK_STOPPING},
        {AGENT_TASK_RESTARTING, AGENT_STOP_DONE, AGENT_TASK_STOPPED},
        {AGENT_TASK_COMPLETE, AGENT_STOP_ENDED, AGENT_TASK_COMPLETE},
        {AGENT_TASK_FAILED, AGENT_STOP_ENDED, AGENT_TASK_FAILED},
        {AGENT_TASK_STOPPED, AGENT_STOP_ENDED, AGENT_TASK_STOPPED},
    };
    struct agent_task t;

    fresh(&t);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        force(&t, cases[i].from);
        EXPECT_EQ(agent_task_stop(&t), cases[i].result);
        EXPECT_EQ(t.state, cases[i].to);
    }
    force(&t, AGENT_TASK_STOPPING);
    EXPECT_EQ(agent_task_exited(&t, 143, 15, AGENT_DECIDE_RESTART), 0);
    EXPECT_EQ(t.state, AGENT_TASK_STOPPED); /* the decision is ignored */
    EXPECT_EQ(t.restarts, 0);
    EXPECT_EQ(t.exit_code, 143);
    agent_task_free(&t);
}

TEST(task_refuses_every_transition_the_table_lacks)
{
    struct agent_task t;

    fresh(&t);
    for (size_t i = 0; i < N_STATES; i++) {
        enum agent_task_state s = all_states[i];
        bool process = s == AGENT_TASK_STARTING || s == AGENT_TASK_RUNNING ||
                       s == AGENT_TASK_STOPPING;
        bool idle = !process;

        force(&t, s);
        EXPECT_EQ(agent_task_started(&t, 5, 1, 1), idle ? 0 : -1);
        force(&t, s);
        EXPECT_EQ(agent_task_exec_ok(&t), s == AGENT_TASK_STARTING ? 0 : -1);
        force(&t, s);
        EXPECT_EQ(agent_task_exited(&t, 0, 0, AGENT_DECIDE_RESTART),
                  process ? 0 : -1);
        force(&t, s);
        EXPECT_EQ(agent_task_adopted(&t), process ? 0 : -1);
        EXPECT_EQ(t.state, s == AGENT_TASK_STARTING ? AGENT_TASK_RUNNING : s);
        force(&t, s);
        EXPECT_EQ(agent_task_refuse(&t, "no"), s == AGENT_TASK_NEW ? 0 : -1);
        force(&t, s);
        EXPECT_EQ(agent_task_renew(&t, NULL, 2), idle ? 0 : -1);
        EXPECT_EQ(t.state, idle ? AGENT_TASK_NEW : s);
    }
    agent_task_free(&t);
}

TEST(task_without_a_spec_never_starts)
{
    struct agent_task t;

    agent_task_init(&t, "web.0", "web", "", NULL, 1);
    EXPECT_EQ(agent_task_started(&t, 5, 1, 1), -1);
    EXPECT_EQ(agent_task_refuse(&t, "job refused: command: missing"), 0);
    EXPECT_EQ(t.state, AGENT_TASK_FAILED);
    EXPECT_STR(t.message, "job refused: command: missing");
    agent_task_free(&t);
}

TEST(task_renew_takes_the_new_spec_and_starts_over)
{
    struct agent_task t;

    fresh(&t);
    agent_task_started(&t, 100, 1, 1);
    agent_policy_decide(&t.policy, &t.spec->restart, t.spec->type, false, 10);
    agent_task_exited(&t, 1, 0, AGENT_DECIDE_RESTART);
    agent_task_set_message(&t, "old news");
    EXPECT_EQ(agent_task_renew(&t,
                               spec("{\"id\": \"web\", \"command\": "
                                    "[\"/bin/true\"], \"version\": 2}"),
                               2),
              0);
    EXPECT_EQ(t.state, AGENT_TASK_NEW);
    EXPECT_EQ(t.job_version, 2);
    EXPECT_STR(t.spec->argv[0], "/bin/true");
    EXPECT_EQ(t.restarts, 0);
    EXPECT_EQ(t.policy.n, 0);
    EXPECT_STR(t.message, "");
    agent_task_free(&t);
}

TEST(task_state_names_and_report_names)
{
    enum agent_task_state s;

    for (size_t i = 0; i < N_STATES; i++) {
        EXPECT_EQ(
            agent_task_state_parse(agent_task_state_name(all_states[i]), &s),
            0);
        EXPECT_EQ(s, all_states[i]);
    }
    EXPECT_EQ(agent_task_state_parse("zombie", &s), -1);
    EXPECT_STR(agent_task_report_state(AGENT_TASK_NEW), "starting");
    EXPECT_STR(agent_task_report_state(AGENT_TASK_STOPPING), "running");
    EXPECT_STR(agent_task_report_state(AGENT_TASK_RESTARTING), "restarting");
    EXPECT_STR(agent_task_report_state(AGENT_TASK_STOPPED), "stopped");
}

TEST(task_ids_are_never_paths)
{
    EXPECT_TRUE(agent_task_id_ok("sensor-average.2"));
    EXPECT_TRUE(agent_task_id_ok("0"));
    EXPECT_TRUE(!agent_task_id_ok(""));
    EXPECT_TRUE(!agent_task_id_ok("."));
    EXPECT_TRUE(!agent_task_id_ok(".."));
    EXPECT_TRUE(!agent_task_id_ok("a/b"));
    EXPECT_TRUE(!agent_task_id_ok("Web.0"));
    EXPECT_TRUE(!agent_task_id_ok("-x"));
}

/* ------------------------------------------------------------------------
 * The restart policy.
 */

static const struct job_restart three_a_minute = {3, 60000, 1000};

TEST(policy_allows_attempts_within_the_interval)
{
    struct agent_policy p;

    agent_policy_init(&p);
    EXPECT_EQ(
        agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 1000),
        AGENT_DECIDE_RESTART);
    EXPECT_EQ(
        agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 2000),
        AGENT_DECIDE_RESTART);
    EXPECT_EQ(
        agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 3000),
        AGENT_DECIDE_RESTART);
    EXPECT_EQ(agent_policy_recent(&p, 60000, 3000), 3);
    EXPECT_EQ(
        agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 4000),
        AGENT_DECIDE_FAIL);
    EXPECT_EQ(p.n, 3); /* a refusal counts nothing */
    agent_policy_free(&p);
}

TEST(policy_forgets_restarts_older_than_the_interval)
{
    struct agent_policy p;

    agent_policy_init(&p);
    agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 1000);
    agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 2000);
    agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 30000);
    /* at 61000, the restart at 1000 is out of (1000, 61000] */
    EXPECT_EQ(agent_policy_recent(&p, 60000, 61000), 2);
    EXPECT_EQ(
        agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 61000),
        AGENT_DECIDE_RESTART);
    EXPECT_EQ(
        agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 61500),
        AGENT_DECIDE_FAIL);
    EXPECT_EQ(
        agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, false, 200000),
        AGENT_DECIDE_RESTART);
    EXPECT_EQ(p.n, 1);
    agent_policy_free(&p);
}

TEST(policy_completes_a_batch_that_exits_0_only)
{
    struct agent_policy p;
    const struct job_restart none = {0, 60000, 0};

    agent_policy_init(&p);
    EXPECT_EQ(agent_policy_decide(&p, &none, JOB_BATCH, true, 5),
              AGENT_DECIDE_COMPLETE);
    EXPECT_EQ(agent_policy_decide(&p, &none, JOB_BATCH, false, 5),
              AGENT_DECIDE_FAIL);
    EXPECT_EQ(agent_policy_decide(&p, &three_a_minute, JOB_BATCH, false, 5),
              AGENT_DECIDE_RESTART);
    /* a service or system job that exits 0 is restarted */
    EXPECT_EQ(agent_policy_decide(&p, &three_a_minute, JOB_SERVICE, true, 6),
              AGENT_DECIDE_RESTART);
    EXPECT_EQ(agent_policy_decide(&p, &three_a_minute, JOB_SYSTEM, true, 7),
              AGENT_DECIDE_RESTART);
    EXPECT_EQ(agent_policy_decide(&p, &none, JOB_SERVICE, true, 8),
              AGENT_DECIDE_FAIL);
    agent_policy_free(&p);
}

TEST(policy_near_time_zero_and_reload)
{
    struct agent_policy p;
    const uint64_t times[] = {900, 100, 500, 700};
    const struct job_restart two = {2, 1000, 0};

    agent_policy_init(&p);
    EXPECT_EQ(agent_policy_load(&p, times, 4), 0);
    EXPECT_EQ(p.n, 4);
    EXPECT_EQ(p.times[0], 100); /* sorted */
    EXPECT_EQ(p.times[3], 900);
    EXPECT_EQ(agent_policy_recent(&p, 1000, 950), 4); /* now < interval */
    /* (600, 1600] holds 700 and 900: two of two */
    EXPECT_EQ(agent_policy_decide(&p, &two, JOB_SERVICE, false, 1600),
              AGENT_DECIDE_FAIL);
    EXPECT_EQ(agent_policy_decide(&p, &two, JOB_SERVICE, false, 1900),
              AGENT_DECIDE_RESTART);
    EXPECT_EQ(p.n, 1);
    agent_policy_free(&p);
    EXPECT_TRUE(p.times == NULL && p.n == 0);
}

TEST(decision_names)
{
    EXPECT_STR(agent_decision_name(AGENT_DECIDE_RESTART), "restart");
    EXPECT_STR(agent_decision_name(AGENT_DECIDE_COMPLETE), "complete");
    EXPECT_STR(agent_decision_name(AGENT_DECIDE_FAIL), "fail");
    EXPECT_STR(agent_decision_name(AGENT_DECIDE_RETRY), "retry");
}

int main(void)
{
    RUN(task_starts_runs_and_is_restarted_by_the_policy);
    RUN(task_that_cannot_exec_keeps_its_reason);
    RUN(task_batch_completes_and_retry_is_uncounted);
    RUN(task_stop_from_every_state);
    RUN(task_refuses_every_transition_the_table_lacks);
    RUN(task_without_a_spec_never_starts);
    RUN(task_renew_takes_the_new_spec_and_starts_over);
    RUN(task_state_names_and_report_names);
    RUN(task_ids_are_never_paths);
    RUN(policy_allows_attempts_within_the_interval);
    RUN(policy_forgets_restarts_older_than_the_interval);
    RUN(policy_completes_a_batch_that_exits_0_only);
    RUN(policy_near_time_zero_and_reload);
    RUN(decision_names);
    DONE();
}
