#!/usr/bin/env bash
# Go tools built from the Go module proxy into the cache (reused by later runs on this machine).
# A stamp per tool records the version built, since `go install` binaries may not report it.
# installs: gitleaks and actionlint
# profiles: all
set -euo pipefail
source .ci/env.sh
mkdir -p "$GOBIN"
go_tool() {
  local bin=$1 module=$2 version=$3 stamp="$GOBIN/.$1.version"
  if [ -x "$GOBIN/$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$version" ]; then return; fi
  echo "go install $module@$version"
  go install "$module@$version"
  echo "$version" > "$stamp"
}
go_tool gitleaks github.com/zricethezav/gitleaks/v8 v8.28.0
go_tool actionlint github.com/rhysd/actionlint/cmd/actionlint v1.7.12
echo "go tools: gitleaks $(cat "$GOBIN/.gitleaks.version"), actionlint $(cat "$GOBIN/.actionlint.version")"
