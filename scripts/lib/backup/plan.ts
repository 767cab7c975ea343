// Pure: the backup job's configuration, object names, the dump and restore pipelines as shell
// text, the manifest, and which backups retention keeps. No I/O, no clock, no env: callers pass
// the time and the file contents in. The job (job.ts) and the operator's CLI (backup.mjs) share it.
import { toShell } from '../shell.ts';
import type { TimerSchedule } from './monitor.ts';

/** Where the job lives on the VM (ansible/roles/backup creates these). */
export const vmPaths = {
  binary: '/usr/local/lib/e2-micro/e2m-backup',
  /** root:e2m-backup 0750 (not /etc/e2-micro, which is the deploy group's). */
  configFile: '/etc/e2m-backup/backup.env',
  stateDir: '/var/lib/e2m-backup',
  /** In stateDir: the last run's result (incident status reads it) and the run lock. */
  lastRunFile: '/var/lib/e2m-backup/last.json',
  unit: 'e2m-backup.service',
  timer: 'e2m-backup.timer',
  user: 'e2m-backup',
} as const;

/** Scratch databases the job's own DB user may create and drop (ansible/roles/backup grants). */
export const SCRATCH_PREFIX = 'e2m_scratch_';
export const DEFAULT_SCRATCH = `${SCRATCH_PREFIX}restore`;
export const VERIFY_SCRATCH = `${SCRATCH_PREFIX}verify`;

export class BackupConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupConfigError';
  }
}

export interface BackupConfig {
  env: string;
  bucket: string;
  projectId: string;
  /** Empty for the real GCS (credentials from the VM's service account). */
  gcsEndpoint: string;
  /** With an endpoint, take credentials anyway, from the metadata server as on GCP (the twin). */
  gcsAuth: boolean;
  database: string;
  /** A MariaDB client option file with the backup user's credentials (never argv or env). */
  defaultsFile: string;
  /** The restore user's option file (root's only): it may write the production database and
   * nothing else, so a restore over production never runs a dump's SQL as MariaDB's root. */
  restoreDefaultsFile: string;
  /** A copy of the deploy's state.json (the unit copies it as root: /srv/app is the deploy
   * user's); the serving release goes into the object name. */
  releaseFile: string;
  zstdLevel: number;
  sentryDsn: string;
  /** Binary logs are on and shipped (point-in-time recovery): dumps record their position. */
  binlog: boolean;
  /** The shipper's timer (e2m-binlog.timer) OnCalendar, for its cron monitor. */
  binlogOnCalendar: string;
  /** The systemd timer's schedule, for the Sentry cron monitor (monitor.ts). */
  schedule: TimerSchedule;
  /** Progress lines every this many compressed bytes. */
  progressBytes: number;
  /** The lock and the last run's result (last.json) live here. */
  stateDir: string;
  /** age public keys: when set, dumps are encrypted to them (the private key stays off the VM). */
  ageRecipients: string[];
}

const KEYS: Record<string, keyof BackupConfig> = {
  BACKUP_ENV: 'env',
  BACKUP_BUCKET: 'bucket',
  BACKUP_PROJECT_ID: 'projectId',
  BACKUP_GCS_ENDPOINT: 'gcsEndpoint',
  BACKUP_GCS_AUTH: 'gcsAuth',
  BACKUP_DATABASE: 'database',
  BACKUP_DEFAULTS_FILE: 'defaultsFile',
  BACKUP_RESTORE_DEFAULTS_FILE: 'restoreDefaultsFile',
  BACKUP_RELEASE_FILE: 'releaseFile',
  BACKUP_ZSTD_LEVEL: 'zstdLevel',
  SENTRY_DSN: 'sentryDsn',
  BACKUP_BINLOG: 'binlog',
  BACKUP_BINLOG_ON_CALENDAR: 'binlogOnCalendar',
  BACKUP_ON_CALENDAR: 'schedule',
  BACKUP_RANDOMIZED_DELAY: 'schedule',
  BACKUP_TIMEOUT: 'schedule',
  BACKUP_PROGRESS_BYTES: 'progressBytes',
  BACKUP_STATE_DIR: 'stateDir',
  BACKUP_AGE_RECIPIENTS: 'ageRecipients',
};
const REQUIRED = ['BACKUP_ENV', 'BACKUP_BUCKET', 'BACKUP_DATABASE', 'BACKUP_DEFAULTS_FILE'];
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

