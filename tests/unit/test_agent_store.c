/* test_agent_store.c - agent.json: a round trip of every field, damaged
 * and contradictory files refused with the field named, saved and loaded
 * in the data dir (storage/datadir.h, tested in test_datadir.c). */
#include "agent/agent_store.h"

#include "harness.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static char err[512];

static struct job *spec(const char *text)
{
    struct job *j = NULL;
    char why[256];

    if (job_parse_json(text, strlen(text), &j, why, sizeof(why)) != JOB_OK) {
        fprintf(stderr, "bad test job: %s\n", why);
        abort();
    }
    return j;
}

/* Two tasks that use every field. */
static void two_tasks(struct agent_task *t)
{
    const uint64_t recent[] = {1000, 2000};

    agent_task_init(&t[0], "web.0", "web", "oslo-1",
                    spec("{\"id\": \"web\", \"command\": [\"/bin/sleep\", "
                         "\"9\"], \"env\": {\"A\": \"b\"}, \"version\": 3, "
                         "\"resources\": {\"cpu\": 0.25, \"memory_mb\": 9}}"),
                    3);
    agent_task_started(&t[0], 4242, 987654321, 1764777600000ull);
    agent_task_exec_ok(&t[0]);
    t[0].restarts = 2;
    agent_policy_load(&t[0].policy, recent, 2);
    t[0].has_exit = true;
    t[0].exit_code = 137;
    t[0].exit_signal = 9;
    t[0].log_start = 123456;
    agent_task_stop(&t[0]);
    t[0].after = AGENT_AFTER_START;
    t[0].next_spec = spec("{\"id\": \"web\", \"command\": [\"/bin/true\"], "
                          "\"version\": 4}");
    t[0].next_version = 4;

    agent_task_init(&t[1], "bad.0", "bad", "", NULL, 1);
    agent_task_refuse(&t[1], "job refused: command: missing");
}

TEST(store_round_trips_every_field)
{
    struct agent_task t[2];
    const struct agent_task *ptrs[2] = {&t[0], &t[1]};
    struct agent_store_doc doc;
    size_t len, len2;
    char *text, *text2;

    two_tasks(t);
    text = agent_store_encode("edge-a", "boot-1", ptrs, 2, &len);
    EXPECT_TRUE(text != NULL);
    EXPECT_EQ(agent_store_decode(text, len, &doc, err, sizeof(err)), 0);
    EXPECT_STR(doc.agent, "edge-a");
    EXPECT_STR(doc.boot_id, "boot-1");
    EXPECT_EQ(doc.n, 2);
    EXPECT_STR(doc.tasks[0].id, "web.0");
    EXPECT_STR(doc.tasks[0].site, "oslo-1");
    EXPECT_EQ(doc.tasks[0].state, AGENT_TASK_STOPPING);
    EXPECT_EQ(doc.tasks[0].pid, 4242);
    EXPECT_EQ(doc.tasks[0].start_time, 987654321);
    EXPECT_EQ(doc.tasks[0].started_ms, 1764777600000ull);
    EXPECT_EQ(doc.tasks[0].job_version, 3);
    EXPECT_EQ(doc.tasks[0].restarts, 2);
    EXPECT_EQ(doc.tasks[0].policy.n, 2);
    EXPECT_EQ(doc.tasks[0].policy.times[1], 2000);
    EXPECT_EQ(doc.tasks[0].exit_code, 137);
    EXPECT_EQ(doc.tasks[0].exit_signal, 9);
    EXPECT_EQ(doc.tasks[0].log_start, 123456);
    EXPECT_EQ(doc.tasks[0].after, AGENT_AFTER_START);
    EXPECT_TRUE(job_spec_equal(doc.tasks[0].spec, t[0].spec));
    EXPECT_TRUE(job_spec_equal(doc.tasks[0].next_spec, t[0].next_spec));
    EXPECT_EQ(doc.tasks[0].next_version, 4);
    EXPECT_EQ(doc.tasks[1].state, AGENT_TASK_FAILED);
    EXPECT_TRUE(doc.tasks[1].spec == NULL);
    EXPECT_TRUE(!doc.tasks[1].has_exit);
    EXPECT_STR(doc.tasks[1].message, "job refused: command: missing");
    ptrs[0] = &doc.tasks[0];
    ptrs[1] = &doc.tasks[1];
    text2 = agent_store_encode("edge-a", "boot-1", ptrs, 2, &len2);
    EXPECT_TRUE(len2 == len && memcmp(text, text2, len) == 0);
    free(text);
    free(text2);
    agent_store_doc_free(&doc);
    agent_task_free(&t[0]);
    agent_task_free(&t[1]);
}

/* Decode TEXT; return the error ("" when it decoded). */
static const char *refusal(const char *text)
{
    struct agent_store_doc doc;

    err[0] = '\0';
    if (agent_store_decode(text, strlen(text), &doc, err, sizeof(err)) == 0) {
        agent_store_doc_free(&doc);
        return "";
    }
    return err;
}

