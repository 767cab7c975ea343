// `npm run incident`'s commands: each a function from (the VM, the site, the arguments) to a
// Result, so a test drives it through the recording runner with no SSH. main() is the order
// of the old entry: refusals first, then the target, the Compute API commands (no SSH), then
// one SSH connection whose failure is the status screen's first (and only) finding.
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { chalk } from 'zx';
import { currentActor } from '../cli/actor.ts';
import type { Invocation, Values } from '../cli/args.ts';
import { CliError, type Context, paint, type Result } from '../cli/context.ts';
import { reachVm } from '../cli/ssh.ts';
import { readTarget } from '../cli/target.ts';
import { type ExecOptions, execute, type Outcome, renderPlan } from '../deploy/execute.ts';
import type { Actor, Plan } from '../deploy/plan.ts';
import { parseActive } from '../deploy/state.ts';
import { createStorage } from '../gcs.ts';
import { LocalRunner, type Runner } from '../runner.ts';
import type { Target, TargetName } from '../target.ts';
import { buildBundle, LeakError } from './bundle.ts';
import { consoleHints, readConsole, resetVm, tail } from './console.ts';
import { DRILL_ROUTES, drillAllowed, judgeRoutes, SWITCH_LIMIT_MS } from './drill.ts';
import { LOG_SOURCES, LogArgsError, type LogSource, logsCommand } from './logs.ts';
import { killSwitchPlan, PlanError, restartPlan, SERVICES, type Service } from './plans.ts';
import { killSwitchCommand, readActive } from './probes.ts';
import { type SiteTarget, siteStatus, timeUntil } from './site.ts';
import { incidentSpec } from './spec.ts';
import { type Finding, renderFindings, runStatus } from './status.ts';
import { judgeDrill, parseSwitchState, type SwitchState, sshFinding } from './verdicts.ts';

/** The site as a client sees it from this machine (site.ts), injectable for tests. */
export interface SiteClient {
  status(method: string, path: string): Promise<number>;
  timeUntil(path: string, want: (status: number) => boolean, limitMs: number): Promise<number | undefined>;
}

export const siteClient = (t: SiteTarget): SiteClient => ({
  status: (method, path) => siteStatus(t, method, path),
  timeUntil: (path, want, limitMs) => timeUntil(t, path, want, limitMs),
});

/** Output handed over as it comes (SshRunner.stream). */
export interface Streamer {
  stream(
    argv: readonly string[],
    onStdout: (b: Buffer) => void,
    onStderr: (b: Buffer) => void,
  ): Promise<number>;
}

/** Everything a command reaches besides its arguments. */
export interface IncidentIo {
  ctx: Context;
  target: Target;
  vm: Runner & Streamer;
  local: Runner;
  actor: Actor;
  site: SiteClient;
  /** The "VM reachable" finding of this connection. */
  reachable: Finding;
  /** For tests: the executor's clock and sleep. */
  exec?: Pick<ExecOptions, 'sleep' | 'now'>;
  /** `logs` output, and what Ctrl-C does while it follows. */
  stdout(b: Buffer): void;
  stderr(b: Buffer): void;
  onInterrupt(stop: () => Promise<void>): void;
  /** Copies a local file into the backups bucket. */
  upload(file: string, object: string): Promise<void>;
}

const str = (v: Values, key: string) => v[key] as string | undefined;
const on = (v: Values, key: string) => v[key] === true;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

const readActiveState = async (io: IncidentIo) => parseActive(await io.vm.capture(readActive().argv));
const readSwitch = async (io: IncidentIo, colour: 'blue' | 'green'): Promise<SwitchState> =>
  parseSwitchState(await io.vm.capture(killSwitchCommand(colour, 'status')));

const dryRun = (io: IncidentIo, plan: Plan): Result => ({
  code: 0,
  json: { ok: true, dryRun: true, plan },
  text: renderPlan(plan, { local: 'local', vm: io.vm.where }),
});

