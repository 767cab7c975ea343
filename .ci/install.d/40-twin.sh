#!/usr/bin/env bash
# The twin's GCS emulator: fake-gcs-server built from its Go module into $GOBIN, statically
# linked (CGO off) so `twin up` can run it as a one-file container image. Reused when the
# pinned version is already there. (The twin's base image is built by `twin up` itself.)
# Also an `ansible` for the e2e tests' `ansible -m ping`: the shared venv's when
# .ci/requirements.txt pins one (50-python.sh installs it), else Debian's ansible-core.
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
if grep -qE '^\s*ansible(-core)?\s*==' .ci/requirements.txt; then
  echo "ansible: pinned in .ci/requirements.txt (installed by 50-python.sh)"
elif ! dpkg-query -W -f='${Status}' ansible-core 2>/dev/null | grep -q "install ok installed"; then
  echo "ansible: installing Debian's ansible-core"
  apt-get install -y -qq --no-install-recommends ansible-core >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get install -y -qq --no-install-recommends ansible-core >/dev/null; }
fi
