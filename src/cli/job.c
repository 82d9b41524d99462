/* job.c - `varde job run|ls|status|stop`: the cluster's jobs.
 *
 * Each subcommand is one call to the fleet API (docs/fleet.md) through
 * api.h: any raft node of --addr takes it, a follower forwards it to the
 * leader, and a 503 without a leader is retried for a few seconds. The
 * answer is printed as a table or a summary line, or, with --json, as the
 * server wrote it. A job file is sent as it is, at most 512 KiB: the
 * cluster validates it strictly, and its one-line refusal is what the user
 * sees.
 */
#include "sm/job.h"
#include "cli/api.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/view.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define JOB_ID_SHOWN 80 /* bytes of an ID or a file name in a message */

/* What one invocation asks for, from the command line. */
struct job_args {
    const char *cmd;  /* "job run", for messages */
    const char *addr; /* --addr, or NULL */
    struct api_addrs addrs;
    const char *arg;              /* FILE or ID */
    char shown[JOB_ID_SHOWN + 1]; /* ARG, cleaned, for messages */
    bool json, stale;
};

static const char job_usage[] =
    "usage: varde job run FILE     submit a job, or a new version of one\n"
    "       varde job ls           list the jobs and their tasks' states\n"
    "       varde job status ID    a job's spec, tasks, and why tasks wait\n"
    "       varde job stop ID      stop a job and all its tasks\n"
    "\n"
    "Jobs are the desired state of the fleet: what to run, how many, where.\n"
    "A job file is JSON (docs/jobs.md; examples in examples/jobs/). Any raft\n"
    "node takes any request (a follower forwards it to the leader), and a\n"
    "write is answered once a majority has it. 'varde job run --help' and so\n"
    "on for more.\n"
    "\n"
    "Common options:\n"
    "  --addr HOST:PORT[,HOST:PORT...]  the raft nodes to ask, in order\n"
    "                    (default: $VARDE_ADDR, else 127.0.0.1:7101)\n"
    "  --json            print the server's answer as JSON\n"
    "  -h, --help        help\n"
    "\n"
    "Exit status: 0 done, 1 failed (the reason in one line on stderr), 2 bad\n"
    "usage.\n";

static const char job_run_usage[] =
    "usage: varde job run FILE [--json] [--addr HOST:PORT[,...]]\n"
    "\n"
    "Submit the job in FILE ('-': read it from stdin), at most 512 KiB of\n"
    "JSON (docs/jobs.md). A new job gets version 1; a file that changes an\n"
    "existing job makes a new version, and the same file again changes\n"
    "nothing. Prints one line:\n"
    "\n"
    "  job sensor-average: version 2 (changed)\n"
    "\n"
    "The cluster checks the file strictly: an unknown field, a wrong type,\n"
    "a value out of bounds or a site no controller has registered is\n"
    "refused with one line naming the field, and nothing changes.\n"
    "\n"
    "  --json            print the answer: {\"id\", \"version\", \"index\",\n"
    "                    \"changed\"}\n"
    "  --addr HOST:PORT[,HOST:PORT...]  the raft nodes to ask, in order\n"
    "                    (default: $VARDE_ADDR, else 127.0.0.1:7101)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 submitted, 1 refused or failed, 2 bad usage.\n";

static const char job_ls_usage[] =
    "usage: varde job ls [--json] [--stale] [--addr HOST:PORT[,...]]\n"
    "\n"
    "List the jobs: ID, TYPE, VERSION, DESIRED (the count; '-' for a system\n"
    "job, which runs on every matching agent), and how many of its tasks are\n"
    "PENDING (waiting for a site), PLACED (on a site or an agent, not yet\n"
    "running), RUNNING, DONE (complete), FAILED (failed or lost) and\n"
    "UNKNOWN (on a site that has gone silent).\n"
    "\n"
    "  --json            print the answer: {\"index\", \"jobs\": [...]}\n"
    "  --stale           answer from the node asked, at once, even if it is\n"
    "                    behind (default: through the leader)\n"
    "  --addr HOST:PORT[,HOST:PORT...]  the raft nodes to ask, in order\n"
    "                    (default: $VARDE_ADDR, else 127.0.0.1:7101)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 bad usage.\n";

