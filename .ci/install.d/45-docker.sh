#!/usr/bin/env bash
# A running Docker engine for the twin and the image tests. CI machines start none: if
# `docker info` fails, start dockerd in the background (log in $E2M_CACHE/dockerd.log) and wait
# until it answers. Idempotent: does nothing when an engine already answers.
# profiles: rehearse kernel all
# after: 10-apt
set -euo pipefail
source .ci/env.sh
if docker info >/dev/null 2>&1; then
  echo "docker: engine $(docker info --format '{{.ServerVersion}}') already answers"
  exit 0
fi
command -v dockerd >/dev/null || { echo "dockerd not found: install the Debian package docker.io" >&2; exit 1; }
# On a machine run by systemd (a laptop, a VM), the docker.io package's own unit starts it.
if [ -d /run/systemd/system ] && systemctl cat docker.service >/dev/null 2>&1; then
  echo "docker: systemctl start docker"
  as_root systemctl start docker
elif [ "$(id -u)" != 0 ]; then
  echo "docker: no systemd here, and starting dockerd by hand needs root" >&2
  exit 1
fi
# A dockerd that died uncleanly leaves its pid file behind and refuses to start again.
pidfile=/var/run/docker.pid
if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then rm -f "$pidfile"; fi
if [ ! -f "$pidfile" ] && [ "$(id -u)" = 0 ]; then
  log="$E2M_CACHE/dockerd.log"
  mkdir -p "$E2M_CACHE"
  echo "docker: starting dockerd (log: $log)"
  setsid nohup dockerd >>"$log" 2>&1 < /dev/null &
fi
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    echo "docker: engine $(docker info --format '{{.ServerVersion}}') answers"
    exit 0
  fi
  sleep 1
done
echo "docker: dockerd did not answer within 60s; last log lines:" >&2
tail -n 20 "${log:-$E2M_CACHE/dockerd.log}" >&2 || true
exit 1
