// swiftlet-shim: one per container, started by the runtime, outliving it.
//
//   swiftlet-shim start DIR        starts the container DIR/plan describes, then stays as its
//                                  parent: reaps it (and every orphan: a child subreaper), writes
//                                  its stdout and stderr to the CRI log, and records how it ended.
//   swiftlet-shim exec DIR PID CMD...  runs CMD inside the running container whose init is PID.
//   swiftlet-shim zygote           stays resident and starts shims as `start` does, on request
//                                  over the socket on its stdin (zygote.c).
//
// Files in DIR: `plan` (read), `shim.pid`, `init` ("<pid> <started ns>"), `exit`
// ("<exit code> <signal> <finished ns> <oom killed 0|1>"), each written atomically.
// `start` exits 0 once the container's process has been exec'd, or 1 with the reason on stderr.
// SIGUSR1 to the shim reopens the log file (after a rotation).
#define _GNU_SOURCE
#include "cgroup_clone.h"
#include "container_init.h"
#include "cri_log.h"
#include "pid_holder.h"
#include "plan.h"
#include "zygote.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(int clock) {
    struct timespec now;
    clock_gettime(clock, &now);
    return (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
}

// Writes `text` to DIR/name through a temporary file and a rename: readers see all or nothing.
// No fsync: DIR is under the runtime's state folder (/run), which a power loss takes away
// whole, and a crash of this process loses nothing the rename made visible. An fsync there
// cost each container start some milliseconds of disk flushes on a disk-backed /run.
static int write_state(const char *dir, const char *name, const char *text) {
    char path[4096], temporary[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(temporary, sizeof temporary, "%s.tmp", path);
    int fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    size_t length = strlen(text);
    int ok = write(fd, text, length) == (ssize_t)length;
    close(fd);
    return ok && rename(temporary, path) == 0 ? 0 : -1;
}

// The kernel's count of OOM kills in the container's memory cgroup ("oom_kill N"), or 0.
static long long oom_kills(const char *events) {
    if (events == NULL) return 0;
    FILE *file = fopen(events, "re");
    if (file == NULL) return 0;
    char line[256];
    long long count = 0;
    while (fgets(line, sizeof line, file)) {
        if (strncmp(line, "oom_kill ", 9) == 0) count = atoll(line + 9);
    }
    fclose(file);
    return count;
}

static void redirect_to_null(void) {
    int null = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null < 0) return;
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (null > 2) close(null);
}

static void report_and_exit(int fd, const char *message, int status) {
    ssize_t ignored = write(fd, message, strlen(message));
    (void)ignored;
    _exit(status);
}

