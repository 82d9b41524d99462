/* test_controller_site.c - the site's agents and what it makes of their
 * word: registers (checked, refused on a name clash), heartbeats, the TTL,
 * the registry's JSON form, task views mapped to the cluster's states, and
 * reports made only on a change (ctl_agents.h, ctl_site.h). */
#include "controller/ctl_agents.h"
#include "controller/ctl_jobs.h"
#include "controller/ctl_outbox.h"
#include "controller/ctl_place.h"
#include "controller/ctl_rows.h"
#include "controller/ctl_site.h"
#include "controller/ctl_state.h"

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#define TTL 5000

static struct ctl_agents ag;
static struct ctl_assign as;
static struct ctl_jobs jobs;
static struct ctl_rows rows;
static struct ctl_outbox ob;
static json_t *notes, *reported;
static uint64_t now;
static char err[512];
static int status;

static void reset(void)
{
    ctl_agents_free(&ag);
    ctl_assign_free(&as);
    ctl_jobs_free(&jobs);
    ctl_rows_free(&rows);
    ctl_outbox_free(&ob);
    json_decref(notes);
    json_decref(reported);
    ctl_agents_init(&ag);
    ctl_assign_init(&as);
    ctl_rows_init(&rows);
    ctl_outbox_init(&ob);
    notes = json_object();
    reported = json_object();
    now = 1000;
}

static int reg(const char *name, const char *body)
{
    struct ctl_agent_reg r;
    struct ctl_agent_reg_outcome o;
    int rc = ctl_agent_reg_parse(body, strlen(body), &r, err, sizeof(err));

    status = 400;
    if (rc == 0) {
        rc = ctl_agents_register(&ag, name, &r, now, TTL, &o, &status, err,
                                 sizeof(err));
    }
    ctl_agent_reg_free(&r);
    return rc;
}

static int agent(const char *name, const char *listen)
{
    char body[256];

    snprintf(body, sizeof(body),
             "{\"cpu\": 4, \"memory_mb\": 8192, \"listen\": \"%s\", "
             "\"boot_id\": \"b1\", \"started_ms\": 5}",
             listen);
    return reg(name, body);
}

static int heartbeat(const char *name, const char *tasks)
{
    char body[2048];
    struct ctl_agent_hb hb;
    bool back;
    int rc;

    snprintf(body, sizeof(body), "{\"tasks\": %s}", tasks);
    rc = ctl_agent_hb_parse(body, strlen(body), &hb, err, sizeof(err));
    if (rc == 0) {
        ctl_agent_heartbeat(ctl_agents_find(&ag, name), &hb, now, &back);
    }
    ctl_agent_hb_free(&hb);
    return rc;
}

/* The site's assignments: TASKS, one job "web" (or system job "sys"). */
static void assign(const char *tasks)
{
    char text[4096];

    snprintf(text, sizeof(text),
             "{\"site\": \"oslo-1\", \"index\": 20, \"tasks\": %s, \"jobs\": "
             "{\"web\": {\"id\": \"web\", \"type\": \"service\"},"
             " \"sys\": {\"id\": \"sys\", \"type\": \"system\"}}}",
             tasks);
    ctl_jobs_free(&jobs);
    ctl_assign_free(&as);
    if (ctl_assign_parse(text, strlen(text), "oslo-1", &as, err, sizeof(err)) <
        0) {
        fprintf(stderr, "assign: %s\n", err);
    }
    ctl_jobs_read(as.jobs, &jobs);
}

/* Place, as the controller does, keeping the table and notes. */
static void place(void)
{
    struct ctl_place_out out;

    ctl_place(&as, &jobs, &ag, &rows, &out);
    ctl_rows_free(&rows);
    rows = out.rows;
    memset(&out.rows, 0, sizeof(out.rows));
    json_decref(notes);
    notes = out.notes;
    out.notes = NULL;
    ctl_place_out_free(&out);
}

