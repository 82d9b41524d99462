/* cli_util.h - small helpers the varde subcommands share. */
#ifndef VARDE_CLI_UTIL_H
#define VARDE_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>

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

/* `varde GROUP SUB ...`: find SUB (argv[1]) in a table of N entries of
 * STRIDE bytes from SUBS, each starting with its name (a const char *).
 * Returns its position; or -1 with *RC the exit status, after printing
 * USAGE (to stdout for --help, -h or help: 0; to stderr when SUB is
 * missing: 2) or one line naming the unknown SUB and the known ones (2). */
long cli_find_sub(const char *group, const char *usage, const void *subs,
                  size_t n, size_t stride, int argc, char **argv, int *rc);

#endif
