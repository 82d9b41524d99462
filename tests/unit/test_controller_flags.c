/* test_controller_flags.c - the command line of `varde controller` and
 * the durations it takes. */
#include "controller/ctl_flags.h"

#include "harness.h"

#include <stdarg.h>

#define MAX_ARGS 32

static struct ctl_opts opts;
static char err[512];

/* Parse "controller" then the NULL-terminated arguments. */
static enum ctl_flags_result parse(const char *first, ...)
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
static enum ctl_flags_result parse_with(const char *a, const char *b,
                                        const char *c, const char *d)
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
              CTL_FLAGS_OK);
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
    EXPECT_EQ(parse_with(NULL, NULL, NULL, NULL), CTL_FLAGS_OK);
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
    EXPECT_EQ(parse("--bogus", "--help", NULL), CTL_FLAGS_HELP);
    EXPECT_TRUE(strstr(ctl_flags_usage(), "--site NAME") != NULL);
}

TEST(flags_name_what_is_missing)
{
    EXPECT_EQ(parse("--site", "a", "--raft", "127.0.0.1:1", "--listen",
                    "127.0.0.1:2", NULL),
              CTL_FLAGS_ERROR);
    EXPECT_STR(err, "missing --data-dir (see varde controller --help)");
    EXPECT_EQ(parse(NULL), CTL_FLAGS_ERROR);
    EXPECT_STR(err, "missing --site (see varde controller --help)");
    EXPECT_EQ(parse("--site", NULL), CTL_FLAGS_ERROR);
    EXPECT_STR(err, "--site needs a value");
}

