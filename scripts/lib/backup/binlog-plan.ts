// Pure: point-in-time recovery's planning. Which binary logs to flush, ship and purge; their
// object names; where a base dump's replay starts; which shipped logs reach a given time; and the
// replay pipeline. No I/O: binlog.ts reads MariaDB and the bucket and hands the facts in.
import { pipelineScript } from './plan.ts';

/**
 * The shipper's memory (/var/lib/e2m-backup/binlog.json). The lineage names one MariaDB data
 * directory's binlog series: a rebuilt VM starts at e2m-bin.000001 again under a new lineage, so
 * its logs never collide with (or replace) the old series in the bucket.
 */
export interface ShipState {
  lineage: string;
  /** The newest binlog uploaded; every older one was uploaded before it. */
  shipped?: string;
  /** The server's @@gtid_binlog_pos at our last FLUSH: unchanged means no transaction since. (Not
   * the file position: the new log's checkpoint event lands a moment after the FLUSH.) */
  flushedGtid?: string;
  /** When every write up to the last flush was in the bucket (the shipping lag's zero). */
  shippedAt?: string;
}

export interface BinlogFile {
  name: string;
  size: number;
}

const SEQ = /\.(\d{6,})$/;
export const binlogSeq = (file: string): number => Number(SEQ.exec(file)?.[1] ?? Number.NaN);

export const binlogPrefix = (env: string, lineage?: string) =>
  lineage ? `${env}/binlog/${lineage}/` : `${env}/binlog/`;
export const binlogObject = (env: string, lineage: string, file: string) =>
  `${binlogPrefix(env, lineage)}${file}`;

/** `prod/binlog/<lineage>/e2m-bin.000012` → its parts; anything else → undefined. */
export function parseBinlogObject(
  name: string,
): { env: string; lineage: string; file: string; seq: number } | undefined {
  const m = /^([a-z0-9][a-z0-9_-]{0,62})\/binlog\/([a-f0-9]{12})\/([A-Za-z0-9_-]+\.\d{6,})$/.exec(name);
  return m ? { env: m[1], lineage: m[2], file: m[3], seq: binlogSeq(m[3]) } : undefined;
}

/** Flush only when a transaction was logged since our last flush: an idle minute ships nothing. */
export function needsFlush(state: ShipState, gtidBinlogPos: string): boolean {
  return state.flushedGtid === undefined || state.flushedGtid !== gtidBinlogPos;
}

/**
 * The closed logs still to upload, oldest first (the last in SHOW BINARY LOGS is the open one),
 * and what may be purged after: everything before the first log not yet uploaded, never more.
 */
export function planShip(state: ShipState, logs: BinlogFile[]): { ship: BinlogFile[]; purgeTo?: string } {
  const closed = logs.slice(0, -1);
  const after = state.shipped ? binlogSeq(state.shipped) : Number.NEGATIVE_INFINITY;
  const ship = closed.filter((l) => binlogSeq(l.name) > after);
  const firstPending = (uploaded: number) => logs.find((l) => binlogSeq(l.name) > uploaded)?.name;
  const lastUploaded = ship.length > 0 ? binlogSeq(ship[ship.length - 1].name) : after;
  const purgeTo = Number.isFinite(lastUploaded) ? firstPending(lastUploaded) : undefined;
  // Nothing older than the first log to keep: nothing to purge.
  return { ship, purgeTo: purgeTo && purgeTo !== logs[0]?.name ? purgeTo : undefined };
}

/** Where a dump made with --master-data=2 starts in the binlog (its CHANGE MASTER comment). */
export function parseSourcePosition(sqlHead: string): { file: string; pos: number } | undefined {
  const m = /^-- CHANGE MASTER TO MASTER_LOG_FILE='([A-Za-z0-9_.-]+)', MASTER_LOG_POS=(\d+);/m.exec(sqlHead);
  return m ? { file: m[1], pos: Number(m[2]) } : undefined;
}

export interface ShippedLog {
  name: string;
  file: string;
  seq: number;
  /** GCS's timeCreated: the log was closed, so holds every write, before this. */
  created: Date;
}

/**
 * The logs to replay from `start` up to `toTime`: consecutive from the base dump's file to the
 * first one uploaded after `toTime` (it was closed after that time, so it holds every write
 * before it). A gap, or logs that do not reach the time yet, is an error that says so.
 */
