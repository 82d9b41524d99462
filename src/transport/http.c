/* http.c - route table dispatch and reply helpers over libevent's evhttp.
 *
 * libevent enforces a body bound of its own before any handler runs, but
 * answers it with an HTML page; ours is twice the largest route's bound, so
 * that an ordinary oversized body reaches the router and gets a JSON 413,
 * while a huge one is still cut off early.
 */
#include "transport/http.h"

#include "util/log.h"
#include "util/token.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#define HTTP_MAX_HEADERS 16384
#define HTTP_IDLE_TIMEOUT_S 120

struct http_server {
    struct evhttp *evh;
    char *token; /* NULL: open */
    const struct http_route *routes;
    size_t n_routes;
    void *arg;
};

static const char *http_reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    default:
        return "Unknown";
    }
}

void http_reply_text(struct evhttp_request *req, int status,
                     const char *content_type, const char *text, size_t len)
{
    struct evbuffer *buf = evbuffer_new();

    evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
                      content_type);
    if (buf != NULL) {
        evbuffer_add(buf, text, len);
    }
    evhttp_send_reply(req, status, http_reason(status), buf);
    if (buf != NULL) {
        evbuffer_free(buf);
    }
}

void http_reply_json(struct evhttp_request *req, int status, json_t *body)
{
    /* Ten significant digits print 0.1 as 0.1, not 0.10000000000000001. */
    char *text =
        body ? json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(10)) : NULL;

    size_t n;
    char *line;

    json_decref(body);
    if (text == NULL) {
        static const char oom[] = "{\"error\":\"out of memory\"}\n";

        http_reply_text(req, 500, "application/json", oom, sizeof(oom) - 1);
        return;
    }
    /* A closing newline keeps curl output readable; JSON ignores it. */
    n = strlen(text);
    line = realloc(text, n + 2);

    if (line != NULL) {
        text = line;
        text[n++] = '\n';
        text[n] = '\0';
    }
    http_reply_text(req, status, "application/json", text, n);
    free(text);
}

void http_nodelay(struct evhttp_connection *conn)
{
    struct bufferevent *bev =
        conn ? evhttp_connection_get_bufferevent(conn) : NULL;
    evutil_socket_t fd = bev ? bufferevent_getfd(bev) : -1;
    int on = 1;

    if (fd >= 0) {
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    }
}

void http_printable(char *s)
{
    for (; *s != '\0'; s++) {
        if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f) {
            *s = '?';
        }
    }
}

void http_reply_error(struct evhttp_request *req, int status, const char *fmt,
                      ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    http_printable(msg);
    http_reply_json(req, status, json_pack("{s:s}", "error", msg));
}

const char *http_body(struct evhttp_request *req, size_t *len)
{
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    unsigned char *p;

    *len = evbuffer_get_length(in);
    if (*len == 0) {
        return "";
    }
    p = evbuffer_pullup(in, -1);
    if (p == NULL) {
        *len = 0;
        return "";
    }
    return (const char *)p;
}

int http_query(struct evhttp_request *req, struct evkeyvalq *q)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *query = uri ? evhttp_uri_get_query(uri) : NULL;

    TAILQ_INIT(q);
    if (query == NULL) {
        return 0;
    }
    return evhttp_parse_query_str(query, q) == 0 ? 0 : -1;
}

/* The route for PATH: an exact match first, else the longest prefix. */
static const struct http_route *http_find(const struct http_server *s,
                                          const char *path)
{
    const struct http_route *best = NULL;
    size_t best_len = 0;

    for (size_t i = 0; i < s->n_routes; i++) {
        const struct http_route *r = &s->routes[i];
        size_t n = strlen(r->path);

        if (strcmp(r->path, path) == 0) {
            return r;
        }
        if (n > 0 && r->path[n - 1] == '/' && strncmp(r->path, path, n) == 0 &&
            n > best_len) {
            best = r;
            best_len = n;
        }
    }
    return best;
}

