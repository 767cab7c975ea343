// The VM job's command line (scripts/backup-job.mjs, compiled into e2m-backup): its --help, its
// parse, and each command as a function of the parsed line and the job's I/O (job-io.ts on the
// VM, a recording one in tests) that returns the exit code: 0 ok, 1 failed, 2 usage.
// It parses with node:util itself, not lib/cli/args.ts: whatever this file imports is compiled
// into the VM's binary, and this help and these exit codes are the job's own contract with
// backup.mjs and the timer. Only types come from job.ts, so a test needs no GCS or MariaDB.
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { PitrDrill, PitrResult, ShipResult } from './binlog.ts';
import { parseToTime } from './binlog-plan.ts';
import type { CheckIn } from './checkin.ts';
import type { Log, RestoreOptions, RunResult, VerifyReport } from './job.ts';
import { monitors, type TimerSchedule } from './monitor.ts';
import {
  assertDatabaseName,
  assertNamedObject,
  type BackupConfig,
  type BackupEntry,
  dumpScript,
  objectName,
  restoreTarget,
  vmPaths,
} from './plan.ts';
import { type BackupChoice, parseBefore } from './trust.ts';

export const JOB_HELP = `Usage: e2m-backup <command> [options]      (on the VM; from your machine: npm run backup)

Commands:
  run                    dump the database (one consistent snapshot) | zstd, streamed into a
                         create-only resumable upload to the bucket, then its manifest
      --from-defaults-file F dump another server instead (a client option file: host, user,
                             password), e.g. Cloud SQL on the way back from the growth path
      --from-database NAME   with it: the database there (default: BACKUP_DATABASE)
  list                   the backups of this environment, newest first by GCS's creation time;
                         incomplete ones marked, rejected ones (forged or altered) with why
  restore [OBJECT]       restore OBJECT (default: the newest trusted one) into a scratch
                         database (default e2m_scratch_restore)
      --to-database NAME     restore into NAME; anything but e2m_scratch_* needs --force
                             and an explicit OBJECT or --before
      --to-defaults-file F   another server (a MariaDB client option file: host, user, password)
      --force                allow replacing a real database (the object is checked first)
      --before TIME          the newest trusted backup GCS created at or before TIME (ISO, with
                             its zone): names the backup as OBJECT does, e.g. the last before a
                             compromise
      --identity FILE        the age private key, for a backup encrypted to BACKUP_AGE_RECIPIENTS
      --to-time TIME         point in time: the newest backup before TIME, then the binary logs
                             replayed up to TIME ("YYYY-MM-DD HH:MM:SS" UTC, or ISO with its
                             zone; one-second resolution; or latest: all that was shipped);
                             scratch unless --force
  binlogs                ship the binary logs (e2m-binlog.timer, every minute): FLUSH BINARY
                         LOGS if anything was written, upload each closed log create-only,
                         then PURGE the uploaded ones (never one that is not uploaded)
  verify [OBJECT]        the drill: restore into e2m_scratch_verify, compare row counts and
                         CHECKSUM TABLE of every table with production; exit 1 on a mismatch
                         (--identity FILE for an encrypted backup)

Options: --config FILE (default ${vmPaths.configFile}), --json, --dry-run, -h/--help`;

const OPTIONS = {
  config: { type: 'string', default: vmPaths.configFile },
  json: { type: 'boolean', default: false },
  'dry-run': { type: 'boolean', default: false },
  'to-database': { type: 'string' },
  'to-defaults-file': { type: 'string' },
  'from-defaults-file': { type: 'string' },
  identity: { type: 'string' },
  before: { type: 'string' },
  'to-time': { type: 'string' },
  'from-database': { type: 'string' },
  force: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

/** The parsed command line: the command, its OBJECT, and the flags. */
export interface JobLine {
  command: string;
  object: string | undefined;
  opts: ReturnType<typeof parseJobOptions>['values'];
}

const parseJobOptions = (args: string[]) =>
  parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });

/**
 * The help (exit 0 with --help, 2 without a command) or the line to run. An unknown or
 * malformed option throws node's parse error, which runJob reports as a usage error.
 */
export function parseJobLine(args: string[]): { help: 0 | 2 } | JobLine {
  const { values: opts, positionals } = parseJobOptions(args);
  const [command, object] = positionals;
  if (opts.help || !command) return { help: opts.help ? 0 : 2 };
  return { command, object, opts };
}