#define HEAD "{\"format\": 1, \"agent\": \"a\", \"boot_id\": \"b\", "
#define TASK(extra)                                                            \
    "{\"id\": \"web.0\", \"job\": \"web\", \"site\": \"\", "                   \
    "\"job_version\": 1, \"started_ms\": 0, \"restarts\": 0, "                 \
    "\"log_start\": 0, \"next_version\": 0, \"start_time\": 5, "               \
    "\"exit_code\": null, \"exit_signal\": 0, \"message\": \"\", "             \
    "\"recent_restarts\": [], \"after\": \"nothing\", \"next_spec\": null, "   \
    "\"spec\": {\"id\": \"web\", \"command\": [\"/bin/true\"]}, " extra "}"

TEST(store_refuses_damage_with_the_field_named)
{
    EXPECT_STR(refusal(HEAD "\"tasks\": [" TASK(
                   "\"state\": \"running\", \"pid\": 42") "]}"),
               "");
    EXPECT_STR(refusal(""), "bad JSON at line 1, column 0: '[' or '{' "
                            "expected near end of file");
    EXPECT_STR(refusal("{\"format\": 1, \"agent\": \"a\", \"boot_id\": \"b\", "
                       "\"tasks\": []"),
               "bad JSON at line 1, column 55: '}' expected near end of "
               "file"); /* torn */
    EXPECT_STR(refusal("[]"), "expected a JSON object");
    EXPECT_STR(refusal(HEAD "\"tasks\": [{\"id\": \"a\"}]}"),
               "tasks[0].job: missing");
    EXPECT_STR(refusal("{\"format\": 2}"),
               "format 2: this agent reads format 1");
    EXPECT_STR(refusal(HEAD "\"tasks\": {}}"),
               "tasks: expected an array of at most 8192 tasks");
    EXPECT_STR(refusal(HEAD "\"tasks\": [" TASK(
                   "\"state\": \"running\", \"pid\": \"42\"") "]}"),
               "tasks[0].pid: expected an integer");
    EXPECT_STR(refusal(HEAD "\"tasks\": [" TASK(
                   "\"state\": \"running\", \"pid\": 0") "]}"),
               "tasks[0].pid: no pid for a task with a process");
    EXPECT_STR(refusal(HEAD "\"tasks\": [" TASK(
                   "\"state\": \"stopped\", \"pid\": 42") "]}"),
               "tasks[0].pid: a pid for a task without a process");
    EXPECT_STR(refusal(HEAD "\"tasks\": [" TASK(
                   "\"state\": \"zombie\", \"pid\": 42") "]}"),
               "tasks[0].state: unknown state");
    EXPECT_STR(refusal(HEAD "\"tasks\": [" TASK(
                   "\"state\": \"running\", \"pid\": -1") "]}"),
               "tasks[0].pid: out of bounds");
    EXPECT_STR(
        refusal(HEAD
                "\"tasks\": [" TASK("\"state\": \"new\", \"pid\": 0") "," TASK(
                    "\"state\": \"new\", \"pid\": 0") "]}"),
        "tasks[1].id: given twice");
    EXPECT_STR(refusal("{\"format\": 1, \"agent\": \"a\", \"agent\": \"b\"}"),
               "bad JSON at line 1, column 35: duplicate object key near "
               "'\"agent\"'");
}

TEST(store_refuses_bad_ids_and_specs)
{
    EXPECT_STR(refusal(HEAD "\"tasks\": [{\"id\": \"../etc\", \"job\": \"x\", "
                            "\"site\": \"\"}]}"),
               "tasks[0].id: not a task id");
    EXPECT_TRUE(
        strncmp(refusal(HEAD "\"tasks\": [{\"id\": \"web.0\", \"job\": "
                             "\"web\", \"site\": \"\", \"job_version\": "
                             "1, \"started_ms\": 0, \"restarts\": 0, "
                             "\"log_start\": 0, \"next_version\": 0, "
                             "\"start_time\": 0, \"exit_code\": null, "
                             "\"exit_signal\": 0, \"message\": \"\", "
                             "\"recent_restarts\": [], \"after\": "
                             "\"nothing\", \"next_spec\": null, "
                             "\"state\": \"new\", \"pid\": 0, \"spec\": "
                             "{\"id\": \"web\"}}]}"),
                "tasks[0].spec: command", 22) == 0);
}

TEST(store_saves_and_loads_agent_json)
{
    char *text = NULL, path[512];
    size_t len = 0;

    mkdir(dir, 0700);
    EXPECT_EQ(agent_store_load(dir, &text, &len, err, sizeof(err)), 0);
    EXPECT_EQ(agent_store_save(dir, "{\"x\": 1}", 8, err, sizeof(err)), 0);
    snprintf(path, sizeof(path), "%s/agent.json", dir);
    EXPECT_TRUE(access(path, F_OK) == 0);
    EXPECT_EQ(agent_store_load(dir, &text, &len, err, sizeof(err)), 1);
    EXPECT_EQ(len, 8);
    EXPECT_STR(text, "{\"x\": 1}");
    free(text);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/varde-test-agent-store-%d", (int)getpid());
    RUN(store_round_trips_every_field);
    RUN(store_refuses_damage_with_the_field_named);
    RUN(store_refuses_bad_ids_and_specs);
    RUN(store_saves_and_loads_agent_json);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    DONE();
}
