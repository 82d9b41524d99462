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
 *
 * Streaming: a call with on_body set hands the body of a 2xx answer to it
 * piece by piece as it arrives (decoded when chunked), instead of keeping
 * it, so the body is not bounded in size, only in time (total_ms), and
 * memory stays small. Any other status is kept in resp_body as usual, so
 * the caller can read its {"error"}.
 */
#ifndef VARDE_HTTP_CLIENT_H
#define VARDE_HTTP_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

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
    HTTP_E_STOPPED, /* on_body returned non-zero: the caller stopped it */
};

/* Where streamed body bytes go: LEN > 0 bytes at DATA, borrowed for the
 * call. Returns 0 to go on, anything else to stop. */
typedef int (*http_body_cb)(void *arg, const char *data, size_t len);

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
    http_body_cb on_body;     /* NULL: keep the body in resp_body */
    void *on_body_arg;

    /* outputs */
    int error;        /* enum http_error; HTTP_OK when an answer came */
    char errmsg[256]; /* one line, naming the address, when error != 0 */
    int status;       /* HTTP status code of the answer, e.g. 200 */
    int retry_after;  /* Retry-After in seconds; -1: none, or not seconds */
    char *resp_body;  /* malloc'd, NUL-terminated; free: http_call_clear;
                         NULL when the body went to on_body */
    size_t resp_len;  /* bytes in resp_body, without the NUL */
    size_t streamed;  /* bytes handed to on_body, even if the call failed */
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

/* ---------------------------------------------------------------------
 * A chunked body, decoded as it comes (RFC 9112, section 7.1): the size
 * line of each chunk (hex digits, maybe extensions, which are skipped),
 * its data and CRLF, then a chunk of size 0, trailer lines (skipped) and a
 * blank line. Line ends must be CRLF. Bounded: a size of at most 2^60,
 * HTTP_DECHUNK_LINE_MAX bytes of extensions on a size line,
 * HTTP_DECHUNK_TRAILERS_MAX bytes of trailers. The fields are private. */

#define HTTP_DECHUNK_LINE_MAX 4096
#define HTTP_DECHUNK_TRAILERS_MAX (16u << 10)

enum http_dechunk_result {
    HTTP_DECHUNK_MORE,    /* every byte given was used; the body goes on */
    HTTP_DECHUNK_END,     /* the body ended: the blank line after trailers */
    HTTP_DECHUNK_BAD,     /* not a chunked body */
    HTTP_DECHUNK_STOPPED, /* the sink returned non-zero */
};

struct http_dechunk {
    int state;
    uint64_t left;   /* bytes of the current chunk still to come */
    unsigned digits; /* of the size line so far */
    size_t line;     /* bytes of extensions on the size line */
    size_t trailers; /* bytes of trailers so far */
    bool last_seen;  /* the size line of the last chunk is in */
};

/* Ready D for a new body. */
void http_dechunk_init(struct http_dechunk *d);

/* Decode LEN more bytes of the body at IN. The data of the chunks goes to
 * SINK(ARG, ...) in order, each piece pointing into IN (so a sink that
 * moves it down within the same buffer decodes in place). *USED (USED may
 * be NULL) gets the bytes of IN taken: all of them for MORE, those up to
 * the end for END, those before the fault for BAD, and those up to and
 * including the refused piece for STOPPED. After END or BAD, further calls
 * answer the same and take nothing. */
enum http_dechunk_result http_dechunk_feed(struct http_dechunk *d,
                                           const char *in, size_t len,
                                           size_t *used, http_body_cb sink,
                                           void *arg);

/* True once the size line of the last chunk (size 0) is in: the data is
 * complete, though trailers and the final blank line may still follow. */
bool http_dechunk_data_done(const struct http_dechunk *d);

/* Split "HOST:PORT" or "[V6ADDR]:PORT" into HOST and PORT (digits, 1 to
 * 65535). Returns 0, or -1 with a one-line reason in ERR. */
int http_split_addr(const char *addr, char *host, size_t host_len, char *port,
                    size_t port_len, char *err, size_t err_len);

#endif
