#!/usr/bin/env bash
# A real `terraform plan` of the root configuration without GCP: a copy of terraform/ with a
# local backend (backend_override.tf), an empty state, no refresh and a dummy access token.
# Creating resources from nothing needs no API call, so the plan is what the provider would
# really propose for an empty project. Used by the CI suite and for the cost report:
#   bash terraform/offline-plan.sh ENV OUT.json [extra terraform plan args...]
#   npm run infra:cost -- OUT.json
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh
source terraform/tools.sh
env=$1 out=$2; shift 2
[ -f "terraform/envs/$env.tfvars" ] || { echo "offline-plan: no terraform/envs/$env.tfvars" >&2; exit 2; }
tf=$(e2m_find_terraform)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp terraform/*.tf terraform/*.tftpl "$work"/
printf 'terraform {\n  backend "local" {}\n}\n' > "$work/backend_override.tf"
"$tf" -chdir="$work" init -input=false >/dev/null
GOOGLE_OAUTH_ACCESS_TOKEN=offline-plan-dummy-token "$tf" -chdir="$work" plan -input=false -refresh=false -lock=false \
  -var-file="$PWD/terraform/envs/$env.tfvars" -out="$work/plan.tfplan" "$@"
"$tf" -chdir="$work" show -json "$work/plan.tfplan" > "$out"
