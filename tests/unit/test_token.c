/* test_token.c - the access token: loading, checking, comparing. */
#include "harness.h"

#include "util/token.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *write_file(const char *text, mode_t mode)
{
    static char path[64];
    int fd;

    snprintf(path, sizeof(path), "/tmp/varde-token-XXXXXX");
    fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text)) {
        abort();
    }
    fchmod(fd, mode);
    close(fd);
    return path;
}

TEST(token_loads_its_first_line_without_trailing_space)
{
    char buf[TOKEN_MAX + 1], err[160];
    bool loose = true;
    const char *p = write_file("0123456789abcdefXYZ \n# comment\n", 0600);

    EXPECT_EQ(token_load(p, buf, &loose, err, sizeof(err)), 0);
    EXPECT_STR(buf, "0123456789abcdefXYZ");
    EXPECT_TRUE(!loose);
    unlink(p);
}

TEST(token_file_readable_by_others_is_flagged)
{
    char buf[TOKEN_MAX + 1], err[160];
    bool loose = false;
    const char *p = write_file("0123456789abcdef", 0644);

    EXPECT_EQ(token_load(p, buf, &loose, err, sizeof(err)), 0);
    EXPECT_TRUE(loose);
    unlink(p);
}

TEST(token_too_short_spaced_or_missing_is_refused)
{
    char buf[TOKEN_MAX + 1], err[160];
    bool loose;
    const char *p = write_file("short\n", 0600);

    EXPECT_EQ(token_load(p, buf, &loose, err, sizeof(err)), -1);
    EXPECT_TRUE(strstr(err, "16 to 256 bytes") != NULL);
    unlink(p);
    p = write_file("0123456789 abcdef0123\n", 0600);
    EXPECT_EQ(token_load(p, buf, &loose, err, sizeof(err)), -1);
    unlink(p);
    EXPECT_EQ(
        token_load("/nonexistent/varde-token", buf, &loose, err, sizeof(err)),
        -1);
    EXPECT_TRUE(strstr(err, "No such file") != NULL);
}

TEST(token_header_must_match_exactly)
{
    const char *t = "0123456789abcdef";

    EXPECT_TRUE(token_header_ok("Bearer 0123456789abcdef", t));
    EXPECT_TRUE(!token_header_ok(NULL, t));
    EXPECT_TRUE(!token_header_ok("", t));
    EXPECT_TRUE(!token_header_ok("Bearer ", t));
    EXPECT_TRUE(!token_header_ok("Bearer 0123456789abcde", t));
    EXPECT_TRUE(!token_header_ok("Bearer 0123456789abcdefg", t));
    EXPECT_TRUE(!token_header_ok("Bearer 0123456789abcdeF", t));
    EXPECT_TRUE(!token_header_ok("Basic 0123456789abcdef", t));
    EXPECT_TRUE(!token_header_ok("bearer 0123456789abcdef", t));
}

int main(void)
{
    RUN(token_loads_its_first_line_without_trailing_space);
    RUN(token_file_readable_by_others_is_flagged);
    RUN(token_too_short_spaced_or_missing_is_refused);
    RUN(token_header_must_match_exactly);
    DONE();
}
