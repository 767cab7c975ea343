// The job binary's cache key must cover every file bun compiles into it: a module the entry
// reaches but the hash leaves out would let setup keep a stale binary on the VM.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jobInputs } from './build.ts';

const root = resolve(import.meta.dirname, '..', '..', '..');

/** Every repository file reachable from `entry` through relative imports (static or dynamic). */
function reachable(entry: string): string[] {
  const seen = new Set<string>();
  const visit = (file: string) => {
    if (seen.has(file)) return;
    seen.add(file);
    const text = readFileSync(join(root, file), 'utf8');
    for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g))
      visit(relative(root, resolve(root, dirname(file), m[1])));
  };
  visit(entry);
  return [...seen].sort();
}

describe('the backup job binary', () => {
  it('hashes every file the entry imports, the command line and its I/O included', () => {
    const files = reachable('scripts/backup-job.mjs');
    expect(files).toEqual(
      expect.arrayContaining([
        'scripts/lib/backup/job-cli.ts',
        'scripts/lib/backup/job-io.ts',
        'scripts/lib/backup/job.ts',
      ]),
    );
    expect(jobInputs(root)).toEqual(expect.arrayContaining(files));
    expect(jobInputs(root)).toContain('package-lock.json');
  });

  it('leaves out the operator side and the tests', () => {
    const inputs = jobInputs(root);
    for (const f of ['cli.ts', 'commands.ts', 'spec.ts', 'build.ts', 'job-cli.test.ts'])
      expect(inputs).not.toContain(`scripts/lib/backup/${f}`);
  });
});
