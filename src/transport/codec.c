/* codec.c - struct raft_msg <-> JSON, strict on the way in.
 *
 * Encoding builds a jansson object field by field and dumps it compactly;
 * entries' data goes as base64 strings. Decoding parses with duplicate keys
 * rejected, reads each field through one checked accessor (present, right
 * type, in range), then checks what a field means: ids are members, "to" is
 * this node, entries line up with prev_log_index. Entries are decoded in two
 * passes: the first checks every entry and sums the data, the second fills
 * one allocation that holds the array and the bytes, so a message never
 * escapes half-filled and freeing it is one call.
 *
 * "seq" (the leader's read-index round) is optional on the way in and
 * taken as 0 when absent: older nodes did not send it, and a round of 0
 * confirms no read, which is safe.
 *
 * Snapshot chunks have encoders of their own at the end of the file: they
 * carry file bytes and offsets that no struct raft_msg has.
 */
#include "transport/codec.h"

#include "transport/base64.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CODEC_INT_MAX ((uint64_t)INT64_MAX)

struct codec_kind {
    enum raft_msg_type type;
    const char *path;               /* requests only */
    enum raft_msg_type result_type; /* requests only */
};

static const struct codec_kind codec_kinds[] = {
    {RAFT_MSG_VOTE, "/raft/request_vote", RAFT_MSG_VOTE_RESULT},
    {RAFT_MSG_APPEND, "/raft/append_entries", RAFT_MSG_APPEND_RESULT},
    {RAFT_MSG_TIMEOUT_NOW, "/raft/timeout_now", RAFT_MSG_NONE},
    {RAFT_MSG_SNAPSHOT, CODEC_PATH_INSTALL_SNAPSHOT, RAFT_MSG_SNAPSHOT_RESULT},
};

const char *codec_path(enum raft_msg_type type)
{
    for (size_t i = 0; i < sizeof(codec_kinds) / sizeof(codec_kinds[0]); i++) {
        if (codec_kinds[i].type == type) {
            return codec_kinds[i].path;
        }
    }
    return NULL;
}

enum raft_msg_type codec_result_type(enum raft_msg_type type)
{
    for (size_t i = 0; i < sizeof(codec_kinds) / sizeof(codec_kinds[0]); i++) {
        if (codec_kinds[i].type == type) {
            return codec_kinds[i].result_type;
        }
    }
    return RAFT_MSG_NONE;
}

/* ------------------------------------------------------------------------
 * Errors: the first one wins, later ones are dropped.
 */

struct codec_err {
    char *buf;
    size_t len;
    bool set;
};

/* Reasons quote input (jansson's "near '...'"): keep them printable ASCII,
 * so they stay one line in a log and a valid JSON string in a reply. */
static void codec_printable(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
            *s = '?';
        }
    }
}

__attribute__((format(printf, 2, 3))) static int
codec_fail(struct codec_err *e, const char *fmt, ...)
{
    va_list ap;

    if (!e->set && e->len > 0) {
        va_start(ap, fmt);
        vsnprintf(e->buf, e->len, fmt, ap);
        va_end(ap);
        codec_printable(e->buf);
    }
    e->set = true;
    return -1;
}

/* ------------------------------------------------------------------------
 * Encoding.
 */

static void enc_u64(json_t *obj, const char *key, uint64_t v,
                    struct codec_err *e)
{
    if (v > CODEC_INT_MAX) {
        codec_fail(e, "field \"%s\": %llu is above 2^63-1", key,
                   (unsigned long long)v);
        return;
    }
    if (json_object_set_new(obj, key, json_integer((json_int_t)v)) < 0) {
        codec_fail(e, "out of memory");
    }
}

static void enc_bool(json_t *obj, const char *key, bool v, struct codec_err *e)
{
    if (json_object_set_new(obj, key, json_boolean(v)) < 0) {
        codec_fail(e, "out of memory");
    }
}

