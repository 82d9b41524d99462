/* node_flags.h - the command line of `varde raft`. */
#ifndef VARDE_NODE_FLAGS_H
#define VARDE_NODE_FLAGS_H

#include "util/addr.h"
#include "util/flags.h"
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

/* Parse ARGV (ARGV[0] is "raft") into *OUT (util/flags.h says how flags
 * are taken; a flag given twice counts as its last), checking every value
 * and how they fit together (--id among --peers, heartbeat below the
 * election timeout). */
enum flags_result node_flags_parse(int argc, char **argv, struct node_opts *out,
                                   char *err, size_t errlen);

/* The --help text. */
const char *node_flags_usage(void);

#endif
