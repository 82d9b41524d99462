/* localnode.c - start, watch and stop varde daemons as child processes. */
#include "cli/localnode.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REAP_POLL_MS 5
#define LOG_TAIL 4096

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* In the child, between fork and exec: only async-signal-safe calls. On
 * failure the errno goes up the pipe REPORT and the child exits. */
static void child_exec(char *const argv[], int devnull, int logfd, int report,
                       pid_t parent)
{
    struct sigaction dfl = {.sa_handler = SIG_DFL};
    sigset_t none;
    int e;

    sigaction(SIGPIPE, &dfl, NULL); /* the demo ignores it; a daemon may not */
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) { /* the parent died before prctl */
        _exit(1);
    }
    if (dup2(devnull, STDIN_FILENO) < 0 || dup2(logfd, STDOUT_FILENO) < 0 ||
        dup2(logfd, STDERR_FILENO) < 0) {
        e = errno;
    } else {
        execv("/proc/self/exe", argv);
        e = errno;
    }
    if (write(report, &e, sizeof e) < 0) {
        _exit(127);
    }
    _exit(127);
}

/* Read what the child reported: nothing (EOF) means the exec worked. */
static int wait_exec(int report, pid_t pid, char *err, size_t err_len)
{
    int e = 0;
    ssize_t r;

    do {
        r = read(report, &e, sizeof e);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        return 0;
    }
    snprintf(err, err_len, "cannot start /proc/self/exe: %s",
             r == (ssize_t)sizeof e ? strerror(e) : "no report");
    waitpid(pid, NULL, 0);
    return -1;
}

/* Append "=== start: ARGV..." to the log at LOGFD. */
static void log_start_line(int logfd, char *const argv[])
{
    char line[4096];
    size_t off = 0;

    off += (size_t)snprintf(line, sizeof line, "=== start:");
    for (size_t i = 0; argv[i] != NULL && off < sizeof line; i++) {
        off += (size_t)snprintf(line + off, sizeof line - off, " %s", argv[i]);
    }
    if (off >= sizeof line - 1) {
        off = sizeof line - 2;
    }
    line[off++] = '\n';
    if (write(logfd, line, off) < 0) {
        return; /* the daemon's own lines matter more */
    }
}

int localnode_start(struct localnode *n, char *const argv[], char *err,
                    size_t err_len)
{
    int devnull, logfd, report[2], rc = -1;
    pid_t parent = getpid(), pid;

    devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
    logfd = open(n->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (devnull < 0 || logfd < 0) {
        snprintf(err, err_len, "cannot open %s: %s",
                 devnull < 0 ? "/dev/null" : n->log, strerror(errno));
        goto close_files;
    }
    log_start_line(logfd, argv);
    if (pipe2(report, O_CLOEXEC) < 0) {
        snprintf(err, err_len, "pipe: %s", strerror(errno));
        goto close_files;
    }

    pid = fork();
    if (pid == 0) {
        close(report[0]);
        child_exec(argv, devnull, logfd, report[1], parent);
    }
    close(report[1]);
    if (pid < 0) {
        snprintf(err, err_len, "fork: %s", strerror(errno));
    } else if (wait_exec(report[0], pid, err, err_len) == 0) {
        n->pid = pid;
        n->wstatus = 0;
        rc = 0;
    }
    close(report[0]);

close_files:
    if (devnull >= 0) {
        close(devnull);
    }
    if (logfd >= 0) {
        close(logfd);
    }
    return rc;
}

void localnode_signal(struct localnode *n, int sig)
{
    if (n->pid > 0) {
        kill(n->pid, sig);
    }
}

bool localnode_exited(struct localnode *n)
{
    int ws;
    pid_t r;

    if (n->pid <= 0) {
        return true;
    }
    do {
        r = waitpid(n->pid, &ws, WNOHANG);
    } while (r < 0 && errno == EINTR);
    if (r == 0) {
        return false;
    }
    n->wstatus = r > 0 ? ws : 0; /* r < 0: not our child any more */
    n->pid = 0;
    return true;
}

int localnode_wait(struct localnode *n, int timeout_ms)
{
    int64_t deadline = now_ms() + timeout_ms;

    while (!localnode_exited(n)) {
        if (now_ms() >= deadline) {
            return -1;
        }
        poll(NULL, 0, REAP_POLL_MS);
    }
    return 0;
}

pid_t localnode_kill(struct localnode *n)
{
    pid_t pid = n->pid;

    if (pid > 0) {
        kill(pid, SIGKILL);
        while (waitpid(pid, &n->wstatus, 0) < 0 && errno == EINTR) {
        }
        n->pid = 0;
    }
    return pid;
}

static bool all_exited(struct localnode *nodes[], size_t count)
{
    bool all = true;

    for (size_t i = 0; i < count; i++) {
        all = localnode_exited(nodes[i]) && all;
    }
    return all;
}

void localnode_stop_all(struct localnode *nodes[], size_t count, int grace_ms)
{
    int64_t deadline = now_ms() + grace_ms;

    for (size_t i = 0; i < count; i++) {
        localnode_signal(nodes[i], SIGTERM);
    }
    while (!all_exited(nodes, count) && now_ms() < deadline) {
        poll(NULL, 0, REAP_POLL_MS);
    }
    for (size_t i = 0; i < count; i++) {
        localnode_kill(nodes[i]);
    }
}

const char *localnode_describe(int wstatus, char *buf, size_t len)
{
    if (WIFEXITED(wstatus)) {
        snprintf(buf, len, "exited with status %d", WEXITSTATUS(wstatus));
    } else if (WIFSIGNALED(wstatus)) {
        snprintf(buf, len, "killed by signal %d (%s)", WTERMSIG(wstatus),
                 strsignal(WTERMSIG(wstatus)));
    } else {
        snprintf(buf, len, "stopped");
    }
    return buf;
}

void localnode_last_log_line(const struct localnode *n, char *buf, size_t len)
{
    char tail[LOG_TAIL + 1];
    ssize_t r = -1;
    int fd = open(n->log, O_RDONLY | O_CLOEXEC);
    off_t size;
    char *end, *start;

    buf[0] = '\0';
    if (fd >= 0) {
        size = lseek(fd, 0, SEEK_END);
        if (size >= 0) {
            off_t from = size > LOG_TAIL ? size - LOG_TAIL : 0;
            r = pread(fd, tail, LOG_TAIL, from);
        }
        close(fd);
    }
    if (r <= 0) {
        return;
    }
    tail[r] = '\0';
    end = tail + r;
    while (end > tail && (end[-1] == '\n' || end[-1] == '\r')) {
        *--end = '\0';
    }
    start = strrchr(tail, '\n');
    snprintf(buf, len, "%s", start ? start + 1 : tail);
}
