#!/usr/bin/env bash
# Terraform checks, all offline (terraform/README.md): fmt, validate, `terraform test` with
# mock_provider, tflint with the google ruleset, checkov, and real plans of every environment
# (dummy token, empty state) fed to the cost report. Counts: each fmt/validate/tflint/checkov
# call, each `terraform test` run block (from terraform test -json), each environment's plan
# plus cost report, each guardrail message checked against a real plan.
set -uo pipefail
source .ci/env.sh
source terraform/tools.sh
out=.ci/out/terraform
mkdir -p "$out"
passed=0 failed=0 skipped=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAILED: $*"; }
check() { local name=$1; shift; if step "$name" "$@"; then pass; else fail "$name"; fi; }
# Like step, with the command's output going to a log file and the time in milliseconds.
timed() {
  local name=$1 log=$2; shift 2
  local t0 rc
  t0=$(date +%s%N)
  "$@" >"$log" 2>&1
  rc=$?
  echo "<== $name: $([ $rc -eq 0 ] && echo ok || echo "FAILED ($rc)") in $(( ($(date +%s%N) - t0) / 1000000 )) ms"
  return $rc
}
finish() {
  echo "terraform suite: $passed passed, $failed failed, $skipped skipped"
  echo "{\"passed\":$passed,\"failed\":$failed,\"skipped\":$skipped}" > .ci/out/terraform.json
  [ "$failed" -eq 0 ] && [ "$skipped" -eq 0 ]
  exit $?
}

if ! tf=$(e2m_find_terraform); then
  fail "no terraform >= $E2M_TERRAFORM_MIN nor tofu (install step 40-terraform)"
  finish
fi
echo "using $("$tf" version | head -1), google provider $E2M_GOOGLE_PROVIDER_VERSION from $E2M_TF_MIRROR"

check "terraform fmt -check" "$tf" fmt -check -recursive -diff terraform

for dir in terraform terraform/bootstrap; do
  if ! timed "init $dir" "$out/init.log" "$tf" -chdir="$dir" init -backend=false -input=false -no-color; then
    cat "$out/init.log"; fail "init $dir"; continue
  fi
  check "validate $dir" "$tf" -chdir="$dir" validate -no-color
  jsonl="$out/test-${dir//\//-}.jsonl"
  timed "terraform test $dir" "$jsonl" "$tf" -chdir="$dir" test -json
  node terraform/tftest-counts.mjs "$jsonl" >"$out/tftest-counts.txt"
  cat "$out/tftest-counts.txt"
  counts=$(tail -1 "$out/tftest-counts.txt")
  passed=$((passed + $(node -p "JSON.parse(process.argv[1]).passed" "$counts")))
  failed=$((failed + $(node -p "JSON.parse(process.argv[1]).failed" "$counts")))
  skipped=$((skipped + $(node -p "JSON.parse(process.argv[1]).skipped" "$counts")))
done

for dir in terraform terraform/bootstrap; do
  log="$out/tflint-${dir//\//-}.txt"
  if timed "tflint $dir" "$log" tflint --chdir="$dir" --config="$PWD/.tflint.hcl"; then pass; else cat "$log"; fail "tflint $dir"; fi
done

timed "checkov" "$out/checkov.txt" bash terraform/security.sh
rc=$?
grep -E 'SKIPPED|Suppress comment|FAILED|Check:' "$out/checkov.txt" | grep -B1 -A1 -E 'SKIPPED|FAILED' | grep -vE '^--$' || true
summary=$(grep -E '^Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' "$out/checkov.txt" | head -1)
echo "checkov: ${summary:-no summary line (see $out/checkov.txt)}"
if [ "$rc" -eq 0 ] && [[ "$summary" == *"Failed checks: 0,"* ]]; then pass; else fail "checkov (exit $rc)"; fi

# Real plans (no GCP: dummy token, empty state) of every environment, through the cost report.
for env in dev staging prod; do
  if ! timed "plan $env" "$out/plan-$env.log" bash terraform/offline-plan.sh "$env" "$out/plan-$env.json"; then
    tail -20 "$out/plan-$env.log"; fail "plan $env"; continue
  fi
  timed "cost report $env" "$out/cost-$env.txt" node scripts/infra-cost.mjs "$out/plan-$env.json"
  rc=$?
  if [ "$env" = dev ]; then cat "$out/cost-$env.txt"; else tail -3 "$out/cost-$env.txt"; fi
  if [ "$rc" -eq 0 ]; then pass; else fail "cost report $env (exit $rc)"; fi
done

