// Turns a vitest JSON report into {passed, failed, skipped}. A test file that failed to load
// has no test results in it; it counts as one failure so a broken import cannot look green.
import { readFileSync, writeFileSync } from 'node:fs';

const [raw, out] = process.argv.slice(2);
const r = JSON.parse(readFileSync(raw, 'utf8'));
const brokenFiles = r.testResults.filter(
  (t) => t.status === 'failed' && t.assertionResults.length === 0,
).length;
writeFileSync(
  out,
  JSON.stringify({
    passed: r.numPassedTests,
    failed: r.numFailedTests + brokenFiles,
    skipped: r.numPendingTests + r.numTodoTests,
  }),
);
