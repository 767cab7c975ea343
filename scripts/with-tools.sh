#!/usr/bin/env bash
# Runs a command with the project's own tools first on the PATH (Node 22, Bun, Go and Python
# tools installed by .ci/install.sh into ~/.cache/e2-micro), so `npm run X` works even where the
# machine's own Node is older. Usage: scripts/with-tools.sh CMD [ARGS...]
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=.ci/env.sh
source .ci/env.sh
if ! command -v bun >/dev/null || [ "$(node --version | cut -d. -f1)" != v22 ]; then
  echo "Node 22 and Bun are not installed yet: run 'bash .ci/install.sh dev' (or 'npm run rehearse', which installs its own; 'npm test' installs everything)" >&2
  exit 2
fi
exec "$@"
