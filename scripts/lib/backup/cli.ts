// `npm run backup`'s commands, each a function returning a Result. `run`, `list`, `restore` and
// `verify` run the VM's job (scripts/backup-job.mjs, compiled by setup) over SSH; `prune`
// deletes from this machine, because the VM's service account may not delete (terraform/iam.tf).
import { readFileSync } from 'node:fs';
import type { Bucket } from '@google-cloud/storage';
import { chalk } from 'zx';
import { count, type Invocation, type Values } from '../cli/args.ts';
import { CliError, type Context, type Result } from '../cli/context.ts';
import { connectVm } from '../cli/ssh.ts';
import { readTarget } from '../cli/target.ts';
import { parseActive } from '../deploy/state.ts';
import { createStorage } from '../gcs.ts';
import { type Runner, toShell } from '../runner.ts';
import type { Target } from '../target.ts';
import { buildJob } from './build.ts';
import {
  identityPath,
  installIdentity,
  type JobOptions,
  jobArgv,
  jobDryRun,
  killSwitchCommand,
  readLastRun,
  readServing,
  removeIdentity,
  runsAsRoot,
  startUnit,
} from './commands.ts';
import { replacesProduction, writesRefusal } from './guard.ts';
import { type PruneReport, pruneBackups } from './job.ts';
import {
  type BackupConfig,
  type BackupEntry,
  DEFAULT_RETENTION,
  type RetentionPolicy,
  vmPaths,
} from './plan.ts';
import { backupSpec } from './spec.ts';

/** What the SSH commands reach besides their arguments. */
export interface BackupIo {
  ctx: Context;
  target: Target;
  vm: Runner;
  /** Reads the --identity key on this machine. */
  readFile(path: string): string;
  /** Names the key's copy on the VM. */
  pid: number;
}

const str = (v: Values, key: string) => v[key] as string | undefined;
const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

export async function build(ctx: Context, root: string, builder = buildJob): Promise<Result> {
  const b = await builder(root);
  return {
    code: 0,
    json: { ok: true, ...b },
    text: `${b.built ? 'built' : 'up to date'}: ${b.path} (${ctx.elapsed()})`,
  };
}

export async function prune(
  ctx: Context,
  target: Target,
  o: {
    daily?: string;
    weekly?: string;
    keepNewest?: string;
    minAgeDays?: string;
    now?: string;
    dryRun: boolean;
  },
  bucket: Bucket,
): Promise<Result> {
  const policy: RetentionPolicy = {
    daily: count(o.daily, 'daily', DEFAULT_RETENTION.daily),
    weekly: count(o.weekly, 'weekly', DEFAULT_RETENTION.weekly),
    newest: count(o.keepNewest, 'keep-newest', DEFAULT_RETENTION.newest),
    minAgeDays: count(o.minAgeDays, 'min-age-days', DEFAULT_RETENTION.minAgeDays, 3650),
  };
  if (policy.newest < 1) throw new CliError('--keep-newest must be at least 1', 2);
  const now = o.now ? new Date(o.now) : new Date();
  if (Number.isNaN(now.getTime())) throw new CliError(`--now must be an ISO time (got "${o.now}")`, 2);
  ctx.progress(
    `listing gs://${target.bucket}/${target.env}/ (keep the newest ${policy.newest}, ${policy.daily} daily, ${policy.weekly} weekly; nothing younger than ${policy.minAgeDays} days or the bucket's retention)`,
  );
  let r: PruneReport;
  try {
    // With the bucket given, pruning reads only the config's env.
    const cfg = { env: target.env, bucket: target.bucket } as BackupConfig;
    r = await pruneBackups(cfg, bucket, now, policy, o.dryRun);
  } catch (e) {
    throw new CliError(`prune gs://${target.bucket}: ${(e as Error).message}`);
  }
  return {
    code: 0,
    json: { ok: true, dryRun: o.dryRun, policy: { ...policy, minAgeDays: r.minAgeDays }, ...r },
    text: [
      ...r.deleted.map((d) => `${o.dryRun ? 'would delete' : 'deleted'} ${d}`),
      ...r.rejected.map((x) => chalk.red(`rejected (not deleted, not counted) ${x.object}: it ${x.reason}`)),
      ...(r.binlogsDeleted.length
        ? [
            `${o.dryRun ? 'would delete' : 'deleted'} ${r.binlogsDeleted.length} binlog(s) older than the oldest kept dump`,
          ]
        : []),
      `${r.kept.length} kept, ${r.deleted.length} ${o.dryRun ? 'to delete' : 'deleted'}, ${r.rejected.length} rejected (${ctx.elapsed()})`,
    ].join('\n'),
  };
}

