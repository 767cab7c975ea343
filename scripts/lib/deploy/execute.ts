// The deploy's I/O: read the VM's state, run a plan's steps through the runners, and on any
// failure run the rescue (before or after the switch) so the old colour is left serving.

import type { Parts } from '../batch.ts';
import {
  type Clock,
  clockOf,
  type DeployOutcome,
  failureOf,
  type GroupPart,
  type Handlers,
  type ExecOptions as PlanExecOptions,
  type StepEvent as PlanStepEvent,
  poll,
  runPlan,
} from '../plan/run.ts';
import { CommandError, capturedOf, type Runner, type RunResult, toShell } from '../runner.ts';
import * as cmd from './commands.ts';
import { type HealthReport, judgeReady, judgeRun, parseHealthReport, parseReadyProbe } from './contract.ts';
import { containerName, layout } from './layout.ts';
import { type Actor, auditLine, type Host, type Plan, type Step } from './plan.ts';
import { type Shipped, saveForVm } from './ship.ts';
import {
  parseActive,
  parseContainers,
  parseImages,
  parseLock,
  parseReleases,
  parseWarm,
  reconcile,
  type VmView,
} from './state.ts';

export type Runners = Record<Host, Runner>;

/** What the VM's deploy state is read from: one SSH command in all (batch.ts). */
const viewParts = () => ({
  state: cmd.readState(),
  warm: cmd.readWarm(),
  releases: cmd.readReleases(),
  containers: cmd.listContainers(),
  images: cmd.listImages(),
  lock: cmd.readLock(),
});

const parseView = (out: Record<keyof ReturnType<typeof viewParts>, string>): VmView => ({
  active: parseActive(out.state),
  warm: parseWarm(out.warm),
  releases: parseReleases(out.releases),
  containers: parseContainers(out.containers),
  images: parseImages(out.images),
  lock: parseLock(out.lock),
});

export async function readView(vm: Runner): Promise<VmView> {
  return parseView(await vm.captureEach(viewParts()));
}

/** What readLiveView reads: the view, what the proxy serves, and with `schemas` each release's
 * recorded migration plan (`readSchemas` lines, for rollback). */
export function liveViewParts(domain: string, o: { schemas?: boolean } = {}): Parts<string> {
  return {
    ...viewParts(),
    probe: cmd.probeThroughProxy(domain),
    ...(o.schemas ? { schemas: cmd.readSchemas() } : {}),
  };
}

/**
 * The view a plan is made from: read under the lock (by takeLease in the same round trip, given
 * as `read`, or here), then reconciled with the release the proxy serves (state.ts reconcile); a
 * mismatch is written back to state.json, audited and returned.
 */
export async function readLiveView(
  vm: Runner,
  domain: string,
  actor: Actor,
  o: { schemas?: boolean; read?: Partial<Record<string, RunResult>> } = {},
): Promise<{ view: VmView; repaired?: string; schemas?: string }> {
  const parts = liveViewParts(domain, o);
  const out: Record<string, string> = o.read
    ? capturedOf<string>(vm.where, parts, o.read, ['probe'])
    : await vm.captureEach<string>(parts, { unchecked: ['probe'] });
  const view = parseView(out as Record<keyof ReturnType<typeof viewParts>, string>);
  const { probe, schemas } = out;
  const release = probe.split(' ')[1];
  const r = reconcile(view, { release: probe.startsWith('200 ') ? release : undefined }, actor.now);
  if (!r.repair) return { view, schemas };
  await vm.run(cmd.writeState(JSON.stringify(r.repair.active)));
  await vm.run(
    cmd.appendLine(layout.auditFile, auditLine(actor, { event: 'state-repaired', why: r.repair.why })),
  );
  return { view: r.view, repaired: r.repair.why, schemas };
}

export type StepEvent = PlanStepEvent<Step>;
export type ExecOptions = PlanExecOptions<Step>;

export interface Outcome extends DeployOutcome {
  /** Optional steps that failed: reported, never fatal (an image retention could not remove). */
  warnings: string[];
  /** The new colour as it was when it failed to get ready, before the rescue removed it. */
  health?: HealthReport;
  /** What the upload sent: the archive's bytes, and how many layers the VM already had. */
  shipped?: Shipped;
}

/** A handler per step kind, for the one plan executor (plan/run.ts). A string returned is a
 * warning a contract judge raised (docs/app-contract.md). */