static struct ctl_view view(const char *id)
{
    struct ctl_site s = {&as, &jobs, &rows, &ag, notes};
    struct ctl_view v;

    ctl_site_view(&s, ctl_assign_find(&as, id), &v);
    return v;
}

/* The report the view of ID makes, as compact JSON ("" for none). */
static const char *report(const char *id)
{
    static char buf[512];
    struct ctl_view v = view(id);
    json_t *r = ctl_view_report(id, &v);
    char *text = r ? json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS) : NULL;

    snprintf(buf, sizeof(buf), "%s", text ? text : "");
    free(text);
    json_decref(r);
    return buf;
}

static struct ctl_site_changes report_all(void)
{
    struct ctl_site s = {&as, &jobs, &rows, &ag, notes};
    struct ctl_site_changes ch;

    ctl_site_report(&s, reported, &ob, &ch);
    return ch;
}

/* ------------------------------------------------------------------------
 * Registers and heartbeats.
 */

TEST(register_checks_every_field)
{
    static const struct {
        const char *body, *want;
    } bad[] = {
        {"[]", "expected a JSON object"},
        {"{\"cpu\": 4, \"memory_mb\": 1}", "listen: expected \"HOST:PORT\""},
        {"{\"listen\": \"a.b:1\", \"cpu\": 4, \"memory_mb\": 1}", "listen: "},
        {"{\"listen\": \"127.0.0.1:1\", \"cpu\": -1, \"memory_mb\": 1}",
         "cpu: expected cores, 0..65536"},
        {"{\"listen\": \"127.0.0.1:1\", \"cpu\": 1, \"memory_mb\": 1.5}",
         "memory_mb: expected an integer"},
        {"{\"listen\": \"127.0.0.1:1\", \"cpu\": 1, \"memory_mb\": 1, "
         "\"labels\": {\"a b\": \"x\"}}",
         "labels: \"a b\": expected NAME: VALUE"},
        {"{\"listen\": \"127.0.0.1:1\", \"cpu\": 1, \"memory_mb\": 1, "
         "\"labels\": {\"a\": 1}}",
         "labels: \"a\""},
        {"{\"listen\": \"127.0.0.1:1\", \"cpu\": 1, \"memory_mb\": 1, "
         "\"boot_id\": 7}",
         "boot_id: expected a string"},
        {"{\"listen\": \"127.0.0.1:1\", \"cpu\": 1, \"memory_mb\": 1, "
         "\"started_ms\": -1}",
         "started_ms: expected an integer"},
        {"{\"listen\": \"127.0.0.1:1\", \"listen\": \"127.0.0.1:2\", "
         "\"cpu\": 1, \"memory_mb\": 1}",
         "invalid JSON"},
    };

    reset();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_EQ(reg("a", bad[i].body), -1);
        if (strstr(err, bad[i].want) == NULL) {
            HARNESS_FAIL("case %zu: \"%s\" does not say \"%s\"", i, err,
                         bad[i].want);
            return;
        }
    }
    EXPECT_EQ(ag.n, 0);
    /* Unknown fields are ignored; cores are taken to the thousandth. */
    EXPECT_EQ(reg("a", "{\"listen\": \"127.0.0.1:1\", \"cpu\": 2.5005, "
                       "\"memory_mb\": 100, \"new\": [1], \"labels\": "
                       "{\"zone\": \"n\", \"gpu\": \"yes\"}}"),
              0);
    EXPECT_EQ(ag.v[0]->cpu_milli, 2500);
    EXPECT_STR(ag.v[0]->labels[0].key, "gpu"); /* sorted */
}

