/* view.c - the fleet as the command line prints it: jobs, sites, a job. */
#include "cli/view.h"
#include "util/num.h"

#include "cli/table.h"

#include <stdlib.h>
#include <string.h>

#define COL_RED "\033[31m"
#define COL_GREEN "\033[32m"
#define COL_YELLOW "\033[33m"
#define COL_BOLD "\033[1m"
#define COL_DIM "\033[2m"
#define COL_RESET "\033[0m"

#define VIEW_TEXT 64  /* bytes of a name shown: job ids and site names fit */
#define VIEW_LINE 240 /* bytes of a spec line's value */
#define VIEW_NOTE_GROUPS 32
#define VIEW_NOTE_NAMES 3 /* task names shown per reason */
#define VIEW_AGO_MAX (1000LL * 86400 * 365 * 100) /* ms: sums stay small */

/* A task's states in the order of its life, as the API names them. */
static const char *const view_states[] = {
    "pending",  "placed", "assigned", "running",
    "complete", "failed", "lost",     "unknown",
};

#define N_STATES (sizeof view_states / sizeof view_states[0])

/* ---------------------------------------------------------------------
 * small helpers */

/* OBJ[KEY] as an integer, or DFLT when it is not one. */
static long long view_int(json_t *obj, const char *key, long long dflt)
{
    json_t *v = json_object_get(obj, key);

    return json_is_integer(v) ? (long long)json_integer_value(v) : dflt;
}

/* OBJ[KEY] as a string, or DFLT when it is not one. */
static const char *view_str(json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s != NULL ? s : dflt;
}

/* N into BUF, or "?" when N < 0 (unknown). */
static const char *view_num(long long n, char *buf, size_t len)
{
    if (n < 0) {
        snprintf(buf, len, "?");
    } else {
        snprintf(buf, len, "%lld", n);
    }
    return buf;
}

/* An appender into a fixed buffer that remembers running out of room. */
struct view_buf {
    char *s;
    size_t len, used;
    bool cut;
};

static void view_put(struct view_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (b->used + 1 >= b->len) {
            b->cut = true;
            return;
        }
        b->s[b->used++] = c < ' ' || c == 0x7f ? '?' : (char)c;
    }
    b->s[b->used] = '\0';
}

static void view_puts(struct view_buf *b, const char *s)
{
    view_put(b, s, strlen(s));
}

/* End B with "..." when something did not fit. */
static void view_finish(struct view_buf *b)
{
    if (b->len == 0) {
        return;
    }
    b->s[b->used < b->len ? b->used : b->len - 1] = '\0';
    if (b->cut && b->len > 4) {
        strcpy(b->s + (b->used > b->len - 4 ? b->len - 4 : b->used), "...");
    }
}

static void view_buf_init(struct view_buf *b, char *s, size_t len)
{
    b->s = s;
    b->len = len;
    b->used = 0;
    b->cut = false;
    if (len > 0) {
        s[0] = '\0';
    }
}

/* ---------------------------------------------------------------------
 * numbers and words */

void view_cpu(double cores, char *buf, size_t len)
{
    const char *sign = cores < 0 ? "-" : "";
    long long milli;
    char frac[8];
    size_t n;

    if (!(num_abs(cores) <= 1e12)) { /* NaN and infinities too */
        snprintf(buf, len, "%g", cores);
        return;
    }
    milli = (long long)num_round(num_abs(cores) * 1000);
    if (milli % 1000 == 0) {
        snprintf(buf, len, "%s%lld", sign, milli / 1000);
        return;
    }
    snprintf(frac, sizeof frac, "%03d", (int)(milli % 1000));
    for (n = strlen(frac); n > 1 && frac[n - 1] == '0'; n--) {
        frac[n - 1] = '\0';
    }
    snprintf(buf, len, "%s%lld.%s", sign, milli / 1000, frac);
}

