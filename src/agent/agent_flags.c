/* agent_flags.c - the flags of `varde agent`: a table of handlers for
 * util/flags.h, the defaults and the --help text (agent_flags.h). */
#include "agent/agent_flags.h"

#include "util/err.h"

#include <string.h>

static int flag_name(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_name("name", v, o->name, err, errlen);
}

static int flag_labels(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_labels("labels", v, o->labels, &o->n_labels, err, errlen);
}

static int flag_controller(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_addr("controller", v, &o->controller, err, errlen);
}

static int flag_listen(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_addr("listen", v, &o->listen, err, errlen);
}

static int flag_data_dir(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_path("data-dir", v, AGENT_DATA_DIR_MAX, &o->data_dir, err,
                      errlen);
}

static int flag_token_file(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_path("token-file", v, 0, &o->token_file, err, errlen);
}

static int flag_cpu(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_cpu("cpu", v, AGENT_CPU_MAX_MILLI, &o->cpu_milli, err, errlen);
}

static int flag_memory(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_memory_mb("memory-mb", v, AGENT_MEMORY_MAX_MB, &o->memory_mb,
                           err, errlen);
}

static int flag_heartbeat(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_duration("heartbeat-interval", v, AGENT_HEARTBEAT_MIN_MS,
                          AGENT_HEARTBEAT_MAX_MS,
                          "from 10ms to 60s, such as \"500ms\" or \"1s\"",
                          &o->heartbeat_ms, err, errlen);
}

static int flag_log_max(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;
    uint64_t n;

    if (flags_parse_bytes(v, &n) < 0 || n < AGENT_LOG_MAX_MIN ||
        n > AGENT_LOG_MAX_MAX) {
        return err_fail(err, errlen,
                        "--log-max-bytes \"%.32s\": expected bytes from 4096 "
                        "to 1G (a K, M or G suffix is fine)",
                        v);
    }
    o->log_max_bytes = n;
    return 0;
}

static int flag_log_level(void *opts, const char *v, char *err, size_t errlen)
{
    struct agent_opts *o = opts;

    return flags_log_level("log-level", v, &o->log_level, err, errlen);
}

static const struct flags_def agent_flag_defs[] = {
    {"name", flag_name, FLAGS_REQUIRED},
    {"controller", flag_controller, FLAGS_REQUIRED},
    {"listen", flag_listen, FLAGS_REQUIRED},
    {"data-dir", flag_data_dir, FLAGS_REQUIRED},
    {"labels", flag_labels, 0},
    {"cpu", flag_cpu, 0},
    {"memory-mb", flag_memory, 0},
    {"heartbeat-interval", flag_heartbeat, 0},
    {"log-max-bytes", flag_log_max, 0},
    {"log-level", flag_log_level, 0},
    {"token-file", flag_token_file, 0},
};

/* The agent refuses a flag given twice (docs/agent.md says so). */
static const struct flags_table agent_flag_table = {
    "agent", agent_flag_defs,
    sizeof(agent_flag_defs) / sizeof(agent_flag_defs[0]), true};

const char *agent_flags_usage(void)
{
    return "usage: varde agent --name NAME --controller HOST:PORT "
           "--listen HOST:PORT\n"
           "                   --data-dir DIR [options]\n"
           "\n"
           "Run the agent of one edge machine: it registers with its site's "
           "controller,\n"
           "heartbeats, watches its tasks and runs each as a process. Tasks "
           "keep running\n"
           "when the agent stops; a restarted agent adopts them.\n"
           "\n"
           "  --name NAME                the agent's name, unique in its "
           "site: 1..64 of\n"
           "                             a-z, 0-9, '-', '_', '.'\n"
           "  --controller HOST:PORT     the site's controller\n"
           "  --listen HOST:PORT         this agent's API (status, logs); "
           "outgoing\n"
           "                             connections are bound to HOST too\n"
           "  --data-dir DIR             agent.json and the tasks' dirs "
           "(created if\n"
           "                             missing)\n"
           "  --labels K=V,K2=V2         the machine's labels (default "
           "none)\n"
           "  --cpu CORES                capacity for tasks, e.g. 4 or 0.5 "
           "(default: this\n"
           "                             machine's cores)\n"
           "  --memory-mb MB             capacity for tasks (default: this "
           "machine's\n"
           "                             memory)\n"
           "  --heartbeat-interval D     e.g. 500ms, 1s (default 1s)\n"
           "  --log-max-bytes N          output kept per task before a "
           "rotation, e.g.\n"
           "                             65536 or 4M (default 1M; one "
           "rotated file kept)\n"
           "  --log-level LEVEL          debug, info, warn, error "
           "(default info)\n"
           "  --token-file PATH          the site's access token: sent to "
           "the controller,\n"
           "                             required by this agent's API "
           "(default none)\n"
           "  --help                     this text\n";
}

enum flags_result agent_flags_parse(int argc, char **argv,
                                    struct agent_opts *out, char *err,
                                    size_t errlen)
{
    memset(out, 0, sizeof(*out));
    out->heartbeat_ms = AGENT_HEARTBEAT_DEFAULT_MS;
    out->log_max_bytes = AGENT_LOG_MAX_DEFAULT;
    out->log_level = LOG_INFO;
    return flags_parse(&agent_flag_table, argc, argv, out, NULL, err, errlen);
}
