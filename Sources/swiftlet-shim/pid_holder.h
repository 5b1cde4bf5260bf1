#ifndef SWIFTLET_SHIM_PID_HOLDER_H
#define SWIFTLET_SHIM_PID_HOLDER_H

// `swiftlet-shim hold-pid`: the init of a pod's shared PID namespace (CRI's POD PID mode), as
// the pause container is elsewhere. A PID namespace lives only as long as its PID 1, so one
// small process must be that: it reaps the orphans the containers leave and ends on SIGTERM
// (or SIGKILL from the runtime). Prints the holder's PID (in the caller's namespace) once it
// runs, and returns; the holder lives on, reparented.
int hold_pid_namespace(void);

#endif