/* OBJ[KEY] in cores, or "?". */
static void view_cores(json_t *obj, const char *key, char *buf, size_t len)
{
    json_t *v = json_object_get(obj, key);

    if (json_is_number(v)) {
        view_cpu(json_number_value(v), buf, len);
    } else {
        snprintf(buf, len, "?");
    }
}

void view_ago(long long ms, char *buf, size_t len)
{
    if (ms < 0) {
        snprintf(buf, len, "-");
    } else if (ms < 1000) {
        snprintf(buf, len, "%lldms ago", ms);
    } else if (ms < 60 * 1000) {
        snprintf(buf, len, "%lld.%llds ago", ms / 1000, ms / 100 % 10);
    } else if (ms < 3600 * 1000) {
        snprintf(buf, len, "%lldm ago", ms / 60000);
    } else if (ms < 86400 * 1000) {
        snprintf(buf, len, "%lldh ago", ms / 3600000);
    } else {
        snprintf(buf, len, "%lldd ago", ms / 86400000);
    }
}

void view_task_summary(json_t *counts, char *buf, size_t len)
{
    struct view_buf b;
    char part[48];

    view_buf_init(&b, buf, len);
    for (size_t i = 0; i < N_STATES; i++) {
        long long n = view_int(counts, view_states[i], 0);

        if (n > 0) {
            snprintf(part, sizeof part, "%s%lld %s", b.used ? ", " : "", n,
                     view_states[i]);
            view_puts(&b, part);
        }
    }
    if (b.used == 0) {
        view_puts(&b, json_is_object(counts) ? "none" : "?");
    }
    view_finish(&b);
}

/* True when S needs no quotes for a shell. */
static bool view_plain_word(const char *s)
{
    if (s[0] == '\0') {
        return false;
    }
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || strchr("_@%+=:,./-", c) != NULL)) {
            return false;
        }
    }
    return true;
}

static void view_quote(struct view_buf *b, const char *s)
{
    if (view_plain_word(s)) {
        view_puts(b, s);
        return;
    }
    view_puts(b, "'");
    for (; *s != '\0' && !b->cut; s++) {
        if (*s == '\'') {
            view_puts(b, "'\\''");
        } else {
            view_put(b, s, 1);
        }
    }
    view_puts(b, "'");
}

void view_command(json_t *argv, char *buf, size_t len)
{
    struct view_buf b;
    size_t i;
    json_t *arg;

    view_buf_init(&b, buf, len);
    json_array_foreach(argv, i, arg)
    {
        if (i > 0) {
            view_puts(&b, " ");
        }
        if (json_is_string(arg)) {
            view_quote(&b, json_string_value(arg));
        } else {
            view_puts(&b, "?");
        }
        if (b.cut) {
            break;
        }
    }
    if (!json_is_array(argv)) {
        view_puts(&b, "?");
    }
    view_finish(&b);
}

/* ---------------------------------------------------------------------
 * jobs */

/* The desired count of JOB: "-" for a system job (the fleet decides). */
static void view_desired(json_t *job, char *buf, size_t len)
{
    long long count = view_int(job, "count", -1);

    if (strcmp(view_str(job, "type", ""), "system") == 0 && count <= 0) {
        snprintf(buf, len, "-");
    } else {
        view_num(count, buf, len);
    }
}

/* The sum of COUNTS[A] and COUNTS[B] (B may be NULL); -1 when COUNTS is
 * not an object. */
static long long view_count(json_t *counts, const char *a, const char *b)
{
    if (!json_is_object(counts)) {
        return -1;
    }
    return view_int(counts, a, 0) + (b ? view_int(counts, b, 0) : 0);
}

static const struct table_col view_job_cols[] = {
    {"ID", false},     {"TYPE", false},   {"VERSION", true}, {"DESIRED", true},
    {"PENDING", true}, {"PLACED", true},  {"RUNNING", true}, {"DONE", true},
    {"FAILED", true},  {"UNKNOWN", true},
};