// The shim proper, in the grandchild: starts the container and supervises it.
static void supervise(const char *dir, int report) {
    char message[1200], error[1024];
    setsid();
    prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
    char plan_path[4096];
    snprintf(plan_path, sizeof plan_path, "%s/plan", dir);
    struct plan plan;
    if (plan_read(plan_path, &plan, error, sizeof error) != 0) {
        snprintf(message, sizeof message, "error: read plan: %s", error);
        report_and_exit(report, message, 1);
    }
    struct cri_log log;
    if (cri_log_open(&log, plan.log_path) != 0) {
        snprintf(message, sizeof message, "error: open log file %s: %s", plan.log_path, strerror(errno));
        report_and_exit(report, message, 1);
    }
    sigset_t handled, previous;
    sigemptyset(&handled);
    sigaddset(&handled, SIGCHLD);
    sigaddset(&handled, SIGUSR1);
    sigprocmask(SIG_BLOCK, &handled, &previous);
    // The shim outlives terminal hangups and the runtime's signals; only SIGKILL ends it early.
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    int signals = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
    int out[2], err[2], failure[2];
    if (signals < 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0 || pipe2(failure, O_CLOEXEC) != 0) {
        snprintf(message, sizeof message, "error: shim setup: %s", strerror(errno));
        report_and_exit(report, message, 1);
    }
    long long oom_before = oom_kills(plan.oom_events);
    // A PID namespace to join (the pod's) applies to this process's children: join it here,
    // so the container's init is born in it.
    for (int i = 0; i < plan.njoins; i++) {
        if (plan.joins[i].type != CLONE_NEWPID) continue;
        int fd = open(plan.joins[i].path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWPID) != 0) {
            snprintf(message, sizeof message, "error: join PID namespace %s: %s", plan.joins[i].path, strerror(errno));
            report_and_exit(report, message, 1);
        }
        close(fd);
    }

    // The new namespaces are made for the child, which is born in its cgroup v2 folder.
    struct cgroup_birth birth;
    if (cgroup_birth_prepare(&plan, plan.new_namespaces, 0, &birth) != 0) {
        snprintf(message, sizeof message, "error: open cgroup %s: %s", plan.cgroup_joins[birth.index], strerror(errno));
        report_and_exit(report, message, 1);
    }
    pid_t init = cgroup_birth_clone(&birth, plan.new_namespaces);
    if (init < 0) {
        snprintf(message, sizeof message, "error: clone: %s", strerror(errno));
        report_and_exit(report, message, 1);
    }
    if (init == 0) {
        // Born in it: the init does not write itself in again.
        if (birth.inside) plan.cgroup_joins[birth.index] = NULL;
        sigprocmask(SIG_SETMASK, &previous, NULL);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        signal(SIGHUP, SIG_DFL);
        signal(SIGPIPE, SIG_DFL);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0) {
            init_fail(failure[1], "set up stdio", NULL, errno);
        }
        container_init(&plan, failure[1]);
    }
    close(out[1]);
    close(err[1]);
    close(failure[1]);
    ssize_t failed = read(failure[0], error, sizeof error - 1);
    close(failure[0]);
    if (failed > 0) {
        error[failed] = 0;
        waitpid(init, NULL, 0);
        snprintf(message, sizeof message, "error: %s", error);
        report_and_exit(report, message, 1);
    }
    char text[128];
    snprintf(text, sizeof text, "%d %lld\n", (int)init, now_ns(CLOCK_REALTIME));
    write_state(dir, "init", text);
    snprintf(text, sizeof text, "%d\n", (int)getpid());
    write_state(dir, "shim.pid", text);
    snprintf(message, sizeof message, "ok %d", (int)init);
    ssize_t ignored = write(report, message, strlen(message));
    (void)ignored;
    close(report);
    redirect_to_null();
    ignored = chdir("/");

    struct pollfd fds[3] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}, {signals, POLLIN, 0}};
    int status = 0, exited = 0;
    long long finished = 0, deadline = 0;
    static char buffer[64 * 1024];
    while (!(exited && fds[0].fd < 0 && fds[1].fd < 0)) {
        int timeout = -1;
        if (exited) {
            long long left = (deadline - now_ns(CLOCK_MONOTONIC)) / 1000000;
            // Output still held open by an orphan (host PID namespace) does not keep the
            // container's end from being recorded for long.
            if (left <= 0) break;
            timeout = (int)left;
        }
        if (poll(fds, 3, timeout) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
            ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                cri_log_write(&log, i, buffer, (size_t)n);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                cri_log_flush(&log, i);
                close(fds[i].fd);
                fds[i].fd = -1;
            }
        }
        if (fds[2].revents & POLLIN) {
            struct signalfd_siginfo info;
            while (read(signals, &info, sizeof info) == sizeof info) {
                if (info.ssi_signo == SIGUSR1) cri_log_reopen(&log);
            }
            int child_status;
            pid_t child;
            while ((child = waitpid(-1, &child_status, WNOHANG)) > 0) {
                if (child == init) {
                    status = child_status;
                    exited = 1;
                    finished = now_ns(CLOCK_REALTIME);
                    deadline = now_ns(CLOCK_MONOTONIC) + 2000000000LL;
                }
            }
        }
    }
    for (int i = 0; i < 2; i++) cri_log_flush(&log, i);
    while (waitpid(-1, NULL, WNOHANG) > 0) {}
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    int signal_number = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    int oom = oom_kills(plan.oom_events) > oom_before;
    snprintf(text, sizeof text, "%d %d %lld %d\n", code, signal_number, finished, oom);
    write_state(dir, "exit", text);
    _exit(0);
}

// Forks the shim, which starts the container, and waits for its report: "ok <pid>" once the
// container's process runs, or "error: <reason>". The shim lives on, reparented when the
// caller ends: `start` at once, a zygote's helper once it has passed the report on.
void launch(const char *dir, char *message, size_t size) {
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        snprintf(message, size, "error: pipe: %s", strerror(errno));
        return;
    }
    pid_t shim = fork();
    if (shim < 0) {
        snprintf(message, size, "error: fork: %s", strerror(errno));
        close(report[0]);
        close(report[1]);
        return;
    }
    if (shim == 0) {
        close(report[0]);
        supervise(dir, report[1]);
    }
    close(report[1]);
    size_t have = 0;
    ssize_t n;
    while (have < size - 1 && (n = read(report[0], message + have, size - 1 - have)) != 0) {
        if (n < 0) {
            if (errno == EINTR) continue;
            break;
        }
        have += (size_t)n;
    }
    close(report[0]);
    message[have] = 0;
    if (have == 0) snprintf(message, size, "error: the shim ended without a report");
}

