# cni: one pod's ADD then DEL, our bridge + IPAM against the reference bridge + host-local,
# same configuration, run inside a node namespace the benchmark makes (root needed).
# The floor is the kernel's own cost: `ip link add` + `ip link del` of a veth pair
# (two process starts included), which every bridge plugin pays in ADD and DEL.
[ "$(id -u)" -eq 0 ] || { echo "cni: needs root (network namespaces); skipped"; return 0; }

work=$(mktemp -d)
node="swt-bench-$$-node"
pod="swt-bench-$$-pod"
cleanup() { ip netns delete "$node" 2>/dev/null; ip netns delete "$pod" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$node" && ip netns add "$pod" && ip -n "$node" link set lo up

mkdir -p "$work/bin" "$work/data"
cp "$SWIFTLET_BIN/swiftlet-bridge" "$SWIFTLET_BIN/swiftlet-ipam" "$work/bin/"
ln -s /usr/lib/cni/bridge /usr/lib/cni/host-local "$work/bin/"

cat > "$work/add-del" <<SCRIPT
#!/bin/sh
export CNI_CONTAINERID=bench CNI_NETNS=/run/netns/$pod CNI_IFNAME=eth0 CNI_PATH=$work/bin
CNI_COMMAND=ADD "$work/bin/\$1" < "\$2" > /dev/null || exit 1
CNI_COMMAND=DEL "$work/bin/\$1" < "\$2" > /dev/null || exit 1
SCRIPT
cat > "$work/floor" <<SCRIPT
#!/bin/sh
ip link add swtfloor0 type veth peer name eth0 netns $pod && ip link del swtfloor0
SCRIPT
chmod +x "$work/add-del" "$work/floor"

for masquerade in true false; do
  ours="$work/ours-$masquerade.json"
  cat > "$ours" <<JSON
{"cniVersion":"1.0.0","name":"bench","type":"swiftlet-bridge","bridge":"swbench0","isGateway":true,"ipMasq":$masquerade,
 "ipam":{"type":"swiftlet-ipam","dataDir":"$work/data","ranges":[[{"subnet":"10.90.0.0/24"}]]}}
JSON
  sed 's/swiftlet-bridge/bridge/; s/swiftlet-ipam/host-local/' "$ours" > "$work/reference-$masquerade.json"
  echo "-- ipMasq: $masquerade"
  ip netns exec "$node" hyperfine --shell=none --style=none --warmup 5 --min-runs "${CNI_RUNS:-40}" \
    --export-json "$BENCHMARK_RESULTS/cni-masq-$masquerade.json" \
    --command-name "swiftlet-bridge + swiftlet-ipam" "$work/add-del swiftlet-bridge $ours" \
    --command-name "bridge + host-local (reference)" "$work/add-del bridge $work/reference-$masquerade.json" \
    --command-name "floor: ip link add+del veth" "$work/floor" >/dev/null
  python3 Benchmarks/report.py "$BENCHMARK_RESULTS/cni-masq-$masquerade.json"
done
