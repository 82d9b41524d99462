/* ctl_flags.h - the command line of `varde controller`.
 *
 * Pure: ctl_flags_parse() reads only its arguments. --cpu and --memory-mb
 * override the site's capacity, which is otherwise the sum of its up
 * agents' (ctl_agents.h).
 */
#ifndef VARDE_CTL_FLAGS_H
#define VARDE_CTL_FLAGS_H

#include "util/addr.h"
#include "util/flags.h"
#include "util/labels.h"
#include "util/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTL_SITE_MAX FLAGS_NAME_MAX    /* bytes in a site name */
#define CTL_RAFT_MAX 9                 /* addresses in --raft */
#define CTL_CPU_MAX_MILLI 65536000ull  /* 65536 cores, the cluster's bound */
#define CTL_MEMORY_MAX_MB (1ull << 40) /* the cluster's bound */
#define CTL_HEARTBEAT_MIN_MS 10
#define CTL_HEARTBEAT_MAX_MS 60000
#define CTL_HEARTBEAT_DEFAULT_MS 1000
#define CTL_AGENT_TTL_MIN_MS 100
#define CTL_AGENT_TTL_MAX_MS 600000
#define CTL_AGENT_TTL_DEFAULT_MS 5000

struct ctl_opts {
    char site[CTL_SITE_MAX + 1];
    size_t n_labels;
    struct label labels[LABELS_MAX]; /* sorted by key, keys unique */
    size_t n_raft;
    struct addr raft[CTL_RAFT_MAX]; /* in the given order, no duplicate */
    struct addr listen;
    const char *data_dir; /* points into argv */
    uint64_t cpu_milli;   /* thousandths of a core; 0: the agents' sum */
    uint64_t memory_mb;   /* 0: the agents' sum */
    uint32_t heartbeat_ms;
    uint32_t agent_ttl_ms;  /* an agent silent this long is down */
    const char *token_file; /* points into argv; NULL: no token */
    enum log_level log_level;
};

/* Parse ARGV (ARGV[0] is "controller") into *OUT (util/flags.h says how
 * flags are taken; a flag given twice counts as its last). --site, --raft,
 * --listen and --data-dir are required. Every value is checked: the site
 * name (1..64 of a-z, 0-9, '-', '_', '.', starting with a letter or
 * digit), labels (NAME=VALUE,...), addresses, --cpu in cores to the
 * thousandth, --memory-mb, --heartbeat-interval and --agent-ttl as
 * durations ("500ms", "1s"), and --token-file as a path (read later, by
 * the daemon). */
enum flags_result ctl_flags_parse(int argc, char **argv, struct ctl_opts *out,
                                  char *err, size_t errlen);

/* The --help text. */
const char *ctl_flags_usage(void);

#endif
