/* http_client.c - blocking HTTP/1.1 calls over non-blocking sockets.
 *
 * Each call is a small state machine, and one poll(2) loop drives them all:
 *
 *   CONNECTING  connect() is in progress to one resolved address. POLLOUT
 *               and then SO_ERROR tell the outcome; on failure the next
 *               address is tried ("localhost" may be ::1, then 127.0.0.1).
 *   SENDING     the request, head and body in one buffer (POLLOUT).
 *   RECEIVING   reads into a growing buffer (POLLIN). The answer is complete
 *               when the head is in and Content-Length bytes of body have
 *               arrived, or else at end of file: we ask for
 *               "Connection: close", so a chunked body or one without a
 *               length ends when the server closes.
 *               Streaming (on_body set, a 2xx status): once the head is
 *               in, the buffer holds only what the last read brought;
 *               the body goes to on_body at once (through the chunked
 *               decoder when chunked), and the answer is complete after
 *               Content-Length bytes, at the last chunk, or at end of file.
 *   DONE        either error and errmsg, or status and body, are set.
 *
 * Deadlines: connect_ms from the start of the call until connected,
 * total_ms from the start until the whole answer is in. The loop sleeps in
 * poll() until the earliest deadline of any call still running, so each turn
 * either makes progress or ends a call, and the loop ends by the latest
 * deadline. Sizes are bounded: the head by HEAD_MAX, the body by
 * max_response.
 */
#include "cli/http_client.h"
#include "util/token.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX (64u << 10)
#define FIRST_BUF (16u << 10)

enum conn_state { ST_CONNECTING, ST_SENDING, ST_RECEIVING, ST_DONE };

struct conn {
    struct http_call *call;
    enum conn_state state;
    int fd;
    struct addrinfo *ai_list;
    struct addrinfo *ai_next; /* the next address to try */
    int last_errno;           /* of the last failed connect */

    char *out; /* the request */
    size_t out_len, out_off;

    char *in; /* the answer so far */
    size_t in_len, in_cap;
    size_t head_len;       /* bytes of head, blank line included; 0: not yet */
    size_t scan;           /* where the search for the blank line resumes */
    long long content_len; /* -1: no Content-Length */
    bool chunked;
    bool stream;            /* the body goes to the call's on_body */
    long long stream_left;  /* streaming with a length: bytes to come */
    struct http_dechunk dc; /* streaming a chunked body */

    int64_t connect_deadline, total_deadline;
    int connect_ms, total_ms;
    size_t max_body;
};

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* strerror() as it reads inside a sentence: "connection refused". */
static const char *errno_text(int e, char *buf, size_t len)
{
    snprintf(buf, len, "%s", strerror(e));
    buf[0] = (char)tolower((unsigned char)buf[0]);
    return buf;
}

static void conn_close(struct conn *c)
{
    if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
    }
    if (c->ai_list) {
        freeaddrinfo(c->ai_list);
        c->ai_list = NULL;
        c->ai_next = NULL;
    }
    free(c->out);
    c->out = NULL;
    free(c->in);
    c->in = NULL;
    c->state = ST_DONE;
}

__attribute__((format(printf, 3, 4))) static void
conn_fail(struct conn *c, enum http_error code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(c->call->errmsg, sizeof c->call->errmsg, fmt, ap);
    va_end(ap);
    c->call->error = code;
    conn_close(c);
}

static void conn_too_big(struct conn *c)
{
    size_t max = c->max_body;

    if (max % (1u << 20) == 0) {
        conn_fail(c, HTTP_E_TOO_BIG, "answer from %s is larger than %zu MiB",
                  c->call->addr, max >> 20);
    } else {
        conn_fail(c, HTTP_E_TOO_BIG, "answer from %s is larger than %zu bytes",
                  c->call->addr, max);
    }
}

