/* kv.c - `varde kv get|put|del`: the cluster's key-value store.
 *
 * One request to the raft nodes of --addr ($VARDE_ADDR, 127.0.0.1:7101;
 * one node or a comma list), made by api.h: the first node takes it, a
 * follower forwards it to the leader, and the only retry is the one the
 * server asks for (a 503 with Retry-After: no leader yet), for up to
 * API_RETRY_MS. Another node of the list is tried only when the one asked
 * could not be reached; a write whose answer got lost (504, a timeout) may
 * have been applied, and the user is told so instead of it being sent
 * again.
 *
 * The key goes into the path percent-encoded, '/' kept as is. The value of
 * a put is the request body, bytes as given; GET answers with "value" (a
 * JSON string) or "value_base64" (bytes that are not UTF-8 text), and both
 * print as the stored bytes.
 */
#include "cli/api.h"
#include "cli/cli_util.h"
#include "cli/commands.h"
#include "sm/command.h"
#include "transport/base64.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KV_MAX_RESPONSE (1u << 20) /* a 64 KiB value, escaped, fits */
#define KV_KEY_SANE 4096 /* longer is never valid: refused before encoding */

/* What one invocation asks for, from the command line. */
struct kv_args {
    const char *cmd;  /* "kv get", for messages */
    const char *addr; /* --addr, or NULL */
    struct api_addrs addrs;
    const char *key;
    const char *value; /* put: the value's bytes (argv or value_buf) */
    size_t value_len;
    char *value_buf; /* put -: read from stdin, malloc'd */
    bool stale, json, cas_set;
    uint64_t cas;
};

static const char kv_usage[] =
    "usage: varde kv get KEY [--stale] [--json] [--addr HOST:PORT]\n"
    "       varde kv put KEY VALUE [--cas INDEX] [--addr HOST:PORT]\n"
    "       varde kv del KEY [--cas INDEX] [--addr HOST:PORT]\n"
    "\n"
    "Read and write the cluster's key-value store. Any raft node takes any\n"
    "request (a follower forwards it to the leader); a write is answered once\n"
    "a majority has it, and a read sees every write answered before it\n"
    "(unless --stale).\n"
    "\n"
    "  get   print KEY's value\n"
    "  put   set KEY to VALUE ('-': read it from stdin); print the index\n"
    "  del   delete KEY; print the index\n"
    "\n"
    "Keys are 1 to 512 printable ASCII bytes without spaces ('/' is fine);\n"
    "values are at most 64 KiB. 'varde kv get --help' and so on for more.\n"
    "The node: --addr, else $VARDE_ADDR, else 127.0.0.1:7101; a comma list\n"
    "is tried in order (the next node when one cannot be reached or knows\n"
    "no leader).\n"
    "\n"
    "Exit status: 0 done, 1 failed (the reason on stderr), 2 bad usage.\n";

static const char kv_get_usage[] =
    "usage: varde kv get KEY [--stale] [--json] [--addr HOST:PORT]\n"
    "\n"
    "Print KEY's value as stored, bytes for bytes, with a newline after it\n"
    "only when stdout is a terminal.\n"
    "\n"
    "  --stale           answer from the node asked, at once, even if it is\n"
    "                    behind (default: a read that sees every write\n"
    "                    acknowledged before it, through the leader)\n"
    "  --json            print the whole entry instead: {\"key\", \"value\"\n"
    "                    (or \"value_base64\"), \"create_index\",\n"
    "                    \"modify_index\"}; modify_index is what --cas takes\n"
    "  --addr HOST:PORT  the node to ask (default: $VARDE_ADDR, else\n"
    "                    127.0.0.1:7101)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 done, 1 failed (\"varde: no such key: KEY\" when it is\n"
    "not there), 2 bad usage.\n";

static const char kv_put_usage[] =
    "usage: varde kv put KEY VALUE [--cas INDEX] [--addr HOST:PORT]\n"
    "\n"
    "Set KEY to VALUE and print the log index the write was committed at.\n"
    "VALUE '-' reads the value from stdin (at most 64 KiB). A VALUE that\n"
    "starts with '-' goes after '--': varde kv put KEY -- -3.\n"
    "\n"
    "  --cas INDEX       compare-and-set: write only if KEY's modify index\n"
    "                    is INDEX (see varde kv get --json); 0: only if KEY\n"
    "                    does not exist yet\n"
    "  --addr HOST:PORT  the node to ask (default: $VARDE_ADDR, else\n"
    "                    127.0.0.1:7101)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 done, 1 failed (\"compare-and-set lost\" when --cas did\n"
    "not match), 2 bad usage.\n";

