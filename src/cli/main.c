/* main.c - the varde binary: dispatch to a subcommand. */
#include "agent/agent.h"
#include "cli/commands.h"
#include "controller/controller.h"
#include "node/node.h"

#include <stdio.h>
#include <string.h>

#ifndef VARDE_VERSION
#define VARDE_VERSION "0.1.0-dev"
#endif

struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary; /* NULL: an alias, not listed */
};

static int help_main(int argc, char **argv);
static int version_main(int argc, char **argv);

static const struct command commands[] = {
    {"raft", node_main, "run a raft node (the control plane daemon)"},
    {"controller", controller_main,
     "run a site's local controller (the edge daemon)"},
    {"agent", agent_main, "run an agent on an edge machine (runs tasks)"},
    {"status", status_main, "the fleet: raft members, sites, jobs"},
    {"kv", kv_main, "read and write the key-value store: get, put, del"},
    {"job", job_main, "submit, list, inspect and stop jobs"},
    {"task", task_main, "list tasks and show their output"},
    {"demo", demo_main, "run a whole fleet on this machine, with a tour"},
    {"help", help_main, "this help, or a command's: varde help COMMAND"},
    {"version", version_main, "print the version"},
    {"--help", help_main, NULL},
    {"-h", help_main, NULL},
    {"--version", version_main, NULL},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static const struct command *command_find(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (strcmp(commands[i].name, name) == 0) {
            return &commands[i];
        }
    }
    return NULL;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: varde COMMAND [ARGS...]\n\n"
               "varde, a hierarchical edge orchestrator. Commands:\n\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (commands[i].summary != NULL) {
            fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].summary);
        }
    }
    fprintf(f, "\nRun 'varde COMMAND --help' for a command's options. The "
               "CLI talks to the\nnode at --addr or $VARDE_ADDR (default "
               "127.0.0.1:7101).\n");
}

/* `varde help [COMMAND]`: ours, or COMMAND's own --help. */
static int help_main(int argc, char **argv)
{
    const struct command *c = argc >= 2 ? command_find(argv[1]) : NULL;

    if (c != NULL && c->summary != NULL && c->run != help_main) {
        char *args[] = {argv[1], "--help", NULL};
        return c->run(2, args);
    }
    if (argc >= 2 && strcmp(argv[0], "help") == 0) {
        fprintf(stderr, "varde: unknown command '%s' (see varde --help)\n",
                argv[1]);
        return 2;
    }
    usage(stdout);
    return 0;
}

static int version_main(int argc, char **argv)
{
    printf("varde %s\n", VARDE_VERSION);
    return 0;
}

int main(int argc, char **argv)
{
    const struct command *c;

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    c = command_find(argv[1]);
    if (c == NULL) {
        fprintf(stderr, "varde: unknown command '%s' (see varde --help)\n",
                argv[1]);
        return 2;
    }
    return c->run(argc - 1, argv + 1);
}
