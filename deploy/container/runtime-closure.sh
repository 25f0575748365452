#!/usr/bin/env bash
# Collects an ingestd binary and the shared libraries it loads into OUT as a root filesystem
# fragment: OUT/usr/bin/ingestd, every library from `ldd` under its own path, an empty
# OUT/var/lib/ingestd, OUT/etc/ssl/certs/ca-certificates.crt (HTTPS to the providers) and,
# when the binary has OCR, Tesseract's English language pack.
# Usage: deploy/container/runtime-closure.sh BINARY OUT [--with-loader]
#   --with-loader also copies the dynamic loader and a minimal /etc (passwd, group, nsswitch),
#   making OUT a complete root on its own (the test suite imports it as a stand-in base image).
set -euo pipefail
bin="$1" out="$2" with_loader="${3:-}"
rm -rf "$out"
mkdir -p "$out/usr/bin" "$out/etc/ssl/certs"
if [ "$with_loader" = "--with-loader" ]; then
  mkdir -p "$out/tmp" "$out/var/lib"; chmod 1777 "$out/tmp"  # a base image: no ingestd state yet
else
  mkdir -p "$out/var/lib/ingestd"
fi
install -m 0755 "$bin" "$out/usr/bin/ingestd"
strip --strip-unneeded "$out/usr/bin/ingestd" 2> /dev/null || true
# Debian 12 merges /usr: a library found under /lib is stored under /usr/lib, so copying OUT
# over a Debian root never replaces its /lib symlink with a directory. Without --with-loader the
# C runtime (libc, libm, libstdc++, libgcc_s, the loader) is left to the base image, whose
# versions match its own loader.
ldd "$bin" | awk '/=> \//{print $3} /^\t\/.*ld-linux/{print $1}' | sort -u | while read -r lib; do
  if [ "$with_loader" != "--with-loader" ]; then
    case "$(basename "$lib")" in
      ld-linux*|libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|libgcc_s.so*|libstdc++.so*) continue ;;
    esac
  fi
  dest="$lib"
  case "$dest" in /lib/*|/lib64/*) dest="/usr$dest" ;; esac
  mkdir -p "$out$(dirname "$dest")"
  cp -L "$lib" "$out$dest"
done
# Local OCR's English language pack (parse.ocr_languages = "eng", the default; doctor fails
# without it). Other languages: add their .traineddata under the same folder in a derived image.
tessdata=/usr/share/tesseract-ocr/5/tessdata
if [ -f "$tessdata/eng.traineddata" ] && ldd "$bin" | grep -q libtesseract; then
  mkdir -p "$out$tessdata"
  cp "$tessdata/eng.traineddata" "$out$tessdata/"
fi
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  cp /etc/ssl/certs/ca-certificates.crt "$out/etc/ssl/certs/"
fi
if [ "$with_loader" = "--with-loader" ]; then
  printf 'root:x:0:0:root:/root:/usr/sbin/nologin\ningestd:x:10001:10001:ingestd:/var/lib/ingestd:/usr/sbin/nologin\n' > "$out/etc/passwd"
  printf 'root:x:0:\ningestd:x:10001:\n' > "$out/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' > "$out/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' > "$out/etc/hosts"
  for d in lib lib64; do
    [ -e "$out/$d" ] || ln -s "usr/$d" "$out/$d"
  done
fi
echo "$out: $(du -sk "$out" | cut -f1) KiB"
