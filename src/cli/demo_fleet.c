/* demo_fleet.c - the demo's nine daemons: where they live, start, stop. */
#include "cli/demo_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define FLEET_GRACE_MS 3000 /* SIGTERM to SIGKILL */
#define TOKEN_BYTES 16      /* 128 bits, 32 hex digits */

static const char *const site_names[DEMO_SITES] = {"oslo-1", "bergen-2"};
static const char *const site_labels[DEMO_SITES] = {
    "camera=yes,region=east",
    "camera=yes,region=west",
};

const char *demo_site_name(int site)
{
    return site_names[site];
}

struct demo_daemon *demo_raft(struct demo *d, uint64_t id)
{
    return &d->d[id - 1];
}

struct demo_daemon *demo_ctl(struct demo *d, int site)
{
    return &d->d[DEMO_RAFT + site];
}

struct demo_daemon *demo_agent(struct demo *d, int site, int k)
{
    return &d->d[DEMO_RAFT + DEMO_SITES + site * DEMO_PER_SITE + k];
}

struct demo_daemon *demo_daemon_named(struct demo *d, const char *name)
{
    for (size_t i = 0; i < DEMO_DAEMONS; i++) {
        if (strcmp(d->d[i].name, name) == 0) {
            return &d->d[i];
        }
    }
    return NULL;
}

/* Name, address and port of X: LAST is its address's last byte, OFF its
 * port's distance from the base port. */
static void fleet_place(struct demo *d, struct demo_daemon *x,
                        enum demo_kind kind, int last, int off)
{
    x->kind = kind;
    demo_net_host(&d->net, last, x->host, sizeof x->host);
    x->port = d->base_port + off;
    snprintf(x->addr, sizeof x->addr, "%s:%d", x->host, x->port);
}

static void fleet_name_all(struct demo *d)
{
    size_t off = 0;

    for (uint64_t id = 1; id <= DEMO_RAFT; id++) {
        struct demo_daemon *x = demo_raft(d, id);

        fleet_place(d, x, DEMO_KIND_RAFT, 10 + (int)id, (int)id - 1);
        x->id = id;
        snprintf(x->name, sizeof x->name, "raft-%" PRIu64, id);
        off += (size_t)snprintf(d->peers + off, sizeof d->peers - off,
                                "%s%" PRIu64 "=%s", id > 1 ? "," : "", id,
                                x->addr);
        snprintf(d->raft_list + strlen(d->raft_list),
                 sizeof d->raft_list - strlen(d->raft_list), "%s%s",
                 id > 1 ? "," : "", x->addr);
        members_add(&d->ms, id, x->addr);
    }
    for (int s = 0; s < DEMO_SITES; s++) {
        struct demo_daemon *x = demo_ctl(d, s);

        fleet_place(d, x, DEMO_KIND_CONTROLLER, 21 + s, 100 + s);
        x->site = s;
        snprintf(x->name, sizeof x->name, "%s", site_names[s]);
        for (int k = 0; k < DEMO_PER_SITE; k++) {
            int n = s * DEMO_PER_SITE + k;

            x = demo_agent(d, s, k);
            fleet_place(d, x, DEMO_KIND_AGENT, 31 + n, 200 + n);
            x->site = s;
            snprintf(x->name, sizeof x->name, "%s-%c", site_names[s], 'a' + k);
        }
    }
}

/* Can we listen on HOST:PORT? As the daemons will: SO_REUSEADDR, so a
 * connection in TIME_WAIT from an earlier run does not count. Returns 0,
 * or the errno of the failed bind. */
static int port_free(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_port = htons((uint16_t)port)};
    int one = 1, e = 0;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        return errno;
    }
    inet_pton(AF_INET, host, &sa.sin_addr);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        e = errno;
    }
    close(fd);
    return e;
}

static int fleet_check_ports(const struct demo *d)
{
    for (size_t i = 0; i < DEMO_DAEMONS; i++) {
        const struct demo_daemon *x = &d->d[i];
        int e = port_free(x->host, x->port);
        int other = d->base_port + 1000 < 65536 - DEMO_PORT_SPAN
                        ? d->base_port + 1000
                        : 10101;

        if (e != 0) {
            fprintf(stderr,
                    "varde demo: port %d on %s (for %s) is %s; try "
                    "--base-port %d\n",
                    x->port, x->host, x->name,
                    e == EADDRINUSE ? "already in use" : strerror(e), other);
            return -1;
        }
    }
    return 0;
}

int demo_fleet_layout(struct demo *d)
{
    char err[512];

    if (demo_net_claim(&d->net, err, sizeof err) < 0) {
        fprintf(stderr, "varde demo: %s\n", err);
        return -1;
    }
    fleet_name_all(d);
    return fleet_check_ports(d);
}

static int fleet_mkdir(const char *path)
{
    if (mkdir(path, 0700) < 0 && errno != EEXIST) {
        fprintf(stderr, "varde demo: cannot make %s: %s\n", path,
                strerror(errno));
        return -1;
    }
    return 0;
}

static int fleet_make_dirs(struct demo *d)
{
    if (d->dir[0] == '\0') {
        snprintf(d->dir, sizeof d->dir, "/tmp/varde-demo-XXXXXX");
        if (mkdtemp(d->dir) == NULL) {
            fprintf(stderr, "varde demo: cannot make a directory in /tmp: %s\n",
                    strerror(errno));
            d->dir[0] = '\0';
            return -1;
        }
        d->dir_is_ours = true;
    } else if (fleet_mkdir(d->dir) < 0) {
        return -1;
    }
    for (size_t i = 0; i < DEMO_DAEMONS; i++) {
        struct demo_daemon *x = &d->d[i];

        snprintf(x->dir, sizeof x->dir, "%s/%s", d->dir, x->name);
        snprintf(x->proc.log, sizeof x->proc.log, "%s/%s.log", d->dir, x->name);
        if (fleet_mkdir(x->dir) < 0) {
            return -1;
        }
    }
    return 0;
}

