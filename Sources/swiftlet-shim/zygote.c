// The resident shim starter. A container start through `swiftlet-shim start` costs the runtime
// a spawn and the machine an exec of this program, over a millisecond of CPU each time in the
// C library's start-up alone on a virtual machine (its CPUID instructions trap). The runtime
// starts one zygote instead and asks it over a socket: a start is then two forks of this small
// process. Requests and answers are messages of a SOCK_SEQPACKET socket (fd 0), one each:
//
//   request "<id> <dir>"    answer "<id> ok <pid>" or "<id> error: <reason>"
//
// Each request gets a helper process, so that one slow start (a big rootfs to mount) does not
// hold the others back; the helper launches the shim exactly as `start` does, passes the
// report on and ends, so the shim is reparented as it is after `start`, and outlives both the
// zygote and the runtime. The zygote ends when the runtime's end of the socket closes; every
// helper and shim holds the socket only until it has answered, so the runtime sees the socket
// close only once no start of its can still be under way.
#define _GNU_SOURCE
#include "zygote.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

enum { requests = 0 };

static void answer(const char *id, const char *message) {
    char text[1400];
    int length = snprintf(text, sizeof text, "%s %s", id, message);
    if (length < 0) return;
    if ((size_t)length >= sizeof text) length = sizeof text - 1;
    // MSG_NOSIGNAL: a runtime gone meanwhile is no reason for SIGPIPE.
    while (send(requests, text, (size_t)length, MSG_NOSIGNAL) < 0 && errno == EINTR) {}
}

static void serve(char *request, const sigset_t *original, int signals) {
    char *space = strchr(request, ' ');
    if (space == NULL || space == request || space[1] == 0) return;
    *space = 0;
    const char *id = request, *dir = space + 1;
    pid_t helper = fork();
    if (helper < 0) {
        char message[300];
        snprintf(message, sizeof message, "error: fork: %s", strerror(errno));
        answer(id, message);
        return;
    }
    if (helper > 0) return;
    // The helper: the zygote's SIGCHLD handling is not the shim's (its container's init
    // inherits the signal mask the shim found).
    close(signals);
    sigprocmask(SIG_SETMASK, original, NULL);
    char message[1300];
    launch(dir, message, sizeof message);
    answer(id, message);
    _exit(0);
}

int zygote(void) {
    sigset_t child, original;
    sigemptyset(&child);
    sigaddset(&child, SIGCHLD);
    sigprocmask(SIG_BLOCK, &child, &original);
    int signals = signalfd(-1, &child, SFD_CLOEXEC | SFD_NONBLOCK);
    if (signals < 0) {
        perror("swiftlet-shim zygote: signalfd");
        return 1;
    }
    // Stopping the runtime (SIGTERM, a terminal's SIGINT) must not stop a start under way; the
    // zygote ends when the runtime's end of the socket closes.
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    struct pollfd fds[2] = {{requests, POLLIN, 0}, {signals, POLLIN, 0}};
    static char request[4200];
    for (;;) {
        if (poll(fds, 2, -1) < 0) {
            if (errno == EINTR) continue;
            perror("swiftlet-shim zygote: poll");
            return 1;
        }
        if (fds[1].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (read(signals, &info, sizeof info) == sizeof info) {}
            while (waitpid(-1, NULL, WNOHANG) > 0) {}
        }
        if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = recv(requests, request, sizeof request - 1, MSG_DONTWAIT);
            if (n == 0) return 0;
            if (n < 0) {
                if (errno == EINTR || errno == EAGAIN) continue;
                perror("swiftlet-shim zygote: recv");
                return 1;
            }
            request[n] = 0;
            serve(request, &original, signals);
        }
    }
}
