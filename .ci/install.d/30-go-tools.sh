#!/usr/bin/env bash
# Go tools built from the Go module proxy into the cache (reused by later runs on this machine).
set -euo pipefail
source .ci/env.sh
GITLEAKS_VERSION=v8.28.0
if ! gitleaks version 2>/dev/null | grep -q "${GITLEAKS_VERSION#v}"; then
  go install "github.com/zricethezav/gitleaks/v8@$GITLEAKS_VERSION"
fi
echo "gitleaks $(gitleaks version)"