/** Parses the job's env file (KEY=value lines); every error names the file and the key. */
export function parseConfig(text: string, file: string): BackupConfig {
  const raw: Record<string, string> = {};
  for (const [i, line] of text.split('\n').entries()) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(t);
    if (!m) throw new BackupConfigError(`${file}:${i + 1}: not KEY=value: ${t.slice(0, 40)}`);
    if (!(m[1] in KEYS)) throw new BackupConfigError(`${file}:${i + 1}: unknown key ${m[1]}`);
    raw[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  for (const key of REQUIRED)
    if (!raw[key]) throw new BackupConfigError(`${file}: ${key} is required and missing or empty`);
  const int = (key: string, def: number, min: number, max: number) => {
    if (raw[key] === undefined || raw[key] === '') return def;
    const n = Number(raw[key]);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new BackupConfigError(`${file}: ${key} must be an integer ${min}..${max} (got "${raw[key]}")`);
    return n;
  };
  const onOff = (key: string) => {
    const v = raw[key] ?? 'off';
    if (v !== 'on' && v !== 'off' && v !== '')
      throw new BackupConfigError(`${file}: ${key} must be on or off (got "${v}")`);
    return v === 'on';
  };
  if (!NAME.test(raw.BACKUP_ENV))
    throw new BackupConfigError(
      `${file}: BACKUP_ENV must be lowercase a-z, 0-9, - or _ (got "${raw.BACKUP_ENV}")`,
    );
  if (!/^[A-Za-z0-9_]{1,64}$/.test(raw.BACKUP_DATABASE))
    throw new BackupConfigError(
      `${file}: BACKUP_DATABASE must be a plain database name (got "${raw.BACKUP_DATABASE}")`,
    );
  const recipients = (raw.BACKUP_AGE_RECIPIENTS ?? '').split(/[\s,]+/).filter(Boolean);
  for (const r of recipients)
    if (!/^age1[02-9ac-hj-np-z]{58}$/.test(r))
      throw new BackupConfigError(
        `${file}: BACKUP_AGE_RECIPIENTS: "${r.slice(0, 12)}…" is not an age public key (age1…)`,
      );
  const endpoint = raw.BACKUP_GCS_ENDPOINT ?? '';
  if (endpoint !== '' && !/^https?:\/\/[^\s/]+$/.test(endpoint))
    throw new BackupConfigError(
      `${file}: BACKUP_GCS_ENDPOINT must be http(s)://host[:port] or empty (got "${endpoint}")`,
    );
  return {
    env: raw.BACKUP_ENV,
    bucket: raw.BACKUP_BUCKET,
    projectId: raw.BACKUP_PROJECT_ID ?? '',
    gcsEndpoint: endpoint,
    gcsAuth: onOff('BACKUP_GCS_AUTH'),
    database: raw.BACKUP_DATABASE,
    defaultsFile: raw.BACKUP_DEFAULTS_FILE,
    restoreDefaultsFile: raw.BACKUP_RESTORE_DEFAULTS_FILE ?? '',
    releaseFile: raw.BACKUP_RELEASE_FILE ?? '/run/e2m-backup/state.json',
    zstdLevel: int('BACKUP_ZSTD_LEVEL', 3, 1, 19),
    sentryDsn: raw.SENTRY_DSN ?? '',
    binlog: onOff('BACKUP_BINLOG'),
    binlogOnCalendar: raw.BACKUP_BINLOG_ON_CALENDAR || '*:*:00',
    // The role's defaults (ansible/roles/backup): the timer's own schedule and limits.
    schedule: {
      onCalendar: raw.BACKUP_ON_CALENDAR || '*-*-* 03:15:00',
      randomizedDelay: raw.BACKUP_RANDOMIZED_DELAY || '15min',
      timeout: raw.BACKUP_TIMEOUT || '1h',
    },
    progressBytes: int('BACKUP_PROGRESS_BYTES', 16 * 1024 * 1024, 1024, 1024 ** 3),
    stateDir: raw.BACKUP_STATE_DIR || vmPaths.stateDir,
    ageRecipients: recipients,
  };
}

const SUFFIX = '.sql.zst';
const AGE_SUFFIX = '.age';
export const MANIFEST_SUFFIX = '.json';

/** 2026-11-23T03:15:07.123Z -> 20261123T031507.123Z (milliseconds: a manual run right after the
 * timer's must not collide with it, since uploads are create-only). */
export function stamp(at: Date): string {
  return at.toISOString().replace(/[-:]/g, '');
}

/** The serving release from the deploy's state.json text; "none" before the first deploy. */
export function releaseOf(stateJson: string | undefined): string {
  if (!stateJson) return 'none';
  try {
    const release = JSON.parse(stateJson)?.release; // scripts/lib/deploy/state.ts ActiveState
    return typeof release === 'string' && /^[\w.-]{1,64}$/.test(release) ? release : 'none';
  } catch {
    return 'none';
  }
}

/** `<env>/<yyyy-mm-dd>/<env>-<stamp>-<release>.sql.zst`: sorts by time, lists by day. */
export function objectName(env: string, at: Date, release: string, encrypted = false): string {
  return `${env}/${at.toISOString().slice(0, 10)}/${env}-${stamp(at)}-${release}${SUFFIX}${encrypted ? AGE_SUFFIX : ''}`;
}

export const manifestName = (object: string) => `${object}${MANIFEST_SUFFIX}`;

const NAME_RE =
  /^([a-z0-9_-]+)\/\d{4}-\d{2}-\d{2}\/\1-(\d{8}T\d{6}(?:\.\d{3})?Z)-([\w.-]+?)\.sql\.zst(\.age)?$/;

/** The time and release an object name carries; undefined for anything else in the bucket. */
export function parseObjectName(
  name: string,
): { env: string; at: Date; release: string; encrypted: boolean } | undefined {
  const m = NAME_RE.exec(name);
  if (!m) return undefined;
  const s = m[2];
  const iso = `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6, 8)}T${s.slice(9, 11)}:${s.slice(11, 13)}:${s.slice(13)}`;
  return { env: m[1], at: new Date(iso), release: m[3], encrypted: m[4] !== undefined };
}

/** What the job writes next to a dump once the dump is complete and its upload verified. */
export interface Manifest {
  object: string;
  env: string;
  release: string;
  database: string;
  startedAt: string;
  finishedAt: string;
  /** Compressed bytes, as uploaded. */
  bytes: number;
  sha256: string;
  /** GCS's own MD5 of the object (base64), checked by the client at upload. */
  md5: string;
  compression: string;
  /** "age" (to the configured recipients) or "none". */
  encryption: string;
  dumpTool: string;
  /** The binlog series the dump's --master-data position belongs to (binlog-plan.ts); absent
   * when binlog shipping was off, and then no point-in-time replay starts from this dump. */
  binlogLineage?: string;
  format: 1;
}

export interface BackupEntry {
  object: string;
  /** When GCS created the object (timeCreated): the server's clock, which the VM cannot set. */
  at: Date;
  /** The time in the object's name: the VM's claim, believed only when it agrees with `at`. */
  namedAt: Date;
  release: string;
  bytes: number;
  encrypted: boolean;
  /** It has a manifest (a run that died before writing one leaves the dump without). */
  complete: boolean;
  /** Why the tools do not believe it (trust.ts): a name or manifest GCS contradicts. */
  rejected?: string;
  manifest?: Manifest;
}

/** A backup the tools may restore and retention counts: complete and believed. */
export const trusted = (e: BackupEntry) => e.complete && e.rejected === undefined;

export interface RetentionPolicy {
  daily: number;
  weekly: number;
  /** The newest this many trusted backups are never deleted, whatever their age. */
  newest: number;
  /** Nothing younger than this is deleted (the bucket's retention policy, or more). */
  minAgeDays: number;
}
export const DEFAULT_RETENTION: RetentionPolicy = { daily: 7, weekly: 4, newest: 3, minAgeDays: 7 };

/**
 * Days nothing may be deleted: the bucket's retention policy (GCS refuses earlier deletes
 * anyway; `retentionPeriod` is in seconds) or the operator's floor, whichever is longer.
 */
export function minAgeDays(bucketRetentionSeconds: string | number | undefined, floor: number): number {
  const seconds = Number(bucketRetentionSeconds ?? 0);
  const bucketDays = Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds / 86_400) : 0;
  return Math.max(bucketDays, floor);
}

