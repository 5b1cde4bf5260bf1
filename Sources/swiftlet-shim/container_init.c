#define _GNU_SOURCE
#include "container_init.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

void init_fail(int error_fd, const char *step, const char *subject, int code) {
    char message[1024];
    int length = snprintf(message, sizeof message, "%s%s%s: %s", step, subject ? " " : "", subject ? subject : "",
                          code ? strerror(code) : "failed");
    if (length > 0) {
        ssize_t ignored = write(error_fd, message, (size_t)length < sizeof message ? (size_t)length : sizeof message - 1);
        (void)ignored;
    }
    _exit(127);
}

#define FAIL(step, subject) init_fail(error_fd, step, subject, errno)

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    size_t length = strlen(text);
    ssize_t written = write(fd, text, length);
    int saved = errno;
    close(fd);
    errno = saved;
    return written == (ssize_t)length ? 0 : -1;
}

// Opens `path` (absolute inside the container) beneath `root_fd`, creating missing directories
// on the way, and the last component as a directory or an empty file. Symlinks are resolved as
// if `root_fd` were `/` (RESOLVE_IN_ROOT), so an image cannot point a mount outside its rootfs.
static int open_in_root(int root_fd, const char *path, int directory) {
    char partial[4096];
    size_t length = 0;
    const char *component = path;
    int fd = -1;
    while (*component) {
        while (*component == '/') component++;
        if (!*component) break;
        const char *slash = strchr(component, '/');
        size_t size = slash ? (size_t)(slash - component) : strlen(component);
        if (length + size + 2 >= sizeof partial) { errno = ENAMETOOLONG; return -1; }
        partial[length++] = '/';
        memcpy(partial + length, component, size);
        length += size;
        partial[length] = 0;
        int last = slash == NULL || slash[strspn(slash, "/")] == 0;
        struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        if (fd >= 0) close(fd);
        fd = (int)syscall(SYS_openat2, root_fd, partial, &how, sizeof how);
        if (fd < 0 && errno == ENOENT) {
            // Create it through its (already resolved) parent.
            char parent_path[4096];
            memcpy(parent_path, partial, length + 1);
            char *cut = strrchr(parent_path, '/');
            *cut = 0;
            struct open_how parent_how = {.flags = O_PATH | O_DIRECTORY | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
            int parent = (int)syscall(SYS_openat2, root_fd, parent_path[0] ? parent_path : "/", &parent_how, sizeof parent_how);
            if (parent < 0) return -1;
            char name[256];
            if (size >= sizeof name) { close(parent); errno = ENAMETOOLONG; return -1; }
            memcpy(name, component, size);
            name[size] = 0;
            int made;
            if (last && !directory) {
                made = mknodat(parent, name, S_IFREG | 0644, 0);
            } else {
                made = mkdirat(parent, name, 0755);
            }
            int saved = errno;
            close(parent);
            if (made != 0 && saved != EEXIST) { errno = saved; return -1; }
            fd = (int)syscall(SYS_openat2, root_fd, partial, &how, sizeof how);
        }
        if (fd < 0) return -1;
        if (!slash) break;
        component = slash;
    }
    if (fd < 0) {
        struct open_how how = {.flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT};
        fd = (int)syscall(SYS_openat2, root_fd, "/", &how, sizeof how);
    }
    return fd;
}

static void proc_fd_path(char *buffer, size_t size, int fd) {
    snprintf(buffer, size, "/proc/self/fd/%d", fd);
}

static void apply_mount(int root_fd, const struct plan_mount *entry, int error_fd) {
    int directory = 1;
    if (entry->flags & MS_BIND) {
        struct stat info;
        if (stat(entry->source, &info) != 0) FAIL("stat mount source", entry->source);
        directory = S_ISDIR(info.st_mode);
    }
    int target = open_in_root(root_fd, entry->target, directory);
    if (target < 0) FAIL("create mount point", entry->target);
    char target_path[64];
    proc_fd_path(target_path, sizeof target_path, target);
    unsigned long flags = entry->flags;
    if (mount(entry->source, target_path, entry->fstype[0] ? entry->fstype : NULL, flags & ~MS_RDONLY,
              entry->data[0] ? entry->data : NULL) != 0) {
        FAIL("mount", entry->target);
    }
    // The fd names the directory under the new mount; the remount and the propagation change
    // must name the mount itself, so the path is resolved again.
    close(target);
    target = open_in_root(root_fd, entry->target, directory);
    if (target < 0) FAIL("reopen mount point", entry->target);
    proc_fd_path(target_path, sizeof target_path, target);
    // A bind mount takes read-only (and nosuid, nodev, noexec) only from a remount.
    if ((flags & MS_BIND) && (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))) {
        unsigned long remount = MS_BIND | MS_REMOUNT | (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_REC));
        if (mount(NULL, target_path, NULL, remount, NULL) != 0) FAIL("remount read-only", entry->target);
    } else if (flags & MS_RDONLY) {
        if (mount(NULL, target_path, NULL, MS_REMOUNT | flags, entry->data[0] ? entry->data : NULL) != 0) {
            FAIL("remount read-only", entry->target);
        }
    }
    if (entry->propagation && mount(NULL, target_path, NULL, entry->propagation, NULL) != 0) {
        FAIL("set mount propagation", entry->target);
    }
    close(target);
}

