#ifndef SWIFTLET_OUTPUT_H
#define SWIFTLET_OUTPUT_H

#include <stdio.h>

/// Standard output flushed at each line even into a file or a pipe (journald, a log file), so a
/// daemon's lines appear when they happen. (Swift 6 forbids touching C's `stdout` global.)
static inline void swiftlet_line_buffered_stdout(void) {
    setvbuf(stdout, NULL, _IOLBF, 0);
}

#endif
