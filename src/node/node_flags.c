/* node_flags.c - the flags of `varde raft`: a table of handlers for
 * util/flags.h, the defaults, how they fit together and the --help text
 * (node_flags.h). */
#include "node/node_flags.h"

#include "util/err.h"

#include <stdio.h>
#include <string.h>

#define NODE_MS_MAX 600000 /* ten minutes: anything above is a typo */
#define NODE_COUNT_MAX 1000000000ull

/* A decimal number of milliseconds, 1..NODE_MS_MAX, all of S. */
static int parse_ms(const char *s, size_t n, uint32_t *out)
{
    uint32_t v = 0;

    if (n == 0 || n > 6) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (uint32_t)(s[i] - '0');
    }
    if (v < 1 || v > NODE_MS_MAX) {
        return -1;
    }
    *out = v;
    return 0;
}

static int flag_id(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    char why[128];

    if (peers_parse_id(v, &o->id, why, sizeof(why)) < 0) {
        return err_fail(err, errlen, "--id: %s", why);
    }
    return 0;
}

static int flag_peers(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    return peers_parse(v, &o->peers, err, errlen);
}

static int flag_data_dir(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    return flags_path("data-dir", v, 0, &o->data_dir, err, errlen);
}

static int flag_listen(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    return flags_addr("listen", v, &o->listen, err, errlen);
}

static int flag_election(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    const char *dash = strchr(v, '-');

    if (dash == NULL || parse_ms(v, (size_t)(dash - v), &o->election_min_ms) ||
        parse_ms(dash + 1, strlen(dash + 1), &o->election_max_ms)) {
        return err_fail(err, errlen,
                        "--election-timeout \"%s\": expected MIN-MAX in "
                        "milliseconds, e.g. 150-300",
                        v);
    }
    if (o->election_min_ms >= o->election_max_ms) {
        return err_fail(err, errlen,
                        "--election-timeout \"%s\": MIN must be below MAX", v);
    }
    return 0;
}

static int flag_heartbeat(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    if (parse_ms(v, strlen(v), &o->heartbeat_ms) < 0) {
        return err_fail(err, errlen,
                        "--heartbeat-interval \"%s\": expected milliseconds, "
                        "1 to %d",
                        v, NODE_MS_MAX);
    }
    return 0;
}

static int flag_site_ttl(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    if (parse_ms(v, strlen(v), &o->site_ttl_ms) < 0 || o->site_ttl_ms < 100) {
        return err_fail(err, errlen,
                        "--site-ttl \"%s\": expected milliseconds, 100 to %d",
                        v, NODE_MS_MAX);
    }
    return 0;
}

static int flag_no_prevote(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    (void)v, (void)err, (void)errlen;
    o->prevote = false;
    return 0;
}

static int flag_no_check_quorum(void *opts, const char *v, char *err,
                                size_t errlen)
{
    struct node_opts *o = opts;

    (void)v, (void)err, (void)errlen;
    o->check_quorum = false;
    return 0;
}

static int flag_token_file(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    return flags_path("token-file", v, 0, &o->token_file, err, errlen);
}

static int flag_log_level(void *opts, const char *v, char *err, size_t errlen)
{
    struct node_opts *o = opts;

    return flags_log_level("log-level", v, &o->log_level, err, errlen);
}

/* A decimal count, all of V, in MIN..NODE_COUNT_MAX. */
static int parse_count(const char *v, uint64_t min, uint64_t *out)
{
    uint64_t n = 0;
    size_t len = strlen(v);

    if (len == 0 || len > 10) {
        return -1;
    }
    for (size_t i = 0; i < len; i++) {
        if (v[i] < '0' || v[i] > '9') {
            return -1;
        }
        n = n * 10 + (uint64_t)(v[i] - '0');
    }
    if (n < min || n > NODE_COUNT_MAX) {
        return -1;
    }
    *out = n;
    return 0;
}

static int flag_snapshot_entries(void *opts, const char *v, char *err,
                                 size_t errlen)
{
    struct node_opts *o = opts;

    if (parse_count(v, 1, &o->snapshot_entries) < 0) {
        return err_fail(err, errlen,
                        "--snapshot-entries \"%s\": expected a count, 1 to "
                        "%llu",
                        v, NODE_COUNT_MAX);
    }
    return 0;
}

static int flag_snapshot_keep(void *opts, const char *v, char *err,
                              size_t errlen)
{
    struct node_opts *o = opts;

    if (parse_count(v, 0, &o->snapshot_keep) < 0) {
        return err_fail(err, errlen,
                        "--snapshot-keep \"%s\": expected a count, 0 to "
                        "%llu",
                        v, NODE_COUNT_MAX);
    }
    return 0;
}

