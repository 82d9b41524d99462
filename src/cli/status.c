/* status.c - `varde status`: the whole fleet on one screen. The raft
 * members (who leads, how far each follower's log lags), then the sites
 * with their agents under them, then the jobs.
 *
 * The members come from GET /v1/status on the node asked and on every
 * peer it names (members.h). Sites, jobs and agents come from GET
 * /v1/sites, /v1/jobs and /v1/agents on the node asked, all at once,
 * forwarded by it to the leader; the agents are put under their sites
 * (view_nest_agents). With no leader known, or when the forwarded read
 * fails, the sites and jobs are read again with ?stale from the node's own
 * state, and marked as such; the agents are then not known, since only
 * the leader hears heartbeats. A node that answers 404 "no such path"
 * predates the fleet API (the members are all there is to show) or, for
 * /v1/agents alone, the agents.
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
#define STATUS_ERR_MAX (API_ERR_SHOWN + 256)

/* Sites, jobs and agents as one node gave them. */
struct fleet {
    json_t *sites, *jobs;              /* the arrays; NULL when not known */
    bool old_node;                     /* the node has no fleet API */
    bool stale;                        /* read with ?stale */
    bool agents;                       /* the sites hold their "agents" */
    char error[STATUS_ERR_MAX];        /* why not known, or why stale */
    char agents_error[STATUS_ERR_MAX]; /* why the agents are not known */
};

static const char status_usage[] =
    "usage: varde status [--addr HOST:PORT[,HOST:PORT...]] [--json]\n"
    "\n"
    "The whole fleet on one screen. Ask a raft node for its status, then\n"
    "every peer it knows, and print the members: id, address, role, term,\n"
    "commit index, how many entries each lags behind the leader's log, and\n"
    "a '*' on the leader. A peer that does not answer shows as unreachable.\n"
    "Then the fleet, as the leader knows it: each site (status, tasks, free\n"
    "cpu and memory of its capacity, its last heartbeat) with its agents\n"
    "under it (up or down, tasks, free cpu and memory), and the jobs (tasks\n"
    "desired, running, pending, done, failed, unknown). With no leader, the\n"
    "sites and jobs are the node's own view, marked stale, without agents.\n"
    "\n"
    "  --addr HOST:PORT  the node to ask (default: $VARDE_ADDR, else\n"
    "                    127.0.0.1:7101); with a comma list, the first that\n"
    "                    answers\n"
    "  --json            print {\"members\":[...],\"leader\":N,\"term\":T,\n"
    "                    \"sites\":[{...,\"agents\":[...]}],\"jobs\":[...]}\n"
    "                    instead\n"
    "  -h, --help        this help\n"
    "\n"
    "Colours only on a terminal, and not with NO_COLOR set.\n"
    "\n"
    "Exit status: 0 when the node answered, 1 when it did not, 2 on bad\n"
    "usage.\n";

/* ---------------------------------------------------------------------
 * the fleet */

/* KEY's array from the answer of CALL into *OUT (a new reference). Returns
 * 0, 1 for a node without that path, or -1 with the reason in ERR. */
static int fleet_take(const struct http_call *call, const char *key,
                      json_t **out, char *err, size_t errlen)
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
        snprintf(err, errlen, "%s answered %s without \"%s\"", call->addr,
                 call->path, key);
    } else {
        api_failure(&res, body, err, errlen);
    }
    json_decref(body);
    return -1;
}

/* The agents from the answer of CALL, put under F's sites; or why not, in
 * F->agents_error. */
static void fleet_take_agents(struct fleet *f, const struct http_call *call)
{
    json_t *agents = NULL;
    int rc = fleet_take(call, "agents", &agents, f->agents_error,
                        sizeof f->agents_error);

    if (rc == 1) {
        snprintf(f->agents_error, sizeof f->agents_error,
                 "%s does not serve /v1/agents", call->addr);
    } else if (rc == 0 && view_nest_agents(f->sites, agents) < 0) {
        snprintf(f->agents_error, sizeof f->agents_error, "out of memory");
    } else if (rc == 0) {
        f->agents = true;
    }
    json_decref(agents);
}

/* Ask ADDR for the sites, the jobs and (unless STALE) the agents at once,
 * into F. Returns 0 when the sites and jobs came, -1 when not (F->error
 * says why; F->old_node for a 404). */
