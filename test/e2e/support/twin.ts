// Helpers for e2e tests: the twin as a target (from inventory/twin.yml), SSH to it, the CLI.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { type Runner, SshRunner } from '../../../scripts/lib/runner.ts';
import { loadTarget, type Target } from '../../../scripts/lib/target.ts';
import { loadConfig } from '../../../scripts/lib/twin/execute.ts';
import type { TwinConfig } from '../../../scripts/lib/twin/plan.ts';

export const root = resolve(import.meta.dirname, '..', '..', '..');

/** The twin's names and ports as `npm run twin` resolves them here (E2M_TWIN_* included). */
export function twinConfig(): TwinConfig {
  return loadConfig(root, process.env, {});
}

export function twinTarget(): Target {
  return loadTarget('twin', root);
}

export function connect(target: Target = twinTarget()): Promise<SshRunner> {
  return SshRunner.connect(target);
}

/** Runs `npm run twin -- ...args` as a user would; returns exit code and output. */
export function twinCli(...args: string[]): { code: number; out: string } {
  const r = spawnSync('npm', ['run', '-s', 'twin', '--', ...args], { cwd: root, encoding: 'utf8' });
  return { code: r.status ?? 1, out: `${r.stdout}${r.stderr}` };
}

/** sudo over SSH, never prompting. */
export function sudo(runner: Runner, argv: string[], opts: { input?: string; check?: boolean } = {}) {
  return runner.run(['sudo', '-n', ...argv], opts);
}

/** apt-get install on the twin, non-interactive, waiting for a background apt's lock. */
export function aptInstall(runner: Runner, packages: string[]) {
  return sudo(runner, [
    'env',
    'DEBIAN_FRONTEND=noninteractive',
    'apt-get',
    '-o',
    'DPkg::Lock::Timeout=120',
    'install',
    '-y',
    '-qq',
    ...packages,
  ]);
}
