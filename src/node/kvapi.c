/* kvapi.c - parse key-value requests and build their answers (kvapi.h).
 *
 * The query string is parsed here rather than by libevent, to be strict:
 * libevent's parser accepts repeated names and hands back the first, which
 * would let "?cas=5&cas=0" mean something the client did not see.
 */
#include "node/kvapi.h"

#include "transport/base64.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define KVAPI_INT_MAX ((uint64_t)INT64_MAX)

__attribute__((format(printf, 4, 5))) static int
kvapi_fail(int status, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    for (char *s = err; errlen > 0 && *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
            *s = '?';
        }
    }
    return status;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

/* Percent-decode the key S into OUT. */
static int parse_key(const char *s, struct kvapi_req *out, char *err,
                     size_t errlen)
{
    size_t n = 0;
    char why[128];

    for (size_t i = 0; s[i] != '\0'; i++) {
        char c = s[i];

        if (c == '%') {
            int hi = hex_value(s[i + 1]);
            int lo = hi < 0 ? -1 : hex_value(s[i + 2]);

            if (lo < 0) {
                return kvapi_fail(400, err, errlen,
                                  "key: bad percent-encoding at byte %zu", i);
            }
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (n == SM_MAX_KEY) {
            return kvapi_fail(400, err, errlen,
                              "key is over the limit of %d bytes", SM_MAX_KEY);
        }
        out->key[n++] = c;
    }
    out->key[n] = '\0';
    if (sm_key_check(out->key, n, why, sizeof(why)) < 0) {
        return kvapi_fail(400, err, errlen, "key: %s", why);
    }
    out->key_len = (uint16_t)n;
    return 0;
}

/* A decimal index, all of the N bytes at S, at most 2^63-1. */
static int parse_index(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;

    if (n == 0 || n > 19) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > KVAPI_INT_MAX) {
        return -1;
    }
    *out = v;
    return 0;
}

/* A flag's value: absent or empty, true, 1 -> true; false, 0 -> false. */
static int parse_flag(const char *v, size_t n, bool *out)
{
    if (v == NULL || n == 0 || (n == 4 && memcmp(v, "true", 4) == 0) ||
        (n == 1 && v[0] == '1')) {
        *out = true;
        return 0;
    }
    if ((n == 5 && memcmp(v, "false", 5) == 0) || (n == 1 && v[0] == '0')) {
        *out = false;
        return 0;
    }
    return -1;
}

static bool name_is(const char *name, size_t n, const char *want)
{
    return strlen(want) == n && memcmp(name, want, n) == 0;
}

/* One "name[=value]" of the query. SEEN: bit per known name. */
static int parse_param(const char *p, size_t len, struct kvapi_req *out,
                       unsigned *seen, char *err, size_t errlen)
{
    const char *eq = memchr(p, '=', len);
    size_t nlen = eq ? (size_t)(eq - p) : len;
    const char *v = eq ? eq + 1 : NULL;
    size_t vlen = eq ? len - nlen - 1 : 0;
    bool write = out->op != KVAPI_GET;
    unsigned bit;
    int rc;

    if (name_is(p, nlen, "cas") && write) {
        bit = 1;
        rc = v ? parse_index(v, vlen, &out->cas) : -1;
        out->cas_set = true;
    } else if (name_is(p, nlen, "stale") && !write) {
        bit = 2;
        rc = parse_flag(v, vlen, &out->stale);
    } else if (name_is(p, nlen, "raw") && !write) {
        bit = 4;
        rc = parse_flag(v, vlen, &out->raw);
    } else {
        return kvapi_fail(400, err, errlen,
                          "unknown query parameter \"%.*s\" for %s (known: "
                          "%s)",
                          (int)(nlen > 40 ? 40 : nlen), p,
                          write ? "a write" : "a read",
                          write ? "cas" : "stale, raw");
    }
    if (*seen & bit) {
        return kvapi_fail(400, err, errlen, "query parameter \"%.*s\" repeated",
                          (int)nlen, p);
    }
    *seen |= bit;
    if (rc < 0) {
        return kvapi_fail(400, err, errlen, "%.*s=%.*s: expected %s", (int)nlen,
                          p, (int)(vlen > 40 ? 40 : vlen), v ? v : "",
                          bit == 1 ? "an index, 0 to 2^63-1"
                                   : "no value, true or false");
    }
    return 0;
}

