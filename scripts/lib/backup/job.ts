// The backup job's I/O, on the VM: dump | zstd streamed into a GCS resumable upload, manifests,
// listing, restore and the drill. Compiled with the job into one binary (bun build --compile),
// so it imports only what it uses: zx/core, not all of zx, keeps the job's memory down.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Bucket } from '@google-cloud/storage';
import { $ } from 'zx/core';
import { checkCredentials, createStorage, type GcsTarget } from '../gcs.ts';
import { binlogPrefix, expiredBinlogs, parseBinlogObject } from './binlog-plan.ts';
import { readShipState } from './binlog-state.ts';
import {
  type BackupConfig,
  type BackupEntry,
  compareTables,
  DEFAULT_RETENTION,
  dumpScript,
  figuresSql,
  type Manifest,
  manifestName,
  minAgeDays,
  objectName,
  parseConfig,
  parseFigures,
  parseObjectName,
  pipelineFailure,
  type RetentionPolicy,
  releaseOf,
  restoreScript,
  restoreTarget,
  selectExpired,
  type TableFigures,
  tablesSql,
  trusted,
  VERIFY_SCRATCH,
  vmPaths,
} from './plan.ts';
import {
  type BackupChoice,
  chooseBackup,
  judgeBackups,
  type StoredManifest,
  type StoredObject,
} from './trust.ts';

export type Log = (event: string, fields?: Record<string, unknown>) => void;

export function loadConfig(file: string = vmPaths.configFile): BackupConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read the backup config ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
  return parseConfig(text, file);
}

const gcsTargetOf = (cfg: BackupConfig): GcsTarget => ({
  projectId: cfg.projectId,
  gcsEndpoint: cfg.gcsEndpoint || undefined,
  gcsAuth: cfg.gcsAuth,
});

export function bucketOf(cfg: BackupConfig): Bucket {
  return createStorage(gcsTargetOf(cfg)).bucket(cfg.bucket);
}

/**
 * A lock file holding the owner's pid, taken with O_EXCL. A lock whose pid is gone (a run that
 * was killed) is stale and taken over, so a dead run never blocks the next one.
 */
export function acquireLock(file: string): () => void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeFileSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return () => unlinkSync(file);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const pid = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0 && alive(pid))
        throw new Error(`another backup (pid ${pid}) holds ${file}`);
      unlinkSync(file);
    }
  }
  throw new Error(`could not take ${file}`);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** sha256 and size of what flows through; optional progress callback every `every` bytes. */
function tap(onProgress?: (bytes: number) => void, every = Number.POSITIVE_INFINITY) {
  const hash = createHash('sha256');
  let bytes = 0;
  let next = every;
  let done: (() => Promise<void>) | undefined;
  const stream = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk);
      bytes += chunk.length;
      if (bytes >= next) {
        next += every;
        onProgress?.(bytes);
        // JSC collects lazily: a full collection per progress step keeps the peak RSS flat as the
        // dump grows (measured: 74 -> 85 MB from 50 to 200 MB of rows without it, 74 -> 77 with).
        (globalThis as { Bun?: { gc: (sync: boolean) => void } }).Bun?.gc(true);
      }
      cb(null, chunk);
    },
    // Holds the end of the stream until the producer's exit is known: a failed dump must abort
    // the upload, never finish it.
    flush(cb) {
      (done ? done() : Promise.resolve()).then(() => cb(), cb);
    },
  });
  return {
    stream,
    beforeEnd(fn: () => Promise<void>) {
      done = fn;
    },
    result: () => ({ bytes, sha256: hash.digest('hex') }),
  };
}

export function bash(script: string, stdin: 'ignore' | 'pipe') {
  const child = spawn('bash', ['-c', script], {
    stdio: [stdin, stdin === 'pipe' ? 'ignore' : 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000);
  });
  const exit = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 128)));
  return { child, exit, stderr: () => stderr };
}

async function dumpToolVersion(): Promise<string> {
  return (await $({ quiet: true, cwd: '/' })`mariadb-dump --version`).stdout.trim();
}

export interface RunResult {
  object: string;
  bytes: number;
  sha256: string;
  durationMs: number;
  maxRssKb: number;
  rssAnonKb?: number;
  rssFileKb?: number;
  peakAnonKb?: number;
}

