#!/usr/bin/env bash
# The Debian package (scripts/package.sh) and its systemd units: the .deb's contents and
# dependencies, `systemd-analyze security --offline=yes` exposure <= 2.0 for both units, and, as
# root: dpkg -i, /usr/bin/ingestd --version and doctor, `systemd-analyze verify`, an upgrade to a
# newer version that keeps an edited conffile, and dpkg -P (purge).
#
# The package is built from the tree this test runs in (BUILD, the ci preset in CI: same flags as
# release), so CI compiles nothing twice.
source "$(dirname "$0")/../lib/common.sh"
for tool in dpkg-deb dpkg-shlibdeps cpack systemd-analyze; do
  if ! command -v "$tool" > /dev/null; then
    if [ "${CI:-}" = "true" ]; then echo "FAIL - $tool missing (scripts/setup-deps.sh --test)"; exit 1; fi
    echo "skip - $tool not installed"; exit 0
  fi
done

# --- build -------------------------------------------------------------------------------------
preset="$(basename "$BUILD")"
start=$(date +%s)
INGEST_PACKAGE_PRESET="$preset" INGEST_BUILD_JOBS="${INGEST_BUILD_JOBS:-2}" \
  "$SRC/scripts/package.sh" > "$WORK/package.out" 2> "$WORK/package.err" \
  || { cat "$WORK/package.err"; fail "scripts/package.sh failed"; finish; }
echo "# package.sh took $(( $(date +%s) - start )) s"
deb="$(tail -n 1 "$WORK/package.out")"
version="$("$BIN" version --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')"
check "last line is build/release/ingestd_${version}_amd64.deb: $deb" \
  test "$deb" = "$SRC/build/release/ingestd_${version}_amd64.deb" -a -f "$deb"
dpkg-deb -c "$deb" | awk '{print $6}' > "$WORK/contents"
for f in ./usr/bin/ingestd ./etc/ingestd/ingestd.toml ./lib/systemd/system/ingestd.service \
         ./lib/systemd/system/ingestd-worker@.service ./usr/share/doc/ingestd/deployment.md; do
  grep -qxF "$f" "$WORK/contents" && pass "package holds $f" || fail "package lacks $f"
done
dpkg-deb -f "$deb" Depends > "$WORK/depends"
grep -q 'libc6' "$WORK/depends" && grep -q 'libpqxx' "$WORK/depends" && grep -q 'libpoppler-cpp' "$WORK/depends" \
  && pass "dependencies from dpkg-shlibdeps: $(tr -d '\n' < "$WORK/depends" | cut -c1-100)..." \
  || fail "Depends: $(cat "$WORK/depends")"
dpkg-deb --ctrl-tarfile "$deb" | tar -xO ./conffiles > "$WORK/conffiles"
grep -qxF /etc/ingestd/ingestd.toml "$WORK/conffiles" && pass "ingestd.toml is a conffile" || fail "conffiles: $(cat "$WORK/conffiles")"
echo "# package size: $(du -k "$deb" | cut -f1) KiB"

# --- the units: hardening score -----------------------------------------------------------------
mkdir -p "$WORK/root"
dpkg-deb -x "$deb" "$WORK/root"
for unit in ingestd.service ingestd-worker@.service; do
  score="$(systemd-analyze security --offline=yes "$WORK/root/lib/systemd/system/$unit" 2>&1 \
           | sed -n 's/.*Overall exposure level for .*: \([0-9.]*\).*/\1/p')"
  python3 -c 'import sys; sys.exit(0 if sys.argv[1] and float(sys.argv[1]) <= 2.0 else 1)' "$score" \
    && pass "$unit: exposure $score <= 2.0" || fail "$unit: exposure '$score'"
  grep -q '^LoadCredential=openai_api_key:' "$WORK/root/lib/systemd/system/$unit" \
    && grep -q '^Environment=OPENAI_API_KEY_FILE=%d/openai_api_key' "$WORK/root/lib/systemd/system/$unit" \
    && pass "$unit: LoadCredential= mapped to OPENAI_API_KEY_FILE" || fail "$unit: credentials"
  grep -q '^StateDirectory=ingestd' "$WORK/root/lib/systemd/system/$unit" \
    && pass "$unit: StateDirectory=ingestd" || fail "$unit: StateDirectory"
done
"$WORK/root/usr/bin/ingestd" --config "$WORK/root/etc/ingestd/ingestd.toml" config check > /dev/null \
  && pass "the shipped ingestd.toml passes config check" || fail "shipped ingestd.toml invalid"

