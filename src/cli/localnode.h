/* localnode.h - varde daemons run as child processes of the CLI (the demo).
 *
 * Each daemon is `varde ARGS...` exec'd from /proc/self/exe, in its own
 * process group (so Ctrl-C in the terminal reaches only the CLI, which then
 * stops the daemons in order), with SIGTERM as its parent-death signal (so a
 * CLI that is killed outright leaves no daemon behind).
 */
#ifndef VARDE_LOCALNODE_H
#define VARDE_LOCALNODE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define LOCALNODE_MAX_ARGS 32

struct localnode {
    char log[PATH_MAX]; /* its stdout and stderr, appended */
    pid_t pid;          /* 0: not running */
    int wstatus;        /* wait status of its last exit */
};

/* Start `varde ARGV[1] ...` (ARGV NULL-terminated, at most
 * LOCALNODE_MAX_ARGS entries, ARGV[0] the program name to show) with stdin
 * from /dev/null and stdout and stderr appended to N's log, after a line
 * "=== start: ARGS". N must not be running. Returns 0 once the exec has
 * succeeded, or -1 with a one-line reason in ERR. */
int localnode_start(struct localnode *n, char *const argv[], char *err,
                    size_t err_len);

/* Send SIG to N when it is running. */
void localnode_signal(struct localnode *n, int sig);

/* Reap N without blocking. Returns true when it is not running (pid is then
 * 0 and wstatus tells how it ended). */
bool localnode_exited(struct localnode *n);

/* Wait up to TIMEOUT_MS for N to exit. Returns 0 when it has, -1 when it is
 * still running. */
int localnode_wait(struct localnode *n, int timeout_ms);

/* SIGKILL N and reap it. Returns its pid (0 if it was not running). */
pid_t localnode_kill(struct localnode *n);

/* Stop every running process of NODES: SIGTERM, up to GRACE_MS for all to
 * exit, then SIGKILL to the rest, and reap each. None is left running. */
void localnode_stop_all(struct localnode *nodes[], size_t count, int grace_ms);

/* How a wait status reads: "exited with status 1", "killed by signal 9".
 * Returns BUF. */
const char *localnode_describe(int wstatus, char *buf, size_t len);

/* The last non-empty line of N's log, at most LEN - 1 bytes, "" when there
 * is none. */
void localnode_last_log_line(const struct localnode *n, char *buf, size_t len);

#endif
