/* test_link.c - one request at a time to a peer (transport/link.h),
 * against an evhttp server in the same event loop on 127.0.0.1: an answer
 * taken with its tags, a refused connection, a cancel that leaves no
 * result, and how a result is described for a log line. */
#include "transport/link.h"

#include "harness.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#define DEADLINE_S 5

static struct event_base *base;
static struct evhttp *server;
static struct event *step_ev, *deadline_ev;
static struct addr server_addr;
static int steps;
static char seen_body[64];

static void step_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    steps++;
    event_base_loopbreak(base);
}

static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd, (void)what, (void)arg;
    event_base_loopbreak(base);
}

/* Answers 503 {"error": "not the leader"}, keeping the request body. */
static void serve_cb(struct evhttp_request *req, void *arg)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    struct evbuffer *out = evbuffer_new();
    size_t n = evbuffer_get_length(in);

    (void)arg;
    n = n < sizeof(seen_body) - 1 ? n : sizeof(seen_body) - 1;
    evbuffer_copyout(in, seen_body, n);
    seen_body[n] = '\0';
    evbuffer_add_printf(out, "{\"error\": \"not the leader\"}");
    evhttp_send_reply(req, 503, "Service Unavailable", out);
    evbuffer_free(out);
}

/* The port of a bound socket FD. */
static int bound_port(int fd)
{
    struct sockaddr_in sin;
    socklen_t len = sizeof(sin);

    if (getsockname(fd, (struct sockaddr *)&sin, &len) < 0) {
        return -1;
    }
    return ntohs(sin.sin_port);
}

static int setup(void)
{
    struct evhttp_bound_socket *bs;
    char text[64], why[128];

    base = event_base_new();
    server = evhttp_new(base);
    step_ev = event_new(base, -1, 0, step_cb, NULL);
    deadline_ev = evtimer_new(base, deadline_cb, NULL);
    if (!base || !server || !step_ev || !deadline_ev) {
        return -1;
    }
    evhttp_set_gencb(server, serve_cb, NULL);
    bs = evhttp_bind_socket_with_handle(server, "127.0.0.1", 0);
    if (bs == NULL) {
        return -1;
    }
    snprintf(text, sizeof(text), "127.0.0.1:%d",
             bound_port(evhttp_bound_socket_get_fd(bs)));
    return addr_parse(text, &server_addr, why, sizeof(why));
}

/* Run the loop until the step event ran, or SECONDS passed. */
static void run_until_step(long seconds)
{
    struct timeval tv = {seconds, 0};

    steps = 0;
    evtimer_add(deadline_ev, &tv);
    event_base_dispatch(base);
    evtimer_del(deadline_ev);
}

TEST(an_answer_is_taken_with_its_tags_outside_the_callbacks)
{
    struct link l;
    struct link_result r;
    char why[128];

    link_init(&l, base, "127.0.0.1", 2000, 1 << 20, step_ev);
    EXPECT_TRUE(!link_busy(&l));
    link_send(&l, &server_addr, 7, 42, EVHTTP_REQ_POST, "/v1/x", "{\"a\":1}",
              7);
    EXPECT_TRUE(link_busy(&l));
    EXPECT_TRUE(!link_take(&l, &r)); /* nothing yet: not inside send */
    run_until_step(DEADLINE_S);
    EXPECT_EQ(steps, 1);
    EXPECT_TRUE(link_take(&l, &r));
    EXPECT_EQ(r.call, 7);
    EXPECT_EQ(r.tag, 42);
    EXPECT_EQ(r.status, 503);
    EXPECT_STR(r.body, "{\"error\": \"not the leader\"}");
    EXPECT_STR(seen_body, "{\"a\":1}");
    EXPECT_TRUE(!link_busy(&l));
    link_describe(&r, why, sizeof(why));
    EXPECT_STR(why, "answered 503: not the leader");
    free(r.body);
    link_cancel(&l);
}

TEST(a_refused_connection_is_a_result_without_an_answer)
{
    struct link l;
    struct link_result r;
    struct addr closed;
    char text[64], why[128];
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sin = {.sin_family = AF_INET};

    /* A port that was bound and closed: nobody listens there. */
    sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
    snprintf(text, sizeof(text), "127.0.0.1:%d", bound_port(fd));
    close(fd);
    EXPECT_EQ(addr_parse(text, &closed, why, sizeof(why)), 0);
    link_init(&l, base, "127.0.0.1", 2000, 1 << 20, step_ev);
    link_send(&l, &closed, 1, 0, EVHTTP_REQ_GET, "/v1/status", NULL, 0);
    run_until_step(DEADLINE_S);
    EXPECT_TRUE(link_take(&l, &r));
    EXPECT_EQ(r.status, 0);
    EXPECT_TRUE(r.why[0] != '\0');
    link_describe(&r, why, sizeof(why));
    EXPECT_STR(why, r.why);
    free(r.body);
    link_cancel(&l);
}

TEST(a_cancelled_request_leaves_no_result)
{
    struct link l;
    struct link_result r;

    link_init(&l, base, "127.0.0.1", 2000, 1 << 20, step_ev);
    link_send(&l, &server_addr, 3, 0, EVHTTP_REQ_GET, "/v1/x", NULL, 0);
    link_cancel(&l);
    EXPECT_TRUE(!link_busy(&l));
    run_until_step(1); /* the deadline ends it: no step */
    EXPECT_EQ(steps, 0);
    EXPECT_TRUE(!link_take(&l, &r));
    /* Still usable afterwards. */
    link_send(&l, &server_addr, 4, 0, EVHTTP_REQ_GET, "/v1/x", NULL, 0);
    run_until_step(DEADLINE_S);
    EXPECT_TRUE(link_take(&l, &r));
    EXPECT_EQ(r.call, 4);
    EXPECT_EQ(r.status, 503);
    free(r.body);
    link_cancel(&l);
}

TEST(a_result_is_described_for_a_log_line)
{
    static char bad[] = "not json";
    static char ctl[] = "{\"error\": \"bad\\u0001\"}";
    struct link_result r = {.status = 500, .body = bad, .len = strlen(bad)};
    char why[128];

    link_describe(&r, why, sizeof(why));
    EXPECT_STR(why, "answered 500: (no error message)");
    r = (struct link_result){.status = 400, .body = ctl, .len = strlen(ctl)};
    link_describe(&r, why, sizeof(why));
    EXPECT_STR(why, "answered 400: bad?");
    r = (struct link_result){.status = 0, .why = "timed out"};
    link_describe(&r, why, sizeof(why));
    EXPECT_STR(why, "timed out");
}

int main(void)
{
    if (setup() < 0) {
        fprintf(stderr, "test_link: cannot set up a server on 127.0.0.1\n");
        return 1;
    }
    RUN(an_answer_is_taken_with_its_tags_outside_the_callbacks);
    RUN(a_refused_connection_is_a_result_without_an_answer);
    RUN(a_cancelled_request_leaves_no_result);
    RUN(a_result_is_described_for_a_log_line);
    evhttp_free(server);
    event_free(step_ev);
    event_free(deadline_ev);
    event_base_free(base);
    DONE();
}
