/* test_peers.c - HOST:PORT and --peers parsing: what is taken, what is
 * refused, and that every refusal says why in one line. */
#include "harness.h"

#include "util/addr.h"
#include "util/peers.h"

#include <sys/socket.h>

static char err[256];

/* The error is one line and mentions WHAT. */
static int err_says(const char *what)
{
    return strstr(err, what) != NULL && strchr(err, '\n') == NULL;
}

TEST(addr_accepts_ipv4_localhost_and_ipv6)
{
    struct addr a;

    EXPECT_EQ(addr_parse("127.0.0.11:7101", &a, err, sizeof(err)), 0);
    EXPECT_EQ(a.family, AF_INET);
    EXPECT_STR(a.host, "127.0.0.11");
    EXPECT_EQ(a.port, 7101);
    EXPECT_STR(a.text, "127.0.0.11:7101");

    EXPECT_EQ(addr_parse("localhost:1", &a, err, sizeof(err)), 0);
    EXPECT_STR(a.host, "127.0.0.1");
    EXPECT_STR(a.text, "127.0.0.1:1");

    EXPECT_EQ(addr_parse("[::1]:65535", &a, err, sizeof(err)), 0);
    EXPECT_EQ(a.family, AF_INET6);
    EXPECT_STR(a.host, "::1");
    EXPECT_EQ(a.port, 65535);
    EXPECT_STR(a.text, "[::1]:65535");

    EXPECT_EQ(addr_parse("[0:0::0001]:80", &a, err, sizeof(err)), 0);
    EXPECT_STR(a.text, "[::1]:80");
}

TEST(addr_rejects_bad_ports)
{
    struct addr a;
    const char *bad[] = {"127.0.0.1:0",      "127.0.0.1:65536", "127.0.0.1:",
                         "127.0.0.1:-1",     "127.0.0.1:+80",   "127.0.0.1:80x",
                         "127.0.0.1:123456", "127.0.0.1: 80"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_EQ(addr_parse(bad[i], &a, err, sizeof(err)), -1);
        EXPECT_TRUE(err_says("port must be a number 1-65535"));
        EXPECT_EQ(a.port, 0);
    }
}

TEST(addr_rejects_bad_hosts)
{
    struct addr a;
    const char *bad[] = {"example.com:80", "127.0.0:80",   "127.0.0.256:80",
                         "::1:80",         "1.2.3.4.5:80", "[127.0.0.1]:80",
                         " 127.0.0.1:80",  "010.0.0.1:80"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_EQ(addr_parse(bad[i], &a, err, sizeof(err)), -1);
        EXPECT_TRUE(err_says("host must be"));
    }
}

TEST(addr_rejects_bad_shapes)
{
    struct addr a;

    EXPECT_EQ(addr_parse("127.0.0.1", &a, err, sizeof(err)), -1);
    EXPECT_TRUE(err_says("expected HOST:PORT"));
    EXPECT_EQ(addr_parse(":80", &a, err, sizeof(err)), -1);
    EXPECT_TRUE(err_says("host"));
    EXPECT_EQ(addr_parse("[::1:80", &a, err, sizeof(err)), -1);
    EXPECT_TRUE(err_says("expected [IPV6]:PORT"));
    EXPECT_EQ(addr_parse("[::1]80", &a, err, sizeof(err)), -1);
    EXPECT_TRUE(err_says("expected [IPV6]:PORT"));
    EXPECT_EQ(addr_parse("", &a, err, sizeof(err)), -1);
    EXPECT_TRUE(err_says("expected HOST:PORT"));
}

TEST(addr_rejects_long_input_without_overflow)
{
    char s[400];
    struct addr a;

    memset(s, '1', sizeof(s) - 1);
    s[sizeof(s) - 1] = '\0';
    s[200] = ':';
    EXPECT_EQ(addr_parse(s, &a, err, sizeof(err)), -1);
    EXPECT_TRUE(err_says("too long"));
}

TEST(addr_equal_compares_canonical_forms)
{
    struct addr a, b;

    EXPECT_EQ(addr_parse("localhost:7101", &a, err, sizeof(err)), 0);
    EXPECT_EQ(addr_parse("127.0.0.1:7101", &b, err, sizeof(err)), 0);
    EXPECT_TRUE(addr_equal(&a, &b));
    EXPECT_EQ(addr_parse("127.0.0.1:7102", &b, err, sizeof(err)), 0);
    EXPECT_TRUE(!addr_equal(&a, &b));
}

TEST(peers_parse_three_sorted_by_id)
{
    struct peers p;

    EXPECT_EQ(peers_parse("3=127.0.0.1:7103,1=127.0.0.1:7101,"
                          "2=127.0.0.1:7102",
                          &p, err, sizeof(err)),
              0);
    EXPECT_EQ(p.n, 3);
    EXPECT_EQ(p.node[0].id, 1);
    EXPECT_EQ(p.node[2].id, 3);
    EXPECT_STR(p.node[2].addr.text, "127.0.0.1:7103");
    EXPECT_STR(peers_find(&p, 2)->text, "127.0.0.1:7102");
    EXPECT_TRUE(peers_find(&p, 4) == NULL);
}

TEST(peers_parse_five_with_ipv6)
{
    struct peers p;
    char buf[256];

    EXPECT_EQ(peers_parse("1=[::1]:7101,2=[::1]:7102,3=127.0.0.11:7101,"
                          "10=127.0.0.12:7101,11=localhost:7105",
                          &p, err, sizeof(err)),
              0);
    EXPECT_EQ(p.n, 5);
    peers_format(&p, buf, sizeof(buf));
    EXPECT_STR(buf, "1=[::1]:7101,2=[::1]:7102,3=127.0.0.11:7101,"
                    "10=127.0.0.12:7101,11=127.0.0.1:7105");
}

