/* status.c - `varde status`: who is in the raft cluster and who leads. */
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "cli/http_client.h"
#include "cli/members.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define STATUS_ASK_MS 2000
#define STATUS_PEER_MS 1000

static const char status_usage[] =
    "usage: varde status [--addr HOST:PORT] [--json]\n"
    "\n"
    "Ask a raft node for its status, then every peer it knows, and print\n"
    "the members: id, address, role, term, commit index, and a '*' on the\n"
    "leader. A peer that does not answer shows as unreachable.\n"
    "\n"
    "  --addr HOST:PORT  the node to ask (default: $VARDE_ADDR, else\n"
    "                    127.0.0.1:7101)\n"
    "  --json            print {\"members\":[...],\"leader\":N} instead\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 when the node answered, 1 when it did not, 2 on bad\n"
    "usage.\n";

static int status_print(const struct members *ms, bool json)
{
    if (json) {
        char *s = members_json(ms);

        if (s == NULL) {
            fprintf(stderr, "varde status: out of memory\n");
            return 1;
        }
        printf("%s\n", s);
        free(s);
        return 0;
    }
    members_print(stdout, ms, cli_use_color(STDOUT_FILENO));
    return 0;
}

int status_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"addr", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *addr = NULL;
    bool json = false;
    char host[256], port[8], why[128], err[512];
    struct members *ms;
    int opt, rc;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            addr = optarg;
            break;
        case 'j':
            json = true;
            break;
        case 'h':
            fputs(status_usage, stdout);
            return 0;
        default:
            return cli_usage_error("status", opt, argv);
        }
    }
    if (cli_no_more_args("status", argc, argv) != 0) {
        return 2;
    }

    addr = cli_default_addr(addr);
    if (http_split_addr(addr, host, sizeof host, port, sizeof port, why,
                        sizeof why) < 0) {
        fprintf(stderr, "varde status: bad address '%s': %s\n", addr, why);
        return 2;
    }

    ms = calloc(1, sizeof *ms);
    if (ms == NULL) {
        fprintf(stderr, "varde status: out of memory\n");
        return 1;
    }
    if (members_fetch(addr, STATUS_ASK_MS, STATUS_PEER_MS, ms, err,
                      sizeof err) < 0) {
        fprintf(stderr, "varde status: %s\n", err);
        free(ms);
        return 1;
    }
    rc = status_print(ms, json);
    free(ms);
    return rc;
}
