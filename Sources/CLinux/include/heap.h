#ifndef SWIFTLET_HEAP_H
#define SWIFTLET_HEAP_H

#include <malloc.h>
#include <stddef.h>

/// Bytes malloc has handed out and not taken back (small blocks and mmapped ones): what live
/// objects cost, unlike the resident size, which keeps freed pages. Glibc's module hides malloc.h.
static inline size_t swiftlet_heap_in_use(void) {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

/// Gives the pages of freed heap memory back to the system (glibc keeps them otherwise, in the
/// middle of its arenas as well as at their tops); returns 1 when it released any.
static inline int swiftlet_heap_return_free(void) {
    return malloc_trim(0);
}

#endif
