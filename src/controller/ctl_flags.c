/* ctl_flags.c - parse and check the flags of `varde controller`, from a
 * table. */
#include "controller/ctl_flags.h"

#include "util/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ctl_flags_seen {
    bool site, raft, listen, data_dir;
};

typedef int (*ctl_flag_fn)(struct ctl_opts *o, const char *value,
                           struct ctl_flags_seen *seen, char *err,
                           size_t errlen);

struct ctl_flag {
    const char *name;
    ctl_flag_fn fn;
};

static bool ctl_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool ctl_is_lower_alnum(char c)
{
    return ctl_is_digit(c) || (c >= 'a' && c <= 'z');
}

static bool ctl_is_alnum(char c)
{
    return ctl_is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

bool ctl_site_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > CTL_SITE_MAX || !ctl_is_lower_alnum(s[0])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!ctl_is_lower_alnum(s[i]) && strchr("-_.", s[i]) == NULL) {
            return false;
        }
    }
    return true;
}

/* Digits only, at most 19 of them (no overflow). Returns 0, or -1. */
static int ctl_parse_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 19) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!ctl_is_digit(s[i])) {
            return -1;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

int ctl_parse_duration(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    size_t digits = 0;
    uint64_t v;

    while (ctl_is_digit(s[digits])) {
        digits++;
    }
    if (digits == 0 || digits > 12 || ctl_parse_u64(s, digits, &v) < 0) {
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

static int flag_site(struct ctl_opts *o, const char *v,
                     struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    if (!ctl_site_name_ok(v)) {
        return err_fail(err, errlen,
                        "--site \"%.64s\": expected 1..64 of a-z, 0-9, '-', "
                        "'_' and '.', starting with a letter or digit",
                        v);
    }
    snprintf(o->site, sizeof(o->site), "%s", v);
    seen->site = true;
    return 0;
}

static bool ctl_label_name_ok(const char *k, size_t n)
{
    if (n == 0 || n > CTL_LABEL_KEY_MAX || !ctl_is_alnum(k[0])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!ctl_is_alnum(k[i]) && strchr("-_./", k[i]) == NULL) {
            return false;
        }
    }
    return true;
}

static bool ctl_label_value_ok(const char *v, size_t n)
{
    if (n > CTL_LABEL_VALUE_MAX) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] >= 0x7f) {
            return false;
        }
    }
    return true;
}

bool ctl_label_ok(const char *key, size_t kn, const char *value, size_t vn)
{
    return ctl_label_name_ok(key, kn) && ctl_label_value_ok(value, vn);
}

/* Add the label "KEY=VALUE" (N bytes at ITEM), keeping the list sorted. */
static int ctl_label_add(struct ctl_opts *o, const char *item, size_t n,
                         char *err, size_t errlen)
{
    const char *eq = memchr(item, '=', n);
    size_t kn = eq ? (size_t)(eq - item) : 0, vn = eq ? n - kn - 1 : 0;
    char key[CTL_LABEL_KEY_MAX + 1];
    size_t at = 0;
    int cmp = 1;

    if (eq == NULL || !ctl_label_name_ok(item, kn)) {
        return err_fail(err, errlen,
                        "--labels: \"%.*s\": expected NAME=VALUE, NAME 1..64 "
                        "of letters, digits, '-', '_', '.' and '/', starting "
                        "with a letter or digit",
                        (int)(n > 80 ? 80 : n), item);
    }
    if (!ctl_label_value_ok(eq + 1, vn)) {
        return err_fail(err, errlen,
                        "--labels: %.*s: the value must be at most 256 "
                        "printable ASCII bytes",
                        (int)kn, item);
    }
    if (o->n_labels == CTL_LABELS_MAX) {
        return err_fail(err, errlen, "--labels: at most %d labels",
                        CTL_LABELS_MAX);
    }
    snprintf(key, sizeof(key), "%.*s", (int)kn, item);
    while (at < o->n_labels && (cmp = strcmp(o->labels[at].key, key)) < 0) {
        at++;
    }
    if (at < o->n_labels && cmp == 0) {
        return err_fail(err, errlen, "--labels: %.*s is given twice", (int)kn,
                        item);
    }
    memmove(&o->labels[at + 1], &o->labels[at],
            (o->n_labels - at) * sizeof(o->labels[0]));
    memcpy(o->labels[at].key, key, sizeof(key));
    snprintf(o->labels[at].value, sizeof(o->labels[at].value), "%.*s", (int)vn,
             eq + 1);
    o->n_labels++;
    return 0;
}

static int flag_labels(struct ctl_opts *o, const char *v,
                       struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    (void)seen;
    o->n_labels = 0;
    while (*v != '\0') {
        const char *comma = strchr(v, ',');
        size_t n = comma ? (size_t)(comma - v) : strlen(v);

        if (ctl_label_add(o, v, n, err, errlen) < 0) {
            return -1;
        }
        v += n + (comma != NULL);
        if (comma != NULL && *v == '\0') {
            return err_fail(err, errlen, "--labels: ends with a comma");
        }
    }
    return 0;
}

