/* test_controller_place.c - where a site's tasks run (ctl_place.h):
 * capacity, labels, spread, system jobs, a down agent's tasks moved, the
 * copy that kept running kept when its agent comes back, determinism. */
#include "controller/ctl_agents.h"
#include "controller/ctl_jobs.h"
#include "controller/ctl_place.h"
#include "controller/ctl_rows.h"
#include "controller/ctl_state.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#define TTL 5000

static struct ctl_agents ag;
static struct ctl_assign as;
static struct ctl_jobs jobs;
static struct ctl_rows rows; /* the table, carried from step to step */
static struct ctl_place_out out;
static json_t *tasks_arr, *jobs_obj;
static uint64_t now, assign_index;
static char err[512];

static void reset(void)
{
    ctl_agents_free(&ag);
    ctl_assign_free(&as);
    ctl_jobs_free(&jobs);
    ctl_rows_free(&rows);
    ctl_place_out_free(&out);
    json_decref(tasks_arr);
    json_decref(jobs_obj);
    ctl_agents_init(&ag);
    ctl_rows_init(&rows);
    ctl_assign_init(&as);
    tasks_arr = json_array();
    jobs_obj = json_object();
    now = 1000;
    assign_index = 10;
}

/* Register agent NAME: CPU cores, MEM MiB, LABELS a JSON object or NULL. */
static int agent(const char *name, double cpu, int mem, const char *labels)
{
    char body[512];
    struct ctl_agent_reg reg;
    struct ctl_agent_reg_outcome o;
    int status, rc;

    snprintf(body, sizeof(body),
             "{\"cpu\": %g, \"memory_mb\": %d, \"listen\": \"127.0.0.1:%d\","
             " \"labels\": %s, \"boot_id\": \"b-%s\"}",
             cpu, mem, 7300 + name[0], labels ? labels : "{}", name);
    rc = ctl_agent_reg_parse(body, strlen(body), &reg, err, sizeof(err));
    if (rc == 0) {
        rc = ctl_agents_register(&ag, name, &reg, now, TTL, &o, &status, err,
                                 sizeof(err));
    }
    ctl_agent_reg_free(&reg);
    return rc;
}

/* A heartbeat from NAME with TASKS, a JSON array. */
static void heartbeat(const char *name, const char *tasks)
{
    char body[2048];
    struct ctl_agent_hb hb;
    bool back;

    snprintf(body, sizeof(body), "{\"tasks\": %s}", tasks);
    if (ctl_agent_hb_parse(body, strlen(body), &hb, err, sizeof(err)) == 0) {
        ctl_agent_heartbeat(ctl_agents_find(&ag, name), &hb, now, &back);
    } else {
        fprintf(stderr, "heartbeat: %s\n", err);
    }
    ctl_agent_hb_free(&hb);
}

/* Let MS pass and mark down the agents silent past the TTL. */
static size_t pass(uint64_t ms)
{
    size_t down[CTL_AGENTS_MAX];

    now += ms;
    return ctl_agents_expire(&ag, now, TTL, down);
}

/* Add job ID of TYPE with CPU, MEM and LABELS (JSON or NULL), and COUNT
 * placed tasks. */
static void job(const char *id, const char *type, double cpu, int mem,
                const char *labels, int count)
{
    json_t *j =
        json_pack("{s:s,s:s,s:{s:f,s:i},s:i}", "id", id, "type", type,
                  "resources", "cpu", cpu, "memory_mb", mem, "version", 1);
    char tid[96];

    if (labels != NULL) {
        json_object_set_new(j, "labels", json_loads(labels, 0, NULL));
    }
    json_object_set_new(jobs_obj, id, j);
    for (int i = 0; i < count; i++) {
        snprintf(tid, sizeof(tid), "%s.%d", id, i);
        json_array_append_new(tasks_arr,
                              json_pack("{s:s,s:s,s:i,s:i,s:s,s:b}", "id", tid,
                                        "job", id, "index", i, "job_version", 1,
                                        "state", "placed", "stop", 0));
    }
}

/* Set FIELD of task ID to VALUE (stolen). */
static void task_set(const char *id, const char *field, json_t *value)
{
    size_t i;
    json_t *t;

    json_array_foreach(tasks_arr, i, t)
    {
        if (strcmp(json_string_value(json_object_get(t, "id")), id) == 0) {
            json_object_set(t, field, value);
        }
    }
    json_decref(value);
}

