// Point-in-time recovery's I/O (planning in binlog-plan.ts): the per-minute shipper, run by
// e2m-binlog.timer (`e2m-backup binlogs`), and the replay behind `restore --to-time`.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { $ } from 'zx/core';
import {
  type BinlogFile,
  binlogObject,
  binlogPrefix,
  binlogTime,
  needsFlush,
  parseBinlogObject,
  parseSourcePosition,
  planShip,
  replayChain,
  replayScript,
  type ShippedLog,
} from './binlog-plan.ts';
import { readShipState, writeShipState } from './binlog-state.ts';
import {
  bash,
  bucketOf,
  type Log,
  listBackups,
  memory,
  type RestoreOptions,
  restoreBackup,
  sql,
} from './job.ts';
import { type BackupConfig, type BackupEntry, pipelineFailure, restoreTarget, trusted } from './plan.ts';

async function masterStatus(cfg: BackupConfig): Promise<{ file: string; pos: number }> {
  const [file, pos] = (await sql(cfg.defaultsFile, 'SHOW MASTER STATUS')).trim().split('\t');
  if (!file)
    throw new Error('binary logging is off on this server (SHOW MASTER STATUS is empty): set mariadb_binlog');
  return { file, pos: Number(pos) };
}

async function binaryLogs(cfg: BackupConfig): Promise<BinlogFile[]> {
  return (await sql(cfg.defaultsFile, 'SHOW BINARY LOGS'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [name, size] = line.split('\t');
      return { name, size: Number(size) };
    });
}

const md5Of = (path: string) => createHash('md5').update(readFileSync(path)).digest('base64');

export interface ShipResult {
  lineage: string;
  flushed: boolean;
  shipped: string[];
  bytes: number;
  purgedTo?: string;
  durationMs: number;
  cpuMs: number;
  maxRssKb: number;
  rssAnonKb?: number;
}

/**
 * One minute's shipping: FLUSH BINARY LOGS when anything was written since the last flush, upload
 * every closed log not yet in the bucket (create-only, MD5-checked, read through the server's
 * replication protocol: the job never reads MariaDB's files), then PURGE what is uploaded and
 * nothing else.
 */
export async function shipBinlogs(cfg: BackupConfig, log: Log, now = new Date()): Promise<ShipResult> {
  const t0 = Date.now();
  const cpu0 = process.cpuUsage();
  let state = readShipState(cfg);
  await masterStatus(cfg); // binary logging on, or a clear error
  const gtid = (await sql(cfg.defaultsFile, 'SELECT @@GLOBAL.gtid_binlog_pos')).trim();
  const flushed = needsFlush(state, gtid);
  if (flushed) {
    await sql(cfg.defaultsFile, 'FLUSH BINARY LOGS');
    state = { ...state, flushedGtid: gtid };
  }
  const plan = planShip(state, await binaryLogs(cfg));
  const bucket = bucketOf(cfg);
  const dir = mkdtempSync(join(tmpdir(), 'e2m-binlog-'));
  const shipped: string[] = [];
  let bytes = 0;
  try {
    for (const { name } of plan.ship) {
      const opts = cfg.defaultsFile ? [`--defaults-extra-file=${cfg.defaultsFile}`] : [];
      await $({
        quiet: true,
        cwd: dir,
      })`mariadb-binlog ${opts} --read-from-remote-server --raw --result-file=${`${dir}/`} ${name}`;
      const path = join(dir, name);
      const size = statSync(path).size;
      const object = binlogObject(cfg.env, state.lineage, name);
      try {
        await bucket.upload(path, {
          destination: object,
          resumable: size > 8 * 1024 * 1024,
          validation: 'md5',
          contentType: 'application/octet-stream',
          preconditionOpts: { ifGenerationMatch: 0 },
          metadata: { metadata: { env: cfg.env, lineage: state.lineage, file: name } },
        });
      } catch (e) {
        if ((e as { code?: number }).code !== 412)
          throw new Error(
            `upload of ${name} to gs://${cfg.bucket}/${object} failed: ${(e as Error).message}`,
          );
        // Create-only refused: the same bytes (a run that died before saving its state) are done;
        // other bytes mean this server's series restarted: a new lineage, from this log on.
        const [meta] = await bucket.file(object).getMetadata();
        if (meta.md5Hash !== md5Of(path)) {
          const lineage = randomBytes(6).toString('hex');
          log('lineage-new', { old: state.lineage, lineage, file: name });
          writeShipState(cfg, { lineage });
          throw new Error(
            `${object} exists with other bytes: shipping restarts under lineage ${lineage} next minute`,
          );
        }
      }
      rmSync(path);
      shipped.push(name);
      bytes += size;
      state = { ...state, shipped: name };
      writeShipState(cfg, state);
    }
    if (plan.purgeTo) await sql(cfg.defaultsFile, `PURGE BINARY LOGS TO '${plan.purgeTo}'`);
    state = { ...state, shippedAt: now.toISOString() };
    writeShipState(cfg, state);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    lineage: state.lineage,
    flushed,
    shipped,
    bytes,
    purgedTo: plan.purgeTo,
    durationMs: Date.now() - t0,
    // The job's own CPU after start-up (bench/pitr.ts measures the whole process and children).
    cpuMs: Math.round((cpu.user + cpu.system) / 1000),
    ...memory(),
  };
}