static int fleet_ask(struct fleet *f, const char *addr, bool stale)
{
    const struct http_opts o = {.connect_ms = STATUS_FLEET_MS,
                                .total_ms = STATUS_FLEET_MS};
    struct http_call calls[3] = {
        {.method = "GET", .addr = addr, .path = "/v1/sites"},
        {.method = "GET", .addr = addr, .path = "/v1/jobs"},
        {.method = "GET", .addr = addr, .path = "/v1/agents"},
    };
    size_t n = stale ? 2 : 3;
    int a, b;

    if (stale) {
        calls[0].path = "/v1/sites?stale";
        calls[1].path = "/v1/jobs?stale";
    }
    http_run(calls, n, &o);
    a = fleet_take(&calls[0], "sites", &f->sites, f->error, sizeof f->error);
    b = a < 0 ? -1
              : fleet_take(&calls[1], "jobs", &f->jobs, f->error,
                           sizeof f->error);
    f->stale = stale;
    f->old_node = a == 1 || b == 1;
    if (a == 0 && b == 0 && n == 3) {
        fleet_take_agents(f, &calls[2]);
    }
    for (size_t i = 0; i < n; i++) {
        http_call_clear(&calls[i]);
    }
    if (a == 0 && b == 0) {
        return 0;
    }
    json_decref(f->sites);
    json_decref(f->jobs);
    f->sites = f->jobs = NULL;
    return -1;
}

/* The fleet from ADDR, as fresh as can be had: through the leader when
 * there is one, else (or when that fails) the node's own. */
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
    snprintf(f->agents_error, sizeof f->agents_error,
             "only the leader knows them");
}

static void fleet_close(struct fleet *f)
{
    json_decref(f->sites);
    json_decref(f->jobs);
}

/* ---------------------------------------------------------------------
 * printing */

/* True when FD is a terminal and the locale (LC_ALL, else LC_CTYPE, else
 * LANG, the order the C library takes them in) speaks UTF-8. */
static bool status_utf8(int fd)
{
    static const char *const vars[] = {"LC_ALL", "LC_CTYPE", "LANG"};
    const char *v = NULL;

    if (!isatty(fd)) {
        return false;
    }
    for (size_t i = 0; i < sizeof vars / sizeof vars[0] && v == NULL; i++) {
        v = getenv(vars[i]);
        v = v != NULL && v[0] != '\0' ? v : NULL;
    }
    return v != NULL &&
           (strcasestr(v, "utf-8") != NULL || strcasestr(v, "utf8") != NULL);
}

static int status_print_fleet(const struct fleet *f, const char *addr,
                              bool color)
{
    putchar('\n');
    if (f->old_node) {
        printf("sites and jobs: not served by %s (a node without the fleet "
               "API)\n",
               addr);
        return 0;
    }
    if (f->sites == NULL) {
        printf("sites and jobs: unknown (%s)\n", f->error);
        return 0;
    }
    if (f->stale) {
        printf("sites and jobs as %s knows them (stale: %s)\n", addr, f->error);
    }
    if (!f->agents && json_array_size(f->sites) > 0) {
        printf("agents: unknown (%s)\n", f->agents_error);
    }
    if (view_sites(stdout, f->sites, color, status_utf8(STDOUT_FILENO)) < 0) {
        return -1;
    }
    putchar('\n');
    return view_jobs_short(stdout, f->jobs, color);
}

/* MS and F as one JSON object: members_to_json's, with "sites" (each with
 * its "agents" when known) and "jobs" when known, "fleet_stale" when read
 * with ?stale, "agents_error" when the agents are not known, and
 * "fleet_error" when the sites and jobs could not be read. */
static int status_print_json(const struct members *ms, const struct fleet *f)
{
    json_t *root = members_to_json(ms);
    int rc = 1;

    if (root != NULL && f->sites != NULL) {
        json_object_set(root, "sites", f->sites);
        json_object_set(root, "jobs", f->jobs);
        if (f->stale) {
            json_object_set_new(root, "fleet_stale", json_true());
        }
        if (!f->agents) {
            json_object_set_new(root, "agents_error",
                                json_string(f->agents_error));
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
    if (members_print(stdout, ms, color) < 0) {
        return 1;
    }
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