/* The task-count cells of one job row, from column 4 on. */
static void view_job_counts(struct table *t, json_t *counts)
{
    static const char *const pairs[][2] = {
        {"pending", NULL},  {"placed", "assigned"}, {"running", NULL},
        {"complete", NULL}, {"failed", "lost"},     {"unknown", NULL},
    };
    char num[24];

    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        long long n = view_count(counts, pairs[i][0], pairs[i][1]);

        table_set(t, 4 + i, "%s", view_num(n, num, sizeof num));
        if (n > 0 && i == 4) {
            table_color(t, 4 + i, COL_RED);
        } else if (n > 0 && (i == 0 || i == 5)) {
            table_color(t, 4 + i, COL_YELLOW);
        }
    }
}

int view_jobs(FILE *f, json_t *jobs, bool color)
{
    struct table t;
    size_t i;
    json_t *job;
    char num[24];
    int rc;

    if (json_array_size(jobs) == 0) {
        fprintf(f, "no jobs\n");
        return ferror(f) ? -1 : 0;
    }
    table_init(&t, view_job_cols,
               sizeof view_job_cols / sizeof view_job_cols[0]);
    json_array_foreach(jobs, i, job)
    {
        table_row(&t);
        table_set(&t, 0, "%.*s", VIEW_TEXT, view_str(job, "id", "?"));
        table_set(&t, 1, "%s", view_str(job, "type", "?"));
        table_set(&t, 2, "%s",
                  view_num(view_int(job, "version", -1), num, sizeof num));
        view_desired(job, num, sizeof num);
        table_set(&t, 3, "%s", num);
        view_job_counts(&t, json_object_get(job, "tasks"));
    }
    rc = table_print(f, &t, "", color);
    table_close(&t);
    return rc;
}

/* The tallies of a job's row in `varde status`: the sum of the task
 * counts under KEYS, coloured COLOR when not zero. */
struct view_tally {
    const char *keys[3];
    const char *color;
};

static const struct view_tally view_short_tallies[] = {
    {{"running"}, NULL},       {{"pending", "placed", "assigned"}, COL_YELLOW},
    {{"complete"}, NULL},      {{"failed", "lost"}, COL_RED},
    {{"unknown"}, COL_YELLOW},
};

static const struct table_col view_short_cols[] = {
    {"JOB", false},    {"TYPE", false}, {"DESIRED", true}, {"RUNNING", true},
    {"PENDING", true}, {"DONE", true},  {"FAILED", true},  {"UNKNOWN", true},
};

/* The sum of COUNTS under the keys of TALLY; -1 when COUNTS is not an
 * object. */
static long long view_tally_of(json_t *counts, const struct view_tally *tally)
{
    long long n = 0;

    if (!json_is_object(counts)) {
        return -1;
    }
    for (size_t k = 0; k < 3 && tally->keys[k] != NULL; k++) {
        n += view_int(counts, tally->keys[k], 0);
    }
    return n;
}

static void view_short_row(struct table *t, json_t *job)
{
    json_t *counts = json_object_get(job, "tasks");
    char num[24];

    table_row(t);
    table_set(t, 0, "%.*s", VIEW_TEXT, view_str(job, "id", "?"));
    table_set(t, 1, "%.*s", VIEW_TEXT, view_str(job, "type", "?"));
    view_desired(job, num, sizeof num);
    table_set(t, 2, "%s", num);
    for (size_t i = 0;
         i < sizeof view_short_tallies / sizeof view_short_tallies[0]; i++) {
        long long n = view_tally_of(counts, &view_short_tallies[i]);

        table_set(t, 3 + i, "%s", view_num(n, num, sizeof num));
        if (n > 0) {
            table_color(t, 3 + i, view_short_tallies[i].color);
        }
    }
}

int view_jobs_short(FILE *f, json_t *jobs, bool color)
{
    struct table t;
    size_t i;
    json_t *job;
    int rc;

    if (json_array_size(jobs) == 0) {
        fprintf(f, "no jobs\n");
        return ferror(f) ? -1 : 0;
    }
    table_init(&t, view_short_cols,
               sizeof view_short_cols / sizeof view_short_cols[0]);
    json_array_foreach(jobs, i, job)
    {
        view_short_row(&t, job);
    }
    rc = table_print(f, &t, "", color);
    table_close(&t);
    return rc;
}