static const char job_status_usage[] =
    "usage: varde job status ID [--json] [--stale] [--addr HOST:PORT[,...]]\n"
    "\n"
    "Show job ID: its spec (command, count, resources, placement, restart\n"
    "and stop policy), its tasks (TASK SITE AGENT STATE PID RESTARTS), and\n"
    "why tasks are still pending, as the leader's scheduler says.\n"
    "\n"
    "  --json            print the answer: {\"index\", \"job\", \"tasks\",\n"
    "                    \"notes\"}\n"
    "  --stale           answer from the node asked, at once, even if it is\n"
    "                    behind (no notes: only the leader has them)\n"
    "  --addr HOST:PORT[,HOST:PORT...]  the raft nodes to ask, in order\n"
    "                    (default: $VARDE_ADDR, else 127.0.0.1:7101)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 done, 1 failed (\"no job \\\"ID\\\"\" when there is "
    "none),\n"
    "2 bad usage.\n";

static const char job_stop_usage[] =
    "usage: varde job stop ID [--json] [--addr HOST:PORT[,...]]\n"
    "\n"
    "Stop job ID: its record goes at once, and its tasks are asked to stop\n"
    "(SIGTERM, then SIGKILL after the job's kill_timeout); they disappear\n"
    "from the cluster's state as their sites report them stopped.\n"
    "\n"
    "  --json            print the answer: {\"id\", \"index\"}\n"
    "  --addr HOST:PORT[,HOST:PORT...]  the raft nodes to ask, in order\n"
    "                    (default: $VARDE_ADDR, else 127.0.0.1:7101)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 stopped, 1 failed (\"no job \\\"ID\\\"\" when there is\n"
    "none), 2 bad usage.\n";

/* ---------------------------------------------------------------------
 * the call and its answer */

/* Send REQ to A's nodes. On a 200 with a JSON object, return it (a new
 * reference); else return NULL, with RES and *BODY (maybe NULL) kept for
 * the caller to explain (api_res_clear and json_decref them). */
static json_t *job_call(const struct job_args *a, const struct api_req *req,
                        struct api_res *res, json_t **body)
{
    api_call(&a->addrs, req, res);
    *body = api_json(res);
    if (res->call.error == HTTP_OK && res->call.status == 200 &&
        *body != NULL) {
        json_t *ok = *body;

        *body = NULL;
        return ok;
    }
    return NULL;
}

/* Say on stderr why the call in RES failed. NO_JOB: a 404 means there is
 * no such job. FILE: a 400 or 413 is about this file. Returns 1. */
static int job_failed(const struct job_args *a, const struct api_res *res,
                      json_t *body, bool no_job, const char *file)
{
    char msg[API_ERR_SHOWN + 512];
    int status = res->call.error == HTTP_OK ? res->call.status : 0;

    if (api_no_route(res, body)) {
        fprintf(stderr,
                "varde: %s has no jobs API (%d \"no such path\": a node "
                "from before jobs?)\n",
                res->addr, status);
        return 1;
    }
    if (no_job && status == 404) {
        fprintf(stderr, "varde: no job \"%s\"\n", a->shown);
        return 1;
    }
    if (status == 200) {
        fprintf(stderr, "varde: %s answered 200 without a JSON object\n",
                res->addr);
        return 1;
    }
    api_failure(res, body, msg, sizeof msg);
    if (file != NULL && (status == 400 || status == 413)) {
        fprintf(stderr, "varde: %s: %s\n", file, msg);
    } else {
        fprintf(stderr, "varde: %s\n", msg);
    }
    return 1;
}

/* Run REQ; on success hand the answer to SHOW (or print it as JSON with
 * --json); else explain. Returns the exit status. */
