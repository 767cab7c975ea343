#!/usr/bin/env bash
# ansible-lint, production profile, over ansible/ (roles, playbook, group_vars): one test.
# Also a syntax check of setup.yml against a throwaway inventory, so a playbook that does not
# parse fails here and not only on the twin.
set -uo pipefail
source .ci/env.sh
passed=0 failed=0
check() {
  if step "$1" bash -c "$2"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
check ansible-lint 'cd ansible && ansible-lint --profile production --nocolor'
check ansible-syntax 'cd ansible && printf "e2micro:\n  hosts:\n    vm: {}\n" > "${TMPDIR:-/tmp}/e2m-syntax-inv.yml" && ansible-playbook --syntax-check -i "${TMPDIR:-/tmp}/e2m-syntax-inv.yml" setup.yml'
echo "{\"passed\":$passed,\"failed\":$failed,\"skipped\":0}" > .ci/out/ansible-lint.json
[ "$failed" -eq 0 ]
