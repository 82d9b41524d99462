/* test_agent_watch.c - the controller's tasks answer (both shapes of
 * "job", refusals) and what the agent does about each task. */
#include "agent/agent_watch.h"

#include "harness.h"

#include <stdlib.h>

static char err[512];

#define JOB_WEB                                                                \
    "{\"id\": \"web\", \"command\": [\"/bin/sleep\", \"9\"], "                 \
    "\"version\": 2}"

static int parse(const char *text, struct agent_wanted *w)
{
    err[0] = '\0';
    return agent_watch_parse(text, strlen(text), "edge-a", w, err, sizeof(err));
}

TEST(watch_parses_jobs_inline_sorted_by_id)
{
    struct agent_wanted w;

    EXPECT_EQ(parse("{\"agent\": \"edge-a\", \"index\": 18, \"site\": "
                    "\"oslo-1\", \"new_field\": [1], \"tasks\": ["
                    "{\"id\": \"web.1\", \"job\": " JOB_WEB ", \"index\": 1, "
                    "\"job_version\": 2, \"stop\": false},"
                    "{\"id\": \"web.0\", \"job\": " JOB_WEB ", \"stop\": true, "
                    "\"site\": \"bergen-2\"}]}",
                    &w),
              0);
    EXPECT_EQ(w.index, 18);
    EXPECT_EQ(w.n, 2);
    EXPECT_STR(w.tasks[0].id, "web.0");
    EXPECT_TRUE(w.tasks[0].stop);
    EXPECT_STR(w.tasks[0].site, "bergen-2");
    EXPECT_EQ(w.tasks[0].job_version, 2); /* from the job's version */
    EXPECT_STR(w.tasks[1].id, "web.1");
    EXPECT_STR(w.tasks[1].job, "web");
    EXPECT_STR(w.tasks[1].site, "oslo-1");
    EXPECT_STR(w.tasks[1].spec->argv[1], "9");
    EXPECT_TRUE(agent_wanted_find(&w, "web.1") == &w.tasks[1]);
    EXPECT_TRUE(agent_wanted_find(&w, "web.2") == NULL);
    agent_wanted_free(&w);
}

TEST(watch_parses_job_ids_with_a_jobs_map)
{
    struct agent_wanted w;

    EXPECT_EQ(parse("{\"index\": 3, \"jobs\": {\"web\": " JOB_WEB "}, "
                    "\"tasks\": [{\"id\": \"web.0\", \"job\": \"web\"}, "
                    "{\"id\": \"gone.0\", \"job\": \"gone\"}, "
                    "{\"id\": \"old.0\", \"stop\": true}]}",
                    &w),
              0);
    EXPECT_EQ(w.n, 3);
    EXPECT_STR(w.tasks[0].id, "gone.0");
    EXPECT_TRUE(w.tasks[0].spec == NULL);
    EXPECT_STR(w.tasks[0].refused,
               "job \"gone\" is not among the answer's jobs");
    EXPECT_STR(w.tasks[1].id, "old.0");
    EXPECT_TRUE(w.tasks[1].spec == NULL && w.tasks[1].refused[0] == '\0');
    EXPECT_STR(w.tasks[2].site, "");
    EXPECT_EQ(w.tasks[2].job_version, 2);
    agent_wanted_free(&w);
}

TEST(watch_keeps_a_refused_job_with_its_reason)
{
    struct agent_wanted w;

    EXPECT_EQ(parse("{\"index\": 3, \"tasks\": [{\"id\": \"x.0\", \"job\": "
                    "{\"id\": \"x\", \"command\": [], \"version\": 5}}]}",
                    &w),
              0);
    EXPECT_TRUE(w.tasks[0].spec == NULL);
    EXPECT_STR(w.tasks[0].refused, "job refused: command: must not be empty "
                                   "(the program, then its arguments)");
    EXPECT_EQ(w.tasks[0].job_version, 0);
    agent_wanted_free(&w);
}

