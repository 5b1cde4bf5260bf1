#define _GNU_SOURCE
#include "cgroup_clone.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static const char procs_name[] = "/cgroup.procs";

// The folder of `path` when it ends in /cgroup.procs on a cgroup2 file system, else "".
static void v2_folder(const char *path, char *folder, size_t size) {
    folder[0] = 0;
    size_t length = strlen(path), suffix = sizeof procs_name - 1;
    if (length <= suffix || length - suffix >= size || strcmp(path + length - suffix, procs_name) != 0) return;
    memcpy(folder, path, length - suffix);
    folder[length - suffix] = 0;
    struct statfs fs;
    if (statfs(folder, &fs) != 0 || fs.f_type != CGROUP2_SUPER_MAGIC) folder[0] = 0;
}

int cgroup_birth_prepare(const struct plan *plan, int flags, int open_procs, struct cgroup_birth *birth) {
    birth->index = -1;
    birth->folder_fd = -1;
    birth->procs_fd = -1;
    birth->inside = 0;
    if (flags & CLONE_NEWCGROUP) return 0;
    for (int i = 0; i < plan->ncgroups; i++) {
        if (plan->cgroup_joins[i] == NULL) continue;
        char folder[4096];
        v2_folder(plan->cgroup_joins[i], folder, sizeof folder);
        if (!folder[0]) continue;
        birth->folder_fd = open(folder, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (open_procs) birth->procs_fd = open(plan->cgroup_joins[i], O_WRONLY | O_CLOEXEC);
        if (birth->folder_fd < 0 || (open_procs && birth->procs_fd < 0)) {
            int error = errno;
            if (birth->folder_fd >= 0) close(birth->folder_fd);
            if (birth->procs_fd >= 0) close(birth->procs_fd);
            birth->folder_fd = birth->procs_fd = -1;
            birth->index = i;
            errno = error;
            return -1;
        }
        birth->index = i;
        return 0;
    }
    return 0;
}

pid_t cgroup_birth_clone(struct cgroup_birth *birth, int flags) {
    pid_t pid = -1;
    if (birth->index >= 0) {
        struct clone_args args;
        memset(&args, 0, sizeof args);
        args.flags = (uint64_t)(unsigned)flags | CLONE_INTO_CGROUP;
        args.exit_signal = SIGCHLD;
        args.cgroup = (uint64_t)birth->folder_fd;
        pid = (pid_t)syscall(SYS_clone3, &args, sizeof args);
        if (pid >= 0) birth->inside = 1;
    }
    // No v2 folder, or a kernel that refused clone3: a raw clone with no stack works like fork.
    if (pid < 0) pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, 0, 0, 0, 0);
    if (birth->folder_fd >= 0) close(birth->folder_fd);
    birth->folder_fd = -1;
    return pid;
}
