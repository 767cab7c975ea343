#!/usr/bin/env bash
# The whole test suite (README: `npm test`): install what is missing, then run every suite in
# .ci/suites/ in order. A suite never stops the others; each one leaves its counts in
# .ci/out/<suite>.json ({"passed":N,"failed":N,"skipped":N}) and the tally prints the one line
# CI reads. Usage: bash .ci/test.sh [SUITE...]   (suite names without number or .sh, e.g. api)
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source .ci/env.sh
t0=$SECONDS
step install bash .ci/install.sh || { echo "tests: 0 passed, 1 failed, 0 skipped"; exit 1; }
rm -rf .ci/out && mkdir -p .ci/out
for f in .ci/suites/*.sh; do
  name=$(basename "$f" .sh); name=${name#*-}
  if [ $# -gt 0 ] && [[ " $* " != *" $name "* ]]; then continue; fi
  step "suite $name" bash "$f"
  echo $? > ".ci/out/$name.rc"
done
echo "total time $((SECONDS - t0))s"
exec node .ci/tally.mjs .ci/out
