import { describe, expect, it } from 'vitest';
import {
  binlogObject,
  expiredBinlogs,
  needsFlush,
  parseBinlogObject,
  parseSourcePosition,
  parseToTime,
  planShip,
  replayChain,
  replayScript,
  type ShippedLog,
} from './binlog-plan.ts';

const logs = (...names: string[]) => names.map((name) => ({ name, size: 1000 }));

describe('planShip: what to upload and what may be purged', () => {
  it('ships every closed log on the first run and purges them all, never the open one', () => {
    expect(planShip({ lineage: 'a' }, logs('e2m-bin.000001', 'e2m-bin.000002', 'e2m-bin.000003'))).toEqual({
      ship: logs('e2m-bin.000001', 'e2m-bin.000002'),
      purgeTo: 'e2m-bin.000003',
    });
  });

  it('ships only what is newer than the last upload', () => {
    const state = { lineage: 'a', shipped: 'e2m-bin.000002' };
    expect(planShip(state, logs('e2m-bin.000002', 'e2m-bin.000003', 'e2m-bin.000004'))).toEqual({
      ship: logs('e2m-bin.000003'),
      purgeTo: 'e2m-bin.000004',
    });
  });

  it('purges what an earlier run uploaded but could not purge, and nothing when all is kept', () => {
    expect(
      planShip(
        { lineage: 'a', shipped: 'e2m-bin.000002' },
        logs('e2m-bin.000001', 'e2m-bin.000002', 'e2m-bin.000003'),
      ),
    ).toEqual({
      ship: [],
      purgeTo: 'e2m-bin.000003',
    });
    expect(planShip({ lineage: 'a', shipped: 'e2m-bin.000002' }, logs('e2m-bin.000003'))).toEqual({
      ship: [],
    });
  });

  it('flushes only when the server moved since our last flush', () => {
    const state = { lineage: 'a', flushedGtid: '0-1-42' };
    expect(needsFlush(state, '0-1-42')).toBe(false);
    expect(needsFlush(state, '0-1-43')).toBe(true);
    expect(needsFlush({ lineage: 'a' }, '')).toBe(true);
  });
});

describe('names and positions', () => {
  it('round-trips an object name and refuses what is not one', () => {
    const name = binlogObject('prod', 'a1b2c3d4e5f6', 'e2m-bin.000012');
    expect(name).toBe('prod/binlog/a1b2c3d4e5f6/e2m-bin.000012');
    expect(parseBinlogObject(name)).toEqual({
      env: 'prod',
      lineage: 'a1b2c3d4e5f6',
      file: 'e2m-bin.000012',
      seq: 12,
    });
    expect(parseBinlogObject('prod/binlog/a1b2c3d4e5f6/../x.000001')).toBeUndefined();
    expect(parseBinlogObject('prod/2026-12-01/prod-20261201T031500Z-x.sql.zst')).toBeUndefined();
  });

  it("reads the dump's CHANGE MASTER comment", () => {
    const head =
      "-- Server version\n\n-- CHANGE MASTER TO MASTER_LOG_FILE='e2m-bin.000002', MASTER_LOG_POS=381;\n";
    expect(parseSourcePosition(head)).toEqual({ file: 'e2m-bin.000002', pos: 381 });
    expect(parseSourcePosition('CHANGE MASTER TO nothing')).toBeUndefined();
  });

  it('--to-time: plain is UTC, ISO keeps its zone, latest, anything else is refused by name', () => {
    expect(parseToTime('2026-12-03 06:18:34')).toEqual(new Date('2026-12-03T06:18:34.000Z'));
    expect(parseToTime('2026-12-03T07:18:34+01:00')).toEqual(new Date('2026-12-03T06:18:34.000Z'));
    expect(parseToTime('latest')).toBe('latest');
    expect(() => parseToTime('yesterday')).toThrow('--to-time must be "YYYY-MM-DD HH:MM:SS" (UTC)');
    expect(() => parseToTime('2026-12-03 06:18')).toThrow('--to-time must be');
  });
});

