#!/usr/bin/env bash
# Installs what the terraform/ checks need, offline from the registries this machine reaches:
#   - Terraform: the machine's own if >= 1.9, else OpenTofu built from its Go module;
#   - the google provider built from its Go module, laid out as a filesystem mirror, and a CLI
#     config that points Terraform at it;
#   - tflint and tflint-ruleset-google (Go modules).
# Idempotent: each piece is skipped when the cache already holds the pinned version.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh
source terraform/tools.sh
mkdir -p "$E2M_TF_DIR" "$GOBIN"

# --- Terraform ------------------------------------------------------------------------------
if tf=$(e2m_find_terraform); then
  echo "terraform: using $tf ($("$tf" version 2>/dev/null | head -1))"
else
  # Current Terraform releases cannot be `go install`ed (relative replace directives), and
  # 1.5.7, the last that can, has neither mock_provider nor cross-variable validation. OpenTofu
  # has one replace directive to another published module, which Go honours when the module is
  # the main module, so build it from its downloaded module source.
  echo "terraform: none >= $E2M_TERRAFORM_MIN found, building OpenTofu $E2M_OPENTOFU_VERSION"
  src=$(cd /tmp && go mod download -json "github.com/opentofu/opentofu@$E2M_OPENTOFU_VERSION" | sed -n 's/.*"Dir": *"\([^"]*\)".*/\1/p')
  work="$E2M_TF_DIR/opentofu-src"
  rm -rf "$work" && cp -r "$src" "$work" && chmod -R u+w "$work"
  (cd "$work" && go build -o "$GOBIN/tofu" ./cmd/tofu)
  rm -rf "$work"
  echo "terraform: built $("$GOBIN/tofu" version | head -1)"
fi

# --- google provider ------------------------------------------------------------------------
v=$E2M_GOOGLE_PROVIDER_VERSION
bin_name="terraform-provider-google_v$v"
for host in registry.terraform.io registry.opentofu.org; do
  mkdir -p "$E2M_TF_MIRROR/$host/hashicorp/google/$v/linux_amd64"
done
target="$E2M_TF_MIRROR/registry.terraform.io/hashicorp/google/$v/linux_amd64/$bin_name"
stamp="$E2M_TF_DIR/google-provider.module"
if [ ! -x "$target" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$E2M_GOOGLE_PROVIDER_MODULE" ]; then
  echo "provider: building $E2M_GOOGLE_PROVIDER_MODULE (large: several minutes on 2 cores)"
  t0=$SECONDS
  (cd /tmp && GOBIN="$E2M_TF_DIR/build" go install \
    -ldflags "-s -w -X github.com/hashicorp/terraform-provider-google/version.ProviderVersion=$v" \
    "$E2M_GOOGLE_PROVIDER_MODULE")
  mv "$E2M_TF_DIR/build/terraform-provider-google" "$target"
  echo "$E2M_GOOGLE_PROVIDER_MODULE" > "$stamp"
  echo "provider: built in $((SECONDS - t0))s"
fi
ln -sf "$target" "$E2M_TF_MIRROR/registry.opentofu.org/hashicorp/google/$v/linux_amd64/$bin_name"
echo "provider: google $v, $(du -h "$target" | cut -f1) at $target"

cat > "$TF_CLI_CONFIG_FILE" <<CFG
# Written by terraform/install-tools.sh: providers come only from the local mirror.
provider_installation {
  filesystem_mirror {
    path    = "$E2M_TF_MIRROR"
    include = ["registry.terraform.io/hashicorp/google", "registry.opentofu.org/hashicorp/google"]
  }
  direct {
    exclude = ["registry.terraform.io/*/*", "registry.opentofu.org/*/*"]
  }
}
CFG

# --- tflint and the google ruleset ----------------------------------------------------------
if ! tflint --version 2>/dev/null | grep -q "${E2M_TFLINT_VERSION#v}"; then
  (cd /tmp && go install "github.com/terraform-linters/tflint@$E2M_TFLINT_VERSION")
fi
plugin="$TFLINT_PLUGIN_DIR/tflint-ruleset-google"
pstamp="$TFLINT_PLUGIN_DIR/.google-version"
if [ ! -x "$plugin" ] || [ "$(cat "$pstamp" 2>/dev/null)" != "$E2M_TFLINT_GOOGLE_VERSION" ]; then
  mkdir -p "$TFLINT_PLUGIN_DIR"
  # `go install mod@version` also asks the proxy for the module's version list, which this
  # proxy refuses for the ruleset (403); downloading the exact version and building it as the
  # main module needs only that version.
  src=$(cd /tmp && go mod download -json "github.com/terraform-linters/tflint-ruleset-google@$E2M_TFLINT_GOOGLE_VERSION" | sed -n 's/.*"Dir": *"\([^"]*\)".*/\1/p')
  (cd "$src" && go build -o "$plugin" .)
  echo "$E2M_TFLINT_GOOGLE_VERSION" > "$pstamp"
fi
echo "tflint: $(tflint --version | head -1), ruleset google $E2M_TFLINT_GOOGLE_VERSION"
