# Import + unpack of a ~300 MB image built from this machine's /usr (rootfs/build-large-image.py):
# ours (copy the blobs into the store with their digests checked, unpack every layer with its
# diff ID checked) against `umoci unpack` and against plain `tar -x` of the same layers, the
# floor. Needs root: owners and modes are kept as root keeps them.
# The same flags as Benchmarks/run uses for our products, so the release build is shared, not redone.
swift build -c release --static-swift-stdlib --product runtime-bench >/dev/null
large="$BENCHMARK_RESULTS/large-image"
python3 rootfs/build-large-image.py "$large"
layers=$(python3 -c '
import json, sys
layout = sys.argv[1] + "/layout"
index = json.load(open(layout + "/index.json"))
manifest = json.load(open(layout + "/blobs/sha256/" + index["manifests"][0]["digest"][7:]))
print(" ".join(layout + "/blobs/sha256/" + layer["digest"][7:] for layer in manifest["layers"]))
' "$large")
scratch=$(mktemp -d /tmp/swiftlet-bench-images-XXXXXX)
trap 'rm -rf "$scratch"' EXIT
echo "image: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["files"], "files,", d["bytes"] >> 20, "MiB in", len(d["layers"]), "gzip layers")' "$large/DONE")"
PREPARE="rm -rf $scratch/out" WARMUP=1 RUNS=${RUNS:-5} compare images-import \
  swiftlet ".build/release/runtime-bench import $large/layout $scratch/out" \
  umoci "umoci unpack --image $large/layout:latest $scratch/out" \
  "tar -x" "bash Benchmarks/untar-layers.sh $scratch/out $layers"
