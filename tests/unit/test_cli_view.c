/* test_cli_view.c - what the command line prints of the fleet, and the
 * pure helpers under `varde job` and `varde status`: tables, numbers,
 * commands, the answers of the fleet API as text (also when they are
 * garbled), the sites with their agents as a tree, the raft members with
 * their lag, address lists and paths. */
#include "harness.h"

#include "cli/api.h"
#include "cli/members.h"
#include "cli/table.h"
#include "cli/view.h"

#include <stdlib.h>

static char out[16384];

/* What PRINT(f, J, false) writes, into OUT; J is parsed from TEXT. Returns
 * PRINT's result, or -2 when TEXT is not JSON. */
static int capture(int (*print)(FILE *, json_t *, bool), const char *text)
{
    json_t *j = json_loads(text, 0, NULL);
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    int rc;

    if (j == NULL) {
        return -2;
    }
    f = open_memstream(&buf, &len);
    rc = print(f, j, false);
    fclose(f);
    snprintf(out, sizeof out, "%s", buf);
    free(buf);
    json_decref(j);
    return rc;
}

static int no_trailing_space(const char *s)
{
    for (; *s != '\0'; s++) {
        if (*s == ' ' && (s[1] == '\n' || s[1] == '\0')) {
            return 0;
        }
    }
    return 1;
}

/* ---------------------------------------------------------------------
 * numbers and words */

TEST(cpu_prints_as_few_digits_as_it_needs)
{
    char b[32];

    view_cpu(4, b, sizeof b);
    EXPECT_STR(b, "4");
    view_cpu(0.5, b, sizeof b);
    EXPECT_STR(b, "0.5");
    view_cpu(0.1, b, sizeof b);
    EXPECT_STR(b, "0.1");
    view_cpu(0.125, b, sizeof b);
    EXPECT_STR(b, "0.125");
    view_cpu(1024, b, sizeof b);
    EXPECT_STR(b, "1024");
    view_cpu(0, b, sizeof b);
    EXPECT_STR(b, "0");
    view_cpu(0.0004, b, sizeof b);
    EXPECT_STR(b, "0");
    view_cpu(-0.25, b, sizeof b);
    EXPECT_STR(b, "-0.25");
    view_cpu(3.0999999999, b, sizeof b);
    EXPECT_STR(b, "3.1");
}

TEST(ago_is_short_and_never_negative)
{
    char b[32];

    view_ago(-1, b, sizeof b);
    EXPECT_STR(b, "-");
    view_ago(0, b, sizeof b);
    EXPECT_STR(b, "0ms ago");
    view_ago(999, b, sizeof b);
    EXPECT_STR(b, "999ms ago");
    view_ago(1000, b, sizeof b);
    EXPECT_STR(b, "1.0s ago");
    view_ago(3290, b, sizeof b);
    EXPECT_STR(b, "3.2s ago");
    view_ago(59999, b, sizeof b);
    EXPECT_STR(b, "59.9s ago");
    view_ago(60000, b, sizeof b);
    EXPECT_STR(b, "1m ago");
    view_ago(7200000, b, sizeof b);
    EXPECT_STR(b, "2h ago");
    view_ago(3LL * 86400000, b, sizeof b);
    EXPECT_STR(b, "3d ago");
}

TEST(task_summary_names_nonzero_states_in_life_order)
{
    char b[128];
    json_t *c = json_pack("{si si si si}", "running", 3, "pending", 1, "failed",
                          0, "unknown", 2);

    view_task_summary(c, b, sizeof b);
    EXPECT_STR(b, "1 pending, 3 running, 2 unknown");
    json_decref(c);

    c = json_object();
    view_task_summary(c, b, sizeof b);
    EXPECT_STR(b, "none");
    json_decref(c);

    view_task_summary(NULL, b, sizeof b);
    EXPECT_STR(b, "?");
}

TEST(command_is_quoted_for_a_shell_and_cut_with_dots)
{
    char b[64];
    json_t *argv =
        json_pack("[sssss]", "/bin/sh", "-c", "echo 'hi' there", "", "a\tb");

    view_command(argv, b, sizeof b);
    EXPECT_STR(b, "/bin/sh -c 'echo '\\''hi'\\'' there' '' 'a?b'");
    json_decref(argv);

    argv = json_pack("[ss]", "/usr/bin/x",
                     "--long=aaaaaaaaaaaaaaaaaaaaaaaaa"
                     "aaaaaaaaaaaaaaaaaaaaaaaaaaa");
    view_command(argv, b, 40);
    EXPECT_EQ(strlen(b), 39);
    EXPECT_STR(b + 36, "...");
    json_decref(argv);

    view_command(NULL, b, sizeof b);
    EXPECT_STR(b, "?");
    argv = json_pack("[si]", "/bin/true", 3);
    view_command(argv, b, sizeof b);
    EXPECT_STR(b, "/bin/true ?");
    json_decref(argv);
}