/** `run`: start the nightly unit and wait for it (or, dry, ask the job what it would do). */
export async function runUnit(io: BackupIo, dryRun: boolean): Promise<Result> {
  const { ctx, vm, target } = io;
  const start = startUnit();
  if (dryRun) {
    const job = JSON.parse((await vm.run(jobDryRun())).stdout);
    return {
      code: 0,
      json: { ok: true, dryRun: true, command: toShell(start), job },
      text: `would run on ${vm.where}: ${toShell(start)}\n${job.script}`,
    };
  }
  ctx.progress(`${vm.where}: ${toShell(start)} (waits for the dump and upload)`);
  const r = await vm.run(start, { check: false });
  const last = JSON.parse((await vm.run(readLastRun(), { check: false })).stdout || '{}');
  const ok = r.code === 0 && last.ok === true;
  return {
    code: ok ? 0 : 1,
    json: { ok, ...last },
    text: ok
      ? `backup ok: gs://${target.bucket}/${last.object} (${mb(last.bytes)} MB in ${secs(last.durationMs)}, total ${ctx.elapsed()})`
      : chalk.red(
          `backup FAILED: ${last.error ?? r.stderr.trim()}\n(journalctl -u ${vmPaths.unit} on the VM has every step)`,
        ),
  };
}

interface VerifyValue {
  object: string;
  ok: boolean;
  restoreMs: number;
  error?: string;
  pointInTime?: { ok: boolean; toTime: string; binlogs: string[]; error?: string };
  tables: { ok: boolean; table: string; restored?: { rows: number }; production?: { rows: number } }[];
}

/** The job's answer (its last JSON line) as text. */
export function renderJobAnswer(command: string, value: unknown, target: Target): string {
  if (command === 'list') {
    const entries = value as (Omit<BackupEntry, 'at'> & { at: string })[];
    if (entries.length === 0) return `no backups in gs://${target.bucket}/${target.env}/`;
    const rows = entries.map((e) =>
      e.rejected
        ? chalk.red(`x ${e.at}  ${mb(e.bytes).padStart(8)} MB  ${e.object}\n    rejected: it ${e.rejected}`)
        : `${e.complete ? ' ' : '!'} ${e.at}  ${mb(e.bytes).padStart(8)} MB  ${e.object}`,
    );
    const marks = [
      ...(entries.some((e) => !e.complete && !e.rejected) ? ['! = incomplete: no manifest'] : []),
      ...(entries.some((e) => e.rejected) ? ['x = rejected: never restored, counted or pruned'] : []),
    ];
    return [...rows, ...(marks.length ? [`(${marks.join('; ')}; times are GCS's)`] : [])].join('\n');
  }
  if (command === 'restore' && Array.isArray((value as { binlogs?: unknown }).binlogs)) {
    const p = value as {
      base: string;
      database: string;
      binlogs: string[];
      toTime: string;
      durationMs: number;
    };
    return `restored ${p.base} into ${p.database} and replayed ${p.binlogs.length} binlog(s) up to ${p.toTime} in ${secs(p.durationMs)}`;
  }
  if (command === 'verify') {
    const v = value as VerifyValue;
    return [
      `verify ${v.object}: ${v.ok ? chalk.green('ok') : chalk.red('FAILED')} (restore ${secs(v.restoreMs)})`,
      ...v.tables.map(
        (t) =>
          `  ${t.ok ? 'ok  ' : chalk.red('FAIL')} ${t.table}: rows ${t.restored?.rows ?? '-'} / ${t.production?.rows ?? '-'}`,
      ),
      ...(v.error ? [chalk.red(`  ${v.error}`)] : []),
      ...(v.pointInTime
        ? [
            `  ${v.pointInTime.ok ? 'ok  ' : chalk.red('FAIL')} point in time: cut at ${v.pointInTime.toTime} through ${v.pointInTime.binlogs.length} shipped binlog(s)${v.pointInTime.error ? `: ${v.pointInTime.error}` : ''}`,
          ]
        : []),
    ].join('\n');
  }
  return JSON.stringify(value);
}

/** `list`, `restore`, `verify` and `run --from-defaults-file`: the job itself, over SSH. */
export async function job(io: BackupIo, command: string, o: JobOptions): Promise<Result> {
  const { ctx, vm, target } = io;
  ctx.progress(`${vm.where}: ${command}${o.object ? ` ${o.object}` : ''}`);
  const onVm = identityPath(io.pid);
  if (o.identity) {
    let key: string;
    try {
      key = io.readFile(o.identity);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      throw new CliError(`--identity ${o.identity}: ${err.code ?? err.message}`, 2);
    }
    const owner = runsAsRoot(command, o) ? 'root' : vmPaths.user;
    await vm.run(installIdentity(onVm, owner), { input: key });
  }
  const r = await vm
    .run(jobArgv(command, { ...o, identity: o.identity ? onVm : undefined }), { check: false })
    .finally(() => (o.identity ? vm.run(removeIdentity(onVm), { check: false }) : undefined));
  const lines = r.stdout.trim().split('\n').filter(Boolean);
  const answer = lines.length ? lines[lines.length - 1] : '';
  let value: unknown;
  try {
    value = JSON.parse(answer);
  } catch {
    value = undefined;
  }
  const body =
    r.code !== 0 && !value
      ? chalk.red(r.stderr.trim() || `exit ${r.code}`)
      : renderJobAnswer(command, value, target);
  return {
    code: r.code === 0 ? 0 : 1,
    json: answer || JSON.stringify({ ok: false, error: r.stderr.trim() }),
    text: `${body}\n${chalk.dim(`(${ctx.elapsed()})`)}`,
  };
}

