#!/usr/bin/env bash
# The vulnerability scanner: osv-scanner built from its Go module into $GOBIN (docs/supply-chain.md
# says why this one: trivy, grype and syft do not build from the Go module proxy here, and
# v2.6.0 needs a newer Go than this machine's). Reused when the pinned version is already there.
# installs: osv-scanner
# profiles: all
set -euo pipefail
source .ci/env.sh
OSV_SCANNER_VERSION=v2.2.4
mkdir -p "$GOBIN"
stamp="$GOBIN/.osv-scanner.version"
if [ ! -x "$GOBIN/osv-scanner" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$OSV_SCANNER_VERSION" ]; then
  echo "go install github.com/google/osv-scanner/v2/cmd/osv-scanner@$OSV_SCANNER_VERSION (a few minutes the first time)"
  go install "github.com/google/osv-scanner/v2/cmd/osv-scanner@$OSV_SCANNER_VERSION"
  echo "$OSV_SCANNER_VERSION" > "$stamp"
fi
echo "osv-scanner $("$GOBIN/osv-scanner" --version | head -1 | awk '{print $NF}') in $GOBIN"
