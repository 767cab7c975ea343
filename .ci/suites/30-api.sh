#!/usr/bin/env bash
# The real app against a real MariaDB and Redis (started by the suite's global setup).
set -uo pipefail
exec bash .ci/vitest-suite.sh api api
