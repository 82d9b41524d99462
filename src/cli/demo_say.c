/* demo_say.c - what `varde demo` prints: headings, wrapped paragraphs,
 * what it does and what it saw, and the varde commands it runs. Colour
 * only on a terminal (d->color). */
#include "cli/demo_int.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SAY_WIDTH 78
#define SAY_MAX 2048
#define SAY_ARGS_MAX 16
#define SAY_VARDE_MS 30000 /* a varde command the demo runs */
#define SAY_POLL_MS 10

#define BOLD "\033[1m"
#define DIM "\033[2m"
#define GREEN "\033[32m"
#define YELLOW "\033[33m"
#define RESET "\033[0m"

/* TEXT wrapped at SAY_WIDTH columns: FIRST before the first line, REST
 * before the others, each line in ON ... OFF. A '\n' in TEXT breaks the
 * line there. */
static void say_wrap(const char *first, const char *rest, const char *on,
                     const char *off, const char *text)
{
    const char *p = text;
    const char *prefix = first;

    while (*p != '\0') {
        size_t room = SAY_WIDTH - strlen(prefix), len = 0, cut = 0;

        while (p[len] != '\0' && p[len] != '\n' && len < room) {
            cut = p[len] == ' ' ? len : cut;
            len++;
        }
        if (p[len] != '\0' && p[len] != '\n' && p[len] != ' ' && cut > 0) {
            len = cut; /* break at the last space that fits */
        }
        printf("%s%s%.*s%s\n", prefix, on, (int)len, p, off);
        p += len;
        while (*p == ' ' || *p == '\n') {
            p++;
        }
        prefix = rest;
    }
}

static void say_v(const struct demo *d, const char *first, const char *rest,
                  const char *color, const char *fmt, va_list ap)
{
    char text[SAY_MAX];

    vsnprintf(text, sizeof text, fmt, ap);
    if (!d->color || color[0] == '\0') {
        say_wrap(first, rest, "", "", text);
    } else {
        say_wrap(first, rest, color, RESET, text);
    }
    fflush(stdout);
}

void demo_heading(const struct demo *d, const char *fmt, ...)
{
    va_list ap;

    printf("\n");
    va_start(ap, fmt);
    say_v(d, "== ", "   ", BOLD, fmt, ap);
    va_end(ap);
}

void demo_say(const struct demo *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say_v(d, "", "", "", fmt, ap);
    va_end(ap);
}

void demo_act(const struct demo *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say_v(d, "  > ", "    ", YELLOW, fmt, ap);
    va_end(ap);
}

void demo_saw(const struct demo *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    say_v(d, "  -> ", "     ", GREEN, fmt, ap);
    va_end(ap);
}

const char *demo_ms(int64_t ms, char *buf, size_t len)
{
    if (ms < 1000) {
        snprintf(buf, len, "%lld ms", (long long)ms);
    } else if (ms < 10000) {
        snprintf(buf, len, "%.1f s", (double)ms / 1000.0);
    } else {
        snprintf(buf, len, "%lld s", (long long)((ms + 500) / 1000));
    }
    return buf;
}

/* Wait for CHILD for at most SAY_VARDE_MS; kill it after. Its status. */
static int say_reap(pid_t child)
{
    int64_t deadline = demo_now_ms() + SAY_VARDE_MS;
    int ws = 0;
    pid_t r;

    for (;;) {
        r = waitpid(child, &ws, WNOHANG);
        if (r == child || (r < 0 && errno != EINTR)) {
            break;
        }
        if (demo_now_ms() >= deadline) {
            kill(child, SIGKILL);
            waitpid(child, &ws, 0);
            return -1;
        }
        poll(NULL, 0, SAY_POLL_MS);
    }
    return r == child && WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
}

int demo_run_varde(const struct demo *d, const char *const args[])
{
    char *argv[SAY_ARGS_MAX + 2];
    size_t n = 0;
    pid_t child;

    argv[n++] = "varde";
    printf("%s$ varde", d->color ? DIM : "");
    for (size_t i = 0; args[i] != NULL && n <= SAY_ARGS_MAX; i++) {
        argv[n++] = (char *)args[i];
        printf(" %s", args[i]);
    }
    argv[n] = NULL;
    printf("%s\n", d->color ? RESET : "");
    fflush(stdout);
    child = fork();
    if (child == 0) {
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigset_t none;

        sigaction(SIGPIPE, &dfl, NULL);
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        execv("/proc/self/exe", argv);
        _exit(127);
    }
    if (child < 0) {
        fprintf(stderr, "varde demo: fork: %s\n", strerror(errno));
        return -1;
    }
    return say_reap(child);
}

void demo_explore_help(const struct demo *d)
{
    const char *self = program_invocation_name;

    printf("\nThe fleet keeps running. From another terminal:\n"
           "  export VARDE_ADDR=%s\n"
           "  export VARDE_TOKEN=%s\n",
           d->raft_list, d->token);
    printf("  %s status\n"
           "  %s job status " DEMO_JOB "\n"
           "  %s task logs %s\n"
           "  %s kv get sensors/%s\n"
           "Each daemon logs to %s/NAME.log. Press Ctrl-C to stop the "
           "fleet.\n",
           self, self, self, d->first_task, self, d->first_task, d->dir);
    fflush(stdout);
}