int http_split_addr(const char *addr, char *host, size_t host_len, char *port,
                    size_t port_len, char *err, size_t err_len)
{
    const char *h, *h_end, *p;

    if (addr == NULL || addr[0] == '\0') {
        snprintf(err, err_len, "empty address");
        return -1;
    }
    if (addr[0] == '[') {
        h = addr + 1;
        h_end = strchr(h, ']');
        if (h_end == NULL || h_end[1] != ':') {
            snprintf(err, err_len, "expected [V6ADDR]:PORT");
            return -1;
        }
        p = h_end + 2;
    } else {
        h = addr;
        h_end = strrchr(addr, ':');
        if (h_end == NULL) {
            snprintf(err, err_len, "expected HOST:PORT");
            return -1;
        }
        if (strchr(addr, ':') != h_end) {
            snprintf(err, err_len,
                     "an IPv6 address goes in brackets: "
                     "[::1]:7101");
            return -1;
        }
        p = h_end + 1;
    }

    if (h_end == h) {
        snprintf(err, err_len, "no host before the port");
        return -1;
    }
    if ((size_t)(h_end - h) >= host_len) {
        snprintf(err, err_len, "host name too long");
        return -1;
    }

    size_t n = strlen(p);
    long v = 0;
    for (size_t i = 0; i < n && i < 6; i++) {
        v = isdigit((unsigned char)p[i]) ? v * 10 + (p[i] - '0') : -1;
        if (v < 0) {
            break;
        }
    }
    if (n == 0 || n > 5 || v < 1 || v > 65535 || n >= port_len) {
        snprintf(err, err_len, "port must be a number from 1 to 65535");
        return -1;
    }

    memcpy(host, h, (size_t)(h_end - h));
    host[h_end - h] = '\0';
    memcpy(port, p, n + 1);
    return 0;
}

/* No CR, LF, space or control byte: it goes into the request line. */
static bool token_ok(const char *s)
{
    if (s == NULL || s[0] == '\0') {
        return false;
    }
    for (; *s; s++) {
        if ((unsigned char)*s <= ' ' || *s == 0x7f) {
            return false;
        }
    }
    return true;
}

/* "Authorization: Bearer TOKEN\r\n" from VARDE_TOKEN, or "" when it is
 * not set (a token with a line break in it is not sent: the server's 401
 * then says what is missing). */
static void conn_auth_header(char *buf, size_t len)
{
    const char *t = getenv("VARDE_TOKEN");

    buf[0] = '\0';
    if (t != NULL && t[0] != '\0' && strlen(t) <= TOKEN_MAX &&
        strpbrk(t, "\r\n") == NULL) {
        snprintf(buf, len, "Authorization: Bearer %s\r\n", t);
    }
}

static int conn_build_request(struct conn *c)
{
    const struct http_call *call = c->call;
    const char *ctype = call->content_type;
    char auth[TOKEN_MAX + 32];
    size_t cap;
    int n;

    if (ctype == NULL) {
        ctype = "application/json";
    }
    conn_auth_header(auth, sizeof(auth));
    cap = strlen(call->method) + strlen(call->path) + strlen(call->addr) +
          strlen(ctype) + strlen(auth) + 256 + call->body_len;
    c->out = malloc(cap);
    if (c->out == NULL) {
        return -1;
    }
    n = snprintf(c->out, cap,
                 "%s %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: varde-cli\r\n"
                 "Accept: application/json\r\nConnection: close\r\n"
                 "%sContent-Length: %zu\r\n%s%s%s\r\n",
                 call->method, call->path, call->addr, auth, call->body_len,
                 call->body_len ? "Content-Type: " : "",
                 call->body_len ? ctype : "", call->body_len ? "\r\n" : "");
    if (n < 0 || (size_t)n + call->body_len > cap) {
        return -1;
    }
    if (call->body_len > 0) {
        memcpy(c->out + n, call->body, call->body_len);
    }
    c->out_len = (size_t)n + call->body_len;
    return 0;
}

/* Start connect() to the next address; fail the call when none is left. */
static void conn_try_next(struct conn *c)
{
    char eb[128];

    while (c->ai_next != NULL) {
        struct addrinfo *ai = c->ai_next;
        int fd;

        c->ai_next = ai->ai_next;
        fd = socket(ai->ai_family,
                    ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            c->last_errno = errno;
            continue;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
            c->fd = fd;
            c->state = ST_SENDING;
            return;
        }
        if (errno == EINPROGRESS) {
            c->fd = fd;
            c->state = ST_CONNECTING;
            return;
        }
        c->last_errno = errno;
        close(fd);
    }
    conn_fail(c, HTTP_E_CONNECT, "cannot connect to %s: %s", c->call->addr,
              errno_text(c->last_errno, eb, sizeof eb));
}