enum { NODE_FLAG_LISTEN = 3 }; /* its index in node_flag_defs */

static const struct flags_def node_flag_defs[] = {
    {"id", flag_id, FLAGS_REQUIRED},
    {"peers", flag_peers, FLAGS_REQUIRED},
    {"data-dir", flag_data_dir, FLAGS_REQUIRED},
    [NODE_FLAG_LISTEN] = {"listen", flag_listen, 0},
    {"election-timeout", flag_election, 0},
    {"heartbeat-interval", flag_heartbeat, 0},
    {"no-prevote", flag_no_prevote, FLAGS_NO_VALUE},
    {"no-check-quorum", flag_no_check_quorum, FLAGS_NO_VALUE},
    {"log-level", flag_log_level, 0},
    {"snapshot-entries", flag_snapshot_entries, 0},
    {"snapshot-keep", flag_snapshot_keep, 0},
    {"site-ttl", flag_site_ttl, 0},
    {"token-file", flag_token_file, 0},
};

#define NODE_N_FLAGS (sizeof(node_flag_defs) / sizeof(node_flag_defs[0]))

/* A flag given twice counts as its last, as it always has for `varde
 * raft` (the agent refuses it): scripts append overrides. */
static const struct flags_table node_flag_table = {"raft", node_flag_defs,
                                                   NODE_N_FLAGS, false};

const char *node_flags_usage(void)
{
    return "usage: varde raft --id N --peers ID=HOST:PORT,... --data-dir DIR "
           "[options]\n"
           "\n"
           "Run one node of the raft cluster (3 to 5 nodes).\n"
           "\n"
           "  --id N                     this node's id, one of --peers\n"
           "  --peers 1=H:P,2=H:P,...    every member, this node included\n"
           "  --data-dir DIR             term, vote, log and snapshots "
           "(created if\n"
           "                             missing)\n"
           "  --listen HOST:PORT         default: this node's --peers "
           "address\n"
           "  --election-timeout MIN-MAX milliseconds (default 150-300)\n"
           "  --heartbeat-interval MS    milliseconds (default 50)\n"
           "  --no-prevote               campaign without asking first\n"
           "  --no-check-quorum          a leader never steps down by itself\n"
           "  --log-level LEVEL          debug, info, warn, error "
           "(default info)\n"
           "  --snapshot-entries N       snapshot the state every N applied "
           "entries\n"
           "                             (default 10000)\n"
           "  --snapshot-keep N          log entries kept behind a snapshot, "
           "for\n"
           "                             followers a little behind (default "
           "1000)\n"
           "  --site-ttl MS              a site without a heartbeat for this "
           "long is\n"
           "                             declared silent (default 10000)\n"
           "  --token-file PATH          require the token in PATH on every "
           "request,\n"
           "                             and send it to the other nodes\n"
           "  --help                     this text\n";
}

/* How the flags fit together, once all are read. */
static int node_flags_check(struct node_opts *o, bool listen_given, char *err,
                            size_t errlen)
{
    const struct addr *self;

    if (peers_check_member(&o->peers, o->id, err, errlen) < 0) {
        return -1;
    }
    self = peers_find(&o->peers, o->id);
    if (!listen_given) {
        o->listen = *self;
    }
    if (o->heartbeat_ms >= o->election_min_ms) {
        return err_fail(err, errlen,
                        "--heartbeat-interval %u ms must be below the "
                        "election timeout minimum %u ms",
                        o->heartbeat_ms, o->election_min_ms);
    }
    return 0;
}

enum flags_result node_flags_parse(int argc, char **argv, struct node_opts *out,
                                   char *err, size_t errlen)
{
    bool given[NODE_N_FLAGS];
    enum flags_result rc;

    memset(out, 0, sizeof(*out));
    out->election_min_ms = 150;
    out->election_max_ms = 300;
    out->heartbeat_ms = 50;
    out->prevote = true;
    out->check_quorum = true;
    out->log_level = LOG_INFO;
    out->snapshot_entries = 10000;
    out->snapshot_keep = 1000;
    out->site_ttl_ms = 10000;
    rc = flags_parse(&node_flag_table, argc, argv, out, given, err, errlen);
    if (rc != FLAGS_OK) {
        return rc;
    }
    if (node_flags_check(out, given[NODE_FLAG_LISTEN], err, errlen) < 0) {
        return FLAGS_ERROR;
    }
    return FLAGS_OK;
}