/** Runs a plan with the deploy's executor and its progress lines. */
function runPlan(io: IncidentIo, plan: Plan): Promise<Outcome> {
  io.ctx.say(chalk.bold(`${plan.action}: ${plan.summary}`));
  return execute(plan, { local: io.local, vm: io.vm }, { onEvent: io.ctx.step, ...io.exec });
}

export async function status(io: IncidentIo): Promise<Result> {
  const report = await runStatus(io.vm, {
    domain: io.target.domain,
    reachable: io.reachable,
    onProbe: (e) => io.ctx.progress(`${e.id} (${e.ms} ms${e.code ? `, exit ${e.code}` : ''})`),
  });
  return {
    code: report.ok ? 0 : 1,
    json: { target: io.target.name, ...report },
    text: [
      chalk.bold(`status of ${io.target.name} (${io.vm.where}) in ${secs(report.ms)}`),
      renderFindings(report.findings, paint),
      paint(report.level, `overall: ${report.level}`),
    ].join('\n'),
  };
}

/** SSH is gone: the status screen with its one finding, and where to look next. */
export function unreachable(target: Target, finding: Finding): Result {
  return {
    code: 1,
    json: { ok: false, level: 'fail', findings: [finding] },
    text: [
      renderFindings([finding], paint),
      target.name === 'twin'
        ? 'The twin: npm run twin -- status'
        : `Next: npm run incident -- console --target ${target.name} (serial console), then reset --force`,
    ].join('\n'),
  };
}

export interface LogsOptions {
  since?: string;
  follow?: boolean;
  grep?: string;
  lines?: string;
}

export async function logs(io: IncidentIo, source: string, o: LogsOptions): Promise<Result> {
  if (!(LOG_SOURCES as readonly string[]).includes(source))
    throw new CliError(`unknown log source "${source}": one of ${LOG_SOURCES.join(', ')}`, 2);
  const active = source === 'app' ? await readActiveState(io) : undefined;
  let argv: string[];
  try {
    argv = logsCommand({
      source: source as LogSource,
      active,
      since: o.since,
      follow: o.follow,
      grep: o.grep,
      lines: o.lines === undefined ? undefined : Number(o.lines),
    });
  } catch (e) {
    throw new CliError((e as Error).message, e instanceof LogArgsError ? 2 : 1);
  }
  io.ctx.progress(`${source} logs from ${io.vm.where}${o.follow ? ' (following; Ctrl-C stops)' : ''}`);
  io.onInterrupt(() => io.vm.close());
  const code = await io.vm.stream(argv, io.stdout, io.stderr);
  if (code === 1 && o.grep !== undefined) io.ctx.say(chalk.dim('(no line matched)'));
  return { code: code === 0 ? 0 : 1 };
}

export async function diag(io: IncidentIo, o: { out?: string; upload?: boolean }): Promise<Result> {
  const { ctx, target } = io;
  const stamp = io.actor.now.replaceAll(':', '').replace(/\.\d+Z$/, 'Z');
  const out = resolve(o.out ?? join(tmpdir(), `e2m-diag-${target.name}-${stamp}.tar.gz`));
  ctx.progress('status');
  const report = (await status(io)).json as { level: string; findings: Finding[] };
  const built = await buildBundle(
    io.vm,
    out,
    {
      'status.json': JSON.stringify(report, null, 2),
      'status.txt': renderFindings(report.findings),
    },
    (file, code) => ctx.progress(`${file}${code ? ` (exit ${code})` : ''}`),
  );
  let uploaded: string | undefined;
  if (o.upload) {
    const object = `diag/${basename(out)}`;
    ctx.progress(`upload to gs://${target.bucket}/${object}`);
    await io.upload(out, object);
    uploaded = `gs://${target.bucket}/${object}`;
  }
  return {
    code: 0,
    json: {
      ok: true,
      file: out,
      bytes: built.bytes,
      redacted: built.redacted,
      uploaded,
      status: report.level,
    },
    text: chalk.green(
      `bundle ${out} (${(built.bytes / 1024).toFixed(0)} KB, ${built.files} files, ${built.redacted} secret values redacted)${uploaded ? `, uploaded to ${uploaded}` : ''}`,
    ),
  };
}