/* ---------------------------------------------------------------------
 * tables */

static const struct table_col cols[] = {
    {"NAME", false}, {"N", true}, {"NOTE", false}};

static void table_to_out(struct table *t, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    *rc = table_print(f, t, "", false);
    fclose(f);
    snprintf(out, sizeof out, "%s", buf);
    free(buf);
}

TEST(table_sizes_columns_and_aligns_numbers_right)
{
    struct table t;
    int rc;

    table_init(&t, cols, 3);
    table_row(&t);
    table_set(&t, 0, "%s", "alpha");
    table_set(&t, 1, "%d", 7);
    table_set(&t, 2, "x");
    table_row(&t);
    table_set(&t, 0, "b");
    table_set(&t, 1, "%d", 1234);
    table_to_out(&t, &rc);
    table_close(&t);
    EXPECT_EQ(rc, 0);
    EXPECT_STR(out, "NAME      N  NOTE\n"
                    "alpha     7  x\n"
                    "b      1234\n");
    EXPECT_TRUE(no_trailing_space(out));
}

TEST(table_cleans_control_bytes_and_cuts_long_cells)
{
    struct table t;
    char long_text[TABLE_CELL_MAX * 2];
    int rc;

    memset(long_text, 'z', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    table_init(&t, cols, 3);
    table_row(&t);
    table_set(&t, 0, "a\033[31mb\nc");
    table_set(&t, 2, "%s", long_text);
    table_set(&t, 7, "ignored");
    table_to_out(&t, &rc);
    table_close(&t);
    EXPECT_EQ(rc, 0);
    EXPECT_TRUE(strncmp(strchr(out, '\n') + 1, "a?[31mb?c     zzz", 17) == 0);
    EXPECT_TRUE(strchr(out, '\033') == NULL);
    EXPECT_EQ(strlen(strchr(out, '\n') + 1),
              strlen("a?[31mb?c     ") + TABLE_CELL_MAX + 1);
}

TEST(table_colours_only_when_asked)
{
    struct table t;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    table_init(&t, cols, 3);
    table_row(&t);
    table_set(&t, 0, "ok");
    table_color(&t, 0, "\033[32m");
    f = open_memstream(&buf, &len);
    table_print(f, &t, "", true);
    fclose(f);
    EXPECT_TRUE(strstr(buf, "\033[32mok\033[0m\n") != NULL);
    free(buf);
    table_to_out(&t, &(int){0});
    table_close(&t);
    EXPECT_TRUE(strchr(out, '\033') == NULL);
}

TEST(table_with_too_many_columns_fails_cleanly)
{
    struct table_col many[TABLE_MAX_COLS + 1];
    struct table t;
    int rc;

    for (size_t i = 0; i < TABLE_MAX_COLS + 1; i++) {
        many[i] = (struct table_col){"C", false};
    }
    table_init(&t, many, TABLE_MAX_COLS + 1);
    EXPECT_EQ(table_row(&t), -1);
    table_set(&t, 0, "x");
    table_to_out(&t, &rc);
    table_close(&t);
    EXPECT_EQ(rc, -1);
}

TEST(table_counts_code_points_so_utf8_lines_up)
{
    struct table t;
    int rc;

    table_init(&t, cols, 3);
    table_row(&t);
    table_set(&t, 0, "\xe2\x94\x9c\xe2\x94\x80 a"); /* U+251C U+2500 */
    table_set(&t, 1, "1");
    table_set(&t, 2, "x");
    table_row(&t);
    table_set(&t, 0, "bb");
    table_set(&t, 1, "22");
    table_to_out(&t, &rc);
    table_close(&t);
    EXPECT_EQ(rc, 0);
    EXPECT_STR(out, "NAME   N  NOTE\n"
                    "\xe2\x94\x9c\xe2\x94\x80 a   1  x\n"
                    "bb    22\n");
}

TEST(table_replaces_bytes_that_are_not_clean_utf8)
{
    static const char *const cases[][2] = {
        {"caf\xc3\xa9", "caf\xc3\xa9"}, /* valid: kept */
        {"a\xc2\x9b"
         "b",
         "a??b"}, /* C1 CSI in UTF-8 */
        {"a\x9b"
         "b",
         "a?b"},                                    /* C1 CSI as one byte */
        {"\xc0\xaf", "??"},                         /* overlong '/' */
        {"\xed\xa0\x80", "???"},                    /* a surrogate */
        {"\xf4\x90\x80\x80", "????"},               /* past U+10FFFF */
        {"x\xe2\x94", "x??"},                       /* cut short */
        {"\xf0\x9f\x9a\x80!", "\xf0\x9f\x9a\x80!"}, /* 4 bytes, valid */
    };
    struct table t;
    int rc;

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        table_init(&t, cols, 1);
        table_row(&t);
        table_set(&t, 0, "%s", cases[i][0]);
        table_to_out(&t, &rc);
        table_close(&t);
        EXPECT_EQ(rc, 0);
        EXPECT_STR(strchr(out, '\n') + 1,
                   strcat(strcpy((char[32]){0}, cases[i][1]), "\n"));
    }
}