static void conn_start(struct conn *c, struct http_call *call,
                       const struct http_opts *o, int64_t now)
{
    char host[256], port[8], why[128];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICSERV};
    int rc;

    c->call = call;
    c->fd = -1;
    c->content_len = -1;
    c->last_errno = ECONNREFUSED;
    c->connect_ms = o->connect_ms;
    c->total_ms = o->total_ms;
    c->connect_deadline = now + o->connect_ms;
    c->total_deadline = now + o->total_ms;
    c->max_body = o->max_response;
    call->error = HTTP_OK;
    call->errmsg[0] = '\0';
    call->status = 0;
    call->retry_after = -1;
    call->resp_body = NULL;
    call->resp_len = 0;
    call->streamed = 0;

    if (call->addr == NULL ||
        http_split_addr(call->addr, host, sizeof host, port, sizeof port, why,
                        sizeof why) < 0) {
        conn_fail(c, HTTP_E_ADDR, "bad address '%s': %s",
                  call->addr ? call->addr : "", why);
        return;
    }
    if (!token_ok(call->method) || !token_ok(call->path) ||
        call->path[0] != '/' || (call->body_len > 0 && call->body == NULL)) {
        conn_fail(c, HTTP_E_PROTO, "bad request to %s", call->addr);
        return;
    }
    rc = getaddrinfo(host, port, &hints, &c->ai_list);
    if (rc != 0) {
        c->ai_list = NULL;
        conn_fail(c, HTTP_E_ADDR, "cannot resolve '%s': %s", host,
                  gai_strerror(rc));
        return;
    }
    c->ai_next = c->ai_list;
    if (conn_build_request(c) < 0) {
        conn_fail(c, HTTP_E_NOMEM, "out of memory");
        return;
    }
    conn_try_next(c);
}

/* "HTTP/1.1 200 OK": the status code, or -1. */
static int parse_status_line(const char *line)
{
    int status = 0;

    if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
        line[8] != ' ') {
        return -1;
    }
    for (int i = 9; i < 12; i++) {
        if (!isdigit((unsigned char)line[i])) {
            return -1;
        }
        status = status * 10 + (line[i] - '0');
    }
    return status;
}

/* Retry-After as delta-seconds ("3", bounded to a day), or -1 for anything
 * else (absent, an HTTP date, garbage). */
static int parse_seconds(const char *value)
{
    int v = 0;
    size_t i;

    for (i = 0; isdigit((unsigned char)value[i]); i++) {
        if (i >= 9) {
            return -1;
        }
        v = v * 10 + (value[i] - '0');
    }
    if (i == 0 || (value[i] != '\0' && !isspace((unsigned char)value[i]))) {
        return -1;
    }
    return v < 86400 ? v : 86400;
}

/* One header line, NUL-terminated. Returns 0, or -1 when the call failed. */
static int conn_header(struct conn *c, char *line)
{
    char *colon = strchr(line, ':'), *value, *end;
    long long v;

    if (colon == NULL) {
        return 0;
    }
    *colon = '\0';
    value = colon + 1 + strspn(colon + 1, " \t");
    if (strcasecmp(line, "transfer-encoding") == 0) {
        c->chunked = c->chunked || strcasestr(value, "chunked") != NULL;
        return 0;
    }
    if (strcasecmp(line, "retry-after") == 0) {
        c->call->retry_after = parse_seconds(value);
        return 0;
    }
    if (strcasecmp(line, "content-length") != 0) {
        return 0;
    }
    v = strtoll(value, &end, 10);
    if (!isdigit((unsigned char)value[0]) || v < 0 ||
        (*end != '\0' && !isspace((unsigned char)*end))) {
        conn_fail(c, HTTP_E_PROTO, "bad Content-Length from %s", c->call->addr);
        return -1;
    }
    c->content_len = v;
    return 0;
}

/* Parse the status line and the headers we care about. HEAD is a copy of
 * the head, NUL-terminated, which this cuts into lines. Returns 0 or -1
 * (the call failed). */
