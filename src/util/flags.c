/* flags.c - scan a command line against a table, check the values daemons
 * share (flags.h). */
#include "util/flags.h"

#include "util/err.h"

#include <stdio.h>
#include <string.h>

static bool flags_is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool flags_is_lower_alnum(char c)
{
    return flags_is_digit(c) || (c >= 'a' && c <= 'z');
}

/* The leading digits of S: their count. */
static size_t flags_count_digits(const char *s)
{
    size_t n = 0;

    while (flags_is_digit(s[n])) {
        n++;
    }
    return n;
}

/* N digits at S (1..18 of them, so no overflow) into *OUT. 0, or -1. */
static int flags_digits(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 18) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (!flags_is_digit(s[i])) {
            return -1;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------------
 * The scan.
 */

static int flags_find(const struct flags_table *t, const char *name, size_t n)
{
    for (size_t i = 0; i < t->n; i++) {
        if (strlen(t->defs[i].name) == n &&
            strncmp(t->defs[i].name, name, n) == 0) {
            return (int)i;
        }
    }
    return -1;
}

/* One flag at ARGV[*I], with its value from "=VALUE" or the next argument;
 * advances *I past what it used and marks the flag in SEEN. */
static int flags_one(const struct flags_table *t, int argc, char **argv, int *i,
                     void *opts, bool *seen, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    const char *eq, *value;
    const struct flags_def *d;
    size_t n;
    int f;

    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
        return err_fail(err, errlen,
                        "unexpected argument \"%.64s\" (see varde %s --help)",
                        arg, t->command);
    }
    eq = strchr(arg + 2, '=');
    n = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    value = eq ? eq + 1 : NULL;
    f = flags_find(t, arg + 2, n);
    if (f < 0) {
        return err_fail(err, errlen,
                        "unknown flag \"%.*s\" (see varde %s --help)",
                        (int)(n > 64 ? 66 : n + 2), arg, t->command);
    }
    d = &t->defs[f];
    if (t->once && seen[f]) {
        return err_fail(err, errlen, "--%s is given twice", d->name);
    }
    seen[f] = true;
    if ((d->mode & FLAGS_NO_VALUE) && value != NULL) {
        return err_fail(err, errlen, "--%s takes no value", d->name);
    }
    if (!(d->mode & FLAGS_NO_VALUE) && value == NULL) {
        if (*i + 1 >= argc) {
            return err_fail(err, errlen, "--%s needs a value", d->name);
        }
        value = argv[++*i];
    }
    return d->fn(opts, value ? value : "", err, errlen);
}

enum flags_result flags_parse(const struct flags_table *t, int argc,
                              char **argv, void *opts, bool *given, char *err,
                              size_t errlen)
{
    bool seen[FLAGS_MAX] = {false};

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return FLAGS_HELP;
        }
    }
    if (t->n > FLAGS_MAX) {
        err_fail(err, errlen, "varde %s: %zu flags, more than %d", t->command,
                 t->n, FLAGS_MAX);
        return FLAGS_ERROR;
    }
    for (int i = 1; i < argc; i++) {
        if (flags_one(t, argc, argv, &i, opts, seen, err, errlen) < 0) {
            return FLAGS_ERROR;
        }
    }
    for (size_t f = 0; f < t->n; f++) {
        if ((t->defs[f].mode & FLAGS_REQUIRED) && !seen[f]) {
            err_fail(err, errlen, "missing --%s (see varde %s --help)",
                     t->defs[f].name, t->command);
            return FLAGS_ERROR;
        }
    }
    if (given != NULL) {
        memcpy(given, seen, t->n * sizeof(*given));
    }
    return FLAGS_OK;
}

int flags_exit(enum flags_result r, const char *command, const char *usage,
               const char *err)
{
    switch (r) {
    case FLAGS_HELP:
        fputs(usage, stdout);
        return 0;
    case FLAGS_ERROR:
        fprintf(stderr, "varde %s: %s\n", command, err);
        return 2;
    case FLAGS_OK:
        break;
    }
    return -1;
}

/* ------------------------------------------------------------------------
 * Values.
 */

bool flags_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > FLAGS_NAME_MAX || !flags_is_lower_alnum(s[0])) {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (!flags_is_lower_alnum(s[i]) && strchr("-_.", s[i]) == NULL) {
            return false;
        }
    }
    return true;
}