/* ---------------------------------------------------------------------
 * jobs, sites, a job */

TEST(jobs_table_counts_each_column)
{
    int rc = capture(view_jobs,
                     "[{\"id\":\"sensor-average\",\"type\":\"service\","
                     "\"version\":2,\"count\":4,\"tasks\":{\"pending\":1,"
                     "\"placed\":1,\"assigned\":2,\"running\":3,"
                     "\"complete\":4,\"failed\":5,\"lost\":6,\"unknown\":7}},"
                     "{\"id\":\"node-exporter\",\"type\":\"system\","
                     "\"version\":1,\"count\":0,\"tasks\":{}}]");

    EXPECT_EQ(rc, 0);
    EXPECT_STR(out, "ID              TYPE     VERSION  DESIRED  PENDING  "
                    "PLACED  RUNNING  DONE  FAILED  UNKNOWN\n"
                    "sensor-average  service        2        4        1  "
                    "     3        3     4      11        7\n"
                    "node-exporter   system         1        -        0  "
                    "     0        0     0       0        0\n");
    EXPECT_EQ(capture(view_jobs, "[]"), 0);
    EXPECT_STR(out, "no jobs\n");
}

TEST(jobs_short_table_sums_up_tasks)
{
    EXPECT_EQ(capture(view_jobs_short,
                      "[{\"id\":\"a\",\"type\":\"batch\",\"version\":3,"
                      "\"count\":2,\"tasks\":{\"running\":1,"
                      "\"complete\":1}},"
                      "{\"id\":\"sensor-average\",\"type\":\"service\","
                      "\"count\":4,\"tasks\":{\"pending\":1,\"placed\":1,"
                      "\"assigned\":2,\"running\":3,\"complete\":4,"
                      "\"failed\":5,\"lost\":6,\"unknown\":7}},"
                      "{\"id\":\"ne\",\"type\":\"system\",\"count\":0,"
                      "\"tasks\":{\"running\":2}},"
                      "{\"id\":\"bad\"}]"),
              0);
    EXPECT_STR(out, "JOB             TYPE     DESIRED  RUNNING  PENDING  DONE  "
                    "FAILED  UNKNOWN\n"
                    "a               batch          2        1        0     1  "
                    "     0        0\n"
                    "sensor-average  service        4        3        4     4  "
                    "    11        7\n"
                    "ne              system         -        2        0     0  "
                    "     0        0\n"
                    "bad             ?              ?        ?        ?     ?  "
                    "     ?        ?\n");
    EXPECT_TRUE(no_trailing_space(out));
    EXPECT_EQ(capture(view_jobs_short, "[]"), 0);
    EXPECT_STR(out, "no jobs\n");
}

static const char sites_text[] =
    "[{\"name\":\"oslo-1\",\"labels\":{\"region\":\"north\"},"
    "\"cpu\":4.0,\"memory_mb\":8192,\"cpu_used\":0.4,"
    "\"memory_used_mb\":256,\"status\":\"connected\","
    "\"controller\":\"127.0.0.1:7201\",\"registered_index\":12,"
    "\"tasks\":4,\"last_heartbeat_ms\":412},"
    "{\"name\":\"bergen-2\",\"status\":\"silent\",\"cpu\":2,"
    "\"cpu_used\":0,\"memory_mb\":1024,\"memory_used_mb\":0,\"tasks\":0,"
    "\"last_heartbeat_ms\":14200},"
    "{\"name\":\"trondheim\",\"status\":\"connected\",\"cpu\":1,"
    "\"cpu_used\":0,\"memory_mb\":512,\"memory_used_mb\":0,\"tasks\":0,"
    "\"last_heartbeat_ms\":null}]";

/* Agents as GET /v1/agents gives them, out of order, with an agent of a
 * site that is gone, one without a site, and one that is not an object. */
static const char agents_text[] =
    "[{\"site\":\"oslo-1\",\"name\":\"oslo-1-b\",\"status\":\"down\","
    "\"cpu\":2,\"cpu_free\":2,\"memory_mb\":4096,\"memory_free_mb\":4096,"
    "\"tasks\":0,\"last_heartbeat_ms\":9000},"
    "{\"site\":\"bergen-2\",\"name\":\"bergen-2-a\",\"status\":\"up\","
    "\"cpu\":2,\"cpu_free\":2,\"memory_mb\":1024,\"memory_free_mb\":1024,"
    "\"tasks\":0,\"last_heartbeat_ms\":100},"
    "{\"site\":\"oslo-1\",\"name\":\"oslo-1-a\",\"status\":\"up\","
    "\"cpu\":2,\"cpu_free\":1.6,\"memory_mb\":4096,"
    "\"memory_free_mb\":3840,\"tasks\":4,\"last_heartbeat_ms\":88},"
    "{\"site\":\"gone\",\"name\":\"g\"}, {\"name\":\"nowhere\"}, 7]";