/* Check the entries of A against the CODEC_MAX_* bounds. */
static int enc_check_entries(const struct raft_append *a, struct codec_err *e)
{
    size_t total = 0;

    if (a->n_entries > CODEC_MAX_ENTRIES) {
        return codec_fail(e, "entries: %zu entries, at most %u", a->n_entries,
                          CODEC_MAX_ENTRIES);
    }
    for (size_t i = 0; i < a->n_entries; i++) {
        const struct raft_entry *en = &a->entries[i];

        if (en->len > CODEC_MAX_ENTRY_BYTES ||
            (en->len > 0 && en->data == NULL)) {
            return codec_fail(e, "entries[%zu]: bad data (%u bytes)", i,
                              (unsigned)en->len);
        }
        total += en->len;
    }
    if (total > CODEC_MAX_BATCH_BYTES) {
        return codec_fail(e, "entries: %zu bytes of data, at most %u", total,
                          CODEC_MAX_BATCH_BYTES);
    }
    return 0;
}

static json_t *enc_entry(const struct raft_entry *en, struct codec_err *e)
{
    json_t *obj = json_object();
    char *b64 = malloc(base64_encoded_len(en->len) + 1);

    if (obj == NULL || b64 == NULL) {
        codec_fail(e, "out of memory");
        json_decref(obj);
        free(b64);
        return NULL;
    }
    base64_encode(en->data, en->len, b64);
    enc_u64(obj, "term", en->term, e);
    enc_u64(obj, "index", en->index, e);
    enc_u64(obj, "type", en->type, e);
    if (json_object_set_new(obj, "data", json_string_nocheck(b64)) < 0) {
        codec_fail(e, "out of memory");
    }
    free(b64);
    return obj;
}

static void enc_entries(json_t *obj, const struct raft_append *a,
                        struct codec_err *e)
{
    json_t *arr = json_array();

    if (arr == NULL) {
        codec_fail(e, "out of memory");
        return;
    }
    for (size_t i = 0; i < a->n_entries && !e->set; i++) {
        if (json_array_append_new(arr, enc_entry(&a->entries[i], e)) < 0) {
            codec_fail(e, "out of memory");
        }
    }
    if (json_object_set_new(obj, "entries", arr) < 0) {
        codec_fail(e, "out of memory");
    }
}

/* Add the fields of M's type after term, from and to. */
static void enc_body(json_t *obj, const struct raft_msg *m, struct codec_err *e)
{
    switch (m->type) {
    case RAFT_MSG_VOTE:
        enc_bool(obj, "prevote", m->u.vote.prevote, e);
        enc_bool(obj, "transfer", m->u.vote.transfer, e);
        enc_u64(obj, "last_log_index", m->u.vote.last_log_index, e);
        enc_u64(obj, "last_log_term", m->u.vote.last_log_term, e);
        break;
    case RAFT_MSG_VOTE_RESULT:
        enc_bool(obj, "prevote", m->u.vote_result.prevote, e);
        enc_bool(obj, "granted", m->u.vote_result.granted, e);
        break;
    case RAFT_MSG_APPEND:
        enc_u64(obj, "prev_log_index", m->u.append.prev_log_index, e);
        enc_u64(obj, "prev_log_term", m->u.append.prev_log_term, e);
        enc_u64(obj, "leader_commit", m->u.append.leader_commit, e);
        enc_u64(obj, "seq", m->u.append.seq, e);
        if (enc_check_entries(&m->u.append, e) == 0) {
            enc_entries(obj, &m->u.append, e);
        }
        break;
    case RAFT_MSG_APPEND_RESULT:
        enc_bool(obj, "success", m->u.append_result.success, e);
        enc_u64(obj, "match_index", m->u.append_result.match_index, e);
        enc_u64(obj, "conflict_index", m->u.append_result.conflict_index, e);
        enc_u64(obj, "conflict_term", m->u.append_result.conflict_term, e);
        enc_u64(obj, "seq", m->u.append_result.seq, e);
        break;
    case RAFT_MSG_TIMEOUT_NOW:
        break;
    default:
        codec_fail(e, "cannot encode message type %d", (int)m->type);
    }
}