/* ---------------------------------------------------------------------
 * sites and their agents */

/* The lines of the tree, before an agent's name: one that has more below
 * it, and the last one. */
#define VIEW_TREE_MID "\xe2\x94\x9c\xe2\x94\x80 " /* U+251C U+2500 */
#define VIEW_TREE_END "\xe2\x94\x94\xe2\x94\x80 " /* U+2514 U+2500 */
#define VIEW_TREE_MID_ASCII "|- "
#define VIEW_TREE_END_ASCII "`- "

static const struct table_col view_site_cols[] = {
    {"SITE / AGENT", false}, {"STATUS", false},      {"TASKS", true},
    {"CPU FREE", false},     {"MEMORY FREE", false}, {"LAST HEARTBEAT", false},
};

static const char *view_status_color(const char *status)
{
    if (strcmp(status, "connected") == 0 || strcmp(status, "up") == 0) {
        return COL_GREEN;
    }
    return strcmp(status, "silent") == 0 ? COL_YELLOW : COL_RED;
}

/* "FREE/TOTAL" cores of OBJ: FREE is OBJ[FREE_KEY], or OBJ["cpu"] less
 * OBJ[USED_KEY] when FREE_KEY is NULL; "?" for a value that is not there. */
static void view_cpu_free(json_t *obj, const char *free_key,
                          const char *used_key, char *buf, size_t len)
{
    json_t *total = json_object_get(obj, "cpu");
    json_t *used = free_key == NULL ? json_object_get(obj, used_key) : NULL;
    char a[32] = "?", b[32];

    if (free_key != NULL) {
        view_cores(obj, free_key, a, sizeof a);
    } else if (json_is_number(total) && json_is_number(used)) {
        view_cpu(json_number_value(total) - json_number_value(used), a,
                 sizeof a);
    }
    view_cores(obj, "cpu", b, sizeof b);
    snprintf(buf, len, "%s/%s", a, b);
}

/* "FREE/TOTAL MiB" of OBJ, as view_cpu_free does it for "memory_mb". */
static void view_memory_free(json_t *obj, const char *free_key,
                             const char *used_key, char *buf, size_t len)
{
    json_t *total = json_object_get(obj, "memory_mb");
    json_t *v = json_object_get(obj, free_key != NULL ? free_key : used_key);
    char a[32] = "?", b[32] = "?";

    if (json_is_integer(v) && (free_key != NULL || json_is_integer(total))) {
        snprintf(a, sizeof a, "%lld",
                 free_key != NULL ? (long long)json_integer_value(v)
                                  : (long long)json_integer_value(total) -
                                        (long long)json_integer_value(v));
    }
    if (json_is_integer(total)) {
        snprintf(b, sizeof b, "%lld", (long long)json_integer_value(total));
    }
    snprintf(buf, len, "%s/%s MiB", a, b);
}

static void view_site_row(struct table *t, json_t *site)
{
    const char *status = view_str(site, "status", "?");
    char buf[80], num[24];

    table_row(t);
    table_set(t, 0, "%.*s", VIEW_TEXT, view_str(site, "name", "?"));
    table_set(t, 1, "%.*s", VIEW_TEXT, status);
    table_color(t, 1, view_status_color(status));
    table_set(t, 2, "%s",
              view_num(view_int(site, "tasks", -1), num, sizeof num));
    view_cpu_free(site, NULL, "cpu_used", buf, sizeof buf);
    table_set(t, 3, "%s", buf);
    view_memory_free(site, NULL, "memory_used_mb", buf, sizeof buf);
    table_set(t, 4, "%s", buf);
    view_ago(view_int(site, "last_heartbeat_ms", -1), buf, sizeof buf);
    table_set(t, 5, "%s", buf);
}

