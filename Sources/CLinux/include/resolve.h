#ifndef SWIFTLET_CLINUX_RESOLVE_H
#define SWIFTLET_CLINUX_RESOLVE_H

#include <stdint.h>

// openat2(2) with the kernel's own path-resolution guards, so that unpacking an image layer
// cannot be tricked into leaving its root: RESOLVE_BENEATH refuses `..` above the directory
// and absolute paths, RESOLVE_NO_SYMLINKS refuses any symlink on the way. Glibc 2.36 has no
// wrapper. Returns the new fd, or -1 and errno.

extern const uint64_t swiftlet_resolve_beneath;
extern const uint64_t swiftlet_resolve_no_symlinks;
extern const uint64_t swiftlet_resolve_no_magiclinks;
extern const uint64_t swiftlet_resolve_no_xdev;
// Resolves as if the directory were `/`: `..` and absolute symlinks stay inside it.
extern const uint64_t swiftlet_resolve_in_root;

int swiftlet_openat2(int dirfd, const char *path, int flags, uint64_t mode, uint64_t resolve);

#endif