static int conn_parse_head(struct conn *c, char *head)
{
    char *line, *eol;

    c->call->status = parse_status_line(head);
    if (c->call->status < 0) {
        conn_fail(c, HTTP_E_PROTO, "%s did not answer in HTTP/1.x",
                  c->call->addr);
        return -1;
    }
    for (line = strstr(head, "\r\n") + 2; *line != '\0'; line = eol + 2) {
        eol = strstr(line, "\r\n");
        if (eol == NULL || eol == line) {
            break;
        }
        *eol = '\0';
        if (conn_header(c, line) < 0) {
            return -1;
        }
    }

    if (c->chunked) {
        c->content_len = -1;
    }
    if (c->call->status == 204 || c->call->status == 304) {
        c->content_len = 0;
    }
    c->stream = c->call->on_body != NULL && c->call->status >= 200 &&
                c->call->status < 300;
    c->stream_left = c->content_len;
    http_dechunk_init(&c->dc);
    if (!c->stream && c->content_len > (long long)c->max_body) {
        conn_too_big(c);
        return -1;
    }
    return 0;
}

/* Look for the end of the head in what has arrived. Returns 0, or -1 when
 * the call failed. */
static int conn_find_head(struct conn *c)
{
    size_t from = c->scan > 3 ? c->scan - 3 : 0;
    char *end, *head;
    int rc;

    end = memmem(c->in + from, c->in_len - from, "\r\n\r\n", 4);
    c->scan = c->in_len;
    if (end == NULL && c->in_len <= HEAD_MAX) {
        return 0;
    }
    if (end == NULL || (size_t)(end - c->in) + 4 > HEAD_MAX) {
        conn_fail(c, HTTP_E_PROTO, "head of the answer from %s is over %u KiB",
                  c->call->addr, HEAD_MAX >> 10);
        return -1;
    }
    c->head_len = (size_t)(end - c->in) + 4;
    head = strndup(c->in, c->head_len);
    if (head == NULL) {
        conn_fail(c, HTTP_E_NOMEM, "out of memory");
        return -1;
    }
    rc = conn_parse_head(c, head);
    free(head);
    return rc;
}

/* ---------------------------------------------------------------------
 * the chunked decoder: one state per place in the grammar */

enum dechunk_state {
    DC_SIZE,         /* hex digits of a chunk's size */
    DC_EXT,          /* after the digits, up to CR: extensions, skipped */
    DC_SIZE_LF,      /* the LF that ends the size line */
    DC_DATA,         /* the chunk's data, LEFT bytes still to come */
    DC_DATA_CR,      /* the CRLF after the data */
    DC_DATA_LF,      /*   its LF */
    DC_TRAILER,      /* the start of a trailer line, or of the blank line */
    DC_TRAILER_LINE, /* inside a trailer line, up to CR */
    DC_TRAILER_LF,   /* the LF that ends a trailer line */
    DC_END_LF,       /* the LF of the blank line that ends the body */
    DC_END,
    DC_BAD,
};

#define DECHUNK_MAX_DIGITS 32 /* leading zeros included */

void http_dechunk_init(struct http_dechunk *d)
{
    memset(d, 0, sizeof *d);
    d->state = DC_SIZE;
}

bool http_dechunk_data_done(const struct http_dechunk *d)
{
    return d->last_seen;
}

static int hex_value(unsigned char ch)
{
    if (ch >= '0' && ch <= '9') {
        return ch - '0';
    }
    if (ch >= 'a' && ch <= 'f') {
        return ch - 'a' + 10;
    }
    return ch >= 'A' && ch <= 'F' ? ch - 'A' + 10 : -1;
}

/* One byte of the size line. Returns the next state. */
static enum dechunk_state dechunk_size(struct http_dechunk *d, unsigned char ch)
{
    int v = hex_value(ch);

    if (v >= 0) {
        if (++d->digits > DECHUNK_MAX_DIGITS || d->left > (1ull << 56)) {
            return DC_BAD;
        }
        d->left = d->left * 16 + (uint64_t)v;
        return DC_SIZE;
    }
    if (d->digits == 0) {
        return DC_BAD;
    }
    if (ch == '\r') {
        return DC_SIZE_LF;
    }
    return ch == ';' || ch == ' ' || ch == '\t' ? DC_EXT : DC_BAD;
}

