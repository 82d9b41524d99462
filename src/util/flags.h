/* flags.h - a daemon's command line: "--flag VALUE" and "--flag=VALUE"
 * scanned against a table of handlers, and the values daemons share.
 *
 * Pure: nothing here reads more than its arguments, and only flags_exit()
 * writes (to stdout or stderr). Each daemon keeps its
 * table, its defaults and its --help text (agent_flags.c, ctl_flags.c,
 * node_flags.c); this module finds each flag, takes its value, names what
 * is missing, unknown or given twice, and checks the values they have in
 * common (names, durations, cores, MiB, addresses, paths, log levels), so
 * that the daemons word their refusals alike. Every refusal is one line
 * in ERR that names the flag.
 */
#ifndef VARDE_FLAGS_H
#define VARDE_FLAGS_H

#include "util/addr.h"
#include "util/labels.h"
#include "util/log.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLAGS_MAX 32      /* flags in one table */
#define FLAGS_NAME_MAX 64 /* bytes in a site or agent name */
#define FLAGS_REQUIRED 1u /* missing: refused */
#define FLAGS_NO_VALUE 2u /* a switch: its handler gets "" */

/* Store VALUE (a string of ARGV, which outlives OPTS) into OPTS, the
 * daemon's options. Returns 0, or -1 with a reason in ERR. */
typedef int (*flags_fn)(void *opts, const char *value, char *err,
                        size_t errlen);

struct flags_def {
    const char *name; /* without the leading "--" */
    flags_fn fn;
    unsigned mode; /* FLAGS_REQUIRED, FLAGS_NO_VALUE, or 0 */
};

struct flags_table {
    const char *command;          /* "agent": messages say "varde agent" */
    const struct flags_def *defs; /* N of them, at most FLAGS_MAX */
    size_t n;
    bool once; /* a flag given twice is refused; else the last one counts */
};

enum flags_result {
    FLAGS_OK = 0,
    FLAGS_HELP = 1,   /* --help or -h: print the usage text, exit 0 */
    FLAGS_ERROR = -1, /* a one-line reason in ERR; exit 2 */
};

/* Scan ARGV (ARGV[0] is the command) against T, calling each flag's
 * handler with OPTS in the order given. --help or -h anywhere wins over
 * every error. A required flag left out is refused after the scan (the
 * first in T's order is named). When GIVEN is not NULL, GIVEN[i] says
 * whether T->defs[i] was given. */
enum flags_result flags_parse(const struct flags_table *t, int argc,
                              char **argv, void *opts, bool *given, char *err,
                              size_t errlen);

/* What a daemon's main does with R, the result of its parse: FLAGS_HELP
 * prints USAGE on stdout and returns 0; FLAGS_ERROR prints "varde COMMAND:
 * ERR" on stderr and returns 2; FLAGS_OK returns -1: carry on. */
int flags_exit(enum flags_result r, const char *command, const char *usage,
               const char *err);

/* True when S is a valid site or agent name: 1..FLAGS_NAME_MAX of a-z,
 * 0-9, '-', '_', '.', starting with a letter or digit. */
bool flags_name_ok(const char *s);

/* The values of a flag named FLAG (without "--"): each checks V, stores it
 * in *OUT and returns 0, or returns -1 with a reason naming the flag in
 * ERR. */

/* A site or agent name (flags_name_ok) into OUT (FLAGS_NAME_MAX + 1
 * bytes). */
int flags_name(const char *flag, const char *v, char *out, char *err,
               size_t errlen);

/* An address, HOST:PORT (util/addr.h). */
int flags_addr(const char *flag, const char *v, struct addr *out, char *err,
               size_t errlen);

/* A path of 1 to MAX bytes (0: no bound); *OUT points at V. */
int flags_path(const char *flag, const char *v, size_t max, const char **out,
               char *err, size_t errlen);

/* Cores to the thousandth ("4", "0.5", "2.125"), more than 0 and at most
 * MAX_MILLI, in thousandths. */
int flags_cpu(const char *flag, const char *v, uint64_t max_milli,
              uint64_t *out, char *err, size_t errlen);

/* MiB, 1 to MAX. */
int flags_memory_mb(const char *flag, const char *v, uint64_t max,
                    uint64_t *out, char *err, size_t errlen);

/* A duration (flags_parse_duration) from MIN_MS to MAX_MS, in ms; a
 * refusal says "expected a duration WHICH" ("from 10ms to 60s, such as
 * \"1s\""). */
int flags_duration(const char *flag, const char *v, uint32_t min_ms,
                   uint32_t max_ms, const char *which, uint32_t *out, char *err,
                   size_t errlen);

/* A label list, "K=V,K2=V2" (labels_parse), into LABELS and *N. */
int flags_labels(const char *flag, const char *v, struct label *labels,
                 size_t *n, char *err, size_t errlen);

/* A log level: debug, info, warn or error. */
int flags_log_level(const char *flag, const char *v, enum log_level *out,
                    char *err, size_t errlen);

/* Parse a duration: 1 to 12 digits, then one unit of ms, s, m or h,
 * nothing else ("500ms", "30s"). Returns 0 with milliseconds in *OUT, or
 * -1. */
int flags_parse_duration(const char *s, uint64_t *out);

/* Parse a size in bytes: 1 to 10 digits, then nothing or one of K, M, G
 * (powers of 1024: "4096", "64K", "1M"). Returns 0 with bytes in *OUT, or
 * -1. */
int flags_parse_bytes(const char *s, uint64_t *out);

#endif
