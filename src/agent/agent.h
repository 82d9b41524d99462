/* agent.h - the agent daemon, one per edge machine: `varde agent`. */
#ifndef VARDE_AGENT_H
#define VARDE_AGENT_H

/* Run an agent with the command-line arguments after "agent" (argv[0] is
 * "agent"). Returns the process exit status. */
int agent_main(int argc, char **argv);

#endif
