/* addr.c - HOST:PORT parsing; see addr.h for what is accepted. */
#include "util/addr.h"
#include "util/err.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#define ADDR_INPUT_MAX 128

/* Digits only, 1-65535. Returns 0, or -1. */
static int addr_parse_port(const char *s, uint16_t *out)
{
    unsigned long v = 0;
    size_t n = strlen(s);

    if (n == 0 || n > 5) {
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') {
            return -1;
        }
        v = v * 10 + (unsigned long)(s[i] - '0');
    }
    if (v < 1 || v > 65535) {
        return -1;
    }
    *out = (uint16_t)v;
    return 0;
}

/* Turn the host text H (brackets already removed) into its numeric form. */
static int addr_parse_host(const char *h, bool bracketed, struct addr *out)
{
    unsigned char buf[sizeof(struct in6_addr)];

    if (bracketed) {
        out->family = AF_INET6;
    } else if (strcmp(h, "localhost") == 0) {
        h = "127.0.0.1";
        out->family = AF_INET;
    } else {
        out->family = AF_INET;
    }
    if (inet_pton(out->family, h, buf) != 1) {
        return -1;
    }
    if (inet_ntop(out->family, buf, out->host, sizeof(out->host)) == NULL) {
        return -1;
    }
    return 0;
}

/* Split S into host and port at the right colon; handles "[v6]:port". */
static int addr_split(const char *s, char *host, size_t hostlen,
                      const char **port, bool *bracketed, char *err,
                      size_t errlen)
{
    const char *orig = s;
    const char *colon;
    size_t n;

    *bracketed = s[0] == '[';
    if (*bracketed) {
        const char *close = strchr(s, ']');

        if (close == NULL || close[1] != ':') {
            return err_fail(err, errlen, "address \"%s\": expected [IPV6]:PORT",
                            s);
        }
        n = (size_t)(close - s - 1);
        s++;
        colon = close + 1;
    } else {
        colon = strrchr(s, ':');
        if (colon == NULL) {
            return err_fail(err, errlen, "address \"%s\": expected HOST:PORT",
                            s);
        }
        n = (size_t)(colon - s);
    }
    if (n == 0 || n >= hostlen) {
        return err_fail(err, errlen, "address \"%s\": empty or long host",
                        orig);
    }
    memcpy(host, s, n);
    host[n] = '\0';
    *port = colon + 1;
    return 0;
}

int addr_parse(const char *s, struct addr *out, char *err, size_t errlen)
{
    char host[ADDR_INPUT_MAX];
    const char *port = NULL;
    bool bracketed;

    memset(out, 0, sizeof(*out));
    if (strlen(s) > ADDR_INPUT_MAX) {
        return err_fail(err, errlen, "address \"%.32s...\": too long", s);
    }
    if (addr_split(s, host, sizeof(host), &port, &bracketed, err, errlen) < 0) {
        return -1;
    }
    if (addr_parse_port(port, &out->port) < 0) {
        memset(out, 0, sizeof(*out));
        return err_fail(err, errlen,
                        "address \"%s\": port must be a number 1-65535", s);
    }
    if (addr_parse_host(host, bracketed, out) < 0) {
        memset(out, 0, sizeof(*out));
        return err_fail(err, errlen,
                        "address \"%s\": host must be an IPv4 address, "
                        "localhost or [IPv6]",
                        s);
    }
    snprintf(out->text, sizeof(out->text),
             out->family == AF_INET6 ? "[%s]:%u" : "%s:%u", out->host,
             (unsigned)out->port);
    return 0;
}

bool addr_equal(const struct addr *a, const struct addr *b)
{
    return a->family == b->family && a->port == b->port &&
           strcmp(a->host, b->host) == 0;
}