static int flag_raft(struct ctl_opts *o, const char *v,
                     struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    char item[128], why[200];

    o->n_raft = 0;
    for (;;) {
        const char *comma = strchr(v, ',');
        size_t n = comma ? (size_t)(comma - v) : strlen(v);
        struct addr *a = &o->raft[o->n_raft];

        if (o->n_raft == CTL_RAFT_MAX) {
            return err_fail(err, errlen, "--raft: at most %d addresses",
                            CTL_RAFT_MAX);
        }
        snprintf(item, sizeof(item), "%.*s", (int)(n > 100 ? 100 : n), v);
        if (addr_parse(item, a, why, sizeof(why)) < 0) {
            return err_fail(err, errlen, "--raft: %s", why);
        }
        for (size_t i = 0; i < o->n_raft; i++) {
            if (addr_equal(&o->raft[i], a)) {
                return err_fail(err, errlen, "--raft: %s is given twice",
                                a->text);
            }
        }
        o->n_raft++;
        if (comma == NULL) {
            break;
        }
        v = comma + 1;
    }
    seen->raft = true;
    return 0;
}

static int flag_listen(struct ctl_opts *o, const char *v,
                       struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    char why[200];

    if (addr_parse(v, &o->listen, why, sizeof(why)) < 0) {
        return err_fail(err, errlen, "--listen: %s", why);
    }
    seen->listen = true;
    return 0;
}

static int flag_data_dir(struct ctl_opts *o, const char *v,
                         struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    if (v[0] == '\0') {
        return err_fail(err, errlen, "--data-dir: empty path");
    }
    o->data_dir = v;
    seen->data_dir = true;
    return 0;
}

/* Cores to the thousandth: "4", "0.5", "2.125". */
static int flag_cpu(struct ctl_opts *o, const char *v,
                    struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    const char *dot = strchr(v, '.');
    size_t whole = dot ? (size_t)(dot - v) : strlen(v);
    size_t frac = dot ? strlen(dot + 1) : 0;
    uint64_t w, f = 0;

    (void)seen;
    if (whole > 7 || ctl_parse_u64(v, whole, &w) < 0 ||
        (dot != NULL &&
         (frac == 0 || frac > 3 || ctl_parse_u64(dot + 1, frac, &f) < 0))) {
        return err_fail(err, errlen,
                        "--cpu \"%.32s\": expected cores, a multiple of "
                        "0.001 (e.g. 4 or 0.5)",
                        v);
    }
    for (size_t i = frac; i < 3; i++) {
        f *= 10;
    }
    o->cpu_milli = w * 1000 + f;
    if (o->cpu_milli == 0 || o->cpu_milli > CTL_CPU_MAX_MILLI) {
        return err_fail(err, errlen,
                        "--cpu \"%.32s\": must be more than 0 and at most "
                        "%llu cores",
                        v, CTL_CPU_MAX_MILLI / 1000);
    }
    return 0;
}

static int flag_memory(struct ctl_opts *o, const char *v,
                       struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    (void)seen;
    if (ctl_parse_u64(v, strlen(v), &o->memory_mb) < 0 || o->memory_mb == 0 ||
        o->memory_mb > CTL_MEMORY_MAX_MB) {
        return err_fail(err, errlen,
                        "--memory-mb \"%.32s\": expected MiB, 1 to %llu", v,
                        CTL_MEMORY_MAX_MB);
    }
    return 0;
}

static int flag_heartbeat(struct ctl_opts *o, const char *v,
                          struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    uint64_t ms;

    (void)seen;
    if (ctl_parse_duration(v, &ms) < 0 || ms < CTL_HEARTBEAT_MIN_MS ||
        ms > CTL_HEARTBEAT_MAX_MS) {
        return err_fail(err, errlen,
                        "--heartbeat-interval \"%.32s\": expected a duration "
                        "from 10ms to 60s, such as \"500ms\" or \"1s\"",
                        v);
    }
    o->heartbeat_ms = (uint32_t)ms;
    return 0;
}

static int flag_agent_ttl(struct ctl_opts *o, const char *v,
                          struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    uint64_t ms;

    (void)seen;
    if (ctl_parse_duration(v, &ms) < 0 || ms < CTL_AGENT_TTL_MIN_MS ||
        ms > CTL_AGENT_TTL_MAX_MS) {
        return err_fail(err, errlen,
                        "--agent-ttl \"%.32s\": expected a duration from "
                        "100ms to 10m, such as \"5s\"",
                        v);
    }
    o->agent_ttl_ms = (uint32_t)ms;
    return 0;
}

static int flag_token_file(struct ctl_opts *o, const char *v,
                           struct ctl_flags_seen *seen, char *err,
                           size_t errlen)
{
    (void)seen;
    if (v[0] == '\0') {
        return err_fail(err, errlen, "--token-file: expected a path");
    }
    o->token_file = v;
    return 0;
}

