/* agent_cgroup.c - task cgroups under cgroup v2 (agent_cgroup.h). */
#include "agent/agent_cgroup.h"

#include "util/err.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

#define CG_FILE_MAX 4096

void agent_cgroup_cpu_max(uint64_t cpu_milli, char *buf, size_t len)
{
    uint64_t quota = cpu_milli * AGENT_CGROUP_PERIOD_US / 1000;

    snprintf(buf, len, "%" PRIu64 " %d", quota < 1000 ? 1000 : quota,
             AGENT_CGROUP_PERIOD_US);
}

bool agent_cgroup_has_word(const char *list, const char *word)
{
    size_t n = strlen(word);

    for (const char *p = list; (p = strstr(p, word)) != NULL; p += n) {
        bool start = p == list || p[-1] == ' ' || p[-1] == '\n';
        bool end = p[n] == '\0' || p[n] == ' ' || p[n] == '\n';

        if (start && end) {
            return true;
        }
    }
    return false;
}

/* Read DIR/NAME (at most CG_FILE_MAX - 1 bytes) into BUF. 0, or an errno. */
static int cg_read(const char *dir, const char *name, char *buf)
{
    char path[1200];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    n = read(fd, buf, CG_FILE_MAX - 1);
    close(fd);
    if (n < 0) {
        return errno;
    }
    buf[n] = '\0';
    return 0;
}

/* Write TEXT to DIR/NAME. 0, or an errno. */
static int cg_write(const char *dir, const char *name, const char *text)
{
    char path[1200];
    size_t n = strlen(text);
    int fd, rc = 0;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) {
        return errno;
    }
    if (write(fd, text, n) != (ssize_t)n) {
        rc = errno ? errno : EIO;
    }
    close(fd);
    return rc;
}

/* Enable cpu and memory for DIR's children, unless they are already. */
static int cg_enable(const char *dir)
{
    char buf[CG_FILE_MAX];
    int rc = cg_read(dir, "cgroup.subtree_control", buf);

    if (rc == 0 && agent_cgroup_has_word(buf, "cpu") &&
        agent_cgroup_has_word(buf, "memory")) {
        return 0;
    }
    return cg_write(dir, "cgroup.subtree_control", "+cpu +memory");
}

static void cg_off(struct agent_cgroup *cg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void cg_off(struct agent_cgroup *cg, const char *fmt, ...)
{
    va_list ap;

    cg->on = false;
    va_start(ap, fmt);
    vsnprintf(cg->why, sizeof(cg->why), fmt, ap);
    va_end(ap);
}

void agent_cgroup_open(struct agent_cgroup *cg, const char *mount,
                       const char *name)
{
    struct statfs fs;
    char buf[CG_FILE_MAX];
    int rc;

    memset(cg, 0, sizeof(*cg));
    if (statfs(mount, &fs) < 0) {
        cg_off(cg, "%.200s: %s", mount, strerror(errno));
        return;
    }
    if (fs.f_type != CGROUP2_SUPER_MAGIC) {
        cg_off(cg,
               "%.200s is not a cgroup2 mount (cgroup v1 or a hybrid "
               "hierarchy)",
               mount);
        return;
    }
    if ((rc = cg_read(mount, "cgroup.controllers", buf)) != 0 ||
        !agent_cgroup_has_word(buf, "cpu") ||
        !agent_cgroup_has_word(buf, "memory")) {
        cg_off(cg, "%.200s does not offer the cpu and memory controllers%s",
               mount, rc ? " (cannot read cgroup.controllers)" : "");
        return;
    }
    cg_enable(mount); /* may fail where it is enabled already: checked below */
    snprintf(cg->dir, sizeof(cg->dir), "%.200s/varde-agent-%s", mount, name);
    if (mkdir(cg->dir, 0755) < 0 && errno != EEXIST) {
        cg_off(cg, "cannot create %.200s: %s", cg->dir, strerror(errno));
        return;
    }
    if ((rc = cg_enable(cg->dir)) != 0) {
        cg_off(cg, "cannot enable cpu and memory in %.200s: %s", cg->dir,
               strerror(rc));
        return;
    }
    cg->on = true;
}

int agent_cgroup_create(const struct agent_cgroup *cg, const char *task,
                        uint64_t cpu_milli, uint64_t memory_mb, char *procs,
                        size_t procs_len, char *err, size_t errlen)
{
    char dir[1200], cpu[64], mem[32];
    int rc;

    snprintf(dir, sizeof(dir), "%s/%s", cg->dir, task);
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        return err_fail(err, errlen, "create cgroup %s: %s", dir,
                        strerror(errno));
    }
    agent_cgroup_cpu_max(cpu_milli, cpu, sizeof(cpu));
    snprintf(mem, sizeof(mem), "%" PRIu64, memory_mb << 20);
    if ((rc = cg_write(dir, "cpu.max", cpu)) != 0 ||
        (rc = cg_write(dir, "memory.max", mem)) != 0) {
        return err_fail(err, errlen, "set the limits of cgroup %s: %s", dir,
                        strerror(rc));
    }
    snprintf(procs, procs_len, "%s/cgroup.procs", dir);
    return 0;
}

int agent_cgroup_remove(const struct agent_cgroup *cg, const char *task)
{
    char dir[1200];

    if (!cg->on) {
        return 0;
    }
    snprintf(dir, sizeof(dir), "%s/%s", cg->dir, task);
    if (rmdir(dir) == 0 || errno == ENOENT) {
        return 0;
    }
    if (errno == EBUSY) {
        cg_write(dir, "cgroup.kill", "1"); /* Linux 5.14+; else wait */
    }
    return -1;
}

int agent_cgroup_usage(const struct agent_cgroup *cg, const char *task,
                       uint64_t *memory_bytes, uint64_t *cpu_usec)
{
    char dir[1200], buf[CG_FILE_MAX];
    const char *usage;

    if (!cg->on) {
        return -1;
    }
    snprintf(dir, sizeof(dir), "%s/%s", cg->dir, task);
    if (cg_read(dir, "memory.current", buf) != 0 ||
        sscanf(buf, "%" SCNu64, memory_bytes) != 1) {
        return -1;
    }
    if (cg_read(dir, "cpu.stat", buf) != 0 ||
        (usage = strstr(buf, "usage_usec ")) == NULL ||
        sscanf(usage + 11, "%" SCNu64, cpu_usec) != 1) {
        return -1;
    }
    return 0;
}
