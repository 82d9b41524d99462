/* job.c - jobs: the job file format, its strict validation, its encoding.
 *
 * Parsing is one pass over the jansson tree: first every object's keys are
 * checked against the fields it may have, then each field in a fixed order
 * (id, type, count, command, env, resources, sites, labels, restart,
 * reschedule_after, kill_timeout, version), so that the same bad file
 * always gets the same message. Each field's parser fills the job or fails
 * with "path: what is wrong, got what", user text quoted and cut short.
 *
 * jansson refuses an integer beyond long long outright, with a message that
 * names no field. Then the text is parsed once more with every integer read
 * as a real; that pass cannot succeed (every numeric field has bounds far
 * below), and its failure names the field ("count: must be 1..10000, got
 * 100000000000000000000"). */
#include "sm/job.h"
#include "util/num.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define JOB_QUOTE_MAX 48 /* bytes of user text shown in a message */
#define JOB_QUOTE_BUF (JOB_QUOTE_MAX * 4 + 8)

struct job_ctx {
    char *err;
    size_t errlen;
    int rc;     /* JOB_ERR_* once something failed */
    bool reals; /* integers arrive as reals (the pass after an overflow) */
};

static const char *const job_fields[] = {
    "id",           "type",    "count",  "command", "env",
    "resources",    "sites",   "labels", "restart", "reschedule_after",
    "kill_timeout", "version", NULL,
};
static const char *const job_resource_fields[] = {"cpu", "memory_mb", NULL};
static const char *const job_restart_fields[] = {"attempts", "interval",
                                                 "delay", NULL};

static const char *const job_type_names[] = {"service", "batch", "system"};