static int flag_log_level(struct ctl_opts *o, const char *v,
                          struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    (void)seen;
    if (log_parse_level(v, &o->log_level) < 0) {
        return err_fail(err, errlen,
                        "--log-level \"%.32s\": expected debug, info, warn "
                        "or error",
                        v);
    }
    return 0;
}

static const struct ctl_flag ctl_flags[] = {
    {"site", flag_site},           {"labels", flag_labels},
    {"raft", flag_raft},           {"listen", flag_listen},
    {"data-dir", flag_data_dir},   {"cpu", flag_cpu},
    {"memory-mb", flag_memory},    {"heartbeat-interval", flag_heartbeat},
    {"agent-ttl", flag_agent_ttl}, {"token-file", flag_token_file},
    {"log-level", flag_log_level},
};

const char *ctl_flags_usage(void)
{
    return "usage: varde controller --site NAME --raft HOST:PORT,... "
           "--listen HOST:PORT\n"
           "                        --data-dir DIR [options]\n"
           "\n"
           "Run the local controller of one edge site: it finds the raft "
           "leader, registers\n"
           "the site, heartbeats, watches the site's assignments and "
           "reports task states.\n"
           "\n"
           "  --site NAME                the site's name: 1..64 of a-z, "
           "0-9, '-', '_', '.'\n"
           "  --labels K=V,K2=V2         the site's labels (default none)\n"
           "  --raft H:P,H:P,...         the raft nodes' addresses (any "
           "subset that\n"
           "                             includes a live node will do)\n"
           "  --listen HOST:PORT         this controller's API; outgoing "
           "connections\n"
           "                             are bound to HOST too\n"
           "  --data-dir DIR             assignments, agents and report "
           "outbox (created\n"
           "                             if missing)\n"
           "  --cpu CORES                capacity offered, e.g. 4 or 0.5 "
           "(default: the\n"
           "                             sum of the up agents' cores)\n"
           "  --memory-mb MB             capacity offered (default: the "
           "agents' sum)\n"
           "  --heartbeat-interval D     e.g. 500ms, 1s (default 1s)\n"
           "  --agent-ttl D              an agent silent this long is down "
           "(default 5s)\n"
           "  --token-file PATH          require the token in PATH on every "
           "request,\n"
           "                             and send it to the cluster and "
           "the agents\n"
           "  --log-level LEVEL          debug, info, warn, error "
           "(default info)\n"
           "  --help                     this text\n";
}

static const struct ctl_flag *flag_find(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(ctl_flags) / sizeof(ctl_flags[0]); i++) {
        if (strlen(ctl_flags[i].name) == n &&
            strncmp(ctl_flags[i].name, name, n) == 0) {
            return &ctl_flags[i];
        }
    }
    return NULL;
}

/* One flag at ARGV[*I], with its value from "=VALUE" or the next argument;
 * advances *I past what it used. */
static int flag_one(int argc, char **argv, int *i, struct ctl_opts *o,
                    struct ctl_flags_seen *seen, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    const char *eq, *value;
    const struct ctl_flag *f;
    size_t n;

    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
        return err_fail(err, errlen,
                        "unexpected argument \"%.64s\" (see varde controller "
                        "--help)",
                        arg);
    }
    eq = strchr(arg + 2, '=');
    n = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    value = eq ? eq + 1 : NULL;
    f = flag_find(arg + 2, n);
    if (f == NULL) {
        return err_fail(err, errlen,
                        "unknown flag \"%.*s\" (see varde controller --help)",
                        (int)(n > 64 ? 66 : n + 2), arg);
    }
    if (value == NULL) {
        if (*i + 1 >= argc) {
            return err_fail(err, errlen, "--%s needs a value", f->name);
        }
        value = argv[++*i];
    }
    return f->fn(o, value, seen, err, errlen);
}

enum ctl_flags_result ctl_flags_parse(int argc, char **argv,
                                      struct ctl_opts *out, char *err,
                                      size_t errlen)
{
    struct ctl_flags_seen seen = {false, false, false, false};

    memset(out, 0, sizeof(*out));
    out->heartbeat_ms = CTL_HEARTBEAT_DEFAULT_MS;
    out->agent_ttl_ms = CTL_AGENT_TTL_DEFAULT_MS;
    out->log_level = LOG_INFO;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return CTL_FLAGS_HELP;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (flag_one(argc, argv, &i, out, &seen, err, errlen) < 0) {
            return CTL_FLAGS_ERROR;
        }
    }
    if (!seen.site || !seen.raft || !seen.listen || !seen.data_dir) {
        err_fail(err, errlen, "missing %s (see varde controller --help)",
                 !seen.site     ? "--site"
                 : !seen.raft   ? "--raft"
                 : !seen.listen ? "--listen"
                                : "--data-dir");
        return CTL_FLAGS_ERROR;
    }
    return CTL_FLAGS_OK;
}
