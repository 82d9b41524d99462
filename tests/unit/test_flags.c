/* test_flags.c - what the daemons' command lines share: the scan of a
 * table of flags (util/flags.h), the values they have in common, and
 * label lists (util/labels.h). Each daemon's own flags are tested in
 * test_agent_flags.c and test_controller_flags.c. */
#include "util/flags.h"
#include "util/labels.h"

#include "harness.h"

#include <stdarg.h>

#define MAX_ARGS 16

/* The options of a toy daemon, "toy". */
struct toy {
    const char *need;
    const char *opt;
    int calls;
    bool on;
};

static int toy_need(void *opts, const char *v, char *err, size_t errlen)
{
    struct toy *t = opts;

    (void)err, (void)errlen;
    t->need = v;
    t->calls++;
    return 0;
}

static int toy_opt(void *opts, const char *v, char *err, size_t errlen)
{
    struct toy *t = opts;

    if (strcmp(v, "bad") == 0) {
        return flags_path("opt", "", 0, &t->opt, err, errlen);
    }
    t->opt = v;
    t->calls++;
    return 0;
}

static int toy_switch(void *opts, const char *v, char *err, size_t errlen)
{
    struct toy *t = opts;

    (void)err, (void)errlen;
    t->on = v[0] == '\0';
    return 0;
}

static const struct flags_def toy_defs[] = {
    {"need", toy_need, FLAGS_REQUIRED},
    {"opt", toy_opt, 0},
    {"switch", toy_switch, FLAGS_NO_VALUE},
};

static struct toy toy;
static bool given[3];
static char err[512];

/* Scan "toy" then the NULL-terminated arguments; ONCE as in the table. */
static enum flags_result scan(bool once, const char *first, ...)
{
    const struct flags_table t = {"toy", toy_defs, 3, once};
    char *argv[MAX_ARGS];
    int argc = 0;
    va_list ap;

    argv[argc++] = "toy";
    va_start(ap, first);
    for (const char *a = first; a != NULL && argc < MAX_ARGS;
         a = va_arg(ap, const char *)) {
        argv[argc++] = (char *)a;
    }
    va_end(ap);
    memset(&toy, 0, sizeof(toy));
    memset(given, 0, sizeof(given));
    err[0] = '\0';
    return flags_parse(&t, argc, argv, &toy, given, err, sizeof(err));
}

TEST(scan_takes_both_forms_and_says_what_was_given)
{
    EXPECT_EQ(scan(true, "--need", "a", "--opt=b=c", "--switch", NULL),
              FLAGS_OK);
    EXPECT_STR(toy.need, "a");
    EXPECT_STR(toy.opt, "b=c");
    EXPECT_TRUE(toy.on);
    EXPECT_TRUE(given[0] && given[1] && given[2]);
    EXPECT_EQ(scan(true, "--need=", NULL), FLAGS_OK);
    EXPECT_STR(toy.need, "");
    EXPECT_TRUE(given[0] && !given[1] && !given[2]);
}

TEST(scan_help_wins_over_errors)
{
    EXPECT_EQ(scan(true, "--bogus", "--help", NULL), FLAGS_HELP);
    EXPECT_EQ(scan(true, "stray", "-h", NULL), FLAGS_HELP);
}