/* Take the tasks and jobs built so far as the site's assignments. */
static void commit(void)
{
    json_t *doc = json_pack("{s:s,s:I,s:O,s:O}", "site", "oslo-1", "index",
                            (json_int_t)++assign_index, "tasks", tasks_arr,
                            "jobs", jobs_obj);

    ctl_jobs_free(&jobs);
    ctl_assign_free(&as);
    if (ctl_assign_from_json(doc, "oslo-1", &as, err, sizeof(err)) < 0) {
        fprintf(stderr, "assignments: %s\n", err);
    }
    ctl_jobs_read(as.jobs, &jobs);
    json_decref(doc);
}

/* Run the placement; its table becomes the one the next run starts from. */
static int place(void)
{
    int rc;

    ctl_place_out_free(&out);
    rc = ctl_place(&as, &jobs, &ag, &rows, &out);
    ctl_rows_free(&rows);
    rows = out.rows;
    memset(&out.rows, 0, sizeof(out.rows));
    return rc;
}

/* The agent that runs TASK (its run row), or "-". */
static const char *where(const char *task)
{
    for (size_t r = ctl_rows_first(&rows, task);
         r < rows.n && strcmp(rows.v[r].task, task) == 0; r++) {
        if (!rows.v[r].held) {
            return rows.v[r].agent;
        }
    }
    return "-";
}

/* Rows of TASK on AGENT that are held (HELD) or run. */
static size_t rows_of(const char *task, const char *agent, bool held)
{
    size_t n = 0;

    for (size_t r = 0; r < rows.n; r++) {
        n += strcmp(rows.v[r].task, task) == 0 &&
             strcmp(rows.v[r].agent, agent) == 0 && rows.v[r].held == held;
    }
    return n;
}

static size_t events(enum ctl_place_what what)
{
    size_t n = 0;

    for (size_t i = 0; i < out.n_events; i++) {
        n += out.events[i].what == what;
    }
    return n;
}

static bool event(enum ctl_place_what what, const char *task, const char *from,
                  const char *to)
{
    for (size_t i = 0; i < out.n_events; i++) {
        const struct ctl_place_event *e = &out.events[i];

        if (e->what == what && strcmp(e->task, task) == 0 &&
            strcmp(e->from, from) == 0 && strcmp(e->to, to) == 0) {
            return true;
        }
    }
    return false;
}

static const char *note(const char *task)
{
    const char *n = json_string_value(json_object_get(out.notes, task));

    return n ? n : "";
}

/* ------------------------------------------------------------------------
 * Spread, capacity, labels.
 */

TEST(a_job_spreads_over_the_agents_fewest_of_its_tasks_first)
{
    reset();
    agent("b", 4, 8192, NULL);
    agent("a", 4, 8192, NULL);
    job("web", "service", 0.1, 32, NULL, 3);
    commit();
    EXPECT_EQ(place(), 0);
    EXPECT_STR(where("web.0"), "a");
    EXPECT_STR(where("web.1"), "b");
    EXPECT_STR(where("web.2"), "a"); /* a tie: the lowest name */
    EXPECT_EQ(events(CTL_PLACE_PLACED), 3);
    EXPECT_TRUE(event(CTL_PLACE_PLACED, "web.1", "", "b"));
    /* Placed again: nothing changes. */
    EXPECT_EQ(place(), 0);
    EXPECT_EQ(out.n_events, 0);
    EXPECT_EQ(rows.n, 3);
}

TEST(spread_prefers_the_agent_with_the_most_free_share)
{
    reset();
    agent("a", 2, 8192, NULL);
    agent("b", 8, 8192, NULL);
    job("db", "service", 1, 64, NULL, 1);
    commit();
    place();
    EXPECT_STR(where("db.0"), "a"); /* both wholly free: the lowest name */
    job("web", "service", 0.5, 64, NULL, 2);
    commit();
    place();
    /* web.0: a has half its cores free, b all: b. web.1: b has one of
     * web's tasks already, a none: a. */
    EXPECT_STR(where("web.0"), "b");
    EXPECT_STR(where("web.1"), "a");
}

