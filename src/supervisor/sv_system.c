/*
 * sv_system.c - the host figures a supervisor adds to each heartbeat for the
 * console's Hosts page: CPUs, load, memory (/proc/meminfo) and the disk of
 * supervisor.dir (statvfs). A figure that cannot be read is left out.
 */
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "sv_internal.h"

json_t *sv_system_json(const char *dir)
{
    json_t *o = json_object();
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    if (ncpu > 0)
        json_object_set_new(o, "cpus", json_integer(ncpu));
    FILE *f = fopen("/proc/loadavg", "r");
    double l1;
    if (f != NULL) {
        if (fscanf(f, "%lf", &l1) == 1)
            json_object_set_new(o, "load1", json_real(l1));
        fclose(f);
    }
    f = fopen("/proc/meminfo", "r");
    if (f != NULL) {
        char line[256];
        long long kb;
        while (fgets(line, sizeof line, f) != NULL) {
            if (sscanf(line, "MemTotal: %lld kB", &kb) == 1)
                json_object_set_new(o, "memTotal", json_integer(kb * 1024));
            else if (sscanf(line, "MemAvailable: %lld kB", &kb) == 1)
                json_object_set_new(o, "memAvail", json_integer(kb * 1024));
        }
        fclose(f);
    }
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0) {
        json_object_set_new(o, "diskSize", json_integer((json_int_t)(vfs.f_blocks * vfs.f_frsize)));
        json_object_set_new(o, "diskAvail",
                            json_integer((json_int_t)(vfs.f_bavail * vfs.f_frsize)));
    }
    return o;
}
