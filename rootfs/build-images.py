#!/usr/bin/env python3
"""Builds Swiftlet's test and demo images from Debian's busybox-static.

Nothing here is committed as a binary: the images are made from /bin/busybox (package
busybox-static) and from the text in this file. Every byte is deterministic (fixed
timestamps, owners and gzip headers), so the output directory is keyed by the content
of this script and of the busybox binary, and a second run with the same inputs
reuses what the first one wrote.

    rootfs/build-images.py --cache DIR      # prints DIR/<key>, the folder holding:

    busybox/layout/          OCI image layout directory (two gzip layers)
    busybox/oci-archive.tar  the same layout as a tarball (skopeo's oci-archive)
    busybox/docker-archive.tar  what `docker save` writes (manifest.json, layer tars)
    layered/...              the same three forms of an image that exercises the layer
                             rules: whiteout, opaque directory, hardlink, symlinks, a
                             setuid file, an xattr, one gzip and one uncompressed layer
    hostile/<case>.layer.tar a single hostile layer (for the unpacker's own tests)
    hostile/<case>.oci.tar   an oci-archive image whose top layer is that layer
    hostile/digest-mismatch.oci.tar  an image whose layer bytes do not match its digest
    MANIFEST.json            what was built, with digests, for tests to read
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import shutil
import sys
import tarfile
import tempfile

BUSYBOX = "/bin/busybox"
# Every entry gets this modification time so digests never change between builds.
EPOCH = 1700000000
PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
APP_UID = 1000

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER_TAR = "application/vnd.oci.image.layer.v1.tar"
MEDIA_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def oci_arch():
    machine = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm", "ppc64le": "ppc64le",
            "s390x": "s390x", "riscv64": "riscv64"}.get(machine, machine)


# ---------------------------------------------------------------- layer writing

class Layer:
    """A tar stream built entry by entry, with deterministic metadata."""

    def __init__(self):
        self.buffer = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buffer, mode="w", format=tarfile.PAX_FORMAT)

    def _info(self, name, kind, mode, uid=0, gid=0):
        info = tarfile.TarInfo(name)
        info.type = kind
        info.mode = mode
        info.uid, info.gid = uid, gid
        info.uname = info.gname = ""
        info.mtime = EPOCH
        return info

    def directory(self, name, mode=0o755, uid=0, gid=0):
        self.tar.addfile(self._info(name, tarfile.DIRTYPE, mode, uid, gid))

    def file(self, name, data, mode=0o644, uid=0, gid=0, xattrs=None):
        if isinstance(data, str):
            data = data.encode()
        info = self._info(name, tarfile.REGTYPE, mode, uid, gid)
        info.size = len(data)
        if xattrs:
            # The pax form GNU tar, libarchive and umoci all read.
            info.pax_headers = {"SCHILY.xattr." + k: v for k, v in xattrs.items()}
        self.tar.addfile(info, io.BytesIO(data))

    def symlink(self, name, target):
        info = self._info(name, tarfile.SYMTYPE, 0o777)
        info.linkname = target
        self.tar.addfile(info)

    def hardlink(self, name, target):
        info = self._info(name, tarfile.LNKTYPE, 0o644)
        info.linkname = target
        self.tar.addfile(info)

    def device(self, name, major, minor, mode=0o600):
        info = self._info(name, tarfile.CHRTYPE, mode)
        info.devmajor, info.devminor = major, minor
        self.tar.addfile(info)

    def finish(self):
        self.tar.close()
        return self.buffer.getvalue()


def gzip_bytes(data):
    out = io.BytesIO()
    # mtime=0 and no file name: the same input always gives the same bytes.
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="", compresslevel=6) as gz:
        gz.write(data)
    return out.getvalue()


# ---------------------------------------------------------------- image contents

def base_layer():
    """busybox with every applet linked in /bin, and the files a small distro has."""
    layer = Layer()
    for d in ["bin", "dev", "etc", "home", "proc", "root", "sys", "usr", "usr/bin",
              "usr/local", "usr/local/bin", "var", "var/www"]:
        layer.directory(d, mode=0o700 if d == "root" else 0o755)
    layer.directory("tmp", mode=0o1777)
    with open(BUSYBOX, "rb") as f:
        layer.file("bin/busybox", f.read(), mode=0o755)
    for applet in busybox_applets():
        if applet != "busybox":
            layer.symlink("bin/" + applet, "busybox")
    layer.file("etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\n"
               f"app:x:{APP_UID}:{APP_UID}:app:/home/app:/bin/sh\n"
               "nobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
    layer.file("etc/group", f"root:x:0:\napp:x:{APP_UID}:\nextra:x:2000:app\nnogroup:x:65534:\n")
    layer.file("etc/hostname", "busybox\n")
    layer.directory("home/app", mode=0o755, uid=APP_UID, gid=APP_UID)
    return layer.finish()


def busybox_applets():
    import subprocess
    names = subprocess.run([BUSYBOX, "--list"], check=True, capture_output=True, text=True).stdout
    return sorted(set(n for n in names.split() if n and "/" not in n))


def app_layer():
    """What the demo pod serves, and a marker that proves the second layer is applied."""
    layer = Layer()
    layer.directory("var")
    layer.directory("var/www")
    layer.file("var/www/index.html",
               "<!doctype html>\n<title>Swiftlet</title>\n<p>Hello from a Swiftlet pod.</p>\n")
    layer.directory("etc")
    layer.file("etc/swiftlet-image", "busybox test image, layer 2\n")
    return layer.finish()


def data_layer():
    """Second layer of the layered image: files that the third layer changes."""
    layer = Layer()
    layer.directory("data")
    layer.file("data/keep.txt", "kept\n")
    layer.file("data/remove-me.txt", "deleted by a whiteout in the layer above\n")
    layer.file("data/changed.txt", "version 1\n")
    layer.directory("data/opaque")
    layer.file("data/opaque/old1.txt", "hidden by the opaque marker above\n")
    layer.directory("data/opaque/sub")
    layer.file("data/opaque/sub/old2.txt", "hidden too\n")
    layer.file("data/xattr.txt", "has an extended attribute\n",
               xattrs={"user.swiftlet": "layered"})
    layer.directory("usr")
    layer.directory("usr/local")
    layer.directory("usr/local/bin")
    layer.file("usr/local/bin/setuid-tool", "#!/bin/sh\nid -u\n", mode=0o4755)
    layer.file("data/owned-by-app.txt", "owned by uid 1000\n", mode=0o640, uid=APP_UID, gid=APP_UID)
    return layer.finish()


def change_layer():
    """Top layer of the layered image, stored uncompressed: whiteouts and links."""
    layer = Layer()
    layer.directory("data")
    layer.file("data/.wh.remove-me.txt", "")
    layer.file("data/changed.txt", "version 2\n")
    layer.directory("data/opaque")
    layer.file("data/opaque/.wh..wh..opq", "")
    layer.file("data/opaque/new.txt", "the only file left in data/opaque\n")
    layer.directory("data/links")
    layer.file("data/links/original.txt", "one inode, two names\n")
    layer.hardlink("data/links/hardlink.txt", "data/links/original.txt")
    layer.symlink("data/links/relative-symlink", "../keep.txt")
    layer.symlink("data/links/absolute-symlink", "/data/keep.txt")
    return layer.finish()


# ---------------------------------------------------------------- hostile layers

def hostile_layers():
    """Each case breaks one rule an unpacker must enforce. Names say which."""
    cases = {}

    layer = Layer()
    layer.file("../escaped-dotdot.txt", "written outside the root\n")
    cases["dotdot"] = layer.finish()

    layer = Layer()
    layer.directory("a")
    layer.file("a/../../escaped-nested.txt", "escapes through a/../..\n")
    cases["nested-dotdot"] = layer.finish()

    layer = Layer()
    info = layer._info("/etc/swiftlet-hostile-absolute", tarfile.REGTYPE, 0o644)
    data = b"absolute path\n"
    info.size = len(data)
    layer.tar.addfile(info, io.BytesIO(data))
    cases["absolute-path"] = layer.finish()

    layer = Layer()
    layer.symlink("evil", "/etc")
    layer.file("evil/swiftlet-hostile-through-symlink", "written through an absolute symlink\n")
    cases["symlink-absolute-escape"] = layer.finish()

    layer = Layer()
    layer.directory("deep")
    layer.symlink("deep/up", "../../../../../../../../tmp")
    layer.file("deep/up/swiftlet-hostile-relative", "written through ../ symlink\n")
    cases["symlink-relative-escape"] = layer.finish()

    layer = Layer()
    layer.hardlink("passwd-link", "/etc/passwd")
    cases["hardlink-absolute"] = layer.finish()

    layer = Layer()
    layer.hardlink("passwd-link", "../../../../../etc/passwd")
    cases["hardlink-dotdot"] = layer.finish()

    layer = Layer()
    layer.directory("dev")
    layer.device("dev/mem-clone", 1, 1)  # the major/minor of /dev/mem
    cases["device-node"] = layer.finish()

    # An entry that declares 4 KiB but whose data stops after 100 bytes, then the archive ends.
    layer = Layer()
    info = layer._info("truncated.bin", tarfile.REGTYPE, 0o644)
    info.size = 4096
    header = info.tobuf(tarfile.PAX_FORMAT, tarfile.ENCODING, "surrogateescape")
    cases["size-larger-than-data"] = header + b"x" * 100

    return cases


# ---------------------------------------------------------------- image assembly

class Image:
    def __init__(self, name, config_fields, layers):
        """layers: list of (uncompressed tar bytes, compress: bool)."""
        self.name = name
        self.blobs = {}
        self.layer_descriptors = []
        self.diff_ids = []
        self.uncompressed_layers = []
        for tar_bytes, compress in layers:
            self.diff_ids.append("sha256:" + sha256(tar_bytes))
            self.uncompressed_layers.append(tar_bytes)
            blob = gzip_bytes(tar_bytes) if compress else tar_bytes
            self.layer_descriptors.append(self.add_blob(
                MEDIA_LAYER_GZIP if compress else MEDIA_LAYER_TAR, blob))
        config = {
            "created": "2023-11-14T22:13:20Z",
            "architecture": oci_arch(),
            "os": "linux",
            "config": config_fields,
            "rootfs": {"type": "layers", "diff_ids": self.diff_ids},
            "history": [{"created": "2023-11-14T22:13:20Z", "created_by": "rootfs/build-images.py"}
                        for _ in layers],
        }
        self.config_bytes = canonical_json(config)
        self.config_descriptor = self.add_blob(MEDIA_CONFIG, self.config_bytes)
        manifest = {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": self.config_descriptor,
            "layers": self.layer_descriptors,
        }
        self.manifest_bytes = canonical_json(manifest)
        self.manifest_descriptor = self.add_blob(MEDIA_MANIFEST, self.manifest_bytes)

    def add_blob(self, media_type, data):
        digest = "sha256:" + sha256(data)
        self.blobs[digest] = data
        return {"mediaType": media_type, "digest": digest, "size": len(data)}

    @property
    def tag(self):
        return self.name.rsplit(":", 1)[1]

    def index_bytes(self):
        descriptor = dict(self.manifest_descriptor)
        descriptor["annotations"] = {
            # skopeo and umoci look up the tag here; containerd's importer reads the full name.
            "org.opencontainers.image.ref.name": self.tag,
            "io.containerd.image.name": self.name,
        }
        descriptor["platform"] = {"architecture": oci_arch(), "os": "linux"}
        return canonical_json({"schemaVersion": 2, "mediaType": MEDIA_INDEX, "manifests": [descriptor]})

    def layout_files(self):
        """(path, bytes) pairs of the OCI image layout, in a stable order."""
        files = [("oci-layout", canonical_json({"imageLayoutVersion": "1.0.0"})),
                 ("index.json", self.index_bytes())]
        for digest in sorted(self.blobs):
            files.append(("blobs/sha256/" + digest.split(":", 1)[1], self.blobs[digest]))
        return files

    def docker_archive_files(self):
        """The classic `docker save` layout: a folder per layer, config, manifest.json."""
        config_name = self.config_descriptor["digest"].split(":", 1)[1] + ".json"
        files = [(config_name, self.config_bytes)]
        layer_paths = []
        parent = None
        for diff_id, tar_bytes in zip(self.diff_ids, self.uncompressed_layers):
            layer_id = sha256(((parent or "") + "\n" + diff_id).encode())
            layer_json = {"id": layer_id, "created": "2023-11-14T22:13:20Z", "os": "linux"}
            if parent:
                layer_json["parent"] = parent
            files += [(layer_id + "/VERSION", b"1.0"),
                      (layer_id + "/json", canonical_json(layer_json)),
                      (layer_id + "/layer.tar", tar_bytes)]
            layer_paths.append(layer_id + "/layer.tar")
            parent = layer_id
        repository, tag = self.name.rsplit(":", 1)
        files.append(("manifest.json", canonical_json(
            [{"Config": config_name, "RepoTags": [self.name], "Layers": layer_paths}])))
        files.append(("repositories", canonical_json({repository: {tag: parent}})))
        return files


def canonical_json(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def write_tree(root, files):
    for path, data in files:
        full = os.path.join(root, path)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb") as f:
            f.write(data)


def write_tarball(path, files):
    directories = sorted({os.path.dirname(p) for p, _ in files if os.path.dirname(p)})
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as tar:
        for d in directories:
            info = tarfile.TarInfo(d)
            info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, EPOCH
            tar.addfile(info)
        for name, data in files:
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, EPOCH
            tar.addfile(info, io.BytesIO(data))


def write_image(out, folder, image):
    base = os.path.join(out, folder)
    write_tree(os.path.join(base, "layout"), image.layout_files())
    write_tarball(os.path.join(base, "oci-archive.tar"), image.layout_files())
    write_tarball(os.path.join(base, "docker-archive.tar"), image.docker_archive_files())
    return {
        "name": image.name,
        "manifestDigest": image.manifest_descriptor["digest"],
        "configDigest": image.config_descriptor["digest"],
        "layers": image.layer_descriptors,
        "diffIDs": image.diff_ids,
        "layout": folder + "/layout",
        "ociArchive": folder + "/oci-archive.tar",
        "dockerArchive": folder + "/docker-archive.tar",
    }


def build(out):
    base = base_layer()
    busybox_config = {
        "User": f"{APP_UID}:{APP_UID}",
        "Env": [PATH_ENV, "GREETING=hello from the image"],
        "Entrypoint": ["/bin/busybox"],
        "Cmd": ["httpd", "-f", "-v", "-p", "8080", "-h", "/var/www"],
        "WorkingDir": "/home/app",
        "ExposedPorts": {"8080/tcp": {}},
        "Labels": {"org.opencontainers.image.source": "swiftlet rootfs/build-images.py"},
    }
    busybox = Image("localhost/swiftlet/busybox:latest", busybox_config,
                    [(base, True), (app_layer(), True)])
    layered = Image("localhost/swiftlet/layered:latest",
                    {"Env": [PATH_ENV], "Cmd": ["/bin/sh"], "WorkingDir": "/data"},
                    [(base, True), (data_layer(), True), (change_layer(), False)])

    manifest = {"busybox": write_image(out, "busybox", busybox),
                "layered": write_image(out, "layered", layered),
                "hostile": {}}

    hostile_dir = os.path.join(out, "hostile")
    os.makedirs(hostile_dir)
    for case, tar_bytes in sorted(hostile_layers().items()):
        with open(os.path.join(hostile_dir, case + ".layer.tar"), "wb") as f:
            f.write(tar_bytes)
        image = Image(f"localhost/swiftlet/hostile-{case}:latest",
                      {"Cmd": ["/bin/sh"]}, [(base, True), (tar_bytes, False)])
        write_tarball(os.path.join(hostile_dir, case + ".oci.tar"), image.layout_files())
        manifest["hostile"][case] = {"layer": f"hostile/{case}.layer.tar",
                                     "ociArchive": f"hostile/{case}.oci.tar"}

    # A well-formed image whose top layer's bytes were altered after the manifest was written.
    image = Image("localhost/swiftlet/hostile-digest-mismatch:latest", {"Cmd": ["/bin/sh"]},
                  [(base, True), (app_layer(), False)])
    bad_digest = image.layer_descriptors[-1]["digest"]
    image.blobs[bad_digest] = image.blobs[bad_digest].replace(b"Hello from", b"Tampered!!")
    write_tarball(os.path.join(hostile_dir, "digest-mismatch.oci.tar"), image.layout_files())
    manifest["hostile"]["digest-mismatch"] = {"ociArchive": "hostile/digest-mismatch.oci.tar",
                                              "tamperedDigest": bad_digest}

    with open(os.path.join(out, "MANIFEST.json"), "wb") as f:
        f.write(json.dumps(manifest, indent=2, sort_keys=True).encode())


def content_key():
    digest = hashlib.sha256()
    with open(__file__, "rb") as f:
        digest.update(f.read())
    with open(BUSYBOX, "rb") as f:
        digest.update(f.read())
    digest.update(oci_arch().encode())
    return digest.hexdigest()[:16]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", required=True, help="folder that holds one subfolder per content key")
    args = parser.parse_args()
    if not os.path.exists(BUSYBOX):
        sys.exit(f"build-images: {BUSYBOX} is missing: apt-get install busybox-static")
    cache = os.path.abspath(args.cache)
    final = os.path.join(cache, content_key())
    if not os.path.exists(os.path.join(final, "MANIFEST.json")):
        os.makedirs(cache, exist_ok=True)
        # Build beside the final folder and rename: a reader never sees half an output.
        staging = tempfile.mkdtemp(prefix=".building-", dir=cache)
        try:
            build(staging)
            os.chmod(staging, 0o755)
            try:
                os.rename(staging, final)
            except OSError:
                if not os.path.exists(os.path.join(final, "MANIFEST.json")):
                    raise
                shutil.rmtree(staging)  # another build finished first with the same content
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
    print(final)


if __name__ == "__main__":
    main()
