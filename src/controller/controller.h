/* controller.h - the local controller daemon: `varde controller`. */
#ifndef VARDE_CONTROLLER_H
#define VARDE_CONTROLLER_H

/* Run a site's local controller with the command-line arguments after
 * "controller" (argv[0] is "controller"). Returns the process exit status. */
int controller_main(int argc, char **argv);

#endif
