#!/usr/bin/env bash
# Debian packages: servers the tests start (MariaDB, Redis, Docker), the twin's debootstrap,
# and linters. apt-get update only when a package is missing, so a warm machine skips it.
set -euo pipefail
packages=(mariadb-server mariadb-client redis-server docker.io debootstrap shellcheck yamllint wrk zstd age curl ca-certificates jq openssh-client)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "apt: installing ${missing[*]}"
  apt-get update -qq
  # policy-rc.d keeps apt from starting the servers: the tests start their own throwaway ones.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "apt: all ${#packages[@]} packages present"
