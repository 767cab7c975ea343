#!/usr/bin/env bash
# The twin's stand-ins, built from their Go modules into $GOBIN, statically linked (CGO off) so
# each runs as a one-file container image: fake-gcs-server, the GCS emulator `twin up` starts,
# and Pebble, Let's Encrypt's test ACME server, which e2e 85 runs beside the twin for the Caddy
# role's acme mode (with the certificate its module ships for its own HTTPS listener, in
# $GOBIN/pebble-certs). Reused when the pinned version is already there. (The twin's base image
# is built by `twin up` itself; Ansible comes from the shared venv: 50-python.sh.)
# installs: fake-gcs-server pebble
# profiles: rehearse kernel all
set -euo pipefail
source .ci/env.sh
FAKE_GCS_VERSION=v1.56.1
stamp="$GOBIN/.fake-gcs-server.version"
if [ ! -x "$GOBIN/fake-gcs-server" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$FAKE_GCS_VERSION static" ]; then
  CGO_ENABLED=0 go install -trimpath -ldflags='-s -w' "github.com/fsouza/fake-gcs-server@$FAKE_GCS_VERSION"
  echo "$FAKE_GCS_VERSION static" > "$stamp"
fi
if ldd "$GOBIN/fake-gcs-server" >/dev/null 2>&1; then
  echo "fake-gcs-server is dynamically linked: the emulator image needs a static binary" >&2
  exit 1
fi
echo "fake-gcs-server $FAKE_GCS_VERSION (static) in $GOBIN"

PEBBLE_MODULE=github.com/letsencrypt/pebble/v2
PEBBLE_VERSION=v2.10.3
stamp="$GOBIN/.pebble.version"
if [ ! -x "$GOBIN/pebble" ] || [ ! -f "$GOBIN/pebble-certs/pebble.minica.pem" ] ||
  [ "$(cat "$stamp" 2>/dev/null)" != "$PEBBLE_VERSION static" ]; then
  CGO_ENABLED=0 go install -trimpath -ldflags='-s -w' "$PEBBLE_MODULE/cmd/pebble@$PEBBLE_VERSION"
  src=$(go mod download -json "$PEBBLE_MODULE@$PEBBLE_VERSION" | python3 -c 'import json, sys; print(json.load(sys.stdin)["Dir"])')
  install -d "$GOBIN/pebble-certs"
  install -m 0644 "$src/test/certs/localhost/cert.pem" "$src/test/certs/localhost/key.pem" \
    "$src/test/certs/pebble.minica.pem" "$GOBIN/pebble-certs/"
  echo "$PEBBLE_VERSION static" > "$stamp"
fi
if ldd "$GOBIN/pebble" >/dev/null 2>&1; then
  echo "pebble is dynamically linked: its container image needs a static binary" >&2
  exit 1
fi
echo "pebble $PEBBLE_VERSION (static) in $GOBIN"