/* Dump OBJ (stolen) as the encoder's result, unless E already failed. */
static char *enc_finish(json_t *obj, size_t *len, struct codec_err *e)
{
    char *text = NULL;

    if (obj == NULL) {
        codec_fail(e, "out of memory");
        return NULL;
    }
    if (!e->set) {
        text = json_dumps(obj, JSON_COMPACT);
        if (text == NULL) {
            codec_fail(e, "out of memory");
        }
    }
    json_decref(obj);
    if (text != NULL) {
        *len = strlen(text);
    }
    return text;
}

char *codec_encode(const struct raft_msg *m, size_t *len, char *err,
                   size_t errlen)
{
    struct codec_err e = {err, errlen, false};
    json_t *obj = json_object();

    if (obj != NULL) {
        enc_u64(obj, "term", m->term, &e);
        enc_u64(obj, "from", m->from, &e);
        enc_u64(obj, "to", m->to, &e);
        enc_body(obj, m, &e);
    }
    return enc_finish(obj, len, &e);
}

/* ------------------------------------------------------------------------
 * Decoding: accessors that check presence, type and range.
 */

struct codec_dec {
    const struct codec_nodes *nodes;
    struct codec_err e;
    char where[32]; /* "" or "entries[12]." before a field name */
};

static json_t *dec_field(struct codec_dec *d, json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    if (v == NULL) {
        codec_fail(&d->e, "field \"%s%s\" is missing", d->where, key);
    }
    return v;
}

static int dec_u64(struct codec_dec *d, json_t *obj, const char *key,
                   uint64_t *out)
{
    json_t *v = dec_field(d, obj, key);

    if (v == NULL) {
        return -1;
    }
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        return codec_fail(&d->e,
                          "field \"%s%s\" must be an integer 0 to 2^63-1",
                          d->where, key);
    }
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int dec_bool(struct codec_dec *d, json_t *obj, const char *key,
                    bool *out)
{
    json_t *v = dec_field(d, obj, key);

    if (v == NULL) {
        return -1;
    }
    if (!json_is_boolean(v)) {
        return codec_fail(&d->e, "field \"%s%s\" must be true or false",
                          d->where, key);
    }
    *out = json_is_true(v);
    return 0;
}

static bool dec_is_member(const struct codec_nodes *nodes, uint64_t id)
{
    for (size_t i = 0; i < nodes->n; i++) {
        if (nodes->ids[i] == id) {
            return true;
        }
    }
    return false;
}

/* An optional integer field: *OUT stays as it is when KEY is absent. */
static int dec_u64_opt(struct codec_dec *d, json_t *obj, const char *key,
                       uint64_t *out)
{
    if (json_object_get(obj, key) == NULL) {
        return 0;
    }
    return dec_u64(d, obj, key, out);
}

/* term, from and to, common to every message. */
static int dec_ids(struct codec_dec *d, json_t *obj, uint64_t *term,
                   uint64_t *from, uint64_t *to)
{
    if (dec_u64(d, obj, "term", term) < 0 ||
        dec_u64(d, obj, "from", from) < 0 || dec_u64(d, obj, "to", to) < 0) {
        return -1;
    }
    if (!dec_is_member(d->nodes, *from) || *from == d->nodes->self) {
        return codec_fail(&d->e, "field \"from\": %llu is not a peer",
                          (unsigned long long)*from);
    }
    if (*to != d->nodes->self) {
        return codec_fail(&d->e, "field \"to\": %llu is not this node (%llu)",
                          (unsigned long long)*to,
                          (unsigned long long)d->nodes->self);
    }
    return 0;
}

static int dec_header(struct codec_dec *d, json_t *obj, struct raft_msg *m)
{
    return dec_ids(d, obj, &m->term, &m->from, &m->to);
}

static int dec_vote(struct codec_dec *d, json_t *obj, struct raft_msg *m)
{
    struct raft_vote *v = &m->u.vote;

    if (dec_bool(d, obj, "prevote", &v->prevote) < 0 ||
        dec_bool(d, obj, "transfer", &v->transfer) < 0 ||
        dec_u64(d, obj, "last_log_index", &v->last_log_index) < 0 ||
        dec_u64(d, obj, "last_log_term", &v->last_log_term) < 0) {
        return -1;
    }
    if (v->last_log_term > m->term) {
        return codec_fail(&d->e, "last_log_term %llu is above term %llu",
                          (unsigned long long)v->last_log_term,
                          (unsigned long long)m->term);
    }
    return 0;
}

