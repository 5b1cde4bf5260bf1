#ifndef SWIFTLET_SHIM_CGROUP_CLONE_H
#define SWIFTLET_SHIM_CGROUP_CLONE_H

// A child born in its cgroup v2 folder (clone3 with CLONE_INTO_CGROUP) instead of one that
// writes itself into `cgroup.procs`. That write takes the kernel's cgroup_threadgroup_rwsem for
// writing, whose writer waits for an RCU grace period and stops every fork on the machine
// meanwhile: a few milliseconds per container start in a burst. Born in place, the child takes
// only the cgroup mutex. v1 folders keep their `tasks` writes, which never take that lock.

#include "plan.h"
#include <sys/types.h>

struct cgroup_birth {
    int index;      // the plan's cgroup v2 join, or -1 when it has none
    int folder_fd;  // that join's folder (O_PATH), for CLONE_INTO_CGROUP
    int procs_fd;   // its cgroup.procs opened for writing when asked, for a child that must
                    // join by hand after it left this mount namespace; else -1
    int inside;     // after the clone: 1 when the child was born in the folder
};

// Finds the plan's cgroup v2 join and opens its folder (and its cgroup.procs with `open_procs`).
// Call it before any namespace changes: the fds stay valid in whatever mount namespace the
// caller then joins. Not with a new cgroup namespace (`flags`), whose root would be the parent's
// cgroup rather than the container's. Returns 0, or -1 with errno set (a v2 join that cannot be
// opened; `index` names it).
int cgroup_birth_prepare(const struct plan *plan, int flags, int open_procs, struct cgroup_birth *birth);

// Like a raw clone with no stack (fork, with `flags`' new namespaces for the child), the child
// born in the v2 folder when there is one. A kernel without clone3 or CLONE_INTO_CGROUP (before
// 5.7) gets the plain clone, and `inside` stays 0: the child then joins as before, by the file.
// Returns as fork does; the folder fd is closed on both sides, `procs_fd` is left to the caller.
pid_t cgroup_birth_clone(struct cgroup_birth *birth, int flags);

#endif
