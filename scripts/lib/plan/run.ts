// One executor for step plans, used by VM deploys (deploy/execute.ts), Cloud Run
// (cloudrun/execute.ts) and the twin (twin/execute.ts). A plan is a list of steps; each domain
// gives a handler per step kind. The executor runs the steps in order, reports each start and
// end with its time, stops at the first failure and then runs the steps the plan gives for that
// failure (the rescue). It never throws for a failed step: the result says what failed and why.

export interface PlanStep {
  kind: string;
  title: string;
  /** Names the step in results (stepTimes, errors); the title stands in when there is none. */
  id?: string;
}

export type Phase = 'plan' | 'rescue';

export type StepEvent<S> =
  | { type: 'start'; index: number; total: number; step: S; phase: Phase }
  | { type: 'done'; index: number; total: number; step: S; ms: number; phase: Phase }
  | { type: 'failed'; index: number; total: number; step: S; ms: number; error: string; phase: Phase };

/**
 * Runs one kind of step: throws when the step failed. A string it resolves to is a warning that
 * the result lists but that stops nothing; anything else is ignored.
 */
export type Handlers<S extends PlanStep> = {
  [K in S['kind']]: (step: Extract<S, { kind: K }>) => Promise<unknown>;
};

export interface StepPlan<S extends PlanStep> {
  steps: readonly S[];
  /** The rescue for the step that failed, run to its end: a failing rescue step is recorded, the next still runs. */
  onFailure?: (failed: S) => readonly S[];
  /** A step whose failure is only a warning: the plan goes on. */
  optional?: (step: S) => boolean;
  /** Consecutive plan steps with the same key run in one call of `RunOptions.group` (one round
   * trip). Rescue steps never do: each is tried on its own, whatever the one before did. */
  groupKey?: (step: S) => string | undefined;
}

/** What one step of a group did: its time, and what it threw or warned. */
export interface GroupPart {
  ms: number;
  error?: unknown;
  warning?: unknown;
}

/**
 * Runs grouped steps at once, in order, stopping after the first failure that is not optional:
 * one part per step that ran. Fewer parts with no failure means it stopped for no reason the
 * steps gave; throwing fails the first step.
 */
export type GroupRunner<S> = (steps: readonly S[]) => Promise<GroupPart[]>;

export interface RunOptions<S> {
  onEvent?: (e: StepEvent<S>) => void;
  now?: () => number;
  group?: GroupRunner<S>;
}

export interface PlanResult<S> {
  ok: boolean;
  ms: number;
  /** The step that stopped the plan, with what it threw (rethrown as is by callers that throw). */
  failed?: { step: S; error: unknown };
  failedStep?: string;
  error?: string;
  rescueErrors: string[];
  warnings: string[];
  /** Milliseconds per plan step that succeeded, summed where an id repeats. */
  stepTimes: Record<string, number>;
  /** Milliseconds per rescue step that succeeded. */
  rescueTimes: Record<string, number>;
}

export const describeError = (e: unknown) => (e instanceof Error ? e.message : String(e));

const stepId = (s: PlanStep) => s.id ?? s.title;

