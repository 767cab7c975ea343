#!/usr/bin/env bash
# The container image: built by scripts/image.mjs and run under Docker.
set -uo pipefail
exec bash .ci/vitest-suite.sh image image
