/* test_controller_flags.c - the command line of `varde controller`: its
 * table, its defaults and bounds. What every daemon's flags share is
 * tested in test_flags.c. */
#include "controller/ctl_flags.h"

#include "harness.h"

#include <stdarg.h>

#define MAX_ARGS 32

static struct ctl_opts opts;
static char err[512];

/* Parse "controller" then the NULL-terminated arguments. */
static enum flags_result parse(const char *first, ...)
{
    char *argv[MAX_ARGS];
    int argc = 0;
    va_list ap;

    argv[argc++] = "controller";
    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < MAX_ARGS;
         a = va_arg(ap, const char *)) {
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    err[0] = '\0';
    return ctl_flags_parse(argc, argv, &opts, err, sizeof(err));
}

/* The four required flags, then the NULL-terminated extra ones (at most
 * four). */
static enum flags_result parse_with(const char *a, const char *b, const char *c,
                                    const char *d)
{
    return parse("--site", "oslo-1", "--raft", "127.0.0.1:7101", "--listen",
                 "127.0.0.1:7201", "--data-dir", "/tmp/x", a, b, c, d, NULL);
}

TEST(flags_accept_a_full_command_line)
{
    EXPECT_EQ(parse("--site", "oslo-1", "--labels", "zone=b,region=north",
                    "--raft", "127.0.0.1:7101,127.0.0.2:7102",
                    "--listen=127.0.0.11:7201", "--data-dir", "/var/c", "--cpu",
                    "2.5", "--memory-mb", "8192", "--heartbeat-interval",
                    "500ms", "--log-level", "warn", NULL),
              FLAGS_OK);
    EXPECT_STR(opts.site, "oslo-1");
    EXPECT_EQ(opts.n_labels, 2);
    EXPECT_STR(opts.labels[0].key, "region"); /* sorted by name */
    EXPECT_STR(opts.labels[0].value, "north");
    EXPECT_STR(opts.labels[1].key, "zone");
    EXPECT_EQ(opts.n_raft, 2);
    EXPECT_STR(opts.raft[1].text, "127.0.0.2:7102");
    EXPECT_STR(opts.listen.host, "127.0.0.11");
    EXPECT_STR(opts.data_dir, "/var/c");
    EXPECT_EQ(opts.cpu_milli, 2500);
    EXPECT_EQ(opts.memory_mb, 8192);
    EXPECT_EQ(opts.heartbeat_ms, 500);
    EXPECT_EQ(opts.log_level, LOG_WARN);
}

TEST(flags_default_heartbeat_labels_and_capacity)
{
    EXPECT_EQ(parse_with(NULL, NULL, NULL, NULL), FLAGS_OK);
    EXPECT_EQ(opts.heartbeat_ms, 1000);
    EXPECT_EQ(opts.n_labels, 0);
    EXPECT_EQ(opts.cpu_milli, 0); /* 0: the sum of the agents' */
    EXPECT_EQ(opts.agent_ttl_ms, 5000);
    EXPECT_TRUE(opts.token_file == NULL);
    EXPECT_EQ(opts.memory_mb, 0);
    EXPECT_EQ(opts.log_level, LOG_INFO);
}

TEST(flags_help_wins_over_errors)
{
    EXPECT_EQ(parse("--bogus", "--help", NULL), FLAGS_HELP);
    EXPECT_TRUE(strstr(ctl_flags_usage(), "--site NAME") != NULL);
}

