#!/usr/bin/env bash
# Debian packages, by profile: the twin's Docker and debootstrap (rehearse), the servers the dev
# loop and the tests start (MariaDB, Redis), linters and bench tools (all). apt-get update only
# when a package is missing or the lists are empty, so a warm machine skips it. With
# --list-missing it only prints what it would install (the preflight's list).
# profiles: rehearse kernel dev all
set -euo pipefail
source .ci/env.sh
rehearse=(docker.io debootstrap zstd curl ca-certificates openssh-client git python3-venv)
dev=(mariadb-server mariadb-client redis-server curl ca-certificates)
# shellcheck disable=SC2034 # read through the nameref below
kernel=("${rehearse[@]}" qemu-system-x86 qemu-utils)
# shellcheck disable=SC2034 # read through the nameref below
all=("${rehearse[@]}" "${dev[@]}" shellcheck yamllint wrk age qemu-system-x86 qemu-utils qemu-guest-agent)
declare -n packages="${E2M_INSTALL_PROFILE:-all}"
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${1:-}" = --list-missing ]; then echo "${missing[*]}"; exit 0; fi
# The image build downloads glibc and CA certificates with `apt-get download`: it needs lists.
if [ ${#missing[@]} -gt 0 ] || ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
  echo "apt: updating the package lists"
  as_root apt-get update -qq
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "apt: installing ${missing[*]}"
  # policy-rc.d keeps apt from starting the servers (the tests and the dev loop start their own
  # throwaway ones); it is removed again so the machine's later installs behave as usual.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee /usr/sbin/policy-rc.d >/dev/null
    as_root chmod +x /usr/sbin/policy-rc.d
    trap 'as_root rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "apt: all ${#packages[@]} packages of profile ${E2M_INSTALL_PROFILE:-all} present"
