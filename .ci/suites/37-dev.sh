#!/usr/bin/env bash
# The local development loop (`npm run dev`) end to end on a temporary copy of the backend:
# MariaDB and Redis from Debian's packages, migrations, seed, bun --watch reload, Ctrl-C cleanup.
set -uo pipefail
exec bash .ci/vitest-suite.sh dev dev