TEST(flags_refuse_unknown_flags_and_stray_arguments)
{
    EXPECT_EQ(parse_with("--bogus", "1", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_STR(err, "unknown flag \"--bogus\" (see varde controller --help)");
    EXPECT_EQ(parse_with("stray", NULL, NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_TRUE(strstr(err, "unexpected argument \"stray\"") != NULL);
}

TEST(flags_check_the_site_name)
{
    static const char long_name[] = /* 65 bytes */
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const char *bad[] = {"Oslo", "-a", "", "a b", "a/b", long_name};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_EQ(parse("--site", bad[i], NULL), CTL_FLAGS_ERROR);
        EXPECT_TRUE(strstr(err, "--site") == err);
    }
    EXPECT_TRUE(ctl_site_name_ok("a"));
    EXPECT_TRUE(ctl_site_name_ok("0.b_c-d"));
    EXPECT_TRUE(!ctl_site_name_ok("_a"));
}

TEST(flags_check_labels)
{
    EXPECT_EQ(parse_with("--labels", "", NULL, NULL), CTL_FLAGS_OK);
    EXPECT_EQ(opts.n_labels, 0);
    EXPECT_EQ(parse_with("--labels", "k=", NULL, NULL), CTL_FLAGS_OK);
    EXPECT_STR(opts.labels[0].value, "");
    EXPECT_EQ(parse_with("--labels", "a/b.c=x y", NULL, NULL), CTL_FLAGS_OK);
    EXPECT_EQ(parse_with("--labels", "a=1,a=2", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_STR(err, "--labels: a is given twice");
    EXPECT_EQ(parse_with("--labels", "a=1,", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_STR(err, "--labels: ends with a comma");
    EXPECT_EQ(parse_with("--labels", "novalue", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--labels", "=v", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--labels", "-a=v", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--labels", "a=\x01", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_TRUE(strstr(err, "printable") != NULL);
}

TEST(flags_refuse_too_many_labels)
{
    static char spec[CTL_LABELS_MAX * 8 + 16];
    size_t used = 0;

    for (int i = 0; i <= CTL_LABELS_MAX; i++) {
        used += (size_t)snprintf(spec + used, sizeof(spec) - used, "%sk%d=v",
                                 i ? "," : "", i);
    }
    EXPECT_EQ(parse_with("--labels", spec, NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_STR(err, "--labels: at most 64 labels");
}

TEST(flags_check_raft_addresses)
{
    EXPECT_EQ(parse_with("--raft", "127.0.0.1:1,127.0.0.1:1", NULL, NULL),
              CTL_FLAGS_ERROR);
    EXPECT_STR(err, "--raft: 127.0.0.1:1 is given twice");
    EXPECT_EQ(parse_with("--raft", "127.0.0.1:1,", NULL, NULL),
              CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--raft", "", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--raft", "example.com:80", NULL, NULL),
              CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--raft",
                         "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3,127.0.0.1:4,"
                         "127.0.0.1:5,127.0.0.1:6,127.0.0.1:7,127.0.0.1:8,"
                         "127.0.0.1:9,127.0.0.1:10",
                         NULL, NULL),
              CTL_FLAGS_ERROR);
    EXPECT_STR(err, "--raft: at most 9 addresses");
    EXPECT_EQ(parse_with("--listen", "127.0.0.1", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_TRUE(strstr(err, "--listen: ") == err);
}

TEST(flags_take_cpu_to_the_thousandth)
{
    EXPECT_EQ(parse_with("--cpu", "4", NULL, NULL), CTL_FLAGS_OK);
    EXPECT_EQ(opts.cpu_milli, 4000);
    EXPECT_EQ(parse_with("--cpu", "0.001", NULL, NULL), CTL_FLAGS_OK);
    EXPECT_EQ(opts.cpu_milli, 1);
    EXPECT_EQ(parse_with("--cpu", "0.5", NULL, NULL), CTL_FLAGS_OK);
    EXPECT_EQ(opts.cpu_milli, 500);
    EXPECT_EQ(parse_with("--cpu", "65536", NULL, NULL), CTL_FLAGS_OK);
    EXPECT_EQ(parse_with("--cpu", "65536.001", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--cpu", "0", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_TRUE(strstr(err, "more than 0") != NULL);
    EXPECT_EQ(parse_with("--cpu", "0.0005", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--cpu", "1.", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--cpu", ".5", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--cpu", "-1", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--cpu", "1e3", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--cpu", "99999999999999999999", NULL, NULL),
              CTL_FLAGS_ERROR);
}

TEST(flags_take_memory_in_mib)
{
    EXPECT_EQ(parse_with("--memory-mb", "1", NULL, NULL), CTL_FLAGS_OK);
    EXPECT_EQ(opts.memory_mb, 1);
    EXPECT_EQ(parse_with("--memory-mb", "0", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--memory-mb", "12k", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--memory-mb", "1099511627777", NULL, NULL),
              CTL_FLAGS_ERROR);
}

TEST(flags_take_the_heartbeat_as_a_duration)
{
    EXPECT_EQ(parse_with("--heartbeat-interval", "2s", NULL, NULL),
              CTL_FLAGS_OK);
    EXPECT_EQ(opts.heartbeat_ms, 2000);
    EXPECT_EQ(parse_with("--heartbeat-interval", "1m", NULL, NULL),
              CTL_FLAGS_OK);
    EXPECT_EQ(opts.heartbeat_ms, 60000);
    EXPECT_EQ(parse_with("--heartbeat-interval", "1000", NULL, NULL),
              CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--heartbeat-interval", "9ms", NULL, NULL),
              CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--heartbeat-interval", "61s", NULL, NULL),
              CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--log-level", "loud", NULL, NULL), CTL_FLAGS_ERROR);
}

TEST(flags_take_the_agent_ttl_and_a_token_file)
{
    EXPECT_EQ(parse_with("--agent-ttl", "2s", "--token-file", "/etc/t"),
              CTL_FLAGS_OK);
    EXPECT_EQ(opts.agent_ttl_ms, 2000);
    EXPECT_STR(opts.token_file, "/etc/t");
    EXPECT_EQ(parse_with("--agent-ttl", "99ms", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_STR(err, "--agent-ttl \"99ms\": expected a duration from 100ms "
                    "to 10m, such as \"5s\"");
    EXPECT_EQ(parse_with("--agent-ttl", "11m", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--agent-ttl", "5", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_EQ(parse_with("--token-file", "", NULL, NULL), CTL_FLAGS_ERROR);
    EXPECT_STR(err, "--token-file: expected a path");
}

TEST(durations_have_one_unit_and_no_sign)
{
    uint64_t ms = 0;

    EXPECT_EQ(ctl_parse_duration("500ms", &ms), 0);
    EXPECT_EQ(ms, 500);
    EXPECT_EQ(ctl_parse_duration("30s", &ms), 0);
    EXPECT_EQ(ms, 30000);
    EXPECT_EQ(ctl_parse_duration("2h", &ms), 0);
    EXPECT_EQ(ms, 7200000);
    EXPECT_EQ(ctl_parse_duration("007s", &ms), 0);
    EXPECT_EQ(ms, 7000);
    EXPECT_EQ(ctl_parse_duration("1m30s", &ms), -1);
    EXPECT_EQ(ctl_parse_duration("1.5s", &ms), -1);
    EXPECT_EQ(ctl_parse_duration("-1s", &ms), -1);
    EXPECT_EQ(ctl_parse_duration("s", &ms), -1);
    EXPECT_EQ(ctl_parse_duration("", &ms), -1);
    EXPECT_EQ(ctl_parse_duration("1 s", &ms), -1);
    EXPECT_EQ(ctl_parse_duration("9999999999999h", &ms), -1);
}

int main(void)
{
    RUN(flags_accept_a_full_command_line);
    RUN(flags_default_heartbeat_labels_and_capacity);
    RUN(flags_help_wins_over_errors);
    RUN(flags_name_what_is_missing);
    RUN(flags_refuse_unknown_flags_and_stray_arguments);
    RUN(flags_check_the_site_name);
    RUN(flags_check_labels);
    RUN(flags_refuse_too_many_labels);
    RUN(flags_check_raft_addresses);
    RUN(flags_take_cpu_to_the_thousandth);
    RUN(flags_take_memory_in_mib);
    RUN(flags_take_the_heartbeat_as_a_duration);
    RUN(flags_take_the_agent_ttl_and_a_token_file);
    RUN(durations_have_one_unit_and_no_sign);
    DONE();
}
