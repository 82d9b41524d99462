/* main.c - the varde binary: dispatch to a subcommand. */
#include "node/node.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "raft") == 0) {
        return node_main(argc - 1, argv + 1);
    }
    fprintf(stderr, "usage: varde raft|status ...\n");
    return 2;
}
