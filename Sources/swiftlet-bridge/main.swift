import CNI
import CNIBridge
import Glibc

// A CNI plugin, started once per attachment by the runtime: it does its one job and exits.
// No argument parsing: everything comes from CNI_* variables and stdin.
// It feeds the IPAM plugin and iptables-restore on stdin: if one of them ends without reading,
// the write must fail with EPIPE (and the plugin report that program's error), not kill it.
signal(SIGPIPE, SIG_IGN)
PluginRunner.main(BridgePlugin())
