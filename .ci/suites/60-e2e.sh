#!/usr/bin/env bash
# End to end against the local twin: the e2e vitest project brings up a fresh twin (with the
# GCS emulator), runs test/e2e/NN-*.test.ts in name order over real SSH, and removes the twin.
set -uo pipefail
cd "$(dirname "$0")/../.." || exit 1
exec bash .ci/vitest-suite.sh e2e e2e
