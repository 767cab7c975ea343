// Pure: the rules for a restore that replaces production. Before it, the job takes a safety dump
// (so a wrong choice can be undone), and the app must not be taking writes: its kill switch is on,
// or the operator said --online and accepts writes interleaving with the restore.
import type { RunResult } from '../runner.ts';
import type { JobOptions } from './commands.ts';
import { SCRATCH_PREFIX } from './plan.ts';

/** --force into a real database on the VM's own server (not another server's, not scratch). */
export const replacesProduction = (o: JobOptions): boolean =>
  o.force === true && !o.toDefaultsFile && !(o.toDatabase ?? '').startsWith(SCRATCH_PREFIX);

const HOW =
  'turn it on first (npm run incident -- kill-switch on), or pass --online to restore while the app serves';

/**
 * Why a restore over production must not start now, or undefined when it may. `killSwitch` is
 * the serving app's `kill-switch status` (backend/src/cli.ts), undefined when nothing is deployed.
 */
export function writesRefusal(killSwitch: RunResult | undefined, online: boolean): string | undefined {
  if (online || killSwitch === undefined) return undefined;
  // docs/app-contract.md: the command is optional (a usage error, or no /app/server at all).
  if ([2, 126, 127].includes(killSwitch.code))
    return `the app offers no kill switch to stop its writes: pass --online to restore while it serves`;
  if (killSwitch.code !== 0)
    return `the kill switch could not be read (exit ${killSwitch.code}: ${killSwitch.stderr.trim().slice(0, 200)}): ${HOW}`;
  let on: unknown;
  try {
    on = JSON.parse(killSwitch.stdout.trim().split('\n').pop() ?? '').on;
  } catch {
    return `the kill switch's answer is unreadable (${killSwitch.stdout.slice(0, 80)}): ${HOW}`;
  }
  return on === true ? undefined : `the app is taking writes (kill switch off): ${HOW}`;
}
