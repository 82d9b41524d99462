/* agent_flags.c - parse and check the flags of `varde agent`, from a
 * table (agent_flags.h). */
#include "agent/agent_flags.h"

#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*agent_flag_fn)(struct agent_opts *o, const char *value, char *err,
                             size_t errlen);

struct agent_flag {
    const char *name;
    agent_flag_fn fn;
    bool required;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z');
}

static bool is_alnum(char c)
{
    return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool agent_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > AGENT_NAME_MAX || !is_lower_alnum(s[0])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_lower_alnum(s[i]) && strchr("-_.", s[i]) == NULL) {
            return false;
        }
    }
    return true;
}

/* N digits at S (1..18 of them, so no overflow) into *OUT. 0, or -1. */
static int parse_digits(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 18) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(s[i])) {
            return -1;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* The leading digits of S: their count. */
static size_t count_digits(const char *s)
{
    size_t n = 0;

    while (is_digit(s[n])) {
        n++;
    }
    return n;
}

int agent_parse_duration(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    size_t digits = count_digits(s);
    uint64_t v;

    if (digits > 12 || parse_digits(s, digits, &v) < 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(s + digits, units[i].unit) == 0) {
            *out = v * units[i].ms;
            return 0;
        }
    }
    return -1;
}

static int flag_name(struct agent_opts *o, const char *v, char *err,
                     size_t errlen)
{
    if (!agent_name_ok(v)) {
        return err_fail(err, errlen,
                        "--name \"%.64s\": expected 1..64 of a-z, 0-9, '-', "
                        "'_' and '.', starting with a letter or digit",
                        v);
    }
    snprintf(o->name, sizeof(o->name), "%s", v);
    return 0;
}

static bool label_key_ok(const char *k, size_t n)
{
    if (n == 0 || n > AGENT_LABEL_KEY_MAX || !is_alnum(k[0])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!is_alnum(k[i]) && strchr("-_./", k[i]) == NULL) {
            return false;
        }
    }
    return true;
}