/**
 * `restore --force` into a real database on the VM: refused while the app takes writes (unless
 * --online), then a safety dump through the nightly unit (so the restore can be undone), then
 * the restore. A failed dump restores nothing.
 */
export async function restoreOverProduction(io: BackupIo, o: JobOptions, online: boolean): Promise<Result> {
  const { ctx, vm } = io;
  if (o.dryRun) {
    const job = await vm.run(jobArgv('restore', o), { check: false });
    if (job.code !== 0)
      return { code: 1, json: { ok: false, error: job.stderr.trim() }, text: chalk.red(job.stderr.trim()) };
    const steps = [
      ...(online ? [] : ['check that the kill switch is on']),
      `take a safety dump: ${toShell(startUnit())}`,
      job.stdout.trim().split('\n').pop() ?? '',
    ];
    return { code: 0, json: { ok: true, dryRun: true, steps }, text: steps.join('\n') };
  }
  if (!online) {
    ctx.progress(`${vm.where}: is the app taking writes?`);
    const active = parseActive((await vm.run(readServing())).stdout);
    const status = active
      ? await vm.run(killSwitchCommand(active.colour, 'status'), { check: false })
      : undefined;
    const refusal = writesRefusal(status, online);
    if (refusal)
      throw new CliError(
        `refusing to restore over ${o.toDatabase ?? 'production'} on ${vm.where}: ${refusal}`,
      );
  }
  ctx.progress(`${vm.where}: a safety dump first (${toShell(startUnit())})`);
  const safety = await runUnit(io, false);
  const dump = safety.json as { ok?: boolean; object?: string; error?: string };
  if (safety.code !== 0)
    throw new CliError(`the safety dump failed, so nothing was restored: ${dump.error ?? safety.text}`);
  const r = await job(io, 'restore', o);
  const answer = typeof r.json === 'string' ? JSON.parse(r.json) : r.json;
  return {
    code: r.code,
    json: { ...answer, safetyDump: dump.object },
    text: `${r.text}\nsafety dump taken before it: ${dump.object} (restore it to undo)`,
  };
}

const jobOptions = (inv: Invocation): JobOptions => ({
  object: inv.rest[0],
  before: str(inv.values, 'before'),
  toTime: str(inv.values, 'to-time'),
  identity: str(inv.values, 'identity'),
  toDatabase: str(inv.values, 'to-database'),
  toDefaultsFile: str(inv.values, 'to-defaults-file'),
  fromDefaultsFile: str(inv.values, 'from-defaults-file'),
  fromDatabase: str(inv.values, 'from-database'),
  force: inv.values.force === true,
  dryRun: inv.values['dry-run'] === true,
});

/** The commands that run over SSH, given a connected VM. */
export function dispatch(io: BackupIo, inv: Invocation): Promise<Result> {
  const o = jobOptions(inv);
  // Dumping another server is a one-off (the way back from Cloud SQL): the job runs directly, as
  // its user, instead of through the nightly unit, whose command line is fixed.
  if (inv.command === 'run' && !o.fromDefaultsFile) return runUnit(io, o.dryRun === true);
  if (inv.command === 'restore' && replacesProduction(o))
    return restoreOverProduction(io, o, inv.values.online === true);
  return job(io, inv.command, o);
}

export async function main(inv: Invocation, ctx: Context, root: string): Promise<Result> {
  const v = inv.values;
  if (inv.command === 'build') return build(ctx, root);
  const target = readTarget(str(v, 'target') ?? 'twin', root);
  if (inv.command === 'prune') {
    const storage = createStorage({ projectId: target.projectId, gcsEndpoint: target.gcsEndpoint });
    const o = {
      daily: str(v, 'daily'),
      weekly: str(v, 'weekly'),
      keepNewest: str(v, 'keep-newest'),
      minAgeDays: str(v, 'min-age-days'),
      now: str(v, 'now'),
      dryRun: v['dry-run'] === true,
    };
    return prune(ctx, target, o, storage.bucket(target.bucket));
  }
  const vm = await connectVm(target, target.inventoryFile);
  try {
    const io = {
      ctx,
      target,
      vm,
      readFile: (p: string) => readFileSync(p, 'utf8'),
      pid: process.pid,
    };
    return await dispatch(io, inv);
  } finally {
    await vm.close();
  }
}

export const backupCli = { spec: backupSpec, main };
