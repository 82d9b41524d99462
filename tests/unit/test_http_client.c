/* test_http_client.c - the CLI's HTTP client: the chunked decoder fed in
 * pieces of every size, its bounds and its faults; and streaming against
 * a scripted server in a child process (a body handed over as it comes,
 * with a length, chunked, or up to end of file; an error answer kept; a
 * body cut short; a callback that stops), beside the buffered mode. */
#include "harness.h"

#include "cli/http_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#define SERVER_WAIT_MS 5000

/* What a sink received. */
struct sink {
    char buf[4096];
    size_t len;
    int pieces;
    int signal_fd; /* >= 0: write a byte here after each piece */
    int stop_at;   /* > 0: refuse piece number STOP_AT */
};

static int sink_cb(void *arg, const char *data, size_t len)
{
    struct sink *s = arg;

    s->pieces++;
    if (s->stop_at > 0 && s->pieces >= s->stop_at) {
        return -1;
    }
    if (len > sizeof s->buf - s->len) {
        return -1;
    }
    memcpy(s->buf + s->len, data, len);
    s->len += len;
    if (s->signal_fd >= 0 && write(s->signal_fd, "x", 1) != 1) {
        /* the server is gone: what it sent is still the test's to judge */
    }
    return 0;
}

static enum http_dechunk_result feed_all(const char *in, size_t len,
                                         struct sink *s, size_t *used)
{
    struct http_dechunk d;

    http_dechunk_init(&d);
    return http_dechunk_feed(&d, in, len, used, sink_cb, s);
}

#define BODY                                                                   \
    "4\r\nWiki\r\n5;name=value\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n"        \
    "0\r\nX-Trailer: yes\r\n\r\n"
#define DATA "Wikipedia in\r\n\r\nchunks."

/* ---------------------------------------------------------------------
 * the decoder */

TEST(dechunk_decodes_a_body_given_at_once)
{
    struct sink s = {.signal_fd = -1};
    size_t used = 0;

    EXPECT_EQ(feed_all(BODY, strlen(BODY), &s, &used), HTTP_DECHUNK_END);
    EXPECT_EQ(used, strlen(BODY));
    EXPECT_EQ(s.len, strlen(DATA));
    EXPECT_TRUE(memcmp(s.buf, DATA, s.len) == 0);
}

TEST(dechunk_gives_the_same_data_fed_byte_by_byte)
{
    struct sink s = {.signal_fd = -1};
    struct http_dechunk d;
    const char *body = BODY;
    size_t n = strlen(body), used;

    http_dechunk_init(&d);
    for (size_t i = 0; i + 1 < n; i++) {
        EXPECT_EQ(http_dechunk_feed(&d, body + i, 1, &used, sink_cb, &s),
                  HTTP_DECHUNK_MORE);
        EXPECT_EQ(used, 1);
    }
    EXPECT_EQ(http_dechunk_feed(&d, body + n - 1, 1, &used, sink_cb, &s),
              HTTP_DECHUNK_END);
    EXPECT_EQ(s.len, strlen(DATA));
    EXPECT_TRUE(memcmp(s.buf, DATA, s.len) == 0);
}

TEST(dechunk_gives_the_same_data_at_every_split)
{
    const char *body = BODY;
    size_t n = strlen(body);

    for (size_t cut = 0; cut <= n; cut++) {
        struct sink s = {.signal_fd = -1};
        struct http_dechunk d;
        size_t used;

        http_dechunk_init(&d);
        EXPECT_EQ(http_dechunk_feed(&d, body, cut, &used, sink_cb, &s),
                  cut == n ? HTTP_DECHUNK_END : HTTP_DECHUNK_MORE);
        EXPECT_EQ(
            http_dechunk_feed(&d, body + cut, n - cut, &used, sink_cb, &s),
            HTTP_DECHUNK_END);
        EXPECT_EQ(s.len, strlen(DATA));
        EXPECT_TRUE(memcmp(s.buf, DATA, s.len) == 0);
    }
}