TEST(a_name_alive_elsewhere_is_refused_until_its_ttl_passes)
{
    reset();
    EXPECT_EQ(agent("oslo-1-a", "127.0.0.1:7301"), 0);
    EXPECT_EQ(agent("oslo-1-a", "127.0.0.1:7302"), -1);
    EXPECT_EQ(status, 409);
    EXPECT_STR(err, "agent name oslo-1-a is taken by 127.0.0.1:7301");
    /* The same address: the agent itself, registering again. */
    EXPECT_EQ(agent("oslo-1-a", "127.0.0.1:7301"), 0);
    now += TTL;
    EXPECT_EQ(agent("oslo-1-a", "127.0.0.1:7302"), -1);
    now += 1; /* silent past its TTL: the name is free */
    EXPECT_EQ(agent("oslo-1-a", "127.0.0.1:7302"), 0);
    EXPECT_STR(ag.v[0]->addr.text, "127.0.0.1:7302");
    EXPECT_EQ(ag.n, 1);
}

TEST(register_says_what_changed)
{
    struct ctl_agent_reg r;
    struct ctl_agent_reg_outcome o;
    const char *body = "{\"listen\": \"127.0.0.1:1\", \"cpu\": 1, "
                       "\"memory_mb\": 1, \"boot_id\": \"x\"}";
    const char *rebooted = "{\"listen\": \"127.0.0.1:1\", \"cpu\": 1, "
                           "\"memory_mb\": 1, \"boot_id\": \"y\"}";
    size_t down[1];

    reset();
    ctl_agent_reg_parse(body, strlen(body), &r, err, sizeof(err));
    ctl_agents_register(&ag, "a", &r, now, TTL, &o, &status, err, sizeof(err));
    ctl_agent_reg_free(&r);
    EXPECT_TRUE(o.added && o.changed && !o.back && !o.restarted);
    EXPECT_TRUE(ag.v[0]->up && !ag.v[0]->synced);
    now += TTL + 1;
    EXPECT_EQ(ctl_agents_expire(&ag, now, TTL, down), 1);
    EXPECT_TRUE(!ag.v[0]->up);
    ctl_agent_reg_parse(rebooted, strlen(rebooted), &r, err, sizeof(err));
    ctl_agents_register(&ag, "a", &r, now, TTL, &o, &status, err, sizeof(err));
    ctl_agent_reg_free(&r);
    EXPECT_TRUE(!o.added && o.back && o.restarted && !o.changed);
}

TEST(a_full_registry_refuses_new_names)
{
    char name[16];

    reset();
    for (int i = 0; i < CTL_AGENTS_MAX; i++) {
        snprintf(name, sizeof(name), "a%d", i);
        EXPECT_EQ(agent(name, "127.0.0.1:7301"), 0);
    }
    EXPECT_EQ(agent("one-more", "127.0.0.1:7301"), -1);
    EXPECT_EQ(status, 503);
    EXPECT_EQ(agent("a7", "127.0.0.1:7301"), 0); /* known names still can */
    /* An operator forgets one: room for a new name. */
    EXPECT_EQ(ctl_agents_remove(&ag, "a7"), 0);
    EXPECT_EQ(ctl_agents_remove(&ag, "a7"), -1);
    EXPECT_TRUE(ctl_agents_find(&ag, "a7") == NULL);
    EXPECT_TRUE(ctl_agents_find(&ag, "a70") != NULL);
    EXPECT_EQ(agent("one-more", "127.0.0.1:7301"), 0);
    EXPECT_EQ(ag.n, CTL_AGENTS_MAX);
}

