#!/usr/bin/env bash
# shellcheck over every tracked shell script.
set -euo pipefail
git ls-files -z '*.sh' .ci/run | xargs -0 shellcheck -x
