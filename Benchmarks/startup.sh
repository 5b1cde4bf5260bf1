# startup: what it costs to start our binary. Every per-pod and per-container helper
# (CNI plugins, the shim) pays this, so it is compared with the cheapest possible process
# (/bin/true) and with the OCI runtime operators already run per container (runc).
compare startup \
  "swiftlet version" "$SWIFTLET version" \
  "/bin/true" "/bin/true" \
  "runc --version" "runc --version"
