# Sourced by the scripts: puts the Swift toolchain on PATH and moves to the repository root.
if [ -x /opt/swift/usr/bin/swift ]; then
  export PATH="/opt/swift/usr/bin:$PATH"
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
