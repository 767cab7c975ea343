#!/usr/bin/env bash
# Static checks: formatter and linter (Biome), types (tsc), shell (shellcheck), GitHub workflows
# (actionlint, which also runs ShellCheck on their scripts), Python (ruff: the twin's metadata server),
# secrets (gitleaks).
# Each check is counted as one test so a lint failure shows in the tally, not just the exit code.
set -uo pipefail
source .ci/env.sh
passed=0 failed=0
check() {
  if step "$1" bash -c "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
check biome 'biome ci .'
check typecheck 'npm run -s typecheck'
check shellcheck 'bash .ci/lint-shell.sh'
check actionlint 'actionlint -color=false'
check ruff 'ruff check . && ruff format --check .'
check gitleaks 'bash .ci/gitleaks.sh'
echo "{\"passed\":$passed,\"failed\":$failed,\"skipped\":0}" > .ci/out/lint.json
[ "$failed" -eq 0 ]
