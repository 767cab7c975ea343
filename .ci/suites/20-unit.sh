#!/usr/bin/env bash
# Pure code: no servers.
set -uo pipefail
exec bash .ci/vitest-suite.sh unit unit
