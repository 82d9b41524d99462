/* task.c - `varde task logs|ls`: a task's output, and the fleet's tasks.
 *
 * `task ls` is one call to GET /v1/tasks through api.h, as `varde job`
 * makes its calls: any raft node takes it, a follower forwards it to the
 * leader, a 503 without a leader is retried for a few seconds.
 *
 * `task logs` streams GET /v1/tasks/ID/logs to stdout, byte for byte as it
 * arrives. The node asked relays it to the controller of the task's site,
 * which relays it to the agent that runs the task (docs/fleet.md); a
 * controller serves the same path, so --addr may name one while the raft
 * cluster is away. api_call keeps an answer whole, so this call has its
 * own small loop over the addresses: the first that can be reached
 * answers; the next is asked only when no connection could be made, when
 * the answer broke off before any output was written, or after a 503 with
 * Retry-After (for at most TASK_RETRY_MS). Once output is out, a broken
 * answer is reported, never asked again: that would print it twice.
 *
 * Failures are one line on stderr: 404 is `no task "ID"` (or, for a
 * pending task, the server's words); 502 is the site's controller not
 * answering, with the advice to ask it directly, naming its address when
 * the node asked can tell it (GET /v1/tasks and /v1/sites, both stale).
 */
#include "cli/api.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/table.h"
#include "sm/job.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define TASK_ID_MAX (JOB_MAX_ID + 11) /* JOB "." INDEX (below 2^32) */
#define TASK_SHOWN 80                 /* bytes of an ID in a message */
#define TASK_LOGS_MS 90000      /* one answer: above a node's 75 s relay */
#define TASK_RETRY_MS 5000      /* all 503 retries together */
#define TASK_HINT_MS 2000       /* each call that looks up a controller */
#define TASK_ERR_MAX (1u << 20) /* the body of an error answer */
#define TASK_OFFSET_DIGITS 18

#define COL_RED "\033[31m"
#define COL_GREEN "\033[32m"
#define COL_YELLOW "\033[33m"

/* What one invocation asks for, from the command line. */
struct task_args {
    const char *cmd;  /* "task logs", for messages */
    const char *addr; /* --addr, or NULL */
    struct api_addrs addrs;
    const char *id;             /* logs: the task */
    char shown[TASK_SHOWN + 1]; /* ID, cleaned, for messages */
    const char *offset;         /* logs: --offset, checked, or NULL */
    const char *job, *site;     /* ls: the filters, or NULL */
    bool follow, json, stale;
};

static const char task_usage[] =
    "usage: varde task logs ID [--follow] [--offset N]   a task's output\n"
    "       varde task ls [--job ID] [--site NAME]        list the tasks\n"
    "\n"
    "A task is one copy of a job, named JOB.INDEX (sensor-average.2): the\n"
    "cluster places it on a site, and the site's controller gives it to\n"
    "one of its agents, which runs it. 'varde task logs --help' and\n"
    "'varde task ls --help' for more.\n"
    "\n"
    "Common options:\n"
    "  --addr HOST:PORT[,HOST:PORT...]  the raft nodes to ask, in order\n"
    "                    (default: $VARDE_ADDR, else 127.0.0.1:7101)\n"
    "  -h, --help        help\n"
    "\n"
    "Exit status: 0 done, 1 failed (the reason in one line on stderr), 2 bad\n"
    "usage.\n";

static const char task_logs_usage[] =
    "usage: varde task logs ID [--follow] [--offset N] [--addr "
    "HOST:PORT[,...]]\n"
    "\n"
    "Print the output of task ID (its stdout and stderr, interleaved as it\n"
    "wrote them), as the agent that runs it keeps it, byte for byte. The\n"
    "node asked relays the request to the controller of the task's site,\n"
    "which relays it to the agent. --addr may also name a site's\n"
    "controller, which serves the same request: so the logs can be read\n"
    "while the raft cluster is down.\n"
    "\n"
    "  -f, --follow      go on printing as the task writes, until the\n"
    "                    server ends the answer (after a minute) or Ctrl-C\n"
    "  --offset N        from byte N of what is kept; a negative N counts\n"
    "                    from the end (--offset -4096: the last 4 KiB)\n"
    "  --addr HOST:PORT[,HOST:PORT...]  the raft nodes, or a controller, to\n"
    "                    ask, in order (default: $VARDE_ADDR, else\n"
    "                    127.0.0.1:7101)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 done, 1 failed (one line on stderr: no task \"ID\", a\n"
    "task still pending, a site's controller that does not answer), 2 bad\n"
    "usage.\n";

