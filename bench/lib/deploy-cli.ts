// The deploy command as the benchmarks run it: `zx scripts/deploy.mjs ARGS --json`, its last
// line parsed; a failure throws with its error.
import { join } from 'node:path';
import { $ } from 'zx';

const root = join(import.meta.dirname, '..', '..');

// biome-ignore lint/suspicious/noExplicitAny: the --json object of whichever command ran
export async function deployJson(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<any> {
  const r = await $({ cwd: root, nothrow: true, env })`zx scripts/deploy.mjs ${args} --json`;
  const last = JSON.parse(r.stdout.trim().split('\n').pop() || '{}');
  if (r.exitCode !== 0)
    throw new Error(`deploy ${args.join(' ')} failed: ${last.error ?? (r.stdout || r.stderr)}`);
  return last;
}