/* How long ago AGENT's controller heard from it: what the controller said
 * in the heartbeat the leader heard SITE_AGO ms ago; -1 when not known. */
static long long view_agent_ago(json_t *agent, long long site_ago)
{
    long long ago = view_int(agent, "last_heartbeat_ms", -1);

    if (ago < 0 || site_ago < 0 || ago > VIEW_AGO_MAX ||
        site_ago > VIEW_AGO_MAX) {
        return -1;
    }
    return ago + site_ago;
}

/* One agent under its site: BRANCH before its name; FRESH when the site
 * is connected, so that what it reported holds now. */
static void view_agent_row(struct table *t, json_t *agent, const char *branch,
                           bool fresh, long long site_ago)
{
    const char *status = view_str(agent, "status", "?");
    char buf[80], num[24];

    table_row(t);
    table_set(t, 0, "%s%.*s", branch, VIEW_TEXT, view_str(agent, "name", "?"));
    if (fresh) {
        table_set(t, 1, "%.*s", VIEW_TEXT, status);
        table_color(t, 1, view_status_color(status));
    } else {
        table_set(t, 1, "was %.*s", VIEW_TEXT, status);
        table_color(t, 1, COL_DIM);
    }
    table_set(t, 2, "%s",
              view_num(view_int(agent, "tasks", -1), num, sizeof num));
    view_cpu_free(agent, "cpu_free", NULL, buf, sizeof buf);
    table_set(t, 3, "%s", buf);
    view_memory_free(agent, "memory_free_mb", NULL, buf, sizeof buf);
    table_set(t, 4, "%s", buf);
    view_ago(view_agent_ago(agent, site_ago), buf, sizeof buf);
    table_set(t, 5, "%s", buf);
}

static void view_site_agents(struct table *t, json_t *site, bool utf8)
{
    json_t *agents = json_object_get(site, "agents");
    bool fresh = strcmp(view_str(site, "status", ""), "connected") == 0;
    long long site_ago = view_int(site, "last_heartbeat_ms", -1);
    size_t n = json_array_size(agents), i;
    json_t *agent;

    json_array_foreach(agents, i, agent)
    {
        const char *branch;

        if (i + 1 < n) {
            branch = utf8 ? VIEW_TREE_MID : VIEW_TREE_MID_ASCII;
        } else {
            branch = utf8 ? VIEW_TREE_END : VIEW_TREE_END_ASCII;
        }
        view_agent_row(t, agent, branch, fresh, site_ago);
    }
}

int view_sites(FILE *f, json_t *sites, bool color, bool utf8)
{
    struct table t;
    size_t i;
    json_t *site;
    int rc;

    if (json_array_size(sites) == 0) {
        fprintf(f, "no sites registered\n");
        return ferror(f) ? -1 : 0;
    }
    table_init(&t, view_site_cols,
               sizeof view_site_cols / sizeof view_site_cols[0]);
    json_array_foreach(sites, i, site)
    {
        view_site_row(&t, site);
        view_site_agents(&t, site, utf8);
    }
    rc = table_print(f, &t, "", color);
    table_close(&t);
    return rc;
}

static int view_by_name(const void *a, const void *b)
{
    json_t *const *x = a, *const *y = b;

    return strcmp(view_str(*x, "name", ""), view_str(*y, "name", ""));
}

/* The items of ARR (may be NULL) sorted by their "name", as a new array;
 * NULL when out of memory. */
static json_t *view_sorted(json_t *arr)
{
    size_t n = json_array_size(arr);
    json_t **v = malloc((n > 0 ? n : 1) * sizeof *v);
    json_t *out = v != NULL ? json_array() : NULL;

    for (size_t i = 0; out != NULL && i < n; i++) {
        v[i] = json_array_get(arr, i);
    }
    if (out != NULL) {
        qsort(v, n, sizeof *v, view_by_name);
    }
    for (size_t i = 0; out != NULL && i < n; i++) {
        if (json_array_append(out, v[i]) < 0) {
            json_decref(out);
            out = NULL;
        }
    }
    free(v);
    return out;
}

