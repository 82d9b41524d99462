/* agent_main.c - `varde agent`: being written; refuses to run. */
#include "agent/agent.h"

#include <stdio.h>

int agent_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "varde agent: not available in this build\n");
    return 1;
}
