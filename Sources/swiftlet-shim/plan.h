#ifndef SWIFTLET_SHIM_PLAN_H
#define SWIFTLET_SHIM_PLAN_H

// The launch plan, as the runtime wrote it (Sources/Runtime/Containers/LaunchPlanFile.swift):
// every decision is made there; the shim and the container init only carry them out.
//
// File format: a sequence of records, each `kind NUL count NUL field NUL ... field NUL`, with
// `count` in decimal. Unknown kinds are an error, so a plan from a newer runtime fails loudly.

#include <stdint.h>
#include <sys/types.h>
#include <sys/resource.h>

struct plan_mount {
    const char *source;
    // Absolute inside the container; resolved inside the rootfs, never through a symlink out of it.
    const char *target;
    const char *fstype;
    const char *data;
    unsigned long flags;
    // MS_PRIVATE, MS_SLAVE or MS_SHARED (with MS_REC), applied after the mount; 0 for none.
    unsigned long propagation;
};

struct plan_namespace {
    int type;          // CLONE_NEW*
    const char *path;  // joined with setns(2)
};

struct plan_device {
    const char *path;
    unsigned int major, minor;
    mode_t mode;       // type bits and permissions
};

struct plan_pair {
    const char *first, *second;
};

struct plan_rlimit {
    int resource;
    rlim_t soft, hard;
};

struct plan {
    char **argv; int argc;            // NULL-terminated
    char **env; int envc;             // NULL-terminated
    const char *cwd;
    uid_t uid; gid_t gid;
    gid_t *groups; int ngroups;
    const char *rootfs;
    int readonly_rootfs;
    const char *hostname;             // set only when the container has its own UTS namespace
    int new_namespaces;               // CLONE_NEW* flags for the clone
    struct plan_namespace *joins; int njoins;
    const char **cgroup_joins; int ncgroups;  // files the single-threaded init writes "0" into to join its cgroups
    const char *oom_events;           // memory.oom_control (v1) or memory.events (v2), or NULL
    struct plan_mount *mounts; int nmounts;
    struct plan_device *devices; int ndevices;
    struct plan_pair *symlinks; int nsymlinks;  // first: link target, second: link path
    const char **masked; int nmasked;
    const char **readonly; int nreadonly;
    struct plan_pair *sysctls; int nsysctls;
    struct plan_rlimit *rlimits; int nrlimits;
    int has_oom_score_adj; int oom_score_adj;
    int has_capabilities;
    uint64_t cap_bounding, cap_effective, cap_permitted, cap_inheritable, cap_ambient;
    int no_new_privs;
    const char *seccomp;              // a file of struct sock_filter, or NULL
    void *seccomp_program; size_t seccomp_size;  // its content, read with the plan
    const char *log_path;             // the CRI log file
};

// Reads `path` into `plan`. Returns 0, or -1 with a message in `error`.
int plan_read(const char *path, struct plan *plan, char *error, size_t error_size);

#endif