# The growth path: prod in the cloud_run shape, through the cost report (Cloud SQL is a known
# charge; Cloud Run inside the free tier). Printed in full: the README's growth section shows it.
cloud_run_image=us-central1-docker.pkg.dev/e2m-prod-000000/e2m-prod/backend:1.0.0
if timed "plan prod, platform cloud_run" "$out/plan-cloud-run.log" bash terraform/offline-plan.sh prod "$out/plan-cloud-run.json" \
  -var platform=cloud_run -var cloud_run_image="$cloud_run_image"; then
  timed "cost report prod, platform cloud_run" "$out/cost-cloud-run.txt" node scripts/infra-cost.mjs "$out/plan-cloud-run.json"
  rc=$?
  cat "$out/cost-cloud-run.txt"
  if [ "$rc" -eq 0 ]; then pass; else fail "cost report prod cloud_run (exit $rc)"; fi
  # The provider's own plans of both shapes give the backups bucket the same values, so
  # switching platform leaves it alone (tests/platform.tftest.hcl proves it against state).
  if node -e '
    const fs = require("node:fs");
    const bucket = (f) => JSON.parse(fs.readFileSync(f, "utf8")).resource_changes.find((r) => r.address === "google_storage_bucket.backups")?.change.after;
    const [a, b] = process.argv.slice(1).map(bucket);
    if (!a || !b || JSON.stringify(a) !== JSON.stringify(b)) { console.error("backups bucket differs between the shapes:", JSON.stringify(a), JSON.stringify(b)); process.exit(1); }
    console.log("backups bucket: the same planned values in both shapes (" + a.name + ")");
  ' "$out/plan-prod.json" "$out/plan-cloud-run.json"; then pass; else fail "backups bucket differs between platform shapes"; fi
else
  tail -20 "$out/plan-cloud-run.log"; fail "plan prod, platform cloud_run"
fi

# A plan that opts into paid resources must make the cost report fail.
if timed "plan dev, paid e2-small" "$out/plan-paid.log" bash terraform/offline-plan.sh dev "$out/plan-paid.json" \
  -var allow_paid_resources=true -var machine_type=e2-small; then
  node scripts/infra-cost.mjs "$out/plan-paid.json" >"$out/cost-paid.txt"
  rc=$?
  grep -E 'unexpected|FAIL' "$out/cost-paid.txt"
  if [ "$rc" -eq 1 ]; then pass; else fail "cost report should exit 1 for a paid plan (exit $rc)"; fi
else
  tail -20 "$out/plan-paid.log"; fail "plan dev, paid e2-small"
fi

# The cheapest shape (README: What it costs): without the alert policy and the snapshots, the
# only charge left is the external IPv4 address.
if timed "plan prod, cheapest shape" "$out/plan-cheapest.log" bash terraform/offline-plan.sh prod "$out/plan-cheapest.json" \
  -var enable_alert_policy=false -var enable_snapshots=false; then
  node scripts/infra-cost.mjs --json "$out/plan-cheapest.json" >"$out/cost-cheapest.json"
  rc=$?
  known=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).knownMonthlyUsd' "$out/cost-cheapest.json")
  echo "cheapest shape: known charges $known USD/mo (exit $rc)"
  if [ "$rc" -eq 0 ] && [ "$known" = 3.65 ]; then pass; else fail "cheapest shape should cost 3.65 USD/mo (got $known, exit $rc)"; fi
else
  tail -20 "$out/plan-cheapest.log"; fail "plan prod, cheapest shape"
fi

# The guardrails' messages, as a user sees them from a real plan.
guardrail() {
  local name=$1 expect=$2; shift 2
  if bash terraform/offline-plan.sh dev "$out/plan-bad.json" -no-color "$@" >"$out/guardrail.log" 2>&1; then
    fail "guardrail $name: the plan was accepted"
  # Terraform wraps the message inside a box: unwrap before matching.
  elif sed 's/^│ *//' "$out/guardrail.log" | tr '\n' ' ' | tr -s ' ' | grep -qF "$expect"; then
    echo "guardrail $name: refused with \"$expect...\""; pass
  else
    cat "$out/guardrail.log"; fail "guardrail $name: refused without the expected message"
  fi
}
guardrail "machine type" "machine_type must be e2-micro: it is the only machine type in Google's Always Free tier" -var machine_type=e2-small
guardrail "region" "region must be us-west1, us-central1 or us-east1: only these regions include the Always Free e2-micro" -var region=europe-west1
guardrail "disk size" "boot_disk_size_gb must be between 10 (the Debian image's size) and 30" -var boot_disk_size_gb=50
guardrail "memorystore" "cloud_run_redis = memorystore costs about 36 USD a month" \
  -var platform=cloud_run -var cloud_run_image="$cloud_run_image" -var cloud_run_redis=memorystore

finish