const DAY = 86_400_000;
/** Monday 00:00 UTC of the ISO week `at` falls in, as a key. */
function weekKey(at: Date): string {
  const d = new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
  const monday = new Date(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY);
  return monday.toISOString().slice(0, 10);
}

/**
 * Keep the newest trusted backup of each of the last `daily` days and of each of the last
 * `weekly` ISO weeks (counted back from `now`), and the newest `newest` trusted ones whatever
 * their age. Times are GCS's (`at`), never the names'. Never delete anything younger than
 * `minAgeDays`, nor a rejected object (evidence of a forgery: the operator looks at it, the
 * bucket's lifecycle rule ages it out). Incomplete dumps (no manifest: a run that died) older
 * than a day go; younger ones may still be uploading. Returns the entries to delete.
 */
export function selectExpired(entries: BackupEntry[], now: Date, policy: RetentionPolicy): BackupEntry[] {
  const good = entries.filter(trusted).sort((a, b) => b.at.getTime() - a.at.getTime());
  const keep = new Set<string>(good.slice(0, Math.max(1, policy.newest)).map((e) => e.object));
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  const days = new Set<string>();
  for (let i = 0; i < policy.daily; i++) days.add(new Date(today - i * DAY).toISOString().slice(0, 10));
  const weeks = new Set<string>();
  for (let i = 0; i < policy.weekly; i++) weeks.add(weekKey(new Date(today - i * 7 * DAY)));
  const seenDay = new Set<string>();
  const seenWeek = new Set<string>();
  for (const e of good) {
    const day = e.at.toISOString().slice(0, 10);
    const week = weekKey(e.at);
    if (days.has(day) && !seenDay.has(day)) {
      seenDay.add(day);
      keep.add(e.object);
    }
    if (weeks.has(week) && !seenWeek.has(week)) {
      seenWeek.add(week);
      keep.add(e.object);
    }
  }
  const age = (e: BackupEntry) => now.getTime() - e.at.getTime();
  return entries.filter(
    (e) =>
      !keep.has(e.object) &&
      e.rejected === undefined &&
      age(e) >= policy.minAgeDays * DAY &&
      (e.complete || age(e) > DAY),
  );
}

