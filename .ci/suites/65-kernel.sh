#!/usr/bin/env bash
# The kernel twin (issue 21): `npm run twin -- up --kernel` from this clone (the disk built from
# Debian packages, a QEMU guest booted under software emulation), read back over SSH, removed.
# After e2e, which has removed its container twin: the two share the default ports.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
exec bash .ci/vitest-suite.sh kernel kernel
