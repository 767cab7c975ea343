#!/usr/bin/env bash
# Python tools in one venv outside the work tree: Ansible (.ci/requirements-ansible.txt) for
# every profile that converges the twin, plus checkov and ansible-lint (.ci/requirements.txt)
# for the tests. A stamp per requirements file skips pip when nothing changed.
# installs: a Python venv with Ansible (and checkov, ansible-lint for the tests)
# profiles: rehearse kernel all
# after: 10-apt
set -euo pipefail
source .ci/env.sh
[ -x "$E2M_CACHE/venv/bin/pip" ] || python3 -m venv "$E2M_CACHE/venv"
files=(.ci/requirements-ansible.txt)
[ "${E2M_INSTALL_PROFILE:-all}" = all ] && files+=(.ci/requirements.txt)
for req in "${files[@]}"; do
  stamp="$E2M_CACHE/venv/.$(basename "$req").sha"
  want=$(sha256sum "$req" | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    "$E2M_CACHE/venv/bin/pip" install -q -r "$req"
    echo "$want" > "$stamp"
  fi
done
echo "python tools: $(cat "${files[@]}" | grep -cvE '^\s*(#|-r|$)' || true) pinned (${files[*]})"
