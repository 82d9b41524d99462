/* load.c - a closed-loop HTTP/1.1 load generator for varde and etcd.
 *
 *   load --target HOST:PORT [--target ...] --mode MODE [--conns N]
 *        [--duration S] [--count N] [--warmup S] [--keys N]
 *        [--value-size B] [--prefix P] [--timeout S]
 *
 * N kept-alive connections, spread round-robin over the targets; each sends
 * its next request as soon as the answer to the previous one has arrived
 * (closed loop: the offered load is what the server can take). It stops
 * issuing after --duration seconds or --count requests, whichever comes
 * first, waits at most --timeout seconds for what is in flight, and prints
 * one JSON line:
 *
 *   {"mode", "conns", "requests", "ok", "errors", "duration_s", "rate",
 *    "p50_us", "p90_us", "p99_us", "max_us", "mean_us", "statuses",
 *    "conn_errors", "timeouts"}
 *
 * Only a 2xx answer is a success; everything else (another status, a
 * connection lost or refused, no answer within --timeout) is an error,
 * counted and reported, and the connection carries on (reconnecting when
 * it was lost). "rate" is successes per second; the latencies are those of
 * the successes, from the first byte written to the last byte read, kept in
 * a log-linear histogram (64 buckets per power of two: within 1.6%).
 * Requests sent during the first --warmup seconds are not counted.
 *
 * Modes (KEY is PREFIX followed by a number below --keys, taken in turn by
 * every request; VALUE is --value-size printable bytes that vary with the
 * request):
 *
 *   varde-put   PUT /v1/kv/KEY with VALUE as the body
 *   varde-get   GET /v1/kv/KEY (linearizable: read index)
 *   etcd-put    POST /v3/kv/put {"key": base64(KEY), "value": base64(VALUE)}
 *   etcd-range  POST /v3/kv/range {"key": base64(KEY)} (linearizable)
 *
 * Answers are read with their Content-Length, chunked, or until the server
 * closes, and are bounded in size.
 */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOAD_MAX_TARGETS 16
#define LOAD_MAX_CONNS 4096
#define LOAD_MAX_VALUE 65536
#define LOAD_MAX_HEAD 16384
#define LOAD_MAX_BODY (1 << 20)
#define LOAD_MAX_DURATION 3600.0
#define LOAD_RETRY_MS 10 /* pause after a lost connection or a 5xx */

/* Histogram: values below 64 us exactly, then 64 buckets per power of two
 * up to 2^40 us. */
#define HIST_SUB_BITS 6
#define HIST_SUB (1u << HIST_SUB_BITS)
#define HIST_MAX_EXP 40
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB)

enum load_mode {
    MODE_VARDE_PUT,
    MODE_VARDE_GET,
    MODE_ETCD_PUT,
    MODE_ETCD_RANGE,
};

static const char *const mode_names[] = {
    [MODE_VARDE_PUT] = "varde-put",
    [MODE_VARDE_GET] = "varde-get",
    [MODE_ETCD_PUT] = "etcd-put",
    [MODE_ETCD_RANGE] = "etcd-range",
};

struct load_target {
    char host[64];
    uint16_t port;
    struct sockaddr_in sa;
};

struct load_opts {
    struct load_target targets[LOAD_MAX_TARGETS];
    int ntargets;
    enum load_mode mode;
    int conns;
    double duration;
    uint64_t count; /* 0: no limit but the duration */
    double warmup;
    uint64_t keys;
    size_t value_size;
    const char *prefix;
    double timeout;
};

/* Where the reader of an answer is. */
enum resp_state {
    RESP_HEAD,
    RESP_BODY,       /* body_left bytes to go */
    RESP_CHUNK_SIZE, /* the next chunk-size line */
    RESP_CHUNK_DATA, /* body_left bytes, then CRLF */
    RESP_TRAILER,    /* after the last chunk: lines until an empty one */
    RESP_TO_CLOSE,   /* no length: the body ends when the server closes */
};

