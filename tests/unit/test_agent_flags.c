/* test_agent_flags.c - the command line of `varde agent` and its
 * durations. */
#include "agent/agent_flags.h"

#include "harness.h"

#include <stdarg.h>

#define MAX_ARGS 32

static struct agent_opts opts;
static char err[512];

/* Parse "agent" then the NULL-terminated arguments. */
static enum agent_flags_result parse(const char *first, ...)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    va_list ap;

    argv[argc++] = "agent";
    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < MAX_ARGS;
         a = va_arg(ap, const char *)) {
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    err[0] = '\0';
    return agent_flags_parse(argc, argv, &opts, err, sizeof(err));
}

/* The four required flags, then up to two extra ones (NULL: none). */
static enum agent_flags_result parse_with(const char *a, const char *b)
{
    return parse("--name", "edge-a", "--controller", "127.0.0.1:7201",
                 "--listen", "127.0.0.1:7301", "--data-dir", "/tmp/x", a, b,
                 NULL);
}

TEST(flags_accept_a_full_command_line)
{
    EXPECT_EQ(parse("--name", "oslo-1-a", "--labels", "zone=b,arch=arm64",
                    "--controller", "127.0.0.1:7201",
                    "--listen=127.0.0.11:7301", "--data-dir", "/var/a", "--cpu",
                    "2.5", "--memory-mb", "8192", "--heartbeat-interval",
                    "500ms", "--log-max-bytes", "4M", "--log-level", "warn",
                    NULL),
              AGENT_FLAGS_OK);
    EXPECT_STR(opts.name, "oslo-1-a");
    EXPECT_EQ(opts.n_labels, 2);
    EXPECT_STR(opts.labels[0].key, "arch"); /* sorted by name */
    EXPECT_STR(opts.labels[0].value, "arm64");
    EXPECT_STR(opts.labels[1].key, "zone");
    EXPECT_STR(opts.controller.text, "127.0.0.1:7201");
    EXPECT_STR(opts.listen.host, "127.0.0.11");
    EXPECT_STR(opts.data_dir, "/var/a");
    EXPECT_EQ(opts.cpu_milli, 2500);
    EXPECT_EQ(opts.memory_mb, 8192);
    EXPECT_EQ(opts.heartbeat_ms, 500);
    EXPECT_EQ(opts.log_max_bytes, 4 << 20);
    EXPECT_EQ(opts.log_level, LOG_WARN);
}

TEST(flags_default_what_is_left_out)
{
    EXPECT_EQ(parse_with(NULL, NULL), AGENT_FLAGS_OK);
    EXPECT_EQ(opts.heartbeat_ms, 1000);
    EXPECT_EQ(opts.log_max_bytes, 1 << 20);
    EXPECT_EQ(opts.n_labels, 0);
    EXPECT_EQ(opts.cpu_milli, 0); /* the machine's, filled in later */
    EXPECT_EQ(opts.memory_mb, 0);
    EXPECT_EQ(opts.log_level, LOG_INFO);
    EXPECT_TRUE(opts.token_file == NULL);
}

TEST(flags_help_wins_over_errors)
{
    EXPECT_EQ(parse("--bogus", "--help", NULL), AGENT_FLAGS_HELP);
    EXPECT_EQ(parse("-h", NULL), AGENT_FLAGS_HELP);
    EXPECT_TRUE(strstr(agent_flags_usage(), "--log-max-bytes") != NULL);
}

TEST(flags_name_what_is_missing)
{
    EXPECT_EQ(parse("--name", "a", "--listen", "127.0.0.1:1", "--data-dir",
                    "/x", NULL),
              AGENT_FLAGS_ERROR);
    EXPECT_STR(err, "missing --controller (see varde agent --help)");
    EXPECT_EQ(parse(NULL), AGENT_FLAGS_ERROR);
    EXPECT_STR(err, "missing --name (see varde agent --help)");
}

TEST(flags_refuse_unknown_repeated_and_stray)
{
    EXPECT_EQ(parse_with("--site", "x"), AGENT_FLAGS_ERROR);
    EXPECT_STR(err, "unknown flag \"--site\" (see varde agent --help)");
    EXPECT_EQ(parse_with("stray", NULL), AGENT_FLAGS_ERROR);
    EXPECT_STR(err, "unexpected argument \"stray\" (see varde agent --help)");
    EXPECT_EQ(parse_with("--name", "b"), AGENT_FLAGS_ERROR);
    EXPECT_STR(err, "--name is given twice");
    EXPECT_EQ(parse_with("--cpu", NULL), AGENT_FLAGS_ERROR);
    EXPECT_STR(err, "--cpu needs a value");
}

TEST(flags_check_the_name)
{
    EXPECT_EQ(parse("--name", "Edge", "--controller", "127.0.0.1:1", "--listen",
                    "127.0.0.1:2", "--data-dir", "/x", NULL),
              AGENT_FLAGS_ERROR);
    EXPECT_TRUE(strstr(err, "--name \"Edge\": expected 1..64 of a-z") != NULL);
    EXPECT_TRUE(agent_name_ok("a"));
    EXPECT_TRUE(agent_name_ok("oslo-1.a_b"));
    EXPECT_TRUE(!agent_name_ok(""));
    EXPECT_TRUE(!agent_name_ok("-a"));
    EXPECT_TRUE(!agent_name_ok("a/b"));
    EXPECT_TRUE(!agent_name_ok(".."));
    EXPECT_TRUE(agent_name_ok(
        "a123456789012345678901234567890123456789012345678901234567890123"));
    EXPECT_TRUE(!agent_name_ok(
        "a1234567890123456789012345678901234567890123456789012345678901234"));
}

