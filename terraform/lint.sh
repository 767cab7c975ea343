#!/usr/bin/env bash
# npm run infra:lint: terraform fmt -check and tflint (with the google ruleset, .tflint.hcl) over
# terraform/ and terraform/bootstrap, or over the directories given as arguments.
# Run `bash .ci/install.sh` (or terraform/install-tools.sh) once first.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2
source .ci/env.sh
source terraform/tools.sh
tf=$(e2m_find_terraform) || { echo "lint: no terraform >= $E2M_TERRAFORM_MIN or tofu; run bash terraform/install-tools.sh" >&2; exit 2; }
dirs=("$@")
[ ${#dirs[@]} -gt 0 ] || dirs=(terraform terraform/bootstrap)
rc=0
for d in "${dirs[@]}"; do
  step "fmt -check $d" "$tf" fmt -check -recursive -diff "$d" || rc=1
  step "tflint $d" tflint --chdir="$d" --config="$PWD/.tflint.hcl" || rc=1
done
exit $rc