export async function restart(io: IncidentIo, service: string | undefined, dry: boolean): Promise<Result> {
  if (!(SERVICES as readonly (string | undefined)[]).includes(service))
    throw new CliError(`restart what? one of ${SERVICES.join(', ')}`, 2);
  const plan = restartPlan(service as Service, {
    active: await readActiveState(io),
    domain: io.target.domain,
    actor: io.actor,
    deployUser: io.target.deployUser,
  });
  if (dry) return dryRun(io, plan);
  const outcome = await runPlan(io, plan);
  return {
    code: outcome.ok ? 0 : 1,
    json: { action: 'restart', service, ...outcome },
    text: outcome.ok
      ? chalk.green(`${service} restarted and healthy in ${secs(outcome.ms)}`)
      : chalk.red(
          `restart ${service} failed at "${outcome.failedStep}": ${outcome.error}; next: incident status, incident logs ${service}`,
        ),
  };
}

interface SwitchResult {
  ok: boolean;
  outcome: Outcome;
  siteMs?: number;
  commandMs?: number;
  state?: SwitchState;
}

/** Switches, then measures from here how long until the site changed. */
async function switchAndMeasure(io: IncidentIo, plan: Plan, action: 'on' | 'off', colour: 'blue' | 'green') {
  const outcome = await runPlan(io, plan);
  if (!outcome.ok) return { ok: false, outcome } satisfies SwitchResult;
  // Measured from the moment the switch command returned (the flag is written; the audit line
  // came after it): siteMs. commandMs adds the command itself (docker exec, the binary's start,
  // the Redis write).
  const want = action === 'on' ? (s: number) => s === 503 : (s: number) => s !== 503 && s !== 0;
  const polled = await io.site.timeUntil('/notes', want, 5_000);
  const siteMs = polled === undefined ? undefined : polled + (outcome.stepTimes.audit ?? 0);
  const commandMs = siteMs === undefined ? undefined : siteMs + (outcome.stepTimes.switch ?? 0);
  const state = await readSwitch(io, colour);
  return { ok: siteMs !== undefined, siteMs, commandMs, state, outcome } satisfies SwitchResult;
}

async function switchPlan(io: IncidentIo, action: 'on' | 'off', reason?: string) {
  const active = await readActiveState(io);
  const plan = killSwitchPlan(action, { active, reason, actor: io.actor, deployUser: io.target.deployUser });
  return { plan, colour: active?.colour ?? 'blue' };
}

export async function killSwitch(
  io: IncidentIo,
  action: string | undefined,
  o: { reason?: string; dryRun?: boolean },
): Promise<Result> {
  if (action === 'status') {
    const active = await readActiveState(io);
    if (!active) throw new CliError('nothing is deployed: no kill switch to read');
    const state = await readSwitch(io, active.colour);
    return {
      code: 0,
      json: { ok: true, ...state },
      text: state.on
        ? chalk.yellow(`ON since ${state.since}: ${state.reason} (${state.source})`)
        : chalk.green('off'),
    };
  }
  if (action !== 'on' && action !== 'off') throw new CliError('kill-switch on|off|status', 2);
  const { plan, colour } = await switchPlan(io, action, o.reason);
  if (o.dryRun) return dryRun(io, plan);
  const r: SwitchResult = await switchAndMeasure(io, plan, action, colour);
  const json = {
    ok: r.ok,
    action,
    siteMs: r.siteMs ?? null,
    commandMs: r.commandMs ?? null,
    state: r.state,
    ms: r.outcome.ms,
  };
  const text = !r.outcome.ok
    ? chalk.red(`kill-switch ${action} failed: ${r.outcome.error}`)
    : r.siteMs === undefined
      ? chalk.red(
          `kill switch is ${r.state?.on ? 'on' : 'off'} but the site did not ${action === 'on' ? 'answer 503' : 'recover'} within 5 s`,
        )
      : chalk.green(
          `kill switch ${action}: the site ${action === 'on' ? 'answers 503' : 'serves again'} ${r.siteMs} ms after the switch (limit ${SWITCH_LIMIT_MS} ms; ${r.commandMs} ms including the command)`,
        );
  return { code: r.ok ? 0 : 1, json, text };
}

