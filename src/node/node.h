/* node.h - the raft node daemon: `varde raft`. */
#ifndef VARDE_NODE_H
#define VARDE_NODE_H

/* Run a raft node with the command-line arguments after "raft" (argv[0] is
 * "raft"). Returns the process exit status. */
int node_main(int argc, char **argv);

#endif
