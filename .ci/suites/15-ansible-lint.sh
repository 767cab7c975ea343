#!/usr/bin/env bash
# ansible-lint, production profile, over ansible/ (roles, playbook, group_vars), and a syntax
# check of setup.yml against a throwaway inventory: two tests.
set -uo pipefail
source .ci/env.sh
passed=0 failed=0
check() {
  if step "$1" "${@:2}"; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
}
lint() {
  (cd ansible && ansible-lint --profile production --nocolor)
}
syntax() {
  local inventory
  inventory=$(mktemp)
  printf 'e2micro:\n  hosts:\n    vm: {}\n' > "$inventory"
  (cd ansible && ansible-playbook --syntax-check -i "$inventory" setup.yml)
  local rc=$?
  rm -f "$inventory"
  return $rc
}
check ansible-lint lint
check ansible-syntax syntax
echo "{\"passed\":$passed,\"failed\":$failed,\"skipped\":0}" > .ci/out/ansible-lint.json
[ "$failed" -eq 0 ]
