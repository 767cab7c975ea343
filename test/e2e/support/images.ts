// Images as a user's code changes make them: a copy of the backend's build context with one line
// of source changed, so only the app layer differs (used by e2e 40 and the deploy bench).
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { root } from './twin.ts';

const LINE = 'run the HTTP server (default)';

/** A scratch build context whose `serve` help line carries `mark`; the caller removes it. */
export function changedBackend(mark: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'e2m-code-change-'));
  for (const f of ['Dockerfile', '.dockerignore', 'package.json', 'bun.lock', 'tsconfig.json', 'src'])
    cpSync(join(root, 'backend', f), join(dir, f), { recursive: true });
  const cli = join(dir, 'src', 'cli.ts');
  const text = readFileSync(cli, 'utf8');
  const changed = text.replace(LINE, `run the HTTP server (default; ${mark})`);
  if (changed === text) throw new Error(`${cli}: the line "${LINE}" is gone; pick another to change`);
  writeFileSync(cli, changed);
  return dir;
}