# --- install, upgrade, purge (root only; changes this machine's package database) --------------
if [ "$(id -u)" -ne 0 ]; then
  echo "skip - install/upgrade/purge need root"
  finish; exit 0
fi
if dpkg-query -W -f='${Status}' ingestd 2>/dev/null | grep -q "install ok installed"; then
  if [ "${CI:-}" = "true" ]; then fail "ingestd is already installed on this machine"; finish; fi
  echo "skip - an ingestd package is already installed here; not touching it"
  finish; exit 0
fi
# One package test at a time on a machine (dpkg has one database).
exec 9> /tmp/ingestd-package-test.lock
flock 9
cleanup_pkg() { dpkg -P ingestd > /dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup_pkg EXIT

dpkg -i "$deb" > "$WORK/install.log" 2>&1 && pass "dpkg -i" || { cat "$WORK/install.log"; fail "dpkg -i"; finish; }
out="$(/usr/bin/ingestd --version)"
check "/usr/bin/ingestd --version: $out" test "$out" = "$("$BIN" --version)"
getent passwd ingestd > /dev/null && pass "system user ingestd exists" || fail "no user ingestd"
check "/etc/ingestd/ingestd.toml is root:ingestd 0640" test "$(stat -c '%U:%G %a' /etc/ingestd/ingestd.toml)" = "root:ingestd 640"
check "credential placeholders are root-only" test "$(stat -c '%U %a' /etc/ingestd/credentials/openai_api_key)" = "root 600"
for unit in ingestd.service ingestd-worker@.service; do
  if systemd-analyze verify "/lib/systemd/system/$unit" > "$WORK/verify.log" 2>&1; then
    pass "systemd-analyze verify $unit"
  else
    fail "systemd-analyze verify $unit: $(cat "$WORK/verify.log")"
  fi
done
# The installed configuration as the service would see it (doctor as the service user).
doctor_rc=0
runuser -u ingestd -- env INGESTD_CONFIG=/etc/ingestd/ingestd.toml INGESTD_DATA_DIR=/var/lib/ingestd \
  /usr/bin/ingestd doctor --listen 127.0.0.1:0 > "$WORK/doctor.txt" 2>&1 || doctor_rc=$?
check "ingestd doctor as the ingestd user passes (rc=$doctor_rc)" test "$doctor_rc" -eq 0
[ "$doctor_rc" -eq 0 ] || cat "$WORK/doctor.txt"

# An operator edit, then an upgrade to a newer version of the same package.
echo '# edited by the operator' >> /etc/ingestd/ingestd.toml
sed -i 's/^workers = 4$/workers = 3/' /etc/ingestd/ingestd.toml
newer="$WORK/ingestd_${version}+1_amd64.deb"
dpkg-deb -R "$deb" "$WORK/repack"
sed -i "s/^Version: .*/Version: ${version}+1/" "$WORK/repack/DEBIAN/control"
dpkg-deb -b --root-owner-group "$WORK/repack" "$newer" > /dev/null
dpkg -i "$newer" < /dev/null > "$WORK/upgrade.log" 2>&1 && pass "dpkg -i of version ${version}+1 (upgrade)" || { cat "$WORK/upgrade.log"; fail "upgrade"; }
check "upgraded: dpkg says ${version}+1" test "$(dpkg-query -W -f='${Version}' ingestd)" = "${version}+1"
grep -q '^# edited by the operator' /etc/ingestd/ingestd.toml && grep -q '^workers = 3$' /etc/ingestd/ingestd.toml \
  && pass "the edited conffile survived the upgrade" || fail "conffile edits lost: $(cat /etc/ingestd/ingestd.toml)"
check "no .dpkg-new/.dpkg-dist left beside it" test -z "$(ls /etc/ingestd/ | grep -E 'dpkg-(new|dist|old)' || true)"

dpkg -P ingestd > "$WORK/purge.log" 2>&1 && pass "dpkg -P (purge)" || { cat "$WORK/purge.log"; fail "purge"; }
check "purge removed /usr/bin/ingestd" test ! -e /usr/bin/ingestd
check "purge removed /etc/ingestd" test ! -e /etc/ingestd
check "purge removed /var/lib/ingestd" test ! -e /var/lib/ingestd
check "purge removed the units" test ! -e /lib/systemd/system/ingestd.service
finish
