/* status.c - `varde status`: the raft members and who leads, then the
 * fleet: the sites and the jobs.
 *
 * The members come from GET /v1/status on the node asked and on every
 * peer it names (members.h). Sites and jobs come from GET /v1/sites and
 * GET /v1/jobs on the node asked, both at once, forwarded by it to the
 * leader. With no leader known, or when the forwarded read fails, they are
 * read again with ?stale from the node's own state, and marked as such. A
 * node that answers 404 "no such path" predates the fleet API: the members
 * are all there is to show.
 */
#include "cli/api.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "cli/members.h"
#include "cli/view.h"
#include "sm/job.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define STATUS_ASK_MS 2000
#define STATUS_PEER_MS 1000
#define STATUS_FLEET_MS 3000

/* Sites and jobs as one node gave them. */
struct fleet {
    json_t *sites, *jobs;            /* the arrays; NULL when not known */
    bool old_node;                   /* the node has no fleet API */
    bool stale;                      /* read with ?stale */
    char error[API_ERR_SHOWN + 256]; /* why not known, or why stale */
};

static const char status_usage[] =
    "usage: varde status [--addr HOST:PORT[,HOST:PORT...]] [--json]\n"
    "\n"
    "Ask a raft node for its status, then every peer it knows, and print\n"
    "the members: id, address, role, term, commit index, and a '*' on the\n"
    "leader. A peer that does not answer shows as unreachable. Then the\n"
    "fleet, as the leader knows it: the sites (status, tasks, cpu and\n"
    "memory used of their capacity, the last heartbeat) and the jobs (with\n"
    "a summary of their tasks' states). With no leader, the sites and jobs\n"
    "are the node's own view, and marked stale.\n"
    "\n"
    "  --addr HOST:PORT  the node to ask (default: $VARDE_ADDR, else\n"
    "                    127.0.0.1:7101); with a comma list, the first that\n"
    "                    answers\n"
    "  --json            print {\"members\":[...],\"leader\":N,\"term\":T,\n"
    "                    \"sites\":[...],\"jobs\":[...]} instead\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 when the node answered, 1 when it did not, 2 on bad\n"
    "usage.\n";

/* ---------------------------------------------------------------------
 * the fleet */

/* KEY's array from the answer of CALL into *OUT (a new reference). Returns
 * 0, 1 for a node without the fleet API, or -1 with the reason in F. */
static int fleet_take(struct fleet *f, const struct http_call *call,
                      const char *key, json_t **out)
{
    struct api_res res = {.call = *call, .addr = call->addr};
    json_t *body = api_json(&res);
    json_t *arr = json_object_get(body, key);

    if (call->error == HTTP_OK && call->status == 200 && json_is_array(arr)) {
        *out = json_incref(arr);
        json_decref(body);
        return 0;
    }
    if (api_no_route(&res, body)) {
        json_decref(body);
        return 1;
    }
    if (call->error == HTTP_OK && call->status == 200) {
        snprintf(f->error, sizeof f->error, "%s answered %s without \"%s\"",
                 call->addr, call->path, key);
    } else {
        api_failure(&res, body, f->error, sizeof f->error);
    }
    json_decref(body);
    return -1;
}

/* Ask ADDR for the sites and the jobs at once, into F. Returns 0 when both
 * came, -1 when not (F->error says why; F->old_node for a 404). */
static int fleet_ask(struct fleet *f, const char *addr, bool stale)
{
    const struct http_opts o = {.connect_ms = STATUS_FLEET_MS,
                                .total_ms = STATUS_FLEET_MS};
    struct http_call calls[2] = {
        {.method = "GET", .addr = addr},
        {.method = "GET", .addr = addr},
    };
    int a, b;

    calls[0].path = stale ? "/v1/sites?stale" : "/v1/sites";
    calls[1].path = stale ? "/v1/jobs?stale" : "/v1/jobs";
    http_run(calls, 2, &o);
    a = fleet_take(f, &calls[0], "sites", &f->sites);
    b = a < 0 ? -1 : fleet_take(f, &calls[1], "jobs", &f->jobs);
    http_call_clear(&calls[0]);
    http_call_clear(&calls[1]);

    f->stale = stale;
    f->old_node = a == 1 || b == 1;
    if (a == 0 && b == 0) {
        return 0;
    }
    json_decref(f->sites);
    json_decref(f->jobs);
    f->sites = f->jobs = NULL;
    return -1;
}

/* The sites and jobs from ADDR, as fresh as can be had: through the
 * leader when there is one, else (or when that fails) the node's own. */
static void fleet_fetch(struct fleet *f, const char *addr, bool leader_known)
{
    memset(f, 0, sizeof *f);
    snprintf(f->error, sizeof f->error, "no leader known");
    if (leader_known && fleet_ask(f, addr, false) == 0) {
        return;
    }
    if (f->old_node) {
        return;
    }
    fleet_ask(f, addr, true);
}

