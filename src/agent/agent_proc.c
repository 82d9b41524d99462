/* agent_proc.c - fork, gate, exec; process groups; /proc (agent_proc.h).
 *
 * The child runs between fork and exec in a copy of a single-threaded
 * agent, so it may call anything; it still keeps to plain system calls
 * and stack buffers, and reports every failure the same way: one line to
 * output.log (when it is open), the step and errno on the status pipe,
 * exit 127. It closes every inherited descriptor first: siblings waiting
 * at their own gates must not hold each other's gates open.
 */
#include "agent/agent_proc.h"

#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif

#define PROC_STAT_MAX 4096

/* ------------------------------------------------------------------------
 * /proc
 */

/* The next space-separated field at *P (before END) as an integer: at
 * most 20 digits, an optional '-'. Fields this file does not use may
 * exceed 64 bits signed (rsslim is often 2^64 - 1): they wrap, unused. */
static int stat_field(const char **p, const char *end, long long *out)
{
    const char *s = *p;
    unsigned long long v = 0;
    bool neg = false;
    size_t digits = 0;

    while (s < end && *s == ' ') {
        s++;
    }
    if (s < end && *s == '-') {
        neg = true;
        s++;
    }
    for (; s < end && *s >= '0' && *s <= '9' && digits < 20; s++, digits++) {
        v = v * 10 + (unsigned long long)(*s - '0');
    }
    if (digits == 0 || (s < end && *s != ' ' && *s != '\n')) {
        return -1;
    }
    *p = s;
    *out = (long long)(neg ? 0 - v : v);
    return 0;
}

int agent_proc_parse_stat(const char *text, size_t len,
                          struct agent_proc_stat *out)
{
    const char *end = text + len;
    const char *p = NULL;
    long long v;

    /* "PID (COMM) S ...": COMM may hold spaces and parentheses, so the
     * fields start after the last ')'. */
    for (const char *q = text; q < end; q++) {
        p = *q == ')' ? q : p;
    }
    if (p == NULL || end - p < 4 || p[1] != ' ') {
        return -1;
    }
    out->state = p[2];
    p += 3;
    out->exit_status = -1;
    for (int field = 4; field <= 52; field++) {
        if (stat_field(&p, end, &v) < 0) {
            return field > 22 ? 0 : -1; /* field 52 is Linux 3.5+ */
        }
        if (field == 5) {
            out->pgrp = (int)v;
        } else if (field == 22) {
            out->start_time = (uint64_t)v;
        } else if (field == 52) {
            out->exit_status = (int)v;
        }
    }
    return 0;
}

int agent_proc_read_stat(int pid, struct agent_proc_stat *out)
{
    char path[64], buf[PROC_STAT_MAX];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return -1;
    }
    n = read(fd, buf, sizeof(buf));
    close(fd);
    if (n <= 0) {
        return -1;
    }
    return agent_proc_parse_stat(buf, (size_t)n, out);
}

bool agent_proc_alive(int pid, uint64_t start_time)
{
    struct agent_proc_stat st;

    if (pid <= 0 || agent_proc_read_stat(pid, &st) < 0) {
        return false;
    }
    return st.start_time == start_time && st.state != 'Z' && st.state != 'X';
}

/* ------------------------------------------------------------------------
 * The child.
 */

struct proc_report {
    int step;
    int errnum;
};

/* Tell the agent STEP failed with ERRNUM, say so in the log, exit 127. */
static void child_fail(int status_fd, int log_fd, enum agent_exec_step step,
                       int errnum, const char *argv0)
{
    struct proc_report r = {(int)step, errnum};
    char line[512];
    int n;

    agent_proc_describe(step, errnum, argv0, line, sizeof(line) - 1);
    n = (int)strlen(line);
    line[n++] = '\n';
    if (log_fd >= 0) {
        (void)!write(log_fd, "varde agent: ", 13);
        (void)!write(log_fd, line, (size_t)n);
    }
    (void)!write(status_fd, &r, sizeof(r));
    _exit(AGENT_EXEC_FAILED);
}

