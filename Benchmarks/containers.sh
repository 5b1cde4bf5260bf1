# Container start and runtime memory. Needs root.
#
# Start: CRI CreateContainer + StartContainer of /bin/true until its exit is seen (twice: by
# polling ContainerStatus, and by the CONTAINER_STOPPED event of GetContainerEvents), through a
# running `swiftlet runtime` (a pod on the node network, so no CNI plugin is
# timed), against `crun run` and `runc run` of the same image as an OCI bundle (umoci's
# unpack, /bin/true, no network namespace). crun 1.8 refuses this machine's hybrid cgroup
# layout, so it runs in a private mount namespace without the v2 mount.
# Memory: the daemon's RSS idle and with 50 sleeping containers, and each shim's RSS.
# CRI calls: what a call that does next to nothing costs the client and the runtime (time and
# CPU a call, one at a time on one connection), the gRPC transport alone, from a plain grpc-swift
# client and from the kubelet's connection; no peer on the machine.
# Everything runs inside a network namespace made here and removed afterwards.
# The same flags as Benchmarks/run uses for our products, so the release build is shared, not redone.
swift build -c release --static-swift-stdlib --product runtime-bench >/dev/null
images=$(python3 rootfs/build-images.py --cache .build/test-images)
scratch=$(mktemp -d /tmp/swiftlet-bench-containers-XXXXXX)
netns="swiftlet-bench-$$"
daemon=""
cleanup() { remove_runtime_leftovers "$scratch" "$netns" swiftlet-bench "$daemon"; }
trap cleanup EXIT
ip netns add "$netns"
in_netns() { nsenter --net="/run/netns/$netns" "$@"; }

mkdir -p "$scratch/cni"
nsenter --net="/run/netns/$netns" "$SWIFTLET" runtime --root "$scratch/root" --state "$scratch/state" --listen "unix://$scratch/cri.sock" \
  --netns-dir "$scratch/netns" --cni-conf-dir "$scratch/cni" --shim "$SWIFTLET_BIN/swiftlet-shim" 2>"$scratch/daemon.log" &
daemon=$!
for _ in $(seq 100); do [ -S "$scratch/cri.sock" ] && break; sleep 0.1; done
"$SWIFTLET" ctl --runtime-endpoint "unix://$scratch/cri.sock" load "$images/busybox/docker-archive.tar" >/dev/null
image=localhost/swiftlet/busybox:latest
"$SWIFTLET_BIN/runtime-bench" cri-calls "$scratch/cri.sock" "$daemon" "${CALLS:-2000}"
echo

# The peers' bundle: the same image unpacked by umoci, running /bin/true as root, no network
# namespace (our pod uses the node network), cgroups under the same parent as ours.
umoci unpack --image "$images/busybox/layout:latest" "$scratch/bundle" >/dev/null
python3 - "$scratch/bundle/config.json" <<'PY'
import json, sys
path = sys.argv[1]
config = json.load(open(path))
config["process"].update(args=["/bin/true"], terminal=False, user={"uid": 0, "gid": 0})
config["linux"]["namespaces"] = [n for n in config["linux"]["namespaces"] if n["type"] != "network"]
config["linux"]["cgroupsPath"] = "/swiftlet-bench/peer"
json.dump(config, open(path, "w"))
PY

runs=${RUNS:-300}
# TMPDIR: the pods' log folders go under the scratch folder too.
TMPDIR="$scratch" "$SWIFTLET_BIN/runtime-bench" container-start "$scratch/cri.sock" "$image" "$runs" "$scratch/swiftlet.json"
in_netns unshare -m sh -c "umount /sys/fs/cgroup/unified 2>/dev/null; hyperfine --shell=none --style=none --warmup 10 --min-runs $runs \
  --export-json $scratch/crun.json --command-name 'crun run' 'crun run -b $scratch/bundle swiftlet-bench-crun' >/dev/null"
in_netns hyperfine --shell=none --style=none --warmup 10 --min-runs "$runs" \
  --export-json "$scratch/runc.json" --command-name "runc run" "runc run -b $scratch/bundle swiftlet-bench-runc" >/dev/null
python3 - "$BENCHMARK_RESULTS/container-start.json" "$scratch"/swiftlet.json "$scratch"/crun.json "$scratch"/runc.json <<'PY'
import json, sys
results = [result for path in sys.argv[2:] for result in json.load(open(path))["results"]]
json.dump({"results": results}, open(sys.argv[1], "w"))
PY
python3 Benchmarks/report.py "$BENCHMARK_RESULTS/container-start.json"

echo
TMPDIR="$scratch" "$SWIFTLET_BIN/runtime-bench" container-memory "$scratch/cri.sock" "$image" 50 "$daemon" "$scratch/state/shims"