static int job_exchange(const struct job_args *a, const struct api_req *req,
                        bool no_job, const char *file,
                        int (*show)(const struct job_args *a, json_t *answer))
{
    struct api_res res;
    json_t *body = NULL, *answer;
    int rc;

    answer = job_call(a, req, &res, &body);
    if (answer == NULL) {
        rc = job_failed(a, &res, body, no_job, file);
    } else if (a->json) {
        rc = json_dumpf(answer, stdout, JSON_COMPACT | JOB_JSON_REAL_FLAGS) <
                         0 ||
                     putchar('\n') == EOF
                 ? 1
                 : 0;
    } else {
        rc = show(a, answer) < 0 ? 1 : 0;
    }
    json_decref(answer);
    json_decref(body);
    api_res_clear(&res);
    return rc;
}

/* A path for the job in A->arg, with "?stale" when asked. NULL: out of
 * memory (said on stderr). */
static char *job_path(const struct job_args *a)
{
    char *p = api_path("/v1/jobs/", a->arg, false, a->stale ? "?stale" : "");

    if (p == NULL) {
        fprintf(stderr, "varde: out of memory\n");
    }
    return p;
}

/* ---------------------------------------------------------------------
 * run */

/* Read at most JOB_MAX_TEXT bytes from FD into a malloc'd *BUF (*LEN
 * bytes). Returns 0, or 1 with the reason on stderr. */
