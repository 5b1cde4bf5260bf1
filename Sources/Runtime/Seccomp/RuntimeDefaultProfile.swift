/// The `RuntimeDefault` profile: what Docker and containerd allow a container by default, so a
/// workload behaves here as it does on any node. Everything not allowed fails with EPERM; calls
/// that change the node (modules, clock, reboot, mounts, namespaces) are allowed only to a
/// container that holds the capability they need anyway.
public enum RuntimeDefaultProfile {
    public static let profile = SeccompProfile(
        defaultAction: "SCMP_ACT_ERRNO", defaultErrnoRet: 1,
        archMap: [
            .init(architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]),
            .init(architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"]),
        ],
        syscalls: [.init(names: alwaysAllowed, action: "SCMP_ACT_ALLOW")] + conditional)

    /// Calls any process makes: files, memory, signals, time, sockets, IPC, identity inside
    /// the container's own user namespace. Names one architecture lacks are skipped there.
    static let alwaysAllowed: [String] = files + processes + memory + signals + time + networking + ipc + identity + scheduling

    static let files = [
        "access", "chdir", "chmod", "chown", "chown32", "close", "close_range", "copy_file_range", "creat", "dup", "dup2",
        "dup3", "faccessat", "faccessat2", "fadvise64", "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod",
        "fchmodat", "fchmodat2", "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
        "flock", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs", "fstatfs64", "fsync", "ftruncate",
        "ftruncate64", "futimesat", "getcwd", "getdents", "getdents64", "getxattr", "getxattrat", "inotify_add_watch",
        "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel", "io_destroy", "io_getevents", "io_pgetevents",
        "io_pgetevents_time64", "io_setup", "io_submit", "ioctl", "lchown", "lchown32", "lgetxattr", "link", "linkat",
        "listxattr", "listxattrat", "llistxattr", "_llseek", "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64",
        "mkdir", "mkdirat", "mknod", "mknodat", "name_to_handle_at", "newfstatat", "open", "openat", "openat2", "pipe",
        "pipe2", "poll", "ppoll", "ppoll_time64", "pread64", "preadv", "preadv2", "pselect6", "pselect6_time64",
        "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink", "readlinkat", "readv", "removexattr",
        "removexattrat", "rename", "renameat", "renameat2", "rmdir", "select", "_newselect", "sendfile", "sendfile64",
        "setxattr", "setxattrat", "splice", "stat", "stat64", "statfs", "statfs64", "statx", "symlink", "symlinkat",
        "sync", "sync_file_range", "syncfs", "tee", "truncate", "truncate64", "umask", "unlink", "unlinkat", "utime",
        "utimensat", "utimensat_time64", "utimes", "vmsplice", "write", "writev", "epoll_create", "epoll_create1",
        "epoll_ctl", "epoll_ctl_old", "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
        "signalfd", "signalfd4", "timerfd_create", "timerfd_gettime", "timerfd_gettime64", "timerfd_settime",
        "timerfd_settime64", "memfd_create", "landlock_add_rule", "landlock_create_ruleset", "landlock_restrict_self",
        "cachestat", "listmount", "statmount",
    ]
    static let processes = [
        "execve", "execveat", "exit", "exit_group", "fork", "vfork", "wait4", "waitid", "waitpid", "getpid", "getppid",
        "gettid", "getpgid", "getpgrp", "getsid", "setsid", "setpgid", "prctl", "arch_prctl", "get_thread_area",
        "set_thread_area", "set_tid_address", "set_robust_list", "get_robust_list", "rseq", "restart_syscall", "uname",
        "sysinfo", "getrandom", "getrlimit", "ugetrlimit", "setrlimit", "prlimit64", "getrusage", "times", "getcpu",
        "pidfd_open", "pidfd_send_signal", "process_mrelease", "seccomp", "capget", "capset", "membarrier",
        "modify_ldt", "ptrace", "process_vm_readv", "process_vm_writev", "futex", "futex_time64", "futex_requeue",
        "futex_wait", "futex_waitv", "futex_wake", "ioprio_get", "ioprio_set", "getpriority", "setpriority",
        "breakpoint", "cacheflush", "set_tls",
    ]
    static let memory = [
        "brk", "madvise", "map_shadow_stack", "mincore", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect",
        "mremap", "mseal", "msync", "munlock", "munlockall", "munmap", "remap_file_pages", "pkey_alloc", "pkey_free",
        "pkey_mprotect", "memfd_secret",
    ]
    static let signals = [
        "alarm", "kill", "tgkill", "tkill", "pause", "rt_sigaction", "rt_sigpending", "rt_sigprocmask", "rt_sigqueueinfo",
        "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_tgsigqueueinfo",
        "sigaltstack", "sigprocmask", "sigreturn",
    ]
    static let time = [
        "adjtimex", "clock_adjtime", "clock_adjtime64", "clock_getres", "clock_getres_time64", "clock_gettime",
        "clock_gettime64", "clock_nanosleep", "clock_nanosleep_time64", "getitimer", "gettimeofday", "nanosleep",
        "setitimer", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64",
        "timer_settime", "timer_settime64",
    ]
    static let networking = [
        "accept", "accept4", "bind", "connect", "getpeername", "getsockname", "getsockopt", "listen", "recv",
        "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg", "send", "sendmmsg", "sendmsg", "sendto", "setsockopt",
        "shutdown", "socketcall", "socketpair",
    ]
    static let ipc = [
        "ipc", "mq_getsetattr", "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
        "mq_timedsend_time64", "mq_unlink", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop",
        "semtimedop", "semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget",
    ]
    static let identity = [
        "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32", "getgroups", "getgroups32", "getresgid",
        "getresgid32", "getresuid", "getresuid32", "getuid", "getuid32", "setfsgid", "setfsgid32", "setfsuid",
        "setfsuid32", "setgid", "setgid32", "setgroups", "setgroups32", "setregid", "setregid32", "setresgid",
        "setresgid32", "setresuid", "setresuid32", "setreuid", "setreuid32", "setuid", "setuid32",
    ]
    static let scheduling = [
        "sched_getaffinity", "sched_getattr", "sched_getparam", "sched_get_priority_max", "sched_get_priority_min",
        "sched_getscheduler", "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity",
        "sched_setattr", "sched_setparam", "sched_setscheduler", "sched_yield",
    ]