/* view_sites of SITES with AGENTS nested (when not NULL) into OUT. */
static int capture_tree(const char *sites, const char *agents, bool utf8)
{
    json_t *s = json_loads(sites, 0, NULL);
    json_t *a = agents != NULL ? json_loads(agents, 0, NULL) : NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    int rc = -2;

    if (s != NULL && (agents == NULL || view_nest_agents(s, a) == 0)) {
        f = open_memstream(&buf, &len);
        rc = view_sites(f, s, false, utf8);
        fclose(f);
        snprintf(out, sizeof out, "%s", buf);
        free(buf);
    }
    json_decref(s);
    json_decref(a);
    return rc;
}

static int view_sites_ascii(FILE *f, json_t *sites, bool color)
{
    return view_sites(f, sites, color, false);
}

TEST(sites_tree_shows_free_capacity_and_agents_under_their_site)
{
    EXPECT_EQ(capture_tree(sites_text, agents_text, false), 0);
    EXPECT_STR(out,
               "SITE / AGENT   STATUS     TASKS  CPU FREE  MEMORY FREE    "
               "LAST HEARTBEAT\n"
               "oslo-1         connected      4  3.6/4     7936/8192 MiB  "
               "412ms ago\n"
               "|- oslo-1-a    up             4  1.6/2     3840/4096 MiB  "
               "500ms ago\n"
               "`- oslo-1-b    down           0  2/2       4096/4096 MiB  "
               "9.4s ago\n"
               "bergen-2       silent         0  2/2       1024/1024 MiB  "
               "14.2s ago\n"
               "`- bergen-2-a  was up         0  2/2       1024/1024 MiB  "
               "14.3s ago\n"
               "trondheim      connected      0  1/1       512/512 MiB    -\n");
    EXPECT_TRUE(no_trailing_space(out));
    EXPECT_EQ(capture(view_sites_ascii, "[]"), 0);
    EXPECT_STR(out, "no sites registered\n");
}

TEST(sites_tree_in_utf8_lines_up_as_in_ascii)
{
    char ascii[sizeof out];
    char *p;

    EXPECT_EQ(capture_tree(sites_text, agents_text, false), 0);
    snprintf(ascii, sizeof ascii, "%s", out);
    EXPECT_EQ(capture_tree(sites_text, agents_text, true), 0);
    EXPECT_TRUE(strstr(out, "\n\xe2\x94\x9c\xe2\x94\x80 oslo-1-a    up ") !=
                NULL);
    EXPECT_TRUE(strstr(out, "\n\xe2\x94\x94\xe2\x94\x80 oslo-1-b    down ") !=
                NULL);
    /* each glyph in place of its ASCII stand-in gives the ASCII tree */
    while ((p = strstr(out, "\xe2\x94\x9c\xe2\x94\x80")) != NULL ||
           (p = strstr(out, "\xe2\x94\x94\xe2\x94\x80")) != NULL) {
        p[0] = p[2] == '\x9c' ? '|' : '`';
        p[1] = '-';
        memmove(p + 2, p + 6, strlen(p + 6) + 1);
    }
    EXPECT_STR(out, ascii);
}

TEST(nesting_agents_sorts_them_and_leaves_out_strays)
{
    json_t *sites = json_loads(sites_text, 0, NULL);
    json_t *agents = json_loads(agents_text, 0, NULL);
    json_t *oslo, *trondheim;

    EXPECT_EQ(view_nest_agents(sites, agents), 0);
    oslo = json_object_get(json_array_get(sites, 0), "agents");
    trondheim = json_object_get(json_array_get(sites, 2), "agents");
    EXPECT_EQ(json_array_size(oslo), 2);
    EXPECT_STR(
        json_string_value(json_object_get(json_array_get(oslo, 0), "name")),
        "oslo-1-a");
    EXPECT_TRUE(json_is_array(trondheim));
    EXPECT_EQ(json_array_size(trondheim), 0);
    EXPECT_EQ(
        json_array_size(json_object_get(json_array_get(sites, 1), "agents")),
        1);
    /* garbled input: nothing to nest into, nothing to nest */
    EXPECT_EQ(view_nest_agents(NULL, agents), 0);
    EXPECT_EQ(view_nest_agents(sites, NULL), 0);
    EXPECT_EQ(
        json_array_size(json_object_get(json_array_get(sites, 0), "agents")),
        0);
    json_decref(sites);
    json_decref(agents);
}

