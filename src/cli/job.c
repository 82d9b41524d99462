/* job.c - `varde job`: being written; refuses to run. */
#include "cli/commands.h"

#include <stdio.h>

int job_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "varde job: not available in this build\n");
    return 1;
}