/** One backup: dump | zstd -> resumable upload (create-only, MD5-checked) -> manifest. */
export async function runBackup(cfg: BackupConfig, now: Date, log: Log): Promise<RunResult> {
  const t0 = Date.now();
  let stateJson: string | undefined;
  try {
    stateJson = readFileSync(cfg.releaseFile, 'utf8');
  } catch {
    stateJson = undefined; // no deploy yet, or not readable: the name says "none"
  }
  const release = releaseOf(stateJson);
  const encrypted = cfg.ageRecipients.length > 0;
  const object = objectName(cfg.env, now, release, encrypted);
  const dumpTool = await dumpToolVersion();
  // The binlog series the dump's position belongs to (binlog.ts), when shipping is on.
  const lineage = cfg.binlog ? readShipState(cfg).lineage : undefined;
  const bucket = bucketOf(cfg);
  await checkCredentials(bucket.storage, gcsTargetOf(cfg));
  log('start', { object, database: cfg.database, release });

  const stopSampling = sampleMemory();
  const dump = bash(dumpScript(cfg), 'ignore');
  const counter = tap((bytes) => log('progress', { bytes }), cfg.progressBytes);
  counter.beforeEnd(async () => {
    const code = await dump.exit;
    if (code !== 0) throw new Error(`dump failed (${pipelineFailure(dump.stderr())})`);
  });
  const file = bucket.file(object);
  const upload = file.createWriteStream({
    resumable: true,
    validation: 'md5',
    contentType: encrypted ? 'application/octet-stream' : 'application/zstd',
    // Create only: a name that exists is never overwritten (the VM may not delete either).
    preconditionOpts: { ifGenerationMatch: 0 },
    metadata: {
      metadata: { env: cfg.env, release, database: cfg.database, dumpTool, startedAt: now.toISOString() },
    },
  });
  try {
    if (!dump.child.stdout) throw new Error('dump: no stdout');
    await pipeline(dump.child.stdout, counter.stream, upload);
  } catch (e) {
    stopSampling();
    dump.child.kill('SIGTERM');
    const message = (e as Error).message;
    throw new Error(
      message.startsWith('dump failed')
        ? message
        : `upload to gs://${cfg.bucket}/${object} failed: ${message}`,
    );
  }
  stopSampling();
  const { bytes, sha256 } = counter.result();
  const manifest: Manifest = {
    object,
    env: cfg.env,
    release,
    database: cfg.database,
    startedAt: now.toISOString(),
    finishedAt: new Date().toISOString(),
    bytes,
    sha256,
    md5: String(file.metadata.md5Hash ?? ''),
    compression: `zstd -${cfg.zstdLevel}`,
    encryption: encrypted ? 'age' : 'none',
    dumpTool,
    ...(lineage ? { binlogLineage: lineage } : {}),
    format: 1,
  };
  // The manifest is written last: a dump without one is a run that did not finish.
  await bucket.file(manifestName(object)).save(`${JSON.stringify(manifest, null, 2)}\n`, {
    resumable: false,
    contentType: 'application/json',
    preconditionOpts: { ifGenerationMatch: 0 },
  });
  return { object, bytes, sha256, durationMs: Date.now() - t0, ...memory() };
}

/**
 * Peak RSS (the kernel's ru_maxrss) and, now, how much of the resident memory is anonymous: the
 * rest is the binary's own pages, which the kernel can drop and re-read under pressure.
 */
/** RssAnon and RssFile of this process, in kB, from /proc (undefined off Linux). */
function rssNow(): { anon?: number; file?: number } {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]);
    return { anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return {}; // not Linux
  }
}

// The kernel keeps a peak for the whole RSS only (ru_maxrss), and most of that is the binary's
// code pages, which it can drop and re-read. The anonymous part, the memory the job really holds,
// is sampled while a run streams, so its peak is reported, not just its value at the end.
let peakAnonKb = 0;
const sampleAnon = () => {
  peakAnonKb = Math.max(peakAnonKb, rssNow().anon ?? 0);
};

/** Samples the anonymous memory every `ms` until the returned stop is called. */
export function sampleMemory(ms = 100): () => void {
  sampleAnon();
  const timer = setInterval(sampleAnon, ms);
  timer.unref();
  return () => clearInterval(timer);
}

export function memory(): { maxRssKb: number; rssAnonKb?: number; rssFileKb?: number; peakAnonKb?: number } {
  sampleAnon();
  const { anon, file } = rssNow();
  return {
    maxRssKb: process.resourceUsage().maxRSS,
    ...(anon === undefined ? {} : { rssAnonKb: anon, rssFileKb: file, peakAnonKb }),
  };
}

/**
 * The bucket's backups of this env, newest (by GCS's timeCreated) first, each judged against
 * what GCS says of it (trust.ts): complete or not, rejected or not, and why.
 */