/** Client options for mariadb and mariadb-dump: the option file must come first. */
function clientArgs(defaultsFile: string | undefined): string[] {
  return defaultsFile ? [`--defaults-extra-file=${defaultsFile}`] : [];
}

/**
 * Stages joined by pipes in one bash script. Each stage's exit status goes to stderr as the last
 * line ("e2m-pipeline dump=0 zstd=0"), so the caller tells which failed; the script's own status
 * is 0 only when every stage's is.
 */
export function pipelineScript(stages: { name: string; argv: string[] }[]): string {
  const status = stages.map((st, i) => `${st.name}=\${s[${i}]}`).join(' ');
  const ok = stages.map((_, i) => `[ "\${s[${i}]}" = 0 ]`).join(' && ');
  return `set -o pipefail; ${stages.map((st) => toShell(st.argv)).join(' | ')}; s=("\${PIPESTATUS[@]}"); echo "e2m-pipeline ${status}" >&2; ${ok}`;
}

/**
 * The dump: mariadb-dump in one consistent InnoDB snapshot (--single-transaction: no table
 * locks, the app keeps writing), rows streamed (--quick), into zstd on stdout, then, when
 * recipients are configured, age encryption to keys that never live on the VM.
 */
export function dumpScript(
  cfg: Pick<BackupConfig, 'defaultsFile' | 'database' | 'zstdLevel'> & {
    ageRecipients?: string[];
    binlog?: boolean;
  },
): string {
  const stages = [
    {
      name: 'dump',
      argv: [
        'mariadb-dump',
        ...clientArgs(cfg.defaultsFile),
        '--single-transaction',
        '--quick',
        '--routines',
        '--triggers',
        '--events',
        '--hex-blob',
        '--no-tablespaces',
        '--default-character-set=utf8mb4',
        // The binlog position of the snapshot, as a comment at the top: where a point-in-time
        // replay starts (binlog-plan.ts parseSourcePosition).
        ...(cfg.binlog ? ['--master-data=2'] : []),
        cfg.database,
      ],
    },
    { name: 'zstd', argv: ['zstd', '-q', '-c', `-${cfg.zstdLevel}`, '-T1'] },
  ];
  const recipients = cfg.ageRecipients ?? [];
  if (recipients.length > 0)
    stages.push({ name: 'age', argv: ['age', ...recipients.flatMap((r) => ['-r', r])] });
  return pipelineScript(stages);
}

/** The restore: the object on stdin, decrypted when an identity is given, decompressed
 * (zstd checks its frame checksums), into `database`. */
export function restoreScript(
  defaultsFile: string | undefined,
  database: string,
  identityFile?: string,
): string {
  return pipelineScript([
    ...(identityFile ? [{ name: 'age', argv: ['age', '-d', '-i', identityFile] }] : []),
    { name: 'zstd', argv: ['zstd', '-q', '-d', '-c'] },
    { name: 'mariadb', argv: ['mariadb', ...clientArgs(defaultsFile), '--database', database] },
  ]);
}