    /// clone's flags that make new namespaces: only a CAP_SYS_ADMIN container may pass them.
    static let namespaceFlags: UInt64 = 0x0200_0000 | 0x0400_0000 | 0x0800_0000 | 0x1000_0000 | 0x2000_0000 | 0x4000_0000 | 0x0002_0000

    static func needs(_ capabilities: String...) -> SeccompProfile.Filter { .init(caps: capabilities) }

    static let conditional: [SeccompProfile.Rule] = [
        // personality: only the execution domains programs set for themselves (Linux, with
        // UNAME26 or READ_IMPLIES_EXEC, and the query).
        .init(names: ["personality"], action: "SCMP_ACT_ALLOW", args: [.init(index: 0, value: 0x0, op: "SCMP_CMP_EQ")]),
        .init(names: ["personality"], action: "SCMP_ACT_ALLOW", args: [.init(index: 0, value: 0x0008, op: "SCMP_CMP_EQ")]),
        .init(names: ["personality"], action: "SCMP_ACT_ALLOW", args: [.init(index: 0, value: 0x20000, op: "SCMP_CMP_EQ")]),
        .init(names: ["personality"], action: "SCMP_ACT_ALLOW", args: [.init(index: 0, value: 0x20008, op: "SCMP_CMP_EQ")]),
        .init(names: ["personality"], action: "SCMP_ACT_ALLOW", args: [.init(index: 0, value: 0xffff_ffff, op: "SCMP_CMP_EQ")]),
        // Every socket family but vsock, which reaches the hypervisor.
        .init(names: ["socket"], action: "SCMP_ACT_ALLOW", args: [.init(index: 0, value: 40, op: "SCMP_CMP_NE")]),
        // Threads and processes, without new namespaces unless CAP_SYS_ADMIN. clone3 hides its
        // flags in memory a filter cannot read: ENOSYS makes libc fall back to clone.
        .init(names: ["clone"], action: "SCMP_ACT_ALLOW",
              args: [.init(index: 0, value: namespaceFlags, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ")],
              excludes: .init(caps: ["CAP_SYS_ADMIN"])),
        .init(names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38, excludes: .init(caps: ["CAP_SYS_ADMIN"])),
        .init(names: ["clone", "clone3", "unshare", "setns", "mount", "mount_setattr", "umount", "umount2", "move_mount",
                      "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "pivot_root", "sethostname", "setdomainname",
                      "quotactl", "quotactl_fd", "fanotify_init", "lookup_dcookie", "open_by_handle_at", "bpf",
                      "perf_event_open", "syslog", "vm86", "vm86old", "get_mempolicy", "set_mempolicy", "mbind",
                      "set_mempolicy_home_node", "kcmp", "pidfd_getfd", "process_madvise"],
              action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYS_ADMIN")),
        .init(names: ["reboot"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYS_BOOT")),
        .init(names: ["chroot"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYS_CHROOT")),
        .init(names: ["delete_module", "init_module", "finit_module"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYS_MODULE")),
        .init(names: ["acct"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYS_PACCT")),
        .init(names: ["kcmp", "pidfd_getfd", "process_madvise"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYS_PTRACE")),
        .init(names: ["iopl", "ioperm"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYS_RAWIO")),
        .init(names: ["settimeofday", "stime", "clock_settime", "clock_settime64"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYS_TIME")),
        .init(names: ["vhangup"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYS_TTY_CONFIG")),
        .init(names: ["get_mempolicy", "set_mempolicy", "mbind", "set_mempolicy_home_node"], action: "SCMP_ACT_ALLOW",
              includes: needs("CAP_SYS_NICE")),
        .init(names: ["syslog"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_SYSLOG")),
        .init(names: ["bpf"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_BPF")),
        .init(names: ["perf_event_open"], action: "SCMP_ACT_ALLOW", includes: needs("CAP_PERFMON")),
    ]
}
