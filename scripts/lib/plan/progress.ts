// The progress lines of a running plan, as `deploy` prints them for a VM and for Cloud Run:
// "[elapsed] n/total title", then "ok (time)" or "FAILED at id after time: why"; rescue steps
// are tagged "rescue". The twin prints its own "==> title" lines (twin/execute.ts).
import { chalk } from 'zx';
import type { PlanStep, StepEvent } from './run.ts';

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** The line for one step event; `elapsedMs` counts from the start of the command. */
export function stepLine(e: StepEvent<PlanStep>, elapsedMs: number): string {
  const tag = e.phase === 'rescue' ? chalk.yellow('rescue') : `${e.index + 1}/${e.total}`;
  if (e.type === 'start') return chalk.dim(`[${secs(elapsedMs)}] ${tag} ${e.step.title}`);
  if (e.type === 'done') return chalk.dim(`      ok (${secs(e.ms)})`);
  return chalk.red(`      FAILED at ${e.step.id} after ${secs(e.ms)}: ${e.error}`);
}