TEST(a_site_without_agents_prints_alone)
{
    EXPECT_EQ(capture_tree("[{\"name\":\"a\",\"status\":\"lost\","
                           "\"agents\":[]},{\"name\":\"b\"}]",
                           NULL, false),
              0);
    EXPECT_STR(out, "SITE / AGENT  STATUS  TASKS  CPU FREE  MEMORY FREE  "
                    "LAST HEARTBEAT\n"
                    "a             lost        ?  ?/?       ?/? MiB      -\n"
                    "b             ?           ?  ?/?       ?/? MiB      -\n");
}

static const char job_answer[] =
    "{\"index\":5,\"job\":{\"command\":[\"/usr/bin/python3\",\"average.py\","
    "\"--window\",\"60\"],\"count\":4,\"env\":{\"SENSOR\":\"temp\"},"
    "\"id\":\"sensor-average\",\"kill_timeout\":\"5s\","
    "\"labels\":{\"camera\":\"yes\"},\"reschedule_after\":\"30s\","
    "\"resources\":{\"cpu\":0.1,\"memory_mb\":32},\"restart\":{"
    "\"attempts\":3,\"delay\":\"1s\",\"interval\":\"1m\"},"
    "\"sites\":[\"oslo-1\",\"bergen-2\"],\"type\":\"service\","
    "\"version\":2},\"tasks\":["
    "{\"id\":\"sensor-average.0\",\"index\":0,\"site\":\"oslo-1\","
    "\"agent\":\"oslo-1-a\",\"state\":\"running\",\"pid\":4242,"
    "\"restarts\":1,\"stop\":false,\"exit_code\":null},"
    "{\"id\":\"sensor-average.1\",\"index\":1,\"site\":null,\"agent\":null,"
    "\"state\":\"pending\",\"pid\":null,\"restarts\":0,\"stop\":false},"
    "{\"id\":\"sensor-average.2\",\"index\":2,\"site\":\"oslo-1\","
    "\"agent\":null,\"state\":\"failed\",\"pid\":null,\"restarts\":3,"
    "\"stop\":false,\"exit_code\":2},"
    "{\"id\":\"sensor-average.3\",\"index\":3,\"site\":\"bergen-2\","
    "\"agent\":\"b\",\"state\":\"running\",\"pid\":7,\"restarts\":0,"
    "\"stop\":true}],"
    "\"notes\":[{\"index\":1,\"site\":null,\"why\":\"no room\"},"
    "{\"index\":4,\"site\":null,\"why\":\"no room\"},"
    "{\"index\":5,\"site\":null,\"why\":\"no room\"},"
    "{\"index\":6,\"site\":null,\"why\":\"no room\"},"
    "{\"index\":7,\"why\":\"no site connected\"}]}";

TEST(job_shows_spec_tasks_and_grouped_notes)
{
    EXPECT_EQ(capture(view_job, job_answer), 0);
    EXPECT_STR(out,
               "job sensor-average: service, version 2\n"
               "  command      /usr/bin/python3 average.py --window 60\n"
               "  count        4\n"
               "  resources    0.1 cores, 32 MiB per task\n"
               "  sites        oslo-1, bergen-2\n"
               "  labels       camera=yes\n"
               "  env          SENSOR=temp\n"
               "  restart      at most 3 times in 1m, 1s apart\n"
               "  when silent  move tasks after 30s\n"
               "  stop         SIGTERM, then SIGKILL after 5s\n"
               "\n"
               "TASK              SITE      AGENT     STATE               PID  "
               "RESTARTS\n"
               "sensor-average.0  oslo-1    oslo-1-a  running            4242  "
               "       1\n"
               "sensor-average.1  -         -         pending               -  "
               "       0\n"
               "sensor-average.2  oslo-1    -         failed, exit 2        -  "
               "       3\n"
               "sensor-average.3  bergen-2  b         running, stopping     7  "
               "       0\n"
               "\n"
               "why tasks are pending:\n"
               "  sensor-average.1, sensor-average.4, sensor-average.5 and 1 "
               "more: no room\n"
               "  sensor-average.7: no site connected\n");
}

TEST(system_job_notes_name_sites)
{
    EXPECT_EQ(capture(view_job,
                      "{\"job\":{\"id\":\"ne\",\"type\":\"system\","
                      "\"command\":[\"/x\"],\"resources\":{\"cpu\":0.05,"
                      "\"memory_mb\":48},\"restart\":{\"attempts\":10,"
                      "\"interval\":\"10m\",\"delay\":\"5s\"},"
                      "\"kill_timeout\":\"2s\",\"version\":1},\"tasks\":[],"
                      "\"notes\":[{\"index\":0,\"site\":\"oslo-1\","
                      "\"why\":\"no room\"},{\"index\":0,\"site\":"
                      "\"bergen-2\",\"why\":\"no room\"}]}"),
              0);
    EXPECT_TRUE(strstr(out, "  count        one task on every matching "
                            "agent\n") != NULL);
    EXPECT_TRUE(strstr(out, "  sites        any\n") != NULL);
    EXPECT_TRUE(strstr(out, "  when silent  keep tasks where they are\n") !=
                NULL);
    EXPECT_TRUE(strstr(out, "\nno tasks\n\nwhy tasks are pending:\n"
                            "  site oslo-1: no room\n"
                            "  site bergen-2: no room\n") != NULL);
}

