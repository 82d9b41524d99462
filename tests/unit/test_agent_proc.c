/* test_agent_proc.c - a task's process: /proc/PID/stat parsing, the fork
 * behind its gate (released, or closed: nothing runs), the exec status
 * pipe, PATH lookup, the environment, exit codes; and the pure helpers of
 * cgroups. */
#include "agent/agent_cgroup.h"
#include "agent/agent_proc.h"

#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[256], log_path[300], err[512];

TEST(stat_parses_names_with_spaces_and_big_fields)
{
    const char *text =
        "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 "
        "20 0 1 0 987654 1234567 123 18446744073709551615 1 1 0 0 0 0 0 0 "
        "0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n";
    const char *zombie =
        "23260 (sleep) Z 23219 23217 20237 0 -1 4228108 4 0 0 0 0 0 0 0 20 "
        "0 1 0 1179288 0 0 18446744073709551615 0 0 0 0 0 0 0 0 0 1 0 0 17 "
        "0 0 0 0 0 0 0 0 0 0 0 0 0 9\n";
    const char *old_kernel = "1 (init) S 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 "
                             "1 0 55 0 0";
    struct agent_proc_stat st;

    EXPECT_EQ(agent_proc_parse_stat(text, strlen(text), &st), 0);
    EXPECT_EQ(st.state, 'S');
    EXPECT_EQ(st.pgrp, 4242);
    EXPECT_EQ(st.start_time, 987654);
    EXPECT_EQ(st.exit_status, 0);
    EXPECT_EQ(agent_proc_parse_stat(zombie, strlen(zombie), &st), 0);
    EXPECT_EQ(st.state, 'Z');
    EXPECT_EQ(st.pgrp, 23217);
    EXPECT_EQ(st.start_time, 1179288);
    EXPECT_EQ(st.exit_status, 9); /* killed by SIGKILL, as waitpid says */
    EXPECT_EQ(agent_proc_parse_stat(old_kernel, strlen(old_kernel), &st), 0);
    EXPECT_EQ(st.start_time, 55);
    EXPECT_EQ(st.exit_status, -1);
    EXPECT_EQ(agent_proc_parse_stat("4242 (x S 1", 11, &st), -1);
    EXPECT_EQ(agent_proc_parse_stat("4242 (x) S 1 2 x", 16, &st), -1);
    EXPECT_EQ(agent_proc_parse_stat("", 0, &st), -1);
}

TEST(stat_of_this_process_and_of_none)
{
    struct agent_proc_stat st;

    EXPECT_EQ(agent_proc_read_stat((int)getpid(), &st), 0);
    EXPECT_EQ(st.state, 'R');
    EXPECT_TRUE(agent_proc_alive((int)getpid(), st.start_time));
    EXPECT_TRUE(!agent_proc_alive((int)getpid(), st.start_time + 1));
    EXPECT_TRUE(!agent_proc_alive(0, 0));
    EXPECT_EQ(agent_proc_read_stat(-5, &st), -1);
}

/* Spawn ARGV with ENVP (NULL: none), then release or abort its gate, wait
 * for it; the status pipe's answer in *SR (1 ran, 0 failed), the wait
 * status returned. */
static int run_child(char *const *argv, char *const *envp, bool release,
                     const char *work, int *sr, enum agent_exec_step *step,
                     int *errnum)
{
    static char *const none[] = {NULL};
    struct agent_spawn s = {log_path, work ? work : dir,
                            NULL,     "/nonexistent:" AGENT_DEFAULT_PATH,
                            argv,     envp ? envp : none};
    struct agent_child c;
    struct pollfd p;
    int status = -1;

    if (agent_proc_spawn(&s, &c, err, sizeof(err)) < 0) {
        return -1;
    }
    if (release) {
        agent_proc_release(&c);
    } else {
        agent_proc_abort(&c);
    }
    p.fd = c.status_fd;
    p.events = POLLIN;
    poll(&p, 1, 5000);
    *sr = agent_proc_read_status(c.status_fd, step, errnum);
    close(c.status_fd);
    waitpid(c.pid, &status, 0);
    return status;
}

