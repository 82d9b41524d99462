/* cli_util.h - small helpers the varde subcommands share. */
#ifndef VARDE_CLI_UTIL_H
#define VARDE_CLI_UTIL_H

#include <stdbool.h>

/* The node the CLI talks to: ADDR when given, else $VARDE_ADDR when set and
 * not empty, else 127.0.0.1:7101. */
const char *cli_default_addr(const char *addr);

/* True when FD should get ANSI colours: it is a terminal and NO_COLOR is
 * unset or empty. */
bool cli_use_color(int fd);

/* After getopt_long() (with opterr = 0 and an optstring starting with ":")
 * returned OPT '?' or ':', print one line naming the bad option of `varde
 * CMD` to stderr. Returns 2, the exit status for bad usage. */
int cli_usage_error(const char *cmd, int opt, char **argv);

/* When arguments are left after the options, print one line about the first
 * to stderr and return 2; else return 0. */
int cli_no_more_args(const char *cmd, int argc, char **argv);

#endif
