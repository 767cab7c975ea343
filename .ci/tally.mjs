// Sums the suites' real results into the one line CI reads. A suite counts as failed when its
// script exited non-zero, when it left no counts, or when anything in it was skipped. Above the
// summary it names every failed vitest test with its first error line: CI often shows only the
// tail of the log, and a failure nobody can name cannot be fixed.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '.ci/out';
const total = { passed: 0, failed: 0, skipped: 0 };

/** `FAILED suite: file > title: first error line` for each failed test in a vitest JSON report. */
function failedTests(suite, report) {
  const lines = [];
  for (const file of report.testResults ?? []) {
    const where = file.name.replace(`${process.cwd()}/`, '');
    const failed = file.assertionResults.filter((a) => a.status === 'failed');
    if (failed.length === 0 && file.status === 'failed')
      failed.push({ fullName: '(file)', failureMessages: [file.message] });
    for (const a of failed) {
      const why = String(a.failureMessages?.[0] ?? '')
        .split('\n')[0]
        .slice(0, 240);
      lines.push(`FAILED ${suite}: ${where} > ${a.fullName}: ${why}`);
    }
  }
  return lines;
}

for (const f of readdirSync(dir)
  .filter((f) => f.endsWith('.vitest.json'))
  .sort()) {
  try {
    for (const line of failedTests(
      f.slice(0, -'.vitest.json'.length),
      JSON.parse(readFileSync(join(dir, f), 'utf8')),
    ))
      console.log(line);
  } catch (e) {
    console.log(`FAILED ${f}: unreadable report (${e.message})`);
  }
}
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