static const char *log_text(void)
{
    static char buf[4096];
    int fd = open(log_path, O_RDONLY);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : 0;

    if (fd >= 0) {
        close(fd);
    }
    buf[n > 0 ? n : 0] = '\0';
    unlink(log_path);
    return buf;
}

TEST(spawn_runs_in_its_own_group_with_only_its_environment)
{
    char *argv[] = {"sh", "-c",
                    "echo $VARDE_TASK ${HOME:-no-home}; pwd; "
                    "read -r pid comm state ppid pgrp rest < /proc/$$/stat; "
                    "test $pgrp = $$ && echo leader",
                    NULL};
    char *envp[] = {"VARDE_TASK=web.0", NULL};
    char want[512];
    enum agent_exec_step step;
    int sr = -1, errnum, status;

    status = run_child(argv, envp, true, NULL, &sr, &step, &errnum);
    EXPECT_EQ(sr, 1);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    snprintf(want, sizeof(want), "web.0 no-home\n%s\nleader\n", dir);
    EXPECT_STR(log_text(), want);
}

TEST(spawn_reports_a_missing_program_and_exits_127)
{
    char *argv[] = {"/nonexistent/prog", "x", NULL};
    char *bare[] = {"no-such-program-here", NULL};
    enum agent_exec_step step = 0;
    int sr = -1, errnum = 0, status;
    char msg[256];

    status = run_child(argv, NULL, true, NULL, &sr, &step, &errnum);
    EXPECT_EQ(sr, 0);
    EXPECT_EQ(step, AGENT_STEP_EXEC);
    EXPECT_EQ(errnum, ENOENT);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 127);
    EXPECT_STR(log_text(), "varde agent: cannot execute "
                           "\"/nonexistent/prog\": No such file or "
                           "directory\n");
    agent_proc_describe(step, errnum, argv[0], msg, sizeof(msg));
    EXPECT_STR(msg, "cannot execute \"/nonexistent/prog\": No such file or "
                    "directory");
    status = run_child(bare, NULL, true, NULL, &sr, &step, &errnum);
    EXPECT_EQ(sr, 0);
    EXPECT_EQ(errnum, ENOENT);
    log_text();
}

TEST(spawn_reports_a_program_it_may_not_run)
{
    char path[512];
    char *argv[] = {path, NULL};
    enum agent_exec_step step = 0;
    int sr = -1, errnum = 0;

    snprintf(path, sizeof(path), "%s/not-executable", dir);
    fclose(fopen(path, "w"));
    run_child(argv, NULL, true, NULL, &sr, &step, &errnum);
    EXPECT_EQ(sr, 0);
    EXPECT_EQ(errnum, EACCES);
    EXPECT_TRUE(strstr(log_text(), "Permission denied") != NULL);
    unlink(path);
}

TEST(spawn_reports_a_work_dir_it_cannot_enter)
{
    char *argv[] = {"/bin/true", NULL};
    enum agent_exec_step step = 0;
    int sr = -1, errnum = 0, status;

    status =
        run_child(argv, NULL, true, "/nonexistent/work", &sr, &step, &errnum);
    EXPECT_EQ(sr, 0);
    EXPECT_EQ(step, AGENT_STEP_CHDIR);
    EXPECT_TRUE(WEXITSTATUS(status) == 127);
    EXPECT_TRUE(strstr(log_text(), "cannot enter its work dir") != NULL);
}

TEST(spawn_with_its_gate_closed_runs_nothing)
{
    char path[512];
    char *argv[] = {"/bin/sh", "-c", "", NULL};
    enum agent_exec_step step;
    int sr = -1, errnum, status;

    snprintf(path, sizeof(path), "touch %s/ran", dir);
    argv[2] = path;
    status = run_child(argv, NULL, false, NULL, &sr, &step, &errnum);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    EXPECT_EQ(sr, 1); /* closed empty: it never reached its exec */
    snprintf(path, sizeof(path), "%s/ran", dir);
    EXPECT_TRUE(access(path, F_OK) < 0);
    EXPECT_TRUE(strstr(log_text(), "not run") != NULL);
}

