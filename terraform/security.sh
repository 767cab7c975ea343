#!/usr/bin/env bash
# npm run infra:security: checkov over terraform/ with the repo's .checkov.yaml. Skips are
# written next to the resources they concern, each with its reason; checkov prints them.
# Extra arguments go to checkov (e.g. -o json).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
source .ci/env.sh
command -v checkov >/dev/null || { echo "security: checkov not installed; run bash .ci/install.sh" >&2; exit 2; }
exec checkov --config-file .checkov.yaml "$@"