/** What the commands reach: the process, the clock, and the job's I/O (job.ts). */
export interface JobIo {
  stdout(line: string): void;
  stderr(line: string): void;
  now(): Date;
  /** Reads and checks the config file; also leaves the caller's working directory. */
  loadConfig(file: string): BackupConfig;
  writeFile(path: string, text: string): void;
  acquireLock(file: string): () => void;
  onSigterm(handler: () => void): void;
  exit(code: number): never;
  runBackup(cfg: BackupConfig, now: Date, log: Log): Promise<RunResult>;
  memory(): Record<string, number | undefined>;
  /** Sentry cron check-ins (checkin.ts): started before the work, finished after it. */
  startCheckIn(
    cfg: BackupConfig,
    log: Log,
    monitor: { slug: string; schedule: TimerSchedule },
  ): Promise<CheckIn>;
  shipBinlogs(cfg: BackupConfig, log: Log): Promise<ShipResult>;
  restoreToTime(
    cfg: BackupConfig,
    toTime: Date | 'latest',
    opts: RestoreOptions,
    log: Log,
  ): Promise<PitrResult>;
  /** The point-in-time drill (binlog.ts): two writes, shipped, cut between them from the bucket. */
  drillPointInTime(cfg: BackupConfig, log: Log): Promise<PitrDrill>;
  /** The oldest and newest moments a point-in-time restore can reach, if any. */
  pitrWindow(cfg: BackupConfig, entries: BackupEntry[]): Promise<{ from: Date; to: Date } | undefined>;
  listBackups(cfg: BackupConfig): Promise<BackupEntry[]>;
  findBackup(cfg: BackupConfig, choice: BackupChoice): Promise<BackupEntry>;
  restoreBackup(
    cfg: BackupConfig,
    entry: BackupEntry,
    opts: RestoreOptions,
    log: Log,
  ): Promise<{ database: string; durationMs: number }>;
  verifyBackup(cfg: BackupConfig, entry: BackupEntry, log: Log, identityFile?: string): Promise<VerifyReport>;
}

interface Say {
  /** One JSON line per event: the journal keeps them (journalctl -u e2m-backup -o cat). */
  log: Log;
  /** The command's answer: the --json value, or the text. */
  out(value: unknown, text: string): void;
}

const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
const errorOf = (e: unknown) => (e as Error).message;

/** `list`'s answer: every entry, or that there are none. */
export function listAnswer(cfg: BackupConfig, entries: BackupEntry[]): { value: unknown; text: string } {
  const value = entries.map(({ manifest, ...e }) => ({
    ...e,
    at: e.at.toISOString(),
    namedAt: e.namedAt.toISOString(),
    sha256: manifest?.sha256,
  }));
  if (entries.length === 0) return { value, text: `no backups under gs://${cfg.bucket}/${cfg.env}/` };
  const rows = entries.map((e) => {
    const row = `${e.rejected ? 'x' : e.complete ? ' ' : '!'} ${e.at.toISOString()}  ${mb(e.bytes).padStart(9)}  ${e.object}`;
    return e.rejected ? `${row}\n    rejected: it ${e.rejected}` : row;
  });
  const marks = [
    ...(entries.some((e) => !e.complete && !e.rejected) ? ['! = incomplete: no manifest'] : []),
    ...(entries.some((e) => e.rejected) ? ['x = rejected: never restored, counted or pruned'] : []),
  ];
  const note = marks.length ? `\n(${marks.join('; ')}; times are GCS's)` : '';
  return { value, text: rows.join('\n') + note };
}

/** `verify`'s report as text: the verdict, a line per table, the error. */
export function verifyText(r: VerifyReport & { pointInTime?: PitrDrill }): string {
  const lines = r.tables.map(
    (t) =>
      `${t.ok ? 'ok  ' : 'FAIL'} ${t.table}: rows ${t.restored?.rows ?? '-'}/${t.production?.rows ?? '-'}, checksum ${t.restored?.checksum ?? '-'}/${t.production?.checksum ?? '-'}`,
  );
  return [
    `verify ${r.object}: ${r.ok ? 'ok' : 'FAILED'} (restore ${secs(r.restoreMs)})`,
    ...lines,
    r.error ?? '',
    r.pointInTime
      ? `${r.pointInTime.ok ? 'ok  ' : 'FAIL'} point in time: cut at ${r.pointInTime.toTime} through ${r.pointInTime.binlogs.length} shipped binlog(s)${r.pointInTime.error ? `: ${r.pointInTime.error}` : ''}`
      : '',
  ]
    .filter(Boolean)
    .join('\n');
}

/** The cron check-in's start, and its end as a function; Sentry's troubles are logged, never fatal. */
async function checkIn(
  io: JobIo,
  cfg: BackupConfig,
  say: Say,
  monitor: { slug: string; schedule: TimerSchedule },
): Promise<(error?: Error) => Promise<void>> {
  const failed = (err: unknown) => say.log('sentry-failed', { error: errorOf(err) });
  const started = await io.startCheckIn(cfg, say.log, monitor).catch((err): CheckIn => {
    failed(err);
    return { finish: async () => {} };
  });
  return (error) => started.finish(error).catch(failed);
}

