/* test_job.c - the job file format: values, defaults, round trips, and a
 * clear message naming the field for every kind of bad input. */
#include "harness.h"
#include "sm/job.h"

#include <stdlib.h>

#define EXPECT_CONTAINS(s, part)                                               \
    do {                                                                       \
        const char *s_ = (s), *p_ = (part);                                    \
        if (strstr(s_, p_) == NULL) {                                          \
            HARNESS_FAIL("expected \"%s\" in \"%s\"", p_, s_);                 \
            return;                                                            \
        }                                                                      \
    } while (0)

static const char design_example[] =
    "{\n"
    "  \"id\": \"sensor-average\",\n"
    "  \"type\": \"service\",\n"
    "  \"count\": 4,\n"
    "  \"command\": [\"/usr/bin/python3\", \"average.py\", \"--window\", "
    "\"60\"],\n"
    "  \"env\": {\"SENSOR\": \"temp\"},\n"
    "  \"resources\": {\"cpu\": 0.1, \"memory_mb\": 32},\n"
    "  \"sites\": [\"oslo-1\", \"bergen-2\"],\n"
    "  \"labels\": {\"camera\": \"yes\"},\n"
    "  \"restart\": {\"attempts\": 3, \"interval\": \"1m\", \"delay\": "
    "\"1s\"},\n"
    "  \"reschedule_after\": \"30s\",\n"
    "  \"kill_timeout\": \"5s\"\n"
    "}\n";

static struct job *parse_ok(const char *text)
{
    struct job *j = NULL;
    char err[256] = "";
    int rc = job_parse_json(text, strlen(text), &j, err, sizeof(err));

    if (rc != JOB_OK) {
        fprintf(stderr, "parse failed (%d): %s\n", rc, err);
        return NULL;
    }
    return j;
}

/* TEXT must be refused with RC and a message containing PART. */
static int refused(const char *text, int rc, const char *part)
{
    struct job *j = (struct job *)&j; /* must stay as it is */
    char err[256] = "";
    int got = job_parse_json(text, strlen(text), &j, err, sizeof(err));

    if (got != rc || j != (struct job *)&j || strstr(err, part) == NULL ||
        strchr(err, '\n') != NULL) {
        fprintf(stderr,
                "input %s\n  rc %d (want %d), message \"%s\" (want "
                "\"%s\")\n",
                text, got, rc, err, part);
        return 0;
    }
    return 1;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(JOB_MAX_TEXT + 1);

    *len = 0;
    if (f == NULL || buf == NULL) {
        fprintf(stderr, "cannot read %s (run from the repository's root)\n",
                path);
        if (f != NULL) {
            fclose(f);
        }
        free(buf);
        return NULL;
    }
    *len = fread(buf, 1, JOB_MAX_TEXT, f);
    buf[*len] = '\0';
    fclose(f);
    return buf;
}

TEST(design_example_parses_with_its_values)
{
    struct job *j = parse_ok(design_example);

    EXPECT_TRUE(j != NULL);
    EXPECT_STR(j->id, "sensor-average");
    EXPECT_EQ(j->type, JOB_SERVICE);
    EXPECT_EQ(j->count, 4);
    EXPECT_EQ(j->argc, 4);
    EXPECT_STR(j->argv[0], "/usr/bin/python3");
    EXPECT_STR(j->argv[3], "60");
    EXPECT_TRUE(j->argv[4] == NULL);
    EXPECT_EQ(j->n_env, 1);
    EXPECT_STR(j->env[0].name, "SENSOR");
    EXPECT_STR(j->env[0].value, "temp");
    EXPECT_TRUE(j->cpu == 0.1);
    EXPECT_EQ(j->memory_mb, 32);
    EXPECT_EQ(j->n_sites, 2);
    EXPECT_STR(j->sites[0], "oslo-1");
    EXPECT_STR(j->sites[1], "bergen-2");
    EXPECT_EQ(j->n_labels, 1);
    EXPECT_STR(j->labels[0].name, "camera");
    EXPECT_STR(j->labels[0].value, "yes");
    EXPECT_EQ(j->restart.attempts, 3);
    EXPECT_EQ(j->restart.interval_ms, 60000);
    EXPECT_EQ(j->restart.delay_ms, 1000);
    EXPECT_EQ(j->reschedule_after_ms, 30000);
    EXPECT_EQ(j->kill_timeout_ms, 5000);
    EXPECT_EQ(j->version, 0);
    job_free(j);
}

