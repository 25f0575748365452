#!/usr/bin/env bash
# deploy/container/Containerfile built with podman and run with chroot. On this kind of machine
# podman can import and build (COPY steps) but cannot start containers or pull from registries,
# so: the binary's runtime closure (deploy/container/runtime-closure.sh --with-loader) is imported
# as the local stand-in for debian:12-slim, the image is built with ARTIFACT=prebuilt (COPY steps
# only), its filesystem exported, and `ingestd --version` plus an ingest and a search run inside
# it with chroot as the image's non-root user. Image metadata is checked too (user, healthcheck,
# entrypoint). Skips with a message where podman is absent (CI installs it).
source "$(dirname "$0")/../lib/common.sh"
if ! command -v podman > /dev/null; then
  if [ "${CI:-}" = "true" ]; then echo "FAIL - podman missing (scripts/setup-deps.sh --test installs it)"; exit 1; fi
  echo "skip - podman not installed (apt-get install podman); the container image is not tested"; exit 0
fi
if [ "$(id -u)" -ne 0 ]; then echo "skip - podman build and chroot need root here"; exit 0; fi
# A private store: nothing touches the machine's images; vfs works where overlay mounts do not.
PODMAN=(podman --root "$WORK/storage" --runroot "$WORK/run" --storage-driver vfs)
cleanup() { umount "$WORK/rootfs/proc" 2>/dev/null || true; "${PODMAN[@]}" rm -af > /dev/null 2>&1 || true; "${PODMAN[@]}" rmi -af > /dev/null 2>&1 || true; rm -rf "$WORK" "$SRC/build/container/out"; }
trap cleanup EXIT

t0=$(date +%s)
"$SRC/deploy/container/runtime-closure.sh" "$BIN" "$WORK/base" --with-loader > /dev/null
tar -C "$WORK/base" -c . | "${PODMAN[@]}" import - localhost/debian:12-slim > /dev/null
t1=$(date +%s)
echo "# base (runtime closure, $(du -sk "$WORK/base" | cut -f1) KiB) made and imported in $((t1 - t0)) s"
"$SRC/deploy/container/runtime-closure.sh" "$BIN" "$SRC/build/container/out" > /dev/null
if "${PODMAN[@]}" build --pull=never --format docker --build-arg ARTIFACT=prebuilt \
     -f "$SRC/deploy/container/Containerfile" -t localhost/ingestd:test "$SRC" > "$WORK/build.log" 2>&1; then
  pass "podman build (ARTIFACT=prebuilt, COPY steps only) in $(( $(date +%s) - t1 )) s"
else
  cat "$WORK/build.log"; fail "podman build"; finish
fi
"${PODMAN[@]}" image inspect localhost/ingestd:test > "$WORK/inspect.json"
python3 - "$WORK/inspect.json" <<'PY' && pass "image: non-root user, HEALTHCHECK on /healthz, ENTRYPOINT ingestd" || fail "image metadata: $(head -c 600 "$WORK/inspect.json")"
import json, sys
img = json.load(open(sys.argv[1]))[0]
cfg = img["Config"]
assert cfg.get("User") == "10001:10001", cfg.get("User")
hc = img.get("Healthcheck") or img.get("HealthCheck") or cfg.get("Healthcheck") or {}
assert any("/healthz" in part for part in hc.get("Test", [])), hc
assert cfg.get("Entrypoint") == ["/usr/bin/ingestd"], cfg.get("Entrypoint")
assert "INGESTD_DATA_DIR=/var/lib/ingestd" in cfg.get("Env", []), cfg.get("Env")
PY
ctr="$("${PODMAN[@]}" create localhost/ingestd:test)"
mkdir -p "$WORK/rootfs"
"${PODMAN[@]}" export "$ctr" | tar --numeric-owner -C "$WORK/rootfs" -x
check "exported rootfs holds /usr/bin/ingestd" test -x "$WORK/rootfs/usr/bin/ingestd"
check "/var/lib/ingestd belongs to the image user 10001" test "$(stat -c %u "$WORK/rootfs/var/lib/ingestd")" = 10001
# A container runtime gives every container /proc and /dev/null; chroot does not. ingestd needs
# both (the contained parser re-executes /proc/self/exe with stdin on /dev/null), so provide
# them as the runtime would.
mkdir -p "$WORK/rootfs/proc" "$WORK/rootfs/dev"
mount -t proc proc "$WORK/rootfs/proc"
[ -e "$WORK/rootfs/dev/null" ] || mknod -m 666 "$WORK/rootfs/dev/null" c 1 3
out="$(chroot --userspec=10001:10001 "$WORK/rootfs" /usr/bin/ingestd --version)"
check "ingestd --version inside the image: $out" test "$out" = "$("$BIN" --version)"
mkdir -p "$WORK/rootfs/tmp"
cat > "$WORK/rootfs/tmp/harbour.md" <<'DOC'
# Harbour operations

The night pilot boards inbound tankers at the outer buoy. Tug assignments follow the tide table.
DOC
chmod 0644 "$WORK/rootfs/tmp/harbour.md"
export INGESTD_DATA_DIR=/var/lib/ingestd INGESTD_WORKERS=1
if chroot --userspec=10001:10001 "$WORK/rootfs" /usr/bin/ingestd ingest /tmp/harbour.md > "$WORK/ingest.out" 2> "$WORK/ingest.err"; then
  pass "ingest inside the image (chroot, uid 10001)"
else
  fail "ingest inside the image: $(cat "$WORK/ingest.err")"
fi
chroot --userspec=10001:10001 "$WORK/rootfs" /usr/bin/ingestd search "who boards tankers" -k 1 > "$WORK/search.out" 2>&1 || true
grep -q "night pilot" "$WORK/search.out" && pass "search inside the image finds the ingested text" || fail "search: $(cat "$WORK/search.out")"
check "the store was written under the image's /var/lib/ingestd" test -f "$WORK/rootfs/var/lib/ingestd/ingestd.db"
if chroot --userspec=10001:10001 "$WORK/rootfs" /usr/bin/ingestd doctor --listen 127.0.0.1:0 > "$WORK/doctor.out" 2>&1; then
  pass "ingestd doctor inside the image passes"
else
  fail "doctor inside the image: $(cat "$WORK/doctor.out")"
fi
# The image's HEALTHCHECK command against serve running inside the same root.
chroot --userspec=10001:10001 "$WORK/rootfs" /usr/bin/ingestd serve --listen 127.0.0.1:0 --workers 1 > "$WORK/serve.out" 2> "$WORK/serve.err" &
serve_pid=$!
url=""
for _ in $(seq 1 100); do
  line="$(head -n 1 "$WORK/serve.out" 2>/dev/null || true)"
  if [[ "$line" =~ ^listening\ on\ (http://[^ ]+)$ ]]; then url="${BASH_REMATCH[1]}"; break; fi
  sleep 0.1
done
if [ -n "$url" ] && chroot --userspec=10001:10001 "$WORK/rootfs" /usr/bin/ingestd healthcheck --url "$url/healthz" > /dev/null 2>&1; then
  pass "ingestd healthcheck (the image's HEALTHCHECK) passes against serve in the image"
else
  fail "healthcheck against $url: $(cat "$WORK/serve.err")"
fi
kill "$serve_pid" 2>/dev/null || true
wait "$serve_pid" 2>/dev/null || true
if chroot --userspec=10001:10001 "$WORK/rootfs" /usr/bin/ingestd healthcheck --url "$url/healthz" --timeout-ms 500 > /dev/null 2>&1; then
  fail "healthcheck passed with serve stopped"
else
  pass "healthcheck fails once serve is stopped"
fi
finish
