// libseccomp from Debian's libseccomp-dev: builds seccomp filters and compiles them to BPF.
#include <seccomp.h>