static const char kv_del_usage[] =
    "usage: varde kv del KEY [--cas INDEX] [--addr HOST:PORT]\n"
    "\n"
    "Delete KEY and print the log index of the delete. Deleting a key that\n"
    "is not there is not an error: it says so on stderr and exits 0.\n"
    "\n"
    "  --cas INDEX       delete only if KEY's modify index is INDEX\n"
    "  --addr HOST:PORT  the node to ask (default: $VARDE_ADDR, else\n"
    "                    127.0.0.1:7101)\n"
    "  -h, --help        this help\n"
    "\n"
    "Exit status: 0 done, 1 failed, 2 bad usage.\n";

/* ---------------------------------------------------------------------
 * the request */

/* The query string for A's options: "?stale", "?cas=N" or "". */
static void kv_query(const struct kv_args *a, char *buf, size_t len)
{
    if (a->stale) {
        snprintf(buf, len, "?stale");
    } else if (a->cas_set) {
        snprintf(buf, len, "?cas=%" PRIu64, a->cas);
    } else {
        buf[0] = '\0';
    }
}

/* ---------------------------------------------------------------------
 * the answer */

/* One line on stderr for a 409: the server's message, and where the key
 * is now when the answer says. */
static void kv_report_conflict(const struct kv_args *a, json_t *body,
                               const char *msg)
{
    json_t *mi = json_object_get(body, "modify_index");

    if (!json_is_integer(mi)) {
        fprintf(stderr, "varde: %s\n", msg);
    } else if (json_integer_value(mi) == 0) {
        fprintf(stderr, "varde: %s: %s does not exist\n", msg, a->key);
    } else if (a->cas_set && a->cas == 0) {
        fprintf(
            stderr,
            "varde: %s: %s exists already (modify index %" JSON_INTEGER_FORMAT
            ")\n",
            msg, a->key, json_integer_value(mi));
    } else {
        fprintf(stderr,
                "varde: %s: %s is at modify index %" JSON_INTEGER_FORMAT
                ", not %" PRIu64 "\n",
                msg, a->key, json_integer_value(mi), a->cas);
    }
}

/* Say on stderr why the call in RES did not succeed. Returns 1. */
static int kv_report_failure(const struct kv_args *a, const struct api_res *res,
                             json_t *body)
{
    char msg[API_ERR_SHOWN + 512];
    int status = res->call.error == HTTP_OK ? res->call.status : 0;

    api_failure(res, body, msg, sizeof msg);
    if (status == 404 && strcmp(msg, "no such key") == 0) {
        fprintf(stderr, "varde: no such key: %s\n", a->key);
    } else if (status == 409) {
        kv_report_conflict(a, body, msg);
    } else if (status == 200) {
        fprintf(stderr, "varde: %s answered 200 without a JSON object\n",
                res->addr);
    } else {
        fprintf(stderr, "varde: %s\n", msg);
    }
    return 1;
}

/* Send A's request; on a 200 return its body (a new reference), else say
 * why on stderr and return NULL. */
static json_t *kv_run(const struct kv_args *a, const char *method)
{
    struct api_req req = {.method = method,
                          .body = a->value,
                          .body_len = a->value_len,
                          .content_type = "application/octet-stream",
                          .max_response = KV_MAX_RESPONSE};
    struct api_res res;
    char query[64];
    json_t *body;
    char *path;

    kv_query(a, query, sizeof query);
    path = api_path("/v1/kv/", a->key, true, query);
    if (path == NULL) {
        fprintf(stderr, "varde: out of memory\n");
        return NULL;
    }
    req.path = path;
    api_call(&a->addrs, &req, &res);
    body = api_json(&res);
    if (res.call.error != HTTP_OK || res.call.status != 200 || body == NULL) {
        kv_report_failure(a, &res, body);
        json_decref(body);
        body = NULL;
    }
    api_res_clear(&res);
    free(path);
    return body;
}

/* ---------------------------------------------------------------------
 * get, put, del */

