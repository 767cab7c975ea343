#!/usr/bin/env bash
# Runs one vitest project and turns its JSON report into the suite's counts file.
# Usage: bash .ci/vitest-suite.sh SUITE_NAME VITEST_PROJECT [extra vitest args]
set -uo pipefail
source .ci/env.sh
name=$1 project=$2; shift 2
raw=".ci/out/$name.vitest.json"
vitest run --project "$project" --reporter=default --reporter=json --outputFile.json="$raw" "$@"
rc=$?
if ! node .ci/vitest-counts.mjs "$raw" ".ci/out/$name.json"; then
  echo "vitest left no readable report in $raw: the tally counts this suite as failed"
fi
exit $rc