__attribute__((format(printf, 2, 3))) static int job_fail(struct job_ctx *c,
                                                          const char *fmt, ...)
{
    va_list ap;

    c->rc = JOB_ERR_INVALID;
    if (c->errlen > 0) {
        va_start(ap, fmt);
        vsnprintf(c->err, c->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static int job_oom(struct job_ctx *c)
{
    job_fail(c, "out of memory");
    c->rc = JOB_ERR_NO_MEMORY;
    return -1;
}

/* S (LEN bytes) for a message, quoted, printable ASCII only, cut short. */
static const char *job_quote(char *buf, const char *s, size_t len)
{
    size_t o = 0;

    buf[o++] = '"';
    for (size_t i = 0; i < len && i < JOB_QUOTE_MAX; i++) {
        unsigned char ch = (unsigned char)s[i];

        if (ch == '"' || ch == '\\') {
            buf[o++] = '\\';
            buf[o++] = (char)ch;
        } else if (ch >= 0x20 && ch < 0x7f) {
            buf[o++] = (char)ch;
        } else {
            o += (size_t)snprintf(buf + o, 5, "\\x%02x", ch);
        }
    }
    if (len > JOB_QUOTE_MAX) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

static const char *job_kind(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static bool job_field_known(const char *const *known, const char *key)
{
    for (size_t i = 0; known[i] != NULL; i++) {
        if (strcmp(known[i], key) == 0) {
            return true;
        }
    }
    return false;
}

/* V must be an object whose keys are all in KNOWN. PATH names it ("" for
 * the job itself). */
static int job_check_object(json_t *v, const char *path,
                            const char *const *known, struct job_ctx *c)
{
    char q[JOB_QUOTE_BUF];
    const char *key;
    json_t *val;

    if (!json_is_object(v)) {
        return job_fail(c, "%s: expected an object, got %s",
                        *path ? path : "job", job_kind(v));
    }
    json_object_foreach(v, key, val)
    {
        if (!job_field_known(known, key)) {
            job_quote(q, key, strlen(key));
            if (*path == '\0') {
                return job_fail(c, "unknown field %s", q);
            }
            return job_fail(c, "%s: unknown field %s", path, q);
        }
    }
    return 0;
}

static int job_get_int(const json_t *v, const char *path, long long lo,
                       long long hi, long long *out, struct job_ctx *c)
{
    if (json_is_integer(v)) {
        long long x = json_integer_value(v);

        if (x < lo || x > hi) {
            return job_fail(c, "%s: must be %lld..%lld, got %lld", path, lo, hi,
                            x);
        }
        *out = x;
        return 0;
    }
    if (c->reals && json_is_real(v) &&
        json_real_value(v) == num_floor(json_real_value(v))) {
        double x = json_real_value(v);

        if (x < (double)lo || x > (double)hi) {
            return job_fail(c, "%s: must be %lld..%lld, got %.0f", path, lo, hi,
                            x);
        }
        *out = (long long)x;
        return 0;
    }
    return job_fail(c, "%s: expected an integer, got %s", path, job_kind(v));
}

/* V must be a string of at most MAX bytes; *S borrows it. */
static int job_get_str(const json_t *v, const char *path, size_t max,
                       const char **s, size_t *len, struct job_ctx *c)
{
    if (!json_is_string(v)) {
        return job_fail(c, "%s: expected a string, got %s", path, job_kind(v));
    }
    *s = json_string_value(v);
    *len = json_string_length(v);
    if (*len > max) {
        return job_fail(c, "%s: at most %zu bytes, got %zu", path, max, *len);
    }
    return 0;
}

static bool job_alnum(char ch, bool upper)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
           (upper && ch >= 'A' && ch <= 'Z');
}

/* A job id (lower case only) or a site name (UPPER: either case): 1..MAX
 * letters, digits, '-', '_' and '.', starting with a letter or digit. */
static bool job_name_ok(const char *s, size_t len, size_t max, bool upper)
{
    if (len == 0 || len > max || !job_alnum(s[0], upper)) {
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        if (!job_alnum(s[i], upper) && s[i] != '-' && s[i] != '_' &&
            s[i] != '.') {
            return false;
        }
    }
    return true;
}

/* An environment variable's name: [A-Za-z_][A-Za-z0-9_]*. */
static bool job_env_name_ok(const char *s, size_t len)
{
    if (len == 0 || len > JOB_MAX_ENV_NAME || (s[0] >= '0' && s[0] <= '9')) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!job_alnum(s[i], true) && s[i] != '_') {
            return false;
        }
    }
    return true;
}

/* A label's key: 1..JOB_MAX_LABEL_KEY letters, digits, '-', '_', '.' and
 * '/', starting with a letter or digit. */
static bool job_label_key_ok(const char *s, size_t len)
{
    if (len == 0 || len > JOB_MAX_LABEL_KEY || !job_alnum(s[0], true)) {
        return false;
    }
    for (size_t i = 1; i < len; i++) {
        if (!job_alnum(s[i], true) && strchr("-_./", s[i]) == NULL) {
            return false;
        }
    }
    return true;
}

/* Parse a duration: digits, then a unit (ms, s, m, h), nothing else. A
 * value too big to hold saturates to UINT64_MAX, for the caller's bounds.
 * Returns 0, or -1 when S is no duration. */
static int job_duration(const char *s, size_t len, uint64_t *ms)
{
    static const struct {
        const char *unit;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};
    uint64_t n = 0;
    bool big = false;
    size_t i = 0;

    for (; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
        if (n >= 100000000000ull) { /* below 1e12: n * 3600000 fits */
            big = true;
        } else {
            n = n * 10 + (uint64_t)(s[i] - '0');
        }
    }
    if (i == 0) {
        return -1;
    }
    for (size_t u = 0; u < sizeof(units) / sizeof(units[0]); u++) {
        if (len - i == strlen(units[u].unit) &&
            memcmp(s + i, units[u].unit, len - i) == 0) {
            *ms = big ? UINT64_MAX : n * units[u].ms;
            return 0;
        }
    }
    return -1;
}

/* MS in its largest exact unit: "0s", "1500ms", "90s", "2h". */
static void job_format_duration(uint64_t ms, char *buf, size_t n)
{
    unsigned long long v = (unsigned long long)ms;

    if (ms == 0) {
        snprintf(buf, n, "0s");
    } else if (ms % 3600000 == 0) {
        snprintf(buf, n, "%lluh", v / 3600000);
    } else if (ms % 60000 == 0) {
        snprintf(buf, n, "%llum", v / 60000);
    } else if (ms % 1000 == 0) {
        snprintf(buf, n, "%llus", v / 1000);
    } else {
        snprintf(buf, n, "%llums", v);
    }
}

/* A duration field: absent keeps *MS; present must lie in MIN..MAX. */
static int job_get_duration(const json_t *v, const char *path, uint64_t min,
                            uint64_t *ms, struct job_ctx *c)
{
    char q[JOB_QUOTE_BUF], lo[32], hi[32];
    const char *s;
    uint64_t x;
    size_t len;

    if (v == NULL) {
        return 0;
    }
    if (!json_is_string(v)) {
        return job_fail(c,
                        "%s: expected a duration string such as \"30s\", got "
                        "%s",
                        path, job_kind(v));
    }
    s = json_string_value(v);
    len = json_string_length(v);
    job_quote(q, s, len);
    if (job_duration(s, len, &x) != 0) {
        return job_fail(c,
                        "%s: expected a duration such as \"500ms\", \"30s\", "
                        "\"1m\" or \"2h\", got %s",
                        path, q);
    }
    if (x < min || x > JOB_MAX_DURATION_MS) {
        job_format_duration(min, lo, sizeof(lo));
        job_format_duration(JOB_MAX_DURATION_MS, hi, sizeof(hi));
        return job_fail(c, "%s: must be %s..%s, got %s", path, lo, hi, q);
    }
    *ms = x;
    return 0;
}

static int job_parse_id(const json_t *v, struct job *j, struct job_ctx *c)
{
    char q[JOB_QUOTE_BUF];
    const char *s;
    size_t len;

    if (v == NULL) {
        return job_fail(c, "id: missing (the job's name, such as "
                           "\"sensor-average\")");
    }
    if (job_get_str(v, "id", JOB_MAX_ID, &s, &len, c) != 0) {
        return -1;
    }
    if (!job_name_ok(s, len, JOB_MAX_ID, false)) {
        return job_fail(c,
                        "id: must be 1..%d of a-z, 0-9, '-', '_' and '.', "
                        "starting with a letter or digit, got %s",
                        JOB_MAX_ID, job_quote(q, s, len));
    }
    memcpy(j->id, s, len + 1);
    return 0;
}

static int job_parse_type(const json_t *v, struct job *j, struct job_ctx *c)
{
    char q[JOB_QUOTE_BUF];
    const char *s;
    size_t len;

    j->type = JOB_SERVICE;
    if (v == NULL) {
        return 0;
    }
    if (job_get_str(v, "type", 1024, &s, &len, c) != 0) {
        return -1;
    }
    for (int t = JOB_SERVICE; t <= JOB_SYSTEM; t++) {
        if (strcmp(s, job_type_names[t]) == 0) {
            j->type = (enum job_type)t;
            return 0;
        }
    }
    return job_fail(c,
                    "type: must be \"service\", \"batch\" or \"system\", "
                    "got %s",
                    job_quote(q, s, len));
}

static int job_parse_count(const json_t *v, struct job *j, struct job_ctx *c)
{
    long long n;

    if (j->type == JOB_SYSTEM) {
        j->count = 0;
        if (v != NULL) {
            return job_fail(c, "count: not allowed in a system job (it runs "
                               "one task on every agent that matches)");
        }
        return 0;
    }
    j->count = JOB_DEFAULT_COUNT;
    if (v == NULL) {
        return 0;
    }
    if (job_get_int(v, "count", 1, JOB_MAX_COUNT, &n, c) != 0) {
        return -1;
    }
    j->count = (uint32_t)n;
    return 0;
}

static int job_parse_command(const json_t *v, struct job *j, struct job_ctx *c)
{
    char path[32];
    size_t n;

    if (v == NULL) {
        return job_fail(c, "command: missing (an array: the program, then "
                           "its arguments)");
    }
    if (!json_is_array(v)) {
        return job_fail(c, "command: expected an array of strings, got %s",
                        job_kind(v));
    }
    n = json_array_size(v);
    if (n == 0) {
        return job_fail(c, "command: must not be empty (the program, then "
                           "its arguments)");
    }
    if (n > JOB_MAX_ARGS) {
        return job_fail(c, "command: at most %d arguments, got %zu",
                        JOB_MAX_ARGS, n);
    }
    j->argv = calloc(n + 1, sizeof(*j->argv));
    if (j->argv == NULL) {
        return job_oom(c);
    }
    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;

        snprintf(path, sizeof(path), "command[%zu]", i);
        if (job_get_str(json_array_get(v, i), path, JOB_MAX_ARG, &s, &len, c) !=
            0) {
            return -1;
        }
        if (i == 0 && len == 0) {
            return job_fail(c, "command[0]: the program must not be empty");
        }
        j->argv[i] = strdup(s);
        if (j->argv[i] == NULL) {
            return job_oom(c);
        }
        j->argc = i + 1;
    }
    return 0;
}

static int job_pair_cmp(const void *a, const void *b)
{
    return strcmp(((const struct job_pair *)a)->name,
                  ((const struct job_pair *)b)->name);
}

/* Copy the strings of object V (checked already) into a sorted array. */
static int job_copy_pairs(json_t *v, struct job_pair **out, size_t *n,
                          struct job_ctx *c)
{
    const char *key;
    json_t *val;

    *out = calloc(json_object_size(v) + 1, sizeof(**out));
    if (*out == NULL) {
        return job_oom(c);
    }
    json_object_foreach(v, key, val)
    {
        struct job_pair *p = &(*out)[*n];

        p->name = strdup(key);
        p->value = p->name ? strdup(json_string_value(val)) : NULL;
        if (p->value == NULL) {
            free(p->name);
            p->name = NULL;
            return job_oom(c);
        }
        (*n)++;
    }
    qsort(*out, *n, sizeof(**out), job_pair_cmp);
    return 0;
}

/* What differs between the two string maps of a job, env and labels. */
struct job_map_rule {
    const char *field;     /* "env" */
    const char *things;    /* "variables", in "at most N variables" */
    const char *what;      /* "variable name", in "bad variable name X" */
    const char *name_rule; /* the allowed names, in words */
    size_t max_count;
    size_t max_name;
    size_t max_value;
    bool (*name_ok)(const char *s, size_t len);
};

static const struct job_map_rule job_env_rule = {
    "env",
    "variables",
    "variable name",
    "of A-Z, a-z, 0-9 and '_', not starting with a digit",
    JOB_MAX_ENV,
    JOB_MAX_ENV_NAME,
    JOB_MAX_ENV_VALUE,
    job_env_name_ok};

static const struct job_map_rule job_labels_rule = {
    "labels",
    "labels",
    "label name",
    "of letters, digits, '-', '_', '.' and '/', starting with a letter or "
    "digit",
    JOB_MAX_LABELS,
    JOB_MAX_LABEL_KEY,
    JOB_MAX_LABEL_VALUE,
    job_label_key_ok};

/* An object of strings with checked names, copied sorted into OUT. */
static int job_parse_map(json_t *v, const struct job_map_rule *rule,
                         struct job_pair **out, size_t *n, struct job_ctx *c)
{
    char q[JOB_QUOTE_BUF], path[JOB_MAX_ENV_NAME + 16];
    const char *key, *s;
    json_t *val;
    size_t len;

    if (v == NULL) {
        return 0;
    }
    if (!json_is_object(v)) {
        return job_fail(c, "%s: expected an object of strings, got %s",
                        rule->field, job_kind(v));
    }
    if (json_object_size(v) > rule->max_count) {
        return job_fail(c, "%s: at most %zu %s, got %zu", rule->field,
                        rule->max_count, rule->things, json_object_size(v));
    }
    json_object_foreach(v, key, val)
    {
        if (!rule->name_ok(key, strlen(key))) {
            return job_fail(c, "%s: bad %s %s (1..%zu %s)", rule->field,
                            rule->what, job_quote(q, key, strlen(key)),
                            rule->max_name, rule->name_rule);
        }
        snprintf(path, sizeof(path), "%s.%s", rule->field, key);
        if (job_get_str(val, path, rule->max_value, &s, &len, c) != 0) {
            return -1;
        }
    }
    return job_copy_pairs(v, out, n, c);
}

static int job_parse_cpu(const json_t *v, struct job *j, struct job_ctx *c)
{
    double x, m, r;

    j->cpu = JOB_DEFAULT_CPU;
    if (v == NULL) {
        return 0;
    }
    if (!json_is_number(v)) {
        return job_fail(c, "resources.cpu: expected a number of cores, got %s",
                        job_kind(v));
    }
    x = json_number_value(v);
    if (!(x > 0) || x > JOB_MAX_CPU) {
        return job_fail(c,
                        "resources.cpu: must be more than 0 and at most %d "
                        "cores, got %g",
                        JOB_MAX_CPU, x);
    }
    m = x * 1000;
    r = num_round(m);
    if (r < 1) {
        return job_fail(
            c, "resources.cpu: must be at least 0.001 cores, got %g", x);
    }
    if (num_abs(m - r) > 1e-6) {
        return job_fail(c,
                        "resources.cpu: must be a multiple of 0.001 cores, "
                        "got %g",
                        x);
    }
    j->cpu = r / 1000;
    return 0;
}

static int job_parse_resources(json_t *v, struct job *j, struct job_ctx *c)
{
    long long mb = JOB_DEFAULT_MEMORY_MB;
    json_t *m;

    if (v != NULL &&
        job_check_object(v, "resources", job_resource_fields, c) != 0) {
        return -1;
    }
    if (job_parse_cpu(v ? json_object_get(v, "cpu") : NULL, j, c) != 0) {
        return -1;
    }
    m = v ? json_object_get(v, "memory_mb") : NULL;
    if (m != NULL && job_get_int(m, "resources.memory_mb", 1, JOB_MAX_MEMORY_MB,
                                 &mb, c) != 0) {
        return -1;
    }
    j->memory_mb = (uint32_t)mb;
    return 0;
}

/* The sites' names, checked and unique, before any is copied. */
static int job_check_site_names(const json_t *v, struct job_ctx *c)
{
    char q[JOB_QUOTE_BUF], path[32];
    size_t n = json_array_size(v);

    for (size_t i = 0; i < n; i++) {
        const char *s;
        size_t len;

        snprintf(path, sizeof(path), "sites[%zu]", i);
        if (job_get_str(json_array_get(v, i), path, JOB_MAX_SITE, &s, &len,
                        c) != 0) {
            return -1;
        }
        if (!job_name_ok(s, len, JOB_MAX_SITE, true)) {
            return job_fail(c,
                            "%s: a site name is 1..%d of letters, digits, "
                            "'-', '_' and '.', starting with a letter or "
                            "digit, got %s",
                            path, JOB_MAX_SITE, job_quote(q, s, len));
        }
        for (size_t k = 0; k < i; k++) {
            if (strcmp(s, json_string_value(json_array_get(v, k))) == 0) {
                return job_fail(c, "%s: site %s is listed twice", path,
                                job_quote(q, s, len));
            }
        }
    }
    return 0;
}

static int job_parse_sites(const json_t *v, struct job *j, struct job_ctx *c)
{
    size_t n;

    if (v == NULL) {
        return 0;
    }
    if (!json_is_array(v)) {
        return job_fail(c, "sites: expected an array of site names, got %s",
                        job_kind(v));
    }
    n = json_array_size(v);
    if (n == 0) {
        return job_fail(c, "sites: must not be empty (leave it out to allow "
                           "every site)");
    }
    if (n > JOB_MAX_SITES) {
        return job_fail(c, "sites: at most %d sites, got %zu", JOB_MAX_SITES,
                        n);
    }
    if (job_check_site_names(v, c) != 0) {
        return -1;
    }
    j->sites = calloc(n + 1, sizeof(*j->sites));
    if (j->sites == NULL) {
        return job_oom(c);
    }
    for (size_t i = 0; i < n; i++) {
        j->sites[i] = strdup(json_string_value(json_array_get(v, i)));
        if (j->sites[i] == NULL) {
            return job_oom(c);
        }
        j->n_sites = i + 1;
    }
    return 0;
}

static int job_parse_restart(json_t *v, struct job *j, struct job_ctx *c)
{
    long long attempts = JOB_DEFAULT_ATTEMPTS;
    json_t *a;

    j->restart.interval_ms = JOB_DEFAULT_INTERVAL_MS;
    j->restart.delay_ms = JOB_DEFAULT_DELAY_MS;
    if (v == NULL) {
        j->restart.attempts = (uint32_t)attempts;
        return 0;
    }
    if (job_check_object(v, "restart", job_restart_fields, c) != 0) {
        return -1;
    }
    a = json_object_get(v, "attempts");
    if (a != NULL && job_get_int(a, "restart.attempts", 0, JOB_MAX_ATTEMPTS,
                                 &attempts, c) != 0) {
        return -1;
    }
    j->restart.attempts = (uint32_t)attempts;
    if (job_get_duration(json_object_get(v, "interval"), "restart.interval", 1,
                         &j->restart.interval_ms, c) != 0) {
        return -1;
    }
    return job_get_duration(json_object_get(v, "delay"), "restart.delay", 0,
                            &j->restart.delay_ms, c);
}

static int job_parse_version(const json_t *v, struct job *j, struct job_ctx *c)
{
    long long n;

    j->version = 0;
    if (v == NULL) {
        return 0;
    }
    if (job_get_int(v, "version", 0, (long long)JOB_MAX_VERSION, &n, c) != 0) {
        return -1;
    }
    j->version = (uint64_t)n;
    return 0;
}

static int job_parse_root(json_t *root, struct job *j, struct job_ctx *c)
{
    if (job_check_object(root, "", job_fields, c) != 0) {
        return -1;
    }
    j->reschedule_after_ms = 0;
    j->kill_timeout_ms = JOB_DEFAULT_KILL_TIMEOUT_MS;
    if (job_parse_id(json_object_get(root, "id"), j, c) != 0 ||
        job_parse_type(json_object_get(root, "type"), j, c) != 0 ||
        job_parse_count(json_object_get(root, "count"), j, c) != 0 ||
        job_parse_command(json_object_get(root, "command"), j, c) != 0 ||
        job_parse_map(json_object_get(root, "env"), &job_env_rule, &j->env,
                      &j->n_env, c) != 0 ||
        job_parse_resources(json_object_get(root, "resources"), j, c) != 0 ||
        job_parse_sites(json_object_get(root, "sites"), j, c) != 0 ||
        job_parse_map(json_object_get(root, "labels"), &job_labels_rule,
                      &j->labels, &j->n_labels, c) != 0 ||
        job_parse_restart(json_object_get(root, "restart"), j, c) != 0) {
        return -1;
    }
    if (job_get_duration(json_object_get(root, "reschedule_after"),
                         "reschedule_after", 1, &j->reschedule_after_ms,
                         c) != 0 ||
        job_get_duration(json_object_get(root, "kill_timeout"), "kill_timeout",
                         0, &j->kill_timeout_ms, c) != 0) {
        return -1;
    }
    return job_parse_version(json_object_get(root, "version"), j, c);
}

/* jansson's own message, kept to one printable line. */
static int job_fail_json(const json_error_t *jerr, struct job_ctx *c)
{
    char text[sizeof(jerr->text)];
    size_t i;

    for (i = 0; jerr->text[i] != '\0' && i + 1 < sizeof(text); i++) {
        unsigned char ch = (unsigned char)jerr->text[i];

        text[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    text[i] = '\0';
    if (json_error_code(jerr) == json_error_out_of_memory ||
        jerr->text[0] == '\0') { /* jansson's own setup ran out */
        return job_oom(c);
    }
    return job_fail(c, "invalid JSON at line %d, column %d: %s", jerr->line,
                    jerr->column, text);
}

/* Parse the text once more with integers as reals, to name the field that
 * holds the number jansson found too big. Falls back on jansson's message. */
static int job_find_overflow(const char *text, size_t len,
                             const json_error_t *first, struct job_ctx *c)
{
    json_error_t jerr;
    json_t *root;
    struct job *j;
    int rc = -1;

    root = json_loadb(text, len,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_INT_AS_REAL, &jerr);
    j = calloc(1, sizeof(*j));
    if (root == NULL || j == NULL) {
        rc = root == NULL ? job_fail_json(first, c) : job_oom(c);
        goto out;
    }
    c->reals = true;
    rc = job_parse_root(root, j, c);
    c->reals = false;
    if (rc == 0) {
        rc = job_fail_json(first, c);
    }
out:
    job_free(j);
    json_decref(root);
    return rc;
}

static int job_parse_text(const char *text, size_t len, struct job *j,
                          struct job_ctx *c)
{
    json_error_t jerr;
    json_t *root;
    int rc;

    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        if (json_error_code(&jerr) == json_error_numeric_overflow) {
            return job_find_overflow(text, len, &jerr, c);
        }
        return job_fail_json(&jerr, c);
    }
    rc = job_parse_root(root, j, c);
    json_decref(root);
    return rc;
}

int job_parse_json(const char *text, size_t len, struct job **out, char *err,
                   size_t errlen)
{
    struct job_ctx c = {err, errlen, JOB_OK, false};
    struct job *j;
    char *enc;
    size_t enc_len;

    if (len > JOB_MAX_TEXT) {
        job_fail(&c, "job: at most %u bytes, got %zu", JOB_MAX_TEXT, len);
        return JOB_ERR_TOO_LARGE;
    }
    j = calloc(1, sizeof(*j));
    if (j == NULL) {
        job_oom(&c);
        return c.rc;
    }
    if (job_parse_text(text, len, j, &c) != 0) {
        job_free(j);
        return c.rc;
    }
    enc = job_encode(j, &enc_len);
    if (enc == NULL || enc_len > JOB_MAX_TEXT) {
        if (enc == NULL) {
            job_oom(&c);
        } else {
            job_fail(&c, "job: encodes to %zu bytes, at most %u", enc_len,
                     JOB_MAX_TEXT);
            c.rc = JOB_ERR_TOO_LARGE;
        }
        free(enc);
        job_free(j);
        return c.rc;
    }
    free(enc);
    *out = j;
    return JOB_OK;
}

static json_t *job_strings_json(char **s, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; a != NULL && i < n; i++) {
        if (json_array_append_new(a, json_string(s[i])) != 0) {
            json_decref(a);
            a = NULL;
        }
    }
    return a;
}

static json_t *job_pairs_json(const struct job_pair *p, size_t n)
{
    json_t *o = json_object();

    for (size_t i = 0; o != NULL && i < n; i++) {
        if (json_object_set_new(o, p[i].name, json_string(p[i].value)) != 0) {
            json_decref(o);
            o = NULL;
        }
    }
    return o;
}

static json_t *job_duration_json(uint64_t ms)
{
    char buf[32];

    job_format_duration(ms, buf, sizeof(buf));
    return json_string(buf);
}

static json_t *job_restart_json(const struct job_restart *r)
{
    json_t *o = json_object();
    int rc = 0;

    if (o == NULL) {
        return NULL;
    }
    rc |= json_object_set_new(o, "attempts", json_integer(r->attempts));
    rc |= json_object_set_new(o, "interval", job_duration_json(r->interval_ms));
    rc |= json_object_set_new(o, "delay", job_duration_json(r->delay_ms));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

static json_t *job_resources_json(const struct job *j)
{
    json_t *o = json_object();
    int rc = 0;

    if (o == NULL) {
        return NULL;
    }
    rc |= json_object_set_new(o, "cpu", json_real(j->cpu));
    rc |= json_object_set_new(o, "memory_mb", json_integer(j->memory_mb));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *job_to_json(const struct job *j)
{
    json_t *o = json_object();
    int rc = 0;

    if (o == NULL) {
        return NULL;
    }
    rc |= json_object_set_new(o, "id", json_string(j->id));
    rc |= json_object_set_new(o, "type", json_string(job_type_name(j->type)));
    if (j->type != JOB_SYSTEM) {
        rc |= json_object_set_new(o, "count", json_integer(j->count));
    }
    rc |= json_object_set_new(o, "command", job_strings_json(j->argv, j->argc));
    rc |= json_object_set_new(o, "env", job_pairs_json(j->env, j->n_env));
    rc |= json_object_set_new(o, "resources", job_resources_json(j));
    if (j->n_sites > 0) {
        rc |= json_object_set_new(o, "sites",
                                  job_strings_json(j->sites, j->n_sites));
    }
    if (j->n_labels > 0) {
        rc |= json_object_set_new(o, "labels",
                                  job_pairs_json(j->labels, j->n_labels));
    }
    rc |= json_object_set_new(o, "restart", job_restart_json(&j->restart));
    if (j->reschedule_after_ms > 0) {
        rc |= json_object_set_new(o, "reschedule_after",
                                  job_duration_json(j->reschedule_after_ms));
    }
    rc |= json_object_set_new(o, "kill_timeout",
                              job_duration_json(j->kill_timeout_ms));
    rc |=
        json_object_set_new(o, "version", json_integer((json_int_t)j->version));
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

char *job_encode(const struct job *j, size_t *len)
{
    json_t *o = job_to_json(j);
    char *text;

    if (o == NULL) {
        return NULL;
    }
    text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS | JOB_JSON_REAL_FLAGS);
    json_decref(o);
    if (text != NULL) {
        *len = strlen(text);
    }
    return text;
}

int job_check_sites(const struct job *j,
                    bool (*known)(void *arg, const char *site), void *arg,
                    char *err, size_t errlen)
{
    struct job_ctx c = {err, errlen, JOB_OK, false};
    char q[JOB_QUOTE_BUF];

    for (size_t i = 0; i < j->n_sites; i++) {
        if (!known(arg, j->sites[i])) {
            job_quote(q, j->sites[i], strlen(j->sites[i]));
            job_fail(&c, "sites[%zu]: no site named %s", i, q);
            return JOB_ERR_INVALID;
        }
    }
    return JOB_OK;
}

static bool job_strings_equal(char **a, char **b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a[i], b[i]) != 0) {
            return false;
        }
    }
    return true;
}

