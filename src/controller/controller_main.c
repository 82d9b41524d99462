/* controller_main.c - `varde controller`: being written; refuses to run. */
#include "controller/controller.h"

#include <stdio.h>

int controller_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "varde controller: not available in this build\n");
    return 1;
}
