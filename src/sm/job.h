/* job.h - jobs: the job file format, its strict validation, its encoding.
 *
 * A job is what a user submits: the desired state, versioned. This module
 * turns the JSON of a job file into a struct job, refusing anything wrong
 * with a one-line message that names the field ("count: must be 1..10000,
 * got 0"), and turns a struct job back into JSON, both for the API and for
 * log entries. Pure: no I/O, no clock; sites are checked against the
 * replicated state by the caller, through job_check_sites. docs/jobs.md
 * describes the format field by field.
 *
 * Log entries hold job_encode's output: compact JSON with every field
 * present (defaults written out), objects' keys sorted, durations in their
 * largest exact unit and cpu in at most 10 significant digits. cpu is kept
 * as a multiple of 0.001 cores, so that decimal text carries it exactly.
 * job_parse_json reads it back to an identical job, and job_encode of that
 * gives the same bytes. The log is forever: bounds may be loosened in later
 * versions, never tightened. */
#ifndef VARDE_SM_JOB_H
#define VARDE_SM_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOB_MAX_TEXT (512u * 1024) /* a job file, and an encoded job */
#define JOB_MAX_ID 64
#define JOB_MAX_COUNT 10000
#define JOB_MAX_ARGS 64
#define JOB_MAX_ARG 4096 /* bytes in one argument */
#define JOB_MAX_ENV 128
#define JOB_MAX_ENV_NAME 128
#define JOB_MAX_ENV_VALUE 4096
#define JOB_MAX_CPU 1024             /* cores */
#define JOB_MAX_MEMORY_MB (1u << 20) /* 1 TiB */
#define JOB_MAX_SITES 64
#define JOB_MAX_SITE 64 /* bytes in a site name */
#define JOB_MAX_LABELS 64
#define JOB_MAX_LABEL_KEY 64
#define JOB_MAX_LABEL_VALUE 256
#define JOB_MAX_ATTEMPTS 1000
#define JOB_MAX_DURATION_MS (24ull * 3600 * 1000)
#define JOB_MAX_VERSION (1ull << 53) /* exact in every JSON reader */

/* Defaults for what a job file leaves out. */
#define JOB_DEFAULT_COUNT 1
#define JOB_DEFAULT_CPU 0.1
#define JOB_DEFAULT_MEMORY_MB 64
#define JOB_DEFAULT_ATTEMPTS 3
#define JOB_DEFAULT_INTERVAL_MS 60000
#define JOB_DEFAULT_DELAY_MS 1000
#define JOB_DEFAULT_KILL_TIMEOUT_MS 5000

/* Dump job_to_json's result with these flags to print cpu exactly and
 * readably (jansson's default of 17 digits shows 0.1 as 0.10000000000000001).
 */
#define JOB_JSON_REAL_FLAGS JSON_REAL_PRECISION(10)

enum job_error {
    JOB_OK = 0,
    JOB_ERR_INVALID = -1,   /* bad input: a 400 */
    JOB_ERR_TOO_LARGE = -2, /* over JOB_MAX_TEXT: a 413 */
    JOB_ERR_NO_MEMORY = -3,
};

enum job_type {
    JOB_SERVICE = 0, /* keep count tasks running */
    JOB_BATCH = 1,   /* run count tasks to completion */
    JOB_SYSTEM = 2,  /* one task on every agent that matches */
};

/* A name and a value: an environment variable, or a label. */
struct job_pair {
    char *name;
    char *value;
};

struct job_restart {
    uint32_t attempts;    /* restarts allowed within one interval; 0: none */
    uint64_t interval_ms; /* the window attempts are counted in, > 0 */
    uint64_t delay_ms;    /* wait before each restart */
};

/* A parsed, valid job. Every pointer is owned by the job (job_free). */
struct job {
    char id[JOB_MAX_ID + 1];
    enum job_type type;
    uint32_t count; /* 1..JOB_MAX_COUNT; 0 for a system job */
    size_t argc;    /* 1..JOB_MAX_ARGS */
    char **argv;    /* argc strings, then NULL; argv[0] is not empty */
    size_t n_env;
    struct job_pair *env; /* sorted by name, names unique */
    double cpu;           /* cores, a multiple of 0.001, > 0 */
    uint32_t memory_mb;
    size_t n_sites; /* 0: any site */
    char **sites;   /* in the file's order, unique */
    size_t n_labels;
    struct job_pair *labels; /* sorted by name; 0 labels: no constraint */
    struct job_restart restart;
    uint64_t reschedule_after_ms; /* 0: a silent site keeps its tasks */
    uint64_t kill_timeout_ms;     /* SIGTERM, then SIGKILL after this */
    uint64_t version;             /* set by the cluster; 0 before */
};

/* Parse LEN bytes of TEXT (a job file, or job_encode's output) into a new
 * job in *OUT, owned by the caller (job_free). Strict: unknown fields, wrong
 * types and values out of bounds are refused; fields left out get their
 * defaults. Returns JOB_OK; or JOB_ERR_INVALID, JOB_ERR_TOO_LARGE (TEXT over
 * JOB_MAX_TEXT, or a job that would encode to more) or JOB_ERR_NO_MEMORY,
 * with a one-line reason in ERR that names the field ("restart.delay:
 * ...", "unknown field \"x\"") or the place of a JSON syntax error, and
 * *OUT untouched. */
int job_parse_json(const char *text, size_t len, struct job **out, char *err,
                   size_t errlen);

/* The job as a JSON object, in the job file format with every field
 * present except those whose absence means something: count for a system
 * job, sites and labels when empty, reschedule_after when 0. A new
 * reference, or NULL out of memory. */
json_t *job_to_json(const struct job *job);

/* The job's encoding for a log entry: compact JSON (see the top of this
 * file) in a malloc'ed buffer the caller frees, its length in *LEN, with a
 * NUL after it. NULL out of memory. */
char *job_encode(const struct job *job, size_t *len);

/* Check every site JOB names with KNOWN(ARG, site). Returns JOB_OK, or
 * JOB_ERR_INVALID with the first unknown site named in ERR. */
int job_check_sites(const struct job *job,
                    bool (*known)(void *arg, const char *site), void *arg,
                    char *err, size_t errlen);

/* Whether A and B ask for the same thing: every field equal but version.
 * An update whose job is the same spec need not make a new version. */
bool job_spec_equal(const struct job *a, const struct job *b);

/* "service", "batch" or "system". */
const char *job_type_name(enum job_type type);

/* Free JOB and everything it owns. NULL is fine. */
void job_free(struct job *job);

#endif
