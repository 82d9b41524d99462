/* demo_net.c - claim a loopback /24 for the demo, as the cluster tests do. */
#include "cli/demo_net.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#define NET_DIR "varde-test-nets"
#define NET_COUNT (254 * 256)    /* 127.1.0 to 127.254.255 */
#define NET_FIRST (70 * 256 + 0) /* 127.71.0 */
#define NET_TRIES 512

static const char *net_tmpdir(void)
{
    const char *t = getenv("TMPDIR");

    return t != NULL && t[0] == '/' && strlen(t) < 256 ? t : "/tmp";
}

/* An fd that holds the flock of PATH, or -1 when another process holds it
 * (or the file cannot be made). The holder unlinks the file as it lets go,
 * so a lock on a file unlinked meanwhile is worth nothing: the path must
 * still name the file locked. */
static int net_try_lock(const char *path)
{
    struct stat held, named;
    int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0666);

    if (fd < 0) {
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) == 0 && fstat(fd, &held) == 0 &&
        stat(path, &named) == 0 && held.st_ino == named.st_ino &&
        held.st_dev == named.st_dev) {
        return fd;
    }
    close(fd);
    return -1;
}

int demo_net_claim(struct demo_net *net, char *err, size_t errlen)
{
    char dir[300];

    net->fd = -1;
    snprintf(dir, sizeof dir, "%s/%s", net_tmpdir(), NET_DIR);
    if (mkdir(dir, 01777) == 0) {
        chmod(dir, 01777); /* past the umask: any user's runs share it */
    } else if (errno != EEXIST) {
        snprintf(err, errlen, "cannot make %s: %s", dir, strerror(errno));
        return -1;
    }
    for (int k = 0; k < NET_TRIES; k++) {
        int n = (NET_FIRST + k) % NET_COUNT;

        snprintf(net->prefix, sizeof net->prefix, "127.%d.%d", 1 + n / 256,
                 n % 256);
        snprintf(net->path, sizeof net->path, "%s/%s", dir, net->prefix);
        net->fd = net_try_lock(net->path);
        if (net->fd >= 0) {
            return 0;
        }
    }
    snprintf(err, errlen, "no free loopback /24 among %d tried (locks in %s)",
             NET_TRIES, dir);
    return -1;
}

void demo_net_host(const struct demo_net *net, int last, char *buf, size_t len)
{
    snprintf(buf, len, "%s.%d", net->prefix, last);
}

void demo_net_release(struct demo_net *net)
{
    if (net->fd >= 0) {
        unlink(net->path);
        close(net->fd);
        net->fd = -1;
    }
}