TEST(dechunk_stops_at_the_end_of_the_body)
{
    const char in[] = "3\r\nabc\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n";
    struct sink s = {.signal_fd = -1};
    struct http_dechunk d;
    size_t used = 99;

    http_dechunk_init(&d);
    EXPECT_EQ(http_dechunk_feed(&d, in, sizeof in - 1, &used, sink_cb, &s),
              HTTP_DECHUNK_END);
    EXPECT_EQ(used, strlen("3\r\nabc\r\n0\r\n\r\n"));
    EXPECT_EQ(http_dechunk_feed(&d, "1\r\n", 3, &used, sink_cb, &s),
              HTTP_DECHUNK_END);
    EXPECT_EQ(used, 0);
    EXPECT_EQ(s.len, 3);
}

TEST(dechunk_knows_the_data_is_done_before_the_blank_line)
{
    struct sink s = {.signal_fd = -1};
    struct http_dechunk d;

    http_dechunk_init(&d);
    EXPECT_EQ(http_dechunk_feed(&d, "3\r\nabc\r\n", 8, NULL, sink_cb, &s),
              HTTP_DECHUNK_MORE);
    EXPECT_TRUE(!http_dechunk_data_done(&d));
    EXPECT_EQ(http_dechunk_feed(&d, "0\r\n", 3, NULL, sink_cb, &s),
              HTTP_DECHUNK_MORE);
    EXPECT_TRUE(http_dechunk_data_done(&d));
}

TEST(dechunk_takes_upper_case_hex_and_leading_zeros)
{
    const char in[] = "000A\r\n0123456789\r\n00\r\n\r\n";
    struct sink s = {.signal_fd = -1};

    EXPECT_EQ(feed_all(in, sizeof in - 1, &s, NULL), HTTP_DECHUNK_END);
    EXPECT_EQ(s.len, 10);
}

TEST(dechunk_refuses_what_is_not_a_chunked_body)
{
    static const char *const bad[] = {
        "x\r\n",                 /* no digits */
        "\r\n",                  /* empty size */
        "4x\r\nWiki\r\n",        /* junk after the size */
        "4\nWiki\r\n",           /* bare LF after the size */
        "4\r\nWikiXX",           /* no CRLF after the data */
        "4\r\nWiki\r\r",         /* CR CR */
        "4;ext\n",               /* bare LF after an extension */
        "0\r\nX: 1\n",           /* bare LF in a trailer */
        "0\r\n\r\r",             /* the blank line ends in CR CR */
        "11111111111111111\r\n", /* over 2^60 */
        "-1\r\n",                /* a sign */
    };

    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sink s = {.signal_fd = -1};
        size_t used = 0;

        if (feed_all(bad[i], strlen(bad[i]), &s, &used) != HTTP_DECHUNK_BAD) {
            HARNESS_FAIL("accepted bad body %zu: \"%s\"", i, bad[i]);
            return;
        }
        EXPECT_TRUE(used < strlen(bad[i]));
    }
}

TEST(dechunk_answers_bad_again_after_bad)
{
    struct sink s = {.signal_fd = -1};
    struct http_dechunk d;
    size_t used = 9;

    http_dechunk_init(&d);
    EXPECT_EQ(http_dechunk_feed(&d, "z", 1, &used, sink_cb, &s),
              HTTP_DECHUNK_BAD);
    EXPECT_EQ(used, 0);
    EXPECT_EQ(http_dechunk_feed(&d, "1\r\na\r\n", 6, &used, sink_cb, &s),
              HTTP_DECHUNK_BAD);
    EXPECT_EQ(used, 0);
    EXPECT_EQ(s.pieces, 0);
}

/* A body with N bytes of extension on its size line, or of trailers. */
static enum http_dechunk_result long_line(size_t n, bool trailer)
{
    size_t len = n + 64;
    char *in = malloc(len);
    struct sink s = {.signal_fd = -1};
    enum http_dechunk_result rc;
    size_t o;

    if (in == NULL) {
        return HTTP_DECHUNK_STOPPED;
    }
    o = (size_t)snprintf(in, len, trailer ? "0\r\nX: " : "1;");
    memset(in + o, 'a', n);
    o += n;
    o += (size_t)snprintf(in + o, len - o, trailer ? "\r\n\r\n" : "\r\nz\r\n");
    rc = feed_all(in, o, &s, NULL);
    free(in);
    return rc;
}

