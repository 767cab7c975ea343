// Reads `terraform test -json` output (one JSON message a line) from a file, prints each run's
// result and the tool's own summary, and writes {"passed","failed","skipped"} to stdout's last
// line for the CI suite. Errored runs count as failed. Exit 1 when the output has no summary.
//   node terraform/tftest-counts.mjs tftest.jsonl
import { readFileSync } from 'node:fs';

const lines = readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean);
let summary;
for (const raw of lines) {
  let msg;
  try {
    msg = JSON.parse(raw);
  } catch {
    continue;
  }
  if (msg.type === 'test_run' && msg.test_run?.progress === 'complete') {
    console.log(`  ${msg.test_run.status.padEnd(5)} ${msg.test_run.path} :: ${msg.test_run.run}`);
  } else if (msg.type === 'diagnostic' && msg['@level'] === 'error') {
    console.log(`  error: ${msg.diagnostic?.summary ?? msg['@message']}: ${msg.diagnostic?.detail ?? ''}`);
  } else if (msg.type === 'test_summary') {
    summary = msg.test_summary;
    console.log(`  ${msg['@message']}`);
  }
}
if (!summary) {
  console.log(JSON.stringify({ passed: 0, failed: 1, skipped: 0 }));
  process.exit(1);
}
console.log(
  JSON.stringify({
    passed: summary.passed,
    failed: summary.failed + summary.errored,
    skipped: summary.skipped,
  }),
);