/* One byte of framing (anything but data) in state D->state. Returns the
 * next state. */
static enum dechunk_state dechunk_step(struct http_dechunk *d, unsigned char ch)
{
    switch ((enum dechunk_state)d->state) {
    case DC_SIZE:
        return dechunk_size(d, ch);
    case DC_EXT:
        if (ch == '\r') {
            return DC_SIZE_LF;
        }
        return ch == '\n' || ++d->line > HTTP_DECHUNK_LINE_MAX ? DC_BAD
                                                               : DC_EXT;
    case DC_SIZE_LF:
        if (ch != '\n') {
            return DC_BAD;
        }
        d->last_seen = d->left == 0;
        return d->left == 0 ? DC_TRAILER : DC_DATA;
    case DC_DATA_CR:
        return ch == '\r' ? DC_DATA_LF : DC_BAD;
    case DC_DATA_LF:
        d->digits = 0;
        d->line = 0;
        return ch == '\n' ? DC_SIZE : DC_BAD;
    case DC_TRAILER:
    case DC_TRAILER_LINE:
        if (++d->trailers > HTTP_DECHUNK_TRAILERS_MAX || ch == '\n') {
            return DC_BAD;
        }
        if (ch == '\r') {
            return d->state == DC_TRAILER ? DC_END_LF : DC_TRAILER_LF;
        }
        return DC_TRAILER_LINE;
    case DC_TRAILER_LF:
        return ch == '\n' ? DC_TRAILER : DC_BAD;
    case DC_END_LF:
        return ch == '\n' ? DC_END : DC_BAD;
    case DC_DATA:
    case DC_END:
    case DC_BAD:
        break;
    }
    return DC_BAD;
}

enum http_dechunk_result http_dechunk_feed(struct http_dechunk *d,
                                           const char *in, size_t len,
                                           size_t *used, http_body_cb sink,
                                           void *arg)
{
    size_t i = 0;
    enum http_dechunk_result rc = HTTP_DECHUNK_MORE;

    while (i < len && d->state != DC_END && d->state != DC_BAD) {
        if (d->state == DC_DATA) {
            size_t n = len - i < d->left ? len - i : (size_t)d->left;

            d->left -= n;
            d->state = d->left == 0 ? DC_DATA_CR : DC_DATA;
            i += n;
            if (sink(arg, in + i - n, n) != 0) {
                rc = HTTP_DECHUNK_STOPPED;
                break;
            }
            continue;
        }
        d->state = dechunk_step(d, (unsigned char)in[i]);
        i += d->state != DC_BAD;
    }
    if (used != NULL) {
        *used = i;
    }
    if (d->state == DC_END) {
        return HTTP_DECHUNK_END;
    }
    return d->state == DC_BAD ? HTTP_DECHUNK_BAD : rc;
}

/* ---------------------------------------------------------------------
 * the body */

/* Decoding a whole chunked body in place, at most MAX bytes of data. */
struct inplace {
    char *buf;
    size_t len, max;
    bool too_big;
};

static int inplace_cb(void *arg, const char *data, size_t len)
{
    struct inplace *p = arg;

    if (len > p->max - p->len) {
        p->too_big = true;
        return -1;
    }
    memmove(p->buf + p->len, data, len);
    p->len += len;
    return 0;
}

/* Decode a chunked body in place. Returns the body's length, -1 when the
 * chunks are malformed or cut short, -2 when the body is over MAX. Once
 * the last chunk is in, what follows (trailers) does not matter. */
static long long dechunk(char *buf, size_t len, size_t max)
{
    struct inplace p = {.buf = buf, .max = max};
    struct http_dechunk d;
    enum http_dechunk_result rc;

    http_dechunk_init(&d);
    rc = http_dechunk_feed(&d, buf, len, NULL, inplace_cb, &p);
    if (p.too_big) {
        return -2;
    }
    if (rc == HTTP_DECHUNK_END || http_dechunk_data_done(&d)) {
        return (long long)p.len;
    }
    return -1;
}

