#ifndef SWIFTLET_SHIM_CRI_LOG_H
#define SWIFTLET_SHIM_CRI_LOG_H

#include <stddef.h>

// The CRI log file a kubelet and `crictl logs` read: one line per output line,
// `<RFC3339Nano time> <stdout|stderr> <F|P> <text>`, where P marks a piece of a line longer
// than the buffer (16 KiB) and F the piece that ends it.

enum { CRI_LOG_LINE_MAX = 16 * 1024 };

struct cri_log_stream {
    const char *name;  // "stdout" or "stderr"
    char pending[CRI_LOG_LINE_MAX];
    size_t length;
};

struct cri_log {
    const char *path;
    int fd;            // -1 when no log file was asked for
    struct cri_log_stream streams[2];
};

// Opens (appending, creating) the file at `path`, or none when `path` is NULL or empty.
int cri_log_open(struct cri_log *log, const char *path);
// Reopens after a rotation (ReopenContainerLog).
int cri_log_reopen(struct cri_log *log);
// Takes `size` bytes that stream `index` (0 stdout, 1 stderr) produced.
void cri_log_write(struct cri_log *log, int index, const char *bytes, size_t size);
// At the stream's end: an unfinished last line is written as a full one.
void cri_log_flush(struct cri_log *log, int index);

#endif