TEST(garbled_answers_print_question_marks_not_crashes)
{
    EXPECT_EQ(capture(view_jobs, "[3, null, {\"id\": 7, \"tasks\": []}, "
                                 "{\"id\": \"x\\u0001y\\u001b[2J\"}]"),
              0);
    EXPECT_TRUE(strstr(out, "\n?  ") != NULL);
    EXPECT_TRUE(strstr(out, "x?y?[2J") != NULL);
    EXPECT_TRUE(strchr(out, '\033') == NULL);
    EXPECT_EQ(capture(view_sites_ascii, "[{}, [], \"s\"]"), 0);
    EXPECT_EQ(capture_tree("[{\"name\": \"s\", \"status\": \"connected\", "
                           "\"agents\": [3, {\"status\": 7, \"cpu\": \"x\", "
                           "\"name\": \"\\u001b[2J\"}]}]",
                           NULL, false),
              0);
    EXPECT_TRUE(strstr(out, "\n|- ?          ?              ?  ?/?  ") != NULL);
    EXPECT_TRUE(strstr(out, "\n`- ?[2J       ?              ?  ?/?  ") != NULL);
    EXPECT_TRUE(strchr(out, '\033') == NULL);
    EXPECT_EQ(capture(view_job, "{}"), 0);
    EXPECT_TRUE(strstr(out, "job ?: ?, version ?\n") != NULL);
    EXPECT_TRUE(strstr(out, "? cores, ? MiB per task") != NULL);
    EXPECT_EQ(capture(view_job, "{\"job\": [], \"tasks\": {}, \"notes\": "
                                "[1, {\"why\": 3}]}"),
              0);
    EXPECT_TRUE(strstr(out, "  ?.?, ?.?: ?\n") != NULL);
    EXPECT_EQ(capture(view_jobs, "{}"), 0);
    EXPECT_STR(out, "no jobs\n");
}

TEST(the_longest_job_id_and_site_name_show_whole)
{
    char text[512], id[65];

    memset(id, 'j', 64);
    id[64] = '\0';
    snprintf(text, sizeof text,
             "[{\"id\":\"%s\",\"type\":\"batch\",\"version\":1,"
             "\"count\":1,\"tasks\":{}}]",
             id);
    EXPECT_EQ(capture(view_jobs, text), 0);
    EXPECT_TRUE(strstr(out, id) != NULL);
    snprintf(text, sizeof text, "[{\"name\":\"%s\"}]", id);
    EXPECT_EQ(capture(view_sites_ascii, text), 0);
    EXPECT_TRUE(strstr(out, id) != NULL);
}

TEST(many_pending_reasons_are_bounded)
{
    json_t *notes = json_array(), *a;
    char *text, *buf = NULL;
    size_t len = 0;
    FILE *f;

    for (int i = 0; i < 1000; i++) {
        char why[32];

        snprintf(why, sizeof why, "reason %d", i);
        json_array_append_new(notes,
                              json_pack("{si ss}", "index", i, "why", why));
    }
    a = json_pack("{s{ss ss} s[] so}", "job", "id", "j", "type", "service",
                  "tasks", "notes", notes);
    text = json_dumps(a, 0);
    f = open_memstream(&buf, &len);
    json_t *j = json_loads(text, 0, NULL);
    EXPECT_EQ(view_job(f, j, false), 0);
    fclose(f);
    EXPECT_TRUE(strstr(buf, "  j.31: reason 31\n") != NULL);
    EXPECT_TRUE(strstr(buf, "reason 32") == NULL);
    free(buf);
    free(text);
    json_decref(j);
    json_decref(a);
}

/* ---------------------------------------------------------------------
 * raft members */

/* Add member ID at ADDR to MS as having answered with ROLE, TERM, COMMIT
 * and LAST (its last log index; 0: the answer had none). */
static struct member *member_answered(struct members *ms, uint64_t id,
                                      const char *role, uint64_t term,
                                      uint64_t commit, uint64_t last)
{
    char addr[32];
    struct member *m;

    snprintf(addr, sizeof addr, "127.0.0.1:710%d", (int)id);
    m = members_add(ms, id, addr);
    m->answered = true;
    snprintf(m->role, sizeof m->role, "%s", role);
    m->term = term;
    m->commit_index = m->applied_index = commit;
    m->last_log_index = last;
    m->has_last_log = last != 0;
    m->leader = strcmp(role, "leader") == 0 ? id : 0;
    return m;
}