TEST(defaults_fill_what_a_file_leaves_out)
{
    struct job *j = parse_ok("{\"id\": \"a\", \"command\": [\"/bin/true\"]}");

    EXPECT_TRUE(j != NULL);
    EXPECT_EQ(j->type, JOB_SERVICE);
    EXPECT_EQ(j->count, JOB_DEFAULT_COUNT);
    EXPECT_EQ(j->n_env, 0);
    EXPECT_TRUE(j->cpu == JOB_DEFAULT_CPU);
    EXPECT_EQ(j->memory_mb, JOB_DEFAULT_MEMORY_MB);
    EXPECT_EQ(j->n_sites, 0);
    EXPECT_EQ(j->n_labels, 0);
    EXPECT_EQ(j->restart.attempts, 3);
    EXPECT_EQ(j->restart.interval_ms, 60000);
    EXPECT_EQ(j->restart.delay_ms, 1000);
    EXPECT_EQ(j->reschedule_after_ms, 0);
    EXPECT_EQ(j->kill_timeout_ms, 5000);
    job_free(j);
}

TEST(system_job_has_no_count)
{
    struct job *j = parse_ok("{\"id\": \"s\", \"type\": \"system\", "
                             "\"command\": [\"x\"]}");

    EXPECT_TRUE(j != NULL);
    EXPECT_EQ(j->type, JOB_SYSTEM);
    EXPECT_EQ(j->count, 0);
    job_free(j);
    EXPECT_TRUE(refused("{\"id\": \"s\", \"type\": \"system\", \"count\": 2, "
                        "\"command\": [\"x\"]}",
                        JOB_ERR_INVALID, "count: not allowed in a system job"));
}

TEST(env_and_labels_are_sorted_by_name)
{
    struct job *j = parse_ok("{\"id\": \"a\", \"command\": [\"x\"], "
                             "\"env\": {\"Z\": \"1\", \"A\": \"2\", \"_m\": "
                             "\"\"}, \"labels\": {\"zone\": \"n\", \"arch\": "
                             "\"arm\"}}");

    EXPECT_TRUE(j != NULL);
    EXPECT_EQ(j->n_env, 3);
    EXPECT_STR(j->env[0].name, "A");
    EXPECT_STR(j->env[1].name, "Z");
    EXPECT_STR(j->env[2].name, "_m");
    EXPECT_STR(j->env[2].value, "");
    EXPECT_STR(j->labels[0].name, "arch");
    EXPECT_STR(j->labels[1].name, "zone");
    job_free(j);
}

TEST(durations_take_every_unit)
{
    static const struct {
        const char *text;
        uint64_t ms;
    } cases[] = {{"0s", 0},         {"500ms", 500},          {"30s", 30000},
                 {"1m", 60000},     {"2h", 7200000},         {"007s", 7000},
                 {"24h", 86400000}, {"86400000ms", 86400000}};
    char text[256];

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text),
                 "{\"id\": \"a\", \"command\": [\"x\"], "
                 "\"kill_timeout\": \"%s\"}",
                 cases[i].text);
        struct job *j = parse_ok(text);

        EXPECT_TRUE(j != NULL);
        EXPECT_EQ(j->kill_timeout_ms, cases[i].ms);
        job_free(j);
    }
}

