#ifndef SWIFTLET_SHIM_ZYGOTE_H
#define SWIFTLET_SHIM_ZYGOTE_H

#include <stddef.h>

// Starts the shim of the container in `dir` and waits for its report (main.c): "ok <pid>" or
// "error: <reason>", NUL-terminated in `message`.
void launch(const char *dir, char *message, size_t size);

// `swiftlet-shim zygote`: serves start requests on the SOCK_SEQPACKET socket at fd 0 until the
// runtime closes its end; returns the exit status.
int zygote(void);

#endif