export async function runPlan<S extends PlanStep>(
  plan: StepPlan<S>,
  handlers: Handlers<S>,
  options: RunOptions<S> = {},
): Promise<PlanResult<S>> {
  const now = options.now ?? Date.now;
  const emit = options.onEvent ?? (() => {});
  const t0 = now();
  const result: PlanResult<S> = {
    ok: true,
    ms: 0,
    rescueErrors: [],
    warnings: [],
    stepTimes: {},
    rescueTimes: {},
  };

  /** Records a step's end and reports it; returns the error it threw, if any. */
  const settle = (
    step: S,
    index: number,
    total: number,
    phase: Phase,
    times: Record<string, number>,
    part: GroupPart,
  ) => {
    if (part.error !== undefined) {
      emit({ type: 'failed', index, total, step, ms: part.ms, error: describeError(part.error), phase });
      return { error: part.error };
    }
    if (typeof part.warning === 'string' && part.warning)
      result.warnings.push(`${stepId(step)}: ${part.warning}`);
    times[stepId(step)] = (times[stepId(step)] ?? 0) + part.ms;
    emit({ type: 'done', index, total, step, ms: part.ms, phase });
    return undefined;
  };

  /** Runs one step and reports it; returns the error it threw, if any. */
  const runOne = async (
    step: S,
    index: number,
    total: number,
    phase: Phase,
    times: Record<string, number>,
  ) => {
    const s0 = now();
    emit({ type: 'start', index, total, step, phase });
    try {
      const warning = await (handlers[step.kind as S['kind']] as (s: S) => Promise<unknown>)(step);
      return settle(step, index, total, phase, times, { ms: now() - s0, warning });
    } catch (error) {
      return settle(step, index, total, phase, times, { ms: now() - s0, error });
    }
  };

  /** Runs steps [from, to) in one group call; reports each; the first failure it hit, if any. */
  const runGroup = async (group: GroupRunner<S>, from: number, to: number) => {
    const steps = plan.steps.slice(from, to);
    const total = plan.steps.length;
    const s0 = now();
    emit({ type: 'start', index: from, total, step: steps[0], phase: 'plan' });
    const parts = await group(steps).catch((error): GroupPart[] => [{ ms: now() - s0, error }]);
    for (const [k, step] of steps.entries()) {
      const part = parts[k] ?? {
        ms: 0,
        error: new Error(`not run: the group stopped before it, after ${stepId(steps[k - 1])}`),
      };
      if (k > 0) emit({ type: 'start', index: from + k, total, step, phase: 'plan' });
      const failure = settle(step, from + k, total, 'plan', result.stepTimes, part);
      if (failure && !plan.optional?.(step)) return { at: from + k, ...failure };
      if (failure) result.warnings.push(`${stepId(step)}: ${describeError(failure.error)}`);
    }
    return undefined;
  };

  /** Where the plan's next group ends: past every following step with the same key. */
  const groupEnd = (from: number) => {
    const key = options.group && plan.groupKey?.(plan.steps[from]);
    let to = from + 1;
    while (key && to < plan.steps.length && plan.groupKey?.(plan.steps[to]) === key) to++;
    return to;
  };

  let failure: { at: number; error: unknown } | undefined;
  for (let index = 0; index < plan.steps.length && !failure; ) {
    const to = groupEnd(index);
    if (options.group && to - index > 1) {
      failure = await runGroup(options.group, index, to);
      index = to;
      continue;
    }
    const step = plan.steps[index];
    const f = await runOne(step, index, plan.steps.length, 'plan', result.stepTimes);
    if (f && plan.optional?.(step)) result.warnings.push(`${stepId(step)}: ${describeError(f.error)}`);
    else if (f) failure = { at: index, ...f };
    index++;
  }
  if (failure) {
    const step = plan.steps[failure.at];
    Object.assign(result, {
      ok: false,
      failed: { step, error: failure.error },
      failedStep: stepId(step),
      error: describeError(failure.error),
    });
    const rescue = plan.onFailure?.(step) ?? [];
    for (const [ri, r] of rescue.entries()) {
      const rf = await runOne(r, ri, rescue.length, 'rescue', result.rescueTimes);
      if (rf) result.rescueErrors.push(`${stepId(r)}: ${describeError(rf.error)}`);
    }
  }
  result.ms = now() - t0;
  return result;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: Date.now,
  sleep: (ms) => new Promise<void>((r) => setTimeout(r, ms)),
};

/** What the two deploy executors (VM, Cloud Run) take: progress, and for tests a clock. */
export interface ExecOptions<S> {
  onEvent?: (e: StepEvent<S>) => void;
  /** For tests: wait steps sleep through this. */
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

export const clockOf = (o: ExecOptions<never>): Clock => ({
  now: o.now ?? realClock.now,
  sleep: o.sleep ?? realClock.sleep,
});

/** What the two deploy executors report (their --json shows it): the plan's result, and whether traffic moved. */
export interface DeployOutcome {
  ok: boolean;
  ms: number;
  failedStep?: string;
  error?: string;
  /** Traffic may have reached the new release (so the rescue sent it back). */
  switched: boolean;
  rescueErrors: string[];
  stepTimes: Record<string, number>;
}

/** A failed result's step and error, as the outcome fields (none for a success). */
export const failureOf = (r: PlanResult<unknown>) =>
  r.ok ? {} : { failedStep: r.failedStep, error: r.error };

/**
 * Tries `attempt` every intervalMs until it returns undefined (done). It returns what it saw
 * otherwise; once timeoutMs have passed, the last of those goes to `expired` for the error to
 * throw. An attempt that throws ends the wait at once (a final bad answer).
 */
export async function poll(
  wait: { timeoutMs: number; intervalMs: number },
  clock: Clock,
  attempt: () => Promise<string | undefined>,
  expired: (last: string) => Error,
): Promise<void> {
  const deadline = clock.now() + wait.timeoutMs;
  for (;;) {
    const last = await attempt();
    if (last === undefined) return;
    if (clock.now() >= deadline) throw expired(last);
    await clock.sleep(wait.intervalMs);
  }
}