struct load_conn {
    struct load *load;
    int index;
    const struct load_target *target;
    struct bufferevent *bev;
    struct event *retry;
    struct evbuffer *body; /* scratch for a request's body */
    bool busy;             /* a request is in flight */
    bool counted; /* the request in flight counts (sent after warmup) */
    bool close_after;
    uint64_t sent_ns;
    enum resp_state state;
    int status;
    size_t body_left;
    size_t body_total;
};

struct load_stats {
    uint64_t ok;
    uint64_t errors;
    uint64_t conn_errors;
    uint64_t timeouts;
    uint64_t statuses[600];
    uint64_t hist[HIST_BUCKETS];
    uint64_t max_us;
    double sum_us;
    uint64_t first_ns;
    uint64_t last_ns;
};

struct load {
    struct load_opts opts;
    struct event_base *base;
    struct event *stop_ev;
    struct event *deadline_ev;
    struct load_conn *conns;
    uint64_t issued;
    uint64_t start_ns;
    uint64_t warm_ns;
    bool stopping;
    int in_flight;
    struct load_stats st;
};

static void conn_send(struct load_conn *c);
static void conn_open(struct load_conn *c);

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ------------------------------------------------------------------------
 * histogram */

static unsigned hist_index(uint64_t us)
{
    if (us < HIST_SUB) {
        return (unsigned)us;
    }
    unsigned e = 63u - (unsigned)__builtin_clzll(us);
    if (e >= HIST_MAX_EXP) {
        return HIST_BUCKETS - 1;
    }
    unsigned sub = (unsigned)(us >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
    return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB + sub;
}

/* The middle of bucket I, in us. */
static uint64_t hist_value(unsigned i)
{
    if (i < HIST_SUB) {
        return i;
    }
    unsigned e = (i - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
    uint64_t sub = (i - HIST_SUB) % HIST_SUB;
    uint64_t width = 1ull << (e - HIST_SUB_BITS);
    return (HIST_SUB + sub) * width + width / 2;
}

/* The nearest-rank P-th percentile of the successes, in us (capped by the
 * exact maximum). */
static uint64_t hist_percentile(const struct load_stats *st, double p)
{
    if (st->ok == 0) {
        return 0;
    }
    uint64_t rank = (uint64_t)(p / 100.0 * (double)st->ok + 0.999999);
    uint64_t seen = 0;
    if (rank == 0) {
        rank = 1;
    }
    for (unsigned i = 0; i < HIST_BUCKETS; i++) {
        seen += st->hist[i];
        if (seen >= rank) {
            uint64_t v = hist_value(i);
            return v < st->max_us ? v : st->max_us;
        }
    }
    return st->max_us;
}

/* ------------------------------------------------------------------------
 * requests */

static const char b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Standard base64 of the LEN bytes at IN into OUT (room for 4*(LEN+2)/3+1
 * bytes); returns the length written. */
static size_t b64_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0;

    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) {
            v |= (uint32_t)in[i + 1] << 8;
        }
        if (i + 2 < len) {
            v |= in[i + 2];
        }
        out[o++] = b64_chars[(v >> 18) & 63];
        out[o++] = b64_chars[(v >> 12) & 63];
        out[o++] = i + 1 < len ? b64_chars[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? b64_chars[v & 63] : '=';
    }
    out[o] = '\0';
    return o;
}

/* VALUE_SIZE printable bytes for request SEQ. */
static void make_value(uint64_t seq, size_t size, char *out)
{
    char tag[32];
    int n = snprintf(tag, sizeof(tag), "%" PRIu64 ":", seq);

    for (size_t i = 0; i < size; i++) {
        out[i] = i < (size_t)n ? tag[i] : (char)('a' + (seq + i) % 26);
    }
}

/* Append POST /v3/kv/WHAT to OUT with BODY (drained) as its body. */
static void etcd_post(struct evbuffer *out, const char *host, const char *what,
                      struct evbuffer *body)
{
    evbuffer_add_printf(out,
                        "POST /v3/kv/%s HTTP/1.1\r\nHost: %s\r\n"
                        "Content-Type: application/json\r\n"
                        "Content-Length: %zu\r\n\r\n",
                        what, host, evbuffer_get_length(body));
    evbuffer_add_buffer(out, body);
}

