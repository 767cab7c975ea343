// The deploy's I/O: read the VM's state, run a plan's steps through the runners, and on any
// failure run the rescue (before or after the switch) so the old colour is left serving.
import { CommandError, type Runner, toShell } from '../runner.ts';
import * as cmd from './commands.ts';
import { judgeReady, judgeRun, parseReadyProbe } from './contract.ts';
import type { Host, Plan, Step } from './plan.ts';
import { parseActive, parseContainers, parseImages, parseLock, parseReleases, type VmView } from './state.ts';

export type Runners = Record<Host, Runner>;

/** One command at a time: the hardened sshd allows few sessions per connection (MaxSessions). */
export async function readView(vm: Runner): Promise<VmView> {
  return {
    active: parseActive(await vm.capture(cmd.readState())),
    releases: parseReleases(await vm.capture(cmd.readReleases())),
    containers: parseContainers(await vm.capture(cmd.listContainers())),
    images: parseImages(await vm.capture(cmd.listImages())),
    lock: parseLock(await vm.capture(cmd.readLock())),
  };
}

/** Progress of a plan's steps; generic so the Cloud Run executor reports the same way. */
export type StepEvent<S = Step> =
  | { type: 'start'; index: number; total: number; step: S; phase: 'plan' | 'rescue' }
  | { type: 'done'; index: number; total: number; step: S; ms: number; phase: 'plan' | 'rescue' }
  | {
      type: 'failed';
      index: number;
      total: number;
      step: S;
      ms: number;
      error: string;
      phase: 'plan' | 'rescue';
    };

export interface Outcome {
  ok: boolean;
  ms: number;
  failedStep?: string;
  error?: string;
  switched: boolean;
  rescueErrors: string[];
  /** Optional steps that failed: reported, never fatal (an image retention could not remove). */
  warnings: string[];
  stepTimes: Record<string, number>;
}