static const char task_ls_usage[] =
    "usage: varde task ls [--job ID] [--site NAME] [--json] [--stale]\n"
    "                     [--addr HOST:PORT[,...]]\n"
    "\n"
    "List the tasks: TASK SITE AGENT STATE PID RESTARTS. SITE is '-' for a\n"
    "pending task, AGENT and PID until an agent runs it; a task being\n"
    "removed shows ', stopping' after its state, one that exited its code.\n"
    "\n"
    "  --job ID          only the tasks of job ID\n"
    "  --site NAME       only the tasks on site NAME\n"
    "  --json            print the answer: {\"index\", \"tasks\": [...]}\n"
    "  --stale           answer from the node asked, at once, even if it is\n"
    "                    behind (default: through the leader)\n"
    "  --addr HOST:PORT[,HOST:PORT...]  the raft nodes to ask, in order\n"
    "                    (default: $VARDE_ADDR, else 127.0.0.1:7101)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 bad usage.\n";

static int64_t task_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void task_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ---------------------------------------------------------------------
 * logs: the output */

/* Where the output goes: stdout, as it comes. */
struct task_out {
    int err; /* errno of a failed write, or 0 */
};

static int task_out_cb(void *arg, const char *data, size_t len)
{
    struct task_out *out = arg;

    while (len > 0) {
        ssize_t w = write(STDOUT_FILENO, data, len);

        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w <= 0) {
            out->err = w < 0 ? errno : EIO;
            return -1;
        }
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

/* The path of A's request: the task's logs, with its query. NULL: out of
 * memory (said on stderr). */
static char *task_logs_path(const struct task_args *a)
{
    char query[64];
    char *p;

    snprintf(query, sizeof query, "/logs%s%s%s%s", a->offset ? "?offset=" : "",
             a->offset ? a->offset : "",
             a->follow ? (a->offset ? "&" : "?") : "",
             a->follow ? "follow=1" : "");
    p = api_path("/v1/tasks/", a->id, false, query);
    if (p == NULL) {
        fprintf(stderr, "varde: out of memory\n");
    }
    return p;
}

/* What came of asking for the logs. */
struct task_fetch {
    struct http_call call; /* the last try */
    const char *addr;      /* where the last try went */
    struct task_out out;
    size_t unreachable; /* tries that reached no node */
    char why[512];      /* their errors, "; " between them */
};

/* May the next address be asked after this failed try? When nothing of
 * the output is out and the failure was not ours. */
static bool task_may_move_on(const struct http_call *call)
{
    return call->streamed == 0 && call->error != HTTP_E_STOPPED &&
           call->error != HTTP_E_NOMEM;
}

static void task_note_unreachable(struct task_fetch *f)
{
    size_t used = strlen(f->why);

    if (used + 1 < sizeof f->why) {
        snprintf(f->why + used, sizeof f->why - used, "%s%s",
                 used > 0 ? "; " : "", f->call.errmsg);
    }
    f->unreachable++;
}

/* One try of PATH at ADDR into F. */
static void task_try(struct task_fetch *f, const char *path, const char *addr)
{
    const struct http_opts opts = {.connect_ms = API_CONNECT_MS,
                                   .total_ms = TASK_LOGS_MS,
                                   .max_response = TASK_ERR_MAX};

    http_call_clear(&f->call);
    memset(&f->call, 0, sizeof f->call);
    f->call.method = "GET";
    f->call.addr = addr;
    f->call.path = path;
    f->call.on_body = task_out_cb;
    f->call.on_body_arg = &f->out;
    f->addr = addr;
    http_request(&f->call, &opts);
}

/* Ask A's addresses for PATH as described at the top, into F (zeroed by
 * this call). Returns 0 when an answer came (any status), -1 when not. */
static int task_fetch(const struct task_args *a, const char *path,
                      struct task_fetch *f)
{
    int64_t start = task_now_ms();
    size_t at = 0, failed_in_row = 0;

    memset(f, 0, sizeof *f);
    for (int tries = 0; tries < API_MAX_TRIES; tries++) {
        int64_t wait, left;

        task_try(f, path, a->addrs.addr[at]);
        at = (at + 1) % a->addrs.n;
        if (f->call.error != HTTP_OK) {
            task_note_unreachable(f);
            if (!task_may_move_on(&f->call) || ++failed_in_row >= a->addrs.n) {
                return -1;
            }
            continue;
        }
        failed_in_row = 0;
        left = TASK_RETRY_MS - (task_now_ms() - start);
        if (f->call.status != 503 || f->call.retry_after < 0 || left <= 0) {
            return 0;
        }
        wait = (int64_t)f->call.retry_after * 1000;
        wait = wait < API_WAIT_MIN_MS ? API_WAIT_MIN_MS : wait;
        wait = wait > API_WAIT_MAX_MS ? API_WAIT_MAX_MS : wait;
        task_sleep_ms(wait < left ? wait : left);
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * logs: when it fails */

/* GET PATH at ADDR, briefly: the answer as a JSON object (a new
 * reference) when it is a 200 with one, else NULL. */
static json_t *task_get_json(const char *addr, const char *path)
{
    const struct http_opts opts = {.connect_ms = TASK_HINT_MS,
                                   .total_ms = TASK_HINT_MS};
    struct http_call call = {.method = "GET", .addr = addr, .path = path};
    json_t *j = NULL;

    if (http_request(&call, &opts) == HTTP_OK && call.status == 200) {
        j = json_loadb(call.resp_body, call.resp_len, 0, NULL);
    }
    http_call_clear(&call);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        j = NULL;
    }
    return j;
}

/* The element of the array ARR whose KEY is the string VALUE (borrowed),
 * or NULL. */
static json_t *task_find(json_t *arr, const char *key, const char *value)
{
    size_t i;
    json_t *e;

    json_array_foreach(arr, i, e)
    {
        const char *v = json_string_value(json_object_get(e, key));

        if (v != NULL && strcmp(v, value) == 0) {
            return e;
        }
    }
    return NULL;
}

/* The controller of task A->id's site, as the raft node at ADDR knows it,
 * into CTL (cleaned). Returns 0, or -1 when ADDR cannot tell (it is a
 * controller itself, or the task or its site is not there). */
static int task_controller_of(const struct task_args *a, const char *addr,
                              char *ctl, size_t len)
{
    const char *dot = strrchr(a->id, '.');
    char job[JOB_MAX_ID + 1], *path;
    json_t *tasks, *sites = NULL, *site;
    const char *name, *c;
    int rc = -1;

    if (dot == NULL || (size_t)(dot - a->id) >= sizeof job) {
        return -1;
    }
    memcpy(job, a->id, (size_t)(dot - a->id));
    job[dot - a->id] = '\0';
    path = api_path("/v1/tasks?stale&job=", job, false, "");
    tasks = path != NULL ? task_get_json(addr, path) : NULL;
    free(path);
    name = json_string_value(json_object_get(
        task_find(json_object_get(tasks, "tasks"), "id", a->id), "site"));
    if (name != NULL) {
        sites = task_get_json(addr, "/v1/sites?stale");
    }
    site = task_find(json_object_get(sites, "sites"), "name",
                     name != NULL ? name : "");
    c = json_string_value(json_object_get(site, "controller"));
    if (c != NULL && c[0] != '\0') {
        api_clean(c, API_ADDR_MAX, ctl, len);
        rc = 0;
    }
    json_decref(sites);
    json_decref(tasks);
    return rc;
}

/* A 502: the site's controller (or, from a controller, the agent) did not
 * answer. MSG is the server's words. */
static void task_logs_502(const struct task_args *a, const struct task_fetch *f,
                          const char *msg)
{
    char ctl[API_ADDR_MAX];

    if (task_controller_of(a, f->addr, ctl, sizeof ctl) == 0) {
        fprintf(stderr,
                "varde: %s (site controller %s, asked through %s); ask it "
                "directly: varde task logs %s --addr %s\n",
                msg, ctl, f->addr, a->shown, ctl);
    } else if (strstr(msg, "controller") != NULL) {
        fprintf(stderr,
                "varde: %s (asked through %s); ask the site's controller "
                "directly: varde task logs %s --addr CONTROLLER\n",
                msg, f->addr, a->shown);
    } else {
        fprintf(stderr, "varde: %s (asked %s)\n", msg, f->addr);
    }
}

/* No answer, or an answer that broke off. */
static void task_logs_broken(const struct task_fetch *f)
{
    const struct http_call *call = &f->call;

    if (call->error == HTTP_E_STOPPED) {
        fprintf(stderr, "varde: cannot write the output: %s\n",
                strerror(f->out.err));
    } else if (call->streamed > 0) {
        fprintf(stderr, "varde: the output broke off after %zu bytes: %s\n",
                call->streamed, call->errmsg);
    } else if (f->unreachable > 1) {
        fprintf(stderr, "varde: no node answered: %s\n", f->why);
    } else if (call->error == HTTP_E_CONNECT &&
               strstr(call->errmsg, "refused") != NULL) {
        fprintf(stderr,
                "varde: %s (is a varde raft node or controller there? see "
                "--addr)\n",
                call->errmsg);
    } else {
        fprintf(stderr, "varde: %s\n", call->errmsg);
    }
}

/* An answer other than a 2xx: say why in one line. */
static void task_logs_refused(const struct task_args *a,
                              const struct task_fetch *f)
{
    const struct http_call *call = &f->call;
    json_t *body = call->resp_body != NULL
                       ? json_loadb(call->resp_body, call->resp_len, 0, NULL)
                       : NULL;
    const char *e = json_string_value(json_object_get(body, "error"));
    char msg[API_ERR_SHOWN + 1];

    api_clean(e != NULL ? e : "", API_ERR_SHOWN, msg, sizeof msg);
    if (call->status == 404 && e != NULL &&
        strncmp(e, "no such path", 12) == 0) {
        fprintf(stderr,
                "varde: %s has no task logs API (404 \"no such path\": a "
                "node or controller from before it?)\n",
                f->addr);
    } else if (call->status == 404 &&
               (e == NULL || strncmp(e, "no task", 7) == 0)) {
        fprintf(stderr, "varde: no task \"%s\"\n", a->shown);
    } else if (call->status == 502) {
        task_logs_502(a, f,
                      e != NULL ? msg : "the site's controller did not answer");
    } else if (e != NULL && e[0] != '\0') {
        fprintf(stderr, "varde: %s\n", msg);
    } else {
        fprintf(stderr, "varde: %s answered HTTP %d without an error message\n",
                f->addr, call->status);
    }
    json_decref(body);
}

static int task_logs(const struct task_args *a)
{
    struct task_fetch f;
    char *path;
    int rc = 1;

    if (strlen(a->id) > TASK_ID_MAX) {
        fprintf(stderr, "varde: no task \"%s...\" (a task is JOB.INDEX)\n",
                a->shown);
        return 1;
    }
    path = task_logs_path(a);
    if (path == NULL) {
        return 1;
    }
    if (task_fetch(a, path, &f) < 0) {
        task_logs_broken(&f);
    } else if (f.call.status < 200 || f.call.status >= 300) {
        task_logs_refused(a, &f);
    } else {
        rc = 0;
    }
    http_call_clear(&f.call);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------------
 * ls */

static const struct table_col task_cols[] = {
    {"TASK", false},  {"SITE", false}, {"AGENT", false},
    {"STATE", false}, {"PID", true},   {"RESTARTS", true},
};

/* OBJ[KEY] as a string, or DFLT. */
static const char *task_str(json_t *obj, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(obj, key));

    return s != NULL ? s : dflt;
}

static const char *task_state_color(const char *state)
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

/* The STATE cell: the state, and what else matters about it. */
static void task_state_cell(struct table *t, json_t *task)
{
    const char *state = task_str(task, "state", "?");
    json_t *code = json_object_get(task, "exit_code");

    if (json_is_true(json_object_get(task, "stop"))) {
        table_set(t, 3, "%.16s, stopping", state);
    } else if (json_is_integer(code)) {
        table_set(t, 3, "%.16s, exit %" JSON_INTEGER_FORMAT, state,
                  json_integer_value(code));
    } else {
        table_set(t, 3, "%.16s", state);
    }
    table_color(t, 3, task_state_color(state));
}

/* A count or a pid: the integer, or DFLT when it is not one. */
static void task_int_cell(struct table *t, size_t col, json_t *v,
                          const char *dflt)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        table_set(t, col, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else {
        table_set(t, col, "%s", dflt);
    }
}

static void task_row(struct table *t, json_t *task)
{
    table_row(t);
    table_set(t, 0, "%.*s", TASK_SHOWN, task_str(task, "id", "?"));
    table_set(t, 1, "%.*s", JOB_MAX_SITE, task_str(task, "site", "-"));
    table_set(t, 2, "%.*s", JOB_MAX_SITE, task_str(task, "agent", "-"));
    task_state_cell(t, task);
    task_int_cell(t, 4, json_object_get(task, "pid"), "-");
    task_int_cell(t, 5, json_object_get(task, "restarts"), "?");
}

/* The tasks of ANSWER as a table on stdout. Returns the exit status. */
static int task_show_ls(json_t *answer)
{
    json_t *tasks = json_object_get(answer, "tasks"), *task;
    struct table t;
    size_t i;
    int rc;

    if (!json_is_array(tasks)) {
        fprintf(stderr, "varde: the answer has no list of tasks\n");
        return 1;
    }
    if (json_array_size(tasks) == 0) {
        return puts("no tasks") == EOF ? 1 : 0;
    }
    table_init(&t, task_cols, sizeof task_cols / sizeof task_cols[0]);
    json_array_foreach(tasks, i, task)
    {
        task_row(&t, task);
    }
    rc = table_print(stdout, &t, "", cli_use_color(STDOUT_FILENO));
    table_close(&t);
    return rc < 0 ? 1 : 0;
}

/* PATH (freed here) with "NAME=VALUE" added to its query, VALUE
 * percent-encoded, or "NAME" alone when VALUE is NULL. NULL when out of
 * memory. */
static char *task_query_add(char *path, const char *name, const char *value)
{
    char *prefix, *p = NULL;

    if (path == NULL) {
        return NULL;
    }
    if (asprintf(&prefix, "%s%c%s%s", path, strchr(path, '?') ? '&' : '?', name,
                 value != NULL ? "=" : "") >= 0) {
        p = api_path(prefix, value != NULL ? value : "", false, "");
        free(prefix);
    }
    free(path);
    return p;
}

/* Say on stderr why the call in RES failed. Returns 1. */
static int task_ls_failed(const struct api_res *res, json_t *body)
{
    char msg[API_ERR_SHOWN + 512];

    if (api_no_route(res, body)) {
        fprintf(stderr,
                "varde: %s has no tasks API (404 \"no such path\": a node "
                "from before tasks?)\n",
                res->addr);
    } else if (res->call.error == HTTP_OK && res->call.status == 200) {
        fprintf(stderr, "varde: %s answered 200 without a JSON object\n",
                res->addr);
    } else {
        api_failure(res, body, msg, sizeof msg);
        fprintf(stderr, "varde: %s\n", msg);
    }
    return 1;
}

static int task_ls(const struct task_args *a)
{
    struct api_req req = {.method = "GET"};
    struct api_res res;
    char *path = strdup("/v1/tasks");
    json_t *body;
    int rc;

    path = a->stale ? task_query_add(path, "stale", NULL) : path;
    path = a->job != NULL ? task_query_add(path, "job", a->job) : path;
    path = a->site != NULL ? task_query_add(path, "site", a->site) : path;
    if (path == NULL) {
        fprintf(stderr, "varde: out of memory\n");
        return 1;
    }
    req.path = path;
    api_call(&a->addrs, &req, &res);
    body = api_json(&res);
    if (res.call.error != HTTP_OK || res.call.status != 200 || body == NULL) {
        rc = task_ls_failed(&res, body);
    } else if (a->json) {
        rc = json_dumpf(body, stdout, JSON_COMPACT) < 0 || putchar('\n') == EOF;
    } else {
        rc = task_show_ls(body);
    }
    json_decref(body);
    api_res_clear(&res);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------------
 * the command line */

/* True when S is an integer: an optional '-', then 1 to
 * TASK_OFFSET_DIGITS digits. */
static bool task_offset_ok(const char *s)
{
    size_t n;

    s += s[0] == '-';
    n = strspn(s, "0123456789");
    return n > 0 && n <= TASK_OFFSET_DIGITS && s[n] == '\0';
}

struct task_sub {
    const char *name;
    const char *cmd;
    const char *usage;
    bool logs; /* the options of logs, else those of ls */
    int (*run)(const struct task_args *a);
};

static const struct task_sub task_subs[] = {
    {"logs", "task logs", task_logs_usage, true, task_logs},
    {"ls", "task ls", task_ls_usage, false, task_ls},
};

/* Option NAME is not one of A->cmd's. Returns 2. */
static int task_not_here(const struct task_args *a, const char *name)
{
    fprintf(stderr,
            "varde %s: %s is not an option of %s (see varde %s --help)\n",
            a->cmd, name, a->cmd, a->cmd);
    return 2;
}

/* The name of the option that getopt_long returned as OPT. */
static const char *task_opt_name(int opt)
{
    switch (opt) {
    case 'f':
        return "--follow";
    case 'o':
        return "--offset";
    case 'j':
        return "--job";
    case 's':
        return "--site";
    case 'J':
        return "--json";
    default:
        return "--stale";
    }
}

/* One option OPT of SUB with its OPTARG into A. Returns -1 to go on, or
 * the exit status. */
static int task_take_opt(const struct task_sub *sub, struct task_args *a,
                         int opt, char **argv)
{
    bool logs_only = opt == 'f' || opt == 'o';
    bool ls_only = opt == 'j' || opt == 'J' || opt == 'S' || opt == 's';

    if ((logs_only && !sub->logs) || (ls_only && sub->logs)) {
        return task_not_here(a, task_opt_name(opt));
    }
    switch (opt) {
    case 'h':
        fputs(sub->usage, stdout);
        return 0;
    case 'a':
        a->addr = optarg;
        return -1;
    case 'f':
        a->follow = true;
        return -1;
    case 'o':
        if (!task_offset_ok(optarg)) {
            fprintf(stderr,
                    "varde %s: --offset: expected a whole number of bytes "
                    "(negative: from the end), got '%.40s'\n",
                    a->cmd, optarg);
            return 2;
        }
        a->offset = optarg;
        return -1;
    case 'J':
        a->json = true;
        return -1;
    case 'S':
        a->stale = true;
        return -1;
    case 'j':
    case 's':
        if (optarg[0] == '\0') {
            fprintf(stderr, "varde %s: --%s needs a value\n", a->cmd,
                    opt == 'j' ? "job" : "site");
            return 2;
        }
        *(opt == 'j' ? &a->job : &a->site) = optarg;
        return -1;
    default:
        return cli_usage_error(a->cmd, opt, argv);
    }
}

/* Options of a subcommand. Returns -1 to go on, else the exit status (0
 * after --help, 2 on bad usage). */
static int task_parse_opts(const struct task_sub *sub, struct task_args *a,
                           int argc, char **argv)
{
    static const struct option longopts[] = {
        {"addr", required_argument, NULL, 'a'},
        {"follow", no_argument, NULL, 'f'},
        {"offset", required_argument, NULL, 'o'},
        {"job", required_argument, NULL, 'j'},
        {"site", required_argument, NULL, 's'},
        {"json", no_argument, NULL, 'J'},
        {"stale", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, rc;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":hf", longopts, NULL)) != -1) {
        rc = task_take_opt(sub, a, opt, argv);
        if (rc >= 0) {
            return rc;
        }
    }
    return -1;
}

/* The operand ID of logs, then nothing more. Returns -1 to go on, or 2
 * with a message on stderr. */
static int task_parse_operand(const struct task_sub *sub, struct task_args *a,
                              int argc, char **argv)
{
    if (sub->logs) {
        if (optind >= argc || argv[optind][0] == '\0') {
            fprintf(stderr, "varde %s: needs ID (see varde %s --help)\n",
                    a->cmd, a->cmd);
            return 2;
        }
        a->id = argv[optind++];
        api_clean(a->id, TASK_SHOWN, a->shown, sizeof a->shown);
    }
    return cli_no_more_args(a->cmd, argc, argv) != 0 ? 2 : -1;
}

static int task_sub_main(const struct task_sub *sub, int argc, char **argv)
{
    struct task_args a = {.cmd = sub->cmd};
    char err[256];
    int rc;

    rc = task_parse_opts(sub, &a, argc, argv);
    if (rc < 0) {
        rc = task_parse_operand(sub, &a, argc, argv);
    }
    if (rc >= 0) {
        return rc;
    }
    if (api_parse_addrs(cli_default_addr(a.addr), &a.addrs, err, sizeof err) <
        0) {
        fprintf(stderr, "varde %s: %s\n", a.cmd, err);
        return 2;
    }
    return sub->run(&a);
}

int task_main(int argc, char **argv)
{
    int rc;
    long i = cli_find_sub("task", task_usage, task_subs,
                          sizeof task_subs / sizeof task_subs[0],
                          sizeof task_subs[0], argc, argv, &rc);

    return i < 0 ? rc : task_sub_main(&task_subs[i], argc - 1, argv + 1);
}