static bool label_value_ok(const char *v, size_t n)
{
    if (n > AGENT_LABEL_VALUE_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

/* Insert KEY=VALUE (N bytes at ITEM) into o->labels, kept sorted. */
static int label_add(struct agent_opts *o, const char *item, size_t n,
                     char *err, size_t errlen)
{
    const char *eq = memchr(item, '=', n);
    size_t kn = eq ? (size_t)(eq - item) : 0;
    size_t vn = eq ? n - kn - 1 : 0;
    char key[AGENT_LABEL_KEY_MAX + 1];
    size_t at = 0;
    int cmp = 1;

    if (eq == NULL || !label_key_ok(item, kn)) {
        return err_fail(err, errlen,
                        "--labels: \"%.*s\": expected NAME=VALUE, NAME 1..64 "
                        "of letters, digits, '-', '_', '.' and '/', starting "
                        "with a letter or digit",
                        (int)(n > 80 ? 80 : n), item);
    }
    if (!label_value_ok(eq + 1, vn)) {
        return err_fail(err, errlen,
                        "--labels: %.*s: the value must be at most 256 "
                        "printable ASCII bytes",
                        (int)kn, item);
    }
    if (o->n_labels == AGENT_LABELS_MAX) {
        return err_fail(err, errlen, "--labels: at most %d labels",
                        AGENT_LABELS_MAX);
    }
    snprintf(key, sizeof(key), "%.*s", (int)kn, item);
    while (at < o->n_labels && (cmp = strcmp(o->labels[at].key, key)) < 0) {
        at++;
    }
    if (at < o->n_labels && cmp == 0) {
        return err_fail(err, errlen, "--labels: %s is given twice", key);
    }
    memmove(&o->labels[at + 1], &o->labels[at],
            (o->n_labels - at) * sizeof(o->labels[0]));
    memcpy(o->labels[at].key, key, sizeof(key));
    snprintf(o->labels[at].value, sizeof(o->labels[at].value), "%.*s", (int)vn,
             eq + 1);
    o->n_labels++;
    return 0;
}

static int flag_labels(struct agent_opts *o, const char *v, char *err,
                       size_t errlen)
{
    while (*v != '\0') {
        const char *comma = strchr(v, ',');
        size_t n = comma ? (size_t)(comma - v) : strlen(v);

        if (label_add(o, v, n, err, errlen) < 0) {
            return -1;
        }
        v += n + (comma != NULL);
        if (comma != NULL && *v == '\0') {
            return err_fail(err, errlen, "--labels: ends with a comma");
        }
    }
    return 0;
}

static int flag_addr(const char *flag, struct addr *out, const char *v,
                     char *err, size_t errlen)
{
    char why[200];

    if (addr_parse(v, out, why, sizeof(why)) < 0) {
        return err_fail(err, errlen, "--%s: %s", flag, why);
    }
    return 0;
}

static int flag_controller(struct agent_opts *o, const char *v, char *err,
                           size_t errlen)
{
    return flag_addr("controller", &o->controller, v, err, errlen);
}

static int flag_listen(struct agent_opts *o, const char *v, char *err,
                       size_t errlen)
{
    return flag_addr("listen", &o->listen, v, err, errlen);
}

static int flag_data_dir(struct agent_opts *o, const char *v, char *err,
                         size_t errlen)
{
    if (v[0] == '\0' || strlen(v) > AGENT_DATA_DIR_MAX) {
        return err_fail(err, errlen,
                        "--data-dir: expected a path of 1 to %d bytes",
                        AGENT_DATA_DIR_MAX);
    }
    o->data_dir = v;
    return 0;
}

static int flag_token_file(struct agent_opts *o, const char *v, char *err,
                           size_t errlen)
{
    if (v[0] == '\0') {
        return err_fail(err, errlen, "--token-file: empty path");
    }
    o->token_file = v;
    return 0;
}

/* Cores to the thousandth: "4", "0.5", "2.125". */
static int flag_cpu(struct agent_opts *o, const char *v, char *err,
                    size_t errlen)
{
    const char *dot = strchr(v, '.');
    size_t whole = dot ? (size_t)(dot - v) : strlen(v);
    size_t frac = dot ? strlen(dot + 1) : 0;
    uint64_t w, f = 0;

    if (whole > 7 || parse_digits(v, whole, &w) < 0 ||
        (dot != NULL &&
         (frac == 0 || frac > 3 || parse_digits(dot + 1, frac, &f) < 0))) {
        return err_fail(err, errlen,
                        "--cpu \"%.32s\": expected cores, a multiple of "
                        "0.001 (e.g. 4 or 0.5)",
                        v);
    }
    for (size_t i = frac; i < 3; i++) {
        f *= 10;
    }
    o->cpu_milli = w * 1000 + f;
    if (o->cpu_milli == 0 || o->cpu_milli > AGENT_CPU_MAX_MILLI) {
        return err_fail(err, errlen,
                        "--cpu \"%.32s\": must be more than 0 and at most "
                        "%llu cores",
                        v, AGENT_CPU_MAX_MILLI / 1000);
    }
    return 0;
}

static int flag_memory(struct agent_opts *o, const char *v, char *err,
                       size_t errlen)
{
    if (parse_digits(v, strlen(v), &o->memory_mb) < 0 || o->memory_mb == 0 ||
        o->memory_mb > AGENT_MEMORY_MAX_MB) {
        return err_fail(err, errlen,
                        "--memory-mb \"%.32s\": expected MiB, 1 to %llu", v,
                        AGENT_MEMORY_MAX_MB);
    }
    return 0;
}

static int flag_heartbeat(struct agent_opts *o, const char *v, char *err,
                          size_t errlen)
{
    uint64_t ms;

    if (agent_parse_duration(v, &ms) < 0 || ms < AGENT_HEARTBEAT_MIN_MS ||
        ms > AGENT_HEARTBEAT_MAX_MS) {
        return err_fail(err, errlen,
                        "--heartbeat-interval \"%.32s\": expected a duration "
                        "from 10ms to 60s, such as \"500ms\" or \"1s\"",
                        v);
    }
    o->heartbeat_ms = (uint32_t)ms;
    return 0;
}

/* Bytes, with an optional K, M or G (powers of 1024): "4096", "1M". */
static int flag_log_max(struct agent_opts *o, const char *v, char *err,
                        size_t errlen)
{
    size_t digits = count_digits(v);
    uint64_t n, mult = 1;

    if (strcmp(v + digits, "K") == 0) {
        mult = 1ull << 10;
    } else if (strcmp(v + digits, "M") == 0) {
        mult = 1ull << 20;
    } else if (strcmp(v + digits, "G") == 0) {
        mult = 1ull << 30;
    } else if (v[digits] != '\0') {
        digits = 0; /* refused below */
    }
    if (digits > 10 || parse_digits(v, digits, &n) < 0 ||
        n * mult < AGENT_LOG_MAX_MIN || n * mult > AGENT_LOG_MAX_MAX) {
        return err_fail(err, errlen,
                        "--log-max-bytes \"%.32s\": expected bytes from 4096 "
                        "to 1G (a K, M or G suffix is fine)",
                        v);
    }
    o->log_max_bytes = n * mult;
    return 0;
}

static int flag_log_level(struct agent_opts *o, const char *v, char *err,
                          size_t errlen)
{
    if (log_parse_level(v, &o->log_level) < 0) {
        return err_fail(err, errlen,
                        "--log-level \"%.32s\": expected debug, info, warn "
                        "or error",
                        v);
    }
    return 0;
}

static const struct agent_flag agent_flags[] = {
    {"name", flag_name, true},
    {"controller", flag_controller, true},
    {"listen", flag_listen, true},
    {"data-dir", flag_data_dir, true},
    {"labels", flag_labels, false},
    {"cpu", flag_cpu, false},
    {"memory-mb", flag_memory, false},
    {"heartbeat-interval", flag_heartbeat, false},
    {"log-max-bytes", flag_log_max, false},
    {"log-level", flag_log_level, false},
    {"token-file", flag_token_file, false},
};

#define AGENT_N_FLAGS (sizeof(agent_flags) / sizeof(agent_flags[0]))

const char *agent_flags_usage(void)
{
    return "usage: varde agent --name NAME --controller HOST:PORT "
           "--listen HOST:PORT\n"
           "                   --data-dir DIR [options]\n"
           "\n"
           "Run the agent of one edge machine: it registers with its site's "
           "controller,\n"
           "heartbeats, watches its tasks and runs each as a process. Tasks "
           "keep running\n"
           "when the agent stops; a restarted agent adopts them.\n"
           "\n"
           "  --name NAME                the agent's name, unique in its "
           "site: 1..64 of\n"
           "                             a-z, 0-9, '-', '_', '.'\n"
           "  --controller HOST:PORT     the site's controller\n"
           "  --listen HOST:PORT         this agent's API (status, logs); "
           "outgoing\n"
           "                             connections are bound to HOST too\n"
           "  --data-dir DIR             agent.json and the tasks' dirs "
           "(created if\n"
           "                             missing)\n"
           "  --labels K=V,K2=V2         the machine's labels (default "
           "none)\n"
           "  --cpu CORES                capacity for tasks, e.g. 4 or 0.5 "
           "(default: this\n"
           "                             machine's cores)\n"
           "  --memory-mb MB             capacity for tasks (default: this "
           "machine's\n"
           "                             memory)\n"
           "  --heartbeat-interval D     e.g. 500ms, 1s (default 1s)\n"
           "  --log-max-bytes N          output kept per task before a "
           "rotation, e.g.\n"
           "                             65536 or 4M (default 1M; one "
           "rotated file kept)\n"
           "  --log-level LEVEL          debug, info, warn, error "
           "(default info)\n"
           "  --token-file PATH          the site's access token: sent to "
           "the controller,\n"
           "                             required by this agent's API "
           "(default none)\n"
           "  --help                     this text\n";
}

static int flag_find(const char *name, size_t n)
{
    for (size_t i = 0; i < AGENT_N_FLAGS; i++) {
        if (strlen(agent_flags[i].name) == n &&
            strncmp(agent_flags[i].name, name, n) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* One flag at ARGV[*I], with its value from "=VALUE" or the next argument;
 * advances *I past what it used and marks the flag in SEEN. */
static int flag_one(int argc, char **argv, int *i, struct agent_opts *o,
                    bool *seen, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    const char *eq, *value;
    size_t n;
    int f;

    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
        return err_fail(err, errlen,
                        "unexpected argument \"%.64s\" (see varde agent "
                        "--help)",
                        arg);
    }
    eq = strchr(arg + 2, '=');
    n = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    value = eq ? eq + 1 : NULL;
    f = flag_find(arg + 2, n);
    if (f < 0) {
        return err_fail(err, errlen,
                        "unknown flag \"%.*s\" (see varde agent --help)",
                        (int)(n > 64 ? 66 : n + 2), arg);
    }
    if (seen[f]) {
        return err_fail(err, errlen, "--%s is given twice",
                        agent_flags[f].name);
    }
    seen[f] = true;
    if (value == NULL) {
        if (*i + 1 >= argc) {
            return err_fail(err, errlen, "--%s needs a value",
                            agent_flags[f].name);
        }
        value = argv[++*i];
    }
    return agent_flags[f].fn(o, value, err, errlen);
}

enum agent_flags_result agent_flags_parse(int argc, char **argv,
                                          struct agent_opts *out, char *err,
                                          size_t errlen)
{
    bool seen[AGENT_N_FLAGS] = {false};

    memset(out, 0, sizeof(*out));
    out->heartbeat_ms = AGENT_HEARTBEAT_DEFAULT_MS;
    out->log_max_bytes = AGENT_LOG_MAX_DEFAULT;
    out->log_level = LOG_INFO;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return AGENT_FLAGS_HELP;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (flag_one(argc, argv, &i, out, seen, err, errlen) < 0) {
            return AGENT_FLAGS_ERROR;
        }
    }
    for (size_t f = 0; f < AGENT_N_FLAGS; f++) {
        if (agent_flags[f].required && !seen[f]) {
            err_fail(err, errlen, "missing --%s (see varde agent --help)",
                     agent_flags[f].name);
            return AGENT_FLAGS_ERROR;
        }
    }
    return AGENT_FLAGS_OK;
}