/* Write the entry's value, as stored, to stdout. Returns 0 or 1. */
static int kv_print_value(json_t *body)
{
    json_t *v = json_object_get(body, "value");
    json_t *b64 = json_object_get(body, "value_base64");
    uint8_t *bytes = NULL;
    const char *out;
    size_t len;
    int rc = 0;

    if (json_is_string(v)) {
        out = json_string_value(v);
        len = json_string_length(v);
    } else if (json_is_string(b64)) {
        size_t max = base64_decoded_max(json_string_length(b64));
        long n = -1;

        bytes = max != SIZE_MAX ? malloc(max + 1) : NULL;
        if (bytes != NULL) {
            n = base64_decode(json_string_value(b64), json_string_length(b64),
                              bytes);
        }
        if (n < 0) {
            fprintf(stderr, "varde: the answer's value_base64 is not valid "
                            "base64\n");
            free(bytes);
            return 1;
        }
        out = (const char *)bytes;
        len = (size_t)n;
    } else {
        fprintf(stderr, "varde: the answer has no value\n");
        return 1;
    }

    if (fwrite(out, 1, len, stdout) != len ||
        (isatty(STDOUT_FILENO) && putchar('\n') == EOF)) {
        rc = 1;
    }
    free(bytes);
    return rc;
}

static int kv_print_json(json_t *body)
{
    char *s = json_dumps(body, JSON_COMPACT);

    if (s == NULL) {
        fprintf(stderr, "varde: out of memory\n");
        return 1;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

/* Print the answer's "index" on a line of its own. Returns 0 or 1. */
static int kv_print_index(const struct kv_args *a, json_t *body)
{
    json_t *index = json_object_get(body, "index");

    if (!json_is_integer(index)) {
        fprintf(stderr, "varde: %s answered without an index\n", a->addr);
        return 1;
    }
    printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(index));
    return 0;
}

static int kv_get(const struct kv_args *a)
{
    json_t *body = kv_run(a, "GET");
    int rc;

    if (body == NULL) {
        return 1;
    }
    rc = a->json ? kv_print_json(body) : kv_print_value(body);
    json_decref(body);
    return rc;
}

static int kv_put(const struct kv_args *a)
{
    json_t *body = kv_run(a, "PUT");
    int rc;

    if (body == NULL) {
        return 1;
    }
    rc = kv_print_index(a, body);
    json_decref(body);
    return rc;
}

static int kv_del(const struct kv_args *a)
{
    json_t *body = kv_run(a, "DELETE");
    int rc;

    if (body == NULL) {
        return 1;
    }
    rc = kv_print_index(a, body);
    if (rc == 0 && json_is_false(json_object_get(body, "deleted"))) {
        fprintf(stderr, "varde: no such key: %s (nothing deleted)\n", a->key);
    }
    json_decref(body);
    return rc;
}

/* ---------------------------------------------------------------------
 * the command line */

/* Read the value from stdin into A, at most SM_MAX_VALUE bytes. Returns 0,
 * or 1 with the reason on stderr. */
static int kv_read_stdin(struct kv_args *a)
{
    size_t cap = SM_MAX_VALUE + 1, len = 0;
    char *buf = malloc(cap);

    if (buf == NULL) {
        fprintf(stderr, "varde: out of memory\n");
        return 1;
    }
    while (len < cap) {
        ssize_t r = read(STDIN_FILENO, buf + len, cap - len);

        if (r < 0 && errno == EINTR) {
            continue;
        }
        if (r < 0) {
            fprintf(stderr, "varde: cannot read the value from stdin: %s\n",
                    strerror(errno));
            free(buf);
            return 1;
        }
        if (r == 0) {
            break;
        }
        len += (size_t)r;
    }
    if (len > SM_MAX_VALUE) {
        fprintf(stderr,
                "varde: the value on stdin is larger than %d bytes (64 "
                "KiB), the most a key can hold\n",
                SM_MAX_VALUE);
        free(buf);
        return 1;
    }
    a->value_buf = buf;
    a->value = buf;
    a->value_len = len;
    return 0;
}

/* --cas INDEX: decimal, 0 to 2^63-1. Returns 0, or 2 with a message. */
static int kv_parse_cas(struct kv_args *a, const char *s)
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; s[i] >= '0' && s[i] <= '9' && i < 19; i++) {
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (i == 0 || s[i] != '\0' || v > (uint64_t)INT64_MAX) {
        fprintf(stderr,
                "varde %s: --cas takes an index, a number from 0 to "
                "2^63-1, not '%s'\n",
                a->cmd, s);
        return 2;
    }
    a->cas_set = true;
    a->cas = v;
    return 0;
}

/* Options of `varde kv get|put|del`. Returns -1 to go on, else the exit
 * status (0 after --help, 2 on bad usage). */
