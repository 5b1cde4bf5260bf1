#include <sys/xattr.h>
#include "xattr.h"

ssize_t swiftlet_lgetxattr(const char *path, const char *name, void *value, size_t size) {
    return lgetxattr(path, name, value, size);
}

int swiftlet_lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags) {
    return lsetxattr(path, name, value, size, flags);
}

ssize_t swiftlet_llistxattr(const char *path, char *list, size_t size) {
    return llistxattr(path, list, size);
}

int swiftlet_fsetxattr(int fd, const char *name, const void *value, size_t size, int flags) {
    return fsetxattr(fd, name, value, size, flags);
}
