#!/usr/bin/env bash
# Secret scan of the whole git history and of the working tree. Also usable as a pre-commit hook:
#   ln -s ../../.ci/gitleaks.sh .git/hooks/pre-commit   (it then scans only what is staged)
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
source .ci/env.sh
if [ "${GIT_INDEX_FILE:-}" != "" ] || [ "$(basename "$0")" = pre-commit ]; then
  exec gitleaks git --staged --no-banner --redact .
fi
gitleaks git --no-banner --redact .
gitleaks dir --no-banner --redact --config .gitleaks.toml .