TEST(bad_durations_name_the_field)
{
    static const char *bad[] = {"",    "5",    "s",   "1.5s", "-1s",
                                "+1s", "1S",   "1 s", " 1s",  "1m30s",
                                "1d",  "1sec", "ms",  "1hh",  "1e3ms"};
    char text[256];

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        snprintf(text, sizeof(text),
                 "{\"id\": \"a\", \"command\": [\"x\"], "
                 "\"restart\": {\"delay\": \"%s\"}}",
                 bad[i]);
        EXPECT_TRUE(refused(text, JOB_ERR_INVALID,
                            "restart.delay: expected a duration"));
    }
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"kill_timeout\": 5}",
                        JOB_ERR_INVALID,
                        "kill_timeout: expected a duration string"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"kill_timeout\": \"25h\"}",
                        JOB_ERR_INVALID, "kill_timeout: must be 0s..24h"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"reschedule_after\": \"99999999999999999999h\"}",
                        JOB_ERR_INVALID, "reschedule_after: must be 1ms..24h"));
    /* 5124095576031 hours is 2^64 ms and 34 minutes */
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"reschedule_after\": \"5124095576031h\"}",
                        JOB_ERR_INVALID, "reschedule_after: must be 1ms..24h"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"kill_timeout\": \"99999999999ms\"}",
                        JOB_ERR_INVALID, "kill_timeout: must be 0s..24h"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"reschedule_after\": \"0s\"}",
                        JOB_ERR_INVALID, "reschedule_after: must be 1ms..24h"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"restart\": {\"interval\": \"0ms\"}}",
                        JOB_ERR_INVALID, "restart.interval: must be 1ms..24h"));
}

/* Encode, parse, encode: the same job and the same bytes. */
static int round_trips(const char *text)
{
    struct job *a = parse_ok(text), *b = NULL;
    char *ea = NULL, *eb = NULL;
    size_t la = 0, lb = 0;
    char err[256];
    int ok = 0;

    if (a == NULL) {
        return 0;
    }
    a->version = 7;
    ea = job_encode(a, &la);
    if (ea != NULL && job_parse_json(ea, la, &b, err, sizeof(err)) == JOB_OK) {
        eb = job_encode(b, &lb);
        ok = job_spec_equal(a, b) && b->version == 7 && eb != NULL &&
             la == lb && memcmp(ea, eb, la) == 0;
    }
    if (!ok) {
        fprintf(stderr, "round trip of %s\n  gave %s\n", ea ? ea : "-",
                eb ? eb : "-");
    }
    free(ea);
    free(eb);
    job_free(a);
    job_free(b);
    return ok;
}

TEST(encoding_round_trips_exactly)
{
    EXPECT_TRUE(round_trips(design_example));
    EXPECT_TRUE(round_trips("{\"id\": \"a\", \"command\": [\"x\"]}"));
    EXPECT_TRUE(round_trips("{\"id\": \"s\", \"type\": \"system\", "
                            "\"command\": [\"x\", \"\", \"\\n\\u0001\"], "
                            "\"labels\": {}, \"env\": {}}"));
    EXPECT_TRUE(
        round_trips("{\"id\": \"b\", \"type\": \"batch\", "
                    "\"command\": [\"\\u00e6\\u00f8\\u00e5 \\\"q\\\"\"], "
                    "\"resources\": {\"cpu\": 1023.999, "
                    "\"memory_mb\": 1048576}, "
                    "\"restart\": {\"attempts\": 0, "
                    "\"interval\": \"1500ms\", \"delay\": \"0s\"}, "
                    "\"reschedule_after\": \"90s\", "
                    "\"kill_timeout\": \"24h\"}"));
    EXPECT_TRUE(round_trips("{\"id\": \"c\", \"command\": [\"x\"], "
                            "\"resources\": {\"cpu\": 0.001}}"));
    EXPECT_TRUE(round_trips("{\"id\": \"c\", \"command\": [\"x\"], "
                            "\"resources\": {\"cpu\": 3}}"));
}

