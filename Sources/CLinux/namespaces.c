#define _GNU_SOURCE
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include "namespaces.h"

const int swiftlet_ns_net = CLONE_NEWNET;
const int swiftlet_ns_mount = CLONE_NEWNS;
const int swiftlet_ns_uts = CLONE_NEWUTS;
const int swiftlet_ns_ipc = CLONE_NEWIPC;
const int swiftlet_ns_pid = CLONE_NEWPID;
const int swiftlet_ns_user = CLONE_NEWUSER;
const int swiftlet_ns_cgroup = CLONE_NEWCGROUP;

int swiftlet_setns(int fd, int nstype) {
    return setns(fd, nstype);
}

int swiftlet_unshare(int flags) {
    return unshare(flags);
}

int swiftlet_is_namespace_file(const char *path) {
    struct statfs info;
    if (statfs(path, &info) != 0) return -1;
    return info.f_type == NSFS_MAGIC ? 1 : 0;
}

int swiftlet_loopback_up(void) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    struct ifreq request;
    memset(&request, 0, sizeof request);
    strncpy(request.ifr_name, "lo", IFNAMSIZ - 1);
    int result = ioctl(fd, SIOCGIFFLAGS, &request);
    if (result == 0) {
        request.ifr_flags |= IFF_UP;
        result = ioctl(fd, SIOCSIFFLAGS, &request);
    }
    close(fd);
    return result;
}