/* "GET, POST" for the Allow header of a 405. */
static void http_allow(int methods, char *buf, size_t len)
{
    static const struct {
        int m;
        const char *name;
    } names[] = {{EVHTTP_REQ_GET, "GET"},
                 {EVHTTP_REQ_POST, "POST"},
                 {EVHTTP_REQ_PUT, "PUT"},
                 {EVHTTP_REQ_DELETE, "DELETE"}};
    size_t used = 0;

    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if ((methods & names[i].m) && used < len) {
            int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "",
                             names[i].name);
            used += w > 0 ? (size_t)w : 0;
        }
    }
}

static void http_dispatch_cb(struct evhttp_request *req, void *arg)
{
    struct http_server *s = arg;
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
    const struct http_route *r;
    char allow[64];

    if (path == NULL) {
        http_reply_error(req, 400, "bad request URI");
        return;
    }
    http_nodelay(evhttp_request_get_connection(req));
    if (s->token != NULL &&
        !token_header_ok(
            evhttp_find_header(evhttp_request_get_input_headers(req),
                               "Authorization"),
            s->token)) {
        evhttp_add_header(evhttp_request_get_output_headers(req),
                          "WWW-Authenticate", "Bearer");
        http_reply_error(req, 401,
                         "missing or wrong access token: send "
                         "\"Authorization: Bearer TOKEN\" (the CLI reads "
                         "VARDE_TOKEN)");
        return;
    }
    r = http_find(s, path);
    if (r == NULL) {
        http_reply_error(req, 404, "no such path: %.200s", path);
        return;
    }
    if (!(evhttp_request_get_command(req) & r->methods)) {
        http_allow(r->methods, allow, sizeof(allow));
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                          allow);
        http_reply_error(req, 405, "%s takes %s", r->path, allow);
        return;
    }
    if (evbuffer_get_length(evhttp_request_get_input_buffer(req)) >
        r->max_body) {
        http_reply_error(req, 413, "body over %zu bytes", r->max_body);
        return;
    }
    r->cb(req, s->arg);
}

struct http_server *http_server_new(struct event_base *base,
                                    const struct addr *listen,
                                    const struct http_route *routes, size_t n,
                                    void *arg, char *err, size_t errlen)
{
    struct http_server *s = calloc(1, sizeof(*s));
    size_t max_body = 0;

    if (s == NULL || (s->evh = evhttp_new(base)) == NULL) {
        snprintf(err, errlen, "http server: out of memory");
        free(s);
        return NULL;
    }
    s->routes = routes;
    s->n_routes = n;
    s->arg = arg;
    for (size_t i = 0; i < n; i++) {
        max_body =
            routes[i].max_body > max_body ? routes[i].max_body : max_body;
    }
    evhttp_set_max_body_size(s->evh, (ev_ssize_t)(2 * max_body + 1024));
    evhttp_set_max_headers_size(s->evh, HTTP_MAX_HEADERS);
    evhttp_set_timeout(s->evh, HTTP_IDLE_TIMEOUT_S);
    evhttp_set_gencb(s->evh, http_dispatch_cb, s);
    if (evhttp_bind_socket_with_handle(s->evh, listen->host, listen->port) ==
        NULL) {
        snprintf(err, errlen, "listen on %s: %s", listen->text,
                 strerror(errno));
        http_server_free(s);
        return NULL;
    }
    return s;
}

int http_server_set_token(struct http_server *s, const char *token)
{
    free(s->token);
    s->token = token ? strdup(token) : NULL;
    return token != NULL && s->token == NULL ? -1 : 0;
}

/* The token this process sends; one per process, as each daemon has one
 * --token-file. */
static char http_client_token[TOKEN_MAX + 1];

void http_set_client_token(const char *token)
{
    snprintf(http_client_token, sizeof(http_client_token), "%s",
             token ? token : "");
}

void http_add_auth(struct evhttp_request *out)
{
    char value[TOKEN_MAX + 16];

    if (http_client_token[0] != '\0') {
        snprintf(value, sizeof(value), "Bearer %s", http_client_token);
        evhttp_add_header(evhttp_request_get_output_headers(out),
                          "Authorization", value);
    }
}

void http_server_free(struct http_server *s)
{
    if (s == NULL) {
        return;
    }
    evhttp_free(s->evh);
    free(s->token);
    free(s);
}
