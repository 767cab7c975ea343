#!/usr/bin/env bash
# The twin's GCS emulator: fake-gcs-server built from its Go module into $GOBIN, statically
# linked (CGO off) so `twin up` can run it as a one-file container image. Reused when the
# pinned version is already there. (The twin's base image is built by `twin up` itself.)
# (Ansible comes from the shared venv: 50-python.sh.)
# installs: fake-gcs-server
# profiles: rehearse all
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
