#ifndef SWIFTLET_SHIM_CONTAINER_INIT_H
#define SWIFTLET_SHIM_CONTAINER_INIT_H

#include "plan.h"

// Runs in the child of the clone: applies the plan step by step (namespaces, cgroups, mounts,
// pivot_root, devices, masked paths, hostname, limits, user, capabilities, no_new_privs,
// seccomp) and execs the container's process. It never returns: on failure it writes
// "<step>: <reason>" to `error_fd` (close-on-exec, so a successful exec closes it silently)
// and exits 127.
__attribute__((noreturn)) void container_init(const struct plan *plan, int error_fd);

// The steps an exec into a running container shares with its init: user, groups,
// capabilities, no_new_privs, seccomp, working directory, then exec. Never returns.
__attribute__((noreturn)) void container_exec_process(const struct plan *plan, char *const argv[], int error_fd);

// Writes "<step>: <reason>" to `error_fd` and exits 127.
__attribute__((noreturn)) void init_fail(int error_fd, const char *step, const char *subject, int code);

#endif