static void members_to_out(const struct members *ms)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    members_print(f, ms, false);
    fclose(f);
    snprintf(out, sizeof out, "%s", buf);
    free(buf);
}

TEST(members_show_each_followers_lag_behind_the_leader)
{
    struct members ms = {0};
    struct member *gone;

    member_answered(&ms, 2, "leader", 5, 100, 104);
    member_answered(&ms, 1, "follower", 5, 100, 90)->leader = 2;
    member_answered(&ms, 4, "follower", 5, 104, 105)->leader = 2;
    gone = members_add(&ms, 3, "127.0.0.1:7103");
    snprintf(gone->error, sizeof gone->error,
             "cannot connect to 127.0.0.1:7103: connection refused");
    members_settle(&ms);

    EXPECT_EQ(ms.leader, 2);
    EXPECT_EQ(members_find(&ms, 1)->lag, 14);
    EXPECT_EQ(members_find(&ms, 2)->lag, 0);
    EXPECT_EQ(members_find(&ms, 3)->lag, -1);
    EXPECT_EQ(members_find(&ms, 4)->lag, 0); /* ahead: read a bit later */
    members_to_out(&ms);
    EXPECT_STR(out, "   ID  ADDRESS         ROLE         TERM  COMMIT  LAG\n"
                    "    1  127.0.0.1:7101  follower        5     100   14\n"
                    "*   2  127.0.0.1:7102  leader          5     100    -\n"
                    "    3  127.0.0.1:7103  unreachable     -       -    -\n"
                    "    4  127.0.0.1:7104  follower        5     104    0\n"
                    "  node 3: cannot connect to 127.0.0.1:7103: connection "
                    "refused\n"
                    "leader: 2 (term 5)\n");
    EXPECT_TRUE(no_trailing_space(out));
}

TEST(members_without_a_leader_or_a_log_index_show_no_lag)
{
    struct members ms = {0};

    member_answered(&ms, 1, "candidate", 7, 50, 51);
    member_answered(&ms, 2, "follower", 6, 50, 50);
    members_settle(&ms);
    EXPECT_EQ(ms.leader, 0);
    EXPECT_EQ(members_find(&ms, 1)->lag, -1);
    members_to_out(&ms);
    EXPECT_TRUE(strstr(out, "    1  127.0.0.1:7101  candidate     7      50"
                            "    -\n") != NULL);
    EXPECT_TRUE(strstr(out, "\nno leader known\n") != NULL);

    /* a leader from before last_log_index was reported */
    memset(&ms, 0, sizeof ms);
    member_answered(&ms, 1, "leader", 2, 9, 0);
    member_answered(&ms, 2, "follower", 2, 9, 9)->leader = 1;
    members_settle(&ms);
    EXPECT_EQ(ms.leader, 1);
    EXPECT_EQ(members_find(&ms, 2)->lag, -1);
}

TEST(members_json_carries_lag_and_last_log_index)
{
    struct members ms = {0};
    json_t *j, *m;

    member_answered(&ms, 1, "leader", 3, 20, 22);
    member_answered(&ms, 2, "follower", 3, 20, 19)->leader = 1;
    members_add(&ms, 3, "127.0.0.1:7103");
    snprintf(ms.m[2].error, sizeof ms.m[2].error, "no answer");
    members_settle(&ms);
    j = members_to_json(&ms);
    EXPECT_EQ(json_integer_value(json_object_get(j, "leader")), 1);
    EXPECT_EQ(json_integer_value(json_object_get(j, "term")), 3);
    m = json_object_get(j, "members");
    EXPECT_EQ(json_array_size(m), 3);
    EXPECT_EQ(json_integer_value(json_object_get(json_array_get(m, 0), "lag")),
              0);
    EXPECT_EQ(json_integer_value(json_object_get(json_array_get(m, 1), "lag")),
              3);
    EXPECT_EQ(json_integer_value(
                  json_object_get(json_array_get(m, 1), "last_log_index")),
              19);
    EXPECT_TRUE(json_object_get(json_array_get(m, 2), "lag") == NULL);
    EXPECT_STR(json_string_value(json_object_get(json_array_get(m, 2), "role")),
               "unreachable");
    json_decref(j);

    snprintf(ms.m[0].role, sizeof ms.m[0].role, "candidate");
    ms.m[0].leader = ms.m[1].leader = 0; /* nobody leads now */
    members_settle(&ms);
    j = members_to_json(&ms);
    m = json_object_get(j, "members");
    EXPECT_TRUE(json_is_null(json_object_get(json_array_get(m, 1), "lag")));
    EXPECT_TRUE(json_is_null(json_object_get(j, "leader")));
    json_decref(j);
}

