// Point-in-time recovery with the compiled job against a real MariaDB (binary logs on, ROW) and
// fake-gcs-server: the shipper's flush, upload and purge, and `restore --to-time` landing between
// two writes a second apart. The twin e2e (test/e2e/50-backup.test.ts) adds the timer and grants.
import type { Bucket } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { loadConfig, pruneBackups } from '../../scripts/lib/backup/job.ts';
import { DEFAULT_RETENTION } from '../../scripts/lib/backup/plan.ts';
import { createStorage } from '../../scripts/lib/gcs.ts';
import { type Gcs, type JobEnv, jobEnv, startGcs } from './support.ts';

let gcs: Gcs;
let job: JobEnv;
let bucket: Bucket;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sql = (query: string, database = 'pitr') => job.sql(query, database);
const notes = (database: string) => sql('SELECT body FROM note ORDER BY id', database).split('\n');

beforeAll(async () => {
  gcs = await startGcs();
  job = await jobEnv(inject('mysqlAdminUrl'), gcs.endpoint, {
    BACKUP_ENV: 'pitr',
    BACKUP_DATABASE: 'pitr',
    BACKUP_BINLOG: 'on',
  });
  bucket = createStorage({ projectId: 'e2m-test', gcsEndpoint: gcs.endpoint }).bucket('e2m-test-backups');
  await bucket.create();
  sql('CREATE DATABASE IF NOT EXISTS pitr', 'mysql');
  sql('CREATE TABLE note (id INT AUTO_INCREMENT PRIMARY KEY, body VARCHAR(100) NOT NULL) ENGINE=InnoDB');
  sql("INSERT INTO note (body) SELECT CONCAT('seed ', seq) FROM seq_1_to_100");
}, 120_000);

afterAll(() => gcs?.stop());

async function shipped(): Promise<string[]> {
  const [files] = await bucket.getFiles({ prefix: 'pitr/binlog/' });
  return files.map((f) => f.name.split('/').pop() ?? '');
}

describe('point-in-time recovery (compiled job, binary logs, fake-gcs-server)', () => {
  let between: Date;

  it('binlogs: flushes, uploads every closed log, then purges exactly those', async () => {
    const r = job.run('binlogs');
    expect(r.code, r.stderr).toBe(0);
    const done = r.lines.find((l) => l.event === 'shipped') as {
      shipped: string[];
      purgedTo: string;
      flushed: boolean;
    };
    expect(done.flushed).toBe(true);
    expect(done.shipped.length).toBeGreaterThan(0);
    expect(await shipped()).toEqual(expect.arrayContaining(done.shipped));
    // Nothing is purged before it is in the bucket. (MariaDB may keep a just-closed log until its
    // binlog checkpoint passes; the next run's PURGE takes it.)
    const left = sql('SHOW BINARY LOGS', 'mysql')
      .split('\n')
      .map((l) => l.split('\t')[0]);
    expect(left.at(-1)).toBe(done.purgedTo);
    expect(await shipped()).toEqual(expect.arrayContaining(left.slice(0, -1)));
  });

  it('an idle minute flushes nothing and uploads nothing', () => {
    const r = job.run('binlogs');
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.find((l) => l.event === 'shipped')).toMatchObject({ flushed: false, shipped: [] });
  });

  it('restore --to-time: the base dump, then the logs up to a second between two writes', async () => {
    const base = job.run('run');
    expect(base.code, base.stderr).toBe(0);
    sql("INSERT INTO note (body) VALUES ('first'); UPDATE note SET body = 'seed 1 edited' WHERE id = 1");
    await sleep(1100);
    between = new Date(Math.floor(Date.now() / 1000) * 1000);
    await sleep(1100);
    sql("INSERT INTO note (body) VALUES ('second'); DELETE FROM note WHERE id = 2");
    expect(job.run('binlogs').code).toBe(0);

    const stamp = between.toISOString().slice(0, 19).replace('T', ' ');
    const r = job.run('restore', '--to-time', stamp, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.lines.at(-1)).toMatchObject({ database: 'e2m_scratch_restore', toTime: between.toISOString() });
    const restored = notes('e2m_scratch_restore');
    expect(restored).toContain('first');
    expect(restored).toContain('seed 1 edited');
    expect(restored).toContain('seed 2');
    expect(restored).not.toContain('second');
    expect(restored).toHaveLength(101);
  });

  it('to a time after the last write, and to latest, the restore equals production', async () => {
    const now = new Date(Date.now() + 1000);
    await sleep(1100);
    expect(job.run('binlogs').code).toBe(0);
    const r = job.run('restore', '--to-time', now.toISOString().replace(/\.\d+Z$/, 'Z'));
    expect(r.code, r.stderr).toBe(0);
    expect(notes('e2m_scratch_restore')).toEqual(notes('pitr'));
    sql("INSERT INTO note (body) VALUES ('last one')");
    expect(job.run('binlogs').code).toBe(0);
    const latest = job.run('restore', '--to-time', 'latest', '--json');
    expect(latest.code, latest.stderr).toBe(0);
    expect(notes('e2m_scratch_restore')).toEqual(notes('pitr'));
    expect(notes('e2m_scratch_restore')).toContain('last one');
  });

  it('refuses a time the shipped logs do not reach yet, and one before any base dump', () => {
    sql("INSERT INTO note (body) VALUES ('unshipped')");
    const later = new Date(Date.now() + 60_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const r = job.run('restore', '--to-time', later);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/the shipped binlogs reach only to .*: .* is not recoverable yet/);
    const early = job.run('restore', '--to-time', '2020-01-01 00:00:00');
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(
      'no trusted backup with a binlog position was made before 2020-01-01T00:00:00.000Z',
    );
  });

  it('list shows the window restore --to-time can reach', () => {
    expect(job.run('binlogs').code).toBe(0);
    expect(job.run('list').stdout).toMatch(/point in time \(restore --to-time\): \S+Z to \S+Z/);
  });

  it('verify drills point in time too: two writes, shipped, cut between them from the bucket', () => {
    expect(job.run('run').code).toBe(0); // a dump of production as it is now, for the dump drill
    const r = job.run('verify', '--json');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.lines.at(-1)).toMatchObject({ ok: true, pointInTime: { ok: true } });
    expect(sql("SHOW DATABASES LIKE 'e2m_scratch_pitr_drill'", 'mysql')).toBe('');
  });

  it('prune drops the binlogs uploaded before the oldest kept dump, and keeps every later one', async () => {
    const [files] = await bucket.getFiles({ prefix: 'pitr/' });
    const base = files.find((f) => f.name.endsWith('.sql.zst'));
    const created = (f: (typeof files)[number]) => new Date(String(f.metadata.timeCreated)).getTime();
    const logs = files.filter((f) => f.name.includes('/binlog/'));
    const before = logs.filter((f) => base && created(f) < created(base)).map((f) => f.name);
    expect(before.length).toBeGreaterThan(0);
    const r = await pruneBackups(loadConfig(job.configFile), bucket, new Date(), {
      ...DEFAULT_RETENTION,
      minAgeDays: 0,
    });
    expect(r.deleted).toEqual([]);
    expect(r.binlogsDeleted.sort()).toEqual(before.sort());
    expect((await shipped()).length).toBe(logs.length - before.length);
  });
});