TEST(encoding_is_compact_with_sorted_keys)
{
    struct job *j = parse_ok(design_example);
    size_t len;
    char *e;

    EXPECT_TRUE(j != NULL);
    e = job_encode(j, &len);
    EXPECT_TRUE(e != NULL);
    EXPECT_STR(e, "{\"command\":[\"/usr/bin/python3\",\"average.py\","
                  "\"--window\",\"60\"],\"count\":4,\"env\":{\"SENSOR\":"
                  "\"temp\"},\"id\":\"sensor-average\",\"kill_timeout\":"
                  "\"5s\",\"labels\":{\"camera\":\"yes\"},\"reschedule_after"
                  "\":\"30s\",\"resources\":{\"cpu\":0.1,\"memory_mb\":32},"
                  "\"restart\":{\"attempts\":3,\"delay\":\"1s\",\"interval\":"
                  "\"1m\"},\"sites\":[\"oslo-1\",\"bergen-2\"],\"type\":"
                  "\"service\",\"version\":0}");
    EXPECT_EQ(len, strlen(e));
    free(e);
    job_free(j);
}

TEST(to_json_reads_back_as_the_same_job)
{
    struct job *a = parse_ok(design_example), *b = NULL;
    char err[256];
    json_t *o;
    char *text;

    EXPECT_TRUE(a != NULL);
    o = job_to_json(a);
    EXPECT_TRUE(o != NULL);
    EXPECT_STR(json_string_value(json_object_get(o, "kill_timeout")), "5s");
    EXPECT_TRUE(json_object_get(o, "reschedule_after") != NULL);
    text = json_dumps(o, JSON_INDENT(2) | JOB_JSON_REAL_FLAGS);
    json_decref(o);
    EXPECT_TRUE(text != NULL);
    EXPECT_EQ(job_parse_json(text, strlen(text), &b, err, sizeof(err)), JOB_OK);
    EXPECT_TRUE(job_spec_equal(a, b));
    free(text);
    job_free(a);
    job_free(b);
}

TEST(examples_parse)
{
    static const char *files[] = {"examples/jobs/sensor-average.json",
                                  "examples/jobs/nightly-compact.json",
                                  "examples/jobs/node-exporter.json"};
    static const enum job_type types[] = {JOB_SERVICE, JOB_BATCH, JOB_SYSTEM};
    struct job *ex = parse_ok(design_example);

    EXPECT_TRUE(ex != NULL);
    for (size_t i = 0; i < 3; i++) {
        size_t len;
        char *text = read_file(files[i], &len);
        struct job *j;

        EXPECT_TRUE(text != NULL);
        j = parse_ok(text);
        free(text);
        EXPECT_TRUE(j != NULL);
        EXPECT_EQ(j->type, types[i]);
        if (i == 0) {
            /* The design's example, with a command that really runs. */
            EXPECT_STR(j->id, ex->id);
            EXPECT_EQ(j->count, ex->count);
            EXPECT_EQ(j->memory_mb, ex->memory_mb);
            EXPECT_EQ(j->n_sites, ex->n_sites);
            EXPECT_EQ(j->n_labels, ex->n_labels);
            EXPECT_EQ(j->restart.delay_ms, ex->restart.delay_ms);
            EXPECT_EQ(j->reschedule_after_ms, ex->reschedule_after_ms);
            EXPECT_STR(j->argv[0], "/usr/bin/python3");
        }
        job_free(j);
    }
    job_free(ex);
}

