/* demo.c - `varde demo`: a 3-node raft cluster on this machine, and a tour.
 *
 * The tour, each step waited for by polling the nodes' /v1/status with a
 * deadline and timed from the moment we acted:
 *
 *   start     three `varde raft` children; all agree on one leader
 *   crash     SIGKILL the leader; the other two elect a new one
 *   rejoin    restart the old leader; it follows the new one
 *   handover  SIGTERM the leader; it hands over before it exits
 *   rejoin    restart it, so the cluster is whole again
 *
 * "Agree" means: every running node answers, names the same leader in the
 * same term, and that leader says it leads. Then, unless --exit, the cluster
 * keeps running until Ctrl-C. Every way out stops every child (SIGTERM,
 * SIGKILL after a grace period) and reaps it.
 */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "cli/localnode.h"
#include "cli/members.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEMO_NODES 3
#define DEMO_START_MS 10000 /* all three up and agreeing on a leader */
#define DEMO_STEP_MS 5000   /* each later step of the tour */
#define DEMO_EXIT_MS 5000   /* a node asked to stop has exited */
#define DEMO_GRACE_MS 3000  /* SIGTERM to SIGKILL when we stop them all */
#define DEMO_POLL_MS 5      /* between two rounds of /v1/status */
#define DEMO_ASK_MS 250     /* one /v1/status */

static const char demo_usage[] =
    "usage: varde demo [--no-tour] [--exit] [--base-port PORT] "
    "[--data-dir DIR]\n"
    "\n"
    "Start a 3-node raft cluster on this machine (127.0.0.1, ports PORT to\n"
    "PORT+2), wait until it has a leader, and show what it does when the\n"
    "leader crashes, comes back, and is stopped on purpose, with how long\n"
    "each took. Then keep the cluster running until Ctrl-C.\n"
    "\n"
    "  --no-tour         only start the cluster and print its status\n"
    "  --exit            stop everything after the tour (exit 1 if a step\n"
    "                    did not happen in time)\n"
    "  --base-port PORT  the first node's port (default 7101)\n"
    "  --data-dir DIR    node N keeps its data in DIR/N and logs to\n"
    "                    DIR/N.log (default: a fresh directory under /tmp,\n"
    "                    removed at the end)\n"
    "  -h, --help        this help\n";

struct demo {
    bool tour;
    bool exit_after;
    int base_port;
    char dir[PATH_MAX - 32];
    bool dir_is_ours; /* made by mkdtemp: removed when all went well */
    bool color;
    char peers[256];
    struct localnode nodes[DEMO_NODES];
    struct members ms;
    uint64_t leader;
    int64_t crash_ms; /* how long the election after the crash took */
};

static volatile sig_atomic_t demo_signal;

