// e2e global setup: a fresh twin once for the whole run (`twin reset`, exactly as a user types
// it), torn down at the end unless E2M_KEEP_TWIN=1 (to look around after a failure).
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..', '..', '..');

function twin(command: string): void {
  const t0 = Date.now();
  const r = spawnSync('npm', ['run', '-s', 'twin', '--', command], { cwd: root, stdio: 'inherit' });
  const took = ((Date.now() - t0) / 1000).toFixed(1);
  if (r.status !== 0)
    throw new Error(`npm run twin -- ${command} exited ${r.status ?? r.signal} after ${took}s`);
  console.log(`e2e: twin ${command} took ${took}s`);
}

export function setup(): void {
  // E2M_TWIN_REUSE=1: keep the twin as the last run left it (a developer's loop on one file).
  if (process.env.E2M_TWIN_REUSE === '1') twin('up');
  else twin('reset');
}

export function teardown(): void {
  if (process.env.E2M_KEEP_TWIN === '1') {
    console.log('e2e: E2M_KEEP_TWIN=1: leaving the twin up (npm run twin -- down removes it)');
    return;
  }
  twin('down');
}
