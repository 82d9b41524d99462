/* node_main.c - placeholder until the daemon lands. */
#include "node/node.h"

#include <stdio.h>

int node_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "varde raft: not built yet\n");
    return 1;
}