static int dec_vote_result(struct codec_dec *d, json_t *obj, struct raft_msg *m)
{
    struct raft_vote_result *v = &m->u.vote_result;

    if (dec_bool(d, obj, "prevote", &v->prevote) < 0 ||
        dec_bool(d, obj, "granted", &v->granted) < 0) {
        return -1;
    }
    return 0;
}

static int dec_append_result(struct codec_dec *d, json_t *obj,
                             struct raft_msg *m)
{
    struct raft_append_result *r = &m->u.append_result;

    if (dec_bool(d, obj, "success", &r->success) < 0 ||
        dec_u64(d, obj, "match_index", &r->match_index) < 0 ||
        dec_u64(d, obj, "conflict_index", &r->conflict_index) < 0 ||
        dec_u64(d, obj, "conflict_term", &r->conflict_term) < 0 ||
        dec_u64_opt(d, obj, "seq", &r->seq) < 0) {
        return -1;
    }
    return 0;
}

static int dec_timeout_now(struct codec_dec *d, json_t *obj, struct raft_msg *m)
{
    (void)d;
    (void)obj;
    (void)m;
    return 0;
}

/* ------------------------------------------------------------------------
 * Decoding entries.
 */

/* Bytes that the valid base64 text S (N characters) decodes to. */
static size_t dec_b64_len(const char *s, size_t n)
{
    if (n == 0) {
        return 0;
    }
    return n / 4 * 3 - (s[n - 1] == '=') - (s[n - 2] == '=');
}

/* Pass 1 for entry I: fields present and typed, index and term in line
 * (*LAST_TERM: the term before it). Adds its data length to *TOTAL. */
static int dec_entry_check(struct codec_dec *d, const struct raft_msg *m,
                           json_t *jen, size_t i, uint64_t *last_term,
                           size_t *total)
{
    uint64_t term, index, type, want = m->u.append.prev_log_index + 1 + i;
    json_t *data;
    size_t n;

    snprintf(d->where, sizeof(d->where), "entries[%zu].", i);
    if (!json_is_object(jen)) {
        return codec_fail(&d->e, "entries[%zu] must be an object", i);
    }
    if (dec_u64(d, jen, "term", &term) < 0 ||
        dec_u64(d, jen, "index", &index) < 0 ||
        dec_u64(d, jen, "type", &type) < 0 ||
        (data = dec_field(d, jen, "data")) == NULL) {
        return -1;
    }
    if (index != want) {
        return codec_fail(&d->e, "entries[%zu]: index %llu, expected %llu", i,
                          (unsigned long long)index, (unsigned long long)want);
    }
    if (term < *last_term || term > m->term) {
        return codec_fail(&d->e,
                          "entries[%zu]: term %llu out of order (after %llu, "
                          "message term %llu)",
                          i, (unsigned long long)term,
                          (unsigned long long)*last_term,
                          (unsigned long long)m->term);
    }
    if (type != RAFT_ENTRY_NORMAL && type != RAFT_ENTRY_NOOP) {
        return codec_fail(&d->e, "entries[%zu]: unknown type %llu", i,
                          (unsigned long long)type);
    }
    if (!json_is_string(data)) {
        return codec_fail(&d->e,
                          "field \"entries[%zu].data\" must be a "
                          "base64 string",
                          i);
    }
    n = json_string_length(data);
    if (base64_decoded_max(n) == (size_t)-1) {
        return codec_fail(&d->e, "entries[%zu].data: bad base64", i);
    }
    n = dec_b64_len(json_string_value(data), n);
    if (n > CODEC_MAX_ENTRY_BYTES) {
        return codec_fail(&d->e, "entries[%zu]: %zu bytes of data, at most %u",
                          i, n, CODEC_MAX_ENTRY_BYTES);
    }
    *last_term = term;
    *total += n;
    return 0;
}

