/* demo_procs.c - the fleet's task processes, as /proc shows them.
 *
 * An agent runs each task in a process group of its own, and a task
 * outlives its agent on purpose (a restarted agent adopts it). So the demo
 * cannot find its tasks among its own children: it looks for processes
 * whose environment names one of its controllers, which the agents put
 * there for every task (VARDE_CONTROLLER, docs/site-api.md). The
 * addresses are of the demo's own /24, so no other fleet's task matches.
 */
#include "cli/demo_int.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PROCS_SCAN_MAX 100000 /* /proc entries looked at */
#define PROCS_FOUND_MAX 256   /* task processes acted on */
#define PROCS_ENV_MAX 65536   /* bytes of an environment read */
#define PROCS_POLL_MS 20

bool demo_pid_alive(long pid)
{
    char path[64], buf[512], *close_paren;
    ssize_t r;
    int fd;

    if (pid <= 0) {
        return false;
    }
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) {
        return false;
    }
    buf[r] = '\0';
    close_paren = strrchr(buf, ')'); /* the name may hold anything */
    return close_paren != NULL && close_paren[1] == ' ' &&
           close_paren[2] != 'Z' && close_paren[2] != 'X';
}

/* Whether the environment of PID holds VARDE_CONTROLLER=ADDR for one of
 * the demo's controllers. */
static bool procs_is_task(const struct demo *d, long pid, char *buf)
{
    char path[64];
    ssize_t r;
    size_t at = 0;
    int fd;

    snprintf(path, sizeof path, "/proc/%ld/environ", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return false;
    }
    while (at < PROCS_ENV_MAX - 1 &&
           (r = read(fd, buf + at, PROCS_ENV_MAX - 1 - at)) > 0) {
        at += (size_t)r;
    }
    close(fd);
    buf[at] = '\0';
    for (size_t off = 0; off < at; off += strlen(buf + off) + 1) {
        const char *v = buf + off;

        if (strncmp(v, "VARDE_CONTROLLER=", 17) != 0) {
            continue;
        }
        for (int s = 0; s < DEMO_SITES; s++) {
            if (strcmp(v + 17, d->d[DEMO_RAFT + s].addr) == 0) {
                return true;
            }
        }
    }
    return false;
}

/* The pids of the fleet's task processes, at most MAX of them, into PIDS.
 * Returns how many. */
static size_t procs_find(const struct demo *d, pid_t *pids, size_t max)
{
    DIR *dir = opendir("/proc");
    char *buf = malloc(PROCS_ENV_MAX);
    struct dirent *e;
    size_t n = 0, seen = 0;

    while (dir != NULL && buf != NULL && n < max && seen++ < PROCS_SCAN_MAX &&
           (e = readdir(dir)) != NULL) {
        long pid = atol(e->d_name);

        if (!isdigit((unsigned char)e->d_name[0]) || pid == (long)getpid()) {
            continue;
        }
        if (procs_is_task(d, pid, buf) && demo_pid_alive(pid)) {
            pids[n++] = (pid_t)pid;
        }
    }
    if (dir != NULL) {
        closedir(dir);
    }
    free(buf);
    return n;
}

size_t demo_task_procs(struct demo *d)
{
    pid_t pids[PROCS_FOUND_MAX];

    return procs_find(d, pids, PROCS_FOUND_MAX);
}

/* SIG to PID's process group, and to PID itself should it have left the
 * group it was started in. */
static void procs_signal(pid_t pid, int sig)
{
    kill(-pid, sig);
    kill(pid, sig);
}

size_t demo_task_procs_kill(struct demo *d, int grace_ms)
{
    pid_t pids[PROCS_FOUND_MAX];
    size_t n = procs_find(d, pids, PROCS_FOUND_MAX);
    int64_t deadline = demo_now_ms() + grace_ms;
    bool left = n > 0;

    for (size_t i = 0; i < n; i++) {
        procs_signal(pids[i], SIGTERM);
    }
    while (left && demo_now_ms() < deadline) {
        poll(NULL, 0, PROCS_POLL_MS);
        left = false;
        for (size_t i = 0; i < n; i++) {
            left = left || demo_pid_alive(pids[i]);
        }
    }
    for (size_t i = 0; left && i < n; i++) {
        if (demo_pid_alive(pids[i])) {
            procs_signal(pids[i], SIGKILL);
        }
    }
    return n;
}