static int job_read_fd(int fd, const char *name, char **buf, size_t *len)
{
    size_t cap = JOB_MAX_TEXT + 1, n = 0;
    char *b = malloc(cap);

    if (b == NULL) {
        fprintf(stderr, "varde: out of memory\n");
        return 1;
    }
    while (n < cap) {
        ssize_t r = read(fd, b + n, cap - n);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            fprintf(stderr, "varde: cannot read %s: %s\n", name,
                    strerror(errno));
            free(b);
            return 1;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    if (n > JOB_MAX_TEXT) {
        fprintf(stderr,
                "varde: %s: larger than %u bytes (512 KiB), the most a job "
                "file can be\n",
                name, JOB_MAX_TEXT);
        free(b);
        return 1;
    }
    *buf = b;
    *len = n;
    return 0;
}

/* The job file of A: the file named, or stdin for "-". */
static int job_read_file(const struct job_args *a, char **buf, size_t *len)
{
    int fd, rc;

    if (strcmp(a->arg, "-") == 0) {
        return job_read_fd(STDIN_FILENO, "stdin", buf, len);
    }
    fd = open(a->arg, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        fprintf(stderr, "varde: cannot open %s: %s\n", a->shown,
                strerror(errno));
        return 1;
    }
    rc = job_read_fd(fd, a->shown, buf, len);
    close(fd);
    return rc;
}

static int job_show_run(const struct job_args *a, json_t *answer)
{
    json_t *version = json_object_get(answer, "version");
    const char *id = json_string_value(json_object_get(answer, "id"));
    char shown[JOB_ID_SHOWN + 1];

    if (!json_is_integer(version)) {
        fprintf(stderr, "varde: the answer has no version\n");
        return -1;
    }
    api_clean(id != NULL ? id : "?", JOB_ID_SHOWN, shown, sizeof shown);
    printf("job %s: version %" JSON_INTEGER_FORMAT " (%s)\n", shown,
           json_integer_value(version),
           json_is_true(json_object_get(answer, "changed")) ? "changed"
                                                            : "unchanged");
    return 0;
}

static int job_run(const struct job_args *a)
{
    struct api_req req = {.method = "POST", .path = "/v1/jobs"};
    char *text;
    size_t len;
    int rc;

    if (job_read_file(a, &text, &len) != 0) {
        return 1;
    }
    req.body = text;
    req.body_len = len;
    rc = job_exchange(a, &req, false,
                      strcmp(a->arg, "-") == 0 ? "stdin" : a->shown,
                      job_show_run);
    free(text);
    return rc;
}

/* ---------------------------------------------------------------------
 * ls, status, stop */

static int job_show_ls(const struct job_args *a, json_t *answer)
{
    return view_jobs(stdout, json_object_get(answer, "jobs"),
                     cli_use_color(STDOUT_FILENO));
}

static int job_ls(const struct job_args *a)
{
    struct api_req req = {.method = "GET",
                          .path = a->stale ? "/v1/jobs?stale" : "/v1/jobs"};

    return job_exchange(a, &req, false, NULL, job_show_ls);
}

static int job_show_status(const struct job_args *a, json_t *answer)
{
    return view_job(stdout, answer, cli_use_color(STDOUT_FILENO));
}

static int job_status(const struct job_args *a)
{
    struct api_req req = {.method = "GET"};
    char *path = job_path(a);
    int rc;

    if (path == NULL) {
        return 1;
    }
    req.path = path;
    rc = job_exchange(a, &req, true, NULL, job_show_status);
    free(path);
    return rc;
}

static int job_show_stop(const struct job_args *a, json_t *answer)
{
    json_t *index = json_object_get(answer, "index");

    if (json_is_integer(index)) {
        printf("job %s: stopped (index %" JSON_INTEGER_FORMAT ")\n", a->shown,
               json_integer_value(index));
    } else {
        printf("job %s: stopped\n", a->shown);
    }
    return 0;
}

static int job_stop(const struct job_args *a)
{
    struct api_req req = {.method = "DELETE"};
    char *path = job_path(a);
    int rc;

    if (path == NULL) {
        return 1;
    }
    req.path = path;
    rc = job_exchange(a, &req, true, NULL, job_show_stop);
    free(path);
    return rc;
}

/* ---------------------------------------------------------------------
 * the command line */

struct job_sub {
    const char *name;
    const char *cmd;
    const char *usage;
    const char *operand; /* "FILE", "ID", or NULL for none */
    bool stale_ok;
    int (*run)(const struct job_args *a);
};

static const struct job_sub job_subs[] = {
    {"run", "job run", job_run_usage, "FILE", false, job_run},
    {"ls", "job ls", job_ls_usage, NULL, true, job_ls},
    {"status", "job status", job_status_usage, "ID", true, job_status},
    {"stop", "job stop", job_stop_usage, "ID", false, job_stop},
};

/* Options of a subcommand. Returns -1 to go on, else the exit status (0
 * after --help, 2 on bad usage). */
static int job_parse_opts(const struct job_sub *sub, struct job_args *a,
                          int argc, char **argv)
{
    static const struct option longopts[] = {
        {"addr", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"stale", no_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (opt == 'h') {
            fputs(sub->usage, stdout);
            return 0;
        }
        if (opt == 'a') {
            a->addr = optarg;
        } else if (opt == 'j') {
            a->json = true;
        } else if (opt == 's' && sub->stale_ok) {
            a->stale = true;
        } else if (opt == 's') {
            fprintf(stderr,
                    "varde %s: --stale is not an option of %s (see varde "
                    "%s --help)\n",
                    a->cmd, a->cmd, a->cmd);
            return 2;
        } else {
            return cli_usage_error(a->cmd, opt, argv);
        }
    }
    return -1;
}

/* The operand (FILE or ID) after the options. Returns -1 to go on, or 2
 * with a message on stderr. */
static int job_parse_operand(const struct job_sub *sub, struct job_args *a,
                             int argc, char **argv)
{
    if (sub->operand != NULL) {
        if (optind >= argc || argv[optind][0] == '\0') {
            fprintf(stderr, "varde %s: needs %s (see varde %s --help)\n",
                    a->cmd, sub->operand, a->cmd);
            return 2;
        }
        a->arg = argv[optind++];
        api_clean(a->arg, JOB_ID_SHOWN, a->shown, sizeof a->shown);
    }
    return cli_no_more_args(a->cmd, argc, argv) != 0 ? 2 : -1;
}

static int job_sub_main(const struct job_sub *sub, int argc, char **argv)
{
    struct job_args a = {.cmd = sub->cmd};
    char err[256];
    int rc;

    rc = job_parse_opts(sub, &a, argc, argv);
    if (rc < 0) {
        rc = job_parse_operand(sub, &a, argc, argv);
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

int job_main(int argc, char **argv)
{
    int rc;
    long i = cli_find_sub("job", job_usage, job_subs,
                          sizeof job_subs / sizeof job_subs[0],
                          sizeof job_subs[0], argc, argv, &rc);

    return i < 0 ? rc : job_sub_main(&job_subs[i], argc - 1, argv + 1);
}
