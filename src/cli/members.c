/* members.c - ask raft nodes for /v1/status; print what they say. */
#include "cli/members.h"

#include "cli/api.h"
#include "cli/http_client.h"
#include "cli/table.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define COL_RESET "\033[0m"
#define COL_BOLD "\033[1m"
#define COL_DIM "\033[2m"
#define COL_RED "\033[31m"
#define COL_GREEN "\033[32m"
#define COL_YELLOW "\033[33m"

/* A follower this many entries behind is shown in yellow. */
#define MEMBERS_LAG_WARN 100

struct member *members_find(struct members *ms, uint64_t id)
{
    for (size_t i = 0; i < ms->n; i++) {
        if (ms->m[i].id == id) {
            return &ms->m[i];
        }
    }
    return NULL;
}

struct member *members_add(struct members *ms, uint64_t id, const char *addr)
{
    size_t at = 0;

    if (ms->n >= MEMBERS_MAX || members_find(ms, id) != NULL) {
        return NULL;
    }
    while (at < ms->n && ms->m[at].id < id) {
        at++;
    }
    memmove(&ms->m[at + 1], &ms->m[at], (ms->n - at) * sizeof ms->m[0]);
    ms->n++;
    memset(&ms->m[at], 0, sizeof ms->m[at]);
    ms->m[at].id = id;
    ms->m[at].lag = -1;
    snprintf(ms->m[at].addr, sizeof ms->m[at].addr, "%s", addr);
    return &ms->m[at];
}

static uint64_t json_u64(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return 0;
    }
    return (uint64_t)json_integer_value(v);
}

/* Parse a decimal node id ("3"); 0 when it is not one. */
static uint64_t parse_id(const char *s)
{
    char *end;
    unsigned long long v;

    if (s[0] < '0' || s[0] > '9') {
        return 0;
    }
    errno = 0;
    v = strtoull(s, &end, 10);
    return (errno != 0 || *end != '\0') ? 0 : (uint64_t)v;
}

/* Turn one answer to GET /v1/status into M. Returns the parsed body (the
 * caller owns it), or NULL with M->error set. */
static json_t *member_take(struct member *m, const struct http_call *call)
{
    json_error_t jerr;
    json_t *root, *msg;

    m->answered = false;
    if (call->error != HTTP_OK) {
        snprintf(m->error, sizeof m->error, "%s", call->errmsg);
        return NULL;
    }
    root = json_loadb(call->resp_body, call->resp_len, 0, &jerr);
    if (call->status != 200) {
        msg = json_object_get(root, "error");
        snprintf(m->error, sizeof m->error, "%s answered %d: %s", m->addr,
                 call->status,
                 json_is_string(msg) ? json_string_value(msg) : "no reason");
        json_decref(root);
        return NULL;
    }
    if (!json_is_object(root) ||
        !json_is_integer(json_object_get(root, "id"))) {
        snprintf(m->error, sizeof m->error,
                 "%s: status is not a JSON object with an id", m->addr);
        json_decref(root);
        return NULL;
    }
    return root;
}

/* Fill M from a status object. EXPECT_ID 0: take the id it gives. */
static void member_fill(struct member *m, const json_t *st, uint64_t expect_id)
{
    json_t *role = json_object_get(st, "role");
    uint64_t id = json_u64(st, "id");

    if (expect_id != 0 && id != expect_id) {
        snprintf(m->error, sizeof m->error, "%s answers as node %" PRIu64,
                 m->addr, id);
        return;
    }
    m->id = id;
    m->answered = true;
    snprintf(m->role, sizeof m->role, "%s",
             json_is_string(role) ? json_string_value(role) : "?");
    m->term = json_u64(st, "term");
    m->commit_index = json_u64(st, "commit_index");
    m->applied_index = json_u64(st, "applied_index");
    m->has_last_log = json_is_integer(json_object_get(st, "last_log_index"));
    m->last_log_index = json_u64(st, "last_log_index");
    m->leader = json_u64(st, "leader");
}

/* Add every peer listed in a status object's "peers" to MS. */
static void members_add_peers(struct members *ms, const json_t *st)
{
    const char *key;
    json_t *peer;

    json_object_foreach(json_object_get(st, "peers"), key, peer)
    {
        json_t *addr = json_object_get(peer, "addr");
        uint64_t id = parse_id(key);
        struct member *known = members_find(ms, id);

        if (id == 0 || !json_is_string(addr)) {
            continue;
        }
        if (known != NULL) { /* the asked node: show its own name for it */
            snprintf(known->addr, sizeof known->addr, "%s",
                     json_string_value(addr));
            continue;
        }
        members_add(ms, id, json_string_value(addr));
    }
}