/* Append the request SEQ of the run to OUT. */
static void build_request(const struct load *l, const struct load_conn *c,
                          uint64_t seq, struct evbuffer *out)
{
    const struct load_opts *o = &l->opts;
    static char value[LOAD_MAX_VALUE];
    static char kb64[512], vb64[LOAD_MAX_VALUE / 3 * 4 + 8];
    char key[256];
    int klen =
        snprintf(key, sizeof(key), "%s%" PRIu64, o->prefix, seq % o->keys);
    const char *host = c->target->host;
    struct evbuffer *body = c->body;

    switch (o->mode) {
    case MODE_VARDE_PUT:
        make_value(seq, o->value_size, value);
        evbuffer_add_printf(out,
                            "PUT /v1/kv/%s HTTP/1.1\r\nHost: %s\r\n"
                            "Content-Length: %zu\r\n\r\n",
                            key, host, o->value_size);
        evbuffer_add(out, value, o->value_size);
        break;
    case MODE_VARDE_GET:
        evbuffer_add_printf(out, "GET /v1/kv/%s HTTP/1.1\r\nHost: %s\r\n\r\n",
                            key, host);
        break;
    case MODE_ETCD_PUT:
        make_value(seq, o->value_size, value);
        b64_encode((const unsigned char *)key, (size_t)klen, kb64);
        b64_encode((const unsigned char *)value, o->value_size, vb64);
        evbuffer_add_printf(body, "{\"key\":\"%s\",\"value\":\"%s\"}", kb64,
                            vb64);
        etcd_post(out, host, "put", body);
        break;
    case MODE_ETCD_RANGE:
        b64_encode((const unsigned char *)key, (size_t)klen, kb64);
        evbuffer_add_printf(body, "{\"key\":\"%s\"}", kb64);
        etcd_post(out, host, "range", body);
        break;
    }
}

/* ------------------------------------------------------------------------
 * the end of a request */

static void load_maybe_finish(struct load *l)
{
    if (l->opts.count > 0 && l->issued >= l->opts.count) {
        l->stopping = true;
    }
    if (l->stopping && l->in_flight == 0) {
        event_base_loopbreak(l->base);
    }
}

static void record_success(struct load *l, uint64_t lat_ns, uint64_t end)
{
    uint64_t us = lat_ns / 1000;

    l->st.ok++;
    l->st.hist[hist_index(us)]++;
    l->st.sum_us += (double)us;
    if (us > l->st.max_us) {
        l->st.max_us = us;
    }
    l->st.last_ns = end;
}

/* The request in flight on C ended: with STATUS (an HTTP status, or 0 when
 * the connection failed, -1 on a time-out). */
static void conn_done(struct load_conn *c, int status)
{
    struct load *l = c->load;
    uint64_t end = now_ns();

    c->busy = false;
    l->in_flight--;
    if (c->counted) {
        if (status >= 100 && status < 600) {
            l->st.statuses[status]++;
        }
        if (status >= 200 && status < 300) {
            record_success(l, end - c->sent_ns, end);
        } else {
            l->st.errors++;
            l->st.last_ns = end;
            l->st.conn_errors += status == 0;
            l->st.timeouts += status < 0;
        }
    }
    load_maybe_finish(l);
}

static void conn_drop(struct load_conn *c)
{
    if (c->bev != NULL) {
        bufferevent_free(c->bev);
        c->bev = NULL;
    }
}

/* The connection broke (or timed out) with a request in flight or not:
 * count it, and come back after a pause unless the run is over. */
static void conn_fail(struct load_conn *c, int status)
{
    struct load *l = c->load;
    struct timeval tv = {0, LOAD_RETRY_MS * 1000};

    conn_drop(c);
    if (c->busy) {
        conn_done(c, status);
    }
    if (!l->stopping) {
        evtimer_add(c->retry, &tv);
    }
}

/* A whole answer with STATUS was read. */
static void conn_answered(struct load_conn *c, int status)
{
    struct load *l = c->load;
    bool close_after = c->close_after;

    conn_done(c, status);
    if (close_after) {
        conn_drop(c); /* conn_send() opens the next one */
    }
    if (l->stopping) {
        return;
    }
    if (status >= 500) {
        struct timeval tv = {0, LOAD_RETRY_MS * 1000};
        evtimer_add(c->retry, &tv);
        return;
    }
    conn_send(c);
}

