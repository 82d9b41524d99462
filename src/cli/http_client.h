/* http_client.h - a small blocking HTTP/1.1 client for the command line.
 *
 * The CLI is not on an event loop, so this client uses plain non-blocking
 * sockets and poll(2): http_run() blocks until every call it was given has
 * an answer or has failed, each within its own deadlines. Several calls run
 * at once, so asking five nodes costs one timeout, not five.
 *
 * One request per connection ("Connection: close"); request and response
 * bodies carry a Content-Length (chunked responses are decoded too). The
 * response is bounded in size. Not for daemons: they use evhttp.
 */
#ifndef VARDE_HTTP_CLIENT_H
#define VARDE_HTTP_CLIENT_H

#include <stddef.h>

#define HTTP_CONNECT_MS 2000
#define HTTP_TOTAL_MS 2000
#define HTTP_MAX_RESPONSE (16u << 20)

/* What went wrong with a call; the message in errmsg says it in words. */
enum http_error {
    HTTP_OK = 0,
    HTTP_E_ADDR,    /* not HOST:PORT, or the host does not resolve */
    HTTP_E_CONNECT, /* refused, unreachable, or no connection in time */
    HTTP_E_TIMEOUT, /* connected, but no complete answer in time */
    HTTP_E_IO,      /* the connection broke (reset, ...) */
    HTTP_E_PROTO,   /* the answer is not HTTP/1.x as we understand it */
    HTTP_E_TOO_BIG, /* the answer is larger than the limit */
    HTTP_E_NOMEM,
};

/* Deadlines and limits; zero fields take the defaults above. */
struct http_opts {
    int connect_ms;      /* from the start of the call to connected */
    int total_ms;        /* from the start of the call to the whole answer */
    size_t max_response; /* bytes of body (headers have their own cap) */
};

/* One request and, after http_run(), its outcome. The caller fills the
 * inputs (pointers are borrowed until http_run() returns) and zeroes the
 * rest. */
struct http_call {
    /* inputs */
    const char *method; /* "GET", "POST", "PUT", "DELETE" */
    const char *addr;   /* "HOST:PORT", "[V6ADDR]:PORT" */
    const char *path;   /* "/v1/status", with any query string */
    const char *body;   /* may be NULL when body_len is 0 */
    size_t body_len;
    const char *content_type; /* NULL: "application/json" when a body */

    /* outputs */
    int error;        /* enum http_error; HTTP_OK when an answer came */
    char errmsg[256]; /* one line, naming the address, when error != 0 */
    int status;       /* HTTP status code of the answer, e.g. 200 */
    int retry_after;  /* Retry-After in seconds; -1: none, or not seconds */
    char *resp_body;  /* malloc'd, NUL-terminated; free: http_call_clear */
    size_t resp_len;  /* bytes in resp_body, without the NUL */
};

/* Run the N calls at once and return when each has an answer or failed.
 * OPTS may be NULL for the defaults. A call with error == HTTP_OK got an
 * answer: any status, 4xx and 5xx included. Returns the number of calls that
 * failed (0: every call got an answer). */
size_t http_run(struct http_call *calls, size_t n,
                const struct http_opts *opts);

/* One call: http_run(call, 1, opts). Returns call->error. */
int http_request(struct http_call *call, const struct http_opts *opts);

/* Free the response body and reset the outputs so the call can run again. */
void http_call_clear(struct http_call *call);

/* Split "HOST:PORT" or "[V6ADDR]:PORT" into HOST and PORT (digits, 1 to
 * 65535). Returns 0, or -1 with a one-line reason in ERR. */
int http_split_addr(const char *addr, char *host, size_t host_len, char *port,
                    size_t port_len, char *err, size_t err_len);

#endif
