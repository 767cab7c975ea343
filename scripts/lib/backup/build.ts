// Builds the VM's backup job (scripts/backup-job.mjs) into one binary with `bun build --compile`,
// cached by a hash of its inputs: Bun's output differs byte for byte between builds, so the hash,
// not the binary, tells setup whether the VM's copy is current (a second converge changes nothing).
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { $ } from 'zx';

/** The operator's side (npm run backup), never part of the VM's binary. */
const OPERATOR_SIDE = ['build.ts', 'cli.ts', 'commands.ts', 'spec.ts'];

/** The files the binary is built from, relative to the repo root. */
export function jobInputs(root: string): string[] {
  const lib = readdirSync(join(root, 'scripts/lib/backup'))
    .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts') && !OPERATOR_SIDE.includes(f))
    .map((f) => `scripts/lib/backup/${f}`);
  return [
    'scripts/backup-job.mjs',
    'scripts/lib/gcs.ts',
    'scripts/lib/shell.ts',
    'package-lock.json',
    ...lib,
  ].sort();
}

export async function buildJob(
  root: string,
  cacheDir = join(homedir(), '.cache', 'e2-micro', 'build'),
): Promise<{ path: string; hash: string; built: boolean }> {
  const bun = (await $({ quiet: true })`bun --version`).stdout.trim();
  const h = createHash('sha256').update(`bun ${bun}\n`);
  for (const f of jobInputs(root)) h.update(`${f}\n`).update(readFileSync(join(root, f)));
  const hash = h.digest('hex').slice(0, 16);
  const path = join(cacheDir, `e2m-backup-${hash}`);
  if (existsSync(path)) return { path, hash, built: false };
  mkdirSync(cacheDir, { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await $({
    quiet: true,
    cwd: root,
  })`bun build --compile --minify --target=bun-linux-x64 scripts/backup-job.mjs --outfile ${tmp}`;
  renameSync(tmp, path);
  return { path, hash, built: true };
}
