// libcap from Debian's libcap-dev: capability sets of processes and files.
#include <sys/capability.h>