/** The pipeline's last stderr line -> which stage failed, for the error message. */
export function pipelineFailure(stderr: string): string {
  const line = stderr
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('e2m-pipeline '));
  const detail = stderr
    .split('\n')
    .filter((l) => l.trim() !== '' && !l.startsWith('e2m-pipeline '))
    .slice(-3)
    .join('; ');
  const failed = (line ?? '')
    .replace('e2m-pipeline ', '')
    .split(' ')
    .filter((kv) => kv.includes('=') && !kv.endsWith('=0'));
  const stages = failed.length ? failed.join(', ') : 'the pipeline was killed';
  return detail ? `${stages}: ${detail}` : stages;
}

/** SQL identifiers the job builds from names: only plain names are ever accepted. */
export function assertDatabaseName(name: string, what = 'database'): void {
  if (!/^[A-Za-z0-9_]{1,64}$/.test(name))
    throw new BackupConfigError(`${what} must be letters, digits and _ (got "${name}")`);
}

/**
 * Where a restore may go: a scratch database by default; the production database (or any
 * other) only with --force, and then the existing tables are replaced.
 */
export function restoreTarget(
  cfg: Pick<BackupConfig, 'database'>,
  opts: { toDatabase?: string; force?: boolean; toDefaultsFile?: string },
): { database: string; scratch: boolean } {
  const database = opts.toDatabase ?? DEFAULT_SCRATCH;
  assertDatabaseName(database, '--to-database');
  const scratch = database.startsWith(SCRATCH_PREFIX) && !opts.toDefaultsFile;
  if (!scratch && !opts.force)
    throw new BackupConfigError(
      `refusing to restore into ${database}${opts.toDefaultsFile ? ` on the server of ${opts.toDefaultsFile}` : ''}: only ${SCRATCH_PREFIX}* databases without --force (it replaces what is there${database === cfg.database ? ': this is production' : ''})`,
    );
  return { database, scratch };
}

/**
 * A restore that replaces a real database restores the backup the operator names. The default
 * (the newest trusted backup) is for scratch copies only: a compromised VM can always upload a
 * fresh, consistent-looking dump, which would be the newest.
 */
export function assertNamedObject(target: { database: string; scratch: boolean }, named: string | undefined) {
  if (!target.scratch && named === undefined)
    throw new BackupConfigError(
      `restore into ${target.database} replaces what is there: name the OBJECT to restore (see list), or --before TIME; there is no default outside ${SCRATCH_PREFIX}* databases`,
    );
}

export interface TableFigures {
  rows: number;
  checksum: string;
}

/** Per-table comparison of a restored copy with production: the drill's verdict. */
export function compareTables(
  production: Map<string, TableFigures>,
  restored: Map<string, TableFigures>,
): { table: string; production?: TableFigures; restored?: TableFigures; ok: boolean }[] {
  const names = [...new Set([...production.keys(), ...restored.keys()])].sort();
  return names.map((table) => {
    const p = production.get(table);
    const r = restored.get(table);
    return {
      table,
      production: p,
      restored: r,
      ok: !!p && !!r && p.rows === r.rows && p.checksum === r.checksum,
    };
  });
}

const ident = (name: string) => `\`${name.replaceAll('`', '``')}\``;

/** Base tables of a database (one per line of `mariadb -N -B`). */
export function tablesSql(database: string): string {
  assertDatabaseName(database);
  return `SELECT table_name FROM information_schema.tables WHERE table_schema = '${database}' AND table_type = 'BASE TABLE' ORDER BY table_name`;
}

/** Row count and CHECKSUM TABLE of each table: two statements, one line per table each. */
export function figuresSql(database: string, tables: string[]): string {
  assertDatabaseName(database);
  if (tables.length === 0) return '';
  const counts = tables
    .map((t) => `SELECT '${t.replaceAll("'", "''")}', COUNT(*) FROM ${ident(database)}.${ident(t)}`)
    .join(' UNION ALL ');
  const checksums = `CHECKSUM TABLE ${tables.map((t) => `${ident(database)}.${ident(t)}`).join(', ')}`;
  return `${counts};\n${checksums};`;
}

/** `mariadb -N -B` output of figuresSql -> per-table rows and checksum. */
export function parseFigures(tsv: string, database: string, tables: string[]): Map<string, TableFigures> {
  const out = new Map<string, TableFigures>();
  const lines = tsv.split('\n').filter((l) => l.trim() !== '');
  for (const line of lines.slice(0, tables.length)) {
    const [table, rows] = line.split('\t');
    out.set(table, { rows: Number(rows), checksum: '' });
  }
  for (const line of lines.slice(tables.length)) {
    const [qualified, checksum] = line.split('\t');
    const table = qualified.startsWith(`${database}.`) ? qualified.slice(database.length + 1) : qualified;
    const f = out.get(table);
    if (f) f.checksum = checksum ?? 'NULL';
  }
  return out;
}
