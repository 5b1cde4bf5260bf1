#define _GNU_SOURCE
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "resolve.h"

const uint64_t swiftlet_resolve_beneath = RESOLVE_BENEATH;
const uint64_t swiftlet_resolve_no_symlinks = RESOLVE_NO_SYMLINKS;
const uint64_t swiftlet_resolve_no_magiclinks = RESOLVE_NO_MAGICLINKS;
const uint64_t swiftlet_resolve_no_xdev = RESOLVE_NO_XDEV;
const uint64_t swiftlet_resolve_in_root = RESOLVE_IN_ROOT;

int swiftlet_openat2(int dirfd, const char *path, int flags, uint64_t mode, uint64_t resolve) {
    struct open_how how = {.flags = (uint64_t)flags, .mode = mode, .resolve = resolve};
    return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}
