# The API client's hot paths: a 5,000-pod list, the same pods as watch events, and the memory
# a cache of them takes. No peer runs here (no Go toolchain on the machine); the numbers are
# absolute, from a release build.
# The same flags as Benchmarks/run uses for our products, so the release build is shared, not redone.
swift build -c release --static-swift-stdlib --product kubeapi-bench >/dev/null
.build/release/kubeapi-bench "${PODS:-5000}"