/* ------------------------------------------------------------------------
 * reading an answer */

/* Parse the head at the start of IN (HLEN bytes, the blank line included):
 * the status, Content-Length, chunked, Connection: close. */
static int parse_head(struct load_conn *c, const char *h, size_t hlen)
{
    bool chunked = false, have_len = false;
    unsigned long long len = 0;
    int status;

    if (hlen < 12 || strncmp(h, "HTTP/1.", 7) != 0 ||
        sscanf(h + 9, "%3d", &status) != 1 || status < 100) {
        return -1;
    }
    c->close_after = strncmp(h, "HTTP/1.0", 8) == 0;
    for (const char *p = strstr(h, "\r\n"); p != NULL && p + 2 < h + hlen;
         p = strstr(p + 2, "\r\n")) {
        const char *line = p + 2;
        if (strncasecmp(line, "content-length:", 15) == 0) {
            len = strtoull(line + 15, NULL, 10);
            have_len = true;
        } else if (strncasecmp(line, "transfer-encoding:", 18) == 0) {
            chunked = strstr(line, "chunked") != NULL;
        } else if (strncasecmp(line, "connection:", 11) == 0) {
            const char *v = line + 11;
            while (*v == ' ') {
                v++;
            }
            c->close_after = strncasecmp(v, "close", 5) == 0;
        }
    }
    c->status = status;
    c->body_total = 0;
    if (chunked) {
        c->state = RESP_CHUNK_SIZE;
    } else if (have_len) {
        if (len > LOAD_MAX_BODY) {
            return -1;
        }
        c->body_left = (size_t)len;
        c->state = RESP_BODY;
    } else if (status == 204 || status == 304 || status < 200) {
        c->body_left = 0;
        c->state = RESP_BODY;
    } else {
        c->state = RESP_TO_CLOSE;
        c->close_after = true;
    }
    return 0;
}

/* One step of reading; returns 1 to go on, 0 to wait for more bytes, -1
 * on a malformed answer, 2 when the answer is complete. */
static int read_step(struct load_conn *c, struct evbuffer *in)
{
    size_t avail = evbuffer_get_length(in);

    switch (c->state) {
    case RESP_HEAD: {
        struct evbuffer_ptr p = evbuffer_search(in, "\r\n\r\n", 4, NULL);
        if (p.pos < 0) {
            return avail > LOAD_MAX_HEAD ? -1 : 0;
        }
        size_t hlen = (size_t)p.pos + 4;
        char *h = (char *)evbuffer_pullup(in, (ev_ssize_t)hlen);
        char save = h[hlen - 1];
        h[hlen - 1] = '\0'; /* a '\n' of the blank line */
        int rc = parse_head(c, h, hlen);
        h[hlen - 1] = save;
        evbuffer_drain(in, hlen);
        return rc < 0 ? -1 : 1;
    }
    case RESP_BODY:
    case RESP_CHUNK_DATA: {
        size_t n = avail < c->body_left ? avail : c->body_left;
        evbuffer_drain(in, n);
        c->body_left -= n;
        if (c->body_left > 0) {
            return 0;
        }
        if (c->state == RESP_BODY) {
            return 2;
        }
        if (avail - n < 2) {
            c->body_left = 0;
            return 0; /* the CRLF after the chunk: wait for it */
        }
        evbuffer_drain(in, 2);
        c->state = RESP_CHUNK_SIZE;
        return 1;
    }
    case RESP_CHUNK_SIZE:
    case RESP_TRAILER: {
        size_t len;
        char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
        if (line == NULL) {
            return avail > LOAD_MAX_HEAD ? -1 : 0;
        }
        if (c->state == RESP_TRAILER) {
            free(line);
            return len == 0 ? 2 : 1;
        }
        unsigned long long size = strtoull(line, NULL, 16);
        free(line);
        c->body_total += size;
        if (c->body_total > LOAD_MAX_BODY) {
            return -1;
        }
        c->body_left = (size_t)size;
        c->state = size == 0 ? RESP_TRAILER : RESP_CHUNK_DATA;
        return 1;
    }
    case RESP_TO_CLOSE:
        c->body_total += avail;
        evbuffer_drain(in, avail);
        return c->body_total > LOAD_MAX_BODY ? -1 : 0;
    }
    return -1;
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    struct load_conn *c = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    for (int steps = 0; steps < 1 << 20; steps++) {
        if (!c->busy) {
            if (evbuffer_get_length(in) > 0) {
                conn_fail(c, 0); /* bytes nobody asked for */
            }
            return;
        }
        int rc = read_step(c, in);
        if (rc == 0) {
            return;
        }
        if (rc < 0) {
            conn_fail(c, 0);
            return;
        }
        if (rc == 2) {
            conn_answered(c, c->status);
            return;
        }
    }
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    struct load_conn *c = arg;

    if (what & BEV_EVENT_CONNECTED) {
        int one = 1;
        setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one,
                   sizeof(one));
        return;
    }
    if ((what & BEV_EVENT_EOF) && c->busy && c->state == RESP_TO_CLOSE) {
        conn_answered(c, c->status);
        return;
    }
    conn_fail(c, (what & BEV_EVENT_TIMEOUT) ? -1 : 0);
}