function handlers(
  runners: Runners,
  clock: Clock,
  state: { switched: boolean; health?: HealthReport; shipped?: Shipped },
): Handlers<Step> {
  return {
    run: async (step) => {
      if (step.switches) state.switched = true;
      if (!step.check) {
        const r = await runners[step.host].run(step.argv, { check: !step.explains });
        if (r.code !== 0) throw failedRun(runners[step.host], step, r);
        return undefined;
      }
      const verdict = judgeRun(step.check, await runners[step.host].run(step.argv, { check: false }));
      if (verdict?.error) throw new Error(verdict.error);
      if (verdict?.dump) {
        const dump = await runners.vm.run(cmd.startBackup(), { check: false });
        if (dump.code !== 0)
          throw new Error(
            `the dump before the destructive migration failed (${toShell(cmd.startBackup())}: exit ${dump.code} ${dump.stderr.trim()}); nothing was migrated`,
          );
      }
      return verdict?.warning;
    },
    save: async (step) => {
      state.shipped = await saveForVm(runners.local, step);
      return undefined;
    },
    upload: (step) => runners.vm.upload(step.from, step.to),
    wait: async (step) => {
      try {
        return await waitFor(step);
      } catch (e) {
        // Read before the rescue removes the container: the report is why it never got ready.
        if (step.check?.kind === 'ready') {
          const colour = step.check.colour;
          const r = await runners.vm.run(cmd.healthReport(colour), { check: false }).catch(() => undefined);
          if (r) state.health = parseHealthReport(containerName(colour), r.stdout);
        }
        throw e;
      }
    },
  };

  function waitFor(step: Extract<Step, { kind: 'wait' }>) {
    return poll(
      step,
      clock,
      async () => {
        const r = await runners[step.host].run(step.argv, { check: false });
        const out = r.stdout.trim();
        if (step.check?.kind === 'ready' && r.code === 0) {
          const v = judgeReady(parseReadyProbe(r.stdout), step.check.release);
          if (v.kind === 'ready') return undefined;
          if (v.kind === 'broken') throw new Error(v.why);
          return v.why;
        }
        if (r.code === 0 && (step.expect === undefined || out === step.expect)) return undefined;
        return r.code === 0
          ? `got "${out}", want "${step.expect}"`
          : (r.stderr || r.stdout).trim().split('\n').pop() || `exit ${r.code}`;
      },
      (last) => new Error(`not done after ${step.timeoutMs / 1000} s: ${last}`),
    );
  }
}

type RunStep = Extract<Step, { kind: 'run' }>;

/** A run step's failure: what it said, for a step that explains itself, else its command and exit. */
const failedRun = (runner: Runner, step: RunStep, r: RunResult) =>
  step.explains
    ? new Error(r.stderr.trim().split('\n').pop() || `exit ${r.code}`)
    : new CommandError(runner.where, step.argv, r);

/**
 * Plain steps on one host in one command (runner.ts runSequence), stopping at the first that fails
 * unless it is optional; each step's time is its own on that host, the round trip counted in the
 * first. A switch that ran, even failing, or a batch cut before its end with a switch in it, may
 * have moved traffic: the rescue after the switch runs, as for a switch step alone.
 */
async function runGroup(
  steps: RunStep[],
  runners: Runners,
  clock: Clock,
  state: { switched: boolean },
): Promise<GroupPart[]> {
  const runner = runners[steps[0].host];
  const name = (i: number) => `s${i}`;
  const t0 = clock.now();
  const out = await runner
    .runSequence(Object.fromEntries(steps.map((s, i) => [name(i), s.argv])), {
      mayFail: steps.flatMap((s, i) => (s.optional ? [name(i)] : [])),
    })
    .catch((e) => {
      if (steps.some((s) => s.switches)) state.switched = true;
      throw new Error(
        `${e instanceof Error ? e.message : String(e)} (the round trip of ${steps.map((s) => s.id).join(', ')}: how far it got is not known)`,
      );
    });
  const ran = steps.flatMap((s, i) => {
    const r = out[name(i)];
    return r ? [{ s, r }] : [];
  });
  if (ran.some(({ s }) => s.switches)) state.switched = true;
  const onHost = ran.reduce((sum, { r }) => sum + (r.ms ?? 0), 0);
  return ran.map(({ s, r }, i) => ({
    ms: (r.ms ?? 0) + (i === 0 ? Math.max(0, clock.now() - t0 - onHost) : 0),
    ...(r.code !== 0 ? { error: failedRun(runner, s, r) } : {}),
  }));
}

/**
 * Runs the plan. A failing step stops it; then the rescue for the phase it failed in runs to the
 * end (each rescue step is tried even if an earlier one failed). Never throws for a step
 * failure: the outcome says what failed and why.
 */
export async function execute(plan: Plan, runners: Runners, options: ExecOptions = {}): Promise<Outcome> {
  const clock = clockOf(options);
  const state: { switched: boolean; health?: HealthReport; shipped?: Shipped } = { switched: false };
  const r = await runPlan<Step>(
    {
      steps: plan.steps,
      optional: (step) => step.kind === 'run' && !!step.optional,
      // Plain commands on one host in a row share a round trip: after the switch, a warm
      // rollback's steps are each a few milliseconds on the VM and a round trip each here.
      groupKey: (step) => (step.kind === 'run' && !step.check ? step.host : undefined),
      onFailure: (step) => {
        // A switch step that failed may have half-happened: rescue as if it had.
        if (step.kind === 'run' && step.switches) state.switched = true;
        // Losing the lock race means nothing was started and the lock is someone else's.
        if (step.id === 'lock') return [];
        return state.switched ? plan.rescueAfterSwitch : plan.rescueBeforeSwitch;
      },
    },
    handlers(runners, clock, state),
    {
      onEvent: options.onEvent,
      now: clock.now,
      group: (steps) => runGroup(steps as RunStep[], runners, clock, state),
    },
  );
  const { ok, ms, rescueErrors, warnings, stepTimes } = r;
  return {
    ok,
    ms,
    switched: state.switched,
    rescueErrors,
    warnings,
    stepTimes,
    ...failureOf(r),
    ...(state.health ? { health: state.health } : {}),
    ...(state.shipped ? { shipped: state.shipped } : {}),
  };
}

/** The plan as text: every command on every host, in order (the dry run prints this). */
export function renderPlan(plan: Plan, where: Record<Host, string>): string {
  const line = (s: Step) => {
    if (s.kind === 'upload') return `  [vm    ${where.vm}] upload ${s.from} -> ${s.to}`;
    if (s.kind === 'save')
      return `  [local ${where.local}] docker save ${s.image}, less the layers the VM has (${s.vmChains.length} known), | zstd > ${s.to}`;
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