/* AGENTS grouped by their "site": a new object {site: [agent...]}; NULL
 * when out of memory. */
static json_t *view_agents_by_site(json_t *agents)
{
    json_t *by_site = json_object();
    size_t i;
    json_t *agent;

    json_array_foreach(agents, i, agent)
    {
        const char *site = view_str(agent, "site", NULL);
        json_t *list;

        if (by_site == NULL || site == NULL) {
            continue;
        }
        list = json_object_get(by_site, site);
        if (list == NULL) {
            list = json_array();
            if (json_object_set_new(by_site, site, list) < 0) {
                list = NULL;
            }
        }
        if (list == NULL || json_array_append(list, agent) < 0) {
            json_decref(by_site);
            by_site = NULL;
        }
    }
    return by_site;
}

int view_nest_agents(json_t *sites, json_t *agents)
{
    json_t *by_site = view_agents_by_site(agents);
    size_t i;
    json_t *site;
    int rc = by_site != NULL ? 0 : -1;

    json_array_foreach(sites, i, site)
    {
        json_t *list;

        if (rc < 0 || !json_is_object(site)) {
            continue;
        }
        list =
            view_sorted(json_object_get(by_site, view_str(site, "name", "")));
        if (json_object_set_new(site, "agents", list) < 0) {
            rc = -1;
        }
    }
    json_decref(by_site);
    return rc;
}

/* ---------------------------------------------------------------------
 * one job */

/* One line of the spec: "  LABEL  VALUE". */
static void view_field(FILE *f, const char *label, const char *value)
{
    fprintf(f, "  %-13s%s\n", label, value);
}

/* The strings of the array ARR, ", " between them; EMPTY when there are
 * none. */
static void view_list(json_t *arr, const char *empty, char *buf, size_t len)
{
    struct view_buf b;
    size_t i;
    json_t *v;

    view_buf_init(&b, buf, len);
    json_array_foreach(arr, i, v)
    {
        view_puts(&b, i > 0 ? ", " : "");
        view_puts(&b, json_is_string(v) ? json_string_value(v) : "?");
    }
    if (b.used == 0) {
        view_puts(&b, empty);
    }
    view_finish(&b);
}

/* The pairs of the object OBJ as "k=v, k=v"; EMPTY when there are none. */
static void view_pairs(json_t *obj, const char *empty, char *buf, size_t len)
{
    struct view_buf b;
    const char *k;
    json_t *v;
    char cut[VIEW_TEXT + 1];

    view_buf_init(&b, buf, len);
    json_object_foreach(obj, k, v)
    {
        view_puts(&b, b.used > 0 ? ", " : "");
        view_puts(&b, k);
        view_puts(&b, "=");
        snprintf(cut, sizeof cut, "%s",
                 json_is_string(v) ? json_string_value(v) : "?");
        view_puts(&b, cut);
    }
    if (b.used == 0) {
        view_puts(&b, empty);
    }
    view_finish(&b);
}

static void view_spec_placement(FILE *f, json_t *job, bool system)
{
    char line[VIEW_LINE], cpu[32], mem[24];
    json_t *res = json_object_get(job, "resources");

    if (system) {
        view_field(f, "count", "one task on every matching agent");
    } else {
        view_num(view_int(job, "count", -1), cpu, sizeof cpu);
        view_field(f, "count", cpu);
    }
    view_cores(res, "cpu", cpu, sizeof cpu);
    view_num(view_int(res, "memory_mb", -1), mem, sizeof mem);
    snprintf(line, sizeof line, "%s cores, %s MiB per task", cpu, mem);
    view_field(f, "resources", line);
    view_list(json_object_get(job, "sites"), "any", line, sizeof line);
    view_field(f, "sites", line);
    view_pairs(json_object_get(job, "labels"), "any agent", line, sizeof line);
    view_field(f, "labels", line);
}