TEST(wrong_types_name_the_field_and_the_type)
{
    EXPECT_TRUE(refused("{\"id\": 5, \"command\": [\"x\"]}", JOB_ERR_INVALID,
                        "id: expected a string, got an integer"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"count\": \"4\", \"command\": "
                        "[\"x\"]}",
                        JOB_ERR_INVALID,
                        "count: expected an integer, got a string"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"count\": 1.5, \"command\": "
                        "[\"x\"]}",
                        JOB_ERR_INVALID,
                        "count: expected an integer, got a number"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": \"/bin/true\"}",
                        JOB_ERR_INVALID,
                        "command: expected an array of strings, got a "
                        "string"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\", 3]}",
                        JOB_ERR_INVALID,
                        "command[1]: expected a string, got an integer"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"env\": "
                        "{\"PORT\": 80}}",
                        JOB_ERR_INVALID,
                        "env.PORT: expected a string, got an integer"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"env\": "
                        "[\"A=1\"]}",
                        JOB_ERR_INVALID, "env: expected an object"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": {\"cpu\": \"1\"}}",
                        JOB_ERR_INVALID,
                        "resources.cpu: expected a number of cores, got a "
                        "string"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": {\"memory_mb\": true}}",
                        JOB_ERR_INVALID,
                        "resources.memory_mb: expected an integer, got a "
                        "boolean"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": null}",
                        JOB_ERR_INVALID,
                        "resources: expected an object, got null"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"sites\": "
                        "\"oslo-1\"}",
                        JOB_ERR_INVALID, "sites: expected an array"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"labels\": "
                        "{\"gpu\": false}}",
                        JOB_ERR_INVALID,
                        "labels.gpu: expected a string, got a boolean"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"restart\": "
                        "{\"attempts\": \"3\"}}",
                        JOB_ERR_INVALID,
                        "restart.attempts: expected an integer"));
    EXPECT_TRUE(refused("[1, 2]", JOB_ERR_INVALID,
                        "job: expected an object, got an array"));
}

TEST(unknown_fields_are_named)
{
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"cuont\": 3}",
                        JOB_ERR_INVALID, "unknown field \"cuont\""));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": {\"disk_mb\": 3}}",
                        JOB_ERR_INVALID,
                        "resources: unknown field \"disk_mb\""));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"restart\": {\"mode\": \"fail\"}}",
                        JOB_ERR_INVALID, "restart: unknown field \"mode\""));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"a\\nb\\u00e6\": 1}",
                        JOB_ERR_INVALID,
                        "unknown field \"a\\x0ab\\xc3\\xa6\""));
}

TEST(counts_out_of_bounds_are_refused)
{
    EXPECT_TRUE(refused("{\"id\": \"a\", \"count\": 0, \"command\": [\"x\"]}",
                        JOB_ERR_INVALID, "count: must be 1..10000, got 0"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"count\": -3, \"command\": [\"x\"]}",
                        JOB_ERR_INVALID, "count: must be 1..10000, got -3"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"count\": 10001, \"command\": "
                        "[\"x\"]}",
                        JOB_ERR_INVALID, "count: must be 1..10000, got 10001"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"count\": 9223372036854775807, "
                        "\"command\": [\"x\"]}",
                        JOB_ERR_INVALID, "count: must be 1..10000"));
    /* beyond what jansson holds in an integer */
    EXPECT_TRUE(refused("{\"id\": \"a\", \"count\": 99999999999999999999, "
                        "\"command\": [\"x\"]}",
                        JOB_ERR_INVALID,
                        "count: must be 1..10000, got "
                        "100000000000000000000"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"count\": -99999999999999999999}",
                        JOB_ERR_INVALID, "count: must be 1..10000, got -1"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"version\": 99999999999999999999}",
                        JOB_ERR_INVALID, "version: must be 0.."));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"count\": 1e400, \"command\": "
                        "[\"x\"]}",
                        JOB_ERR_INVALID, "invalid JSON at line 1"));
}