/** The shipped logs of one lineage (by GCS's timeCreated, which the VM cannot set). */
export async function shippedLogs(cfg: BackupConfig, lineage?: string): Promise<ShippedLog[]> {
  const [files] = await bucketOf(cfg).getFiles({ prefix: binlogPrefix(cfg.env, lineage) });
  return files.flatMap((f) => {
    const p = parseBinlogObject(f.name);
    return p && p.env === cfg.env
      ? [
          {
            name: f.name,
            file: p.file,
            seq: p.seq,
            lineage: p.lineage,
            created: new Date(String(f.metadata.timeCreated)),
          },
        ]
      : [];
  });
}

/**
 * What `restore --to-time` can reach: from the oldest trusted dump with a binlog position to the
 * newest shipped log of the newest such dump's lineage (GCS's times).
 */
export async function pitrWindow(
  cfg: BackupConfig,
  entries: BackupEntry[],
): Promise<{ from: Date; to: Date } | undefined> {
  if (!cfg.binlog) return undefined;
  const bases = entries.filter((e) => trusted(e) && e.manifest?.binlogLineage);
  if (bases.length === 0) return undefined;
  const logs = await shippedLogs(cfg, bases[0].manifest?.binlogLineage);
  const newest = Math.max(...logs.map((l) => l.created.getTime()));
  if (!Number.isFinite(newest) || newest < bases[0].at.getTime()) return undefined;
  return { from: bases[bases.length - 1].at, to: new Date(newest) };
}

/** The first lines of a dump's SQL (a ranged read, decrypted and decompressed as far as it goes). */
async function dumpHead(cfg: BackupConfig, entry: BackupEntry, identityFile?: string): Promise<string> {
  const decrypt = entry.encrypted && identityFile ? ['age -d -i "$1" 2>/dev/null |'] : [];
  const child = spawn(
    'bash',
    ['-c', `${decrypt.join('')} zstd -q -d -c 2>/dev/null | head -c 65536`, 'head', identityFile ?? ''],
    {
      stdio: ['pipe', 'pipe', 'ignore'],
    },
  );
  const chunks: Buffer[] = [];
  child.stdout.on('data', (d: Buffer) => chunks.push(d));
  const exited = new Promise((resolve) => child.on('close', resolve));
  const stream = bucketOf(cfg)
    .file(entry.object)
    .createReadStream({ start: 0, end: 1024 * 1024 - 1 });
  // The pipe closes early (head has what it needs, or the truncated frame ends zstd): expected.
  await pipeline(stream, child.stdin).catch(() => undefined);
  await exited;
  return Buffer.concat(chunks).toString('utf8');
}

export interface PitrResult {
  database: string;
  base: string;
  binlogs: string[];
  toTime: string;
  durationMs: number;
}

/**
 * Point in time: the newest trusted dump made before `toTime` with a binlog position, restored
 * as any backup is (restoreBackup: scratch by default, production only with --force), then its
 * lineage's logs replayed from that position up to `toTime`.
 */