static void members_find_leader(struct members *ms)
{
    const struct member *best = NULL;

    ms->leader = 0;
    ms->term = 0;
    for (size_t i = 0; i < ms->n; i++) {
        const struct member *m = &ms->m[i];

        if (m->answered && strcmp(m->role, "leader") == 0 &&
            (best == NULL || m->term > best->term)) {
            best = m;
        }
    }
    if (best != NULL) {
        ms->leader = best->id;
        ms->term = best->term;
        return;
    }
    for (size_t i = 0; i < ms->n; i++) {
        const struct member *m = &ms->m[i];

        if (m->answered && m->leader != 0 && m->term >= ms->term) {
            ms->leader = m->leader;
            ms->term = m->term;
        }
    }
}

/* How far M's log is behind LEAD's, in entries; -1 when not known. */
static int64_t member_lag(const struct member *m, const struct member *lead)
{
    if (lead == NULL || !lead->answered || !lead->has_last_log ||
        !m->answered || !m->has_last_log) {
        return -1;
    }
    if (m->last_log_index >= lead->last_log_index) {
        return 0;
    }
    return (int64_t)(lead->last_log_index - m->last_log_index);
}

void members_settle(struct members *ms)
{
    const struct member *lead;

    members_find_leader(ms);
    lead = ms->leader != 0 ? members_find(ms, ms->leader) : NULL;
    for (size_t i = 0; i < ms->n; i++) {
        ms->m[i].lag = member_lag(&ms->m[i], lead);
    }
}

/* Ask the members of MS, all but SKIP_ID, at once. */
static size_t members_ask(struct members *ms, uint64_t skip_id, int timeout_ms)
{
    struct http_call calls[MEMBERS_MAX];
    struct member *who[MEMBERS_MAX];
    struct http_opts o = {.connect_ms = timeout_ms, .total_ms = timeout_ms};
    size_t n = 0, answered = 0;

    memset(calls, 0, sizeof calls);
    for (size_t i = 0; i < ms->n; i++) {
        if (ms->m[i].id == skip_id) {
            continue;
        }
        calls[n].method = "GET";
        calls[n].addr = ms->m[i].addr;
        calls[n].path = "/v1/status";
        who[n++] = &ms->m[i];
    }
    http_run(calls, n, &o);

    for (size_t i = 0; i < n; i++) {
        json_t *st = member_take(who[i], &calls[i]);

        if (st != NULL) {
            member_fill(who[i], st, who[i]->id);
            json_decref(st);
        }
        answered += who[i]->answered;
        http_call_clear(&calls[i]);
    }
    return answered;
}

size_t members_refresh(struct members *ms, int timeout_ms)
{
    size_t answered = members_ask(ms, 0, timeout_ms);

    members_settle(ms);
    return answered;
}

int members_fetch(const char *addr, int ask_ms, int peer_ms,
                  struct members *out, char *err, size_t err_len)
{
    struct http_opts o = {.connect_ms = ask_ms, .total_ms = ask_ms};
    struct http_call call = {
        .method = "GET", .addr = addr, .path = "/v1/status"};
    struct member self = {0};
    struct member *m;
    json_t *st;

    memset(out, 0, sizeof *out);
    snprintf(self.addr, sizeof self.addr, "%s", addr);
    http_request(&call, &o);
    st = member_take(&self, &call);
    http_call_clear(&call);
    if (st == NULL) {
        snprintf(err, err_len, "%s", self.error);
        return -1;
    }
    member_fill(&self, st, 0);

    m = members_add(out, self.id, addr);
    if (m == NULL) {
        snprintf(err, err_len, "%s: bad node id %" PRIu64, addr, self.id);
        json_decref(st);
        return -1;
    }
    *m = self;
    members_add_peers(out, st);
    json_decref(st);

    members_ask(out, self.id, peer_ms);
    members_settle(out);
    return 0;
}

static const char *role_color(const struct member *m)
{
    if (!m->answered) {
        return COL_RED;
    }
    if (strcmp(m->role, "leader") == 0) {
        return COL_GREEN COL_BOLD;
    }
    if (strcmp(m->role, "follower") == 0) {
        return NULL;
    }
    return COL_YELLOW;
}

static const struct table_col member_cols[] = {
    {" ", false},   {"ID", true},     {"ADDRESS", false}, {"ROLE", false},
    {"TERM", true}, {"COMMIT", true}, {"LAG", true},
};

