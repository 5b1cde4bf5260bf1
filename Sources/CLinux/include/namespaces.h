#ifndef SWIFTLET_CLINUX_NAMESPACES_H
#define SWIFTLET_CLINUX_NAMESPACES_H

// Namespace entry for Swift code. Glibc's module does not expose setns/unshare or the
// CLONE_NEW* flags (they need _GNU_SOURCE), so they are wrapped here, once.
//
// A namespace switch affects only the calling thread: Swift callers must switch on a thread
// of their own and never across an `await` (see ../shared/DESIGN.md).

// Kinds of namespace, the kernel's CLONE_NEW* values.
extern const int swiftlet_ns_net;
extern const int swiftlet_ns_mount;
extern const int swiftlet_ns_uts;
extern const int swiftlet_ns_ipc;
extern const int swiftlet_ns_pid;
extern const int swiftlet_ns_user;
extern const int swiftlet_ns_cgroup;

// setns(2): joins the namespace `fd` refers to. Returns 0, or -1 with errno set.
int swiftlet_setns(int fd, int nstype);

// unshare(2) with the given CLONE_NEW* flags. Returns 0, or -1 with errno set.
int swiftlet_unshare(int flags);

// 1 when `path` is a namespace file (nsfs, as a bind-mounted /proc/<pid>/ns/* is), 0 when it is
// anything else, -1 with errno when it cannot be examined. Glibc's module hides statfs.
int swiftlet_is_namespace_file(const char *path);

// Brings the calling thread's network namespace's loopback interface up (a new namespace
// starts with it down). Returns 0, or -1 with errno set.
int swiftlet_loopback_up(void);

#endif