/* Hand the body (LEN bytes at BODY_OFF in the buffer) to the call. */
static void conn_finish(struct conn *c, size_t body_off, size_t len)
{
    memmove(c->in, c->in + body_off, len);
    c->in[len] = '\0'; /* room: the head took at least 4 bytes */
    c->call->resp_body = c->in;
    c->call->resp_len = len;
    c->in = NULL;
    conn_close(c);
}

/* A streamed answer is complete: nothing is kept. */
static void conn_stream_done(struct conn *c)
{
    c->call->resp_body = NULL;
    c->call->resp_len = 0;
    conn_close(c);
}

static int conn_sink_cb(void *arg, const char *data, size_t len)
{
    struct conn *c = arg;

    c->call->streamed += len;
    return c->call->on_body(c->call->on_body_arg, data, len);
}

static void conn_stream_stopped(struct conn *c)
{
    conn_fail(c, HTTP_E_STOPPED, "stopped reading the answer from %s",
              c->call->addr);
}

/* LEN more bytes of a streamed chunked body, at DATA. */
static void conn_stream_chunked(struct conn *c, const char *data, size_t len)
{
    switch (http_dechunk_feed(&c->dc, data, len, NULL, conn_sink_cb, c)) {
    case HTTP_DECHUNK_MORE:
        break;
    case HTTP_DECHUNK_END:
        conn_stream_done(c);
        break;
    case HTTP_DECHUNK_BAD:
        if (http_dechunk_data_done(&c->dc)) {
            conn_stream_done(c); /* only the trailers are wrong */
        } else {
            conn_fail(c, HTTP_E_PROTO, "bad chunked body from %s",
                      c->call->addr);
        }
        break;
    case HTTP_DECHUNK_STOPPED:
        conn_stream_stopped(c);
        break;
    }
}

/* LEN more bytes of a streamed body, at DATA (LEN may be 0: the head just
 * came in). May end the call, which frees the buffer DATA points into. */
static void conn_stream(struct conn *c, const char *data, size_t len)
{
    if (c->chunked) {
        conn_stream_chunked(c, data, len);
        return;
    }
    if (c->stream_left >= 0 && len > (unsigned long long)c->stream_left) {
        len = (size_t)c->stream_left; /* the server sent too much */
    }
    if (len > 0 && conn_sink_cb(c, data, len) != 0) {
        conn_stream_stopped(c);
        return;
    }
    if (c->stream_left >= 0) {
        c->stream_left -= (long long)len;
        if (c->stream_left == 0) {
            conn_stream_done(c);
        }
    }
}

/* End of file during a streamed body. */
static void conn_stream_eof(struct conn *c)
{
    if (c->chunked && !http_dechunk_data_done(&c->dc)) {
        conn_fail(c, HTTP_E_PROTO,
                  "answer from %s cut short (a chunked body without its "
                  "last chunk)",
                  c->call->addr);
    } else if (c->stream_left > 0 && !c->chunked) {
        conn_fail(c, HTTP_E_PROTO,
                  "answer from %s cut short (%lld of %lld "
                  "bytes)",
                  c->call->addr, c->content_len - c->stream_left,
                  c->content_len);
    } else {
        conn_stream_done(c);
    }
}

static void conn_at_eof(struct conn *c)
{
    size_t have;

    if (c->head_len == 0) {
        conn_fail(c, HTTP_E_PROTO, "%s closed the connection %s", c->call->addr,
                  c->in_len ? "in the middle of an answer"
                            : "without an answer");
        return;
    }
    if (c->stream) {
        conn_stream_eof(c);
        return;
    }
    have = c->in_len - c->head_len;
    if (c->content_len >= 0 && have < (size_t)c->content_len) {
        conn_fail(c, HTTP_E_PROTO,
                  "answer from %s cut short (%zu of %lld "
                  "bytes)",
                  c->call->addr, have, c->content_len);
        return;
    }
    if (c->chunked) {
        long long n = dechunk(c->in + c->head_len, have, c->max_body);

        if (n == -2) {
            conn_too_big(c);
            return;
        }
        if (n < 0) {
            conn_fail(c, HTTP_E_PROTO, "bad chunked body from %s",
                      c->call->addr);
            return;
        }
        have = (size_t)n;
    }
    conn_finish(c, c->head_len, have);
}

