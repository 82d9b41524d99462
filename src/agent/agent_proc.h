/* agent_proc.h - a task's process: fork, a start gate, exec, signals to
 * its process group, and what /proc says about a pid.
 *
 * agent_proc_spawn() forks a child that makes itself a session and process
 * group leader (setsid), closes every descriptor it does not need, points
 * stdout and stderr at the task's output.log (O_APPEND), and then waits at
 * a gate: a pipe the agent writes one byte to once the child's pid is on
 * disk (agent_proc_release), so that an agent that crashes between the
 * fork and the save leaves nothing running that it does not know about
 * (the child sees the pipe close and exits 0 without running anything).
 * Past the gate the child joins its cgroup, changes to the work dir and
 * execs the command, looking a program name without '/' up in the job's
 * PATH (default /usr/local/bin:/usr/bin:/bin). A step that fails writes
 * one line to output.log, sends the step and the errno on a close-on-exec
 * status pipe and exits 127; a pipe that closes with nothing on it means
 * the exec worked.
 */
#ifndef VARDE_AGENT_PROC_H
#define VARDE_AGENT_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_EXEC_FAILED 127 /* the exit code of a child that cannot run */
#define AGENT_DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin"

/* What /proc/PID/stat says about a process. */
struct agent_proc_stat {
    char state;          /* field 3: R, S, D, Z, X, ... */
    int pgrp;            /* field 5 */
    uint64_t start_time; /* field 22, in clock ticks since boot */
    int exit_status;     /* field 52, a wait status; -1 when absent */
};

/* What to run. Every pointer is borrowed for the call. */
struct agent_spawn {
    const char *log_path;     /* the output file, appended to */
    const char *work_dir;     /* the child's working directory */
    const char *cgroup_procs; /* a cgroup.procs to join, or NULL */
    const char *path;         /* where to look up argv[0] without '/' */
    char *const *argv;        /* NULL-terminated, argv[0] not empty */
    char *const *envp;        /* NULL-terminated: the whole environment */
};

/* A child between the fork and its release. */
struct agent_child {
    int pid;
    int gate_fd;   /* the gate's write end; -1 once released or aborted */
    int status_fd; /* the status pipe's read end, non-blocking */
};

/* The step a child failed at, as sent on the status pipe. */
enum agent_exec_step {
    AGENT_STEP_LOG = 1, /* open output.log */
    AGENT_STEP_CGROUP,  /* join the cgroup */
    AGENT_STEP_CHDIR,   /* change to the work dir */
    AGENT_STEP_EXEC,    /* execute the program */
};

/* Parse LEN bytes of TEXT, the content of /proc/PID/stat, into *OUT.
 * Returns 0, or -1 when it is not one. Pure. */
int agent_proc_parse_stat(const char *text, size_t len,
                          struct agent_proc_stat *out);

/* Read /proc/PID/stat into *OUT. Returns 0, or -1 (no such process). */
int agent_proc_read_stat(int pid, struct agent_proc_stat *out);

/* True when PID is a live process (neither zombie nor dead) that started
 * at START_TIME: the process recorded, not another that reuses its pid. */
bool agent_proc_alive(int pid, uint64_t start_time);

/* Fork a child for S, held at its gate. Returns 0 with *OUT filled, or -1
 * with a reason in ERR (no child exists then). */
int agent_proc_spawn(const struct agent_spawn *s, struct agent_child *out,
                     char *err, size_t errlen);

/* Let the child past its gate. */
void agent_proc_release(struct agent_child *c);

/* Close the gate without letting the child past: it exits 0 unrun. */
void agent_proc_abort(struct agent_child *c);

/* Read the status pipe of a child. Returns 1 when the exec worked (the
 * pipe closed empty), 0 when it failed (*STEP and *ERRNUM say where and
 * why), -1 when nothing has come yet. The caller closes the fd after 0 or
 * 1. */
int agent_proc_read_status(int fd, enum agent_exec_step *step, int *errnum);

/* "cannot execute "ARGV0": No such file or directory", for a failure at
 * STEP with ERRNUM, into BUF. */
void agent_proc_describe(enum agent_exec_step step, int errnum,
                         const char *argv0, char *buf, size_t len);

/* Send SIG to process group PGID (> 1). Returns 0, or -1 with errno
 * (ESRCH: no process left in it). */
int agent_proc_signal_group(int pgid, int sig);

/* Reap one exited child: its pid and wait status in *PID and *STATUS.
 * Before the reap, while the exited process still holds its pid, every
 * process left in its group is killed (SIGKILL), so a task leaves nothing
 * behind. Returns 1 when one was reaped, 0 when none has exited. */
int agent_proc_reap(int *pid, int *status);

/* A pidfd for PID (readable once it exits), or -1 (kernel without
 * pidfd_open, or no such process). */
int agent_proc_pidfd(int pid);

/* Exit CODE and SIGNAL of a wait status: the code, or 128 + the signal
 * (SIGNAL 0 when it exited by itself). */
void agent_proc_exit_code(int status, int *code, int *signal);

#endif