async function routeProblems(io: IncidentIo, phase: 'on' | 'off'): Promise<string[]> {
  const results = [];
  for (const r of DRILL_ROUTES) results.push({ ...r, status: await io.site.status(r.method, r.path) });
  return judgeRoutes(results, phase);
}

export async function drill(io: IncidentIo): Promise<Result> {
  const active = await readActiveState(io);
  if (!active) throw new CliError('nothing is deployed: nothing to drill');
  const before = await readSwitch(io, active.colour);
  if (before.on)
    throw new CliError(`the kill switch is already on (${before.reason}): not drilling over a real incident`);
  const routes: string[] = [];
  let onRun: SwitchResult | undefined;
  let offRun: SwitchResult;
  try {
    const { plan, colour } = await switchPlan(io, 'on', `drill by ${io.actor.who}`);
    onRun = await switchAndMeasure(io, plan, 'on', colour);
    routes.push(...(await routeProblems(io, 'on')));
  } finally {
    // Whatever happened above, the drill never leaves the site switched off.
    const { plan, colour } = await switchPlan(io, 'off');
    offRun = await switchAndMeasure(io, plan, 'off', colour);
  }
  routes.push(...(await routeProblems(io, 'off')));
  const problems = judgeDrill(onRun, offRun, routes);
  const ok = problems.length === 0;
  const result = {
    ok,
    onMs: onRun?.siteMs ?? null,
    offMs: offRun?.siteMs ?? null,
    onCommandMs: onRun?.commandMs ?? null,
    offCommandMs: offRun?.commandMs ?? null,
    routes: DRILL_ROUTES.length,
    problems,
    ms: io.ctx.ms(),
  };
  return {
    code: ok ? 0 : 1,
    json: result,
    text: [
      `drill: 503 ${result.onMs} ms after on (${result.onCommandMs} ms with the command), recovered ${result.offMs} ms after off (${result.offCommandMs} ms); ${DRILL_ROUTES.length} routes checked each way`,
      ...problems.map((p) => chalk.red(`  ${p}`)),
      ok ? chalk.green(`drill passed in ${io.ctx.elapsed()}`) : chalk.red('drill FAILED'),
    ].join('\n'),
  };
}

