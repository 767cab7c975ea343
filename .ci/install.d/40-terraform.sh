#!/usr/bin/env bash
# Terraform, the google provider (built from its Go module into a local mirror) and tflint with
# its google ruleset; checkov comes with the Python tools (50-python.sh). See terraform/README.md.
# installs: Terraform, the google provider built from source, tflint
# profiles: all
set -euo pipefail
exec bash terraform/install-tools.sh