TEST(flags_name_what_is_missing)
{
    EXPECT_EQ(parse("--site", "a", "--raft", "127.0.0.1:1", "--listen",
                    "127.0.0.1:2", NULL),
              FLAGS_ERROR);
    EXPECT_STR(err, "missing --data-dir (see varde controller --help)");
    EXPECT_EQ(parse(NULL), FLAGS_ERROR);
    EXPECT_STR(err, "missing --site (see varde controller --help)");
    EXPECT_EQ(parse("--site", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--site needs a value");
}

TEST(flags_refuse_unknown_flags_and_stray_arguments)
{
    EXPECT_EQ(parse_with("--bogus", "1", NULL, NULL), FLAGS_ERROR);
    EXPECT_STR(err, "unknown flag \"--bogus\" (see varde controller --help)");
    EXPECT_EQ(parse_with("stray", NULL, NULL, NULL), FLAGS_ERROR);
    EXPECT_TRUE(strstr(err, "unexpected argument \"stray\"") != NULL);
}

TEST(flags_check_the_site_name)
{
    EXPECT_EQ(parse("--site", "Oslo", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--site \"Oslo\": expected 1..64 of a-z, 0-9, '-', '_' "
                    "and '.', starting with a letter or digit");
}

TEST(flags_given_twice_count_as_the_last)
{
    EXPECT_EQ(parse_with("--site", "bergen-2", "--labels", "a=1"), FLAGS_OK);
    EXPECT_STR(opts.site, "bergen-2");
    EXPECT_EQ(parse_with("--labels", "a=1,b=2", "--labels", "c=3"), FLAGS_OK);
    EXPECT_EQ(opts.n_labels, 1);
    EXPECT_STR(opts.labels[0].key, "c");
}

TEST(flags_check_labels)
{
    EXPECT_EQ(parse_with("--labels", "", NULL, NULL), FLAGS_OK);
    EXPECT_EQ(opts.n_labels, 0);
    EXPECT_EQ(parse_with("--labels", "a=1,", NULL, NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--labels: ends with a comma");
}

TEST(flags_check_raft_addresses)
{
    EXPECT_EQ(parse_with("--raft", "127.0.0.1:1,127.0.0.1:1", NULL, NULL),
              FLAGS_ERROR);
    EXPECT_STR(err, "--raft: 127.0.0.1:1 is given twice");
    EXPECT_EQ(parse_with("--raft", "127.0.0.1:1,", NULL, NULL), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--raft", "", NULL, NULL), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--raft", "example.com:80", NULL, NULL), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--raft",
                         "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,"
                         "127.0.0.1:5,127.0.0.1:6,127.0.0.1:7,127.0.0.1:8,"
                         "127.0.0.1:9,127.0.0.1:10",
                         NULL, NULL),
              FLAGS_ERROR);
    EXPECT_STR(err, "--raft: at most 9 addresses");
    EXPECT_EQ(parse_with("--listen", "127.0.0.1", NULL, NULL), FLAGS_ERROR);
    EXPECT_TRUE(strstr(err, "--listen: ") == err);
}

TEST(flags_take_capacity)
{
    EXPECT_EQ(parse_with("--cpu", "0.5", "--memory-mb", "1"), FLAGS_OK);
    EXPECT_EQ(opts.cpu_milli, 500);
    EXPECT_EQ(opts.memory_mb, 1);
    EXPECT_EQ(parse_with("--cpu", "65536.001", NULL, NULL), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--memory-mb", "1099511627777", NULL, NULL),
              FLAGS_ERROR);
}

TEST(flags_take_the_heartbeat_as_a_duration)
{
    EXPECT_EQ(parse_with("--heartbeat-interval", "2s", NULL, NULL), FLAGS_OK);
    EXPECT_EQ(opts.heartbeat_ms, 2000);
    EXPECT_EQ(parse_with("--heartbeat-interval", "1m", NULL, NULL), FLAGS_OK);
    EXPECT_EQ(opts.heartbeat_ms, 60000);
    EXPECT_EQ(parse_with("--heartbeat-interval", "1000", NULL, NULL),
              FLAGS_ERROR);
    EXPECT_EQ(parse_with("--heartbeat-interval", "9ms", NULL, NULL),
              FLAGS_ERROR);
    EXPECT_EQ(parse_with("--heartbeat-interval", "61s", NULL, NULL),
              FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-level", "loud", NULL, NULL), FLAGS_ERROR);
}

TEST(flags_take_the_agent_ttl_and_a_token_file)
{
    EXPECT_EQ(parse_with("--agent-ttl", "2s", "--token-file", "/etc/t"),
              FLAGS_OK);
    EXPECT_EQ(opts.agent_ttl_ms, 2000);
    EXPECT_STR(opts.token_file, "/etc/t");
    EXPECT_EQ(parse_with("--agent-ttl", "99ms", NULL, NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--agent-ttl \"99ms\": expected a duration from 100ms "
                    "to 10m, such as \"5s\"");
    EXPECT_EQ(parse_with("--agent-ttl", "11m", NULL, NULL), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--agent-ttl", "5", NULL, NULL), FLAGS_ERROR);
    EXPECT_EQ(parse_with("--token-file", "", NULL, NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--token-file: expected a path");
}

int main(void)
{
    RUN(flags_accept_a_full_command_line);
    RUN(flags_default_heartbeat_labels_and_capacity);
    RUN(flags_help_wins_over_errors);
    RUN(flags_name_what_is_missing);
    RUN(flags_refuse_unknown_flags_and_stray_arguments);
    RUN(flags_check_the_site_name);
    RUN(flags_given_twice_count_as_the_last);
    RUN(flags_check_labels);
    RUN(flags_check_raft_addresses);
    RUN(flags_take_capacity);
    RUN(flags_take_the_heartbeat_as_a_duration);
    RUN(flags_take_the_agent_ttl_and_a_token_file);
    DONE();
}
