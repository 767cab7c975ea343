#!/usr/bin/env bash
# Assembles a minimal root filesystem from Debian packages and prints it as a tar stream:
# glibc (all a `bun build --compile` binary links), CA certificates, a non-root user 10001.
# With TOOL_BINARY it also adds that binary to /usr/local/bin: Bun makes the image the
# Dockerfile builds with; Node (with EXTRA_PACKAGES="libstdc++6 libgcc-s1") the bench's
# comparison image. Usage: rootfs.sh OUT_TAR [TOOL_BINARY]
# Env: EXTRA_PACKAGES, more Debian packages; BUILD_CA_BUNDLE, the CA bundle the builder trusts.
# Deterministic: fixed mtimes, sorted entries, numeric owners.
set -euo pipefail
out=$1 tool=${2:-}
epoch=${SOURCE_DATE_EPOCH:-0}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root" "$work/debs"
read -r -a extra <<< "${EXTRA_PACKAGES:-}"
(cd "$work/debs" && apt-get download -qq -o APT::Sandbox::User=root libc6 ca-certificates "${extra[@]}" >/dev/null)
for deb in "$work"/debs/*.deb; do dpkg-deb -x "$deb" "$root"; done
# update-ca-certificates would do this at install time: one bundle from Mozilla's list.
mkdir -p "$root/etc/ssl/certs"
find "$root/usr/share/ca-certificates/mozilla" -name '*.crt' | LC_ALL=C sort | xargs cat > "$root/etc/ssl/certs/ca-certificates.crt"
# Nothing the binary uses: docs, locales, iconv modules, the CA sources now bundled, maintainer scripts.
rm -rf "$root"/usr/share/{doc,man,locale,lintian,ca-certificates} "$root"/usr/lib/x86_64-linux-gnu/gconv "$root"/usr/sbin "$root"/etc/ca-certificates* "$root"/usr/share/ca-certificates
mkdir -p "$root"/{tmp,var/lib/app,app,etc}
chmod 1777 "$root/tmp"
printf 'root:x:0:0:root:/root:/nonexistent\napp:x:10001:10001:app:/app:/nonexistent\n' > "$root/etc/passwd"
printf 'root:x:0:\napp:x:10001:\n' > "$root/etc/group"
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
chown 10001:10001 "$root/var/lib/app"
if [ -n "$tool" ]; then
  # npm's bun package names its binary bun.exe on every platform.
  install -D -m 0755 "$tool" "$root/usr/local/bin/$(basename "$tool" .exe)"
  mkdir -p "$root/root" && chmod 0700 "$root/root"
  # The builder fetches packages through whatever this machine trusts (a registry mirror or an
  # intercepting proxy may use a private CA), so it gets the host's bundle; the runtime does not.
  install -D -m 0644 "${BUILD_CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}" "$root/etc/ssl/certs/build-ca.crt"
fi
find "$root" -exec touch -h -d "@$epoch" {} +
tar -C "$root" --sort=name --mtime="@$epoch" --numeric-owner \
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime -cf "$out" .