export async function restoreToTime(
  cfg: BackupConfig,
  toTime: Date | 'latest',
  opts: RestoreOptions,
  log: Log,
): Promise<PitrResult> {
  const t0 = Date.now();
  if (opts.toDefaultsFile)
    throw new Error('--to-time replays binlogs into this server only: drop --to-defaults-file');
  const at = toTime === 'latest' ? Number.POSITIVE_INFINITY : toTime.getTime();
  const base = (await listBackups(cfg)).find(
    (e) => trusted(e) && e.manifest?.binlogLineage && e.at.getTime() <= at,
  );
  if (!base)
    throw new Error(
      `no trusted backup with a binlog position was made before ${toTime === 'latest' ? 'now' : toTime.toISOString()} in gs://${cfg.bucket}/${cfg.env}/`,
    );
  const lineage = String(base.manifest?.binlogLineage);
  const start = parseSourcePosition(await dumpHead(cfg, base, opts.identityFile));
  if (!start)
    throw new Error(
      `${base.object} carries no binlog position (no CHANGE MASTER comment in its first 64 KB)`,
    );
  const chain = replayChain(await shippedLogs(cfg, lineage), start, toTime);
  const reached = toTime === 'latest' ? (chain.at(-1)?.created ?? base.at) : toTime;
  const restored = await restoreBackup(cfg, base, opts, log);
  const dir = mkdtempSync(join(tmpdir(), 'e2m-replay-'));
  try {
    const files: string[] = [];
    for (const l of chain) {
      const path = join(dir, l.file);
      await bucketOf(cfg).file(l.name).download({ destination: path, validation: 'md5' });
      files.push(path);
    }
    log('replay', {
      database: restored.database,
      from: `${start.file}:${start.pos}`,
      binlogs: chain.length,
      toTime: reached.toISOString(),
    });
    // Replaying row events needs BINLOG REPLAY, which writes past table grants: only the restore
    // user (its option file is root's) has it, whatever the target (ansible/roles/backup).
    const { scratch } = restoreTarget(cfg, opts);
    const defaultsFile =
      cfg.restoreDefaultsFile || (scratch || process.getuid?.() !== 0 ? cfg.defaultsFile : undefined);
    const replay = bash(
      replayScript({
        files,
        startPos: start.pos,
        toTime: toTime === 'latest' ? undefined : toTime,
        sourceDatabase: cfg.database,
        targetDatabase: restored.database,
        defaultsFile,
      }),
      'ignore',
    );
    replay.child.stdout?.resume();
    const code = await replay.exit;
    if (code !== 0)
      throw new Error(`replay into ${restored.database} failed (${pipelineFailure(replay.stderr())})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return {
    database: restored.database,
    base: base.object,
    binlogs: chain.map((l) => l.file),
    toTime: reached.toISOString(),
    durationMs: Date.now() - t0,
  };
}

export interface PitrDrill {
  ok: boolean;
  toTime: string;
  binlogs: string[];
  error?: string;
}

const DRILL_DB = 'e2m_scratch_pitr_drill';

/**
 * The point-in-time drill: two marked writes a second apart in a scratch database, shipped as the
 * timer ships them, then the logs read back from the bucket and decoded up to a moment between
 * the two (mariadb-binlog --stop-datetime, as restore --to-time uses it): the first must be
 * there and the second not. It proves the chain in the bucket and the cut; it applies nothing,
 * so it needs no BINLOG REPLAY (restore --to-time itself is tested against MariaDB).
 */
export async function drillPointInTime(cfg: BackupConfig, log: Log): Promise<PitrDrill> {
  const tag = randomBytes(4).toString('hex');
  let toTime = new Date();
  let binlogs: string[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'e2m-drill-'));
  try {
    await sql(
      cfg.defaultsFile,
      `CREATE DATABASE IF NOT EXISTS ${DRILL_DB}; CREATE TABLE IF NOT EXISTS ${DRILL_DB}.marks (id INT AUTO_INCREMENT PRIMARY KEY, label VARCHAR(64) NOT NULL) ENGINE=InnoDB`,
    );
    const start = await masterStatus(cfg);
    await sql(cfg.defaultsFile, `INSERT INTO ${DRILL_DB}.marks (label) VALUES ('before-${tag}')`);
    await new Promise((r) => setTimeout(r, 1100));
    toTime = new Date(Math.floor(Date.now() / 1000) * 1000);
    await new Promise((r) => setTimeout(r, 1100));
    await sql(cfg.defaultsFile, `INSERT INTO ${DRILL_DB}.marks (label) VALUES ('after-${tag}')`);
    log('drill-ship', { toTime: toTime.toISOString() });
    await shipBinlogs(cfg, log);
    const chain = replayChain(await shippedLogs(cfg, readShipState(cfg).lineage), start, toTime);
    binlogs = chain.map((l) => l.file);
    const files: string[] = [];
    for (const l of chain) {
      const path = join(dir, l.file);
      await bucketOf(cfg).file(l.name).download({ destination: path, validation: 'md5' });
      files.push(path);
    }
    const decoded = (
      await $({
        quiet: true,
        cwd: '/',
        env: { ...process.env, TZ: 'UTC' },
      })`mariadb-binlog --start-position=${start.pos} --stop-datetime=${binlogTime(toTime)} --database=${DRILL_DB} --base64-output=DECODE-ROWS --verbose ${files}`
    ).stdout;
    const first = decoded.includes(`'before-${tag}'`);
    const second = decoded.includes(`'after-${tag}'`);
    const error = !first
      ? `the write before ${toTime.toISOString()} is not in the shipped binlogs`
      : second
        ? `the write after ${toTime.toISOString()} was replayed: the cut is wrong`
        : undefined;
    return { ok: !error, toTime: toTime.toISOString(), binlogs, ...(error ? { error } : {}) };
  } catch (e) {
    return { ok: false, toTime: toTime.toISOString(), binlogs, error: (e as Error).message };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await sql(cfg.defaultsFile, `DROP DATABASE IF EXISTS ${DRILL_DB}`).catch(() => undefined);
  }
}