TEST(flags_check_labels)
{
    EXPECT_EQ(parse_with("--labels", "a=1,,b=2"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--labels", "a=1,"), AGENT_FLAGS_ERROR);
    EXPECT_STR(err, "--labels: ends with a comma");
    EXPECT_EQ(parse_with("--labels", "a=1,a=2"), AGENT_FLAGS_ERROR);
    EXPECT_STR(err, "--labels: a is given twice");
    EXPECT_EQ(parse_with("--labels", "noequals"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--labels", "a=\x01"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--labels", "ab=1,a=2,abc=3"), AGENT_FLAGS_OK);
    EXPECT_STR(opts.labels[0].key, "a");
    EXPECT_STR(opts.labels[1].key, "ab");
    EXPECT_STR(opts.labels[2].key, "abc");
    EXPECT_EQ(parse_with("--labels", "k/x.y=v=w"), AGENT_FLAGS_OK);
    EXPECT_STR(opts.labels[0].value, "v=w");
}

TEST(flags_check_addresses)
{
    EXPECT_EQ(parse("--name", "a", "--controller", "oslo.example:1", "--listen",
                    "127.0.0.1:2", "--data-dir", "/x", NULL),
              AGENT_FLAGS_ERROR);
    EXPECT_TRUE(strncmp(err, "--controller: ", 14) == 0);
    EXPECT_EQ(parse("--name", "a", "--controller", "127.0.0.1:1", "--listen",
                    "127.0.0.1:0", "--data-dir", "/x", NULL),
              AGENT_FLAGS_ERROR);
    EXPECT_TRUE(strncmp(err, "--listen: ", 10) == 0);
}

TEST(flags_take_capacity_and_bounds)
{
    EXPECT_EQ(parse_with("--cpu", "0.125"), AGENT_FLAGS_OK);
    EXPECT_EQ(opts.cpu_milli, 125);
    EXPECT_EQ(parse_with("--cpu", "0"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--cpu", "0.0001"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--cpu", "1."), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--cpu", "-1"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--memory-mb", "0"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--memory-mb", "12x"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--memory-mb", "99999999999999999999"),
              AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-max-bytes", "4095"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-max-bytes", "2G"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-max-bytes", "1G"), AGENT_FLAGS_OK);
    EXPECT_EQ(opts.log_max_bytes, 1 << 30);
    EXPECT_EQ(parse_with("--log-max-bytes", "64K"), AGENT_FLAGS_OK);
    EXPECT_EQ(opts.log_max_bytes, 65536);
    EXPECT_EQ(parse_with("--log-max-bytes", "64k"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-max-bytes", "K"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-level", "loud"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--data-dir", ""), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--token-file", ""), AGENT_FLAGS_ERROR);
    EXPECT_STR(err, "--token-file: empty path");
    EXPECT_EQ(parse_with("--token-file", "/etc/varde/token"), AGENT_FLAGS_OK);
    EXPECT_STR(opts.token_file, "/etc/varde/token");
}

TEST(flags_take_the_heartbeat_as_a_duration)
{
    EXPECT_EQ(parse_with("--heartbeat-interval", "2s"), AGENT_FLAGS_OK);
    EXPECT_EQ(opts.heartbeat_ms, 2000);
    EXPECT_EQ(parse_with("--heartbeat-interval", "1000"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--heartbeat-interval", "5ms"), AGENT_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--heartbeat-interval", "2m"), AGENT_FLAGS_ERROR);
}

TEST(durations_have_one_unit_and_no_sign)
{
    uint64_t ms;

    EXPECT_EQ(agent_parse_duration("250ms", &ms), 0);
    EXPECT_EQ(ms, 250);
    EXPECT_EQ(agent_parse_duration("3m", &ms), 0);
    EXPECT_EQ(ms, 180000);
    EXPECT_EQ(agent_parse_duration("2h", &ms), 0);
    EXPECT_EQ(ms, 7200000);
    EXPECT_EQ(agent_parse_duration("-1s", &ms), -1);
    EXPECT_EQ(agent_parse_duration("1.5s", &ms), -1);
    EXPECT_EQ(agent_parse_duration("1m30s", &ms), -1);
    EXPECT_EQ(agent_parse_duration("s", &ms), -1);
    EXPECT_EQ(agent_parse_duration("1 s", &ms), -1);
    EXPECT_EQ(agent_parse_duration("9999999999999s", &ms), -1);
}

int main(void)
{
    RUN(flags_accept_a_full_command_line);
    RUN(flags_default_what_is_left_out);
    RUN(flags_help_wins_over_errors);
    RUN(flags_name_what_is_missing);
    RUN(flags_refuse_unknown_repeated_and_stray);
    RUN(flags_check_the_name);
    RUN(flags_check_labels);
    RUN(flags_check_addresses);
    RUN(flags_take_capacity_and_bounds);
    RUN(flags_take_the_heartbeat_as_a_duration);
    RUN(durations_have_one_unit_and_no_sign);
    DONE();
}