static void view_spec_policy(FILE *f, json_t *job)
{
    json_t *restart = json_object_get(job, "restart");
    json_t *env = json_object_get(job, "env");
    const char *resched = view_str(job, "reschedule_after", NULL);
    char line[VIEW_LINE], num[24];

    if (json_object_size(env) > 0) {
        view_pairs(env, "", line, sizeof line);
        view_field(f, "env", line);
    }
    view_num(view_int(restart, "attempts", -1), num, sizeof num);
    snprintf(line, sizeof line, "at most %s times in %.*s, %.*s apart", num,
             VIEW_TEXT, view_str(restart, "interval", "?"), VIEW_TEXT,
             view_str(restart, "delay", "?"));
    view_field(f, "restart", line);
    if (resched != NULL) {
        snprintf(line, sizeof line, "move tasks after %.*s", VIEW_TEXT,
                 resched);
    } else {
        snprintf(line, sizeof line, "keep tasks where they are");
    }
    view_field(f, "when silent", line);
    snprintf(line, sizeof line, "SIGTERM, then SIGKILL after %.*s", VIEW_TEXT,
             view_str(job, "kill_timeout", "?"));
    view_field(f, "stop", line);
}

static void view_spec(FILE *f, json_t *job, bool color)
{
    const char *type = view_str(job, "type", "?");
    char line[VIEW_LINE], num[24];

    fprintf(f, "%sjob %.*s%s: %.*s, version %s\n", color ? COL_BOLD : "",
            VIEW_TEXT, view_str(job, "id", "?"), color ? COL_RESET : "",
            VIEW_TEXT, type,
            view_num(view_int(job, "version", -1), num, sizeof num));
    view_command(json_object_get(job, "command"), line, sizeof line);
    view_field(f, "command", line);
    view_spec_placement(f, job, strcmp(type, "system") == 0);
    view_spec_policy(f, job);
}

static const struct table_col view_task_cols[] = {
    {"TASK", false},  {"SITE", false}, {"AGENT", false},
    {"STATE", false}, {"PID", true},   {"RESTARTS", true},
};

static const char *view_state_color(const char *state)
{
    if (strcmp(state, "running") == 0 || strcmp(state, "complete") == 0) {
        return COL_GREEN;
    }
    if (strcmp(state, "failed") == 0 || strcmp(state, "lost") == 0) {
        return COL_RED;
    }
    return strcmp(state, "pending") == 0 || strcmp(state, "unknown") == 0
               ? COL_YELLOW
               : NULL;
}

static void view_task_row(struct table *t, json_t *task)
{
    const char *state = view_str(task, "state", "?");
    long long code = view_int(task, "exit_code", -1);
    char num[24], st[64];

    table_row(t);
    table_set(t, 0, "%.*s", VIEW_TEXT + 8, view_str(task, "id", "?"));
    table_set(t, 1, "%.*s", VIEW_TEXT, view_str(task, "site", "-"));
    table_set(t, 2, "%.*s", VIEW_TEXT, view_str(task, "agent", "-"));
    snprintf(st, sizeof st, "%.16s", state);
    if (json_is_true(json_object_get(task, "stop"))) {
        snprintf(st, sizeof st, "%.16s, stopping", state);
    } else if (json_is_integer(json_object_get(task, "exit_code"))) {
        snprintf(st, sizeof st, "%.16s, exit %lld", state, code);
    }
    table_set(t, 3, "%s", st);
    table_color(t, 3, view_state_color(state));
    if (json_is_integer(json_object_get(task, "pid"))) {
        table_set(t, 4, "%lld", view_int(task, "pid", 0));
    } else {
        table_set(t, 4, "-");
    }
    table_set(t, 5, "%s",
              view_num(view_int(task, "restarts", -1), num, sizeof num));
}