export async function listBackups(
  cfg: BackupConfig,
  bucket = bucketOf(cfg),
  now: Date = new Date(),
): Promise<BackupEntry[]> {
  const [files] = await bucket.getFiles({ prefix: `${cfg.env}/` });
  const stored = (f: (typeof files)[number]): StoredObject => ({
    name: f.name,
    size: Number(f.metadata.size ?? 0),
    md5: String(f.metadata.md5Hash ?? ''),
    created: new Date(String(f.metadata.timeCreated)),
  });
  const dumps = files.filter((f) => parseObjectName(f.name) !== undefined).map(stored);
  const byName = new Map(files.map((f) => [f.name, f]));
  const manifests = new Map<string, StoredManifest>();
  for (const d of dumps) {
    const file = byName.get(manifestName(d.name));
    if (!file) continue;
    const [buf] = await bucket.file(file.name).download();
    let manifest: Manifest | undefined;
    try {
      manifest = JSON.parse(buf.toString('utf8')) as Manifest;
    } catch {
      manifest = undefined; // judged: a manifest that is not JSON rejects its dump
    }
    manifests.set(d.name, { manifest, created: stored(file).created });
  }
  return judgeBackups(cfg.env, dumps, manifests, now);
}

export async function findBackup(cfg: BackupConfig, choice: BackupChoice): Promise<BackupEntry> {
  return chooseBackup(await listBackups(cfg), choice, `gs://${cfg.bucket}/${cfg.env}/`);
}

function sha256Mismatch(entry: BackupEntry, sha256: string, bytes: number): string | undefined {
  const m = entry.manifest;
  if (!m) return `${entry.object} has no manifest`;
  if (m.sha256 === sha256 && m.bytes === bytes) return undefined;
  return `${entry.object} does not match its manifest (sha256 ${sha256.slice(0, 12)}…, ${bytes} B; manifest ${m.sha256.slice(0, 12)}…, ${m.bytes} B): the object was changed or corrupted`;
}

/** Streams the object once, no disk, no memory: is it byte for byte what the manifest says? */
export async function checkObject(cfg: BackupConfig, entry: BackupEntry): Promise<void> {
  const counter = tap();
  await pipeline(
    bucketOf(cfg).file(entry.object).createReadStream({ validation: 'md5' }),
    counter.stream,
    async (src) => {
      for await (const _ of src);
    },
  );
  const { bytes, sha256 } = counter.result();
  const bad = sha256Mismatch(entry, sha256, bytes);
  if (bad) throw new Error(bad);
}

export async function sql(
  defaultsFile: string | undefined,
  query: string,
  database?: string,
): Promise<string> {
  const opts = defaultsFile ? [`--defaults-extra-file=${defaultsFile}`] : [];
  const db = database ? ['--database', database] : [];
  return (await $({ quiet: true, cwd: '/' })`mariadb ${opts} ${db} -N -B -e ${query}`).stdout;
}

export interface RestoreOptions {
  toDatabase?: string;
  force?: boolean;
  /** A client option file for another server (say Cloud SQL), instead of the local one. */
  toDefaultsFile?: string;
  /** The age identity (private key) file for an encrypted backup, there only for this run. */
  identityFile?: string;
}

/**
 * Restores a backup: into a scratch database by default (dropped and created fresh); anywhere
 * else only with --force, and then only after the whole object is checked against its manifest
 * first, so a corrupted dump never half-replaces real data.
 */
export async function restoreBackup(
  cfg: BackupConfig,
  entry: BackupEntry,
  opts: RestoreOptions,
  log: Log,
): Promise<{ database: string; durationMs: number }> {
  const t0 = Date.now();
  const { database, scratch } = restoreTarget(cfg, opts);
  if (entry.encrypted && !opts.identityFile)
    throw new Error(
      `${entry.object} is encrypted with age: give --identity FILE (the private key kept off the VM)`,
    );
  // The backup user may only read production and own e2m_scratch_*. Replacing a real database
  // goes through the restore user (BACKUP_RESTORE_DEFAULTS_FILE, readable by root only: the
  // operator's `restore --force` uses sudo), which may write the production database and nothing
  // else, so a dump's SQL can never create users, grant, or touch another database. Without
  // that file (a VM set up before it), root's socket login as before.
  const real = !scratch && !opts.toDefaultsFile;
  const asRoot = real && !cfg.restoreDefaultsFile && process.getuid?.() === 0;
  const defaults =
    opts.toDefaultsFile ??
    (real && cfg.restoreDefaultsFile ? cfg.restoreDefaultsFile : asRoot ? undefined : cfg.defaultsFile);
  if (!scratch) {
    log('check', { object: entry.object });
    await checkObject(cfg, entry);
  }
  await sql(
    defaults,
    scratch
      ? `DROP DATABASE IF EXISTS \`${database}\`; CREATE DATABASE \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`
      : `CREATE DATABASE IF NOT EXISTS \`${database}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`,
  );
  log('restore', { object: entry.object, database });
  const load = bash(
    restoreScript(defaults, database, entry.encrypted ? opts.identityFile : undefined),
    'pipe',
  );
  const counter = tap();
  try {
    if (!load.child.stdin) throw new Error('restore: no stdin');
    await pipeline(
      bucketOf(cfg).file(entry.object).createReadStream({ validation: 'md5' }),
      counter.stream,
      load.child.stdin,
    );
  } catch (e) {
    load.child.kill('SIGTERM');
    throw new Error(`restore of ${entry.object} into ${database} failed: ${(e as Error).message}`);
  }
  const code = await load.exit;
  if (code !== 0)
    throw new Error(`restore of ${entry.object} into ${database} failed (${pipelineFailure(load.stderr())})`);
  const { bytes, sha256 } = counter.result();
  const bad = sha256Mismatch(entry, sha256, bytes);
  if (bad) throw new Error(bad);
  return { database, durationMs: Date.now() - t0 };
}

