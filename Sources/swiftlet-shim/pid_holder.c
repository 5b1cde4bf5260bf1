#define _GNU_SOURCE
#include "pid_holder.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

// PID 1 of the pod: the kernel delivers it only signals it handles, so SIGTERM and SIGINT are
// waited for explicitly, with SIGCHLD for the reaping.
__attribute__((noreturn)) static void be_init(void) {
    sigset_t waited;
    sigemptyset(&waited);
    sigaddset(&waited, SIGCHLD);
    sigaddset(&waited, SIGTERM);
    sigaddset(&waited, SIGINT);
    sigprocmask(SIG_BLOCK, &waited, NULL);
    prctl(PR_SET_NAME, "swiftlet-pod", 0, 0, 0);
    for (;;) {
        int signal_number = 0;
        if (sigwait(&waited, &signal_number) != 0) continue;
        if (signal_number != SIGCHLD) _exit(0);
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
    }
}

int hold_pid_namespace(void) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        perror("swiftlet-shim hold-pid: pipe");
        return 1;
    }
    pid_t middle = fork();
    if (middle < 0) {
        perror("swiftlet-shim hold-pid: fork");
        return 1;
    }
    if (middle == 0) {
        // The middle process makes the namespace (unshare applies to children) and forks its
        // init; reporting the init's PID as seen from here, then leaving it to be reparented.
        close(report[0]);
        setsid();
        pid_t holder = -1;
        if (unshare(CLONE_NEWPID) == 0) holder = fork();
        if (holder == 0) {
            close(report[1]);
            int null = open("/dev/null", O_RDWR | O_CLOEXEC);
            if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
            }
            if (chdir("/") != 0) _exit(1);
            be_init();
        }
        char text[64];
        int length = holder > 0 ? snprintf(text, sizeof text, "%d", (int)holder) : snprintf(text, sizeof text, "error %d", errno);
        ssize_t ignored = write(report[1], text, (size_t)length);
        (void)ignored;
        _exit(holder > 0 ? 0 : 1);
    }
    close(report[1]);
    char text[64] = {0};
    ssize_t have = read(report[0], text, sizeof text - 1);
    waitpid(middle, NULL, 0);
    if (have <= 0 || strncmp(text, "error", 5) == 0) {
        int code = have > 6 ? atoi(text + 6) : 0;
        fprintf(stderr, "make the pod's PID namespace: %s\n", code ? strerror(code) : "no report");
        return 1;
    }
    printf("%s\n", text);
    return 0;
}