TEST(dechunk_bounds_extensions_and_trailers)
{
    EXPECT_EQ(long_line(HTTP_DECHUNK_LINE_MAX - 8, false), HTTP_DECHUNK_MORE);
    EXPECT_EQ(long_line(HTTP_DECHUNK_LINE_MAX + 8, false), HTTP_DECHUNK_BAD);
    EXPECT_EQ(long_line(HTTP_DECHUNK_TRAILERS_MAX - 16, true),
              HTTP_DECHUNK_END);
    EXPECT_EQ(long_line(HTTP_DECHUNK_TRAILERS_MAX + 16, true),
              HTTP_DECHUNK_BAD);
}

TEST(dechunk_stops_when_the_sink_refuses)
{
    struct sink s = {.signal_fd = -1, .stop_at = 2};
    size_t used = 0;

    EXPECT_EQ(feed_all(BODY, strlen(BODY), &s, &used), HTTP_DECHUNK_STOPPED);
    EXPECT_EQ(used, strlen("4\r\nWiki\r\n5;name=value\r\npedia"));
    EXPECT_EQ(s.len, 4);
}

TEST(dechunk_passes_every_byte_value)
{
    char in[300], want[256];
    struct sink s = {.signal_fd = -1};
    size_t o;

    for (int i = 0; i < 256; i++) {
        want[i] = (char)i;
    }
    o = (size_t)snprintf(in, sizeof in, "100\r\n");
    memcpy(in + o, want, 256);
    o += 256;
    memcpy(in + o, "\r\n0\r\n\r\n", 7);
    EXPECT_EQ(feed_all(in, o + 7, &s, NULL), HTTP_DECHUNK_END);
    EXPECT_EQ(s.len, 256);
    EXPECT_TRUE(memcmp(s.buf, want, 256) == 0);
}

/* ---------------------------------------------------------------------
 * a scripted server in a child process */

#define WAIT "\001wait" /* a step: wait for a byte from the test */

struct server {
    pid_t pid;
    char addr[32];
    int signal_fd; /* the test writes here; the server reads */
};

/* Wait up to SERVER_WAIT_MS for FD to be readable. */
static bool readable(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};

    return poll(&p, 1, SERVER_WAIT_MS) == 1;
}

/* The child: take one connection, read the request's head, then play the
 * steps, and close. */
static void server_play(int lfd, int sig, const char *const *steps)
{
    char buf[4096];
    size_t have = 0;
    int fd;

    if (!readable(lfd) || (fd = accept(lfd, NULL, NULL)) < 0) {
        _exit(1);
    }
    while (memmem(buf, have, "\r\n\r\n", 4) == NULL) {
        ssize_t r;

        if (have == sizeof buf || !readable(fd) ||
            (r = read(fd, buf + have, sizeof buf - have)) <= 0) {
            _exit(1);
        }
        have += (size_t)r;
    }
    for (; *steps != NULL; steps++) {
        if (strcmp(*steps, WAIT) == 0) {
            if (!readable(sig) || read(sig, buf, 1) != 1) {
                _exit(1); /* no signal: end the answer cut short */
            }
        } else if (write(fd, *steps, strlen(*steps)) < 0) {
            _exit(1);
        }
    }
    close(fd);
    _exit(0);
}

/* Start a server that answers one request with STEPS (strings to write,
 * or WAIT), then closes. Returns 0 or -1. */
static int server_start(struct server *srv, const char *const *steps)
{
    struct sockaddr_in sa = {.sin_family = AF_INET,
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof sa;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), p[2];

    if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
        listen(lfd, 4) < 0 || getsockname(lfd, (struct sockaddr *)&sa, &len) ||
        pipe(p) < 0) {
        return -1;
    }
    snprintf(srv->addr, sizeof srv->addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    srv->pid = fork();
    if (srv->pid < 0) {
        return -1;
    }
    if (srv->pid == 0) {
        close(p[1]);
        server_play(lfd, p[0], steps);
    }
    close(lfd);
    close(p[0]);
    srv->signal_fd = p[1];
    return 0;
}

