/* api.c - calls to the raft cluster's HTTP API, as the CLI makes them. */
#include "cli/api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t api_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void api_sleep_ms(int64_t ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

/* ---------------------------------------------------------------------
 * addresses */

/* Add the item S (LEN bytes, spaces around it already cut) to OUT.
 * Returns 0 or -1 with a reason in ERR. */
static int api_add_addr(struct api_addrs *out, const char *s, size_t len,
                        char *err, size_t errlen)
{
    char item[API_ADDR_MAX], host[API_ADDR_MAX], port[8], why[128];

    if (len >= sizeof item) {
        snprintf(err, errlen, "bad address '%.40s...': longer than %d bytes", s,
                 API_ADDR_MAX - 1);
        return -1;
    }
    memcpy(item, s, len);
    item[len] = '\0';
    if (http_split_addr(item, host, sizeof host, port, sizeof port, why,
                        sizeof why) < 0) {
        snprintf(err, errlen, "bad address '%s': %s", item, why);
        return -1;
    }
    if (out->n >= API_MAX_ADDRS) {
        snprintf(err, errlen, "too many addresses: at most %d", API_MAX_ADDRS);
        return -1;
    }
    memcpy(out->addr[out->n++], item, len + 1);
    return 0;
}

int api_parse_addrs(const char *list, struct api_addrs *out, char *err,
                    size_t errlen)
{
    const char *p = list != NULL ? list : "";

    memset(out, 0, sizeof *out);
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end != NULL ? (size_t)(end - p) : strlen(p);

        while (len > 0 && *p == ' ') {
            p++;
            len--;
        }
        while (len > 0 && p[len - 1] == ' ') {
            len--;
        }
        if (len > 0 && api_add_addr(out, p, len, err, errlen) < 0) {
            return -1;
        }
        if (end == NULL) {
            break;
        }
        p = end + 1;
    }
    if (out->n == 0) {
        snprintf(err, errlen, "bad address '%s': empty address",
                 list != NULL ? list : "");
        return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------------
 * the call */

/* May the call move to the next node after this failed try? Always when
 * nothing was sent; for a read also when the answer was lost. */
static bool api_may_move_on(const struct api_res *res)
{
    int e = res->call.error;

    if (e == HTTP_E_CONNECT || e == HTTP_E_ADDR) {
        return true;
    }
    return !res->write &&
           (e == HTTP_E_TIMEOUT || e == HTTP_E_IO || e == HTTP_E_PROTO);
}

/* Note why the try in RES reached no node. */
static void api_note_unreachable(struct api_res *res)
{
    size_t used = strlen(res->unreachable_why);

    if (used + 1 < sizeof res->unreachable_why) {
        snprintf(res->unreachable_why + used,
                 sizeof res->unreachable_why - used, "%s%s",
                 used > 0 ? "; " : "", res->call.errmsg);
    }
    res->unreachable++;
}

/* How long to wait before trying again after a 503, or -1 not to. */
static int64_t api_retry_wait(const struct api_res *res, int retry_ms)
{
    int64_t left = retry_ms - res->ms, wait;

    if (res->call.status != 503 || res->call.retry_after < 0 ||
        res->tries >= API_MAX_TRIES || left <= 0) {
        return -1;
    }
    wait = (int64_t)res->call.retry_after * 1000;
    wait = wait < API_WAIT_MIN_MS ? API_WAIT_MIN_MS : wait;
    wait = wait > API_WAIT_MAX_MS ? API_WAIT_MAX_MS : wait;
    return wait < left ? wait : left;
}

/* One try of REQ at ADDR into RES->call. */
static void api_try(const struct api_req *req, const char *addr,
                    struct api_res *res)
{
    const struct http_opts opts = {
        .connect_ms = API_CONNECT_MS,
        .total_ms = req->total_ms > 0 ? req->total_ms : API_TOTAL_MS,
        .max_response = req->max_response,
    };

    http_call_clear(&res->call);
    memset(&res->call, 0, sizeof res->call);
    res->call.method = req->method;
    res->call.addr = addr;
    res->call.path = req->path;
    res->call.body = req->body;
    res->call.body_len = req->body_len;
    res->call.content_type = req->content_type;
    res->addr = addr;
    res->tries++;
    http_request(&res->call, &opts);
}

int api_call(const struct api_addrs *addrs, const struct api_req *req,
             struct api_res *res)
{
    int retry_ms = req->retry_ms == 0 ? API_RETRY_MS : req->retry_ms;
    int64_t start = api_now_ms();
    size_t at = 0, failed_in_row = 0;

    memset(res, 0, sizeof *res);
    res->write = strcmp(req->method, "GET") != 0;
    while (res->tries < API_MAX_TRIES) {
        int64_t wait;

        api_try(req, addrs->addr[at], res);
        res->ms = api_now_ms() - start;
        at = (at + 1) % addrs->n;
        if (res->call.error != HTTP_OK) {
            api_note_unreachable(res);
            if (!api_may_move_on(res) || ++failed_in_row >= addrs->n) {
                return -1;
            }
            continue;
        }
        failed_in_row = 0;
        wait = api_retry_wait(res, retry_ms);
        if (wait < 0) {
            return 0;
        }
        api_sleep_ms(wait);
    }
    return res->call.error == HTTP_OK ? 0 : -1;
}

void api_res_clear(struct api_res *res)
{
    http_call_clear(&res->call);
}

/* ---------------------------------------------------------------------
 * the answer */

json_t *api_json(const struct api_res *res)
{
    json_t *j;

    if (res->call.error != HTTP_OK || res->call.resp_body == NULL) {
        return NULL;
    }
    j = json_loadb(res->call.resp_body, res->call.resp_len, JSON_ALLOW_NUL,
                   NULL);
    if (j != NULL && !json_is_object(j)) {
        json_decref(j);
        return NULL;
    }
    return j;
}

bool api_no_route(const struct api_res *res, json_t *body)
{
    const char *e = json_string_value(json_object_get(body, "error"));

    return res->call.error == HTTP_OK && res->call.status == 404 && e != NULL &&
           strncmp(e, "no such path", 12) == 0;
}

void api_clean(const char *s, size_t max, char *buf, size_t len)
{
    size_t o = 0;

    if (len == 0) {
        return;
    }
    for (size_t i = 0; s[i] != '\0' && i < max && o + 1 < len; i++) {
        unsigned char c = (unsigned char)s[i];

        buf[o++] = c < ' ' || c == 0x7f ? '?' : (char)c;
    }
    buf[o] = '\0';
}

/* Why no answer came: one line into BUF. */
static void api_transport_failure(const struct api_res *res, char *buf,
                                  size_t len)
{
    int e = res->call.error;
    bool sent = e == HTTP_E_TIMEOUT || e == HTTP_E_IO || e == HTTP_E_PROTO;

    if (sent && res->write) {
        snprintf(buf, len, "%s; the write may or may not have happened",
                 res->call.errmsg);
    } else if (res->unreachable > 1) {
        snprintf(buf, len, "no node answered: %s", res->unreachable_why);
    } else if (e == HTTP_E_CONNECT &&
               strstr(res->call.errmsg, "refused") != NULL) {
        snprintf(buf, len, "%s (is a varde raft node there? see --addr)",
                 res->call.errmsg);
    } else {
        snprintf(buf, len, "%s", res->call.errmsg);
    }
}

void api_failure(const struct api_res *res, json_t *body, char *buf, size_t len)
{
    const char *e = json_string_value(json_object_get(body, "error"));
    char msg[API_ERR_SHOWN + 1];

    if (res->call.error != HTTP_OK) {
        api_transport_failure(res, buf, len);
        return;
    }
    if (e == NULL || e[0] == '\0') {
        snprintf(buf, len, "%s answered HTTP %d without an error message",
                 res->addr, res->call.status);
        return;
    }
    api_clean(e, API_ERR_SHOWN, msg, sizeof msg);
    if (res->call.status == 503 && res->tries > 1) {
        snprintf(buf, len, "%s (still, after %d tries in %.1f s)", msg,
                 res->tries, (double)res->ms / 1000);
    } else {
        snprintf(buf, len, "%s", msg);
    }
}

/* ---------------------------------------------------------------------
 * paths */

static bool api_unreserved(unsigned char c, bool slash_ok)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
           c == '~' || (slash_ok && c == '/');
}

char *api_path(const char *prefix, const char *segment, bool slash_ok,
               const char *query)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t plen = strlen(prefix), slen = strlen(segment), o = plen;
    char *p = malloc(plen + 3 * slen + strlen(query) + 1);

    if (p == NULL) {
        return NULL;
    }
    memcpy(p, prefix, plen);
    for (size_t i = 0; i < slen; i++) {
        unsigned char c = (unsigned char)segment[i];

        if (api_unreserved(c, slash_ok)) {
            p[o++] = (char)c;
        } else {
            p[o++] = '%';
            p[o++] = hex[c >> 4];
            p[o++] = hex[c & 15];
        }
    }
    memcpy(p + o, query, strlen(query) + 1);
    return p;
}
