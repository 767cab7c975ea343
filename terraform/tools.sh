# Sourced by the terraform/ scripts and the CI suite: the pinned tool versions and where the
# offline copies live. Expects .ci/env.sh to be sourced first (E2M_CACHE, GOBIN, PATH).
# shellcheck shell=bash

# The google provider, built from its Go module. The Go proxy serves this repository only as
# pseudo-versions (its release tags are v6+/v7+/v8+ without a /vN module path); this commit is
# the one whose CHANGELOG opens with 8.0.0, so the mirror serves it as 8.0.0.
export E2M_GOOGLE_PROVIDER_VERSION=8.0.0
export E2M_GOOGLE_PROVIDER_MODULE=github.com/hashicorp/terraform-provider-google@v1.20.1-0.20260828184646-f3721fb45fa3
export E2M_TFLINT_VERSION=v0.64.0
export E2M_TFLINT_GOOGLE_VERSION=v0.39.0
# Terraform 1.9 is the first that lets a validation block read other variables, which the
# free-tier guardrails need; 1.7 brought mock_provider.
export E2M_TERRAFORM_MIN=1.9.0
# Fallback when no Terraform >= 1.9 is on the machine: OpenTofu (MPL) built from its Go module.
export E2M_OPENTOFU_VERSION=v1.10.10

export E2M_TF_DIR="$E2M_CACHE/terraform"
export E2M_TF_MIRROR="$E2M_TF_DIR/mirror"
export TF_CLI_CONFIG_FILE="$E2M_TF_DIR/terraformrc"
export TFLINT_PLUGIN_DIR="$E2M_TF_DIR/tflint-plugins"
export CHECKPOINT_DISABLE=1
export TF_IN_AUTOMATION=1

# The Terraform binary to use: TERRAFORM if set, else terraform if it is new enough, else tofu.
e2m_version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
e2m_terraform_version() { "$1" version -json 2>/dev/null | sed -n 's/.*"terraform_version": *"\([^"]*\)".*/\1/p' | head -1; }
e2m_find_terraform() {
  if [ -n "${TERRAFORM:-}" ]; then echo "$TERRAFORM"; return 0; fi
  local v
  if command -v terraform >/dev/null 2>&1; then
    v=$(e2m_terraform_version terraform)
    if [ -n "$v" ] && e2m_version_ge "$v" "$E2M_TERRAFORM_MIN"; then echo terraform; return 0; fi
  fi
  if command -v tofu >/dev/null 2>&1; then echo tofu; return 0; fi
  return 1
}
