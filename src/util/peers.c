/* peers.c - parse and check the --peers list. */
#include "util/peers.h"
#include "util/err.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEERS_SPEC_MAX 1024

int peers_parse_id(const char *s, uint64_t *out, char *err, size_t errlen)
{
    uint64_t v = 0;
    size_t n = strlen(s);
    bool ok = n > 0 && n <= 19;

    for (size_t i = 0; ok && i < n; i++) {
        ok = s[i] >= '0' && s[i] <= '9';
        v = v * 10 + (uint64_t)(s[i] - '0'); /* 19 digits cannot wrap */
    }
    if (!ok || v == 0 || v > (uint64_t)PEERS_ID_MAX) {
        return err_fail(err, errlen, "\"%.24s\" is not a node id (1 to 2^63-1)",
                        s);
    }
    *out = v;
    return 0;
}

/* Parse one "ID=HOST:PORT" element into *PA. */
static int peers_parse_one(char *item, struct peer_addr *pa, char *err,
                           size_t errlen)
{
    char *eq = strchr(item, '=');
    char why[200];

    if (item[0] == '\0') {
        return err_fail(err, errlen, "--peers: empty member in the list");
    }
    if (eq == NULL) {
        return err_fail(err, errlen, "--peers: \"%s\": expected ID=HOST:PORT",
                        item);
    }
    *eq = '\0';
    if (peers_parse_id(item, &pa->id, why, sizeof(why)) < 0 ||
        addr_parse(eq + 1, &pa->addr, why, sizeof(why)) < 0) {
        return err_fail(err, errlen, "--peers: %s", why);
    }
    return 0;
}

/* No id and no address may appear twice among the first N members. */
static int peers_check_unique(const struct peers *p, char *err, size_t errlen)
{
    for (size_t i = 0; i < p->n; i++) {
        for (size_t j = i + 1; j < p->n; j++) {
            if (p->node[i].id == p->node[j].id) {
                return err_fail(err, errlen, "--peers: node id %llu twice",
                                (unsigned long long)p->node[i].id);
            }
            if (addr_equal(&p->node[i].addr, &p->node[j].addr)) {
                return err_fail(err, errlen,
                                "--peers: nodes %llu and %llu share the "
                                "address %s",
                                (unsigned long long)p->node[i].id,
                                (unsigned long long)p->node[j].id,
                                p->node[i].addr.text);
            }
        }
    }
    return 0;
}

static int peers_cmp(const void *a, const void *b)
{
    const struct peer_addr *x = a, *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

/* Split the writable copy BUF at commas and parse each member. */
static int peers_parse_list(char *buf, struct peers *out, char *err,
                            size_t errlen)
{
    char *item = buf;

    for (;;) {
        char *comma = strchr(item, ',');

        if (comma != NULL) {
            *comma = '\0';
        }
        if (out->n == PEERS_MAX) {
            return err_fail(err, errlen, "--peers: more than %d members",
                            PEERS_MAX);
        }
        if (peers_parse_one(item, &out->node[out->n], err, errlen) < 0) {
            return -1;
        }
        out->n++;
        if (comma == NULL) {
            return 0;
        }
        item = comma + 1;
    }
}

int peers_parse(const char *spec, struct peers *out, char *err, size_t errlen)
{
    char buf[PEERS_SPEC_MAX + 1];
    size_t n = strlen(spec);

    memset(out, 0, sizeof(*out));
    if (n > PEERS_SPEC_MAX) {
        return err_fail(err, errlen, "--peers: longer than %d bytes",
                        PEERS_SPEC_MAX);
    }
    memcpy(buf, spec, n + 1);
    if (peers_parse_list(buf, out, err, errlen) < 0 ||
        peers_check_unique(out, err, errlen) < 0) {
        memset(out, 0, sizeof(*out));
        return -1;
    }
    if (out->n < PEERS_MIN) {
        size_t got = out->n;

        memset(out, 0, sizeof(*out));
        return err_fail(err, errlen,
                        "--peers: %zu given, a cluster needs %d to %d members",
                        got, PEERS_MIN, PEERS_MAX);
    }
    qsort(out->node, out->n, sizeof(out->node[0]), peers_cmp);
    return 0;
}

const struct addr *peers_find(const struct peers *p, uint64_t id)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->node[i].id == id) {
            return &p->node[i].addr;
        }
    }
    return NULL;
}

int peers_check_member(const struct peers *p, uint64_t id, char *err,
                       size_t errlen)
{
    char list[PEERS_SPEC_MAX];

    if (peers_find(p, id) != NULL) {
        return 0;
    }
    peers_format(p, list, sizeof(list));
    return err_fail(err, errlen, "--id %llu is not in --peers %s",
                    (unsigned long long)id, list);
}

void peers_format(const struct peers *p, char *buf, size_t len)
{
    size_t used = 0;

    if (len == 0) {
        return;
    }
    buf[0] = '\0';
    for (size_t i = 0; i < p->n && used < len; i++) {
        int w =
            snprintf(buf + used, len - used, "%s%llu=%s", i ? "," : "",
                     (unsigned long long)p->node[i].id, p->node[i].addr.text);
        if (w < 0) {
            return;
        }
        used += (size_t)w;
    }
}
