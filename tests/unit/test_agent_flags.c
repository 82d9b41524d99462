/* test_agent_flags.c - the command line of `varde agent`: its table, its
 * defaults and bounds. What every daemon's flags share is tested in
 * test_flags.c. */
#include "agent/agent_flags.h"

#include "harness.h"

#include <stdarg.h>

#define MAX_ARGS 32

static struct agent_opts opts;
static char err[512];

/* Parse "agent" then the NULL-terminated arguments. */
static enum flags_result parse(const char *first, ...)
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
static enum flags_result parse_with(const char *a, const char *b)
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
              FLAGS_OK);
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
    EXPECT_EQ(parse_with(NULL, NULL), FLAGS_OK);
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
    EXPECT_EQ(parse("--bogus", "--help", NULL), FLAGS_HELP);
    EXPECT_EQ(parse("-h", NULL), FLAGS_HELP);
    EXPECT_TRUE(strstr(agent_flags_usage(), "--log-max-bytes") != NULL);
}

TEST(flags_name_what_is_missing)
{
    EXPECT_EQ(parse("--name", "a", "--listen", "127.0.0.1:1", "--data-dir",
                    "/x", NULL),
              FLAGS_ERROR);
    EXPECT_STR(err, "missing --controller (see varde agent --help)");
    EXPECT_EQ(parse(NULL), FLAGS_ERROR);
    EXPECT_STR(err, "missing --name (see varde agent --help)");
}

TEST(flags_refuse_unknown_repeated_and_stray)
{
    EXPECT_EQ(parse_with("--site", "x"), FLAGS_ERROR);
    EXPECT_STR(err, "unknown flag \"--site\" (see varde agent --help)");
    EXPECT_EQ(parse_with("stray", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "unexpected argument \"stray\" (see varde agent --help)");
    EXPECT_EQ(parse_with("--name", "b"), FLAGS_ERROR);
    EXPECT_STR(err, "--name is given twice");
    EXPECT_EQ(parse_with("--cpu", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--cpu needs a value");
}

TEST(flags_check_the_name)
{
    EXPECT_EQ(parse("--name", "Edge", "--controller", "127.0.0.1:1", "--listen",
                    "127.0.0.1:2", "--data-dir", "/x", NULL),
              FLAGS_ERROR);
    EXPECT_TRUE(strstr(err, "--name \"Edge\": expected 1..64 of a-z") != NULL);
}

TEST(flags_check_labels)
{
    EXPECT_EQ(parse_with("--labels", "a=1,a=2"), FLAGS_ERROR);
    EXPECT_STR(err, "--labels: a is given twice");
    EXPECT_EQ(parse_with("--labels", "ab=1,a=2,abc=3"), FLAGS_OK);
    EXPECT_EQ(opts.n_labels, 3);
    EXPECT_STR(opts.labels[0].key, "a");
    EXPECT_STR(opts.labels[2].key, "abc");
}

TEST(flags_check_addresses)
{
    EXPECT_EQ(parse("--name", "a", "--controller", "oslo.example:1", "--listen",
                    "127.0.0.1:2", "--data-dir", "/x", NULL),
              FLAGS_ERROR);
    EXPECT_TRUE(strncmp(err, "--controller: ", 14) == 0);
    EXPECT_EQ(parse("--name", "a", "--controller", "127.0.0.1:1", "--listen",
                    "127.0.0.1:0", "--data-dir", "/x", NULL),
              FLAGS_ERROR);
    EXPECT_TRUE(strncmp(err, "--listen: ", 10) == 0);
}

TEST(flags_take_capacity_and_bounds)
{
    EXPECT_EQ(parse_with("--cpu", "0.125"), FLAGS_OK);
    EXPECT_EQ(opts.cpu_milli, 125);
    EXPECT_EQ(parse_with("--cpu", "0"), FLAGS_ERROR);
    EXPECT_STR(err, "--cpu \"0\": must be more than 0 and at most 65536 "
                    "cores");
    EXPECT_EQ(parse_with("--memory-mb", "12x"), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-max-bytes", "4095"), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-max-bytes", "2G"), FLAGS_ERROR);
    EXPECT_STR(err, "--log-max-bytes \"2G\": expected bytes from 4096 to 1G "
                    "(a K, M or G suffix is fine)");
    EXPECT_EQ(parse_with("--log-max-bytes", "1G"), FLAGS_OK);
    EXPECT_EQ(opts.log_max_bytes, 1 << 30);
    EXPECT_EQ(parse_with("--log-max-bytes", "64K"), FLAGS_OK);
    EXPECT_EQ(opts.log_max_bytes, 65536);
    EXPECT_EQ(parse_with("--log-max-bytes", "64k"), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-level", "loud"), FLAGS_ERROR);
    EXPECT_EQ(parse("--name", "a", "--controller", "127.0.0.1:1", "--listen",
                    "127.0.0.1:2", "--data-dir", "", NULL),
              FLAGS_ERROR);
    EXPECT_STR(err, "--data-dir: expected a path of 1 to 2048 bytes");
    EXPECT_EQ(parse_with("--token-file", ""), FLAGS_ERROR);
    EXPECT_STR(err, "--token-file: expected a path");
    EXPECT_EQ(parse_with("--token-file", "/etc/varde/token"), FLAGS_OK);
    EXPECT_STR(opts.token_file, "/etc/varde/token");
}

TEST(flags_take_the_heartbeat_as_a_duration)
{
    EXPECT_EQ(parse_with("--heartbeat-interval", "2s"), FLAGS_OK);
    EXPECT_EQ(opts.heartbeat_ms, 2000);
    EXPECT_EQ(parse_with("--heartbeat-interval", "1000"), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--heartbeat-interval", "5ms"), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--heartbeat-interval", "2m"), FLAGS_ERROR);
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
    DONE();
}