/* Close every descriptor from 3 up but KEEP_A and KEEP_B (A < B). */
static void child_close_others(int keep_a, int keep_b)
{
    int bounds[3][2] = {
        {3, keep_a - 1}, {keep_a + 1, keep_b - 1}, {keep_b + 1, INT_MAX}};

    for (int i = 0; i < 3; i++) {
        if (bounds[i][0] > bounds[i][1]) {
            continue;
        }
        if (syscall(SYS_close_range, (unsigned)bounds[i][0],
                    (unsigned)bounds[i][1], 0u) == 0) {
            continue;
        }
        for (int fd = bounds[i][0]; fd <= bounds[i][1] && fd < 4096; fd++) {
            close(fd);
        }
    }
}

static void child_reset_signals(void)
{
    sigset_t none;

    for (int sig = 1; sig < NSIG; sig++) {
        signal(sig, SIG_DFL); /* SIGKILL and SIGSTOP refuse: fine */
    }
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Join the cgroup whose cgroup.procs is PROCS. 0, or an errno. */
static int child_join_cgroup(const char *procs)
{
    char pid[24];
    int fd = open(procs, O_WRONLY | O_CLOEXEC);
    int n = snprintf(pid, sizeof(pid), "%d", (int)getpid());
    int rc = 0;

    if (fd < 0) {
        return errno;
    }
    if (write(fd, pid, (size_t)n) != n) {
        rc = errno ? errno : EIO;
    }
    close(fd);
    return rc;
}

/* execve S->argv looked up in S->path as execvp would; returns the
 * errno. */
static int child_exec(const struct agent_spawn *s)
{
    const char *name = s->argv[0];
    const char *dir = s->path;
    char file[PATH_MAX];
    bool denied = false;
    int last = ENOENT;

    if (strchr(name, '/') != NULL) {
        execve(name, s->argv, s->envp);
        return errno;
    }
    while (*dir != '\0') {
        const char *colon = strchr(dir, ':');
        size_t n = colon ? (size_t)(colon - dir) : strlen(dir);
        int w = snprintf(file, sizeof(file), "%.*s/%s", (int)(n ? n : 1),
                         n ? dir : ".", name);

        if (w > 0 && (size_t)w < sizeof(file)) {
            execve(file, s->argv, s->envp);
            last = errno;
            denied |= errno == EACCES;
            if (errno != ENOENT && errno != ENOTDIR && errno != EACCES) {
                return errno;
            }
        }
        dir += n + (colon != NULL);
    }
    return denied ? EACCES : last;
}

static void child_run(const struct agent_spawn *s, int gate_fd, int status_fd)
{
    static const char gone[] = "varde agent: the agent went away before it "
                               "recorded this start: not run\n";
    int log_fd, null_fd, err;
    char go = 0;

    child_reset_signals();
    setsid();
    child_close_others(gate_fd < status_fd ? gate_fd : status_fd,
                       gate_fd < status_fd ? status_fd : gate_fd);
    log_fd = open(s->log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (log_fd < 0) {
        child_fail(status_fd, -1, AGENT_STEP_LOG, errno, s->argv[0]);
    }
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) {
        dup2(null_fd, STDIN_FILENO);
    }
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    while (read(gate_fd, &go, 1) < 0 && errno == EINTR) {
    }
    if (go != 'g') {
        (void)!write(log_fd, gone, sizeof(gone) - 1);
        _exit(0);
    }
    if (s->cgroup_procs != NULL &&
        (err = child_join_cgroup(s->cgroup_procs)) != 0) {
        child_fail(status_fd, log_fd, AGENT_STEP_CGROUP, err, s->argv[0]);
    }
    if (chdir(s->work_dir) < 0) {
        child_fail(status_fd, log_fd, AGENT_STEP_CHDIR, errno, s->argv[0]);
    }
    err = child_exec(s);
    child_fail(status_fd, log_fd, AGENT_STEP_EXEC, err, s->argv[0]);
}

/* ------------------------------------------------------------------------
 * The agent's side.
 */

int agent_proc_spawn(const struct agent_spawn *s, struct agent_child *out,
                     char *err, size_t errlen)
{
    int gate[2], status[2];
    pid_t pid;

    if (pipe2(gate, O_CLOEXEC) < 0) {
        return err_fail(err, errlen, "pipe: %s", strerror(errno));
    }
    if (pipe2(status, O_CLOEXEC) < 0) {
        err_fail(err, errlen, "pipe: %s", strerror(errno));
        close(gate[0]);
        close(gate[1]);
        return -1;
    }
    pid = fork();
    if (pid == 0) {
        close(gate[1]);
        close(status[0]);
        child_run(s, gate[0], status[1]);
        _exit(AGENT_EXEC_FAILED);
    }
    close(gate[0]);
    close(status[1]);
    if (pid < 0) {
        err_fail(err, errlen, "fork: %s", strerror(errno));
        close(gate[1]);
        close(status[0]);
        return -1;
    }
    fcntl(status[0], F_SETFL, O_NONBLOCK);
    out->pid = (int)pid;
    out->gate_fd = gate[1];
    out->status_fd = status[0];
    return 0;
}

void agent_proc_release(struct agent_child *c)
{
    if (c->gate_fd >= 0) {
        (void)!write(c->gate_fd, "g", 1);
        close(c->gate_fd);
        c->gate_fd = -1;
    }
}

void agent_proc_abort(struct agent_child *c)
{
    if (c->gate_fd >= 0) {
        close(c->gate_fd);
        c->gate_fd = -1;
    }
}

int agent_proc_read_status(int fd, enum agent_exec_step *step, int *errnum)
{
    struct proc_report r;
    ssize_t n = read(fd, &r, sizeof(r));

    if (n < 0) {
        return errno == EAGAIN || errno == EINTR ? -1 : 1;
    }
    if (n == 0) {
        return 1;
    }
    if (n != (ssize_t)sizeof(r)) {
        *step = AGENT_STEP_EXEC;
        *errnum = EIO;
        return 0;
    }
    *step = (enum agent_exec_step)r.step;
    *errnum = r.errnum;
    return 0;
}

void agent_proc_describe(enum agent_exec_step step, int errnum,
                         const char *argv0, char *buf, size_t len)
{
    const char *why = strerror(errnum);

    switch (step) {
    case AGENT_STEP_LOG:
        snprintf(buf, len, "cannot open its output.log: %s", why);
        break;
    case AGENT_STEP_CGROUP:
        snprintf(buf, len, "cannot join its cgroup: %s", why);
        break;
    case AGENT_STEP_CHDIR:
        snprintf(buf, len, "cannot enter its work dir: %s", why);
        break;
    default:
        snprintf(buf, len, "cannot execute \"%.200s\": %s", argv0, why);
        break;
    }
}

int agent_proc_signal_group(int pgid, int sig)
{
    if (pgid <= 1) {
        errno = EINVAL;
        return -1;
    }
    return kill(-(pid_t)pgid, sig);
}

int agent_proc_reap(int *pid, int *status)
{
    siginfo_t si;

    memset(&si, 0, sizeof(si));
    if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
        si.si_pid == 0) {
        return 0;
    }
    /* The exited leader still holds its pid: its group id is ours. */
    if (si.si_pid > 1) {
        kill(-si.si_pid, SIGKILL);
    }
    if (waitpid(si.si_pid, status, 0) != si.si_pid) {
        return 0;
    }
    *pid = (int)si.si_pid;
    return 1;
}

int agent_proc_pidfd(int pid)
{
    long fd = syscall(SYS_pidfd_open, (pid_t)pid, 0u);

    if (fd >= 0) {
        fcntl((int)fd, F_SETFD, FD_CLOEXEC);
    }
    return fd < 0 ? -1 : (int)fd;
}

void agent_proc_exit_code(int status, int *code, int *signal)
{
    if (WIFSIGNALED(status)) {
        *signal = WTERMSIG(status);
        *code = 128 + *signal;
        return;
    }
    *signal = 0;
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