TEST(scan_names_the_first_missing_required_flag)
{
    EXPECT_EQ(scan(true, "--opt", "x", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "missing --need (see varde toy --help)");
}

TEST(scan_refuses_unknown_stray_and_valueless)
{
    EXPECT_EQ(scan(true, "--need", "a", "--bogus", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "unknown flag \"--bogus\" (see varde toy --help)");
    EXPECT_EQ(scan(true, "--need", "a", "--bogus=1", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "unknown flag \"--bogus\" (see varde toy --help)");
    EXPECT_EQ(scan(true, "--need", "a", "stray", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "unexpected argument \"stray\" (see varde toy --help)");
    EXPECT_EQ(scan(true, "--", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "unexpected argument \"--\" (see varde toy --help)");
    EXPECT_EQ(scan(true, "--need", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--need needs a value");
    EXPECT_EQ(scan(true, "--need", "a", "--switch=1", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--switch takes no value");
}

TEST(scan_bounds_what_it_quotes)
{
    static char long_flag[300], long_arg[300];

    memset(long_flag, 'x', sizeof(long_flag) - 1);
    memcpy(long_flag, "--", 2);
    memset(long_arg, 'y', sizeof(long_arg) - 1);
    EXPECT_EQ(scan(true, long_flag, NULL), FLAGS_ERROR);
    EXPECT_TRUE(strlen(err) < 120);
    EXPECT_EQ(scan(true, long_arg, NULL), FLAGS_ERROR);
    EXPECT_TRUE(strlen(err) < 120);
}

TEST(scan_refuses_a_repeat_or_takes_the_last_as_the_table_says)
{
    EXPECT_EQ(scan(true, "--need", "a", "--need", "b", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--need is given twice");
    EXPECT_EQ(scan(false, "--need", "a", "--need", "b", NULL), FLAGS_OK);
    EXPECT_STR(toy.need, "b");
    EXPECT_EQ(toy.calls, 2);
}

TEST(scan_passes_on_a_handler_refusal)
{
    EXPECT_EQ(scan(true, "--need", "a", "--opt", "bad", NULL), FLAGS_ERROR);
    EXPECT_STR(err, "--opt: expected a path");
}

TEST(exit_codes_for_a_main)
{
    EXPECT_EQ(flags_exit(FLAGS_OK, "toy", "usage\n", ""), -1);
    EXPECT_EQ(flags_exit(FLAGS_HELP, "toy", "", ""), 0);
    EXPECT_EQ(flags_exit(FLAGS_ERROR, "toy", "",
                         "(a refusal printed on purpose by test_flags)"),
              2);
}

TEST(names_follow_the_rules_of_a_site_name)
{
    static const char max[] = /* 64 bytes */
        "a123456789012345678901234567890123456789012345678901234567890123";
    static const char over[] = /* 65 bytes */
        "a1234567890123456789012345678901234567890123456789012345678901234";
    const char *bad[] = {"", "-a", "_a", ".a", "Oslo", "a b", "a/b", over};
    char out[FLAGS_NAME_MAX + 1];

    EXPECT_TRUE(flags_name_ok("a"));
    EXPECT_TRUE(flags_name_ok("oslo-1.a_b"));
    EXPECT_TRUE(flags_name_ok("0.b_c-d"));
    EXPECT_TRUE(flags_name_ok(max));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_TRUE(!flags_name_ok(bad[i]));
    }
    EXPECT_EQ(flags_name("site", "Edge", out, err, sizeof(err)), -1);
    EXPECT_STR(err, "--site \"Edge\": expected 1..64 of a-z, 0-9, '-', '_' "
                    "and '.', starting with a letter or digit");
    EXPECT_EQ(flags_name("name", max, out, err, sizeof(err)), 0);
    EXPECT_STR(out, max);
}

TEST(addresses_paths_and_log_levels)
{
    struct addr a;
    const char *path = NULL;
    enum log_level level = LOG_INFO;

    EXPECT_EQ(flags_addr("listen", "127.0.0.11:7301", &a, err, sizeof(err)), 0);
    EXPECT_STR(a.host, "127.0.0.11");
    EXPECT_EQ(flags_addr("raft", "oslo.example:1", &a, err, sizeof(err)), -1);
    EXPECT_TRUE(strncmp(err, "--raft: ", 8) == 0);
    EXPECT_EQ(flags_path("data-dir", "", 0, &path, err, sizeof(err)), -1);
    EXPECT_STR(err, "--data-dir: expected a path");
    EXPECT_EQ(flags_path("data-dir", "", 8, &path, err, sizeof(err)), -1);
    EXPECT_STR(err, "--data-dir: expected a path of 1 to 8 bytes");
    EXPECT_EQ(flags_path("data-dir", "/var/abcd", 8, &path, err, sizeof(err)),
              -1);
    EXPECT_EQ(flags_path("data-dir", "/var/abc", 8, &path, err, sizeof(err)),
              0);
    EXPECT_STR(path, "/var/abc");
    EXPECT_EQ(flags_log_level("log-level", "warn", &level, err, sizeof(err)),
              0);
    EXPECT_EQ(level, LOG_WARN);
    EXPECT_EQ(flags_log_level("log-level", "loud", &level, err, sizeof(err)),
              -1);
    EXPECT_STR(err, "--log-level \"loud\": expected debug, info, warn or "
                    "error");
}

TEST(cpu_is_cores_to_the_thousandth)
{
    const char *bad[] = {"0.0005", "1.", ".5",  "-1",
                         "1e3",    "",   "0x1", "99999999999999999999"};
    uint64_t m = 0;

    EXPECT_EQ(flags_cpu("cpu", "4", 65536000, &m, err, sizeof(err)), 0);
    EXPECT_EQ(m, 4000);
    EXPECT_EQ(flags_cpu("cpu", "0.001", 65536000, &m, err, sizeof(err)), 0);
    EXPECT_EQ(m, 1);
    EXPECT_EQ(flags_cpu("cpu", "2.125", 65536000, &m, err, sizeof(err)), 0);
    EXPECT_EQ(m, 2125);
    EXPECT_EQ(flags_cpu("cpu", "0.5", 65536000, &m, err, sizeof(err)), 0);
    EXPECT_EQ(m, 500);
    EXPECT_EQ(flags_cpu("cpu", "65536", 65536000, &m, err, sizeof(err)), 0);
    EXPECT_EQ(flags_cpu("cpu", "65536.001", 65536000, &m, err, sizeof(err)),
              -1);
    EXPECT_EQ(flags_cpu("cpu", "0", 65536000, &m, err, sizeof(err)), -1);
    EXPECT_STR(err, "--cpu \"0\": must be more than 0 and at most 65536 "
                    "cores");
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_EQ(flags_cpu("cpu", bad[i], 65536000, &m, err, sizeof(err)), -1);
        EXPECT_TRUE(strstr(err, "expected cores") != NULL);
    }
    EXPECT_EQ(m, 65536000); /* a refusal stores nothing */
}

TEST(memory_is_whole_mib)
{
    uint64_t mb = 0;

    EXPECT_EQ(
        flags_memory_mb("memory-mb", "8192", 1ull << 40, &mb, err, sizeof(err)),
        0);
    EXPECT_EQ(mb, 8192);
    EXPECT_EQ(flags_memory_mb("memory-mb", "1099511627776", 1ull << 40, &mb,
                              err, sizeof(err)),
              0);
    EXPECT_EQ(flags_memory_mb("memory-mb", "1099511627777", 1ull << 40, &mb,
                              err, sizeof(err)),
              -1);
    EXPECT_STR(err, "--memory-mb \"1099511627777\": expected MiB, 1 to "
                    "1099511627776");
    EXPECT_EQ(
        flags_memory_mb("memory-mb", "0", 1ull << 40, &mb, err, sizeof(err)),
        -1);
    EXPECT_EQ(
        flags_memory_mb("memory-mb", "12k", 1ull << 40, &mb, err, sizeof(err)),
        -1);
    EXPECT_EQ(flags_memory_mb("memory-mb", "99999999999999999999", 1ull << 40,
                              &mb, err, sizeof(err)),
              -1);
}

TEST(durations_have_one_unit_and_no_sign)
{
    const char *bad[] = {"1m30s", "1.5s", "-1s",  "s",
                         "",      "1 s",  "1000", "9999999999999h"};
    uint64_t ms = 0;

    EXPECT_EQ(flags_parse_duration("500ms", &ms), 0);
    EXPECT_EQ(ms, 500);
    EXPECT_EQ(flags_parse_duration("30s", &ms), 0);
    EXPECT_EQ(ms, 30000);
    EXPECT_EQ(flags_parse_duration("3m", &ms), 0);
    EXPECT_EQ(ms, 180000);
    EXPECT_EQ(flags_parse_duration("2h", &ms), 0);
    EXPECT_EQ(ms, 7200000);
    EXPECT_EQ(flags_parse_duration("007s", &ms), 0);
    EXPECT_EQ(ms, 7000);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_EQ(flags_parse_duration(bad[i], &ms), -1);
    }
}

TEST(durations_in_a_range_and_label_flags)
{
    static struct label l[LABELS_MAX];
    uint32_t ms = 0;
    size_t n = 0;

    EXPECT_EQ(flags_duration("agent-ttl", "2s", 100, 600000, "from 100ms", &ms,
                             err, sizeof(err)),
              0);
    EXPECT_EQ(ms, 2000);
    EXPECT_EQ(flags_duration("agent-ttl", "99ms", 100, 600000, "from 100ms",
                             &ms, err, sizeof(err)),
              -1);
    EXPECT_STR(err, "--agent-ttl \"99ms\": expected a duration from 100ms");
    EXPECT_EQ(flags_duration("agent-ttl", "11m", 100, 600000, "x", &ms, err,
                             sizeof(err)),
              -1);
    EXPECT_EQ(ms, 2000);
    EXPECT_EQ(flags_labels("labels", "b=1,a=2", l, &n, err, sizeof(err)), 0);
    EXPECT_EQ(n, 2);
    EXPECT_STR(l[0].key, "a");
    EXPECT_EQ(flags_labels("labels", "a=1,", l, &n, err, sizeof(err)), -1);
    EXPECT_STR(err, "--labels: ends with a comma");
}

TEST(sizes_take_a_binary_suffix)
{
    const char *bad[] = {"64k", "K", "", "1MB", "-1", "12345678901"};
    uint64_t n = 0;

    EXPECT_EQ(flags_parse_bytes("4096", &n), 0);
    EXPECT_EQ(n, 4096);
    EXPECT_EQ(flags_parse_bytes("64K", &n), 0);
    EXPECT_EQ(n, 65536);
    EXPECT_EQ(flags_parse_bytes("4M", &n), 0);
    EXPECT_EQ(n, 4 << 20);
    EXPECT_EQ(flags_parse_bytes("1G", &n), 0);
    EXPECT_EQ(n, 1 << 30);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_EQ(flags_parse_bytes(bad[i], &n), -1);
    }
}

TEST(labels_are_sorted_unique_and_checked)
{
    static struct label l[LABELS_MAX];
    size_t n = 99;

    EXPECT_EQ(labels_parse("", l, &n, err, sizeof(err)), 0);
    EXPECT_EQ(n, 0);
    EXPECT_EQ(
        labels_parse("zone=b,arch=arm64,k/x.y=v=w,e=", l, &n, err, sizeof(err)),
        0);
    EXPECT_EQ(n, 4);
    EXPECT_STR(l[0].key, "arch"); /* sorted by name */
    EXPECT_STR(l[0].value, "arm64");
    EXPECT_STR(l[1].key, "e");
    EXPECT_STR(l[1].value, "");
    EXPECT_STR(l[2].value, "v=w");
    EXPECT_STR(l[3].key, "zone");
    EXPECT_EQ(labels_parse("a=1,a=2", l, &n, err, sizeof(err)), -1);
    EXPECT_STR(err, "a is given twice");
    EXPECT_EQ(labels_parse("a=1,", l, &n, err, sizeof(err)), -1);
    EXPECT_STR(err, "ends with a comma");
    EXPECT_EQ(labels_parse("a=1,,b=2", l, &n, err, sizeof(err)), -1);
    EXPECT_EQ(labels_parse("noequals", l, &n, err, sizeof(err)), -1);
    EXPECT_TRUE(strstr(err, "expected NAME=VALUE") != NULL);
    EXPECT_EQ(labels_parse("=v", l, &n, err, sizeof(err)), -1);
    EXPECT_EQ(labels_parse("-a=v", l, &n, err, sizeof(err)), -1);
    EXPECT_EQ(labels_parse("a=\x01", l, &n, err, sizeof(err)), -1);
    EXPECT_STR(err, "a: the value must be at most 256 printable ASCII bytes");
}

TEST(labels_are_bounded)
{
    static struct label l[LABELS_MAX];
    static char spec[LABELS_MAX * 8 + 16];
    size_t used = 0, n = 0;

    for (int i = 0; i <= LABELS_MAX; i++) {
        used += (size_t)snprintf(spec + used, sizeof(spec) - used, "%sk%d=v",
                                 i ? "," : "", i);
    }
    EXPECT_EQ(labels_parse(spec, l, &n, err, sizeof(err)), -1);
    EXPECT_STR(err, "at most 64 labels");
    EXPECT_TRUE(label_ok("a/b.c", 5, "x y", 3));
    EXPECT_TRUE(!label_ok("a", 1, "\x7f", 1));
    EXPECT_TRUE(!label_ok("", 0, "v", 1));
}

int main(void)
{
    RUN(scan_takes_both_forms_and_says_what_was_given);
    RUN(scan_help_wins_over_errors);
    RUN(scan_names_the_first_missing_required_flag);
    RUN(scan_refuses_unknown_stray_and_valueless);
    RUN(scan_bounds_what_it_quotes);
    RUN(scan_refuses_a_repeat_or_takes_the_last_as_the_table_says);
    RUN(scan_passes_on_a_handler_refusal);
    RUN(exit_codes_for_a_main);
    RUN(names_follow_the_rules_of_a_site_name);
    RUN(addresses_paths_and_log_levels);
    RUN(cpu_is_cores_to_the_thousandth);
    RUN(memory_is_whole_mib);
    RUN(durations_have_one_unit_and_no_sign);
    RUN(durations_in_a_range_and_label_flags);
    RUN(sizes_take_a_binary_suffix);
    RUN(labels_are_sorted_unique_and_checked);
    RUN(labels_are_bounded);
    DONE();
}