// After pivot_root, so every path resolves inside the container.
static void make_devices(const struct plan *plan, int error_fd) {
    for (int i = 0; i < plan->ndevices; i++) {
        const struct plan_device *device = &plan->devices[i];
        unlink(device->path);
        if (mknod(device->path, device->mode, makedev(device->major, device->minor)) != 0) FAIL("mknod", device->path);
        // mknod obeys the umask; the plan's permissions are what the container must see.
        if (chmod(device->path, device->mode & 07777) != 0) FAIL("chmod", device->path);
    }
    for (int i = 0; i < plan->nsymlinks; i++) {
        if (symlink(plan->symlinks[i].first, plan->symlinks[i].second) != 0 && errno != EEXIST) {
            FAIL("symlink", plan->symlinks[i].second);
        }
    }
}

static void pivot_into(const char *rootfs, int error_fd) {
    if (chdir(rootfs) != 0) FAIL("chdir", rootfs);
    // pivot_root(".", ".") stacks the old root on top of the new one; unmounting it detaches
    // the whole host tree from this mount namespace.
    if (syscall(SYS_pivot_root, ".", ".") != 0) FAIL("pivot_root", rootfs);
    if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) != 0) FAIL("make old root a slave", NULL);
    if (umount2(".", MNT_DETACH) != 0) FAIL("unmount old root", NULL);
    if (chdir("/") != 0) FAIL("chdir", "/");
}

static void mask_paths(const struct plan *plan, int error_fd) {
    for (int i = 0; i < plan->nmasked; i++) {
        const char *path = plan->masked[i];
        struct stat info;
        if (lstat(path, &info) != 0) continue;
        int result = S_ISDIR(info.st_mode)
            ? mount("tmpfs", path, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=0")
            : mount("/dev/null", path, NULL, MS_BIND, NULL);
        if (result != 0 && errno != ENOENT) FAIL("mask", path);
    }
    for (int i = 0; i < plan->nreadonly; i++) {
        const char *path = plan->readonly[i];
        if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) != 0) {
            if (errno == ENOENT) continue;
            FAIL("bind read-only path", path);
        }
        if (mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_REC, NULL) != 0) {
            FAIL("remount read-only path", path);
        }
    }
}

static void apply_limits(const struct plan *plan, int error_fd) {
    for (int i = 0; i < plan->nsysctls; i++) {
        char path[512];
        snprintf(path, sizeof path, "/proc/sys/%s", plan->sysctls[i].first);
        for (char *c = path + 10; *c; c++) if (*c == '.') *c = '/';
        if (write_file(path, plan->sysctls[i].second) != 0) FAIL("sysctl", plan->sysctls[i].first);
    }
    for (int i = 0; i < plan->nrlimits; i++) {
        struct rlimit limit = {plan->rlimits[i].soft, plan->rlimits[i].hard};
        if (setrlimit(plan->rlimits[i].resource, &limit) != 0) FAIL("setrlimit", NULL);
    }
    if (plan->has_oom_score_adj) {
        char value[32];
        snprintf(value, sizeof value, "%d", plan->oom_score_adj);
        // Root without CAP_SYS_RESOURCE cannot lower the score: a warning in containerd too, so
        // the container runs with the score it inherited.
        if (write_file("/proc/self/oom_score_adj", value) != 0 && errno != EPERM && errno != EACCES) {
            FAIL("write oom_score_adj", NULL);
        }
    }
}

static void apply_identity(const struct plan *plan, int error_fd) {
    if (plan->has_capabilities) {
        // Bounding set first, while CAP_SETPCAP is still held.
        for (int cap = 0; cap <= 63; cap++) {
            if (plan->cap_bounding & (1ULL << cap)) continue;
            if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) FAIL("drop bounding capability", NULL);
        }
        if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) != 0) FAIL("keep capabilities", NULL);
    }
    if (setgroups((size_t)plan->ngroups, plan->groups) != 0) FAIL("setgroups", NULL);
    if (setresgid(plan->gid, plan->gid, plan->gid) != 0) FAIL("setgid", NULL);
    if (setresuid(plan->uid, plan->uid, plan->uid) != 0) FAIL("setuid", NULL);
    if (plan->has_capabilities) {
        struct __user_cap_header_struct header = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
        struct __user_cap_data_struct data[2] = {
            {(uint32_t)plan->cap_effective, (uint32_t)plan->cap_permitted, (uint32_t)plan->cap_inheritable},
            {(uint32_t)(plan->cap_effective >> 32), (uint32_t)(plan->cap_permitted >> 32), (uint32_t)(plan->cap_inheritable >> 32)},
        };
        if (syscall(SYS_capset, &header, data) != 0) FAIL("capset", NULL);
        for (int cap = 0; cap <= 63; cap++) {
            if (!(plan->cap_ambient & (1ULL << cap))) continue;
            if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) != 0) FAIL("raise ambient capability", NULL);
        }
    }
}