TEST(heartbeats_are_checked_and_report_what_changed)
{
    struct ctl_agent *g;
    struct ctl_agent_hb hb;
    bool back;
    const char *same = "{\"tasks\": [{\"id\": \"web.0\", \"state\": "
                       "\"running\", \"pid\": 4, \"restarts\": 1}]}";

    reset();
    agent("a", "127.0.0.1:7301");
    g = ag.v[0];
    EXPECT_EQ(heartbeat("a", "[{\"id\": \"web.0\", \"state\": \"asleep\"}]"),
              -1);
    EXPECT_TRUE(strstr(err, "tasks[0].state: expected starting") != NULL);
    EXPECT_EQ(heartbeat("a", "[{\"id\": \"web.0\", \"state\": \"running\"},"
                             " {\"id\": \"web.0\", \"state\": \"failed\"}]"),
              -1);
    EXPECT_STR(err, "tasks: task web.0 is listed twice");
    EXPECT_EQ(heartbeat("a", "[{\"id\": \"web.0\", \"state\": \"running\", "
                             "\"pid\": \"4\"}]"),
              -1);
    EXPECT_EQ(heartbeat("a", "[{\"id\": \"Web\", \"state\": \"running\"}]"),
              -1);
    EXPECT_EQ(heartbeat("a", "{}"), -1);
    EXPECT_TRUE(!g->synced);
    /* The first good one syncs it; the same again changes nothing. */
    ctl_agent_hb_parse(same, strlen(same), &hb, err, sizeof(err));
    EXPECT_TRUE(ctl_agent_heartbeat(g, &hb, now, &back));
    ctl_agent_hb_free(&hb);
    EXPECT_TRUE(g->synced && !back);
    ctl_agent_hb_parse(same, strlen(same), &hb, err, sizeof(err));
    EXPECT_TRUE(!ctl_agent_heartbeat(g, &hb, now, &back));
    ctl_agent_hb_free(&hb);
    EXPECT_EQ(g->n_tasks, 1);
    EXPECT_EQ(g->tasks[0].pid, 4);
    EXPECT_EQ(g->tasks[0].restarts, 1);
    /* A long message is cut, and what is not printable replaced. */
    EXPECT_EQ(heartbeat("a", "[{\"id\": \"web.0\", \"state\": \"failed\", "
                             "\"message\": \"bad\\u00e9\\nline\"}]"),
              0);
    EXPECT_STR(g->tasks[0].message, "bad???line"); /* 2 bytes of UTF-8 */
}

TEST(the_registry_round_trips_through_its_json)
{
    struct ctl_agents back;
    json_t *doc, *bad;

    reset();
    agent("b", "127.0.0.1:7302");
    reg("a", "{\"listen\": \"127.0.0.1:7301\", \"cpu\": 0.5, \"memory_mb\": "
             "512, \"labels\": {\"gpu\": \"yes\"}, \"boot_id\": \"q\", "
             "\"started_ms\": 99}");
    ag.v[0]->index = 7;
    ag.index = 9;
    doc = ctl_agents_to_json(&ag);
    EXPECT_EQ(ctl_agents_from_json(&back, doc, 9, 50, err, sizeof(err)), 0);
    EXPECT_EQ(back.n, 2);
    EXPECT_STR(back.v[0]->name, "a");
    EXPECT_EQ(back.v[0]->cpu_milli, 500);
    EXPECT_EQ(back.v[0]->index, 7);
    EXPECT_EQ(back.v[0]->started_ms, 99);
    EXPECT_STR(back.v[0]->labels[0].value, "yes");
    EXPECT_STR(back.v[1]->addr.text, "127.0.0.1:7302");
    /* Loaded agents are up, not synced, heard "now": they get a TTL. */
    EXPECT_TRUE(back.v[0]->up && !back.v[0]->synced && !back.v[0]->heard);
    EXPECT_EQ(back.v[0]->last_ms, 50);
    ctl_agents_free(&back);
    /* An index above the registry's own is damage. */
    EXPECT_EQ(ctl_agents_from_json(&back, doc, 6, 50, err, sizeof(err)), -1);
    EXPECT_STR(err, "agents[0] (a): index: expected an integer 0..6");
    ctl_agents_free(&back);
    bad = json_pack("[{s:s},{s:s}]", "name", "a", "name", "a");
    EXPECT_EQ(ctl_agents_from_json(&back, bad, 9, 50, err, sizeof(err)), -1);
    ctl_agents_free(&back);
    json_decref(bad);
    json_decref(doc);
}

/* ------------------------------------------------------------------------
 * Views and reports.
 */

