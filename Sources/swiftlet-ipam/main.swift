import CNI

// A CNI IPAM plugin, started once per attachment by the runtime: it does its one job and exits.
// No argument parsing: everything comes from CNI_* variables and stdin.
PluginRunner.main(IPAMPlugin())