TEST(peers_rejects_too_few_and_too_many)
{
    struct peers p;

    EXPECT_EQ(
        peers_parse("1=127.0.0.1:7101,2=127.0.0.1:7102", &p, err, sizeof(err)),
        -1);
    EXPECT_TRUE(err_says("2 given, a cluster needs 3 to 5 members"));
    EXPECT_EQ(p.n, 0);
    EXPECT_EQ(peers_parse("1=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3,"
                          "4=127.0.0.1:4,5=127.0.0.1:5,6=127.0.0.1:6",
                          &p, err, sizeof(err)),
              -1);
    EXPECT_TRUE(err_says("more than 5 members"));
    EXPECT_EQ(peers_parse("", &p, err, sizeof(err)), -1);
    EXPECT_TRUE(err_says("empty member"));
}

TEST(peers_rejects_duplicate_ids_and_addresses)
{
    struct peers p;

    EXPECT_EQ(peers_parse("1=127.0.0.1:7101,2=127.0.0.1:7102,"
                          "1=127.0.0.1:7103",
                          &p, err, sizeof(err)),
              -1);
    EXPECT_TRUE(err_says("node id 1 twice"));
    EXPECT_EQ(peers_parse("1=127.0.0.1:7101,2=localhost:7101,"
                          "3=127.0.0.1:7103",
                          &p, err, sizeof(err)),
              -1);
    EXPECT_TRUE(err_says("nodes 1 and 2 share the address 127.0.0.1:7101"));
}

TEST(peers_rejects_bad_ids)
{
    struct peers p;
    const char *bad[] = {
        "0=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3",
        "-1=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3",
        "a=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3",
        "=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3",
        "9223372036854775808=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3",
        "99999999999999999999=127.0.0.1:1,2=127.0.0.1:2,3=127.0.0.1:3",
    };

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        EXPECT_EQ(peers_parse(bad[i], &p, err, sizeof(err)), -1);
        EXPECT_TRUE(err_says("--peers: "));
        EXPECT_TRUE(err_says("is not a node id"));
    }
}

TEST(peers_rejects_bad_members)
{
    struct peers p;

    EXPECT_EQ(
        peers_parse("1=127.0.0.1:7101,,2=127.0.0.1:7102", &p, err, sizeof(err)),
        -1);
    EXPECT_TRUE(err_says("empty member"));
    EXPECT_EQ(
        peers_parse("1=127.0.0.1:7101,2=127.0.0.1:7102,", &p, err, sizeof(err)),
        -1);
    EXPECT_TRUE(err_says("empty member"));
    EXPECT_EQ(peers_parse("1=127.0.0.1:7101,2,3=127.0.0.1:7103", &p, err,
                          sizeof(err)),
              -1);
    EXPECT_TRUE(err_says("\"2\": expected ID=HOST:PORT"));
    EXPECT_EQ(peers_parse("1=127.0.0.1:7101,2=host:7102,3=127.0.0.1:7103", &p,
                          err, sizeof(err)),
              -1);
    EXPECT_TRUE(err_says("--peers: address \"host:7102\": host must be"));
}

TEST(peers_id_and_membership)
{
    struct peers p;
    uint64_t id = 0;

    EXPECT_EQ(peers_parse_id("7", &id, err, sizeof(err)), 0);
    EXPECT_EQ(id, 7);
    EXPECT_EQ(peers_parse_id("9223372036854775807", &id, err, sizeof(err)), 0);
    EXPECT_EQ(peers_parse_id("07x", &id, err, sizeof(err)), -1);
    EXPECT_TRUE(err_says("\"07x\" is not a node id"));
    EXPECT_EQ(peers_parse("1=127.0.0.1:7101,2=127.0.0.1:7102,"
                          "3=127.0.0.1:7103",
                          &p, err, sizeof(err)),
              0);
    EXPECT_EQ(peers_check_member(&p, 3, err, sizeof(err)), 0);
    EXPECT_EQ(peers_check_member(&p, 4, err, sizeof(err)), -1);
    EXPECT_TRUE(err_says("--id 4 is not in --peers 1=127.0.0.1:7101,"));
}

TEST(peers_format_truncates_safely)
{
    struct peers p;
    char buf[10];

    EXPECT_EQ(peers_parse("1=127.0.0.1:7101,2=127.0.0.1:7102,"
                          "3=127.0.0.1:7103",
                          &p, err, sizeof(err)),
              0);
    peers_format(&p, buf, sizeof(buf));
    EXPECT_EQ(strlen(buf), 9);
}

int main(void)
{
    RUN(addr_accepts_ipv4_localhost_and_ipv6);
    RUN(addr_rejects_bad_ports);
    RUN(addr_rejects_bad_hosts);
    RUN(addr_rejects_bad_shapes);
    RUN(addr_rejects_long_input_without_overflow);
    RUN(addr_equal_compares_canonical_forms);
    RUN(peers_parse_three_sorted_by_id);
    RUN(peers_parse_five_with_ipv6);
    RUN(peers_rejects_too_few_and_too_many);
    RUN(peers_rejects_duplicate_ids_and_addresses);
    RUN(peers_rejects_bad_ids);
    RUN(peers_rejects_bad_members);
    RUN(peers_id_and_membership);
    RUN(peers_format_truncates_safely);
    DONE();
}
