#define _GNU_SOURCE
#include "plan.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

// Grows `*array` (of `size`-byte items) by one and returns the new item, zeroed.
static void *append(void *array_pointer, int *count, size_t size) {
    void **array = array_pointer;
    char *grown = realloc(*array, (size_t)(*count + 2) * size);
    if (grown == NULL) abort();
    memset(grown + (size_t)*count * size, 0, 2 * size);
    *array = grown;
    return grown + (size_t)(*count)++ * size;
}

static int namespace_type(const char *name) {
    if (strcmp(name, "mount") == 0) return CLONE_NEWNS;
    if (strcmp(name, "pid") == 0) return CLONE_NEWPID;
    if (strcmp(name, "net") == 0) return CLONE_NEWNET;
    if (strcmp(name, "ipc") == 0) return CLONE_NEWIPC;
    if (strcmp(name, "uts") == 0) return CLONE_NEWUTS;
    if (strcmp(name, "cgroup") == 0) return CLONE_NEWCGROUP;
    return -1;
}

static unsigned long long number(const char *text, int base) {
    return strtoull(text, NULL, base);
}

// The whole file, NUL-terminated (the size excludes the NUL); NULL with a message on failure.
static char *read_whole_file(const char *path, size_t *size, char *error, size_t error_size) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(error, error_size, "open %s: %s", path, strerror(errno));
        return NULL;
    }
    struct stat info;
    if (fstat(fd, &info) != 0) {
        snprintf(error, error_size, "stat %s: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    char *bytes = malloc((size_t)info.st_size + 1);
    if (bytes == NULL) abort();
    size_t have = 0;
    while (have < (size_t)info.st_size) {
        ssize_t n = read(fd, bytes + have, (size_t)info.st_size - have);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        have += (size_t)n;
    }
    close(fd);
    bytes[have] = 0;
    *size = have;
    return bytes;
}

int plan_read(const char *path, struct plan *plan, char *error, size_t error_size) {
    memset(plan, 0, sizeof *plan);
    size_t have;
    char *bytes = read_whole_file(path, &have, error, error_size);
    if (bytes == NULL) return -1;

    char *cursor = bytes, *end = bytes + have;
    while (cursor < end) {
        char *kind = cursor;
        cursor += strlen(cursor) + 1;
        if (cursor >= end) goto truncated;
        int count = atoi(cursor);
        cursor += strlen(cursor) + 1;
        char *fields[count > 0 ? count : 1];
        for (int i = 0; i < count; i++) {
            if (cursor >= end) goto truncated;
            fields[i] = cursor;
            cursor += strlen(cursor) + 1;
        }
        if (strcmp(kind, "argv") == 0) {
            for (int i = 0; i < count; i++) *(char **)append(&plan->argv, &plan->argc, sizeof(char *)) = fields[i];
        } else if (strcmp(kind, "env") == 0) {
            for (int i = 0; i < count; i++) *(char **)append(&plan->env, &plan->envc, sizeof(char *)) = fields[i];
        } else if (strcmp(kind, "cwd") == 0 && count == 1) {
            plan->cwd = fields[0];
        } else if (strcmp(kind, "user") == 0 && count == 2) {
            plan->uid = (uid_t)number(fields[0], 10);
            plan->gid = (gid_t)number(fields[1], 10);
        } else if (strcmp(kind, "groups") == 0) {
            for (int i = 0; i < count; i++) *(gid_t *)append(&plan->groups, &plan->ngroups, sizeof(gid_t)) = (gid_t)number(fields[i], 10);
        } else if (strcmp(kind, "rootfs") == 0 && count == 1) {
            plan->rootfs = fields[0];
        } else if (strcmp(kind, "readonly-rootfs") == 0 && count == 0) {
            plan->readonly_rootfs = 1;
        } else if (strcmp(kind, "hostname") == 0 && count == 1) {
            plan->hostname = fields[0];
        } else if (strcmp(kind, "new-namespace") == 0 && count == 1 && namespace_type(fields[0]) > 0) {
            plan->new_namespaces |= namespace_type(fields[0]);
        } else if (strcmp(kind, "join-namespace") == 0 && count == 2 && namespace_type(fields[0]) > 0) {
            struct plan_namespace *join = append(&plan->joins, &plan->njoins, sizeof *join);
            join->type = namespace_type(fields[0]);
            join->path = fields[1];
        } else if ((strcmp(kind, "cgroup-join") == 0 || strcmp(kind, "cgroup-procs") == 0) && count == 1) {
            // "cgroup-procs": plans written by a runtime from before v1 joins went through `tasks`.
            *(const char **)append(&plan->cgroup_joins, &plan->ncgroups, sizeof(char *)) = fields[0];
        } else if (strcmp(kind, "oom-events") == 0 && count == 1) {
            plan->oom_events = fields[0];
        } else if (strcmp(kind, "mount") == 0 && count == 6) {
            struct plan_mount *mount = append(&plan->mounts, &plan->nmounts, sizeof *mount);
            mount->source = fields[0];
            mount->target = fields[1];
            mount->fstype = fields[2];
            mount->flags = (unsigned long)number(fields[3], 10);
            mount->data = fields[4];
            mount->propagation = (unsigned long)number(fields[5], 10);
        } else if (strcmp(kind, "device") == 0 && count == 4) {
            struct plan_device *device = append(&plan->devices, &plan->ndevices, sizeof *device);
            device->path = fields[0];
            device->major = (unsigned)number(fields[1], 10);
            device->minor = (unsigned)number(fields[2], 10);
            device->mode = (mode_t)number(fields[3], 8);
        } else if (strcmp(kind, "symlink") == 0 && count == 2) {
            struct plan_pair *link = append(&plan->symlinks, &plan->nsymlinks, sizeof *link);
            link->first = fields[0];
            link->second = fields[1];
        } else if (strcmp(kind, "masked") == 0 && count == 1) {
            *(const char **)append(&plan->masked, &plan->nmasked, sizeof(char *)) = fields[0];
        } else if (strcmp(kind, "readonly") == 0 && count == 1) {
            *(const char **)append(&plan->readonly, &plan->nreadonly, sizeof(char *)) = fields[0];
        } else if (strcmp(kind, "sysctl") == 0 && count == 2) {
            struct plan_pair *sysctl = append(&plan->sysctls, &plan->nsysctls, sizeof *sysctl);
            sysctl->first = fields[0];
            sysctl->second = fields[1];
        } else if (strcmp(kind, "rlimit") == 0 && count == 3) {
            struct plan_rlimit *limit = append(&plan->rlimits, &plan->nrlimits, sizeof *limit);
            limit->resource = atoi(fields[0]);
            limit->soft = (rlim_t)number(fields[1], 10);
            limit->hard = (rlim_t)number(fields[2], 10);
        } else if (strcmp(kind, "oom-score-adj") == 0 && count == 1) {
            plan->has_oom_score_adj = 1;
            plan->oom_score_adj = atoi(fields[0]);
        } else if (strcmp(kind, "capabilities") == 0 && count == 5) {
            plan->has_capabilities = 1;
            plan->cap_bounding = number(fields[0], 16);
            plan->cap_effective = number(fields[1], 16);
            plan->cap_permitted = number(fields[2], 16);
            plan->cap_inheritable = number(fields[3], 16);
            plan->cap_ambient = number(fields[4], 16);
        } else if (strcmp(kind, "no-new-privileges") == 0 && count == 0) {
            plan->no_new_privs = 1;
        } else if (strcmp(kind, "seccomp") == 0 && count == 1) {
            plan->seccomp = fields[0];
        } else if (strcmp(kind, "log") == 0 && count == 1) {
            plan->log_path = fields[0];
        } else {
            snprintf(error, error_size, "%s: unknown record '%s' with %d fields", path, kind, count);
            return -1;
        }
    }
    if (plan->argc == 0 || plan->rootfs == NULL) {
        snprintf(error, error_size, "%s: no argv or no rootfs", path);
        return -1;
    }
    // Read now: after pivot_root the runtime's state folder is out of reach.
    if (plan->seccomp) {
        plan->seccomp_program = read_whole_file(plan->seccomp, &plan->seccomp_size, error, error_size);
        if (plan->seccomp_program == NULL) return -1;
    }
    return 0;
truncated:
    snprintf(error, error_size, "%s: truncated record", path);
    return -1;
}
