#!/usr/bin/env python3
"""Builds a large image for the unpacking benchmark from the machine's own /usr.

    rootfs/build-large-image.py OUT [--megabytes 300]

Walks /usr in sorted order, taking files (with their real modes, owners, symlinks and
hardlinks) until the budget is reached, cut into three gzip layers, and writes OUT/layout
(an OCI image layout, tag `latest`, name localhost/swiftlet/large:latest) and
OUT/oci-archive.tar. Content differs between machines; the benchmark only needs it large and
real. OUT is reused when it already holds a finished build.
"""
import argparse
import hashlib
import json
import os
import platform
import subprocess
import tarfile

ARCH = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())


def select_files(budget):
    """Paths under /usr in sorted order until `budget` bytes of regular files are taken."""
    taken, total = [], 0
    for folder, directories, files in os.walk("/usr"):
        directories.sort()
        taken.append(folder)
        for name in sorted(files):
            path = os.path.join(folder, name)
            try:
                info = os.lstat(path)
            except OSError:
                continue
            if not (os.path.islink(path) or os.path.isfile(path)) or not os.access(path, os.R_OK):
                continue
            taken.append(path)
            if os.path.isfile(path) and not os.path.islink(path):
                total += info.st_size
            if total >= budget:
                return taken, total
    return taken, total


def write_layer(paths, out_path):
    """An uncompressed tar of `paths` (relative names), then gzip -6; returns both digests."""
    tar_path = out_path + ".tar"
    with tarfile.open(tar_path, "w", format=tarfile.PAX_FORMAT) as tar:
        for path in paths:
            tar.add(path, arcname=path.lstrip("/"), recursive=False)
    diff_id = hashlib.sha256(open(tar_path, "rb").read()).hexdigest()
    subprocess.run(["gzip", "-6", "-n", "-f", tar_path], check=True)
    os.rename(tar_path + ".gz", out_path)
    return diff_id


def sha_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest(), os.path.getsize(path)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--megabytes", type=int, default=300)
    args = parser.parse_args()
    done = os.path.join(args.out, "DONE")
    if os.path.exists(done):
        return
    layout = os.path.join(args.out, "layout")
    blobs = os.path.join(layout, "blobs", "sha256")
    os.makedirs(blobs, exist_ok=True)

    paths, total = select_files(args.megabytes << 20)
    thirds = [paths[: len(paths) // 3], paths[len(paths) // 3: 2 * len(paths) // 3], paths[2 * len(paths) // 3:]]
    layers, diff_ids = [], []
    for index, part in enumerate(thirds):
        temporary = os.path.join(args.out, f"layer{index}.tar.gz")
        diff_ids.append("sha256:" + write_layer(part, temporary))
        digest, size = sha_of(temporary)
        os.rename(temporary, os.path.join(blobs, digest))
        layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + digest, "size": size})

    def blob(value):
        data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, digest), "wb") as f:
            f.write(data)
        return {"digest": "sha256:" + digest, "size": len(data)}

    config = blob({"architecture": ARCH, "os": "linux", "config": {"Cmd": ["/usr/bin/env"]},
                   "rootfs": {"type": "layers", "diff_ids": diff_ids}})
    manifest = blob({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                     "config": dict(config, mediaType="application/vnd.oci.image.config.v1+json"), "layers": layers})
    index = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
             "manifests": [dict(manifest, mediaType="application/vnd.oci.image.manifest.v1+json",
                                annotations={"io.containerd.image.name": "localhost/swiftlet/large:latest",
                                             "org.opencontainers.image.ref.name": "latest"})]}
    with open(os.path.join(layout, "index.json"), "w") as f:
        json.dump(index, f)
    with open(os.path.join(layout, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    subprocess.run(["tar", "-cf", os.path.join(args.out, "oci-archive.tar"), "-C", layout, "."], check=True)
    with open(done, "w") as f:
        json.dump({"files": len(paths), "bytes": total, "layers": layers}, f)


if __name__ == "__main__":
    main()