async function run(line: JobLine, base: BackupConfig, io: JobIo, say: Say): Promise<number> {
  const { opts } = line;
  const now = io.now();
  let cfg = base;
  if (opts['from-defaults-file']) cfg = { ...cfg, defaultsFile: resolve(opts['from-defaults-file']) };
  if (opts['from-database']) {
    assertDatabaseName(opts['from-database'], '--from-database');
    cfg = { ...cfg, database: opts['from-database'] };
  }
  if (opts['dry-run']) {
    const object = objectName(cfg.env, now, '<release>');
    say.out(
      { object, script: dumpScript(cfg) },
      `would upload gs://${cfg.bucket}/${object} from:\n  ${dumpScript(cfg)}`,
    );
    return 0;
  }
  const writeLast = (value: Record<string, unknown>) =>
    io.writeFile(
      join(cfg.stateDir, 'last.json'),
      `${JSON.stringify({ ...value, finishedAt: io.now().toISOString() })}\n`,
    );
  const release = io.acquireLock(join(cfg.stateDir, 'lock'));
  // systemd stop or a timeout sends SIGTERM: record the failure, leave no lock, exit.
  io.onSigterm(() => {
    writeLast({ ok: false, error: 'killed by SIGTERM' });
    say.log('failed', { error: 'killed by SIGTERM' });
    release();
    io.exit(143);
  });
  const report = await checkIn(io, cfg, say, monitors(cfg).backup);
  try {
    const r = await io.runBackup(cfg, now, say.log);
    writeLast({ ok: true, object: r.object, bytes: r.bytes, durationMs: r.durationMs });
    say.log('done', { ...r });
    await report();
    return 0;
  } catch (e) {
    writeLast({ ok: false, error: errorOf(e) });
    say.log('failed', { error: errorOf(e), ...io.memory() });
    await report(e as Error);
    return 1;
  } finally {
    release();
  }
}

async function list(_line: JobLine, cfg: BackupConfig, io: JobIo, say: Say): Promise<number> {
  const entries = await io.listBackups(cfg);
  const { value, text } = listAnswer(cfg, entries);
  const window = await io.pitrWindow(cfg, entries);
  say.out(
    value,
    window
      ? `${text}\npoint in time (restore --to-time): ${window.from.toISOString()} to ${window.to.toISOString()}`
      : text,
  );
  return 0;
}

async function restore({ opts, object }: JobLine, cfg: BackupConfig, io: JobIo, say: Say): Promise<number> {
  const target = {
    toDatabase: opts['to-database'],
    force: opts.force,
    toDefaultsFile: opts['to-defaults-file'],
    identityFile: opts.identity && resolve(opts.identity),
  };
  if (opts['to-time'] !== undefined) return pointInTime({ opts, object }, target, cfg, io, say);
  const before = parseBefore(opts.before);
  // Before the bucket is read: over real data the operator names the backup or a time (no default).
  assertNamedObject(restoreTarget(cfg, target), object ?? before?.toISOString());
  const entry = await io.findBackup(cfg, { object, before });
  if (opts['dry-run']) {
    say.out(
      { object: entry.object, ...target },
      `would restore ${entry.object} into ${target.toDatabase ?? 'e2m_scratch_restore'}`,
    );
    return 0;
  }
  const r = await io.restoreBackup(cfg, entry, target, say.log);
  say.out(
    { object: entry.object, ...r },
    `restored ${entry.object} into ${r.database} in ${secs(r.durationMs)}`,
  );
  return 0;
}

/** `restore --to-time`: a base dump plus the binlogs up to that second (binlog.ts). */
async function pointInTime(
  { opts, object }: Pick<JobLine, 'opts' | 'object'>,
  target: RestoreOptions,
  cfg: BackupConfig,
  io: JobIo,
  say: Say,
): Promise<number> {
  const toTime = parseToTime(String(opts['to-time']));
  if (object !== undefined || opts.before !== undefined)
    throw new Error('--to-time chooses its own base backup: drop OBJECT and --before');
  if (!cfg.binlog)
    throw new Error('binlog shipping is off in this config (BACKUP_BINLOG): no point in time to restore to');
  if (target.toDefaultsFile)
    throw new Error('--to-time replays binlogs into this server only: drop --to-defaults-file');
  const { database: into, scratch } = restoreTarget(cfg, target);
  // As with OBJECT: over real data the operator names the time. `latest` trusts whatever was
  // uploaded last, which a compromised VM controls (docs/backup.md, the threat model).
  if (toTime === 'latest' && !scratch)
    throw new Error(
      `--to-time latest is for scratch restores: over ${into}, name the time (e.g. when the VM was lost), so a dump or log uploaded after it cannot be chosen`,
    );
  if (opts['dry-run']) {
    say.out(
      { toTime: toTime === 'latest' ? toTime : toTime.toISOString(), database: into },
      `would restore to ${toTime === 'latest' ? 'the latest shipped moment' : toTime.toISOString()} into ${into}`,
    );
    return 0;
  }
  const r = await io.restoreToTime(cfg, toTime, target, say.log);
  say.out(
    r,
    `restored ${r.base} into ${r.database} and replayed ${r.binlogs.length} binlog(s) to ${r.toTime} in ${secs(r.durationMs)}`,
  );
  return 0;
}

