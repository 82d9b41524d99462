/* ctl_flags.c - the flags of `varde controller`: a table of handlers for
 * util/flags.h, the defaults and the --help text (ctl_flags.h). */
#include "controller/ctl_flags.h"

#include "util/err.h"

#include <stdio.h>
#include <string.h>

static int flag_site(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_name("site", v, o->site, err, errlen);
}

static int flag_labels(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_labels("labels", v, o->labels, &o->n_labels, err, errlen);
}

static int flag_raft(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;
    char item[128], why[200];

    o->n_raft = 0;
    for (;;) {
        const char *comma = strchr(v, ',');
        size_t n = comma ? (size_t)(comma - v) : strlen(v);
        struct addr *a = &o->raft[o->n_raft];

        if (o->n_raft == CTL_RAFT_MAX) {
            return err_fail(err, errlen, "--raft: at most %d addresses",
                            CTL_RAFT_MAX);
        }
        snprintf(item, sizeof(item), "%.*s", (int)(n > 100 ? 100 : n), v);
        if (addr_parse(item, a, why, sizeof(why)) < 0) {
            return err_fail(err, errlen, "--raft: %s", why);
        }
        for (size_t i = 0; i < o->n_raft; i++) {
            if (addr_equal(&o->raft[i], a)) {
                return err_fail(err, errlen, "--raft: %s is given twice",
                                a->text);
            }
        }
        o->n_raft++;
        if (comma == NULL) {
            break;
        }
        v = comma + 1;
    }
    return 0;
}

static int flag_listen(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_addr("listen", v, &o->listen, err, errlen);
}

static int flag_data_dir(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_path("data-dir", v, 0, &o->data_dir, err, errlen);
}

static int flag_cpu(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_cpu("cpu", v, CTL_CPU_MAX_MILLI, &o->cpu_milli, err, errlen);
}

static int flag_memory(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_memory_mb("memory-mb", v, CTL_MEMORY_MAX_MB, &o->memory_mb,
                           err, errlen);
}

static int flag_heartbeat(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_duration("heartbeat-interval", v, CTL_HEARTBEAT_MIN_MS,
                          CTL_HEARTBEAT_MAX_MS,
                          "from 10ms to 60s, such as \"500ms\" or \"1s\"",
                          &o->heartbeat_ms, err, errlen);
}

static int flag_agent_ttl(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_duration(
        "agent-ttl", v, CTL_AGENT_TTL_MIN_MS, CTL_AGENT_TTL_MAX_MS,
        "from 100ms to 10m, such as \"5s\"", &o->agent_ttl_ms, err, errlen);
}

static int flag_token_file(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_path("token-file", v, 0, &o->token_file, err, errlen);
}

static int flag_log_level(void *opts, const char *v, char *err, size_t errlen)
{
    struct ctl_opts *o = opts;

    return flags_log_level("log-level", v, &o->log_level, err, errlen);
}

static const struct flags_def ctl_flag_defs[] = {
    {"site", flag_site, FLAGS_REQUIRED},
    {"labels", flag_labels, 0},
    {"raft", flag_raft, FLAGS_REQUIRED},
    {"listen", flag_listen, FLAGS_REQUIRED},
    {"data-dir", flag_data_dir, FLAGS_REQUIRED},
    {"cpu", flag_cpu, 0},
    {"memory-mb", flag_memory, 0},
    {"heartbeat-interval", flag_heartbeat, 0},
    {"agent-ttl", flag_agent_ttl, 0},
    {"token-file", flag_token_file, 0},
    {"log-level", flag_log_level, 0},
};

/* A flag given twice counts as its last, as it always has for the
 * controller (unlike the agent, whose docs promise a refusal): a script
 * that appends an override to a stock command line keeps working. */
static const struct flags_table ctl_flag_table = {
    "controller", ctl_flag_defs,
    sizeof(ctl_flag_defs) / sizeof(ctl_flag_defs[0]), false};

const char *ctl_flags_usage(void)
{
    return "usage: varde controller --site NAME --raft HOST:PORT,... "
           "--listen HOST:PORT\n"
           "                        --data-dir DIR [options]\n"
           "\n"
           "Run the local controller of one edge site: it finds the raft "
           "leader, registers\n"
           "the site, heartbeats, watches the site's assignments and "
           "reports task states.\n"
           "\n"
           "  --site NAME                the site's name: 1..64 of a-z, "
           "0-9, '-', '_', '.'\n"
           "  --labels K=V,K2=V2         the site's labels (default none)\n"
           "  --raft H:P,H:P,...         the raft nodes' addresses (any "
           "subset that\n"
           "                             includes a live node will do)\n"
           "  --listen HOST:PORT         this controller's API; outgoing "
           "connections\n"
           "                             are bound to HOST too\n"
           "  --data-dir DIR             assignments, agents and report "
           "outbox (created\n"
           "                             if missing)\n"
           "  --cpu CORES                capacity offered, e.g. 4 or 0.5 "
           "(default: the\n"
           "                             sum of the up agents' cores)\n"
           "  --memory-mb MB             capacity offered (default: the "
           "agents' sum)\n"
           "  --heartbeat-interval D     e.g. 500ms, 1s (default 1s)\n"
           "  --agent-ttl D              an agent silent this long is down "
           "(default 5s)\n"
           "  --token-file PATH          require the token in PATH on every "
           "request,\n"
           "                             and send it to the cluster and "
           "the agents\n"
           "  --log-level LEVEL          debug, info, warn, error "
           "(default info)\n"
           "  --help                     this text\n";
}

enum flags_result ctl_flags_parse(int argc, char **argv, struct ctl_opts *out,
                                  char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->heartbeat_ms = CTL_HEARTBEAT_DEFAULT_MS;
    out->agent_ttl_ms = CTL_AGENT_TTL_DEFAULT_MS;
    out->log_level = LOG_INFO;
    return flags_parse(&ctl_flag_table, argc, argv, out, NULL, err, errlen);
}