/* Make room for more of the answer. Returns 0, or -1 when the call failed. */
static int conn_grow(struct conn *c)
{
    size_t limit = HEAD_MAX + c->max_body + 1;
    size_t cap;
    char *p;

    if (c->in_len < c->in_cap) {
        return 0;
    }
    if (c->in_cap >= limit) {
        conn_too_big(c);
        return -1;
    }
    cap = c->in_cap ? c->in_cap * 2 : FIRST_BUF;
    if (cap > limit) {
        cap = limit;
    }
    p = realloc(c->in, cap);
    if (p == NULL) {
        conn_fail(c, HTTP_E_NOMEM, "out of memory");
        return -1;
    }
    c->in = p;
    c->in_cap = cap;
    return 0;
}

/* What the last read brought: look for the head, and stream what may be
 * streamed. Returns 0 to go on reading, -1 when the call is over. */
static int conn_take(struct conn *c)
{
    size_t from = 0;

    if (c->head_len == 0) {
        if (conn_find_head(c) < 0) {
            return -1;
        }
        if (c->head_len == 0 || !c->stream) {
            return 0;
        }
        from = c->head_len; /* the head is parsed: the rest is body */
    } else if (!c->stream) {
        return 0;
    }
    conn_stream(c, c->in + from, c->in_len - from);
    if (c->state == ST_DONE) {
        return -1;
    }
    c->in_len = 0; /* given away: the buffer is free for the next read */
    return 0;
}

static void conn_receive(struct conn *c)
{
    char eb[128];

    for (int turn = 0; turn < 64; turn++) {
        ssize_t r;

        if (conn_grow(c) < 0) {
            return;
        }
        r = recv(c->fd, c->in + c->in_len, c->in_cap - c->in_len, 0);
        if (r == 0) {
            conn_at_eof(c);
            return;
        }
        if (r < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                conn_fail(c, HTTP_E_IO, "connection to %s broke: %s",
                          c->call->addr, errno_text(errno, eb, sizeof eb));
            }
            return;
        }
        c->in_len += (size_t)r;
        if (conn_take(c) < 0) {
            return;
        }
        if (c->head_len > 0 && !c->stream && c->content_len >= 0 &&
            c->in_len - c->head_len >= (size_t)c->content_len) {
            conn_finish(c, c->head_len, (size_t)c->content_len);
            return;
        }
    }
}

static void conn_send(struct conn *c)
{
    char eb[128];

    while (c->out_off < c->out_len) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                         MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) {
            continue;
        }
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (w < 0 && (errno == EPIPE || errno == ECONNRESET)) {
            break; /* it may have answered before closing: read that */
        }
        if (w < 0) {
            conn_fail(c, HTTP_E_IO, "cannot send to %s: %s", c->call->addr,
                      errno_text(errno, eb, sizeof eb));
            return;
        }
        c->out_off += (size_t)w;
    }
    c->state = ST_RECEIVING;
    conn_receive(c);
}

static void conn_connected(struct conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;

    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0) {
        err = errno;
    }
    if (err != 0) {
        c->last_errno = err;
        close(c->fd);
        c->fd = -1;
        conn_try_next(c);
        return;
    }
    c->state = ST_SENDING;
    conn_send(c);
}

static void conn_ready(struct conn *c)
{
    switch (c->state) {
    case ST_CONNECTING:
        conn_connected(c);
        break;
    case ST_SENDING:
        conn_send(c);
        break;
    case ST_RECEIVING:
        conn_receive(c);
        break;
    case ST_DONE:
        break;
    }
}

static int64_t conn_deadline(const struct conn *c)
{
    if (c->state == ST_CONNECTING && c->connect_deadline < c->total_deadline) {
        return c->connect_deadline;
    }
    return c->total_deadline;
}

