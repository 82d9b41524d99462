/* agent_sys.c - cores, memory, boot id (agent_sys.h). */
#include "agent/agent_sys.h"

#include "util/err.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* MemTotal of /proc/meminfo in MiB; 0 when it cannot be read. */
static uint64_t sys_mem_total_mb(void)
{
    FILE *f = fopen("/proc/meminfo", "re");
    char line[256];
    unsigned long long kib = 0;

    if (f == NULL) {
        return 0;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        if (sscanf(line, "MemTotal: %llu kB", &kib) == 1) {
            break;
        }
    }
    fclose(f);
    return (uint64_t)kib / 1024;
}

int agent_sys_capacity(uint64_t *cpu_milli, uint64_t *memory_mb, char *err,
                       size_t errlen)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    uint64_t mb = sys_mem_total_mb();

    if (cores < 1) {
        return err_fail(err, errlen,
                        "cannot count this machine's cores (%s): give --cpu",
                        strerror(errno));
    }
    if (mb == 0) {
        return err_fail(err, errlen,
                        "cannot read MemTotal from /proc/meminfo: give "
                        "--memory-mb");
    }
    *cpu_milli = (uint64_t)cores * 1000;
    *memory_mb = mb;
    return 0;
}

void agent_sys_boot_id(char *buf, size_t len)
{
    FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

    buf[0] = '\0';
    if (f == NULL) {
        return;
    }
    if (fgets(buf, (int)len, f) == NULL) {
        buf[0] = '\0';
    }
    fclose(f);
    buf[strcspn(buf, "\n")] = '\0';
}