TEST(agent_states_map_to_the_clusters)
{
    static const struct {
        const char *hb, *view, *report;
    } cases[] = {
        {"[]", "assigned",
         "{\"agent\":\"a\",\"id\":\"web.0\",\"state\":\"assigned\"}"},
        {"[{\"id\":\"web.0\",\"state\":\"starting\"}]", "assigned",
         "{\"agent\":\"a\",\"id\":\"web.0\",\"state\":\"assigned\"}"},
        {"[{\"id\":\"web.0\",\"state\":\"running\",\"pid\":42,"
         "\"restarts\":2}]",
         "running",
         "{\"agent\":\"a\",\"id\":\"web.0\",\"pid\":42,\"restarts\":2,"
         "\"state\":\"running\"}"},
        {"[{\"id\":\"web.0\",\"state\":\"restarting\",\"pid\":42,"
         "\"restarts\":3}]",
         "running",
         "{\"agent\":\"a\",\"id\":\"web.0\",\"restarts\":3,\"state\":"
         "\"running\"}"},
        {"[{\"id\":\"web.0\",\"state\":\"complete\",\"exit_code\":0}]",
         "complete",
         "{\"agent\":\"a\",\"exit_code\":0,\"id\":\"web.0\",\"restarts\":0,"
         "\"state\":\"complete\"}"},
        {"[{\"id\":\"web.0\",\"state\":\"failed\",\"exit_code\":3,"
         "\"message\":\"exit 3\"}]",
         "failed",
         "{\"agent\":\"a\",\"exit_code\":3,\"id\":\"web.0\",\"message\":"
         "\"exit 3\",\"restarts\":0,\"state\":\"failed\"}"},
        {"[{\"id\":\"web.0\",\"state\":\"failed\",\"exit_code\":5000}]",
         "failed",
         "{\"agent\":\"a\",\"id\":\"web.0\",\"restarts\":0,\"state\":"
         "\"failed\"}"},
        {"[{\"id\":\"web.0\",\"state\":\"stopped\"}]", "assigned",
         "{\"agent\":\"a\",\"id\":\"web.0\",\"state\":\"assigned\"}"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        reset();
        agent("a", "127.0.0.1:7301");
        assign("["
               "{\"id\": \"web.0\", \"job\": \"web\", \"index\": 0, "
               "\"job_version\": 1, \"state\": \"placed\", \"stop\": false}]");
        place();
        EXPECT_STR(report("web.0"), ""); /* not heard yet */
        EXPECT_EQ(heartbeat("a", cases[i].hb), 0);
        EXPECT_STR(view("web.0").state, cases[i].view);
        EXPECT_STR(report("web.0"), cases[i].report);
    }
}

TEST(reports_go_out_only_when_a_view_changes)
{
    struct ctl_site_changes ch;
    const char *running = "[{\"id\":\"web.0\",\"state\":\"running\","
                          "\"pid\":42}]";

    reset();
    agent("a", "127.0.0.1:7301");
    agent("b", "127.0.0.1:7302");
    assign("[{\"id\": \"web.0\", \"job\": \"web\", \"index\": 0, "
           "\"job_version\": 1, \"state\": \"placed\", \"stop\": false}]");
    place();
    EXPECT_EQ(report_all().reported, 0); /* a not heard yet */
    heartbeat("a", running);
    heartbeat("b", "[]");
    EXPECT_EQ(report_all().reported, 1);
    /* Applied and dropped from the outbox: no report again. */
    json_object_clear(ob.pending);
    EXPECT_EQ(report_all().reported, 0);
    EXPECT_EQ(ctl_outbox_pending_count(&ob), 0);
    /* a goes down: web.0 moves to b, reported assigned there. */
    now += TTL;
    heartbeat("b", "[]");
    now += 1;
    {
        size_t down[2];

        EXPECT_EQ(ctl_agents_expire(&ag, now, TTL, down), 1);
    }
    place();
    ch = report_all();
    EXPECT_EQ(ch.reported, 1);
    EXPECT_STR(report("web.0"),
               "{\"agent\":\"b\",\"id\":\"web.0\",\"state\":\"assigned\"}");
    heartbeat("b", "[{\"id\":\"web.0\",\"state\":\"running\",\"pid\":7}]");
    EXPECT_EQ(report_all().reported, 1);
    EXPECT_STR(view("web.0").agent, "b");
    EXPECT_EQ(view("web.0").pid, 7);
}

TEST(a_task_no_agent_takes_is_placed_and_reported_with_its_note)
{
    reset();
    reg("a", "{\"listen\": \"127.0.0.1:7301\", \"cpu\": 0.05, "
             "\"memory_mb\": 8192}");
    heartbeat("a", "[]");
    assign("[{\"id\": \"web.0\", \"job\": \"web\", \"index\": 0, "
           "\"job_version\": 1, \"state\": \"placed\", \"stop\": false}]");
    place();
    EXPECT_STR(view("web.0").state, "placed");
    EXPECT_TRUE(strstr(view("web.0").message,
                       "no agent has room for 0.100 cores") != NULL);
    EXPECT_STR(report("web.0"),
               "{\"agent\":null,\"id\":\"web.0\",\"message\":\"no agent "
               "has room for 0.100 cores and 64 MiB (the most free: a, with "
               "0.050 cores and 8192 MiB)\",\"pid\":null,\"state\":"
               "\"placed\"}");
    EXPECT_EQ(report_all().reported, 1);
    EXPECT_EQ(report_all().reported, 0); /* once, not on every pass */
}

TEST(a_stop_is_reported_once_its_agent_stopped_it)
{
    reset();
    agent("a", "127.0.0.1:7301");
    heartbeat("a", "[{\"id\":\"web.0\",\"state\":\"running\",\"pid\":4}]");
    assign("[{\"id\": \"web.0\", \"job\": \"web\", \"index\": 0, "
           "\"job_version\": 1, \"state\": \"running\", \"stop\": false}]");
    place();
    assign("[{\"id\": \"web.0\", \"job\": \"web\", \"index\": 0, "
           "\"job_version\": 1, \"state\": \"running\", \"stop\": true}]");
    place();
    EXPECT_STR(report("web.0"), ""); /* it still runs */
    heartbeat("a", "[{\"id\":\"web.0\",\"state\":\"stopped\"}]");
    EXPECT_STR(report("web.0"), "{\"id\":\"web.0\",\"state\":\"stopped\"}");
    /* Or once it no longer lists it, after it fetched its latest list. */
    heartbeat("a", "[]");
    ag.v[0]->index = 3;
    ag.v[0]->seen_index = 2;
    EXPECT_STR(report("web.0"), "");
    ag.v[0]->seen_index = 3;
    EXPECT_STR(report("web.0"), "{\"id\":\"web.0\",\"state\":\"stopped\"}");
    /* An agent that is down stops it when it is back: reported now. */
    heartbeat("a", "[{\"id\":\"web.0\",\"state\":\"running\",\"pid\":4}]");
    EXPECT_STR(report("web.0"), "");
    now += TTL + 1;
    {
        size_t down[1];

        ctl_agents_expire(&ag, now, TTL, down);
    }
    EXPECT_STR(report("web.0"), "{\"id\":\"web.0\",\"state\":\"stopped\"}");
}

TEST(a_stop_nothing_runs_is_reported_at_once_and_once)
{
    struct ctl_site_changes ch;
    uint64_t seq;

    reset();
    assign("[{\"id\": \"web.0\", \"job\": \"web\", \"index\": 0, "
           "\"job_version\": 1, \"state\": \"placed\", \"stop\": true}]");
    place();
    ch = report_all();
    EXPECT_EQ(ch.reported, 1);
    /* In flight when the controller restarts: its memory of reports is
     * gone, but the outbox holds it, so nothing new is added. */
    ctl_outbox_next(&ob, &seq);
    json_object_clear(reported);
    ch = report_all();
    EXPECT_EQ(ch.reported, 0);
    EXPECT_EQ(ctl_outbox_sending_count(&ob), 1);
    EXPECT_EQ(ctl_outbox_pending_count(&ob), 0);
    /* A task gone from the assignments is forgotten. */
    assign("[]");
    report_all();
    EXPECT_EQ(json_object_size(reported), 0);
}

TEST(a_stop_the_full_outbox_refused_is_tried_again)
{
    char id[32];
    uint64_t seq;

    reset();
    for (int i = 0; i < CTL_OUTBOX_MAX_PENDING; i++) {
        json_t *r;

        snprintf(id, sizeof(id), "other.%d", i);
        r = json_pack("{s:s,s:s}", "id", id, "state", "running");
        ctl_outbox_add(&ob, r);
        json_decref(r);
    }
    assign("[{\"id\": \"web.0\", \"job\": \"web\", \"index\": 0, "
           "\"job_version\": 1, \"state\": \"placed\", \"stop\": true}]");
    place();
    EXPECT_EQ(report_all().refused, 1);
    EXPECT_EQ(json_object_size(reported), 0);
    ctl_outbox_next(&ob, &seq);
    ctl_outbox_ack(&ob, seq); /* a batch applied: room again */
    EXPECT_EQ(report_all().reported, 1);
    EXPECT_EQ(json_object_size(reported), 1);
}

TEST(a_system_task_sums_up_its_instances)
{
    reset();
    agent("a", "127.0.0.1:7301");
    agent("b", "127.0.0.1:7302");
    assign("[{\"id\": \"sys.0\", \"job\": \"sys\", \"index\": 0, "
           "\"job_version\": 1, \"state\": \"placed\", \"stop\": false}]");
    place();
    EXPECT_EQ(rows.n, 2);
    heartbeat("a", "[{\"id\":\"sys.0\",\"state\":\"running\",\"pid\":1,"
                   "\"restarts\":1}]");
    EXPECT_STR(report("sys.0"), ""); /* b not heard yet */
    heartbeat("b", "[{\"id\":\"sys.0\",\"state\":\"failed\",\"restarts\":2,"
                   "\"exit_code\":1}]");
    EXPECT_STR(report("sys.0"),
               "{\"id\":\"sys.0\",\"message\":\"a running, b failed\","
               "\"restarts\":3,\"state\":\"running\"}");
    heartbeat("a", "[{\"id\":\"sys.0\",\"state\":\"failed\"}]");
    EXPECT_STR(view("sys.0").state, "failed");
    heartbeat("a", "[{\"id\":\"sys.0\",\"state\":\"complete\"}]");
    heartbeat("b", "[{\"id\":\"sys.0\",\"state\":\"complete\"}]");
    EXPECT_STR(view("sys.0").state, "complete");
}

int main(void)
{
    RUN(register_checks_every_field);
    RUN(a_name_alive_elsewhere_is_refused_until_its_ttl_passes);
    RUN(register_says_what_changed);
    RUN(a_full_registry_refuses_new_names);
    RUN(heartbeats_are_checked_and_report_what_changed);
    RUN(the_registry_round_trips_through_its_json);
    RUN(agent_states_map_to_the_clusters);
    RUN(reports_go_out_only_when_a_view_changes);
    RUN(a_task_no_agent_takes_is_placed_and_reported_with_its_note);
    RUN(a_stop_is_reported_once_its_agent_stopped_it);
    RUN(a_stop_nothing_runs_is_reported_at_once_and_once);
    RUN(a_stop_the_full_outbox_refused_is_tried_again);
    RUN(a_system_task_sums_up_its_instances);
    reset();
    ctl_agents_free(&ag);
    ctl_assign_free(&as);
    ctl_outbox_free(&ob);
    json_decref(notes);
    json_decref(reported);
    DONE();
}
