/* cli_util.c - small helpers the varde subcommands share. */
#include "cli/cli_util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *cli_default_addr(const char *addr)
{
    const char *env = getenv("VARDE_ADDR");

    if (addr != NULL) {
        return addr;
    }
    return env != NULL && env[0] != '\0' ? env : "127.0.0.1:7101";
}

bool cli_use_color(int fd)
{
    const char *no = getenv("NO_COLOR");

    return isatty(fd) && (no == NULL || no[0] == '\0');
}

int cli_usage_error(const char *cmd, int opt, char **argv)
{
    const char *arg = optind > 0 ? argv[optind - 1] : "?";

    if (opt == ':') {
        fprintf(stderr, "varde %s: %s needs a value (see varde %s --help)\n",
                cmd, arg, cmd);
    } else {
        fprintf(stderr, "varde %s: unknown option '%s' (see varde %s --help)\n",
                cmd, arg, cmd);
    }
    return 2;
}

int cli_no_more_args(const char *cmd, int argc, char **argv)
{
    if (optind >= argc) {
        return 0;
    }
    fprintf(stderr,
            "varde %s: unexpected argument '%s' (see varde %s --help)\n", cmd,
            argv[optind], cmd);
    return 2;
}