async function figures(defaultsFile: string, database: string): Promise<Map<string, TableFigures>> {
  const tables = (await sql(defaultsFile, tablesSql(database)))
    .split('\n')
    .map((t) => t.trim())
    .filter(Boolean);
  if (tables.length === 0) return new Map();
  return parseFigures(await sql(defaultsFile, figuresSql(database, tables)), database, tables);
}

export interface VerifyReport {
  object: string;
  ok: boolean;
  restoreMs: number;
  tables: ReturnType<typeof compareTables>;
  error?: string;
}

/** The drill: restore into a scratch database, compare rows and CHECKSUM TABLE with production. */
export async function verifyBackup(
  cfg: BackupConfig,
  entry: BackupEntry,
  log: Log,
  identityFile?: string,
): Promise<VerifyReport> {
  try {
    // Checked first, so a corrupted object is reported as that, not as whatever SQL error its
    // damaged bytes happen to make.
    log('check', { object: entry.object });
    await checkObject(cfg, entry);
    const { durationMs } = await restoreBackup(cfg, entry, { toDatabase: VERIFY_SCRATCH, identityFile }, log);
    const tables = compareTables(
      await figures(cfg.defaultsFile, cfg.database),
      await figures(cfg.defaultsFile, VERIFY_SCRATCH),
    );
    return {
      object: entry.object,
      ok: tables.length > 0 && tables.every((t) => t.ok),
      restoreMs: durationMs,
      tables,
    };
  } catch (e) {
    return { object: entry.object, ok: false, restoreMs: 0, tables: [], error: (e as Error).message };
  } finally {
    await sql(cfg.defaultsFile, `DROP DATABASE IF EXISTS \`${VERIFY_SCRATCH}\``).catch(() => undefined);
  }
}

export interface PruneReport {
  deleted: string[];
  /** Binlogs older than the oldest kept dump (binlog-plan.ts expiredBinlogs). */
  binlogsDeleted: string[];
  kept: string[];
  /** Objects the tools do not believe, with why: never deleted here, reported. */
  rejected: { object: string; reason: string }[];
  minAgeDays: number;
}

/**
 * Retention needs delete rights, which the VM's service account lacks: run from the operator's
 * machine. The floor on age is the bucket's retention policy when it has a longer one.
 */
export async function pruneBackups(
  cfg: BackupConfig,
  bucket: Bucket,
  now: Date,
  policy: RetentionPolicy = DEFAULT_RETENTION,
  dryRun = false,
): Promise<PruneReport> {
  const [meta] = await bucket.getMetadata();
  const floor = minAgeDays(meta.retentionPolicy?.retentionPeriod, policy.minAgeDays);
  const entries = await listBackups(cfg, bucket, now);
  const expired = selectExpired(entries, now, { ...policy, minAgeDays: floor });
  const gone = new Set(expired.map((e) => e.object));
  const keptDumps = entries.filter((e) => trusted(e) && !gone.has(e.object)).map((e) => e.at);
  const [binlogFiles] = await bucket.getFiles({ prefix: binlogPrefix(cfg.env) });
  const logs = binlogFiles.flatMap((f) => {
    const p = parseBinlogObject(f.name);
    return p
      ? [{ name: f.name, file: p.file, seq: p.seq, created: new Date(String(f.metadata.timeCreated)) }]
      : [];
  });
  const oldLogs = expiredBinlogs(logs, keptDumps, now, floor).map((l) => l.name);
  if (!dryRun) {
    for (const e of expired) {
      await bucket.file(e.object).delete({ ignoreNotFound: true });
      await bucket.file(manifestName(e.object)).delete({ ignoreNotFound: true });
    }
    for (const name of oldLogs) await bucket.file(name).delete({ ignoreNotFound: true });
  }
  return {
    deleted: [...gone],
    binlogsDeleted: oldLogs,
    kept: entries.filter((e) => !gone.has(e.object) && !e.rejected).map((e) => e.object),
    rejected: entries.flatMap((e) => (e.rejected ? [{ object: e.object, reason: e.rejected }] : [])),
    minAgeDays: floor,
  };
}
