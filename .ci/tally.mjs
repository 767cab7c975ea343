// Sums the suites' real results into the one line CI reads. A suite counts as failed when its
// script exited non-zero, when it left no counts, or when anything in it was skipped.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.ci/out';
const total = { passed: 0, failed: 0, skipped: 0 };
let ok = true;
for (const rcFile of readdirSync(dir)
  .filter((f) => f.endsWith('.rc'))
  .sort()) {
  const suite = rcFile.slice(0, -3);
  const rc = Number(readFileSync(join(dir, rcFile), 'utf8').trim());
  const countsFile = join(dir, `${suite}.json`);
  const counts = existsSync(countsFile) ? JSON.parse(readFileSync(countsFile, 'utf8')) : null;
  if (counts) for (const k of Object.keys(total)) total[k] += counts[k] ?? 0;
  else total.failed += 1; // the suite died before reporting: count it, never hide it
  const bad = rc !== 0 || !counts || counts.failed > 0 || counts.skipped > 0;
  if (bad) ok = false;
  const c = counts ?? { passed: 0, failed: '?', skipped: 0 };
  console.log(
    `suite ${suite.padEnd(12)} ${bad ? 'FAIL' : 'ok  '} exit=${rc} passed=${c.passed} failed=${c.failed} skipped=${c.skipped}`,
  );
}
console.log(`tests: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
process.exit(ok ? 0 : 1);
