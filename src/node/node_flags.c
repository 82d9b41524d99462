/* node_flags.c - parse and check the flags of `varde raft`, from a table. */
#include "node/node_flags.h"
#include "util/err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NODE_MS_MAX 600000 /* ten minutes: anything above is a typo */
#define NODE_COUNT_MAX 1000000000ull

struct node_flags_seen {
    bool id, peers, data_dir, listen;
};

typedef int (*node_flag_fn)(struct node_opts *o, const char *value,
                            struct node_flags_seen *seen, char *err,
                            size_t errlen);

struct node_flag {
    const char *name;
    bool takes_value;
    node_flag_fn fn;
};

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

static int flag_id(struct node_opts *o, const char *v,
                   struct node_flags_seen *seen, char *err, size_t errlen)
{
    char why[128];

    if (peers_parse_id(v, &o->id, why, sizeof(why)) < 0) {
        return err_fail(err, errlen, "--id: %s", why);
    }
    seen->id = true;
    return 0;
}

static int flag_peers(struct node_opts *o, const char *v,
                      struct node_flags_seen *seen, char *err, size_t errlen)
{
    seen->peers = true;
    return peers_parse(v, &o->peers, err, errlen);
}

static int flag_data_dir(struct node_opts *o, const char *v,
                         struct node_flags_seen *seen, char *err, size_t errlen)
{
    if (v[0] == '\0') {
        return err_fail(err, errlen, "--data-dir: empty path");
    }
    o->data_dir = v;
    seen->data_dir = true;
    return 0;
}

static int flag_listen(struct node_opts *o, const char *v,
                       struct node_flags_seen *seen, char *err, size_t errlen)
{
    char why[200];

    if (addr_parse(v, &o->listen, why, sizeof(why)) < 0) {
        return err_fail(err, errlen, "--listen: %s", why);
    }
    seen->listen = true;
    return 0;
}

static int flag_election(struct node_opts *o, const char *v,
                         struct node_flags_seen *seen, char *err, size_t errlen)
{
    const char *dash = strchr(v, '-');

    (void)seen;
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

static int flag_heartbeat(struct node_opts *o, const char *v,
                          struct node_flags_seen *seen, char *err,
                          size_t errlen)
{
    (void)seen;
    if (parse_ms(v, strlen(v), &o->heartbeat_ms) < 0) {
        return err_fail(err, errlen,
                        "--heartbeat-interval \"%s\": expected milliseconds, "
                        "1 to %d",
                        v, NODE_MS_MAX);
    }
    return 0;
}

static int flag_site_ttl(struct node_opts *o, const char *v,
                         struct node_flags_seen *seen, char *err, size_t errlen)
{
    (void)seen;
    if (parse_ms(v, strlen(v), &o->site_ttl_ms) < 0 || o->site_ttl_ms < 100) {
        return err_fail(err, errlen,
                        "--site-ttl \"%s\": expected milliseconds, 100 to %d",
                        v, NODE_MS_MAX);
    }
    return 0;
}

static int flag_token_file(struct node_opts *o, const char *v,
                           struct node_flags_seen *seen, char *err,
                           size_t errlen)
{
    (void)seen;
    if (v[0] == '\0') {
        return err_fail(err, errlen, "--token-file: expected a path");
    }
    o->token_file = v;
    return 0;
}

static int flag_no_prevote(struct node_opts *o, const char *v,
                           struct node_flags_seen *seen, char *err,
                           size_t errlen)
{
    (void)v, (void)seen, (void)err, (void)errlen;
    o->prevote = false;
    return 0;
}

static int flag_no_check_quorum(struct node_opts *o, const char *v,
                                struct node_flags_seen *seen, char *err,
                                size_t errlen)
{
    (void)v, (void)seen, (void)err, (void)errlen;
    o->check_quorum = false;
    return 0;
}

static int flag_log_level(struct node_opts *o, const char *v,
                          struct node_flags_seen *seen, char *err,
                          size_t errlen)
{
    (void)seen;
    if (log_parse_level(v, &o->log_level) < 0) {
        return err_fail(err, errlen,
                        "--log-level \"%s\": expected debug, info, warn or "
                        "error",
                        v);
    }
    return 0;
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

static int flag_snapshot_entries(struct node_opts *o, const char *v,
                                 struct node_flags_seen *seen, char *err,
                                 size_t errlen)
{
    (void)seen;
    if (parse_count(v, 1, &o->snapshot_entries) < 0) {
        return err_fail(err, errlen,
                        "--snapshot-entries \"%s\": expected a count, 1 to "
                        "%llu",
                        v, NODE_COUNT_MAX);
    }
    return 0;
}

static int flag_snapshot_keep(struct node_opts *o, const char *v,
                              struct node_flags_seen *seen, char *err,
                              size_t errlen)
{
    (void)seen;
    if (parse_count(v, 0, &o->snapshot_keep) < 0) {
        return err_fail(err, errlen,
                        "--snapshot-keep \"%s\": expected a count, 0 to "
                        "%llu",
                        v, NODE_COUNT_MAX);
    }
    return 0;
}

static const struct node_flag node_flags[] = {
    {"id", true, flag_id},
    {"peers", true, flag_peers},
    {"data-dir", true, flag_data_dir},
    {"listen", true, flag_listen},
    {"election-timeout", true, flag_election},
    {"heartbeat-interval", true, flag_heartbeat},
    {"no-prevote", false, flag_no_prevote},
    {"no-check-quorum", false, flag_no_check_quorum},
    {"log-level", true, flag_log_level},
    {"snapshot-entries", true, flag_snapshot_entries},
    {"snapshot-keep", true, flag_snapshot_keep},
    {"site-ttl", true, flag_site_ttl},
    {"token-file", true, flag_token_file},
};

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

static const struct node_flag *flag_find(const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof(node_flags) / sizeof(node_flags[0]); i++) {
        if (strlen(node_flags[i].name) == n &&
            strncmp(node_flags[i].name, name, n) == 0) {
            return &node_flags[i];
        }
    }
    return NULL;
}

/* Parse the flag at ARGV[*I], taking its value from the next word if it has
 * no "=VALUE"; advances *I past what it used. */
static int flag_one(int argc, char **argv, int *i, struct node_opts *o,
                    struct node_flags_seen *seen, char *err, size_t errlen)
{
    const char *arg = argv[*i];
    const char *eq, *value = NULL;
    const struct node_flag *f;
    size_t n;