TEST(empty_and_oversized_commands_are_refused)
{
    char *big = malloc(JOB_MAX_ARG + 64);
    char text[1024];
    size_t o;

    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": []}", JOB_ERR_INVALID,
                        "command: must not be empty"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"\"]}", JOB_ERR_INVALID,
                        "command[0]: the program must not be empty"));
    EXPECT_TRUE(
        refused("{\"id\": \"a\"}", JOB_ERR_INVALID, "command: missing"));
    o = (size_t)snprintf(text, sizeof(text), "{\"id\": \"a\", \"command\": [");
    for (int i = 0; i <= JOB_MAX_ARGS; i++) {
        o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"x\"",
                              i ? "," : "");
    }
    snprintf(text + o, sizeof(text) - o, "]}");
    EXPECT_TRUE(refused(text, JOB_ERR_INVALID,
                        "command: at most 64 arguments, got 65"));
    EXPECT_TRUE(big != NULL);
    o = (size_t)sprintf(big, "{\"id\": \"a\", \"command\": [\"x\", \"");
    memset(big + o, 'y', JOB_MAX_ARG + 1);
    strcpy(big + o + JOB_MAX_ARG + 1, "\"]}");
    EXPECT_TRUE(refused(big, JOB_ERR_INVALID,
                        "command[1]: at most 4096 bytes, got 4097"));
    free(big);
}

TEST(bad_ids_and_names_are_refused)
{
    EXPECT_TRUE(
        refused("{\"command\": [\"x\"]}", JOB_ERR_INVALID, "id: missing"));
    EXPECT_TRUE(refused("{\"id\": \"\", \"command\": [\"x\"]}", JOB_ERR_INVALID,
                        "id: must be 1..64"));
    EXPECT_TRUE(refused("{\"id\": \"Sensor\", \"command\": [\"x\"]}",
                        JOB_ERR_INVALID, "got \"Sensor\""));
    EXPECT_TRUE(refused("{\"id\": \"-a\", \"command\": [\"x\"]}",
                        JOB_ERR_INVALID, "id: must be"));
    EXPECT_TRUE(refused("{\"id\": \"a/b\", \"command\": [\"x\"]}",
                        JOB_ERR_INVALID, "id: must be"));
    EXPECT_TRUE(
        refused("{\"id\": \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                "aaaaaaaaaaaaaaaaaaaaa\", \"command\": [\"x\"]}",
                JOB_ERR_INVALID, "id: at most 64 bytes, got 65"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"type\": \"cron\", \"command\": "
                        "[\"x\"]}",
                        JOB_ERR_INVALID,
                        "type: must be \"service\", \"batch\" or \"system\", "
                        "got \"cron\""));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"env\": "
                        "{\"1X\": \"v\"}}",
                        JOB_ERR_INVALID, "env: bad variable name \"1X\""));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"env\": "
                        "{\"A-B\": \"v\"}}",
                        JOB_ERR_INVALID, "env: bad variable name \"A-B\""));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"env\": "
                        "{\"\": \"v\"}}",
                        JOB_ERR_INVALID, "env: bad variable name \"\""));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"labels\": "
                        "{\"a b\": \"v\"}}",
                        JOB_ERR_INVALID, "labels: bad label name \"a b\""));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"sites\": "
                        "[\"oslo 1\"]}",
                        JOB_ERR_INVALID, "sites[0]: a site name is"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"sites\": "
                        "[]}",
                        JOB_ERR_INVALID, "sites: must not be empty"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], \"sites\": "
                        "[\"oslo-1\", \"bergen\", \"oslo-1\"]}",
                        JOB_ERR_INVALID,
                        "sites[2]: site \"oslo-1\" is listed twice"));
}

TEST(resources_out_of_bounds_are_refused)
{
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": {\"cpu\": 0}}",
                        JOB_ERR_INVALID,
                        "resources.cpu: must be more than 0 and at most "
                        "1024 cores, got 0"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": {\"cpu\": -1}}",
                        JOB_ERR_INVALID, "resources.cpu: must be more than 0"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": {\"cpu\": 1024.5}}",
                        JOB_ERR_INVALID, "resources.cpu: must be more than 0"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": {\"cpu\": 0.0005}}",
                        JOB_ERR_INVALID,
                        "resources.cpu: must be a multiple of 0.001"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": {\"memory_mb\": 0}}",
                        JOB_ERR_INVALID,
                        "resources.memory_mb: must be 1..1048576, got 0"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"resources\": {\"memory_mb\": 1048577}}",
                        JOB_ERR_INVALID, "resources.memory_mb: must be"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"], "
                        "\"restart\": {\"attempts\": -1}}",
                        JOB_ERR_INVALID,
                        "restart.attempts: must be 0..1000, got -1"));
}

