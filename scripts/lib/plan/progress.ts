// What `deploy` prints while a plan runs and after it, for a VM and for Cloud Run alike: per step
// "[elapsed] n/total title", then "ok (time)" or "FAILED at id after time: why" (rescue steps are
// tagged "rescue"); at the end, done or where it failed. The twin prints its own "==> title"
// lines (twin/execute.ts).
import { chalk } from 'zx';
import type { DeployOutcome, PlanStep, StepEvent } from './run.ts';

const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

/** The line for one step event; `elapsedMs` counts from the start of the command. */
export function stepLine(e: StepEvent<PlanStep>, elapsedMs: number): string {
  const tag = e.phase === 'rescue' ? chalk.yellow('rescue') : `${e.index + 1}/${e.total}`;
  if (e.type === 'start') return chalk.dim(`[${secs(elapsedMs)}] ${tag} ${e.step.title}`);
  if (e.type === 'done') return chalk.dim(`      ok (${secs(e.ms)})`);
  return chalk.red(`      FAILED at ${e.step.id} after ${secs(e.ms)}: ${e.error}`);
}

/** What a deploy says about where traffic is after a failure, in its own words. */
export interface TrafficWords {
  /** After the successful "done in 1.2s". */
  done?: string;
  /** The rescue sent traffic back. */
  sentBack: string;
  /** Traffic never moved. */
  neverMoved: string;
}

/** The lines after a deploy's plan ran (VM or Cloud Run): done, or where it failed and what the rescue did. */
export function outcomeLines(
  action: string,
  o: DeployOutcome & { warnings?: string[] },
  words: TrafficWords,
): string[] {
  if (o.ok)
    return [
      chalk.green(`${action} done in ${secs(o.ms)}${words.done ?? ''}`),
      ...(o.warnings ?? []).map((w) => chalk.yellow(`warning (not fatal): ${w}`)),
    ];
  return [
    chalk.red(`${action} failed at step "${o.failedStep}": ${o.error}`),
    o.switched ? words.sentBack : words.neverMoved,
    ...o.rescueErrors.map((r) =>
      chalk.red(`rescue step failed: ${r} (check with: npm run deploy -- status)`),
    ),
  ];
}