/** console and reset: the Compute API, no SSH. */
async function compute(ctx: Context, target: Target, inv: Invocation): Promise<Result> {
  const v = inv.values;
  const zone = str(v, 'zone') ?? process.env.E2M_GCP_ZONE ?? target.zone;
  if (!zone)
    throw new CliError(
      `${target.inventoryFile} has no e2m_zone for ${target.hostName}: regenerate it (npm run infra:inventory) or pass --zone ZONE`,
      2,
    );
  const ref = { project: target.projectId, zone, instance: str(v, 'instance') ?? target.hostName };
  const endpoint = str(v, 'compute-endpoint');
  const at = `${ref.project}/${ref.zone}/${ref.instance}`;
  if (inv.command === 'reset' && !on(v, 'force') && !on(v, 'dry-run'))
    throw new CliError(`reset power-cycles ${at} without a clean shutdown: pass --force`, 2);
  try {
    if (inv.command === 'console') {
      ctx.progress(`read the serial console of ${at}`);
      const out = await readConsole(ref, endpoint);
      const hints = consoleHints(out.contents);
      const lines = Number(str(v, 'lines') ?? 60);
      return {
        code: 0,
        json: { ok: true, ...ref, status: out.status, hints, tail: tail(out.contents, lines) },
        text: [
          chalk.bold(`${at}: ${out.status}`),
          tail(out.contents, lines),
          ...hints.map((h) => chalk.yellow(`hint: ${h}`)),
          chalk.dim(
            'SSH back when it answers: npm run incident -- status; last resort: incident reset --force',
          ),
        ].join('\n'),
      };
    }
    if (on(v, 'dry-run'))
      return {
        code: 0,
        json: { ok: true, dryRun: true, ...ref },
        text: `would reset ${at} (POST .../zones/${ref.zone}/instances/${ref.instance}/reset) and wait for the operation`,
      };
    ctx.progress(`reset ${at}`);
    const r = await resetVm(ref, endpoint);
    return {
      code: 0,
      json: { ok: true, ...ref, ...r },
      text: chalk.green(`reset done in ${secs(r.ms)} (${r.operation}); then: incident status`),
    };
  } catch (e) {
    throw new CliError(`Compute API: ${(e as Error).message}`);
  }
}

/** The commands that run over SSH, given a connected VM. */
export function dispatch(io: IncidentIo, inv: Invocation): Promise<Result> {
  const [word] = inv.rest;
  const v = inv.values;
  switch (inv.command) {
    case 'status':
      return status(io);
    case 'logs':
      return logs(io, word ?? 'app', {
        since: str(v, 'since'),
        follow: on(v, 'follow'),
        grep: str(v, 'grep'),
        lines: str(v, 'lines'),
      });
    case 'diag':
      return diag(io, { out: str(v, 'out'), upload: on(v, 'upload') });
    case 'restart':
      return restart(io, word, on(v, 'dry-run'));
    case 'kill-switch':
      return killSwitch(io, word, { reason: str(v, 'reason'), dryRun: on(v, 'dry-run') });
    default:
      return drill(io);
  }
}

export async function main(inv: Invocation, ctx: Context, root: string): Promise<Result> {
  const v = inv.values;
  // Before anything is read: the refusal must not depend on prod being reachable.
  if (inv.command === 'drill') {
    if (inv.rest[0] !== 'kill-switch') throw new CliError('drill what? only `drill kill-switch`', 2);
    // A drill is its own rehearsal: a dry run of it would check routes against an unswitched site.
    if (on(v, 'dry-run')) throw new CliError('drill has no --dry-run: run it on the twin or staging', 2);
    const refused = drillAllowed(str(v, 'target') as TargetName, on(v, 'force'));
    if (refused) throw new CliError(refused, 2);
  }
  const target = readTarget(str(v, 'target') ?? 'twin', root);
  if (inv.command === 'console' || inv.command === 'reset') return compute(ctx, target, inv);
  const reach = await reachVm(target, { readyTimeoutMs: 10_000 });
  if (!reach.ok) return unreachable(target, sshFinding(reach));
  const vm = reach.vm;
  try {
    const io: IncidentIo = {
      ctx,
      target,
      vm,
      local: new LocalRunner(),
      actor: await currentActor(root),
      site: siteClient(target),
      reachable: sshFinding(reach),
      stdout: (b) => process.stdout.write(b),
      stderr: (b) => process.stderr.write(b),
      onInterrupt: (stop) =>
        process.on('SIGINT', async () => {
          await stop();
          process.exit(0);
        }),
      upload: async (file, object) => {
        await createStorage(target).bucket(target.bucket).upload(file, { destination: object });
      },
    };
    return await dispatch(io, inv);
  } finally {
    await vm.close();
  }
}

export const incidentCli = { spec: incidentSpec, main, expected: [PlanError, LogArgsError, LeakError] };