static int parse_query(const char *q, struct kvapi_req *out, char *err,
                       size_t errlen)
{
    unsigned seen = 0;

    while (q != NULL && *q != '\0') {
        const char *amp = strchr(q, '&');
        size_t len = amp ? (size_t)(amp - q) : strlen(q);
        int rc = len > 0 ? parse_param(q, len, out, &seen, err, errlen) : 0;

        if (rc != 0) {
            return rc;
        }
        q = amp ? amp + 1 : NULL;
    }
    return 0;
}

int kvapi_parse(enum kvapi_op op, const char *path, const char *query,
                size_t body_len, struct kvapi_req *out, char *err,
                size_t errlen)
{
    size_t plen = strlen(KVAPI_PREFIX);
    int rc;

    memset(out, 0, sizeof(*out));
    out->op = op;
    if (strncmp(path, KVAPI_PREFIX, plen) != 0) {
        return kvapi_fail(400, err, errlen, "path must start with %s",
                          KVAPI_PREFIX);
    }
    if (path[plen] == '\0') {
        return kvapi_fail(400, err, errlen, "missing key: %sKEY", KVAPI_PREFIX);
    }
    if (op == KVAPI_PUT && body_len > SM_MAX_VALUE) {
        return kvapi_fail(413, err, errlen,
                          "value of %zu bytes is over the limit of %d",
                          body_len, SM_MAX_VALUE);
    }
    rc = parse_key(path + plen, out, err, errlen);
    if (rc == 0) {
        rc = parse_query(query, out, err, errlen);
    }
    return rc;
}

void kvapi_command(const struct kvapi_req *r, const void *body, size_t len,
                   struct sm_command *out)
{
    memset(out, 0, sizeof(*out));
    out->op = r->op == KVAPI_DELETE ? SM_OP_DEL : SM_OP_PUT;
    out->flags = r->cas_set ? SM_FLAG_CAS : 0;
    out->cas = r->cas;
    out->key = r->key;
    out->key_len = r->key_len;
    if (r->op == KVAPI_PUT) {
        out->value = body;
        out->value_len = (uint32_t)len;
    }
}

/* The value as a JSON string if it is valid UTF-8 without NUL, else NULL. */
static json_t *value_string(const struct kv_entry *e)
{
    if (e->value_len == 0) {
        return json_string("");
    }
    if (memchr(e->value, '\0', e->value_len) != NULL) {
        return NULL;
    }
    return json_stringn((const char *)e->value, e->value_len);
}

json_t *kvapi_entry_json(const struct kv_entry *e)
{
    json_t *obj = json_pack("{s:s%,s:I,s:I}", "key", e->key, (size_t)e->key_len,
                            "create_index", (json_int_t)e->create_index,
                            "modify_index", (json_int_t)e->modify_index);
    json_t *v = value_string(e);
    char *b64;

    if (obj == NULL) {
        json_decref(v);
        return NULL;
    }
    if (v != NULL) {
        json_object_set_new(obj, "value", v);
        return obj;
    }
    b64 = malloc(base64_encoded_len(e->value_len) + 1);
    if (b64 == NULL) {
        json_decref(obj);
        return NULL;
    }
    base64_encode(e->value, e->value_len, b64);
    json_object_set_new(obj, "value_base64", json_string(b64));
    free(b64);
    return obj;
}

json_t *kvapi_write_json(const struct kvapi_req *r, enum kv_result res,
                         uint64_t index, const struct kv_entry *current,
                         int *status)
{
    switch (res) {
    case KV_OK:
    case KV_NOT_FOUND:
        *status = 200;
        if (r->op == KVAPI_DELETE) {
            return json_pack("{s:s,s:I,s:b}", "key", r->key, "index",
                             (json_int_t)index, "deleted", res == KV_OK);
        }
        return json_pack("{s:s,s:I}", "key", r->key, "index",
                         (json_int_t)index);
    case KV_CAS_FAILED:
        *status = 409;
        return json_pack("{s:s,s:s,s:I,s:I}", "error", "compare-and-set lost",
                         "key", r->key, "index", (json_int_t)index,
                         "modify_index",
                         (json_int_t)(current ? current->modify_index : 0));
    case KV_NO_MEMORY:
        break;
    }
    *status = 500;
    return json_pack("{s:s,s:I}", "error",
                     "out of memory applying the write: this node stops",
                     "index", (json_int_t)index);
}