// The runtime's wait for this process ends exactly when the container runs (or failed).
static int start(const char *dir) {
    char message[1300];
    launch(dir, message, sizeof message);
    if (strncmp(message, "ok ", 3) == 0) {
        printf("%s\n", message + 3);
        return 0;
    }
    fprintf(stderr, "%s\n", message + (strncmp(message, "error: ", 7) == 0 ? 7 : 0));
    return 1;
}

static volatile pid_t exec_child = 0;

// A caller giving up (ExecSync's timeout) stops the helper with SIGTERM: the command goes too,
// instead of living on in the container as an orphan.
static void kill_exec_child(int signal_number) {
    (void)signal_number;
    if (exec_child > 0) kill(exec_child, SIGKILL);
}

static int exec_in(const char *dir, pid_t pid, char *argv[]) {
    char plan_path[4096], error[1024];
    snprintf(plan_path, sizeof plan_path, "%s/plan", dir);
    struct plan plan;
    if (plan_read(plan_path, &plan, error, sizeof error) != 0) {
        fprintf(stderr, "swiftlet-shim exec: read plan: %s\n", error);
        return 255;
    }
    static const struct { const char *name; int type; } kinds[] = {
        {"ipc", CLONE_NEWIPC}, {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET}, {"pid", CLONE_NEWPID}, {"mnt", CLONE_NEWNS},
    };
    int fds[5];
    for (int i = 0; i < 5; i++) {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/ns/%s", (int)pid, kinds[i].name);
        fds[i] = open(path, O_RDONLY | O_CLOEXEC);
        if (fds[i] < 0) {
            fprintf(stderr, "swiftlet-shim exec: open %s: %s\n", path, strerror(errno));
            return 255;
        }
    }
    // The v2 folder is joined by the command's birth; the v1 ones by this process, which the
    // command then inherits. Both are opened here, before the container's mount namespace. As
    // the v1 writes, the v2 join is best effort: a folder that cannot be opened is skipped.
    struct cgroup_birth birth;
    if (cgroup_birth_prepare(&plan, 0, 1, &birth) != 0) birth.index = -1;
    for (int i = 0; i < plan.ncgroups; i++) {
        if (i == birth.index) continue;
        int fd = open(plan.cgroup_joins[i], O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t ignored = write(fd, "0", 1);
            (void)ignored;
            close(fd);
        }
    }
    for (int i = 0; i < 5; i++) {
        if (setns(fds[i], kinds[i].type) != 0) {
            fprintf(stderr, "swiftlet-shim exec: setns %s: %s\n", kinds[i].name, strerror(errno));
            return 255;
        }
        close(fds[i]);
    }
    int failure[2];
    if (pipe2(failure, O_CLOEXEC) != 0) return 255;
    // The PID namespace applies to children: the command runs in a child of this process.
    pid_t child = cgroup_birth_clone(&birth, 0);
    if (child < 0) return 255;
    if (child == 0) {
        close(failure[0]);
        if (birth.index >= 0 && !birth.inside) {
            ssize_t ignored = write(birth.procs_fd, "0", 1);
            (void)ignored;
        }
        container_exec_process(&plan, argv, failure[1]);
    }
    if (birth.procs_fd >= 0) close(birth.procs_fd);
    exec_child = child;
    struct sigaction action = {.sa_handler = kill_exec_child};
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);
    close(failure[1]);
    ssize_t failed = read(failure[0], error, sizeof error - 1);
    int status;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
    if (failed > 0) {
        error[failed] = 0;
        fprintf(stderr, "swiftlet-shim exec: %s\n", error);
        return 255;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char *argv[]) {
    if (argc == 3 && strcmp(argv[1], "start") == 0) return start(argv[2]);
    if (argc >= 5 && strcmp(argv[1], "exec") == 0) return exec_in(argv[2], (pid_t)atoi(argv[3]), argv + 4);
    if (argc == 2 && strcmp(argv[1], "hold-pid") == 0) return hold_pid_namespace();
    if (argc == 2 && strcmp(argv[1], "zygote") == 0) return zygote();
    fprintf(stderr, "usage: swiftlet-shim start DIR | swiftlet-shim exec DIR PID COMMAND... | swiftlet-shim hold-pid | swiftlet-shim zygote\n");
    return 2;
}