/** The shipper's lock, waited for (the timer holds it for a fraction of a second a minute). */
async function withBinlogLock<T>(cfg: BackupConfig, io: JobIo, fn: () => Promise<T>): Promise<T> {
  const file = join(cfg.stateDir, 'binlog.lock');
  let release: (() => void) | undefined;
  for (let i = 0; !release; i++) {
    try {
      release = io.acquireLock(file);
    } catch (e) {
      if (i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    return await fn();
  } finally {
    release();
  }
}

async function binlogs(_line: JobLine, cfg: BackupConfig, io: JobIo, say: Say): Promise<number> {
  if (!cfg.binlog) throw new Error('binlog shipping is off in this config (BACKUP_BINLOG=off)');
  const release = io.acquireLock(join(cfg.stateDir, 'binlog.lock'));
  const checkIn = await io.startCheckIn(cfg, say.log, monitors(cfg).binlog).catch((err): CheckIn => {
    say.log('sentry-failed', { error: errorOf(err) });
    return { finish: async () => {} };
  });
  try {
    const r = await io.shipBinlogs(cfg, say.log);
    say.log('shipped', { ...r });
    await checkIn.finish().catch((err) => say.log('sentry-failed', { error: errorOf(err) }));
    return 0;
  } catch (e) {
    say.log('failed', { error: errorOf(e) });
    await checkIn.finish(e as Error).catch((err) => say.log('sentry-failed', { error: errorOf(err) }));
    return 1;
  } finally {
    release();
  }
}

async function verify({ opts, object }: JobLine, cfg: BackupConfig, io: JobIo, say: Say): Promise<number> {
  const entry = await io.findBackup(cfg, { object, before: parseBefore(opts.before) });
  if (opts['dry-run']) {
    say.out(
      { object: entry.object },
      `would restore ${entry.object} into e2m_scratch_verify and compare with ${cfg.database}`,
    );
    return 0;
  }
  const dump = await io.verifyBackup(cfg, entry, say.log, opts.identity && resolve(opts.identity));
  // With binlog shipping on, the point-in-time drill too: the bucket's logs cut between two writes.
  const pointInTime = cfg.binlog
    ? await withBinlogLock(cfg, io, () => io.drillPointInTime(cfg, say.log))
    : undefined;
  const r = { ...dump, ok: dump.ok && (pointInTime?.ok ?? true), ...(pointInTime ? { pointInTime } : {}) };
  say.out(r, verifyText(r));
  return r.ok ? 0 : 1;
}

const COMMANDS = { run, list, restore, binlogs, verify };

/** The whole job: parse, load the config, run one command; returns the exit code. */
export async function runJob(args: string[], io: JobIo): Promise<number> {
  let line: ReturnType<typeof parseJobLine>;
  try {
    line = parseJobLine(args);
  } catch (e) {
    io.stderr(`e2m-backup: ${errorOf(e)} (see --help)`);
    return 2;
  }
  if ('help' in line) {
    io.stdout(JOB_HELP);
    return line.help;
  }
  const say: Say = {
    log: (event, fields = {}) =>
      io.stdout(JSON.stringify({ job: 'e2m-backup', event, time: io.now().toISOString(), ...fields })),
    out: (value, text) => io.stdout(line.opts.json ? JSON.stringify(value) : text),
  };
  let cfg: BackupConfig;
  try {
    cfg = io.loadConfig(resolve(line.opts.config));
  } catch (e) {
    io.stderr(`e2m-backup: ${errorOf(e)}`);
    return 2;
  }
  if (!Object.hasOwn(COMMANDS, line.command)) {
    io.stderr(`e2m-backup: unknown command ${line.command}\n\n${JOB_HELP}`);
    return 2;
  }
  try {
    return await COMMANDS[line.command as keyof typeof COMMANDS](line, cfg, io, say);
  } catch (e) {
    io.stderr(`e2m-backup ${line.command}: ${errorOf(e)}`);
    return 1;
  }
}
