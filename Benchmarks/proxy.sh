# Service proxy syncs at scale, iptables and nftables modes (issue targets: 10,000 services × 10
# endpoints full sync under 5 s in iptables mode, under 1 s with nftables, partial under 50 ms;
# 1,000 services full sync under 300 ms, beside kube-proxy's layout).
# Everything runs in network namespaces made for the run; the host's rules are not touched.
# The same flags as Benchmarks/run uses for our products, so the release build is shared, not redone.
swift build -c release --static-swift-stdlib --product proxy-bench >/dev/null
.build/release/proxy-bench 1000 10
.build/release/proxy-bench "${SERVICES:-10000}" 10
