# shellcheck shell=bash
# Sourced by every CI and helper script: where the project's own tools live.
# Tools are installed outside the work tree so a later run on the same machine reuses them.
export E2M_CACHE="${E2M_CACHE:-$HOME/.cache/e2-micro}"
export E2M_TOOLS="$E2M_CACHE/tools"
export GOBIN="$E2M_CACHE/go/bin"
export PATH="$E2M_TOOLS/node_modules/.bin:$GOBIN:$E2M_CACHE/venv/bin:$PWD/node_modules/.bin:/usr/local/go/bin:$PATH"
export DEBIAN_FRONTEND=noninteractive
# System-wide steps (apt, dockerd) as root: directly when root, else through sudo.
as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi
}
# Step timing: `step NAME cmd...` prints the step, runs it and prints how long it took.
step() {
  local name=$1; shift
  local t0=$SECONDS
  echo "==> $name"
  "$@"; local rc=$?
  echo "<== $name: $([ $rc -eq 0 ] && echo ok || echo "FAILED ($rc)") in $((SECONDS - t0))s"
  return $rc
}