static void member_row(struct table *t, const struct member *m, bool is_leader)
{
    table_row(t);
    table_set(t, 0, "%s", is_leader ? "*" : "");
    table_set(t, 1, "%" PRIu64, m->id);
    table_set(t, 2, "%s", m->addr);
    table_set(t, 3, "%s", m->answered ? m->role : "unreachable");
    table_color(t, 3, role_color(m));
    if (!m->answered) {
        table_set(t, 4, "-");
        table_set(t, 5, "-");
    } else {
        table_set(t, 4, "%" PRIu64, m->term);
        table_set(t, 5, "%" PRIu64, m->commit_index);
    }
    if (m->lag < 0 || is_leader) {
        table_set(t, 6, "-");
    } else {
        table_set(t, 6, "%" PRId64, m->lag);
        table_color(t, 6, m->lag >= MEMBERS_LAG_WARN ? COL_YELLOW : NULL);
    }
}

/* Why each member that did not answer did not, one line each. */
static void members_print_errors(FILE *f, const struct members *ms)
{
    char why[sizeof ms->m[0].error];

    for (size_t i = 0; i < ms->n; i++) {
        if (!ms->m[i].answered) {
            api_clean(ms->m[i].error, sizeof why, why, sizeof why);
            fprintf(f, "  node %" PRIu64 ": %s\n", ms->m[i].id, why);
        }
    }
}

int members_print(FILE *f, const struct members *ms, bool color)
{
    struct table t;
    int rc;

    table_init(&t, member_cols, sizeof member_cols / sizeof member_cols[0]);
    for (size_t i = 0; i < ms->n; i++) {
        member_row(&t, &ms->m[i], ms->m[i].id == ms->leader);
    }
    rc = table_print(f, &t, "", color);
    table_close(&t);
    members_print_errors(f, ms);

    if (ms->leader != 0) {
        fprintf(f, "%sleader: %" PRIu64 " (term %" PRIu64 ")%s\n",
                color ? COL_BOLD : "", ms->leader, ms->term,
                color ? COL_RESET : "");
    } else {
        fprintf(f, "%sno leader known%s\n", color ? COL_YELLOW : "",
                color ? COL_RESET : "");
    }
    return rc < 0 || ferror(f) ? -1 : 0;
}

static json_t *id_or_null(uint64_t id)
{
    return id ? json_integer((json_int_t)id) : json_null();
}

/* N as a JSON integer, or null when it is negative (not known). */
static json_t *int_or_null(int64_t n)
{
    return n >= 0 ? json_integer((json_int_t)n) : json_null();
}

static json_t *member_json(const struct member *m)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer((json_int_t)m->id));
    json_object_set_new(o, "addr", json_string(m->addr));
    json_object_set_new(o, "reachable", json_boolean(m->answered));
    if (!m->answered) {
        json_object_set_new(o, "role", json_string("unreachable"));
        json_object_set_new(o, "error", json_string(m->error));
        return o;
    }
    json_object_set_new(o, "role", json_string(m->role));
    json_object_set_new(o, "term", json_integer((json_int_t)m->term));
    json_object_set_new(o, "commit_index",
                        json_integer((json_int_t)m->commit_index));
    json_object_set_new(o, "applied_index",
                        json_integer((json_int_t)m->applied_index));
    json_object_set_new(o, "last_log_index",
                        m->has_last_log
                            ? json_integer((json_int_t)m->last_log_index)
                            : json_null());
    json_object_set_new(o, "leader", id_or_null(m->leader));
    json_object_set_new(o, "lag", int_or_null(m->lag));
    return o;
}

json_t *members_to_json(const struct members *ms)
{
    json_t *root = json_object();
    json_t *list = json_array();

    if (root == NULL || list == NULL) {
        json_decref(root);
        json_decref(list);
        return NULL;
    }
    for (size_t i = 0; i < ms->n; i++) {
        if (json_array_append_new(list, member_json(&ms->m[i])) < 0) {
            json_decref(root);
            json_decref(list);
            return NULL;
        }
    }
    json_object_set_new(root, "members", list);
    json_object_set_new(root, "leader", id_or_null(ms->leader));
    json_object_set_new(root, "term", json_integer((json_int_t)ms->term));
    return root;
}

char *members_json(const struct members *ms)
{
    json_t *root = members_to_json(ms);
    char *s = root != NULL ? json_dumps(root, JSON_COMPACT) : NULL;

    json_decref(root);
    return s;
}