int flags_name(const char *flag, const char *v, char *out, char *err,
               size_t errlen)
{
    if (!flags_name_ok(v)) {
        return err_fail(err, errlen,
                        "--%s \"%.64s\": expected 1..64 of a-z, 0-9, '-', "
                        "'_' and '.', starting with a letter or digit",
                        flag, v);
    }
    snprintf(out, FLAGS_NAME_MAX + 1, "%s", v);
    return 0;
}

int flags_addr(const char *flag, const char *v, struct addr *out, char *err,
               size_t errlen)
{
    char why[200];

    if (addr_parse(v, out, why, sizeof(why)) < 0) {
        return err_fail(err, errlen, "--%s: %s", flag, why);
    }
    return 0;
}

int flags_path(const char *flag, const char *v, size_t max, const char **out,
               char *err, size_t errlen)
{
    if (v[0] == '\0' && max == 0) {
        return err_fail(err, errlen, "--%s: expected a path", flag);
    }
    if (v[0] == '\0' || (max > 0 && strlen(v) > max)) {
        return err_fail(err, errlen, "--%s: expected a path of 1 to %zu bytes",
                        flag, max);
    }
    *out = v;
    return 0;
}

int flags_cpu(const char *flag, const char *v, uint64_t max_milli,
              uint64_t *out, char *err, size_t errlen)
{
    const char *dot = strchr(v, '.');
    size_t whole = dot ? (size_t)(dot - v) : strlen(v);
    size_t frac = dot ? strlen(dot + 1) : 0;
    uint64_t w, f = 0;

    if (whole > 7 || flags_digits(v, whole, &w) < 0 ||
        (dot != NULL &&
         (frac == 0 || frac > 3 || flags_digits(dot + 1, frac, &f) < 0))) {
        return err_fail(err, errlen,
                        "--%s \"%.32s\": expected cores, a multiple of 0.001 "
                        "(e.g. 4 or 0.5)",
                        flag, v);
    }
    for (size_t i = frac; i < 3; i++) {
        f *= 10;
    }
    if (w * 1000 + f == 0 || w * 1000 + f > max_milli) {
        return err_fail(err, errlen,
                        "--%s \"%.32s\": must be more than 0 and at most "
                        "%llu cores",
                        flag, v, (unsigned long long)(max_milli / 1000));
    }
    *out = w * 1000 + f;
    return 0;
}

int flags_memory_mb(const char *flag, const char *v, uint64_t max,
                    uint64_t *out, char *err, size_t errlen)
{
    uint64_t mb;

    if (flags_digits(v, strlen(v), &mb) < 0 || mb == 0 || mb > max) {
        return err_fail(err, errlen, "--%s \"%.32s\": expected MiB, 1 to %llu",
                        flag, v, (unsigned long long)max);
    }
    *out = mb;
    return 0;
}

int flags_duration(const char *flag, const char *v, uint32_t min_ms,
                   uint32_t max_ms, const char *which, uint32_t *out, char *err,
                   size_t errlen)
{
    uint64_t ms;

    if (flags_parse_duration(v, &ms) < 0 || ms < min_ms || ms > max_ms) {
        return err_fail(err, errlen, "--%s \"%.32s\": expected a duration %s",
                        flag, v, which);
    }
    *out = (uint32_t)ms;
    return 0;
}

int flags_labels(const char *flag, const char *v, struct label *labels,
                 size_t *n, char *err, size_t errlen)
{
    char why[300];

    if (labels_parse(v, labels, n, why, sizeof(why)) < 0) {
        return err_fail(err, errlen, "--%s: %s", flag, why);
    }
    return 0;
}

int flags_log_level(const char *flag, const char *v, enum log_level *out,
                    char *err, size_t errlen)
{
    if (log_parse_level(v, out) < 0) {
        return err_fail(err, errlen,
                        "--%s \"%.32s\": expected debug, info, warn or error",
                        flag, v);
    }
    return 0;
}

int flags_parse_duration(const char *s, uint64_t *out)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    size_t digits = flags_count_digits(s);
    uint64_t v;

    if (digits > 12 || flags_digits(s, digits, &v) < 0) {
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

int flags_parse_bytes(const char *s, uint64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t mult;
    } units[] = {
        {"", 1}, {"K", 1ull << 10}, {"M", 1ull << 20}, {"G", 1ull << 30}};
    size_t digits = flags_count_digits(s);
    uint64_t v;

    if (digits > 10 || flags_digits(s, digits, &v) < 0) {
        return -1;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (strcmp(s + digits, units[i].suffix) == 0) {
            *out = v * units[i].mult;
            return 0;
        }
    }
    return -1;
}