// Loading a filter needs no_new_privs or CAP_SYS_ADMIN: with no_new_privs it is loaded last,
// so it need not allow the set-up calls; without, while the init is still fully privileged
// (the default profile allows the identity calls that follow).
static void load_seccomp(const struct plan *plan, int error_fd) {
    if (plan->seccomp_program == NULL) return;
    struct sock_fprog program = {
        .len = (unsigned short)(plan->seccomp_size / sizeof(struct sock_filter)),
        .filter = plan->seccomp_program,
    };
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &program) != 0) FAIL("load seccomp filter", plan->seccomp);
}

// PATH lookup with the container's own PATH, as execvpe would with the container's environment.
__attribute__((noreturn)) static void exec_with_path(const struct plan *plan, char *const argv[], int error_fd) {
    const char *name = argv[0];
    if (strchr(name, '/')) {
        execve(name, argv, plan->env);
        FAIL("exec", name);
    }
    const char *search = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    for (int i = 0; i < plan->envc; i++) {
        if (strncmp(plan->env[i], "PATH=", 5) == 0) search = plan->env[i] + 5;
    }
    int first_error = ENOENT;
    const char *cursor = search;
    while (1) {
        const char *colon = strchr(cursor, ':');
        size_t length = colon ? (size_t)(colon - cursor) : strlen(cursor);
        char candidate[4096];
        if (length + strlen(name) + 2 < sizeof candidate) {
            snprintf(candidate, sizeof candidate, "%.*s/%s", (int)length, length ? cursor : ".", name);
            execve(candidate, argv, plan->env);
            // Keep looking past missing files, remember the first more telling error (EACCES).
            if (errno != ENOENT && errno != ENOTDIR && first_error == ENOENT) first_error = errno;
        }
        if (!colon) break;
        cursor = colon + 1;
    }
    errno = first_error;
    FAIL("exec", name);
}

void container_exec_process(const struct plan *plan, char *const argv[], int error_fd) {
    if (!plan->no_new_privs) load_seccomp(plan, error_fd);
    apply_identity(plan, error_fd);
    if (plan->cwd && chdir(plan->cwd) != 0) FAIL("chdir", plan->cwd);
    if (plan->no_new_privs) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) FAIL("set no_new_privs", NULL);
        load_seccomp(plan, error_fd);
    }
    exec_with_path(plan, argv, error_fd);
}

void container_init(const struct plan *plan, int error_fd) {
    for (int i = 0; i < plan->njoins; i++) {
        // The PID namespace was joined by the shim before the clone.
        if (plan->joins[i].type == CLONE_NEWPID) continue;
        int fd = open(plan->joins[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) FAIL("open namespace", plan->joins[i].path);
        if (setns(fd, plan->joins[i].type) != 0) FAIL("setns", plan->joins[i].path);
        close(fd);
    }
    for (int i = 0; i < plan->ncgroups; i++) {
        // NULL: the join the clone made (cgroup_clone.h).
        if (plan->cgroup_joins[i] && write_file(plan->cgroup_joins[i], "0") != 0) FAIL("join cgroup", plan->cgroup_joins[i]);
    }
    // Nothing mounted below may propagate back to the host.
    if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) != 0) FAIL("make / a slave", NULL);
    // pivot_root needs the new root to be a mount point; a bind of itself makes it one.
    if (mount(plan->rootfs, plan->rootfs, NULL, MS_BIND | MS_REC, NULL) != 0) FAIL("bind rootfs", plan->rootfs);
    if (mount(NULL, plan->rootfs, NULL, MS_REC | MS_PRIVATE, NULL) != 0) FAIL("make rootfs private", plan->rootfs);
    int root_fd = open(plan->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) FAIL("open rootfs", plan->rootfs);
    for (int i = 0; i < plan->nmounts; i++) apply_mount(root_fd, &plan->mounts[i], error_fd);
    close(root_fd);
    apply_limits(plan, error_fd);
    pivot_into(plan->rootfs, error_fd);
    make_devices(plan, error_fd);
    mask_paths(plan, error_fd);
    if (plan->readonly_rootfs && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) != 0) {
        FAIL("remount rootfs read-only", NULL);
    }
    if (plan->hostname && sethostname(plan->hostname, strlen(plan->hostname)) != 0) FAIL("sethostname", plan->hostname);
    container_exec_process(plan, plan->argv, error_fd);
}
