#!/usr/bin/env bash
# The compiled backup job against a real MariaDB (the api suite's global setup) and
# fake-gcs-server on loopback. The twin e2e adds systemd, the VM's grants and retention.
set -uo pipefail
exec bash .ci/vitest-suite.sh backup backup