/* Pass 2 for entry I, already checked: fill EN, its data at *POS. */
static int dec_entry_fill(struct codec_dec *d, json_t *jen, size_t i,
                          struct raft_entry *en, uint8_t **pos)
{
    json_t *data = json_object_get(jen, "data");
    long n;

    en->term = (uint64_t)json_integer_value(json_object_get(jen, "term"));
    en->index = (uint64_t)json_integer_value(json_object_get(jen, "index"));
    en->type = (uint8_t)json_integer_value(json_object_get(jen, "type"));
    n = base64_decode(json_string_value(data), json_string_length(data), *pos);
    if (n < 0) {
        return codec_fail(&d->e, "entries[%zu].data: bad base64", i);
    }
    en->len = (uint32_t)n;
    en->data = n > 0 ? *pos : NULL;
    *pos += n;
    return 0;
}

static int dec_entries(struct codec_dec *d, json_t *arr, struct raft_msg *m)
{
    struct raft_append *a = &m->u.append;
    uint64_t last_term = a->prev_log_term;
    size_t n, total = 0;
    struct raft_entry *block;
    uint8_t *pos;

    if (!json_is_array(arr)) {
        return codec_fail(&d->e, "field \"entries\" must be an array");
    }
    n = json_array_size(arr);
    if (n > CODEC_MAX_ENTRIES) {
        return codec_fail(&d->e, "entries: %zu entries, at most %u", n,
                          CODEC_MAX_ENTRIES);
    }
    for (size_t i = 0; i < n; i++) {
        if (dec_entry_check(d, m, json_array_get(arr, i), i, &last_term,
                            &total) < 0) {
            return -1;
        }
    }
    if (total > CODEC_MAX_BATCH_BYTES) {
        return codec_fail(&d->e, "entries: %zu bytes of data, at most %u",
                          total, CODEC_MAX_BATCH_BYTES);
    }
    d->where[0] = '\0';
    if (n == 0) {
        return 0;
    }
    block = malloc(n * sizeof(*block) + total);
    if (block == NULL) {
        return codec_fail(&d->e, "out of memory");
    }
    pos = (uint8_t *)(block + n);
    a->entries = block;
    a->n_entries = n;
    for (size_t i = 0; i < n; i++) {
        if (dec_entry_fill(d, json_array_get(arr, i), i, &block[i], &pos) < 0) {
            return -1;
        }
    }
    return 0;
}

static int dec_append(struct codec_dec *d, json_t *obj, struct raft_msg *m)
{
    struct raft_append *a = &m->u.append;
    json_t *entries;

    if (dec_u64(d, obj, "prev_log_index", &a->prev_log_index) < 0 ||
        dec_u64(d, obj, "prev_log_term", &a->prev_log_term) < 0 ||
        dec_u64(d, obj, "leader_commit", &a->leader_commit) < 0 ||
        dec_u64_opt(d, obj, "seq", &a->seq) < 0 ||
        (entries = dec_field(d, obj, "entries")) == NULL) {
        return -1;
    }
    if (a->prev_log_term > m->term) {
        return codec_fail(&d->e, "prev_log_term %llu is above term %llu",
                          (unsigned long long)a->prev_log_term,
                          (unsigned long long)m->term);
    }
    return dec_entries(d, entries, m);
}

/* ------------------------------------------------------------------------
 * Decoding: the entry point.
 */

typedef int (*codec_dec_fn)(struct codec_dec *d, json_t *obj,
                            struct raft_msg *m);

static codec_dec_fn dec_fn_for(enum raft_msg_type type)
{
    switch (type) {
    case RAFT_MSG_VOTE:
        return dec_vote;
    case RAFT_MSG_VOTE_RESULT:
        return dec_vote_result;
    case RAFT_MSG_APPEND:
        return dec_append;
    case RAFT_MSG_APPEND_RESULT:
        return dec_append_result;
    case RAFT_MSG_TIMEOUT_NOW:
        return dec_timeout_now;
    default:
        return NULL;
    }
}

