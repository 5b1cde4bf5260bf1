# Kubelet: pod start-up latency (created in the API → Running seen through a watch; 50 pods one
# by one, 50 at once, then 100 at once), density (kubelet and runtime RSS and idle CPU with 100
# pods running) and adoption (the kubelet restarted under those 100 pods keeps every one).
# Needs root. No peer: the upstream kubelet is not on the machine; the issue's targets are
# printed beside the numbers. `swiftlet runtime` runs with our bridge and IPAM on a network
# namespace made here; the API server is our test API server on that namespace's loopback.
# The same flags as Benchmarks/run uses for our products, so the release build is shared, not redone.
swift build -c release --static-swift-stdlib --product kubelet-bench >/dev/null
images=$(python3 rootfs/build-images.py --cache .build/test-images)
scratch=$(mktemp -d /tmp/swiftlet-bench-kubelet-XXXXXX)
netns="swiftlet-bench-kubelet-$$"
daemon=""
cleanup() { remove_runtime_leftovers "$scratch" "$netns" swiftlet-bench-kubepods "$daemon"; release_own_disk "$scratch"; }
trap cleanup EXIT
own_disk "$scratch"
ip netns add "$netns"
ip -n "$netns" link set lo up

mkdir -p "$scratch/cni/net.d" "$scratch/cni/cache"
cat > "$scratch/cni/net.d/10-bench.conflist" <<JSON
{"cniVersion": "1.1.0", "name": "bench", "plugins": [
  {"type": "swiftlet-bridge", "bridge": "benchbr0", "isDefaultGateway": true, "ipMasq": false,
   "ipam": {"type": "swiftlet-ipam", "ranges": [[{"subnet": "10.77.0.0/23"}]], "dataDir": "$scratch/cni/ipam"}}]}
JSON
nsenter --net="/run/netns/$netns" "$SWIFTLET" runtime --root "$scratch/root" --state "$scratch/state" --listen "unix://$scratch/cri.sock" \
  --netns-dir "$scratch/netns" --cni-conf-dir "$scratch/cni/net.d" --cni-cache-dir "$scratch/cni/cache" --cni-bin-dir "$SWIFTLET_BIN" \
  --shim "$SWIFTLET_BIN/swiftlet-shim" 2>"$scratch/daemon.log" &
daemon=$!
for _ in $(seq 100); do [ -S "$scratch/cri.sock" ] && break; sleep 0.1; done
"$SWIFTLET" ctl --runtime-endpoint "unix://$scratch/cri.sock" load "$images/busybox/docker-archive.tar" >/dev/null

if ! nsenter --net="/run/netns/$netns" .build/release/kubelet-bench "$SWIFTLET" "$scratch/cri.sock" "$daemon" "$scratch" \
    "${SERIAL:-50}" "${PARALLEL:-50}" "${DENSITY:-100}"; then
  echo "kubelet log (last lines):" >&2; tail -20 "$scratch/kubelet.log" >&2
  echo "runtime log (last lines):" >&2; tail -20 "$scratch/daemon.log" >&2
  exit 1
fi