static void demo_on_signal(int sig)
{
    if (sig != SIGCHLD) {
        demo_signal = sig;
    }
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static unsigned bit(uint64_t id)
{
    return id >= 1 && id <= DEMO_NODES ? 1u << (id - 1) : 0;
}

static struct localnode *demo_node(struct demo *d, uint64_t id)
{
    return &d->nodes[id - 1];
}

static int parse_port(const char *s, int *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < 1 ||
        v > 65535 - (DEMO_NODES - 1)) {
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
                        optarg, 65535 - (DEMO_NODES - 1));
                return 2;
            }
            break;
        case 'd':
            if (optarg[0] == '\0' || strlen(optarg) >= sizeof d->dir) {
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

/* Make the data dir (ours, or the one given) and one dir per node. */
static int demo_prepare_dir(struct demo *d)
{
    if (d->dir[0] == '\0') {
        snprintf(d->dir, sizeof d->dir, "/tmp/varde-demo-XXXXXX");
        if (mkdtemp(d->dir) == NULL) {
            fprintf(stderr,
                    "varde demo: cannot make a directory in /tmp: "
                    "%s\n",
                    strerror(errno));
            return -1;
        }
        d->dir_is_ours = true;
    } else if (mkdir(d->dir, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "varde demo: cannot make %s: %s\n", d->dir,
                strerror(errno));
        return -1;
    }

    for (int i = 0; i < DEMO_NODES; i++) {
        struct localnode *n = &d->nodes[i];

        snprintf(n->dir, sizeof n->dir, "%s/%d", d->dir, i + 1);
        snprintf(n->log, sizeof n->log, "%s/%d.log", d->dir, i + 1);
        if (mkdir(n->dir, 0700) < 0 && errno != EEXIST) {
            fprintf(stderr, "varde demo: cannot make %s: %s\n", n->dir,
                    strerror(errno));
            return -1;
        }
    }
    return 0;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    remove(path);
    return 0;
}

static void demo_remove_dir(struct demo *d)
{
    if (d->dir_is_ours) {
        nftw(d->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

/* Can we listen on 127.0.0.1:PORT? As the nodes will: SO_REUSEADDR, so a
 * connection in TIME_WAIT from an earlier run does not count. Returns 0, or
 * the errno of the failed bind. */
static int port_free(int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    int one = 1, e = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return errno;
    }
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        e = errno;
    }
    close(fd);
    return e;
}

static int demo_check_ports(const struct demo *d)
{
    for (int i = 0; i < DEMO_NODES; i++) {
        int port = d->base_port + i;
        int e = port_free(port);

        if (e != 0) {
            fprintf(stderr,
                    "varde demo: port %d on 127.0.0.1 is %s (another "
                    "demo running? try --base-port %d)\n",
                    port, e == EADDRINUSE ? "already in use" : strerror(e),
                    d->base_port + 10);
            return -1;
        }
    }
    return 0;
}

static void demo_setup_nodes(struct demo *d)
{
    size_t off = 0;

    for (int i = 0; i < DEMO_NODES; i++) {
        struct localnode *n = &d->nodes[i];

        n->id = (uint64_t)i + 1;
        snprintf(n->addr, sizeof n->addr, "127.0.0.1:%d", d->base_port + i);
        members_add(&d->ms, n->id, n->addr);
        off +=
            (size_t)snprintf(d->peers + off, sizeof d->peers - off,
                             "%s%" PRIu64 "=%s", i ? "," : "", n->id, n->addr);
    }
}

static int demo_start_node(struct demo *d, uint64_t id)
{
    struct localnode *n = demo_node(d, id);
    char err[256];

    if (localnode_start(n, d->peers, err, sizeof err) < 0) {
        fprintf(stderr, "varde demo: node %" PRIu64 ": %s\n", id, err);
        return -1;
    }
    return 0;
}

/* Fail when a node that should run has exited, and say how, with the last
 * line of its log. */
static int demo_check_running(struct demo *d, unsigned running)
{
    for (uint64_t id = 1; id <= DEMO_NODES; id++) {
        struct localnode *n = demo_node(d, id);
        char how[64], last[200];

        if (!(running & bit(id)) || !localnode_exited(n)) {
            continue;
        }
        localnode_last_log_line(n, last, sizeof last);
        fprintf(stderr,
                "varde demo: node %" PRIu64 " %s (last line of %s: %s)\n", id,
                localnode_describe(n->wstatus, how, sizeof how), n->log,
                last[0] ? last : "empty");
        return -1;
    }
    return 0;
}

/* The leader every node in RUNNING agrees on, or 0. */
static uint64_t demo_agreed(const struct members *ms, unsigned running)
{
    uint64_t leader = 0, term = 0;

    for (size_t i = 0; i < ms->n; i++) {
        const struct member *m = &ms->m[i];
        bool leads = m->answered && strcmp(m->role, "leader") == 0;
        uint64_t says = leads ? m->id : m->leader;

        if (!(running & bit(m->id))) {
            continue;
        }
        if (!m->answered || says == 0 ||
            (leader != 0 && (says != leader || m->term != term))) {
            return 0;
        }
        leader = says;
        term = m->term;
    }
    for (size_t i = 0; i < ms->n; i++) {
        if (ms->m[i].id == leader &&
            !(ms->m[i].answered && strcmp(ms->m[i].role, "leader") == 0)) {
            return 0;
        }
    }
    return running & bit(leader) ? leader : 0;
}

/* Poll until the nodes in RUNNING agree on a leader other than NOT_ID.
 * Returns 0 with the leader in d->leader and the time since START in
 * *TOOK_MS, or -1 after saying why (WHAT names the step). */
static int demo_wait_leader(struct demo *d, unsigned running, uint64_t not_id,
                            int64_t start, int timeout_ms, const char *what,
                            int64_t *took_ms)
{
    int64_t deadline = start + timeout_ms;

    for (;;) {
        uint64_t leader;
        int64_t now;

        if (demo_signal != 0 || demo_check_running(d, running) < 0) {
            return -1;
        }
        members_refresh(&d->ms, DEMO_ASK_MS);
        leader = demo_agreed(&d->ms, running);
        now = now_ms();
        if (leader != 0 && leader != not_id) {
            d->leader = leader;
            *took_ms = now - start;
            return 0;
        }
        if (now >= deadline) {
            fprintf(stderr,
                    "varde demo: %s: did not happen within %d ms; "
                    "the nodes say:\n",
                    what, timeout_ms);
            members_print(stderr, &d->ms, false);
            return -1;
        }
        poll(NULL, 0, DEMO_POLL_MS);
    }
}

static void demo_show(struct demo *d)
{
    printf("\n");
    members_print(stdout, &d->ms, d->color);
    printf("\n");
    fflush(stdout);
}

static void demo_heading(const struct demo *d, const char *title)
{
    printf("%s== %s%s\n", d->color ? "\033[1m" : "", title,
           d->color ? "\033[0m" : "");
}

static int demo_start_cluster(struct demo *d)
{
    int64_t start = now_ms(), took;

    printf("varde demo: starting %d raft nodes on 127.0.0.1, ports %d-%d\n"
           "  data and logs in %s (node N logs to N.log)\n",
           DEMO_NODES, d->base_port, d->base_port + DEMO_NODES - 1, d->dir);
    fflush(stdout);
    for (uint64_t id = 1; id <= DEMO_NODES; id++) {
        if (demo_start_node(d, id) < 0) {
            return -1;
        }
    }
    if (demo_wait_leader(d, bit(1) | bit(2) | bit(3), 0, start, DEMO_START_MS,
                         "start: all nodes agree on a leader", &took) < 0) {
        return -1;
    }
    printf("\nAll %d nodes agree: node %" PRIu64 " leads in term %" PRIu64
           " (%" PRId64 " ms after start).\n",
           DEMO_NODES, d->leader, d->ms.term, took);
    demo_show(d);
    return 0;
}

static void demo_explain_first_leader(const struct demo *d)
{
    if (d->leader == 1) {
        printf("Why node 1? Each node waits a random election timeout before "
               "it asks for\nvotes, and on a fresh cluster the lowest id gets "
               "the shortest first timeout.\nNode 1 asked first; the others "
               "granted their votes.\n\n");
        return;
    }
    printf("Node %" PRIu64 " got there first. On a fresh cluster the lowest id "
           "gets the shortest\nfirst election timeout, so node 1 usually wins; "
           "that is a preference, not a\nrule (a data dir from an earlier run "
           "changes it too).\n\n",
           d->leader);
}

#define DEMO_KEY "/v1/kv/demo/greeting"
#define DEMO_VALUE "hello from the demo"

/* One request to node ID; the answer's status, or -1 with a message. The
 * caller frees CALL's body with http_call_clear. */
static int demo_call(struct demo *d, uint64_t id, const char *method,
                     const char *body, struct http_call *call)
{
    struct http_opts opts = {.total_ms = 5000};

    memset(call, 0, sizeof(*call));
    call->method = method;
    call->addr = demo_node(d, id)->addr;
    call->path = DEMO_KEY;
    call->body = body;
    call->body_len = body ? strlen(body) : 0;
    call->content_type = "application/octet-stream";
    if (http_request(call, &opts) != HTTP_OK) {
        fprintf(stderr, "varde demo: %s\n", call->errmsg);
        return -1;
    }
    return call->status;
}

/* Write a key through a follower: it forwards to the leader, which answers
 * once a majority has the write on disk. */
static int demo_write(struct demo *d)
{
    uint64_t via = d->leader == 1 ? 2 : 1;
    struct http_call call;
    int status;

    demo_heading(d, "0. A write");
    printf("PUT %s = \"%s\" on node %" PRIu64 ", a\nfollower: it forwards "
           "to the leader, which answers once a majority has\nthe write on "
           "disk.\n",
           DEMO_KEY, DEMO_VALUE, via);
    status = demo_call(d, via, "PUT", DEMO_VALUE, &call);
    if (status != 200) {
        if (status > 0) {
            fprintf(stderr, "varde demo: write: %d %s\n", status,
                    call.resp_body ? call.resp_body : "");
        }
        http_call_clear(&call);
        return -1;
    }
    printf("Answer: %s\n", call.resp_body);
    http_call_clear(&call);
    return 0;
}

/* Read the key back through node ID (a linearizable read). */
static int demo_read_back(struct demo *d, uint64_t id)
{
    struct http_call call;
    int status = demo_call(d, id, "GET", NULL, &call);

    if (status != 200 || call.resp_body == NULL ||
        strstr(call.resp_body, DEMO_VALUE) == NULL) {
        fprintf(stderr, "varde demo: read back on node %" PRIu64 ": %d %s\n",
                id, status, call.resp_body ? call.resp_body : "");
        http_call_clear(&call);
        return -1;
    }
    printf("The write is still there, read through node %" PRIu64 ": %s\n", id,
           call.resp_body);
    http_call_clear(&call);
    return 0;
}

static int demo_crash_leader(struct demo *d)
{
    uint64_t old = d->leader;
    struct localnode *n = demo_node(d, old);
    unsigned rest = (bit(1) | bit(2) | bit(3)) & ~bit(old);
    int64_t start;

    demo_heading(d, "1. The leader crashes");
    printf("SIGKILL node %" PRIu64 " (pid %d). The others stop hearing its "
           "heartbeats; after an\nelection timeout (150-300 ms) one of them "
           "asks for votes.\n",
           old, (int)n->pid);
    fflush(stdout);
    start = now_ms();
    localnode_signal(n, SIGKILL);
    if (localnode_wait(n, DEMO_EXIT_MS) < 0) {
        fprintf(stderr, "varde demo: crash: node %" PRIu64 " did not die\n",
                old);
        return -1;
    }
    if (demo_wait_leader(d, rest, old, start, DEMO_STEP_MS,
                         "crash: the others elect a new leader",
                         &d->crash_ms) < 0) {
        return -1;
    }
    printf("New leader: node %" PRIu64 ", term %" PRIu64 ", %" PRId64
           " ms after the kill.\n",
           d->leader, d->ms.term, d->crash_ms);
    if (demo_read_back(d, d->leader) < 0) {
        return -1;
    }
    demo_show(d);
    return 0;
}

/* Restart node ID and wait until it follows the current leader. */
static int demo_rejoin(struct demo *d, uint64_t id, const char *what)
{
    uint64_t leader = d->leader;
    int64_t start = now_ms(), took;

    if (demo_start_node(d, id) < 0 ||
        demo_wait_leader(d, bit(1) | bit(2) | bit(3), 0, start, DEMO_STEP_MS,
                         what, &took) < 0) {
        return -1;
    }
    if (d->leader == leader) {
        printf("Node %" PRIu64 " is back, a follower of node %" PRIu64
               ", %" PRId64 " ms after its restart.\n",
               id, leader, took);
    } else {
        printf("Node %" PRIu64 " is back, %" PRId64 " ms after its restart; "
               "meanwhile node %" PRIu64 " took over.\n",
               id, took, d->leader);
    }
    return 0;
}

static int demo_restart_old_leader(struct demo *d, uint64_t old)
{
    demo_heading(d, "2. The old leader comes back");
    printf("Restart node %" PRIu64 " on its data dir. Its term is behind; it "
           "hears the new\nleader's heartbeats and follows it (pre-vote keeps "
           "it from disrupting the\ncluster while it catches up).\n",
           old);
    fflush(stdout);
    if (demo_rejoin(d, old, "rejoin: the old leader follows the new one") < 0) {
        return -1;
    }
    demo_show(d);
    return 0;
}

static int demo_handover(struct demo *d)
{
    uint64_t old = d->leader;
    struct localnode *n = demo_node(d, old);
    unsigned rest = (bit(1) | bit(2) | bit(3)) & ~bit(old);
    int64_t start, took, exited;

    demo_heading(d, "3. A planned restart");
    printf("SIGTERM node %" PRIu64 ", the leader. A leader asked to stop "
           "first hands over to\nthe most up-to-date follower, so nobody "
           "waits out an election timeout.\n",
           old);
    fflush(stdout);
    start = now_ms();
    localnode_signal(n, SIGTERM);
    if (demo_wait_leader(d, rest, old, start, DEMO_STEP_MS,
                         "handover: a follower takes over", &took) < 0) {
        return -1;
    }
    printf("New leader: node %" PRIu64 ", term %" PRIu64 ", %" PRId64
           " ms after SIGTERM (the crash took %" PRId64 " ms).\n",
           d->leader, d->ms.term, took, d->crash_ms);
    if (localnode_wait(n, DEMO_EXIT_MS) < 0) {
        fprintf(stderr,
                "varde demo: handover: node %" PRIu64 " did not exit "
                "within %d ms of SIGTERM\n",
                old, DEMO_EXIT_MS);
        return -1;
    }
    exited = now_ms() - start;
    printf("Node %" PRIu64 " exited %" PRId64 " ms after SIGTERM. Restart it, "
           "so the cluster is whole again.\n",
           old, exited);
    fflush(stdout);
    if (demo_rejoin(d, old, "rejoin: the stopped node follows again") < 0) {
        return -1;
    }
    demo_show(d);
    return 0;
}

static int demo_tour(struct demo *d)
{
    uint64_t first = d->leader;

    demo_explain_first_leader(d);
    printf("Each time below runs from our signal to the first round of "
           "/v1/status (one\nevery %d ms) that sees the change.\n\n",
           DEMO_POLL_MS);
    if (demo_write(d) < 0 || demo_crash_leader(d) < 0 ||
        demo_restart_old_leader(d, first) < 0 || demo_handover(d) < 0) {
        return -1;
    }
    return 0;
}

static void demo_explore_help(const struct demo *d)
{
    const char *self = program_invocation_name;
    int lead_port = d->base_port + (int)d->leader - 1;
    pid_t lead_pid = d->nodes[d->leader - 1].pid;

    printf("The cluster keeps running. From another terminal:\n"
           "  export VARDE_ADDR=127.0.0.1:%d\n"
           "  %s status\n"
           "  %s kv put greeting hello; %s kv get greeting\n"
           "  curl -s http://127.0.0.1:%d/v1/status\n"
           "  curl -s -X POST 'http://127.0.0.1:%d/v1/leader/transfer?to=%d'\n"
           "  kill -STOP %d; sleep 1; kill -CONT %d    (pause the leader)\n",
           d->base_port + 1, self, self, self, lead_port, lead_port,
           d->leader == 3 ? 2 : 3, (int)lead_pid, (int)lead_pid);
    printf("Node pids:");
    for (int i = 0; i < DEMO_NODES; i++) {
        printf(" %d=%d", i + 1, (int)d->nodes[i].pid);
    }
    printf("; logs in %s/N.log.\nPress Ctrl-C to stop the cluster.\n", d->dir);
    fflush(stdout);
}

/* Sleep until SIGINT, SIGTERM or SIGHUP; say so when a node exits. */
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
        for (int i = 0; i < DEMO_NODES; i++) {
            struct localnode *n = &d->nodes[i];
            pid_t pid = n->pid;
            char how[64];

            if (pid > 0 && localnode_exited(n)) {
                printf("node %d (pid %d) %s; the others keep going\n", i + 1,
                       (int)pid,
                       localnode_describe(n->wstatus, how, sizeof how));
                fflush(stdout);
            }
        }
        sigsuspend(&old);
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
}

static void demo_catch_signals(void)
{
    struct sigaction sa = {.sa_handler = demo_on_signal};

    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
}

static int demo_run(struct demo *d)
{
    if (demo_check_ports(d) < 0 || demo_prepare_dir(d) < 0) {
        return 1;
    }
    demo_setup_nodes(d);
    if (demo_start_cluster(d) < 0 || (d->tour && demo_tour(d) < 0)) {
        return 1;
    }
    if (d->exit_after) {
        printf("Done: stopping the cluster.\n");
        return 0;
    }
    demo_explore_help(d);
    demo_wait_for_signal(d);
    printf("\nStopping the cluster.\n");
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
    d->color = cli_use_color(STDOUT_FILENO);
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
    localnode_stop_all(d->nodes, DEMO_NODES, DEMO_GRACE_MS);
    if (rc == 1 && d->dir_is_ours) { /* a step failed: keep the logs */
        fprintf(stderr, "varde demo: logs kept in %s\n", d->dir);
    } else {
        demo_remove_dir(d);
    }
    free(d);
    return rc;
}