/* ---------------------------------------------------------------------
 * addresses and paths */

TEST(address_lists_parse_and_name_the_bad_item)
{
    struct api_addrs a;
    char err[256];

    EXPECT_EQ(api_parse_addrs("127.0.0.1:7101", &a, err, sizeof err), 0);
    EXPECT_EQ(a.n, 1);
    EXPECT_STR(a.addr[0], "127.0.0.1:7101");
    EXPECT_EQ(api_parse_addrs(" a:1, [::1]:2 ,,b:3,", &a, err, sizeof err), 0);
    EXPECT_EQ(a.n, 3);
    EXPECT_STR(a.addr[1], "[::1]:2");
    EXPECT_STR(a.addr[2], "b:3");

    EXPECT_EQ(api_parse_addrs("a:1,nocolon", &a, err, sizeof err), -1);
    EXPECT_STR(err, "bad address 'nocolon': expected HOST:PORT");
    EXPECT_EQ(api_parse_addrs("", &a, err, sizeof err), -1);
    EXPECT_STR(err, "bad address '': empty address");
    EXPECT_EQ(api_parse_addrs(" , ", &a, err, sizeof err), -1);
    EXPECT_EQ(api_parse_addrs(NULL, &a, err, sizeof err), -1);
    EXPECT_EQ(api_parse_addrs("a:99999", &a, err, sizeof err), -1);
    EXPECT_TRUE(strstr(err, "port must be") != NULL);
}

TEST(address_lists_are_bounded)
{
    struct api_addrs a;
    char list[4096] = "", err[256];
    char host[300];

    for (int i = 0; i < API_MAX_ADDRS + 1; i++) {
        snprintf(list + strlen(list), sizeof list - strlen(list), "%sa:%d",
                 i ? "," : "", i + 1);
    }
    EXPECT_EQ(api_parse_addrs(list, &a, err, sizeof err), -1);
    EXPECT_STR(err, "too many addresses: at most 16");

    memset(host, 'h', sizeof host);
    memcpy(host + sizeof host - 3, ":1", 3);
    EXPECT_EQ(api_parse_addrs(host, &a, err, sizeof err), -1);
    EXPECT_TRUE(strstr(err, "longer than 127 bytes") != NULL);
}

TEST(paths_escape_what_a_path_cannot_carry)
{
    char *p = api_path("/v1/jobs/", "a b/c?d%", false, "?stale");

    EXPECT_STR(p, "/v1/jobs/a%20b%2Fc%3Fd%25?stale");
    free(p);
    p = api_path("/v1/kv/", "a/b.c_d-e~", true, "");
    EXPECT_STR(p, "/v1/kv/a/b.c_d-e~");
    free(p);
}

TEST(clean_replaces_control_bytes_and_cuts)
{
    char b[8];

    api_clean("a\nb\x7f"
              "cdefgh",
              100, b, sizeof b);
    EXPECT_STR(b, "a?b?cde");
    api_clean("abcdef", 3, b, sizeof b);
    EXPECT_STR(b, "abc");
}

int main(void)
{
    RUN(cpu_prints_as_few_digits_as_it_needs);
    RUN(ago_is_short_and_never_negative);
    RUN(task_summary_names_nonzero_states_in_life_order);
    RUN(command_is_quoted_for_a_shell_and_cut_with_dots);
    RUN(table_sizes_columns_and_aligns_numbers_right);
    RUN(table_cleans_control_bytes_and_cuts_long_cells);
    RUN(table_colours_only_when_asked);
    RUN(table_with_too_many_columns_fails_cleanly);
    RUN(table_counts_code_points_so_utf8_lines_up);
    RUN(table_replaces_bytes_that_are_not_clean_utf8);
    RUN(jobs_table_counts_each_column);
    RUN(jobs_short_table_sums_up_tasks);
    RUN(sites_tree_shows_free_capacity_and_agents_under_their_site);
    RUN(sites_tree_in_utf8_lines_up_as_in_ascii);
    RUN(nesting_agents_sorts_them_and_leaves_out_strays);
    RUN(a_site_without_agents_prints_alone);
    RUN(job_shows_spec_tasks_and_grouped_notes);
    RUN(system_job_notes_name_sites);
    RUN(garbled_answers_print_question_marks_not_crashes);
    RUN(the_longest_job_id_and_site_name_show_whole);
    RUN(many_pending_reasons_are_bounded);
    RUN(members_show_each_followers_lag_behind_the_leader);
    RUN(members_without_a_leader_or_a_log_index_show_no_lag);
    RUN(members_json_carries_lag_and_last_log_index);
    RUN(address_lists_parse_and_name_the_bad_item);
    RUN(address_lists_are_bounded);
    RUN(paths_escape_what_a_path_cannot_carry);
    RUN(clean_replaces_control_bytes_and_cuts);
    DONE();
}
