// Pure verdicts the incident commands reach from what they measured: the "VM reachable" finding
// (the first line of every status screen, and the whole screen when SSH is gone), the kill
// switch's state as the binary prints it, and the kill-switch drill's judgement.
import { SWITCH_LIMIT_MS } from './drill.ts';
import type { Finding } from './status.ts';

export const SSH_THRESHOLD = 'fail unless SSH answers within 10 s';

/** From a connect attempt (lib/cli/ssh.ts's Reach). */
export function sshFinding(r: { ok: boolean; where: string; ms: number; error?: string }): Finding {
  return {
    id: 'ssh',
    title: 'VM reachable',
    level: r.ok ? 'ok' : 'fail',
    summary: r.ok ? `SSH ${r.where} in ${r.ms} ms` : `no SSH to ${r.where}: ${r.error}`,
    threshold: SSH_THRESHOLD,
    ms: r.ms,
  };
}

export interface SwitchState {
  on: boolean;
  since?: string;
  reason?: string;
  source?: string;
}

/** The binary's `kill-switch status` prints its JSON on the last line. */
export const parseSwitchState = (stdout: string): SwitchState => JSON.parse(stdout.split('\n').pop() ?? '');

/** One side of a drill: the plan's outcome and how long until the site changed (undefined: it did not). */
export interface SwitchRun {
  outcome: { ok: boolean; error?: string };
  siteMs?: number;
}

/** Route problems first, then each side's: failed, never changed, or slower than the limit. */
export function judgeDrill(
  on: SwitchRun | undefined,
  off: SwitchRun | undefined,
  routeProblems: string[],
): string[] {
  const problems = [...routeProblems];
  for (const [phase, r] of [
    ['on', on],
    ['off', off],
  ] as const) {
    if (!r?.outcome.ok) problems.push(`${phase}: ${r?.outcome.error ?? 'did not run'}`);
    else if (r.siteMs === undefined) problems.push(`${phase}: the site did not change within 5 s`);
    else if (r.siteMs > SWITCH_LIMIT_MS)
      problems.push(`${phase}: took ${r.siteMs} ms, limit ${SWITCH_LIMIT_MS} ms`);
  }
  return problems;
}