export function replayChain(
  logs: ShippedLog[],
  start: { file: string },
  toTime: Date | 'latest',
): ShippedLog[] {
  const sorted = [...logs].sort((a, b) => a.seq - b.seq);
  const from = binlogSeq(start.file);
  const chain: ShippedLog[] = [];
  for (const log of sorted.filter((l) => l.seq >= from)) {
    const expected = from + chain.length;
    if (log.seq !== expected)
      throw new Error(
        `binlog ${start.file.replace(SEQ, `.${String(expected).padStart(6, '0')}`)} is missing from the bucket: the replay cannot go past it`,
      );
    chain.push(log);
    if (toTime !== 'latest' && log.created.getTime() >= toTime.getTime()) return chain;
  }
  // The latest: every consecutive log shipped since the dump (none yet: the dump alone).
  if (toTime === 'latest') return chain;
  if (chain.length === 0)
    throw new Error(`binlog ${start.file}, where the base dump's replay starts, is not in the bucket`);
  throw new Error(
    `the shipped binlogs reach only to ${chain[chain.length - 1].created.toISOString()}: ${toTime.toISOString()} is not recoverable yet`,
  );
}

/**
 * Retention for the logs: a log uploaded before the oldest kept dump was made can serve no
 * replay (a dump's replay starts in the log that was open when it ran, uploaded after it), so it
 * goes; nothing younger than the dumps' own age floor does, and with no kept dump nothing does.
 */
export function expiredBinlogs(
  logs: ShippedLog[],
  keptDumps: Date[],
  now: Date,
  minAgeDays: number,
): ShippedLog[] {
  if (keptDumps.length === 0) return [];
  const oldest = Math.min(...keptDumps.map((d) => d.getTime()));
  const floor = now.getTime() - minAgeDays * 86_400_000;
  return logs.filter((l) => l.created.getTime() < oldest && l.created.getTime() < floor);
}

/** `2026-12-03 06:18:34`: what mariadb-binlog's --stop-datetime reads (with TZ=UTC). */
export const binlogTime = (t: Date) => t.toISOString().slice(0, 19).replace('T', ' ');

/**
 * Replays the chain into `target`: only the source database's events (rewritten to the target's
 * name when they differ), from the dump's position in the first log, up to (not including) the
 * second `toTime` falls in (mariadb-binlog has one-second resolution); without `toTime`, the
 * whole chain (the latest recoverable moment).
 */
export function replayScript(o: {
  files: string[];
  startPos: number;
  toTime?: Date;
  sourceDatabase: string;
  targetDatabase: string;
  defaultsFile?: string;
}): string {
  const rewrite =
    o.sourceDatabase === o.targetDatabase ? [] : [`--rewrite-db=${o.sourceDatabase}->${o.targetDatabase}`];
  return pipelineScript([
    {
      name: 'binlog',
      argv: [
        'env',
        'TZ=UTC',
        'mariadb-binlog',
        `--start-position=${o.startPos}`,
        ...(o.toTime ? [`--stop-datetime=${binlogTime(o.toTime)}`] : []),
        `--database=${o.sourceDatabase}`,
        ...rewrite,
        ...o.files,
      ],
    },
    // The events' own GTIDs are dropped, so the server logs the replay under new ones, in order:
    // replayed with the old ones, the binlog would hold GTIDs out of order, which mariadb-binlog
    // refuses in any later replay through this stretch.
    {
      name: 'gtid',
      argv: ['sed', '-E', '/^\\/\\*M!100001 SET @@session\\.(gtid_seq_no|gtid_domain_id|server_id)=/d'],
    },
    {
      name: 'mariadb',
      argv: [
        'mariadb',
        ...(o.defaultsFile ? [`--defaults-extra-file=${o.defaultsFile}`] : []),
        '--database',
        o.targetDatabase,
      ],
    },
  ]);
}

/**
 * `--to-time`: "YYYY-MM-DD HH:MM:SS" is UTC; an ISO time may carry its own zone
 * (2026-12-03T07:18:34+01:00); `latest` is the newest moment the shipped logs reach (after a
 * lost VM). Anything else is refused, naming the flag.
 */
export function parseToTime(value: string): Date | 'latest' {
  if (value === 'latest') return 'latest';
  const plain = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2})$/.exec(value);
  const at = new Date(plain ? `${plain[1]}T${plain[2]}Z` : value);
  if (Number.isNaN(at.getTime()) || !(plain || /^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/.test(value)))
    throw new Error(
      `--to-time must be "YYYY-MM-DD HH:MM:SS" (UTC), an ISO time with its zone, or latest (got "${value}")`,
    );
  return at;
}