/* Reap the server; its exit status (0: it played every step). */
static int server_end(struct server *srv)
{
    int st = 0;

    close(srv->signal_fd);
    if (waitpid(srv->pid, &st, 0) != srv->pid) {
        return -1;
    }
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* GET / from a server playing STEPS, streamed into S (or kept, when S is
 * NULL); CALL holds the outcome. Returns the server's exit status. */
static int exchange(const char *const *steps, struct sink *s,
                    struct http_call *call)
{
    struct server srv;
    struct http_opts o = {.total_ms = 10000};

    memset(call, 0, sizeof *call);
    if (server_start(&srv, steps) < 0) {
        return -1;
    }
    if (s != NULL) {
        s->signal_fd = srv.signal_fd;
        call->on_body = sink_cb;
        call->on_body_arg = s;
    }
    call->method = "GET";
    call->addr = srv.addr;
    call->path = "/";
    http_request(call, &o);
    return server_end(&srv);
}

#define HEAD_CHUNKED "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"

TEST(stream_hands_each_chunk_over_before_the_next_is_sent)
{
    /* The server sends the next chunk only after the sink has seen the
     * last one: a client that kept the body until the end would wait in
     * vain, and the server would cut the answer short. */
    static const char *const steps[] = {
        HEAD_CHUNKED, "7\r\nline 0\n\r\n",          WAIT, "7\r\nline 1\n\r\n",
        WAIT,         "7\r\nline 2\n\r\n0\r\n\r\n", NULL,
    };
    struct sink s = {0};
    struct http_call call;

    EXPECT_EQ(exchange(steps, &s, &call), 0);
    EXPECT_EQ(call.error, HTTP_OK);
    EXPECT_EQ(call.status, 200);
    EXPECT_EQ(s.pieces, 3);
    EXPECT_EQ(call.streamed, 21);
    EXPECT_TRUE(call.resp_body == NULL);
    EXPECT_TRUE(s.len == 21 &&
                memcmp(s.buf, "line 0\nline 1\nline 2\n", 21) == 0);
    http_call_clear(&call);
}

TEST(stream_with_a_length_ends_after_that_many_bytes)
{
    static const char *const steps[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello", WAIT,
        " world and more the client must not see", WAIT, NULL};
    struct sink s = {0};
    struct http_call call;

    /* The server sent more than it said: the client ends the call after
     * 11 bytes, and hands over no more. */
    exchange(steps, &s, &call);
    EXPECT_EQ(call.error, HTTP_OK);
    EXPECT_EQ(call.streamed, 11);
    EXPECT_TRUE(s.len == 11 && memcmp(s.buf, "hello world", 11) == 0);
    http_call_clear(&call);
}

TEST(stream_without_a_length_ends_at_end_of_file)
{
    static const char *const steps[] = {"HTTP/1.1 200 OK\r\n\r\nab", WAIT, "cd",
                                        NULL};
    struct sink s = {0};
    struct http_call call;

    EXPECT_EQ(exchange(steps, &s, &call), 0);
    EXPECT_EQ(call.error, HTTP_OK);
    EXPECT_TRUE(s.len == 4 && memcmp(s.buf, "abcd", 4) == 0);
    http_call_clear(&call);
}

TEST(stream_of_an_empty_body_ends_at_once)
{
    static const char *const steps[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", WAIT, NULL};
    struct sink s = {0};
    struct http_call call;

    EXPECT_EQ(exchange(steps, &s, &call), 1);
    EXPECT_EQ(call.error, HTTP_OK);
    EXPECT_EQ(s.pieces, 0);
    http_call_clear(&call);
}

TEST(stream_keeps_the_body_of_an_error_answer)
{
    static const char *const steps[] = {
        "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n"
        "14\r\n{\"error\": \"no task\"}\r\n0\r\n\r\n",
        NULL};
    struct sink s = {0};
    struct http_call call;

    EXPECT_EQ(exchange(steps, &s, &call), 0);
    EXPECT_EQ(call.error, HTTP_OK);
    EXPECT_EQ(call.status, 404);
    EXPECT_EQ(s.pieces, 0);
    EXPECT_EQ(call.streamed, 0);
    EXPECT_STR(call.resp_body, "{\"error\": \"no task\"}");
    http_call_clear(&call);
}

TEST(stream_cut_short_is_an_error_after_what_came)
{
    static const char *const steps[] = {HEAD_CHUNKED, "3\r\nabc\r\n", WAIT,
                                        "5\r\nde", NULL};
    struct sink s = {0};
    struct http_call call;

    EXPECT_EQ(exchange(steps, &s, &call), 0);
    EXPECT_EQ(call.error, HTTP_E_PROTO);
    EXPECT_TRUE(strstr(call.errmsg, "cut short") != NULL);
    EXPECT_EQ(call.streamed, 5);
    EXPECT_TRUE(s.len == 5 && memcmp(s.buf, "abcde", 5) == 0);
    http_call_clear(&call);
}

TEST(stream_with_a_length_cut_short_is_an_error)
{
    static const char *const steps[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", NULL};
    struct sink s = {0};
    struct http_call call;

    EXPECT_EQ(exchange(steps, &s, &call), 0);
    EXPECT_EQ(call.error, HTTP_E_PROTO);
    EXPECT_TRUE(strstr(call.errmsg, "3 of 10") != NULL);
    http_call_clear(&call);
}

TEST(stream_stops_when_the_callback_refuses)
{
    static const char *const steps[] = {HEAD_CHUNKED,   "3\r\nabc\r\n", WAIT,
                                        "3\r\ndef\r\n", WAIT,           NULL};
    struct sink s = {.stop_at = 2};
    struct http_call call;

    exchange(steps, &s, &call);
    EXPECT_EQ(call.error, HTTP_E_STOPPED);
    EXPECT_EQ(s.len, 3);
    http_call_clear(&call);
}

TEST(buffered_chunked_answer_is_still_decoded)
{
    static const char *const steps[] = {HEAD_CHUNKED, BODY, NULL};
    struct http_call call;

    EXPECT_EQ(exchange(steps, NULL, &call), 0);
    EXPECT_EQ(call.error, HTTP_OK);
    EXPECT_EQ(call.status, 200);
    EXPECT_EQ(call.resp_len, strlen(DATA));
    EXPECT_STR(call.resp_body, DATA);
    http_call_clear(&call);
}

TEST(buffered_chunked_answer_cut_short_is_refused)
{
    static const char *const steps[] = {HEAD_CHUNKED, "5\r\nabc", NULL};
    struct http_call call;

    EXPECT_EQ(exchange(steps, NULL, &call), 0);
    EXPECT_EQ(call.error, HTTP_E_PROTO);
    EXPECT_TRUE(strstr(call.errmsg, "bad chunked body") != NULL);
    http_call_clear(&call);
}

TEST(buffered_chunked_answer_over_the_limit_is_too_big)
{
    static const char *const steps[] = {HEAD_CHUNKED,
                                        "8\r\n12345678\r\n0\r\n\r\n", NULL};
    struct server srv;
    struct http_opts o = {.total_ms = 10000, .max_response = 7};
    struct http_call call = {.method = "GET", .path = "/"};

    EXPECT_EQ(server_start(&srv, steps), 0);
    call.addr = srv.addr;
    http_request(&call, &o);
    EXPECT_EQ(server_end(&srv), 0);
    EXPECT_EQ(call.error, HTTP_E_TOO_BIG);
    http_call_clear(&call);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    RUN(dechunk_decodes_a_body_given_at_once);
    RUN(dechunk_gives_the_same_data_fed_byte_by_byte);
    RUN(dechunk_gives_the_same_data_at_every_split);
    RUN(dechunk_stops_at_the_end_of_the_body);
    RUN(dechunk_knows_the_data_is_done_before_the_blank_line);
    RUN(dechunk_takes_upper_case_hex_and_leading_zeros);
    RUN(dechunk_refuses_what_is_not_a_chunked_body);
    RUN(dechunk_answers_bad_again_after_bad);
    RUN(dechunk_bounds_extensions_and_trailers);
    RUN(dechunk_stops_when_the_sink_refuses);
    RUN(dechunk_passes_every_byte_value);
    RUN(stream_hands_each_chunk_over_before_the_next_is_sent);
    RUN(stream_with_a_length_ends_after_that_many_bytes);
    RUN(stream_without_a_length_ends_at_end_of_file);
    RUN(stream_of_an_empty_body_ends_at_once);
    RUN(stream_keeps_the_body_of_an_error_answer);
    RUN(stream_cut_short_is_an_error_after_what_came);
    RUN(stream_with_a_length_cut_short_is_an_error);
    RUN(stream_stops_when_the_callback_refuses);
    RUN(buffered_chunked_answer_is_still_decoded);
    RUN(buffered_chunked_answer_cut_short_is_refused);
    RUN(buffered_chunked_answer_over_the_limit_is_too_big);
    DONE();
}
