/* commands.h - the varde subcommands that live in src/cli, one per file.
 *
 * Each takes the arguments after "varde" (argv[0] is the subcommand's name)
 * and returns the process exit status: 0 done, 1 failed, 2 bad usage.
 */
#ifndef VARDE_COMMANDS_H
#define VARDE_COMMANDS_H

/* `varde status`: the raft members, their roles, and the leader. */
int status_main(int argc, char **argv);

/* `varde kv get|put|del`: the cluster's key-value store. */
int kv_main(int argc, char **argv);

/* `varde job run|ls|status|stop`: the cluster's jobs. */
int job_main(int argc, char **argv);

/* `varde task logs|ls`: a task's output, and the fleet's tasks. */
int task_main(int argc, char **argv);

/* `varde demo`: a whole fleet on this machine (3 raft nodes, 2 sites,
 * 4 agents), with a tour. */
int demo_main(int argc, char **argv);

#endif