TEST(too_many_entries_are_refused)
{
    static char text[16384];
    size_t o;

    o = (size_t)snprintf(text, sizeof(text),
                         "{\"id\": \"a\", \"command\": [\"x\"], \"env\": {");
    for (int i = 0; i <= JOB_MAX_ENV; i++) {
        o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"V%d\": \"\"",
                              i ? "," : "", i);
    }
    snprintf(text + o, sizeof(text) - o, "}}");
    EXPECT_TRUE(
        refused(text, JOB_ERR_INVALID, "env: at most 128 variables, got 129"));

    o = (size_t)snprintf(text, sizeof(text),
                         "{\"id\": \"a\", \"command\": [\"x\"], \"sites\": [");
    for (int i = 0; i <= JOB_MAX_SITES; i++) {
        o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"s%d\"",
                              i ? "," : "", i);
    }
    snprintf(text + o, sizeof(text) - o, "]}");
    EXPECT_TRUE(
        refused(text, JOB_ERR_INVALID, "sites: at most 64 sites, got 65"));

    o = (size_t)snprintf(text, sizeof(text),
                         "{\"id\": \"a\", \"command\": [\"x\"], \"labels\": {");
    for (int i = 0; i <= JOB_MAX_LABELS; i++) {
        o += (size_t)snprintf(text + o, sizeof(text) - o, "%s\"l%d\": \"\"",
                              i ? "," : "", i);
    }
    snprintf(text + o, sizeof(text) - o, "}}");
    EXPECT_TRUE(
        refused(text, JOB_ERR_INVALID, "labels: at most 64 labels, got 65"));
}

TEST(bad_json_is_refused_with_its_place)
{
    EXPECT_TRUE(refused("", JOB_ERR_INVALID, "invalid JSON at line"));
    EXPECT_TRUE(refused("{\"id\": \"a\",\n \"command\": [\"x\"],}",
                        JOB_ERR_INVALID, "invalid JSON at line 2"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\"]} {}",
                        JOB_ERR_INVALID, "invalid JSON"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"id\": \"b\", \"command\": [\"x\"]}",
                        JOB_ERR_INVALID, "duplicate"));
    EXPECT_TRUE(refused("{\"id\": \"a\", \"command\": [\"x\\u0000y\"]}",
                        JOB_ERR_INVALID, "invalid JSON"));
}

TEST(a_file_over_the_limit_is_too_large)
{
    size_t len = JOB_MAX_TEXT + 1;
    char *text = malloc(len);
    struct job *j = NULL;
    char err[256] = "";

    EXPECT_TRUE(text != NULL);
    memset(text, ' ', len);
    EXPECT_EQ(job_parse_json(text, len, &j, err, sizeof(err)),
              JOB_ERR_TOO_LARGE);
    EXPECT_TRUE(j == NULL);
    EXPECT_CONTAINS(err, "job: at most 524288 bytes");
    free(text);
}

static bool known_site(void *arg, const char *site)
{
    (*(int *)arg)++;
    return strcmp(site, "oslo-1") == 0 || strcmp(site, "bergen-2") == 0;
}

