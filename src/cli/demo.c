/* demo.c - `varde demo`: a whole fleet on this machine, and a tour of it.
 *
 * The fleet (demo_int.h): three raft nodes, two sites with a controller
 * and two agents each, every daemon on a loopback address of its own, an
 * access token when every daemon takes one, short TTLs so that the tour
 * is quick. The demo submits examples/jobs/sensor-average.json, waits for
 * its four tasks to run and shows the values they write changing; then,
 * unless --no-tour, it kills the leader, kills an agent and cuts a site
 * off (demo_tour.c), each step timed and waited for by polling with a
 * deadline. Then, unless --exit, the fleet runs until Ctrl-C.
 *
 * Every way out stops everything, in this order: the cut is healed (the
 * nft table deleted), the job is stopped so that the agents stop its
 * tasks (a task outlives its agent on purpose), the daemons get SIGTERM
 * and, after a grace period, SIGKILL, and any task process still about
 * (one whose agent was killed) is killed by its process group. A demo
 * that is itself killed outright takes its daemons along (their
 * parent-death signal), but not the tasks: those are the agents' to keep.
 */
#include "cli/api.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/demo_int.h"

#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DEMO_STOP_JOB_MS                                                       \
    10000                  /* the agents stop the tasks (kill_timeout 5s)      \
                            */
#define DEMO_SWEEP_MS 2000 /* a task left behind: SIGTERM to SIGKILL */
#define DEMO_PORT_MAX (65536 - DEMO_PORT_SPAN)

static const char demo_usage[] =
    "usage: varde demo [--no-tour] [--exit] [--base-port PORT] "
    "[--data-dir DIR]\n"
    "\n"
    "Start a whole fleet on this machine: 3 raft nodes, 2 sites (oslo-1 and\n"
    "bergen-2, a controller each) and 2 agents per site, each daemon on a\n"
    "loopback address of its own (127.X.Y.0/24, claimed for this demo).\n"
    "Submit examples/jobs/sensor-average.json and show its tasks writing to\n"
    "the key-value store. Then the tour: the raft leader is killed, an\n"
    "agent is killed, a site is cut off from the cluster (nftables: needs\n"
    "root), each repaired and timed. Then the fleet runs until Ctrl-C,\n"
    "which stops the job, every daemon and every task.\n"
    "\n"
    "  --no-tour         start the fleet and the job, skip the tour\n"
    "  --exit            stop everything after the tour (exit 1 if a step\n"
    "                    did not happen in time)\n"
    "  --base-port PORT  raft nodes on PORT to PORT+2, controllers on\n"
    "                    PORT+100 and up, agents on PORT+200 and up\n"
    "                    (default 7101)\n"
    "  --data-dir DIR    keep data, logs (DIR/NAME.log) and the token there\n"
    "                    (default: a fresh directory under /tmp, removed at\n"
    "                    the end)\n"
    "  -h, --help        this help\n";

volatile sig_atomic_t demo_signal;

static void demo_on_signal(int sig)
{
    if (sig != SIGCHLD) {
        demo_signal = sig;
    }
}

static void demo_catch_signals(void)
{
    struct sigaction sa = {.sa_handler = demo_on_signal,
                           .sa_flags = SA_RESTART};

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int parse_port(const char *s, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 || v > DEMO_PORT_MAX) {
        return -1;
    }
    *out = (int)v;
    return 0;
}

static int demo_parse(struct demo *d, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"no-tour", no_argument, NULL, 't'},
        {"exit", no_argument, NULL, 'x'},
        {"base-port", required_argument, NULL, 'p'},
        {"data-dir", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 't':
            d->tour = false;
            break;
        case 'x':
            d->exit_after = true;
            break;
        case 'p':
            if (parse_port(optarg, &d->base_port) < 0) {
                fprintf(stderr,
                        "varde demo: bad --base-port '%s': a number "
                        "from 1 to %d\n",
                        optarg, DEMO_PORT_MAX);
                return 2;
            }
            break;
        case 'd':
            if (optarg[0] == '\0' || strlen(optarg) >= sizeof d->dir - 64) {
                fprintf(stderr, "varde demo: bad --data-dir '%s'\n", optarg);
                return 2;
            }
            snprintf(d->dir, sizeof d->dir, "%s", optarg);
            break;
        case 'h':
            fputs(demo_usage, stdout);
            return -1;
        default:
            return cli_usage_error("demo", opt, argv);
        }
    }
    return cli_no_more_args("demo", argc, argv);
}

