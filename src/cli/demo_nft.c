/* demo_nft.c - cut a site off from the raft nodes with nftables, and heal.
 *
 * Every daemon binds its outgoing connections to its own address, so the
 * packets between a site's controller and the raft nodes are exactly
 * those with the controller's address on one end and a raft node's on the
 * other. The cut is one table of the demo's own, named after its /24
 * (varde_demo_127_X_Y: the /24 is claimed, so a table of that name is
 * ours or left by a demo that was killed), with a chain on the output hook
 * that drops both directions; on loopback every packet passes it. The
 * ruleset goes to DIR/cut.nft, so the user can read what was done. Healing
 * deletes the table.
 */
#include "cli/demo_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define NFT_MS 5000     /* one nft command */
#define NFT_OUT_MAX 400 /* bytes of its output kept for a message */

static const char *const nft_paths[] = {"/usr/sbin/nft", "/sbin/nft",
                                        "/usr/bin/nft", "/bin/nft"};

/* Read what CHILD writes to FD into OUT (one line, at most LEN - 1
 * bytes) until it closes, and reap it, within NFT_MS. Returns its exit
 * status, or -1 when it had to be killed. */
static int nft_collect(pid_t child, int fd, char *out, size_t len)
{
    int64_t deadline = demo_now_ms() + NFT_MS;
    size_t used = 0;
    int ws = 0;

    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int64_t left = deadline - demo_now_ms();
        char buf[256];
        ssize_t r;

        if (left <= 0 || poll(&p, 1, (int)left) == 0) {
            kill(child, SIGKILL);
            break;
        }
        r = read(fd, buf, sizeof buf);
        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r <= 0) {
            break;
        }
        for (ssize_t i = 0; i < r && used + 1 < len; i++) {
            out[used++] = buf[i] == '\n' ? ' ' : buf[i];
        }
    }
    out[used] = '\0';
    while (waitpid(child, &ws, 0) < 0 && errno == EINTR) {
    }
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

/* In the child: stdin from /dev/null, stdout and stderr to OUT_FD, exec
 * PATH with ARGS. Never returns. */
static void nft_child(const char *path, char *const args[], int out_fd)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    int devnull = open("/dev/null", O_RDONLY);

    sigaction(SIGPIPE, &dfl, NULL);
    if (devnull < 0 || dup2(devnull, STDIN_FILENO) < 0 ||
        dup2(out_fd, STDOUT_FILENO) < 0 || dup2(out_fd, STDERR_FILENO) < 0) {
        _exit(127);
    }
    execv(path, args);
    _exit(127);
}

/* Run NFT ARGS (NULL-terminated, ARGS[0] is "nft") with its stdout and
 * stderr in OUT. Returns its exit status, or -1 with a reason in OUT. */
static int nft_run(const struct demo *d, char *const args[], char *out,
                   size_t len)
{
    int pipefd[2], rc;
    pid_t child;

    if (pipe2(pipefd, O_CLOEXEC) < 0) {
        snprintf(out, len, "pipe: %s", strerror(errno));
        return -1;
    }
    child = fork();
    if (child == 0) {
        nft_child(d->nft_path, args, pipefd[1]);
    }
    close(pipefd[1]);
    if (child < 0) {
        snprintf(out, len, "fork: %s", strerror(errno));
        close(pipefd[0]);
        return -1;
    }
    rc = nft_collect(child, pipefd[0], out, len);
    close(pipefd[0]);
    return rc;
}

void demo_nft_probe(struct demo *d)
{
    char *list[] = {"nft", "list", "tables", NULL};
    char *del[] = {"nft", "delete", "table", "inet", d->nft_table, NULL};
    char out[NFT_OUT_MAX];

    snprintf(d->nft_table, sizeof d->nft_table, "varde_demo_%s", d->net.prefix);
    for (char *p = d->nft_table; *p != '\0'; p++) {
        *p = *p == '.' ? '_' : *p;
    }
    d->nft_ok = false;
    if (geteuid() != 0) {
        snprintf(d->nft_why, sizeof d->nft_why,
                 "cutting a link takes nftables rules, and those need root "
                 "(sudo ./varde demo)");
        return;
    }
    d->nft_path[0] = '\0';
    for (size_t i = 0; i < sizeof nft_paths / sizeof nft_paths[0]; i++) {
        if (access(nft_paths[i], X_OK) == 0) {
            snprintf(d->nft_path, sizeof d->nft_path, "%s", nft_paths[i]);
            break;
        }
    }
    if (d->nft_path[0] == '\0') {
        snprintf(d->nft_why, sizeof d->nft_why,
                 "cutting a link takes nftables, and nft is not installed "
                 "(apt-get install nftables)");
        return;
    }
    if (nft_run(d, list, out, sizeof out) != 0) {
        snprintf(d->nft_why, sizeof d->nft_why,
                 "nftables does not work here: %.150s", out);
        return;
    }
    d->nft_ok = true;
    nft_run(d, del, out, sizeof out); /* left by a demo that was killed */
}

/* Write the ruleset that cuts SITE's controller off into d->dir/cut.nft:
 * the table made (if missing) and deleted first, so that a stale one goes
 * in the same transaction. */
static int nft_write_rules(struct demo *d, int site, char *path, size_t len,
                           char *err, size_t errlen)
{
    const char *ctl = demo_ctl(d, site)->host;
    char nodes[128];
    FILE *f;

    snprintf(nodes, sizeof nodes, "%s, %s, %s", demo_raft(d, 1)->host,
             demo_raft(d, 2)->host, demo_raft(d, 3)->host);
    snprintf(path, len, "%s/cut.nft", d->dir);
    f = fopen(path, "we");
    if (f == NULL) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    fprintf(f,
            "# varde demo: cut site %s (controller %s) off the raft nodes\n"
            "table inet %s\n"
            "delete table inet %s\n"
            "table inet %s {\n"
            "    chain out {\n"
            "        type filter hook output priority 0; policy accept;\n"
            "        ip saddr %s ip daddr { %s } drop\n"
            "        ip saddr { %s } ip daddr %s drop\n"
            "    }\n"
            "}\n",
            demo_site_name(site), ctl, d->nft_table, d->nft_table, d->nft_table,
            ctl, nodes, nodes, ctl);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

int demo_nft_cut(struct demo *d, int site, char *err, size_t errlen)
{
    char path[PATH_MAX], out[NFT_OUT_MAX];
    char *args[] = {"nft", "-f", path, NULL};

    if (nft_write_rules(d, site, path, sizeof path, err, errlen) < 0) {
        return -1;
    }
    d->cut_active = true; /* even half-made, the table must go */
    if (nft_run(d, args, out, sizeof out) != 0) {
        snprintf(err, errlen, "nft -f %s: %s", path, out);
        return -1;
    }
    return 0;
}

int demo_nft_heal(struct demo *d, char *err, size_t errlen)
{
    char *args[] = {"nft", "delete", "table", "inet", d->nft_table, NULL};
    char out[NFT_OUT_MAX];

    if (!d->cut_active) {
        return 0;
    }
    if (nft_run(d, args, out, sizeof out) != 0) {
        snprintf(err, errlen, "nft delete table inet %s: %s", d->nft_table,
                 out);
        return -1;
    }
    d->cut_active = false;
    return 0;
}
