#!/usr/bin/env bash
# Runs ShellCheck on every tracked shell script.
set -euo pipefail
git ls-files -z '*.sh' .ci/run | xargs -0 shellcheck -x