/* ------------------------------------------------------------------------
 * sending */

static void conn_send(struct load_conn *c)
{
    struct load *l = c->load;
    const struct load_opts *o = &l->opts;

    if (l->stopping || (o->count > 0 && l->issued >= o->count)) {
        return;
    }
    if (c->bev == NULL) {
        conn_open(c);
        if (c->bev == NULL) {
            struct timeval tv = {0, LOAD_RETRY_MS * 1000};
            evtimer_add(c->retry, &tv);
            return;
        }
    }
    uint64_t seq = l->issued++;
    c->sent_ns = now_ns();
    c->counted = c->sent_ns >= l->warm_ns;
    c->busy = true;
    c->state = RESP_HEAD;
    c->close_after = false;
    l->in_flight++;
    if (c->counted && l->st.first_ns == 0) {
        l->st.first_ns = c->sent_ns;
    }
    build_request(l, c, seq, bufferevent_get_output(c->bev));
}

static void conn_open(struct load_conn *c)
{
    struct load *l = c->load;
    struct timeval tv;
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    if (fd < 0) {
        return;
    }
    c->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (c->bev == NULL) {
        close(fd);
        return;
    }
    bufferevent_setcb(c->bev, conn_read_cb, NULL, conn_event_cb, c);
    tv.tv_sec = (time_t)l->opts.timeout;
    tv.tv_usec = (suseconds_t)((l->opts.timeout - (double)tv.tv_sec) * 1e6);
    bufferevent_set_timeouts(c->bev, &tv, &tv);
    bufferevent_enable(c->bev, EV_READ | EV_WRITE);
    if (bufferevent_socket_connect(c->bev, (struct sockaddr *)&c->target->sa,
                                   sizeof(c->target->sa)) < 0) {
        conn_drop(c);
    }
}

static void conn_retry_cb(evutil_socket_t fd, short what, void *arg)
{
    conn_send(arg);
}

/* ------------------------------------------------------------------------
 * the run */

static void load_stop_cb(evutil_socket_t fd, short what, void *arg)
{
    struct load *l = arg;

    l->stopping = true;
    for (int i = 0; i < l->opts.conns; i++) {
        evtimer_del(l->conns[i].retry);
    }
    load_maybe_finish(l);
}

static void load_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
    struct load *l = arg;

    /* What is still in flight now never got an answer. */
    for (int i = 0; i < l->opts.conns; i++) {
        struct load_conn *c = &l->conns[i];
        if (c->busy) {
            conn_drop(c);
            conn_done(c, -1);
        }
    }
    event_base_loopbreak(l->base);
}

