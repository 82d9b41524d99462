/* kvapi.h - the client key-value API of a raft node, without the network:
 * a request's path, query and body checked and parsed, and the JSON of its
 * answers. docs/kv.md describes the API; node_kv.c serves it.
 *
 * Pure: no I/O, no clock. Every refusal is an HTTP status (400, 413) with a
 * one-line, printable reason fit for {"error": ...}.
 */
#ifndef VARDE_KVAPI_H
#define VARDE_KVAPI_H

#include "sm/command.h"
#include "sm/kv.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KVAPI_PREFIX "/v1/kv/"

enum kvapi_op {
    KVAPI_GET = 1,
    KVAPI_PUT,
    KVAPI_DELETE,
};

/* A parsed request. */
struct kvapi_req {
    enum kvapi_op op;
    char key[SM_MAX_KEY + 1]; /* percent-decoded, NUL-terminated */
    uint16_t key_len;
    bool cas_set; /* ?cas=INDEX: only if the key's modify index is INDEX */
    uint64_t cas; /* 0: only if the key does not exist */
    bool stale;   /* GET ?stale: from this node's state, at once */
    bool raw;     /* GET ?raw: the value itself as the body */
};

/* Parse a request of kind OP. PATH is the request path as received (it
 * starts with KVAPI_PREFIX; the rest is the key, percent-encoded), QUERY
 * the raw query string (NULL or "" when none), BODY_LEN the body's size.
 *
 * The key must pass sm_key_check() once decoded. Query parameters:
 * cas=INDEX (PUT, DELETE; decimal, 0..2^63-1), stale and raw (GET; no
 * value, or true/false/1/0). An unknown or repeated parameter is refused,
 * so that a misspelt ?cas never turns into an unconditional write.
 *
 * Returns 0 with *OUT filled, or the HTTP status to answer (400; 413 for a
 * PUT body above SM_MAX_VALUE) with the reason in ERR. */
int kvapi_parse(enum kvapi_op op, const char *path, const char *query,
                size_t body_len, struct kvapi_req *out, char *err,
                size_t errlen);

/* The command of write request R (PUT or DELETE); a PUT's value is the
 * LEN bytes of BODY, which *OUT then borrows, as it borrows R's key. */
void kvapi_command(const struct kvapi_req *r, const void *body, size_t len,
                   struct sm_command *out);

/* GET's answer for entry E: {"key", "value", "create_index",
 * "modify_index"}, with "value" a JSON string when the value is valid
 * UTF-8 without NUL bytes, else "value_base64" (standard base64) in its
 * place. Returns a new reference, or NULL out of memory. */
json_t *kvapi_entry_json(const struct kv_entry *e);

/* The answer to write R, applied at log INDEX with result RES; CURRENT is
 * the key's entry after it (NULL when absent). Sets *STATUS (200, 409, or
 * 500 when the store ran out of memory) and returns the body, a new
 * reference (NULL out of memory):
 *
 *   200 {"key", "index"}                         a PUT
 *   200 {"key", "index", "deleted": true|false}  a DELETE (false: absent)
 *   409 {"error": "compare-and-set lost", "key", "index", "modify_index"}
 *       modify_index: the key's now (0: absent)
 */
json_t *kvapi_write_json(const struct kvapi_req *r, enum kv_result res,
                         uint64_t index, const struct kv_entry *current,
                         int *status);

#endif