/* Sleep until SIGINT, SIGTERM or SIGHUP; say so when a daemon exits. */
static void demo_wait_for_signal(struct demo *d)
{
    sigset_t block, old;

    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGHUP);
    sigaddset(&block, SIGCHLD);
    sigprocmask(SIG_BLOCK, &block, &old);
    while (demo_signal == 0) {
        if (demo_fleet_check(d) < 0) {
            fprintf(stderr, "varde demo: the rest of the fleet keeps "
                            "going\n");
            continue;
        }
        sigsuspend(&old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static int demo_run(struct demo *d)
{
    if (demo_find_job(d) < 0 || demo_fleet_layout(d) < 0 ||
        demo_fleet_prepare(d) < 0) {
        return 1;
    }
    demo_nft_probe(d);
    if (demo_start_fleet(d) < 0 || demo_start_job(d) < 0 ||
        (d->tour && demo_tour(d) < 0)) {
        return 1;
    }
    if (d->exit_after) {
        printf("\nDone: stopping the fleet.\n");
        return 0;
    }
    demo_explore_help(d);
    demo_wait_for_signal(d);
    printf("\n");
    return 0;
}

/* Stop the job, so that the agents stop its tasks, and wait until no
 * task process is left (or the time is up). */
static void demo_stop_job(struct demo *d)
{
    struct api_addrs addrs;
    struct api_req req = {.method = "DELETE", .path = "/v1/jobs/" DEMO_JOB};
    struct api_res res;
    int64_t deadline;
    char err[256];

    if (api_parse_addrs(d->raft_list, &addrs, err, sizeof err) < 0) {
        return;
    }
    printf("Stopping the job %s (its tasks), then the daemons.\n", DEMO_JOB);
    fflush(stdout);
    if (api_call(&addrs, &req, &res) < 0 ||
        (res.call.status != 200 && res.call.status != 404)) {
        api_failure(&res, NULL, err, sizeof err);
        fprintf(stderr, "varde demo: stop the job: %s\n", err);
    }
    api_res_clear(&res);
    deadline = demo_now_ms() + DEMO_STOP_JOB_MS;
    while (demo_task_procs(d) > 0 && demo_now_ms() < deadline) {
        poll(NULL, 0, DEMO_POLL_MS);
    }
}

static void demo_shutdown(struct demo *d)
{
    size_t tasks = demo_task_procs(d), daemons, left;
    char err[600];

    if (demo_nft_heal(d, err, sizeof err) < 0) {
        fprintf(stderr, "varde demo: %s\n", err);
    }
    if (d->job_submitted) {
        demo_stop_job(d);
    }
    daemons = demo_fleet_stop(d);
    left = demo_task_procs_kill(d, DEMO_SWEEP_MS);
    if (left > 0) {
        fprintf(stderr,
                "varde demo: killed %zu task process%s the agents left "
                "behind\n",
                left, left == 1 ? "" : "es");
    }
    demo_net_release(&d->net);
    if (d->started) {
        printf("Stopped: %zu daemons and %zu task processes.\n", daemons,
               tasks);
    }
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    remove(path);
    return 0;
}

int demo_main(int argc, char **argv)
{
    struct demo *d = calloc(1, sizeof *d);
    int rc;

    if (d == NULL) {
        fprintf(stderr, "varde demo: out of memory\n");
        return 1;
    }
    d->tour = true;
    d->base_port = 7101;
    d->net.fd = -1;
    d->color = cli_use_color(STDOUT_FILENO);
    d->started_ms = demo_now_ms();
    rc = demo_parse(d, argc, argv);
    if (rc != 0) {
        free(d);
        return rc < 0 ? 0 : rc;
    }

    demo_catch_signals();
    rc = demo_run(d);
    if (rc != 0 && demo_signal != 0) {
        fprintf(stderr, "varde demo: interrupted (%s)\n",
                strsignal(demo_signal));
        rc = 128 + demo_signal;
    }
    fflush(stdout);
    demo_shutdown(d);
    if (rc == 1 && d->dir_is_ours) { /* a step failed: keep the logs */
        fprintf(stderr, "varde demo: logs kept in %s\n", d->dir);
    } else if (d->dir_is_ours) {
        nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
    free(d);
    return rc;
}
