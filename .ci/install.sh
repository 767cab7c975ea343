#!/usr/bin/env bash
# Installs everything the project needs on a fresh machine of this kind, idempotently:
# each file in .ci/install.d/ owns one tool family and is safe to re-run.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh
mkdir -p "$E2M_CACHE"
for f in .ci/install.d/*.sh; do
  step "install $(basename "$f" .sh)" bash "$f"
done