static int kv_parse_opts(struct kv_args *a, int argc, char **argv,
                         const char *usage)
{
    static const struct option longopts[] = {
        {"addr", required_argument, NULL, 'a'},
        {"cas", required_argument, NULL, 'c'},
        {"stale", no_argument, NULL, 's'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    bool is_get = strcmp(a->cmd, "kv get") == 0;
    int opt, li = -1;

    opterr = 0;
    optind = 1;
    while ((opt = getopt_long(argc, argv, ":h", longopts, &li)) != -1) {
        if (opt == 'h') {
            fputs(usage, stdout);
            return 0;
        }
        if (opt == 'a') {
            a->addr = optarg;
        } else if (opt == 'c' && !is_get) {
            if (kv_parse_cas(a, optarg) != 0) {
                return 2;
            }
        } else if (opt == 's' && is_get) {
            a->stale = true;
        } else if (opt == 'j' && is_get) {
            a->json = true;
        } else if (opt == ':' || opt == '?') {
            return cli_usage_error(a->cmd, opt, argv);
        } else {
            fprintf(stderr,
                    "varde %s: --%s is not an option of %s (see "
                    "varde %s --help)\n",
                    a->cmd, longopts[li].name, a->cmd, a->cmd);
            return 2;
        }
    }
    return -1;
}

/* KEY, and VALUE for a put, after the options. Returns -1 to go on, or 2
 * with a message on stderr. */
static int kv_parse_args(struct kv_args *a, int argc, char **argv)
{
    int want = strcmp(a->cmd, "kv put") == 0 ? 2 : 1;

    if (argc - optind < want) {
        fprintf(stderr, "varde %s: needs %s (see varde %s --help)\n", a->cmd,
                want == 2 ? "KEY and VALUE" : "KEY", a->cmd);
        return 2;
    }
    a->key = argv[optind++];
    if (want == 2) {
        a->value = argv[optind++];
        a->value_len = strlen(a->value);
    }
    return cli_no_more_args(a->cmd, argc, argv) != 0 ? 2 : -1;
}

/* The value of a put: check its size, or read it from stdin. Returns 0 or
 * 1 with the reason on stderr. */
static int kv_value(struct kv_args *a)
{
    if (strcmp(a->value, "-") == 0) {
        return kv_read_stdin(a);
    }
    if (a->value_len > SM_MAX_VALUE) {
        fprintf(stderr,
                "varde: the value is %zu bytes, larger than %d (64 KiB), "
                "the most a key can hold\n",
                a->value_len, SM_MAX_VALUE);
        return 1;
    }
    return 0;
}

struct kv_sub {
    const char *name;
    const char *cmd;
    const char *usage;
    int (*run)(const struct kv_args *a);
};

static const struct kv_sub kv_subs[] = {
    {"get", "kv get", kv_get_usage, kv_get},
    {"put", "kv put", kv_put_usage, kv_put},
    {"del", "kv del", kv_del_usage, kv_del},
};

static int kv_sub_main(const struct kv_sub *sub, int argc, char **argv)
{
    struct kv_args a = {.cmd = sub->cmd};
    char why[256];
    int rc;

    rc = kv_parse_opts(&a, argc, argv, sub->usage);
    if (rc < 0) {
        rc = kv_parse_args(&a, argc, argv);
    }
    if (rc >= 0) {
        return rc;
    }

    if (api_parse_addrs(cli_default_addr(a.addr), &a.addrs, why, sizeof why) <
        0) {
        fprintf(stderr, "varde %s: %s\n", a.cmd, why);
        return 2;
    }
    if (strlen(a.key) > KV_KEY_SANE) {
        fprintf(stderr, "varde: key too long: %zu bytes (at most %d)\n",
                strlen(a.key), SM_MAX_KEY);
        return 1;
    }
    if (a.value != NULL && kv_value(&a) != 0) {
        return 1;
    }
    rc = sub->run(&a);
    free(a.value_buf);
    return rc;
}

int kv_main(int argc, char **argv)
{
    const char *name = argc >= 2 ? argv[1] : NULL;

    if (name == NULL) {
        fputs(kv_usage, stderr);
        return 2;
    }
    if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 ||
        strcmp(name, "help") == 0) {
        fputs(kv_usage, stdout);
        return 0;
    }
    for (size_t i = 0; i < sizeof kv_subs / sizeof kv_subs[0]; i++) {
        if (strcmp(name, kv_subs[i].name) == 0) {
            return kv_sub_main(&kv_subs[i], argc - 1, argv + 1);
        }
    }
    fprintf(stderr,
            "varde kv: unknown command '%s' (get, put or del; see "
            "varde kv --help)\n",
            name);
    return 2;
}