TEST(unknown_sites_are_named)
{
    struct job *j = parse_ok(design_example);
    char err[256] = "";
    int calls = 0;

    EXPECT_TRUE(j != NULL);
    EXPECT_EQ(job_check_sites(j, known_site, &calls, err, sizeof(err)), JOB_OK);
    EXPECT_EQ(calls, 2);
    job_free(j);

    j = parse_ok("{\"id\": \"a\", \"command\": [\"x\"], "
                 "\"sites\": [\"oslo-1\", \"tromso-9\"]}");
    EXPECT_TRUE(j != NULL);
    EXPECT_EQ(job_check_sites(j, known_site, &calls, err, sizeof(err)),
              JOB_ERR_INVALID);
    EXPECT_STR(err, "sites[1]: no site named \"tromso-9\"");
    job_free(j);
}

TEST(spec_equal_ignores_only_the_version)
{
    struct job *a = parse_ok(design_example), *b = parse_ok(design_example);

    EXPECT_TRUE(a != NULL && b != NULL);
    b->version = 9;
    EXPECT_TRUE(job_spec_equal(a, b));
    b->count = 5;
    EXPECT_TRUE(!job_spec_equal(a, b));
    job_free(a);
    job_free(b);
    EXPECT_STR(job_type_name(JOB_BATCH), "batch");
}

static long oom_left = -1; /* jansson allocations before they fail */

static void *oom_malloc(size_t n)
{
    if (oom_left == 0) {
        return NULL;
    }
    if (oom_left > 0) {
        oom_left--;
    }
    return malloc(n);
}

/* jansson failing on its Nth allocation, for every N until it no longer
 * runs out: parsing fails cleanly (jansson reports some of its failures as
 * syntax errors), encoding returns NULL, and nothing leaks (ASan). */
TEST(jansson_out_of_memory_fails_cleanly)
{
    struct job *j = NULL, *ex = parse_ok(design_example);
    char err[256], *e = NULL;
    int rc = JOB_ERR_NO_MEMORY;
    size_t len;
    long n;

    EXPECT_TRUE(ex != NULL);
    json_set_alloc_funcs(oom_malloc, free);
    for (n = 0; n < 100000 && rc != JOB_OK; n++) {
        oom_left = n;
        err[0] = '\0';
        rc = job_parse_json(design_example, strlen(design_example), &j, err,
                            sizeof(err));
        if (rc != JOB_OK &&
            (rc == JOB_ERR_TOO_LARGE || j != NULL || err[0] == '\0')) {
            HARNESS_FAIL("allocation %ld: rc %d, \"%s\"", n, rc, err);
            break;
        }
    }
    for (n = 0; n < 100000 && e == NULL; n++) {
        oom_left = n;
        e = job_encode(ex, &len);
    }
    oom_left = -1;
    json_set_alloc_funcs(malloc, free);
    EXPECT_EQ(rc, JOB_OK);
    EXPECT_TRUE(e != NULL && n > 10);
    EXPECT_TRUE(job_spec_equal(j, ex));
    free(e);
    job_free(j);
    job_free(ex);
}

int main(void)
{
    RUN(design_example_parses_with_its_values);
    RUN(defaults_fill_what_a_file_leaves_out);
    RUN(system_job_has_no_count);
    RUN(env_and_labels_are_sorted_by_name);
    RUN(durations_take_every_unit);
    RUN(bad_durations_name_the_field);
    RUN(encoding_round_trips_exactly);
    RUN(encoding_is_compact_with_sorted_keys);
    RUN(to_json_reads_back_as_the_same_job);
    RUN(examples_parse);
    RUN(wrong_types_name_the_field_and_the_type);
    RUN(unknown_fields_are_named);
    RUN(counts_out_of_bounds_are_refused);
    RUN(empty_and_oversized_commands_are_refused);
    RUN(bad_ids_and_names_are_refused);
    RUN(resources_out_of_bounds_are_refused);
    RUN(too_many_entries_are_refused);
    RUN(bad_json_is_refused_with_its_place);
    RUN(a_file_over_the_limit_is_too_large);
    RUN(unknown_sites_are_named);
    RUN(spec_equal_ignores_only_the_version);
    RUN(jansson_out_of_memory_fails_cleanly);
    DONE();
}