static void conn_expire(struct conn *c, int64_t now)
{
    if (c->state == ST_DONE || now < conn_deadline(c)) {
        return;
    }
    if (c->state == ST_CONNECTING) {
        conn_fail(c, HTTP_E_CONNECT,
                  "cannot connect to %s: no connection "
                  "within %d ms",
                  c->call->addr,
                  c->connect_ms < c->total_ms ? c->connect_ms : c->total_ms);
    } else if (c->stream) {
        conn_fail(c, HTTP_E_TIMEOUT,
                  "the answer from %s did not end within "
                  "%d ms",
                  c->call->addr, c->total_ms);
    } else {
        conn_fail(c, HTTP_E_TIMEOUT, "no answer from %s within %d ms",
                  c->call->addr, c->total_ms);
    }
}

static short conn_events(const struct conn *c)
{
    return c->state == ST_RECEIVING ? POLLIN : POLLOUT;
}

/* One turn of the loop: wait for the earliest deadline or readiness, then
 * step every call that is ready. Returns false when no call is running. */
static bool run_turn(struct conn *conns, struct pollfd *pfds, size_t n)
{
    int64_t now = now_ms(), next = INT64_MAX;
    bool running = false;
    char eb[128];
    int rc;

    for (size_t i = 0; i < n; i++) {
        conn_expire(&conns[i], now);
        pfds[i].fd = conns[i].state == ST_DONE ? -1 : conns[i].fd;
        pfds[i].events = conn_events(&conns[i]);
        pfds[i].revents = 0;
        if (conns[i].state != ST_DONE) {
            running = true;
            if (conn_deadline(&conns[i]) < next) {
                next = conn_deadline(&conns[i]);
            }
        }
    }
    if (!running) {
        return false;
    }

    rc = poll(pfds, n, next - now > INT_MAX ? INT_MAX : (int)(next - now));
    if (rc < 0 && errno != EINTR) {
        for (size_t i = 0; i < n; i++) {
            if (conns[i].state != ST_DONE) {
                conn_fail(&conns[i], HTTP_E_IO, "poll: %s",
                          errno_text(errno, eb, sizeof eb));
            }
        }
        return false;
    }
    for (size_t i = 0; rc > 0 && i < n; i++) {
        if (pfds[i].fd >= 0 && pfds[i].revents != 0) {
            conn_ready(&conns[i]);
        }
    }
    return true;
}

static void opts_fill(struct http_opts *o, const struct http_opts *given)
{
    *o = given ? *given : (struct http_opts){0};
    if (o->connect_ms <= 0) {
        o->connect_ms = HTTP_CONNECT_MS;
    }
    if (o->total_ms <= 0) {
        o->total_ms = HTTP_TOTAL_MS;
    }
    if (o->max_response == 0) {
        o->max_response = HTTP_MAX_RESPONSE;
    }
}

size_t http_run(struct http_call *calls, size_t n, const struct http_opts *opts)
{
    struct http_opts o;
    struct conn *conns;
    struct pollfd *pfds;
    size_t failed = 0;
    int64_t now = now_ms();

    opts_fill(&o, opts);
    conns = calloc(n ? n : 1, sizeof *conns);
    pfds = calloc(n ? n : 1, sizeof *pfds);
    if (conns == NULL || pfds == NULL) {
        for (size_t i = 0; i < n; i++) {
            calls[i].error = HTTP_E_NOMEM;
            snprintf(calls[i].errmsg, sizeof calls[i].errmsg, "out of memory");
        }
        free(conns);
        free(pfds);
        return n;
    }

    for (size_t i = 0; i < n; i++) {
        conn_start(&conns[i], &calls[i], &o, now);
        if (conns[i].state == ST_SENDING) {
            conn_send(&conns[i]);
        }
    }
    while (run_turn(conns, pfds, n)) {
    }

    for (size_t i = 0; i < n; i++) {
        failed += calls[i].error != HTTP_OK;
    }
    free(conns);
    free(pfds);
    return failed;
}

int http_request(struct http_call *call, const struct http_opts *opts)
{
    http_run(call, 1, opts);
    return call->error;
}

void http_call_clear(struct http_call *call)
{
    free(call->resp_body);
    call->resp_body = NULL;
    call->resp_len = 0;
    call->status = 0;
    call->retry_after = -1;
    call->error = HTTP_OK;
    call->errmsg[0] = '\0';
}