TEST(watch_refuses_malformed_answers_whole)
{
    struct agent_wanted w;

    EXPECT_EQ(parse("nope", &w), -1);
    EXPECT_TRUE(strncmp(err, "bad JSON at line 1", 18) == 0);
    EXPECT_EQ(parse("{\"tasks\": []}", &w), -1);
    EXPECT_STR(err, "index: expected an integer");
    EXPECT_EQ(parse("{\"index\": -1, \"tasks\": []}", &w), -1);
    EXPECT_EQ(parse("{\"index\": 1}", &w), -1);
    EXPECT_STR(err, "tasks: expected an array of at most 4096 tasks");
    EXPECT_EQ(parse("{\"agent\": \"edge-b\", \"index\": 1, \"tasks\": []}", &w),
              -1);
    EXPECT_STR(err, "agent: the answer is for another agent");
    EXPECT_EQ(parse("{\"index\": 1, \"tasks\": [{\"id\": \"../x\", \"stop\": "
                    "true}]}",
                    &w),
              -1);
    EXPECT_TRUE(strncmp(err, "tasks[0].id: expected a task id", 31) == 0);
    EXPECT_EQ(parse("{\"index\": 1, \"tasks\": [{\"id\": \"a.0\"}]}", &w), -1);
    EXPECT_STR(err, "tasks[0].job: missing (needed unless stop is true)");
    EXPECT_EQ(
        parse("{\"index\": 1, \"tasks\": [{\"id\": \"a.0\", \"stop\": 1}]}",
              &w),
        -1);
    EXPECT_STR(err, "tasks[0].stop: expected true or false");
    EXPECT_EQ(parse("{\"index\": 1, \"tasks\": [{\"id\": \"a.0\", \"stop\": "
                    "true}, {\"id\": \"a.0\", \"stop\": true}]}",
                    &w),
              -1);
    EXPECT_STR(err, "tasks: \"a.0\" is given twice");
    EXPECT_EQ(parse("{\"index\": 1, \"site\": \"-x\", \"tasks\": []}", &w), -1);
    EXPECT_STR(err, "site: expected a site name");
    EXPECT_EQ(
        parse("{\"index\": 1, \"tasks\": [{\"id\": \"a.0\", \"job\": 3}]}", &w),
        -1);
    EXPECT_STR(err, "tasks[0].job: expected a job or a job id");
    EXPECT_EQ(parse("{\"index\": 1, \"tasks\": [{\"id\": \"a.0\", \"stop\": "
                    "true, \"job_version\": \"2\"}]}",
                    &w),
              -1);
    EXPECT_STR(err, "tasks[0].job_version: expected an integer");
    EXPECT_EQ(w.n, 0);
}

/* ------------------------------------------------------------------------
 * Actions.
 */

static struct agent_want want(bool stop, bool spec, uint64_t version)
{
    struct agent_want w;

    memset(&w, 0, sizeof(w));
    snprintf(w.id, sizeof(w.id), "web.0");
    w.stop = stop;
    w.job_version = version;
    w.spec = spec ? (struct job *)1 : NULL; /* only tested for NULL */
    if (!spec && !stop) {
        snprintf(w.refused, sizeof(w.refused), "job refused: x");
    }
    return w;
}

static struct agent_task task(enum agent_task_state s, uint64_t version,
                              enum agent_task_after after)
{
    struct agent_task t;

    memset(&t, 0, sizeof(t));
    t.state = s;
    t.job_version = version;
    t.after = after;
    return t;
}