TEST(capacity_is_never_overcommitted_and_the_refusal_says_why)
{
    reset();
    agent("a", 1, 1024, NULL);
    agent("b", 2, 1024, NULL);
    job("big", "service", 1.5, 64, NULL, 2);
    job("fat", "service", 0.1, 2000, NULL, 1);
    commit();
    place();
    EXPECT_STR(where("big.0"), "b");
    EXPECT_STR(where("big.1"), "-");
    EXPECT_STR(where("fat.0"), "-");
    EXPECT_TRUE(strstr(note("big.1"), "no agent has room for 1.500 cores "
                                      "and 64 MiB") != NULL);
    EXPECT_TRUE(strstr(note("fat.0"), "2000 MiB") != NULL);
    EXPECT_EQ(json_object_size(out.notes), 2);
    /* A third agent with room takes it. */
    agent("c", 2, 4096, NULL);
    place();
    EXPECT_STR(where("big.1"), "c");
    EXPECT_STR(where("fat.0"), "c");
    EXPECT_EQ(json_object_size(out.notes), 0);
}

TEST(labels_must_all_match)
{
    reset();
    agent("a", 4, 8192, "{\"gpu\": \"yes\", \"zone\": \"n\"}");
    agent("b", 4, 8192, "{\"zone\": \"n\"}");
    job("ml", "service", 0.1, 32, "{\"gpu\": \"yes\"}", 2);
    job("cam", "service", 0.1, 32, "{\"camera\": \"yes\"}", 1);
    job("any", "service", 0.1, 32, "{\"zone\": \"n\"}", 2);
    commit();
    place();
    EXPECT_STR(where("ml.0"), "a");
    EXPECT_STR(where("ml.1"), "a");
    EXPECT_STR(where("cam.0"), "-");
    EXPECT_STR(note("cam.0"), "no up agent has the job's labels (camera=yes)");
    EXPECT_STR(where("any.0"), "a");
    EXPECT_STR(where("any.1"), "b");
}

TEST(no_agent_at_all_is_said_so)
{
    reset();
    job("web", "service", 0.1, 32, NULL, 1);
    commit();
    place();
    EXPECT_STR(note("web.0"), "no agent has registered");
    agent("a", 4, 8192, NULL);
    pass(TTL + 1);
    place();
    EXPECT_STR(note("web.0"), "no other agent is up");
}

TEST(placement_is_the_same_whatever_the_order_agents_came_in)
{
    const char *names[] = {"c", "a", "d", "b"};
    char first[16][8];

    for (int round = 0; round < 2; round++) {
        reset();
        for (int i = 0; i < 4; i++) {
            const char *name = names[round ? 3 - i : i];

            agent(name, 1 + (name[0] - 'a') % 2, 4096, NULL);
        }
        job("x", "service", 0.25, 100, NULL, 8);
        job("y", "batch", 0.5, 100, NULL, 4);
        commit();
        place();
        for (int i = 0; i < 12; i++) {
            char id[8];

            snprintf(id, sizeof(id), i < 8 ? "x.%d" : "y.%d",
                     i < 8 ? i : i - 8);
            if (round == 0) {
                snprintf(first[i], sizeof(first[i]), "%s", where(id));
            } else {
                EXPECT_STR(where(id), first[i]);
            }
        }
    }
}

/* ------------------------------------------------------------------------
 * System jobs.
 */

TEST(a_system_task_runs_once_on_every_matching_agent)
{
    reset();
    agent("a", 4, 8192, "{\"arch\": \"arm64\"}");
    agent("b", 4, 8192, "{\"arch\": \"arm64\"}");
    agent("c", 4, 8192, "{\"arch\": \"x86\"}");
    job("exporter", "system", 0.1, 32, "{\"arch\": \"arm64\"}", 1);
    commit();
    place();
    EXPECT_EQ(rows_of("exporter.0", "a", false), 1);
    EXPECT_EQ(rows_of("exporter.0", "b", false), 1);
    EXPECT_EQ(rows_of("exporter.0", "c", false), 0);
    EXPECT_EQ(events(CTL_PLACE_PLACED), 2);
    /* A new matching agent gets one; one short of room is noted. */
    agent("d", 4, 8192, "{\"arch\": \"arm64\"}");
    agent("e", 0.05, 8192, "{\"arch\": \"arm64\"}");
    place();
    EXPECT_EQ(rows_of("exporter.0", "d", false), 1);
    EXPECT_EQ(rows_of("exporter.0", "e", false), 0);
    EXPECT_STR(note("exporter.0"),
               "no room for it on 1 agent with its labels (e)");
    /* An agent that loses the label loses its instance. */
    agent("a", 4, 8192, "{\"arch\": \"x86\"}");
    place();
    EXPECT_EQ(rows_of("exporter.0", "a", false), 0);
    EXPECT_TRUE(event(CTL_PLACE_RELEASED, "exporter.0", "a", ""));
    /* A down agent keeps its instance: nothing else can stand in. */
    pass(TTL - 100);
    heartbeat("a", "[]");
    heartbeat("b", "[]");
    heartbeat("c", "[]");
    heartbeat("e", "[]");
    EXPECT_EQ(pass(200), 1); /* d */
    place();
    EXPECT_EQ(rows_of("exporter.0", "d", false), 1);
    EXPECT_EQ(out.n_events, 0);
}