    if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
        return err_fail(err, errlen,
                        "unexpected argument \"%s\" (see "
                        "varde raft --help)",
                        arg);
    }
    eq = strchr(arg + 2, '=');
    n = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
    value = eq ? eq + 1 : NULL;
    f = flag_find(arg + 2, n);
    if (f == NULL) {
        return err_fail(err, errlen,
                        "unknown flag \"%.*s\" (see varde raft --help)",
                        (int)(n + 2), arg);
    }
    if (!f->takes_value && value != NULL) {
        return err_fail(err, errlen, "--%s takes no value", f->name);
    }
    if (f->takes_value && value == NULL) {
        if (*i + 1 >= argc) {
            return err_fail(err, errlen, "--%s needs a value", f->name);
        }
        value = argv[++*i];
    }
    return f->fn(o, value ? value : "", seen, err, errlen);
}

/* How the flags fit together, once all are read. */
static int flags_check(struct node_opts *o, const struct node_flags_seen *seen,
                       char *err, size_t errlen)
{
    const struct addr *self;

    if (!seen->id || !seen->peers || !seen->data_dir) {
        return err_fail(err, errlen, "missing %s (see varde raft --help)",
                        !seen->id      ? "--id"
                        : !seen->peers ? "--peers"
                                       : "--data-dir");
    }
    if (peers_check_member(&o->peers, o->id, err, errlen) < 0) {
        return -1;
    }
    self = peers_find(&o->peers, o->id);
    if (!seen->listen) {
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

enum node_flags_result node_flags_parse(int argc, char **argv,
                                        struct node_opts *out, char *err,
                                        size_t errlen)
{
    struct node_flags_seen seen = {false, false, false, false};

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
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            return NODE_FLAGS_HELP;
        }
    }
    for (int i = 1; i < argc; i++) {
        if (flag_one(argc, argv, &i, out, &seen, err, errlen) < 0) {
            return NODE_FLAGS_ERROR;
        }
    }
    if (flags_check(out, &seen, err, errlen) < 0) {
        return NODE_FLAGS_ERROR;
    }
    return NODE_FLAGS_OK;
}
