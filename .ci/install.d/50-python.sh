#!/usr/bin/env bash
# Python tools (checkov, ansible, ansible-lint) in one venv outside the work tree.
set -euo pipefail
source .ci/env.sh
[ -x "$E2M_CACHE/venv/bin/pip" ] || python3 -m venv "$E2M_CACHE/venv"
stamp="$E2M_CACHE/venv/.requirements.sha"
want=$(sha256sum .ci/requirements.txt | cut -d' ' -f1)
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
  if grep -qvE '^\s*(#|$)' .ci/requirements.txt; then
    "$E2M_CACHE/venv/bin/pip" install -q -r .ci/requirements.txt
  fi
  echo "$want" > "$stamp"
fi
echo "python tools: $(grep -cvE '^\s*(#|$)' .ci/requirements.txt || true) pinned"
