/* cli_util.c - small helpers the varde subcommands share. */
#include "cli/cli_util.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* The name of entry I of a subcommand table. */
static const char *sub_name(const void *subs, size_t stride, size_t i)
{
    return *(const char *const *)((const char *)subs + i * stride);
}

long cli_find_sub(const char *group, const char *usage, const void *subs,
                  size_t n, size_t stride, int argc, char **argv, int *rc)
{
    const char *name = argc >= 2 ? argv[1] : NULL;
    char known[256];
    size_t used = 0;

    *rc = 2;
    if (name == NULL) {
        fputs(usage, stderr);
        return -1;
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
        strcmp(name, "help") == 0) {
        fputs(usage, stdout);
        *rc = 0;
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (strcmp(name, sub_name(subs, stride, i)) == 0) {
            return (long)i;
        }
    }
    known[0] = '\0';
    for (size_t i = 0; i < n && used < sizeof(known); i++) {
        int w = snprintf(known + used, sizeof(known) - used, "%s%s",
                         i == 0       ? ""
                         : i + 1 == n ? " or "
                                      : ", ",
                         sub_name(subs, stride, i));

        used += w > 0 ? (size_t)w : 0;
    }
    fprintf(stderr,
            "varde %s: unknown command '%s' (%s; see varde %s --help)\n", group,
            name, known, group);
    return -1;
}
