#define _GNU_SOURCE
#include "cri_log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

int cri_log_open(struct cri_log *log, const char *path) {
    memset(log, 0, sizeof *log);
    log->path = path;
    log->fd = -1;
    log->streams[0].name = "stdout";
    log->streams[1].name = "stderr";
    return cri_log_reopen(log);
}

int cri_log_reopen(struct cri_log *log) {
    if (log->path == NULL || log->path[0] == 0) return 0;
    int fd = open(log->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) return -1;
    if (log->fd >= 0) close(log->fd);
    log->fd = fd;
    return 0;
}

static void write_entry(struct cri_log *log, const char *stream, char tag, const char *text, size_t length) {
    if (log->fd < 0) return;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct tm utc;
    gmtime_r(&now.tv_sec, &utc);
    char prefix[80];
    int prefix_length = snprintf(prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ %s %c ",
                                 utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                                 utc.tm_sec, now.tv_nsec, stream, tag);
    struct iovec parts[3] = {{prefix, (size_t)prefix_length}, {(void *)text, length}, {"\n", 1}};
    // One writev per entry, so concurrent readers never see half an entry's prefix.
    while (writev(log->fd, parts, 3) < 0 && errno == EINTR) {}
}

void cri_log_write(struct cri_log *log, int index, const char *bytes, size_t size) {
    struct cri_log_stream *stream = &log->streams[index];
    while (size > 0) {
        const char *newline = memchr(bytes, '\n', size);
        size_t take = newline ? (size_t)(newline - bytes) : size;
        size_t room = CRI_LOG_LINE_MAX - stream->length;
        if (take > room || (take == room && !newline)) {
            // The line outgrows the buffer: what fits goes out as a partial entry.
            memcpy(stream->pending + stream->length, bytes, room);
            write_entry(log, stream->name, 'P', stream->pending, CRI_LOG_LINE_MAX);
            stream->length = 0;
            bytes += room;
            size -= room;
            continue;
        }
        memcpy(stream->pending + stream->length, bytes, take);
        stream->length += take;
        if (!newline) return;
        write_entry(log, stream->name, 'F', stream->pending, stream->length);
        stream->length = 0;
        bytes += take + 1;
        size -= take + 1;
    }
}

void cri_log_flush(struct cri_log *log, int index) {
    struct cri_log_stream *stream = &log->streams[index];
    if (stream->length == 0) return;
    write_entry(log, stream->name, 'F', stream->pending, stream->length);
    stream->length = 0;
}
