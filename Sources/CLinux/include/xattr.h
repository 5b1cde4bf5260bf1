#ifndef SWIFTLET_CLINUX_XATTR_H
#define SWIFTLET_CLINUX_XATTR_H

#include <sys/types.h>

// Extended attributes, without following symlinks: image layers carry them, and overlayfs
// marks opaque directories with one. Glibc's Swift module does not expose <sys/xattr.h>,
// so the calls are wrapped here. Each returns what the system call does (-1 and errno on error).

ssize_t swiftlet_lgetxattr(const char *path, const char *name, void *value, size_t size);
int swiftlet_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags);
ssize_t swiftlet_llistxattr(const char *path, char *list, size_t size);
int swiftlet_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);

#endif