TEST(exit_codes_and_signals)
{
    int code, sig;
    pid_t pid = fork();
    int status;

    if (pid == 0) {
        pause();
        _exit(0);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    agent_proc_exit_code(status, &code, &sig);
    EXPECT_EQ(code, 137);
    EXPECT_EQ(sig, 9);
    agent_proc_exit_code(3 << 8, &code, &sig);
    EXPECT_EQ(code, 3);
    EXPECT_EQ(sig, 0);
    EXPECT_EQ(agent_proc_signal_group(1, 0), -1);
    EXPECT_EQ(agent_proc_signal_group(0, 0), -1);
}

TEST(reap_kills_what_the_leader_left_in_its_group)
{
    char *argv[] = {"/bin/sh", "-c", "sleep 1000 & echo $! > pid; exit 3",
                    NULL};
    struct agent_spawn s = {log_path,           dir,  NULL,
                            AGENT_DEFAULT_PATH, argv, argv + 3};
    struct agent_child c;
    char path[512], buf[32] = "";
    int pid = 0, status = 0, left = 0;
    FILE *f;

    EXPECT_EQ(agent_proc_spawn(&s, &c, err, sizeof(err)), 0);
    agent_proc_release(&c);
    close(c.status_fd);
    for (int i = 0; i < 500 && agent_proc_reap(&pid, &status) == 0; i++) {
        usleep(10000);
    }
    EXPECT_EQ(pid, c.pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 3);
    snprintf(path, sizeof(path), "%s/pid", dir);
    f = fopen(path, "r");
    EXPECT_TRUE(f != NULL && fgets(buf, sizeof(buf), f) != NULL);
    fclose(f);
    left = atoi(buf);
    for (int i = 0; i < 500 && kill(left, 0) == 0; i++) {
        usleep(10000); /* killed, now a zombie of init until reaped */
    }
    EXPECT_TRUE(!agent_proc_alive(left, 0));
    unlink(path);
    log_text();
}

TEST(cgroup_cpu_max_and_controller_lists)
{
    char buf[64];
    struct agent_cgroup cg;

    agent_cgroup_cpu_max(100, buf, sizeof(buf));
    EXPECT_STR(buf, "10000 100000");
    agent_cgroup_cpu_max(2500, buf, sizeof(buf));
    EXPECT_STR(buf, "250000 100000");
    agent_cgroup_cpu_max(1, buf, sizeof(buf));
    EXPECT_STR(buf, "1000 100000"); /* the kernel's least quota */
    EXPECT_TRUE(agent_cgroup_has_word("cpuset cpu io memory\n", "cpu"));
    EXPECT_TRUE(agent_cgroup_has_word("cpuset cpu io memory\n", "memory"));
    EXPECT_TRUE(!agent_cgroup_has_word("cpuset io memory", "cpu"));
    EXPECT_TRUE(!agent_cgroup_has_word("", "cpu"));
    agent_cgroup_open(&cg, dir, "edge-a"); /* a plain directory */
    EXPECT_TRUE(!cg.on);
    EXPECT_TRUE(strstr(cg.why, "is not a cgroup2 mount") != NULL);
    agent_cgroup_open(&cg, "/nonexistent", "edge-a");
    EXPECT_TRUE(!cg.on && strstr(cg.why, "No such file") != NULL);
    EXPECT_EQ(agent_cgroup_remove(&cg, "web.0"), 0); /* off: nothing to do */
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/varde-test-agent-proc-%d", (int)getpid());
    snprintf(log_path, sizeof(log_path), "%s/output.log", dir);
    mkdir(dir, 0700);
    RUN(stat_parses_names_with_spaces_and_big_fields);
    RUN(stat_of_this_process_and_of_none);
    RUN(spawn_runs_in_its_own_group_with_only_its_environment);
    RUN(spawn_reports_a_missing_program_and_exits_127);
    RUN(spawn_reports_a_program_it_may_not_run);
    RUN(spawn_reports_a_work_dir_it_cannot_enter);
    RUN(spawn_with_its_gate_closed_runs_nothing);
    RUN(exit_codes_and_signals);
    RUN(reap_kills_what_the_leader_left_in_its_group);
    RUN(cgroup_cpu_max_and_controller_lists);
    nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    DONE();
}