TEST(action_for_tasks_new_and_gone)
{
    struct agent_want run = want(false, true, 1), stop = want(true, false, 1);
    struct agent_want bad = want(false, false, 1);
    struct agent_task t = task(AGENT_TASK_RUNNING, 1, AGENT_AFTER_NOTHING);
    struct agent_task forgetting =
        task(AGENT_TASK_STOPPING, 1, AGENT_AFTER_FORGET);

    EXPECT_EQ(agent_watch_action(NULL, &run), AGENT_ACT_START);
    EXPECT_EQ(agent_watch_action(NULL, &stop), AGENT_ACT_KEEP);
    EXPECT_EQ(agent_watch_action(NULL, &bad), AGENT_ACT_REFUSE);
    EXPECT_EQ(agent_watch_action(NULL, NULL), AGENT_ACT_KEEP);
    EXPECT_EQ(agent_watch_action(&t, NULL), AGENT_ACT_DROP);
    EXPECT_EQ(agent_watch_action(&forgetting, NULL), AGENT_ACT_KEEP);
    EXPECT_EQ(agent_watch_action(&forgetting, &run), AGENT_ACT_REPLACE);
}

TEST(action_for_stops)
{
    struct agent_want stop = want(true, false, 1);
    struct agent_task running = task(AGENT_TASK_RUNNING, 1, 0);
    struct agent_task restarting = task(AGENT_TASK_RESTARTING, 1, 0);
    struct agent_task stopping = task(AGENT_TASK_STOPPING, 1, 0);
    struct agent_task replacing =
        task(AGENT_TASK_STOPPING, 1, AGENT_AFTER_START);
    struct agent_task complete = task(AGENT_TASK_COMPLETE, 1, 0);

    EXPECT_EQ(agent_watch_action(&running, &stop), AGENT_ACT_STOP);
    EXPECT_EQ(agent_watch_action(&restarting, &stop), AGENT_ACT_STOP);
    EXPECT_EQ(agent_watch_action(&stopping, &stop), AGENT_ACT_KEEP);
    EXPECT_EQ(agent_watch_action(&replacing, &stop), AGENT_ACT_STOP);
    EXPECT_EQ(agent_watch_action(&complete, &stop), AGENT_ACT_KEEP);
}

TEST(action_for_versions_and_tasks_wanted_again)
{
    struct agent_want v1 = want(false, true, 1), v2 = want(false, true, 2);
    struct agent_want bad2 = want(false, false, 2);
    struct agent_task running = task(AGENT_TASK_RUNNING, 1, 0);
    struct agent_task failed = task(AGENT_TASK_FAILED, 1, 0);
    struct agent_task stopped = task(AGENT_TASK_STOPPED, 1, 0);
    struct agent_task stopping = task(AGENT_TASK_STOPPING, 1, 0);

    EXPECT_EQ(agent_watch_action(&running, &v1), AGENT_ACT_KEEP);
    EXPECT_EQ(agent_watch_action(&running, &v2), AGENT_ACT_REPLACE);
    EXPECT_EQ(agent_watch_action(&failed, &v1), AGENT_ACT_KEEP);
    EXPECT_EQ(agent_watch_action(&failed, &v2), AGENT_ACT_REPLACE);
    EXPECT_EQ(agent_watch_action(&stopped, &v1), AGENT_ACT_REPLACE);
    EXPECT_EQ(agent_watch_action(&stopping, &v1), AGENT_ACT_REPLACE);
    EXPECT_EQ(agent_watch_action(&running, &bad2), AGENT_ACT_REFUSE);
    snprintf(running.message, sizeof(running.message), "%s", bad2.refused);
    EXPECT_EQ(agent_watch_action(&running, &bad2), AGENT_ACT_KEEP); /* once */
    running.job_version = 3;
    EXPECT_EQ(agent_watch_action(&running, &v2), AGENT_ACT_KEEP); /* older */
    EXPECT_STR(agent_action_name(AGENT_ACT_REPLACE), "replace");
}

int main(void)
{
    RUN(watch_parses_jobs_inline_sorted_by_id);
    RUN(watch_parses_job_ids_with_a_jobs_map);
    RUN(watch_keeps_a_refused_job_with_its_reason);
    RUN(watch_refuses_malformed_answers_whole);
    RUN(action_for_tasks_new_and_gone);
    RUN(action_for_stops);
    RUN(action_for_versions_and_tasks_wanted_again);
    DONE();
}