static void print_result(const struct load *l)
{
    const struct load_stats *st = &l->st;
    uint64_t end = st->last_ns > st->first_ns ? st->last_ns : st->first_ns;
    double dur = st->first_ns ? (double)(end - st->first_ns) / 1e9 : 0.0;
    bool first = true;

    printf("{\"mode\": \"%s\", \"conns\": %d, \"targets\": %d, "
           "\"requests\": %" PRIu64 ", \"ok\": %" PRIu64
           ", \"errors\": %" PRIu64 ", \"duration_s\": %.3f, "
           "\"rate\": %.1f, ",
           mode_names[l->opts.mode], l->opts.conns, l->opts.ntargets,
           st->ok + st->errors, st->ok, st->errors, dur,
           dur > 0 ? (double)st->ok / dur : 0.0);
    printf("\"p50_us\": %" PRIu64 ", \"p90_us\": %" PRIu64
           ", \"p99_us\": %" PRIu64 ", \"max_us\": %" PRIu64
           ", \"mean_us\": %.1f, ",
           hist_percentile(st, 50), hist_percentile(st, 90),
           hist_percentile(st, 99), st->max_us,
           st->ok ? st->sum_us / (double)st->ok : 0.0);
    printf("\"conn_errors\": %" PRIu64 ", \"timeouts\": %" PRIu64
           ", \"statuses\": {",
           st->conn_errors, st->timeouts);
    for (int s = 100; s < 600; s++) {
        if (st->statuses[s] > 0) {
            printf("%s\"%d\": %" PRIu64, first ? "" : ", ", s, st->statuses[s]);
            first = false;
        }
    }
    printf("}}\n");
    fflush(stdout);
}

static int load_run(struct load *l)
{
    struct timeval stop_tv, dl_tv;
    double dl = l->opts.duration + l->opts.timeout + 1.0;

    l->base = event_base_new();
    l->conns = calloc((size_t)l->opts.conns, sizeof(*l->conns));
    if (l->base == NULL || l->conns == NULL) {
        fprintf(stderr, "load: out of memory\n");
        return 1;
    }
    l->stop_ev = evtimer_new(l->base, load_stop_cb, l);
    l->deadline_ev = evtimer_new(l->base, load_deadline_cb, l);
    stop_tv.tv_sec = (time_t)l->opts.duration;
    stop_tv.tv_usec =
        (suseconds_t)((l->opts.duration - (double)stop_tv.tv_sec) * 1e6);
    dl_tv.tv_sec = (time_t)dl;
    dl_tv.tv_usec = (suseconds_t)((dl - (double)dl_tv.tv_sec) * 1e6);
    evtimer_add(l->stop_ev, &stop_tv);
    evtimer_add(l->deadline_ev, &dl_tv);
    l->start_ns = now_ns();
    l->warm_ns = l->start_ns + (uint64_t)(l->opts.warmup * 1e9);
    for (int i = 0; i < l->opts.conns; i++) {
        struct load_conn *c = &l->conns[i];
        c->load = l;
        c->index = i;
        c->target = &l->opts.targets[i % l->opts.ntargets];
        c->retry = evtimer_new(l->base, conn_retry_cb, c);
        c->body = evbuffer_new();
        conn_send(c);
    }
    load_maybe_finish(l);
    if (!(l->stopping && l->in_flight == 0)) {
        event_base_dispatch(l->base);
    }
    print_result(l);
    for (int i = 0; i < l->opts.conns; i++) {
        conn_drop(&l->conns[i]);
        event_free(l->conns[i].retry);
        evbuffer_free(l->conns[i].body);
    }
    event_free(l->stop_ev);
    event_free(l->deadline_ev);
    free(l->conns);
    event_base_free(l->base);
    return 0;
}

/* ------------------------------------------------------------------------
 * the command line */

static const char usage[] =
    "usage: load --target HOST:PORT [--target ...] --mode MODE [--conns N]\n"
    "            [--duration S] [--count N] [--warmup S] [--keys N]\n"
    "            [--value-size B] [--prefix P] [--timeout S]\n"
    "modes: varde-put varde-get etcd-put etcd-range\n"
    "defaults: --conns 1 --duration 10 --keys 10000 --value-size 100\n"
    "          --prefix b. --timeout 5\n";