/* ------------------------------------------------------------------------
 * Agents that go down and come back.
 */

/* Agents a and b, web.0 on a and web.1 on b, both running. */
static void two_running(void)
{
    reset();
    agent("a", 4, 8192, NULL);
    agent("b", 4, 8192, NULL);
    job("web", "service", 0.1, 32, NULL, 2);
    commit();
    place();
    heartbeat("a", "[{\"id\": \"web.0\", \"state\": \"running\", "
                   "\"pid\": 100}]");
    heartbeat("b", "[{\"id\": \"web.1\", \"state\": \"running\", "
                   "\"pid\": 200}]");
}

TEST(a_down_agents_tasks_move_and_it_holds_them_until_heard)
{
    two_running();
    EXPECT_STR(where("web.0"), "a");
    pass(TTL);
    heartbeat("b", "[{\"id\": \"web.1\", \"state\": \"running\"}]");
    EXPECT_EQ(pass(1), 1); /* a: silent for more than the TTL */
    EXPECT_EQ(place(), 0);
    EXPECT_STR(where("web.0"), "b");
    EXPECT_TRUE(event(CTL_PLACE_MOVED, "web.0", "a", "b"));
    EXPECT_EQ(rows_of("web.0", "a", true), 1); /* still in a's list */
    /* Placed again while a is still down: nothing changes. */
    place();
    EXPECT_EQ(out.n_events, 0);
    EXPECT_EQ(rows_of("web.0", "a", true), 1);
}

TEST(an_agent_back_keeps_the_copy_that_kept_running)
{
    two_running();
    pass(TTL);
    heartbeat("b", "[{\"id\": \"web.1\", \"state\": \"running\"}]");
    pass(1);
    place();
    heartbeat("b", "[{\"id\": \"web.0\", \"state\": \"running\"},"
                   " {\"id\": \"web.1\", \"state\": \"running\"}]");
    /* a registers again: not heard yet, so nothing is decided. */
    agent("a", 4, 8192, NULL);
    place();
    EXPECT_EQ(rows_of("web.0", "a", true), 1);
    EXPECT_STR(where("web.0"), "b");
    /* Its first heartbeat says web.0 kept running: it stays there, and
     * the replacement on b is stopped (b's list no longer has it). */
    heartbeat("a", "[{\"id\": \"web.0\", \"state\": \"running\"}]");
    place();
    EXPECT_STR(where("web.0"), "a");
    EXPECT_TRUE(event(CTL_PLACE_KEPT, "web.0", "b", "a"));
    EXPECT_EQ(rows_of("web.0", "a", true), 0);
    EXPECT_EQ(rows_of("web.0", "b", false), 0);
    EXPECT_EQ(rows.n, 2);
    place();
    EXPECT_EQ(out.n_events, 0);
}

TEST(an_agent_back_without_the_task_leaves_it_where_it_moved)
{
    two_running();
    pass(TTL);
    heartbeat("b", "[{\"id\": \"web.1\", \"state\": \"running\"}]");
    pass(1);
    place();
    /* a was restarted and lost its copy (or it is still starting). */
    heartbeat("a", "[{\"id\": \"web.0\", \"state\": \"starting\"}]");
    place();
    EXPECT_STR(where("web.0"), "b");
    EXPECT_EQ(rows_of("web.0", "a", true), 0);
    EXPECT_TRUE(event(CTL_PLACE_SURPLUS, "web.0", "a", "b"));
}