export interface ExecOptions {
  onEvent?: (e: StepEvent) => void;
  /** For tests: wait steps sleep through this. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const describeError = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Runs one step; throws when it failed; returns a warning a contract judge raised, if any. */
async function runStep(
  step: Step,
  runners: Runners,
  opts: Required<Pick<ExecOptions, 'sleep' | 'now'>>,
): Promise<string | undefined> {
  switch (step.kind) {
    case 'run': {
      if (!step.check) {
        await runners[step.host].run(step.argv);
        return;
      }
      const verdict = judgeRun(step.check, await runners[step.host].run(step.argv, { check: false }));
      if (verdict?.error) throw new Error(verdict.error);
      return verdict?.warning;
    }
    case 'upload':
      await runners.vm.upload(step.from, step.to);
      return;
    case 'wait': {
      const deadline = opts.now() + step.timeoutMs;
      let last = '';
      for (;;) {
        const r = await runners[step.host].run(step.argv, { check: false });
        const out = r.stdout.trim();
        if (step.check?.kind === 'ready' && r.code === 0) {
          const v = judgeReady(parseReadyProbe(r.stdout), step.check.release);
          if (v.kind === 'ready') return;
          if (v.kind === 'broken') throw new Error(v.why);
          last = v.why;
        } else if (r.code === 0 && (step.expect === undefined || out === step.expect)) return;
        else
          last =
            r.code === 0
              ? `got "${out}", want "${step.expect}"`
              : (r.stderr || r.stdout).trim().split('\n').pop() || `exit ${r.code}`;
        if (opts.now() >= deadline) throw new Error(`not done after ${step.timeoutMs / 1000} s: ${last}`);
        await opts.sleep(step.intervalMs);
      }
    }
  }
}

/**
 * Runs the plan. A failing step stops it; then the rescue for the phase it failed in runs to the
 * end (each rescue step is tried even if an earlier one failed). Never throws for a step
 * failure: the outcome says what failed and why.
 */
export async function execute(plan: Plan, runners: Runners, options: ExecOptions = {}): Promise<Outcome> {
  const opts = {
    sleep: options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))),
    now: options.now ?? Date.now,
  };
  const emit = options.onEvent ?? (() => {});
  const t0 = opts.now();
  const outcome: Outcome = {
    ok: true,
    ms: 0,
    switched: false,
    rescueErrors: [],
    warnings: [],
    stepTimes: {},
  };
  for (const [index, step] of plan.steps.entries()) {
    const s0 = opts.now();
    emit({ type: 'start', index, total: plan.steps.length, step, phase: 'plan' });
    try {
      const warning = await runStep(step, runners, opts);
      if (warning) outcome.warnings.push(`${step.id}: ${warning}`);
      if (step.kind === 'run' && step.switches) outcome.switched = true;
      const ms = opts.now() - s0;
      outcome.stepTimes[step.id] = (outcome.stepTimes[step.id] ?? 0) + ms;
      emit({ type: 'done', index, total: plan.steps.length, step, ms, phase: 'plan' });
    } catch (e) {
      if (step.kind === 'run' && step.optional) {
        outcome.warnings.push(`${step.id}: ${describeError(e)}`);
        emit({
          type: 'failed',
          index,
          total: plan.steps.length,
          step,
          ms: opts.now() - s0,
          error: describeError(e),
          phase: 'plan',
        });
        continue;
      }
      // A switch step that failed may have half-happened: rescue as if it had.
      if (step.kind === 'run' && step.switches) outcome.switched = true;
      const error = describeError(e);
      Object.assign(outcome, { ok: false, failedStep: step.id, error });
      emit({
        type: 'failed',
        index,
        total: plan.steps.length,
        step,
        ms: opts.now() - s0,
        error,
        phase: 'plan',
      });
      // Losing the lock race means nothing was started and the lock is someone else's.
      if (step.id === 'lock') break;
      const rescue = outcome.switched ? plan.rescueAfterSwitch : plan.rescueBeforeSwitch;
      for (const [ri, r] of rescue.entries()) {
        const r0 = opts.now();
        emit({ type: 'start', index: ri, total: rescue.length, step: r, phase: 'rescue' });
        try {
          await runStep(r, runners, opts);
          emit({
            type: 'done',
            index: ri,
            total: rescue.length,
            step: r,
            ms: opts.now() - r0,
            phase: 'rescue',
          });
        } catch (re) {
          outcome.rescueErrors.push(`${r.id}: ${describeError(re)}`);
          emit({
            type: 'failed',
            index: ri,
            total: rescue.length,
            step: r,
            ms: opts.now() - r0,
            error: describeError(re),
            phase: 'rescue',
          });
        }
      }
      break;
    }
  }
  outcome.ms = opts.now() - t0;
  return outcome;
}

/** The plan as text: every command on every host, in order (the dry run prints this). */
export function renderPlan(plan: Plan, where: Record<Host, string>): string {
  const line = (s: Step) => {
    if (s.kind === 'upload') return `  [vm    ${where.vm}] upload ${s.from} -> ${s.to}`;
    const prefix = `  [${s.host.padEnd(5)} ${where[s.host]}]`;
    const wait =
      s.kind === 'wait'
        ? ` (repeat until exit 0${s.expect ? ` and output "${s.expect}"` : ''}, at most ${s.timeoutMs / 1000} s)`
        : '';
    return `${prefix} ${toShell(s.argv)}${wait}`;
  };
  const block = (title: string, steps: Step[]) =>
    [title, ...steps.flatMap((s, i) => [`${i + 1}. ${s.title}`, line(s)])].join('\n');
  return [
    `${plan.action}: ${plan.summary}`,
    block('steps:', plan.steps),
    plan.rescueBeforeSwitch.length
      ? block('if a step fails before the switch:', plan.rescueBeforeSwitch)
      : '',
    plan.rescueAfterSwitch.length ? block('if a step fails after the switch:', plan.rescueAfterSwitch) : '',
  ]
    .filter(Boolean)
    .join('\n');
}

export { CommandError };