static json_t *dec_parse(struct codec_dec *d, const char *buf, size_t len)
{
    json_error_t jerr;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

    if (root == NULL) {
        codec_fail(&d->e, "bad JSON at byte %d: %s", jerr.position, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        codec_fail(&d->e, "body must be a JSON object");
        json_decref(root);
        return NULL;
    }
    return root;
}

int codec_decode(enum raft_msg_type type, const char *buf, size_t len,
                 const struct codec_nodes *nodes, struct raft_msg *out,
                 char *err, size_t errlen)
{
    struct codec_dec d = {nodes, {err, errlen, false}, ""};
    codec_dec_fn fn = dec_fn_for(type);
    json_t *root;
    int rc;

    memset(out, 0, sizeof(*out));
    if (fn == NULL) {
        return codec_fail(&d.e, "cannot decode message type %d", (int)type);
    }
    root = dec_parse(&d, buf, len);
    if (root == NULL) {
        return -1;
    }
    out->type = type;
    rc = dec_header(&d, root, out);
    if (rc == 0) {
        rc = fn(&d, root, out);
    }
    json_decref(root);
    if (rc < 0) {
        codec_msg_release(out);
    }
    return rc;
}

void codec_msg_release(struct raft_msg *m)
{
    if (m->type == RAFT_MSG_APPEND) {
        free(m->u.append.entries);
    }
    memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------------
 * Snapshot chunks.
 */

/* A chunk's fields fit together: the decoder's rules, shared with the
 * encoder so that it never produces what a receiver refuses. */
static int chunk_check(const struct codec_chunk *c, struct codec_err *e)
{
    if (c->len > CODEC_MAX_CHUNK_BYTES) {
        return codec_fail(e, "chunk of %zu bytes, at most %u", c->len,
                          CODEC_MAX_CHUNK_BYTES);
    }
    if (c->offset > c->total || c->len > c->total - c->offset) {
        return codec_fail(e, "chunk at %llu of %zu bytes passes total %llu",
                          (unsigned long long)c->offset, c->len,
                          (unsigned long long)c->total);
    }
    if (c->done != (c->offset + c->len == c->total)) {
        return codec_fail(e, "done is %s but the chunk ends at %llu of %llu",
                          c->done ? "true" : "false",
                          (unsigned long long)(c->offset + c->len),
                          (unsigned long long)c->total);
    }
    if (c->last_index == 0 || c->last_term == 0 || c->last_term > c->term) {
        return codec_fail(e,
                          "snapshot at %llu/%llu: index and term must be "
                          "at least 1, the term at most %llu",
                          (unsigned long long)c->last_term,
                          (unsigned long long)c->last_index,
                          (unsigned long long)c->term);
    }
    return 0;
}

char *codec_encode_chunk(const struct codec_chunk *c, size_t *len, char *err,
                         size_t errlen)
{
    struct codec_err e = {err, errlen, false};
    json_t *obj;
    char *b64;

    if (chunk_check(c, &e) < 0 || (c->len > 0 && c->data == NULL)) {
        codec_fail(&e, "chunk without data");
        return NULL;
    }
    obj = json_object();
    b64 = malloc(base64_encoded_len(c->len) + 1);
    if (obj == NULL || b64 == NULL) {
        json_decref(obj);
        free(b64);
        codec_fail(&e, "out of memory");
        return NULL;
    }
    base64_encode(c->data, c->len, b64);
    enc_u64(obj, "term", c->term, &e);
    enc_u64(obj, "from", c->from, &e);
    enc_u64(obj, "to", c->to, &e);
    enc_u64(obj, "last_index", c->last_index, &e);
    enc_u64(obj, "last_term", c->last_term, &e);
    enc_u64(obj, "offset", c->offset, &e);
    enc_u64(obj, "total", c->total, &e);
    enc_bool(obj, "done", c->done, &e);
    if (json_object_set_new(obj, "data", json_string_nocheck(b64)) < 0) {
        codec_fail(&e, "out of memory");
    }
    free(b64);
    return enc_finish(obj, len, &e);
}

/* The chunk's data: canonical base64 of at most CODEC_MAX_CHUNK_BYTES,
 * into a buffer *OUT owns. */
static int dec_chunk_data(struct codec_dec *d, json_t *obj,
                          struct codec_chunk *out)
{
    json_t *data = dec_field(d, obj, "data");
    size_t n;
    uint8_t *buf;
    long got;

    if (data == NULL) {
        return -1;
    }
    if (!json_is_string(data)) {
        return codec_fail(&d->e, "field \"data\" must be a base64 string");
    }
    n = json_string_length(data);
    if (base64_decoded_max(n) == (size_t)-1) {
        return codec_fail(&d->e, "data: bad base64");
    }
    if (dec_b64_len(json_string_value(data), n) > CODEC_MAX_CHUNK_BYTES) {
        return codec_fail(&d->e, "chunk over %u bytes", CODEC_MAX_CHUNK_BYTES);
    }
    buf = malloc(base64_decoded_max(n) + 1);
    if (buf == NULL) {
        return codec_fail(&d->e, "out of memory");
    }
    got = base64_decode(json_string_value(data), n, buf);
    if (got < 0) {
        free(buf);
        return codec_fail(&d->e, "data: bad base64");
    }
    out->data = buf;
    out->len = (size_t)got;
    return 0;
}

static int dec_chunk_fields(struct codec_dec *d, json_t *obj,
                            struct codec_chunk *out)
{
    if (dec_ids(d, obj, &out->term, &out->from, &out->to) < 0 ||
        dec_u64(d, obj, "last_index", &out->last_index) < 0 ||
        dec_u64(d, obj, "last_term", &out->last_term) < 0 ||
        dec_u64(d, obj, "offset", &out->offset) < 0 ||
        dec_u64(d, obj, "total", &out->total) < 0 ||
        dec_bool(d, obj, "done", &out->done) < 0 ||
        dec_chunk_data(d, obj, out) < 0) {
        return -1;
    }
    return chunk_check(out, &d->e);
}

int codec_decode_chunk(const char *buf, size_t len,
                       const struct codec_nodes *nodes, struct codec_chunk *out,
                       char *err, size_t errlen)
{
    struct codec_dec d = {nodes, {err, errlen, false}, ""};
    json_t *root;
    int rc;

    memset(out, 0, sizeof(*out));
    root = dec_parse(&d, buf, len);
    if (root == NULL) {
        return -1;
    }
    rc = dec_chunk_fields(&d, root, out);
    json_decref(root);
    if (rc < 0) {
        codec_chunk_release(out);
    }
    return rc;
}

void codec_chunk_release(struct codec_chunk *c)
{
    free((void *)c->data);
    memset(c, 0, sizeof(*c));
}

char *codec_encode_chunk_result(const struct codec_chunk_result *r, size_t *len,
                                char *err, size_t errlen)
{
    struct codec_err e = {err, errlen, false};
    json_t *obj = json_object();

    if (obj != NULL) {
        enc_u64(obj, "term", r->term, &e);
        enc_u64(obj, "from", r->from, &e);
        enc_u64(obj, "to", r->to, &e);
        enc_bool(obj, "success", r->success, &e);
        enc_u64(obj, "next_offset", r->next_offset, &e);
        enc_u64(obj, "match_index", r->match_index, &e);
    }
    return enc_finish(obj, len, &e);
}

int codec_decode_chunk_result(const char *buf, size_t len,
                              const struct codec_nodes *nodes,
                              struct codec_chunk_result *out, char *err,
                              size_t errlen)
{
    struct codec_dec d = {nodes, {err, errlen, false}, ""};
    json_t *root;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    root = dec_parse(&d, buf, len);
    if (root == NULL) {
        return -1;
    }
    if (dec_ids(&d, root, &out->term, &out->from, &out->to) == 0 &&
        dec_bool(&d, root, "success", &out->success) == 0 &&
        dec_u64(&d, root, "next_offset", &out->next_offset) == 0 &&
        dec_u64(&d, root, "match_index", &out->match_index) == 0) {
        rc = 0;
    }
    json_decref(root);
    if (rc < 0) {
        memset(out, 0, sizeof(*out));
    }
    return rc;
}