TEST(a_task_no_other_agent_can_take_stays_on_its_down_agent)
{
    reset();
    agent("a", 4, 8192, NULL);
    agent("b", 0.5, 8192, NULL);
    job("web", "service", 1, 32, NULL, 1);
    commit();
    place();
    EXPECT_STR(where("web.0"), "a");
    pass(TTL);
    heartbeat("b", "[]");
    pass(1);
    place();
    EXPECT_STR(where("web.0"), "a");
    EXPECT_EQ(out.n_events, 0);
    EXPECT_TRUE(strstr(note("web.0"), "agent a is down; no agent has room "
                                      "for 1.000 cores") != NULL);
    /* Back: it just runs there again. */
    heartbeat("a", "[{\"id\": \"web.0\", \"state\": \"running\"}]");
    place();
    EXPECT_STR(where("web.0"), "a");
    EXPECT_EQ(json_object_size(out.notes), 0);
}

TEST(a_task_that_ended_on_a_down_agent_does_not_move)
{
    two_running();
    heartbeat("a", "[{\"id\": \"web.0\", \"state\": \"failed\", "
                   "\"exit_code\": 3}]");
    pass(TTL);
    heartbeat("b", "[]");
    pass(1);
    place();
    EXPECT_STR(where("web.0"), "a");
    EXPECT_EQ(out.n_events, 0);
}

TEST(stopped_and_ended_tasks)
{
    two_running();
    /* Asked to stop: its row stays, so that its agent is told. */
    task_set("web.0", "stop", json_true());
    /* Ended in the cluster: its row goes. */
    task_set("web.1", "state", json_string("complete"));
    commit();
    place();
    EXPECT_STR(where("web.0"), "a");
    EXPECT_STR(where("web.1"), "-");
    EXPECT_EQ(rows.n, 1);
    /* Removed by the cluster: gone. */
    json_array_clear(tasks_arr);
    commit();
    place();
    EXPECT_EQ(rows.n, 0);
}

TEST(a_stopped_task_keeps_its_room_until_it_is_gone)
{
    reset();
    agent("a", 1, 8192, NULL);
    job("old", "service", 1, 32, NULL, 1);
    commit();
    place();
    task_set("old.0", "stop", json_true());
    job("new", "service", 1, 32, NULL, 1);
    commit();
    place();
    EXPECT_STR(where("new.0"), "-");
    json_array_remove(tasks_arr, 0);
    commit();
    place();
    EXPECT_STR(where("new.0"), "a");
}

TEST(rows_round_trip_through_their_json)
{
    struct ctl_rows back;
    json_t *doc, *bad;

    two_running();
    pass(TTL);
    heartbeat("b", "[]");
    pass(1);
    place();
    doc = ctl_rows_to_json(&rows);
    EXPECT_EQ(ctl_rows_from_json(&back, doc, err, sizeof(err)), 0);
    EXPECT_TRUE(ctl_rows_equal(&rows, &back));
    EXPECT_EQ(back.n, 3);
    ctl_rows_free(&back);
    bad =
        json_pack("[{s:s,s:s,s:b}]", "task", "web.0", "agent", "A!", "held", 0);
    EXPECT_EQ(ctl_rows_from_json(&back, bad, err, sizeof(err)), -1);
    EXPECT_STR(err, "placements[0]: expected {\"task\", \"agent\", \"held\", "
                    "\"moved\"}");
    ctl_rows_free(&back);
    json_decref(bad);
    json_decref(doc);
}

int main(void)
{
    RUN(a_job_spreads_over_the_agents_fewest_of_its_tasks_first);
    RUN(spread_prefers_the_agent_with_the_most_free_share);
    RUN(capacity_is_never_overcommitted_and_the_refusal_says_why);
    RUN(labels_must_all_match);
    RUN(no_agent_at_all_is_said_so);
    RUN(placement_is_the_same_whatever_the_order_agents_came_in);
    RUN(a_system_task_runs_once_on_every_matching_agent);
    RUN(a_down_agents_tasks_move_and_it_holds_them_until_heard);
    RUN(an_agent_back_keeps_the_copy_that_kept_running);
    RUN(an_agent_back_without_the_task_leaves_it_where_it_moved);
    RUN(a_task_no_other_agent_can_take_stays_on_its_down_agent);
    RUN(a_task_that_ended_on_a_down_agent_does_not_move);
    RUN(stopped_and_ended_tasks);
    RUN(a_stopped_task_keeps_its_room_until_it_is_gone);
    RUN(rows_round_trip_through_their_json);
    reset();
    ctl_agents_free(&ag);
    ctl_assign_free(&as);
    json_decref(tasks_arr);
    json_decref(jobs_obj);
    DONE();
}
