/* agent_flags.h - the command line of `varde agent`.
 *
 * Pure: agent_flags_parse() reads only its arguments. The machine's own
 * capacity, the default of --cpu and --memory-mb, comes from agent_sys.h.
 */
#ifndef VARDE_AGENT_FLAGS_H
#define VARDE_AGENT_FLAGS_H

#include "util/addr.h"
#include "util/flags.h"
#include "util/labels.h"
#include "util/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define AGENT_NAME_MAX FLAGS_NAME_MAX /* bytes in an agent name */
#define AGENT_DATA_DIR_MAX 2048       /* bytes in --data-dir: paths below fit */
#define AGENT_CPU_MAX_MILLI 65536000ull  /* 65536 cores */
#define AGENT_MEMORY_MAX_MB (1ull << 40) /* the cluster's bound */
#define AGENT_HEARTBEAT_MIN_MS 10
#define AGENT_HEARTBEAT_MAX_MS 60000
#define AGENT_HEARTBEAT_DEFAULT_MS 1000
#define AGENT_LOG_MAX_MIN 4096
#define AGENT_LOG_MAX_MAX (1ull << 30)
#define AGENT_LOG_MAX_DEFAULT (1ull << 20)

struct agent_opts {
    char name[AGENT_NAME_MAX + 1];
    struct addr controller;
    struct addr listen;
    const char *data_dir;   /* points into argv */
    const char *token_file; /* points into argv; NULL: no token */
    size_t n_labels;
    struct label labels[LABELS_MAX]; /* sorted by key, unique */
    uint64_t cpu_milli;              /* thousandths of a core; 0: not given */
    uint64_t memory_mb;              /* 0: not given */
    uint32_t heartbeat_ms;           /* --heartbeat-interval */
    uint64_t log_max_bytes;          /* --log-max-bytes, per task */
    enum log_level log_level;
};

/* Parse ARGV (ARGV[0] is "agent") into *OUT (util/flags.h says how flags
 * are taken). Each flag may be given once; --name, --controller, --listen
 * and --data-dir are required. Every value is checked: the name (1..64 of
 * a-z, 0-9, '-', '_', '.', starting with a letter or digit), labels
 * (NAME=VALUE,...), addresses, --cpu in cores to the thousandth,
 * --memory-mb, --heartbeat-interval as a duration from 10ms to 60s,
 * --log-max-bytes from 4096 to 2^30 (a K, M or G suffix is fine),
 * --token-file as a path (read later, by the daemon). */
enum flags_result agent_flags_parse(int argc, char **argv,
                                    struct agent_opts *out, char *err,
                                    size_t errlen);

/* The --help text. */
const char *agent_flags_usage(void);

#endif