static void fleet_close(struct fleet *f)
{
    json_decref(f->sites);
    json_decref(f->jobs);
}

/* ---------------------------------------------------------------------
 * printing */

static int status_print_fleet(const struct fleet *f, const char *addr,
                              bool color)
{
    if (f->old_node) {
        return 0;
    }
    putchar('\n');
    if (f->sites == NULL) {
        printf("sites and jobs: unknown (%s)\n", f->error);
        return 0;
    }
    if (f->stale) {
        printf("sites and jobs as %s knows them (stale: %s)\n", addr, f->error);
    }
    if (view_sites(stdout, f->sites, color) < 0) {
        return -1;
    }
    putchar('\n');
    return view_jobs_short(stdout, f->jobs, color);
}

/* MS and F as one JSON object: members_json's, with "sites" and "jobs"
 * added when known, "fleet_stale" when read with ?stale, and
 * "fleet_error" when they could not be read. */
static int status_print_json(const struct members *ms, const struct fleet *f)
{
    char *s = members_json(ms);
    json_t *root = s != NULL ? json_loads(s, 0, NULL) : NULL;
    int rc = 1;

    free(s);
    if (root != NULL && f->sites != NULL) {
        json_object_set(root, "sites", f->sites);
        json_object_set(root, "jobs", f->jobs);
        if (f->stale) {
            json_object_set_new(root, "fleet_stale", json_true());
        }
    } else if (root != NULL && !f->old_node) {
        json_object_set_new(root, "fleet_error", json_string(f->error));
    }
    if (root != NULL &&
        json_dumpf(root, stdout, JSON_COMPACT | JOB_JSON_REAL_FLAGS) == 0) {
        putchar('\n');
        rc = 0;
    } else {
        fprintf(stderr, "varde status: out of memory\n");
    }
    json_decref(root);
    return rc;
}

static int status_print(const struct members *ms, const struct fleet *f,
                        const char *addr, bool json)
{
    bool color = cli_use_color(STDOUT_FILENO);

    if (json) {
        return status_print_json(ms, f);
    }
    members_print(stdout, ms, color);
    return status_print_fleet(f, addr, color) < 0 ? 1 : 0;
}

/* ---------------------------------------------------------------------
 * the command line */

/* Fill MS from the first node of ADDRS that answers; its address in
 * *ASKED. Returns 0, or 1 with the reason on stderr. */
static int status_members(const struct api_addrs *addrs, struct members *ms,
                          const char **asked)
{
    char err[512], all[1024] = "";

    for (size_t i = 0; i < addrs->n; i++) {
        size_t used = strlen(all);

        if (members_fetch(addrs->addr[i], STATUS_ASK_MS, STATUS_PEER_MS, ms,
                          err, sizeof err) == 0) {
            *asked = addrs->addr[i];
            return 0;
        }
        snprintf(all + used, sizeof all - used, "%s%s", used ? "; " : "", err);
    }
    if (addrs->n > 1) {
        fprintf(stderr, "varde status: no node answered: %s\n", all);
    } else {
        fprintf(stderr, "varde status: %s\n", all);
    }
    return 1;
}

/* Options. Returns -1 to go on, else the exit status. */
static int status_parse(int argc, char **argv, const char **addr, bool *json)
{
    static const struct option longopts[] = {
        {"addr", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            *addr = optarg;
            break;
        case 'j':
            *json = true;
            break;
        case 'h':
            fputs(status_usage, stdout);
            return 0;
        default:
            return cli_usage_error("status", opt, argv);
        }
    }
    return cli_no_more_args("status", argc, argv) != 0 ? 2 : -1;
}

int status_main(int argc, char **argv)
{
    const char *addr = NULL, *asked = NULL;
    bool json = false;
    struct api_addrs addrs;
    struct members *ms;
    struct fleet f;
    char err[256];
    int rc;

    rc = status_parse(argc, argv, &addr, &json);
    if (rc >= 0) {
        return rc;
    }
    if (api_parse_addrs(cli_default_addr(addr), &addrs, err, sizeof err) < 0) {
        fprintf(stderr, "varde status: %s\n", err);
        return 2;
    }

    ms = calloc(1, sizeof *ms);
    if (ms == NULL) {
        fprintf(stderr, "varde status: out of memory\n");
        return 1;
    }
    if (status_members(&addrs, ms, &asked) != 0) {
        free(ms);
        return 1;
    }
    fleet_fetch(&f, asked, ms->leader != 0);
    rc = status_print(ms, &f, asked, json);
    fleet_close(&f);
    free(ms);
    return rc;
}