static int parse_target(const char *v, struct load_target *t)
{
    const char *colon = strrchr(v, ':');
    char *end;
    unsigned long port;
    size_t hlen;

    if (colon == NULL || (hlen = (size_t)(colon - v)) == 0 ||
        hlen >= sizeof(t->host)) {
        return -1;
    }
    memcpy(t->host, v, hlen);
    t->host[hlen] = '\0';
    errno = 0;
    port = strtoul(colon + 1, &end, 10);
    if (errno != 0 || *end != '\0' || port == 0 || port > 65535) {
        return -1;
    }
    t->port = (uint16_t)port;
    memset(&t->sa, 0, sizeof(t->sa));
    t->sa.sin_family = AF_INET;
    t->sa.sin_port = htons(t->port);
    return inet_pton(AF_INET, t->host, &t->sa.sin_addr) == 1 ? 0 : -1;
}

static int parse_mode(const char *v, enum load_mode *out)
{
    for (size_t i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++) {
        if (strcmp(v, mode_names[i]) == 0) {
            *out = (enum load_mode)i;
            return 0;
        }
    }
    return -1;
}

/* A number of V in MIN..MAX, all of V. */
static int parse_num(const char *v, double min, double max, double *out)
{
    char *end;
    double d;

    errno = 0;
    d = strtod(v, &end);
    if (errno != 0 || end == v || *end != '\0' || !(d >= min && d <= max)) {
        return -1;
    }
    *out = d;
    return 0;
}

static int parse_flag(struct load_opts *o, const char *flag, const char *v,
                      bool *have_mode)
{
    double d;

    if (strcmp(flag, "--target") == 0) {
        if (o->ntargets == LOAD_MAX_TARGETS) {
            return -1;
        }
        return parse_target(v, &o->targets[o->ntargets++]);
    }
    if (strcmp(flag, "--mode") == 0) {
        *have_mode = true;
        return parse_mode(v, &o->mode);
    }
    if (strcmp(flag, "--prefix") == 0) {
        o->prefix = v;
        return strlen(v) < 200 ? 0 : -1;
    }
    if (strcmp(flag, "--conns") == 0 &&
        parse_num(v, 1, LOAD_MAX_CONNS, &d) == 0) {
        o->conns = (int)d;
    } else if (strcmp(flag, "--duration") == 0 &&
               parse_num(v, 0.01, LOAD_MAX_DURATION, &d) == 0) {
        o->duration = d;
    } else if (strcmp(flag, "--count") == 0 && parse_num(v, 1, 1e12, &d) == 0) {
        o->count = (uint64_t)d;
    } else if (strcmp(flag, "--warmup") == 0 &&
               parse_num(v, 0, LOAD_MAX_DURATION, &d) == 0) {
        o->warmup = d;
    } else if (strcmp(flag, "--keys") == 0 && parse_num(v, 1, 1e12, &d) == 0) {
        o->keys = (uint64_t)d;
    } else if (strcmp(flag, "--value-size") == 0 &&
               parse_num(v, 1, LOAD_MAX_VALUE, &d) == 0) {
        o->value_size = (size_t)d;
    } else if (strcmp(flag, "--timeout") == 0 &&
               parse_num(v, 0.01, 600, &d) == 0) {
        o->timeout = d;
    } else {
        return -1;
    }
    return 0;
}

static int parse_args(int argc, char **argv, struct load_opts *o)
{
    bool have_mode = false;

    o->conns = 1;
    o->duration = 10;
    o->keys = 10000;
    o->value_size = 100;
    o->prefix = "b.";
    o->timeout = 5;
    for (int i = 1; i < argc; i += 2) {
        if (i + 1 >= argc ||
            parse_flag(o, argv[i], argv[i + 1], &have_mode) < 0) {
            fprintf(stderr, "load: bad flag or value: %s %s\n", argv[i],
                    i + 1 < argc ? argv[i + 1] : "");
            return -1;
        }
    }
    if (o->ntargets == 0 || !have_mode) {
        fprintf(stderr, "load: --target and --mode are required\n");
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct load l;

    if (argc == 2 && strcmp(argv[1], "--help") == 0) {
        fputs(usage, stdout);
        return 0;
    }
    if (parse_args(argc, argv, &l.opts) < 0) {
        fputs(usage, stderr);
        return 2;
    }
    return load_run(&l);
}