static int view_tasks(FILE *f, json_t *tasks, bool color)
{
    struct table t;
    size_t i;
    json_t *task;
    int rc;

    if (json_array_size(tasks) == 0) {
        fprintf(f, "no tasks\n");
        return 0;
    }
    table_init(&t, view_task_cols,
               sizeof view_task_cols / sizeof view_task_cols[0]);
    json_array_foreach(tasks, i, task)
    {
        view_task_row(&t, task);
    }
    rc = table_print(f, &t, "", color);
    table_close(&t);
    return rc;
}

/* The notes of one reason: how many, and the first few names. */
struct view_group {
    const char *why;  /* borrowed from the answer */
    const char *site; /* system jobs: the site the note names; else NULL */
    size_t n;
    char names[VIEW_LINE];
};

/* The group of NOTE among the N groups of G, added when new and there is
 * room. Returns it, or NULL. */
static struct view_group *view_group_of(struct view_group *g, size_t *n,
                                        json_t *note, bool system)
{
    const char *why = view_str(note, "why", "?");
    const char *site = system ? view_str(note, "site", "?") : NULL;

    for (size_t i = 0; i < *n; i++) {
        if (strcmp(g[i].why, why) == 0 &&
            (site == NULL || strcmp(g[i].site, site) == 0)) {
            return &g[i];
        }
    }
    if (*n >= VIEW_NOTE_GROUPS) {
        return NULL;
    }
    memset(&g[*n], 0, sizeof g[*n]);
    g[*n].why = why;
    g[*n].site = site;
    return &g[(*n)++];
}

/* Count NOTE, a task of job JOB, in GROUP, and name the first few. */
static void view_group_add(struct view_group *group, const char *job,
                           json_t *note)
{
    size_t used = strlen(group->names);
    char num[24];

    group->n++;
    if (group->site == NULL && group->n <= VIEW_NOTE_NAMES) {
        view_num(view_int(note, "index", -1), num, sizeof num);
        snprintf(group->names + used, sizeof group->names - used, "%s%.*s.%s",
                 used ? ", " : "", VIEW_TEXT, job, num);
    }
}

static void view_group_print(FILE *f, const struct view_group *g)
{
    char line[VIEW_LINE * 2];
    struct view_buf b;

    view_buf_init(&b, line, sizeof line);
    if (g->site != NULL) {
        view_puts(&b, "site ");
        view_put(&b, g->site, strnlen(g->site, VIEW_TEXT));
    } else {
        view_puts(&b, g->names);
    }
    if (g->site == NULL && g->n > VIEW_NOTE_NAMES) {
        char more[48];

        snprintf(more, sizeof more, " and %zu more", g->n - VIEW_NOTE_NAMES);
        view_puts(&b, more);
    }
    view_puts(&b, ": ");
    view_put(&b, g->why, strnlen(g->why, VIEW_LINE));
    view_finish(&b);
    fprintf(f, "  %s\n", line);
}

/* Why tasks are pending: the notes of the answer, grouped by reason. */
static void view_notes(FILE *f, json_t *notes, json_t *job)
{
    struct view_group groups[VIEW_NOTE_GROUPS];
    const char *id = view_str(job, "id", "?");
    bool system = strcmp(view_str(job, "type", ""), "system") == 0;
    size_t n = 0, i;
    json_t *note;

    if (json_array_size(notes) == 0) {
        return;
    }
    json_array_foreach(notes, i, note)
    {
        struct view_group *g = view_group_of(groups, &n, note, system);

        if (g != NULL) {
            view_group_add(g, id, note);
        }
    }
    fprintf(f, "\nwhy tasks are pending:\n");
    for (i = 0; i < n; i++) {
        view_group_print(f, &groups[i]);
    }
}

int view_job(FILE *f, json_t *answer, bool color)
{
    json_t *job = json_object_get(answer, "job");

    view_spec(f, job, color);
    fputc('\n', f);
    if (view_tasks(f, json_object_get(answer, "tasks"), color) < 0) {
        return -1;
    }
    view_notes(f, json_object_get(answer, "notes"), job);
    return ferror(f) ? -1 : 0;
}
