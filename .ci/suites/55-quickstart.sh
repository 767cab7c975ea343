#!/usr/bin/env bash
# The README's quick start exactly as written: `npm run rehearse` on a twin nothing else has
# touched, then the site must answer with this commit's X-Release (issue 16).
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
exec bash .ci/vitest-suite.sh quickstart quickstart