static bool job_pairs_equal(const struct job_pair *a, const struct job_pair *b,
                            size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (strcmp(a[i].name, b[i].name) != 0 ||
            strcmp(a[i].value, b[i].value) != 0) {
            return false;
        }
    }
    return true;
}

bool job_spec_equal(const struct job *a, const struct job *b)
{
    return strcmp(a->id, b->id) == 0 && a->type == b->type &&
           a->count == b->count && a->argc == b->argc &&
           job_strings_equal(a->argv, b->argv, a->argc) &&
           a->n_env == b->n_env && job_pairs_equal(a->env, b->env, a->n_env) &&
           a->cpu == b->cpu && a->memory_mb == b->memory_mb &&
           a->n_sites == b->n_sites &&
           job_strings_equal(a->sites, b->sites, a->n_sites) &&
           a->n_labels == b->n_labels &&
           job_pairs_equal(a->labels, b->labels, a->n_labels) &&
           a->restart.attempts == b->restart.attempts &&
           a->restart.interval_ms == b->restart.interval_ms &&
           a->restart.delay_ms == b->restart.delay_ms &&
           a->reschedule_after_ms == b->reschedule_after_ms &&
           a->kill_timeout_ms == b->kill_timeout_ms;
}

const char *job_type_name(enum job_type type)
{
    if ((unsigned)type > JOB_SYSTEM) {
        return "unknown";
    }
    return job_type_names[type];
}

static void job_free_pairs(struct job_pair *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].value);
    }
    free(p);
}

void job_free(struct job *j)
{
    if (j == NULL) {
        return;
    }
    for (size_t i = 0; i < j->argc; i++) {
        free(j->argv[i]);
    }
    free(j->argv);
    job_free_pairs(j->env, j->n_env);
    for (size_t i = 0; i < j->n_sites; i++) {
        free(j->sites[i]);
    }
    free(j->sites);
    job_free_pairs(j->labels, j->n_labels);
    free(j);
}