/** A log in the bucket: its sequence number and GCS's creation time. */
const shipped = (seq: number, at: string): ShippedLog => ({
  name: `prod/binlog/a1b2c3d4e5f6/e2m-bin.${String(seq).padStart(6, '0')}`,
  file: `e2m-bin.${String(seq).padStart(6, '0')}`,
  seq,
  created: new Date(at),
});

describe('replayChain: the shipped logs from the base to the time', () => {
  const bucket = [
    shipped(1, '2026-12-03T03:00:00Z'),
    shipped(2, '2026-12-03T03:01:00Z'),
    shipped(3, '2026-12-03T03:02:00Z'),
    shipped(4, '2026-12-03T03:03:00Z'),
  ];

  it("starts at the base dump's file and ends with the first log closed after the time", () => {
    const chain = replayChain(bucket, { file: 'e2m-bin.000002' }, new Date('2026-12-03T03:01:30Z'));
    expect(chain.map((l) => l.seq)).toEqual([2, 3]);
  });

  it('latest: every consecutive log from the base on, and none when none was shipped yet', () => {
    expect(replayChain(bucket, { file: 'e2m-bin.000002' }, 'latest').map((l) => l.seq)).toEqual([2, 3, 4]);
    expect(replayChain(bucket, { file: 'e2m-bin.000005' }, 'latest')).toEqual([]);
  });

  it('names a missing log, and a time the logs do not reach yet', () => {
    const gap = bucket.filter((l) => l.seq !== 3);
    expect(() => replayChain(gap, { file: 'e2m-bin.000002' }, new Date('2026-12-03T03:02:30Z'))).toThrow(
      'binlog e2m-bin.000003 is missing from the bucket',
    );
    expect(() => replayChain(bucket, { file: 'e2m-bin.000002' }, new Date('2026-12-03T04:00:00Z'))).toThrow(
      'the shipped binlogs reach only to 2026-12-03T03:03:00.000Z: 2026-12-03T04:00:00.000Z is not recoverable yet',
    );
    expect(() => replayChain(bucket, { file: 'e2m-bin.000009' }, new Date('2026-12-03T03:02:30Z'))).toThrow(
      "binlog e2m-bin.000009, where the base dump's replay starts, is not in the bucket",
    );
  });

  it('replays only the source database, renamed into a scratch target, up to the second', () => {
    const script = replayScript({
      files: ['/tmp/r/e2m-bin.000002', '/tmp/r/e2m-bin.000003'],
      startPos: 381,
      toTime: new Date('2026-12-03T03:01:30.750Z'),
      sourceDatabase: 'app',
      targetDatabase: 'e2m_scratch_restore',
      defaultsFile: '/etc/e2m-backup/restore.cnf',
    });
    expect(script).toContain(
      "env TZ=UTC mariadb-binlog --start-position=381 '--stop-datetime=2026-12-03 03:01:30' --database=app '--rewrite-db=app->e2m_scratch_restore' /tmp/r/e2m-bin.000002 /tmp/r/e2m-bin.000003 | sed",
    );
    expect(script).toContain(
      '| mariadb --defaults-extra-file=/etc/e2m-backup/restore.cnf --database e2m_scratch_restore',
    );
    expect(
      replayScript({
        files: ['f'],
        startPos: 4,
        toTime: new Date(0),
        sourceDatabase: 'app',
        targetDatabase: 'app',
      }),
    ).not.toContain('rewrite-db');
  });
});

describe('expiredBinlogs: retention for the logs', () => {
  const logs = [
    shipped(1, '2026-11-01T03:00:00Z'),
    shipped(2, '2026-11-10T03:00:00Z'),
    shipped(3, '2026-11-20T03:00:00Z'),
  ];
  const now = new Date('2026-11-30T00:00:00Z');

  it('drops what was uploaded before the oldest kept dump and past the age floor, nothing else', () => {
    expect(expiredBinlogs(logs, [new Date('2026-11-15T00:00:00Z')], now, 7).map((l) => l.seq)).toEqual([
      1, 2,
    ]);
    expect(expiredBinlogs(logs, [new Date('2026-11-15T00:00:00Z')], now, 25).map((l) => l.seq)).toEqual([1]);
    expect(expiredBinlogs(logs, [], now, 7)).toEqual([]);
  });
});
