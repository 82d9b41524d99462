/* api.h - calls to the raft cluster's HTTP API, as the CLI makes them.
 *
 * The user names one raft node or a comma list of them (--addr,
 * $VARDE_ADDR). Any node takes any request (a follower forwards it to the
 * leader), so a call goes to the first node of the list and moves on only
 * when that is safe and useful:
 *
 *   - no connection could be made, so nothing was sent: the next node, at
 *     once. A read (GET) also moves on when its answer broke off or never
 *     came.
 *   - 503 with Retry-After (no leader yet, or the node is cut off from
 *     it): wait what the server asks, at least API_WAIT_MIN_MS and at most
 *     API_WAIT_MAX_MS at a time, then the next node; API_RETRY_MS in all.
 *   - any other answer, error statuses included, is the answer.
 *
 * A write whose answer was lost is never sent again, since it may have
 * been applied: api_failure says so instead.
 */
#ifndef VARDE_API_H
#define VARDE_API_H

#include "cli/http_client.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define API_MAX_ADDRS 16
#define API_ADDR_MAX 128
#define API_CONNECT_MS 2000
#define API_TOTAL_MS 20000 /* one try: above the nodes' forwarding limit */
#define API_RETRY_MS 5000  /* all retries of a 503 together */
#define API_WAIT_MIN_MS 100
#define API_WAIT_MAX_MS 1000
#define API_MAX_TRIES 100
#define API_ERR_SHOWN 300 /* bytes of a server's message we print */

/* The nodes to ask, in order. */
struct api_addrs {
    size_t n;
    char addr[API_MAX_ADDRS][API_ADDR_MAX];
};

/* One request. Pointers are borrowed for the call. */
struct api_req {
    const char *method; /* "GET", "POST", "PUT", "DELETE" */
    const char *path;   /* with any query string */
    const char *body;   /* NULL when body_len is 0 */
    size_t body_len;
    const char *content_type; /* NULL: application/json with a body */
    size_t max_response;      /* 0: HTTP_MAX_RESPONSE */
    int total_ms;             /* one try; 0: API_TOTAL_MS */
    int retry_ms;             /* all 503 retries; 0: API_RETRY_MS, <0: none */
};

/* The outcome of api_call: the last try, and how it came about. */
struct api_res {
    struct http_call call; /* error, status, resp_body of the last try */
    const char *addr;      /* the node of the last try (in the addrs) */
    bool write;            /* the method was not GET */
    int tries;
    int64_t ms;                /* all tries together */
    size_t unreachable;        /* tries that reached no node */
    char unreachable_why[512]; /* their errors, "; " between them */
};

/* Parse LIST, "HOST:PORT" or "HOST:PORT,HOST:PORT,..." (at most
 * API_MAX_ADDRS; empty items are skipped), into OUT. Returns 0, or -1
 * with a one-line reason in ERR naming the bad item. */
int api_parse_addrs(const char *list, struct api_addrs *out, char *err,
                    size_t errlen);

/* Send REQ to the nodes of ADDRS as described at the top of this file,
 * into RES (zeroed by this call; free it with api_res_clear). Returns 0
 * when a node answered (any status), -1 when none did. */
int api_call(const struct api_addrs *addrs, const struct api_req *req,
             struct api_res *res);

/* Free what RES holds. */
void api_res_clear(struct api_res *res);

/* The answer's body as a JSON object (a new reference), or NULL when
 * there is none or it is not an object. */
json_t *api_json(const struct api_res *res);

/* True when the answer is a 404 for the path itself ("no such path": a
 * node of a version without this API), not for what it names. */
bool api_no_route(const struct api_res *res, json_t *body);

/* One line in BUF (no newline) saying why RES is not a success: that no
 * node answered, that a write may or may not have happened, or the
 * server's {"error"} (cleaned, cut at API_ERR_SHOWN bytes), with the tries
 * when a 503 was retried. BODY is api_json(RES) or NULL. */
void api_failure(const struct api_res *res, json_t *body, char *buf,
                 size_t len);

/* PREFIX, then SEGMENT percent-encoded (all but A-Z a-z 0-9 - . _ ~, and
 * '/' when SLASH_OK), then QUERY (may be ""). Returns a malloc'd string,
 * or NULL when out of memory. */
char *api_path(const char *prefix, const char *segment, bool slash_ok,
               const char *query);

/* Copy S to BUF with each control byte replaced by '?', at most MAX bytes
 * of it (less when BUF is smaller): text from a server or a user, on its
 * way to a terminal. */
void api_clean(const char *s, size_t max, char *buf, size_t len);

#endif
