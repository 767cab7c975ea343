#!/usr/bin/env bash
# Speaks before anything is installed: checks this machine for a profile of .ci/install.sh and
# prints one list of what is missing and what will be installed, system-wide and per user.
# Changes nothing. Exits 1, naming each problem and its fix, when something cannot be fixed
# automatically. Usage: bash .ci/preflight.sh [rehearse|kernel|dev|all]
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
source .ci/env.sh
profile=${1:-all}
problems=()
ok() { printf '  ok    %s\n' "$1"; }
bad() { printf '  FAIL  %s\n' "$1"; problems+=("$1"); }
note() { printf '  note  %s\n' "$1"; }
wants() { [[ " $1 " == *" $profile "* ]]; }
echo "preflight ($profile): checking this machine; nothing is changed"

# Supported hosts: what the install scripts' apt package names and the twin's Docker need.
# shellcheck source=/dev/null
. /etc/os-release 2>/dev/null || true
os="${PRETTY_NAME:-unknown}"
case "${ID:-}-${VERSION_ID:-}" in
  debian-12 | debian-13) ok "OS: $os" ;;
  ubuntu-*)
    if [ "${VERSION_ID%%.*}" -ge 22 ] 2>/dev/null; then ok "OS: $os"; else bad "OS: $os is not supported (Debian 12, Ubuntu 22.04 or later; on macOS, a Debian VM: see the README)"; fi ;;
  *) bad "OS: $os is not supported (Debian 12, Ubuntu 22.04 or later; on macOS, a Debian VM: see the README)" ;;
esac

if [ "$(id -u)" = 0 ]; then ok "root"
elif sudo -n true 2>/dev/null; then ok "sudo without a password: apt and Docker steps use it"
else bad "neither root nor passwordless sudo: run as root, or allow sudo -n for apt-get, tee, chmod, rm and systemctl"; fi

if command -v npm >/dev/null; then ok "npm $(npm --version) (installs Node 22 and Bun)"
else bad "npm not found: apt-get install npm (any version; it fetches Node 22 from the npm registry)"; fi

if wants "rehearse kernel all"; then
  if [ -x "$GOBIN/fake-gcs-server" ]; then ok "fake-gcs-server already built"
  elif command -v go >/dev/null && [ "$(go env GOVERSION | sed -E 's/go1\.([0-9]+).*/\1/')" -ge 24 ] 2>/dev/null; then
    ok "$(go env GOVERSION) (builds fake-gcs-server$(wants all && echo ', osv-scanner, gitleaks and the Terraform provider'))"
  else bad "Go 1.24 or later not found on PATH: it builds the GCS emulator from its Go module (install Go from your distribution's backports, or put /usr/local/go/bin on PATH)"; fi
  if command -v python3 >/dev/null; then ok "$(python3 --version) (a venv for Ansible)"
  else bad "python3 not found: apt-get install python3"; fi
  if docker info >/dev/null 2>&1; then ok "Docker engine $(docker info --format '{{.ServerVersion}}') answers"
  elif [ "$(id -u)" != 0 ] && [ -S /var/run/docker.sock ] && ! id -nG | grep -qw docker; then
    bad "Docker: $(id -un) may not use /var/run/docker.sock: sudo usermod -aG docker $(id -un), then log in again"
  elif command -v dockerd >/dev/null; then note "Docker engine not running: it will be started"
  else note "Docker: the Debian package docker.io will be installed and started"; fi

  # The twin's ports on 127.0.0.1: free, or already held by a twin of this project.
  held=$(docker ps --filter name=e2m-twin --format '{{.Ports}}' 2>/dev/null)
  busy=()
  for p in "${E2M_TWIN_SSH_PORT:-2222}" "${E2M_TWIN_HTTP_PORT:-8080}" "${E2M_TWIN_HTTPS_PORT:-8443}" "${E2M_TWIN_GCS_PORT:-4443}"; do
    listener=$(ss -Hltnp "( sport = :$p )" 2>/dev/null)
    # The kernel twin's QEMU (twin up --kernel) holds them for its guest.
    qemu=$(cat .twin/kernel/qemu.pid 2>/dev/null || echo none)
    if [ -n "$listener" ] && [[ "$held" != *":$p->"* ]] && [[ "$listener" != *"pid=$qemu,"* ]]; then busy+=("$p"); fi
  done
  if [ ${#busy[@]} -eq 0 ]; then ok "the twin's ports are free (or its own)"
  else bad "ports in use by something else: ${busy[*]}: free them, or pick others with E2M_TWIN_SSH_PORT, E2M_TWIN_HTTP_PORT, E2M_TWIN_HTTPS_PORT, E2M_TWIN_GCS_PORT"; fi
fi

# Disk a profile's install and its command take, measured on a fresh machine (README, Quick start):
# rehearse 6.7 GB (Docker 3.9 with the converged twin, the cache, node_modules and Go's caches).
declare -A need_gb=([rehearse]=8 [kernel]=10 [dev]=2 [all]=16)
dirs=("$E2M_CACHE")
wants "rehearse kernel all" && dirs+=(/var/lib/docker)
for dir in "${dirs[@]}"; do
  d=$dir; while [ ! -e "$d" ]; do d=$(dirname "$d"); done
  free_gb=$(df -Pk "$d" | awk 'NR==2 {print int($4 / 1048576)}')
  if [ "$free_gb" -ge "${need_gb[$profile]}" ]; then ok "disk: ${free_gb} GB free for $dir (needs ${need_gb[$profile]} GB)"
  else bad "disk: ${free_gb} GB free for $dir, needs ${need_gb[$profile]} GB"; fi
done

missing=$(E2M_INSTALL_PROFILE=$profile bash .ci/install.d/10-apt.sh --list-missing)
echo "system-wide (apt): ${missing:-nothing to install}"
echo "into $E2M_CACHE (per user, removable): $(for f in .ci/install.d/*.sh; do
  [[ " $(sed -n 's/^# profiles: //p' "$f") " == *" $profile "* ]] && sed -n 's/^# installs: //p' "$f"
done | paste -sd';' - | sed 's/;/; /g')"
if [ ${#problems[@]} -gt 0 ]; then
  echo "preflight ($profile): ${#problems[@]} problem(s) to fix first; nothing was changed:" >&2
  printf '  - %s\n' "${problems[@]}" >&2
  exit 1
fi
echo "preflight ($profile): ready"
