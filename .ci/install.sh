#!/usr/bin/env bash
# Installs what one command needs on a fresh machine of this kind, idempotently. Usage:
#   bash .ci/install.sh [rehearse|kernel|dev|all]      (default all)
# rehearse: the twin, Ansible, Node and Bun (npm run rehearse); kernel: that and QEMU (twin up
# --kernel); dev: Node, Bun, MariaDB and Redis
# (npm run dev); all: everything the test suites use (npm test). Each file in .ci/install.d/ owns
# one tool family, names its profiles in a `# profiles:` line and what must finish first in an
# `# after:` line; files whose prerequisites are done run at the same time (their output goes to
# $E2M_CACHE/install-logs/, shown when one fails). The preflight speaks first and changes nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh
profile=${1:-all}
case $profile in
  rehearse | kernel | dev | all) ;;
  *) echo "install: unknown profile '$profile' (rehearse, kernel, dev or all)" >&2; exit 2 ;;
esac
export E2M_INSTALL_PROFILE=$profile
bash .ci/preflight.sh "$profile"
mkdir -p "$E2M_CACHE"
# One installer at a time per cache: two at once would race on the same Node, venv and logs.
exec 9>"$E2M_CACHE/install.lock"
flock -n 9 || { echo "install: another install holds $E2M_CACHE/install.lock; waiting for it"; flock 9; }
logs="$E2M_CACHE/install-logs"
rm -rf "$logs" && mkdir -p "$logs"

header() { sed -n "s/^# $2: //p" "$1"; }
todo=()
for f in .ci/install.d/*.sh; do
  [[ " $(header "$f" profiles) " == *" $profile "* ]] && todo+=("$(basename "$f" .sh)")
done

# A small scheduler: start every file whose `after:` files are done, report each as it ends.
declare -A started pid t0
failed=0
while :; do
  pending=0
  for name in "${todo[@]}"; do
    [ -e "$logs/$name.rc" ] && continue
    pending=1
    [ -n "${started[$name]:-}" ] && continue
    ready=1
    for dep in $(header ".ci/install.d/$name.sh" after); do
      if [[ " ${todo[*]} " == *" $dep "* ]] && [ ! -e "$logs/$dep.rc" ]; then ready=0; fi
      if [ -e "$logs/$dep.rc" ] && [ "$(cat "$logs/$dep.rc")" != 0 ]; then ready=0; echo 1 > "$logs/$name.rc"; echo "<== install $name: skipped ($dep failed)"; failed=1; fi
    done
    if [ $ready = 0 ] || [ -e "$logs/$name.rc" ]; then continue; fi
    started[$name]=1
    t0[$name]=$SECONDS
    echo "==> install $name"
    # fd 9 (the lock) is closed for the files: a daemon one starts (dockerd) must not hold it.
    (bash ".ci/install.d/$name.sh" 9>&- >"$logs/$name.log" 2>&1; echo $? >"$logs/$name.rc.tmp"; mv "$logs/$name.rc.tmp" "$logs/$name.rc") &
    pid[$name]=$!
  done
  for name in "${!pid[@]}"; do
    [ -e "$logs/$name.rc" ] || continue
    rc=$(cat "$logs/$name.rc")
    if [ "$rc" = 0 ]; then
      echo "<== install $name: ok in $((SECONDS - t0[$name]))s ($(tail -n 1 "$logs/$name.log"))"
    else
      echo "<== install $name: FAILED ($rc) in $((SECONDS - t0[$name]))s; its last lines ($logs/$name.log):" >&2
      tail -n 30 "$logs/$name.log" >&2
      failed=1
    fi
    unset "pid[$name]"
  done
  [ $pending = 0 ] && break
  sleep 0.5
done
wait
[ $failed = 0 ] || { echo "install ($profile): failed" >&2; exit 1; }
echo "install ($profile): done"
