/* harness.h - a tiny unit-test harness: named tests, assertions that print
 * both values, a closing "N passed, N failed" line.
 *
 *   TEST(election_rejects_vote_from_stale_log) { ... EXPECT_EQ(a, b); }
 *   int main(void) { RUN(election_rejects_vote_from_stale_log); DONE(); }
 */
#ifndef VARDE_HARNESS_H
#define VARDE_HARNESS_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int harness_failed_now;
static int harness_pass;
static int harness_fail;

#define TEST(name) static void name(void)

#define RUN(name)                                                              \
    do {                                                                       \
        harness_failed_now = 0;                                                \
        name();                                                                \
        if (harness_failed_now) {                                              \
            harness_fail++;                                                    \
            fprintf(stderr, "  FAIL %s\n", #name);                             \
        } else {                                                               \
            harness_pass++;                                                    \
        }                                                                      \
    } while (0)

#define DONE()                                                                 \
    do {                                                                       \
        printf("%s: %d passed, %d failed\n", __FILE__, harness_pass,           \
               harness_fail);                                                  \
        return harness_fail ? 1 : 0;                                           \
    } while (0)

#define HARNESS_FAIL(...)                                                      \
    do {                                                                       \
        fprintf(stderr, "%s:%d: ", __FILE__, __LINE__);                        \
        fprintf(stderr, __VA_ARGS__);                                          \
        fprintf(stderr, "\n");                                                 \
        harness_failed_now = 1;                                                \
    } while (0)

/* Integer comparison; both sides printed on failure. Returns from the test. */
#define EXPECT_EQ(a, b)                                                        \
    do {                                                                       \
        long long va_ = (long long)(a), vb_ = (long long)(b);                  \
        if (va_ != vb_) {                                                      \
            HARNESS_FAIL("expected %s == %s, got %lld != %lld", #a, #b, va_,   \
                         vb_);                                                 \
            return;                                                            \
        }                                                                      \
    } while (0)

#define EXPECT_NE(a, b)                                                        \
    do {                                                                       \
        long long va_ = (long long)(a), vb_ = (long long)(b);                  \
        if (va_ == vb_) {                                                      \
            HARNESS_FAIL("expected %s != %s, both %lld", #a, #b, va_);         \
            return;                                                            \
        }                                                                      \
    } while (0)

#define EXPECT_TRUE(c)                                                         \
    do {                                                                       \
        if (!(c)) {                                                            \
            HARNESS_FAIL("expected %s", #c);                                   \
            return;                                                            \
        }                                                                      \
    } while (0)

#define EXPECT_STR(a, b)                                                       \
    do {                                                                       \
        const char *sa_ = (a), *sb_ = (b);                                     \
        if (sa_ == NULL || sb_ == NULL || strcmp(sa_, sb_) != 0) {             \
            HARNESS_FAIL("expected %s == %s, got \"%s\" != \"%s\"", #a, #b,    \
                         sa_ ? sa_ : "(null)", sb_ ? sb_ : "(null)");          \
            return;                                                            \
        }                                                                      \
    } while (0)

#endif