/* A fresh token in d->token, written to DIR/token with mode 600. */
static int fleet_make_token(struct demo *d)
{
    unsigned char raw[TOKEN_BYTES];
    bool ok;
    int fd, e;

    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        fprintf(stderr, "varde demo: getrandom: %s\n", strerror(errno));
        return -1;
    }
    for (size_t i = 0; i < sizeof raw; i++) {
        snprintf(d->token + 2 * i, 3, "%02x", raw[i]);
    }
    snprintf(d->token_file, sizeof d->token_file, "%s/token", d->dir);
    fd = open(d->token_file,
              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    ok = fd >= 0 && fchmod(fd, 0600) == 0 && dprintf(fd, "%s\n", d->token) > 0;
    e = errno;
    if (fd >= 0 && close(fd) != 0 && ok) {
        ok = false;
        e = errno;
    }
    if (!ok) {
        fprintf(stderr, "varde demo: cannot write %s: %s\n", d->token_file,
                strerror(e));
        return -1;
    }
    return 0;
}

int demo_fleet_prepare(struct demo *d)
{
    if (fleet_make_dirs(d) < 0 || fleet_make_token(d) < 0) {
        return -1;
    }
    setenv("VARDE_ADDR", d->raft_list, 1);
    setenv("VARDE_TOKEN", d->token, 1);
    return 0;
}

/* Append the COUNT arguments of ADD to ARGV, which holds N. Returns the new
 * count. */
static size_t args_add(char *argv[], size_t n, char *const add[], size_t count)
{
    for (size_t i = 0; i < count; i++) {
        argv[n++] = add[i];
    }
    return n;
}

#define ARGS_ADD(argv, n, ...)                                                 \
    args_add(argv, n, (char *const[]){__VA_ARGS__},                            \
             sizeof((char *const[]){__VA_ARGS__}) / sizeof(char *))

/* The command line of X into ARGV (NULL-terminated); the numbers it needs
 * go to NUM. */
static void fleet_args(const struct demo *d, const struct demo_daemon *x,
                       char *argv[], char num[2][24])
{
    size_t n = ARGS_ADD(argv, 0, "varde");

    if (x->kind == DEMO_KIND_RAFT) {
        snprintf(num[0], 24, "%" PRIu64, x->id);
        snprintf(num[1], 24, "%d", DEMO_SITE_TTL_MS);
        n = ARGS_ADD(argv, n, "raft", "--id", num[0], "--peers",
                     (char *)d->peers, "--site-ttl", num[1]);
    } else if (x->kind == DEMO_KIND_CONTROLLER) {
        snprintf(num[0], 24, "%dms", DEMO_AGENT_TTL_MS);
        n = ARGS_ADD(argv, n, "controller", "--site", (char *)x->name,
                     "--labels", (char *)site_labels[x->site], "--raft",
                     (char *)d->raft_list, "--agent-ttl", num[0]);
    } else {
        n = ARGS_ADD(argv, n, "agent", "--name", (char *)x->name, "--labels",
                     "camera=yes", "--controller",
                     (char *)d->d[DEMO_RAFT + x->site].addr, "--cpu", "2",
                     "--memory-mb", "2048");
    }
    n = ARGS_ADD(argv, n, "--listen", (char *)x->addr, "--data-dir",
                 (char *)x->dir, "--token-file", (char *)d->token_file);
    argv[n] = NULL;
}

int demo_daemon_start(struct demo *d, struct demo_daemon *x)
{
    char *argv[LOCALNODE_MAX_ARGS], num[2][24], err[300];

    fleet_args(d, x, argv, num);
    if (localnode_start(&x->proc, argv, err, sizeof err) < 0) {
        fprintf(stderr, "varde demo: %s: %s\n", x->name, err);
        return -1;
    }
    x->up = true;
    return 0;
}

pid_t demo_daemon_kill(struct demo_daemon *x)
{
    x->up = false;
    return localnode_kill(&x->proc);
}

int demo_fleet_check(struct demo *d)
{
    for (size_t i = 0; i < DEMO_DAEMONS; i++) {
        struct demo_daemon *x = &d->d[i];
        pid_t pid = x->proc.pid;
        char how[64], last[200];

        if (!x->up || !localnode_exited(&x->proc)) {
            continue;
        }
        x->up = false;
        localnode_last_log_line(&x->proc, last, sizeof last);
        fprintf(stderr, "varde demo: %s (pid %d) %s; the last line of %s: %s\n",
                x->name, (int)pid,
                localnode_describe(x->proc.wstatus, how, sizeof how),
                x->proc.log, last[0] != '\0' ? last : "(empty)");
        return -1;
    }
    return 0;
}

size_t demo_fleet_stop(struct demo *d)
{
    struct localnode *procs[DEMO_DAEMONS];
    size_t running = 0;

    for (size_t i = 0; i < DEMO_DAEMONS; i++) {
        procs[i] = &d->d[i].proc;
        running += !localnode_exited(procs[i]);
        d->d[i].up = false;
    }
    localnode_stop_all(procs, DEMO_DAEMONS, FLEET_GRACE_MS);
    return running;
}
