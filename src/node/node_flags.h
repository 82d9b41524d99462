/* node_flags.h - the command line of `varde raft`. */
#ifndef VARDE_NODE_FLAGS_H
#define VARDE_NODE_FLAGS_H

#include "util/addr.h"
#include "util/log.h"
#include "util/peers.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct node_opts {
    uint64_t id;
    struct peers peers;
    const char *data_dir; /* points into argv */
    struct addr listen;   /* default: this node's address in peers */
    uint32_t election_min_ms;
    uint32_t election_max_ms;
    uint32_t heartbeat_ms;
    bool prevote;
    bool check_quorum;
    enum log_level log_level;
    uint64_t snapshot_entries; /* applied entries between snapshots */
    uint64_t snapshot_keep;    /* log entries kept behind a snapshot */
    uint32_t site_ttl_ms;      /* a site without heartbeats: silent */
    const char *token_file;    /* --token-file, or NULL */
};

enum node_flags_result {
    NODE_FLAGS_OK = 0,
    NODE_FLAGS_HELP = 1,   /* --help: print node_flags_usage() and exit 0 */
    NODE_FLAGS_ERROR = -1, /* a one-line reason in ERR; exit 2 */
};

/* Parse ARGV (ARGV[0] is "raft") into *OUT, checking every value and how
 * they fit together (--id among --peers, heartbeat below the election
 * timeout). Flags take "--flag VALUE" or "--flag=VALUE". */
enum node_flags_result node_flags_parse(int argc, char **argv,
                                        struct node_opts *out, char *err,
                                        size_t errlen);

/* The --help text. */
const char *node_flags_usage(void);

#endif
